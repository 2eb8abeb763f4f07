//! Writes a laid-out forest plot as SVG.

use super::super::font::Weight;
use super::super::svg::{Anchor, Stroke, SvgWriter, TextStyle};
use super::Model;
use super::content::Content;
use super::layout::{Layout, row_weight};
use super::rows::{Mark, Row, RowKind};

const INK: &str = "#000000";
const NOTE_INK: &str = "#333333";
const SQUARE: &str = "#2f5d8c";
const DIAMOND: &str = "#1a1a1a";
const PREDICTION: &str = "#b2182b";
const RULE: Stroke = Stroke {
    color: "#1a1a1a",
    width: 0.8,
    dash: None,
};
const WHISKER: Stroke = Stroke {
    color: "#1a1a1a",
    width: 1.0,
    dash: None,
};
const REFERENCE: Stroke = Stroke {
    color: "#4d4d4d",
    width: 0.8,
    dash: None,
};
const POOLED: Stroke = Stroke {
    color: "#8a8a8a",
    width: 0.8,
    dash: Some("4 3"),
};

fn style(size: f64, weight: Weight, anchor: Anchor) -> TextStyle {
    TextStyle {
        size,
        weight,
        anchor,
        fill: INK,
    }
}

/// The SVG document of a laid-out plot.
pub(super) fn draw(content: &Content, layout: &Layout) -> String {
    let mut svg = SvgWriter::new(layout.width, layout.height, content.title.as_deref());
    let f = layout.font_size;
    if let (Some(title), Some(y)) = (&content.title, layout.title_baseline) {
        svg.text(
            layout.margin,
            y,
            title,
            &style(1.25 * f, Weight::Bold, Anchor::Start),
            Some("title"),
        );
    }
    header(&mut svg, content, layout);
    reference_lines(&mut svg, content, layout);
    for (i, row) in content.rows.iter().enumerate() {
        draw_row(&mut svg, content, layout, i, row);
    }
    axis(&mut svg, content, layout);
    svg.finish()
}

fn header(svg: &mut SvgWriter, content: &Content, layout: &Layout) {
    let f = layout.font_size;
    let bold = |anchor| style(f, Weight::Bold, anchor);
    svg.open("header");
    let last = *layout.header_baselines.last().unwrap_or(&0.0);
    if layout.header_baselines.len() > 1 {
        let top = layout.header_baselines[0];
        for span in layout.column_spans.iter().chain(&layout.weight_span) {
            svg.text(
                (span.left + span.right) / 2.0,
                top,
                &span.name,
                &bold(Anchor::Middle),
                Some("span"),
            );
            let y = top + 0.45 * f;
            svg.line((span.left, y), (span.right, y), &RULE, None);
        }
    }
    svg.text(
        layout.margin,
        last,
        "Study",
        &bold(Anchor::Start),
        Some("column"),
    );
    for (column, x) in content.columns.iter().zip(&layout.column_right) {
        svg.text(*x, last, column.header, &bold(Anchor::End), Some("column"));
    }
    svg.text(
        layout.estimate_center,
        last,
        &content.estimate_header,
        &bold(Anchor::Middle),
        Some("column"),
    );
    for (head, x) in content.weight_headers.iter().zip(&layout.weight_right) {
        svg.text(*x, last, head, &bold(Anchor::End), Some("column"));
    }
    svg.line(
        (layout.margin, layout.header_rule),
        (layout.width - layout.margin, layout.header_rule),
        &RULE,
        Some("rule"),
    );
    svg.close();
}

fn reference_lines(svg: &mut SvgWriter, content: &Content, layout: &Layout) {
    if let Some(null) = content.null {
        vertical(
            svg,
            layout,
            layout.x(content, null),
            &REFERENCE,
            "reference",
        );
    }
    let pooled = content.pooled;
    if pooled >= content.axis.lo && pooled <= content.axis.hi {
        vertical(svg, layout, layout.x(content, pooled), &POOLED, "pooled");
    }
}

/// A vertical line from the header rule to the axis, broken where a note's
/// text runs across it.
fn vertical(svg: &mut SvgWriter, layout: &Layout, x: f64, stroke: &Stroke, class: &str) {
    let clearance = 0.4 * layout.font_size;
    let mut top = layout.header_rule;
    for (i, right) in layout.note_right.iter().enumerate() {
        if right.is_some_and(|r| r + clearance > x) {
            let bottom = layout.row_tops[i];
            if bottom > top {
                svg.line((x, top), (x, bottom), stroke, Some(class));
            }
            top = bottom + layout.row_heights[i];
        }
    }
    if layout.axis_y > top {
        svg.line((x, top), (x, layout.axis_y), stroke, Some(class));
    }
}

fn row_class(kind: RowKind) -> &'static str {
    match kind {
        RowKind::Heading => "row heading",
        RowKind::Study => "row study",
        RowKind::Summary { overall: true } => "row summary overall",
        RowKind::Summary { overall: false } => "row summary subgroup",
        RowKind::Prediction => "row prediction",
        RowKind::Note => "row note",
        RowKind::Gap => "row gap",
    }
}

