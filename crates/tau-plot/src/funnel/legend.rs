//! The legend of a funnel plot: contour shades or the pseudo-confidence
//! region, points, and each vertical line (pooled estimate, trim-and-fill
//! estimate, no effect) with its own entry.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::super::PlotError;
use super::{CONTOURS, FunnelSpec, GROUND, INK, font, render_error};

/// A legend entry's swatch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Swatch {
    Shade(RGBColor),
    Point,
    OpenPoint,
    /// A line drawn as dashes of `on` px with gaps of `off` px (`off` 0: solid).
    Line {
        on: i32,
        off: i32,
        width: u32,
    },
}

const SOLID: Swatch = Swatch::Line {
    on: 1,
    off: 0,
    width: 1,
};

pub(super) fn legend(spec: &FunnelSpec) -> Vec<(String, Swatch)> {
    let mut entries = Vec::new();
    if spec.contours {
        entries.push(("p ≤ 0.01".to_owned(), Swatch::Shade(GROUND)));
        for (_, shade, text) in CONTOURS {
            entries.push((text.to_owned(), Swatch::Shade(shade)));
        }
    }
    entries.push(("Studies".to_owned(), Swatch::Point));
    if !spec.filled.is_empty() {
        entries.push(("Filled studies".to_owned(), Swatch::OpenPoint));
    }
    if spec.contours {
        entries.push((
            "Pooled estimate".to_owned(),
            Swatch::Line {
                on: 5,
                off: 4,
                width: 1,
            },
        ));
        entries.push(("No effect".to_owned(), SOLID));
    } else {
        entries.push(("Pooled estimate".to_owned(), SOLID));
    }
    if spec.adjusted.is_some() {
        entries.push((
            "Trim-and-fill estimate".to_owned(),
            Swatch::Line {
                on: 9,
                off: 4,
                width: 2,
            },
        ));
    }
    if let Some((text, _)) = &spec.selection {
        entries.push((
            text.clone(),
            Swatch::Line {
                on: 2,
                off: 3,
                width: 2,
            },
        ));
    }
    if !spec.contours {
        let level = spec.level;
        entries.push((
            format!("{level}% pseudo-CI"),
            Swatch::Line {
                on: 2,
                off: 3,
                width: 1,
            },
        ));
    }
    entries
}

pub(super) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, Swatch)],
    f: f64,
) -> Result<(), PlotError> {
    let step = (1.6 * f) as i32;
    let box_size = f as i32;
    let x = 0;
    let mut y = (1.5 * f) as i32;
    let text_style = TextStyle::from(font(f)).color(&INK);
    for (text, swatch) in entries {
        let (cx, cy) = (x + box_size / 2, y + box_size / 2);
        let radius = (0.26 * f).round().max(2.0) as i32;
        match swatch {
            Swatch::Shade(color) => {
                area.draw(&Rectangle::new(
                    [(x, y), (x + box_size, y + box_size)],
                    color.filled(),
                ))
                .map_err(render_error)?;
                area.draw(&Rectangle::new(
                    [(x, y), (x + box_size, y + box_size)],
                    INK.stroke_width(1),
                ))
                .map_err(render_error)?;
            }
            Swatch::Point => area
                .draw(&Circle::new((cx, cy), radius, INK.filled()))
                .map_err(render_error)?,
            Swatch::OpenPoint => area
                .draw(&Circle::new((cx, cy), radius, INK.stroke_width(1)))
                .map_err(render_error)?,
            Swatch::Line { on, off, width } => {
                // Dashes as the plot draws them, fitted to the swatch's width.
                let on = if *off == 0 { box_size } else { *on };
                let mut from = x;
                while from < x + box_size {
                    let to = (from + on).min(x + box_size);
                    area.draw(&PathElement::new(
                        vec![(from, cy), (to, cy)],
                        INK.stroke_width(*width),
                    ))
                    .map_err(render_error)?;
                    from = to + off;
                }
            }
        }
        area.draw(&Text::new(
            text.clone(),
            (x + box_size + (0.5 * f) as i32, y),
            text_style.clone(),
        ))
        .map_err(render_error)?;
        y += step;
    }
    Ok(())
}
