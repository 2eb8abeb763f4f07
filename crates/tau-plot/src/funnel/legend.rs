//! The legend of a funnel plot: contour shades, points and the pooled estimate.

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
    Dashed,
    Dotted,
    Solid,
}

pub(super) fn legend(spec: &FunnelSpec) -> Vec<(String, Swatch)> {
    let mut entries = Vec::new();
    if spec.contours {
        entries.push(("p ≤ 0.01".to_owned(), Swatch::Shade(GROUND)));
        for (_, shade, text) in CONTOURS {
            entries.push((text.to_owned(), Swatch::Shade(shade)));
        }
    }
    let adjusted = spec.adjusted.is_some();
    if spec.contours || !spec.filled.is_empty() || adjusted {
        entries.push(("Studies".to_owned(), Swatch::Point));
    }
    if spec.contours {
        entries.push(("Pooled estimate".to_owned(), Swatch::Dashed));
    } else if adjusted {
        entries.push(("Pooled estimate".to_owned(), Swatch::Solid));
    }
    if let Some((text, _)) = &spec.adjusted {
        entries.push((text.clone(), Swatch::Dotted));
    }
    if !spec.filled.is_empty() {
        entries.push(("Filled studies".to_owned(), Swatch::OpenPoint));
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
            Swatch::Solid => area
                .draw(&PathElement::new(
                    vec![(x, cy), (x + box_size, cy)],
                    INK.stroke_width(1),
                ))
                .map_err(render_error)?,
            Swatch::Dotted => {
                let mut from = x;
                while from < x + box_size {
                    area.draw(&PathElement::new(
                        vec![(from, cy), ((from + 2).min(x + box_size), cy)],
                        INK.stroke_width(2),
                    ))
                    .map_err(render_error)?;
                    from += 5;
                }
            }
            Swatch::Dashed => {
                let third = box_size / 3;
                for (from, to) in [(x, x + third), (x + 2 * third, x + box_size)] {
                    area.draw(&PathElement::new(
                        vec![(from, cy), (to, cy)],
                        INK.stroke_width(1),
                    ))
                    .map_err(render_error)?;
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