fn draw_row(svg: &mut SvgWriter, content: &Content, layout: &Layout, i: usize, row: &Row) {
    if row.kind == RowKind::Gap {
        return;
    }
    let f = layout.font_size;
    let weight = row_weight(row);
    let y = layout.row_baseline(i);
    svg.open(row_class(row.kind));
    let label_style = TextStyle {
        fill: if row.kind == RowKind::Note {
            NOTE_INK
        } else {
            INK
        },
        ..style(f, weight, Anchor::Start)
    };
    svg.text(layout.margin, y, &row.label, &label_style, Some("label"));
    let right = style(f, weight, Anchor::End);
    for (cell, x) in row.cells.iter().zip(&layout.column_right) {
        if !cell.is_empty() {
            svg.text(*x, y, cell, &right, Some("cell"));
        }
    }
    if let Some(e) = &row.estimate {
        let pieces = [
            (&e.estimate, "estimate"),
            (&e.lower, "lower"),
            (&e.upper, "upper"),
        ];
        for ((text, class), x) in pieces.into_iter().zip(layout.estimate_right) {
            if !text.is_empty() {
                svg.text(x, y, text, &right, Some(class));
            }
        }
    }
    for (text, x) in row.weights.iter().zip(&layout.weight_right) {
        if !text.is_empty() {
            svg.text(*x, y, text, &right, Some("weight"));
        }
    }
    mark(svg, content, layout, i, &row.mark);
    svg.close();
}

fn mark(svg: &mut SvgWriter, content: &Content, layout: &Layout, i: usize, mark: &Mark) {
    let h = layout.row_height;
    let cy = layout.row_center(i);
    let x = |v: f64| layout.x(content, v);
    match *mark {
        Mark::None => {}
        Mark::Square {
            estimate,
            lower,
            upper,
            size,
        } => {
            whisker(svg, content, layout, cy, lower, upper);
            if estimate >= content.axis.lo && estimate <= content.axis.hi {
                let side = (0.72 * h * size).max(0.24 * h);
                svg.rect(
                    (x(estimate) - side / 2.0, cy - side / 2.0),
                    (side, side),
                    SQUARE,
                    None,
                    Some("square"),
                );
            }
        }
        Mark::Diamond {
            estimate,
            lower,
            upper,
            model,
            primary,
        } => {
            let half = 0.36 * h;
            let points = [
                (x(lower), cy),
                (x(estimate), cy - half),
                (x(upper), cy),
                (x(estimate), cy + half),
            ];
            let class = match model {
                Model::Random => "diamond random",
                Model::Common => "diamond common",
            };
            if primary {
                svg.polygon(&points, DIAMOND, None, Some(class));
            } else {
                svg.polygon(&points, "#ffffff", Some(&WHISKER), Some(class));
            }
        }
        Mark::Interval { lower, upper } => {
            let half = 0.1 * h;
            let (a, b) = (x(lower), x(upper));
            svg.rect(
                (a, cy - half),
                (b - a, 2.0 * half),
                PREDICTION,
                None,
                Some("prediction-interval"),
            );
        }
    }
}

/// The CI line; an arrow replaces each end that leaves the axis.
fn whisker(
    svg: &mut SvgWriter,
    content: &Content,
    layout: &Layout,
    cy: f64,
    lower: f64,
    upper: f64,
) {
    let (left, right) = layout.panel;
    let arrow = 0.5 * layout.font_size;
    let mut a = layout.x(content, lower);
    let mut b = layout.x(content, upper);
    if lower < content.axis.lo {
        svg.polygon(
            &[
                (left, cy),
                (left + arrow, cy - 0.55 * arrow),
                (left + arrow, cy + 0.55 * arrow),
            ],
            WHISKER.color,
            None,
            Some("arrow"),
        );
        a = left + arrow;
    }
    if upper > content.axis.hi {
        svg.polygon(
            &[
                (right, cy),
                (right - arrow, cy - 0.55 * arrow),
                (right - arrow, cy + 0.55 * arrow),
            ],
            WHISKER.color,
            None,
            Some("arrow"),
        );
        b = right - arrow;
    }
    if b > a {
        svg.line((a, cy), (b, cy), &WHISKER, Some("whisker"));
    }
}

fn axis(svg: &mut SvgWriter, content: &Content, layout: &Layout) {
    let f = layout.font_size;
    let (left, right) = layout.panel;
    let y = layout.axis_y;
    svg.open("axis");
    svg.line((left, y), (right, y), &RULE, Some("axis-line"));
    let regular = |anchor| style(f, Weight::Regular, anchor);
    for (tick, labelled) in content.axis.ticks.iter().zip(&layout.tick_labelled) {
        let x = layout.x(content, tick.at);
        svg.line((x, y), (x, y + 0.4 * f), &RULE, Some("tick"));
        if *labelled {
            svg.text(
                x,
                layout.tick_baseline,
                &tick.label,
                &regular(Anchor::Middle),
                Some("tick-label"),
            );
        }
    }
    svg.text(
        (left + right) / 2.0,
        layout.xlab_baseline,
        &content.xlab,
        &regular(Anchor::Middle),
        Some("xlab"),
    );
    if let Some(baseline) = layout.favours_baseline {
        for (text, x) in content.favours.iter().zip(layout.favours_x) {
            if let Some(text) = text {
                svg.text(x, baseline, text, &regular(Anchor::Start), Some("favours"));
            }
        }
    }
    svg.close();
}
