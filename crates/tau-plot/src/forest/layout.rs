//! Geometry of a forest plot: every string is measured with the bundled
//! font, columns are as wide as their widest cell, and rows have a fixed
//! height, so nothing overlaps however long the labels are.

use super::super::PlotError;
use super::super::font::{Fonts, Weight};
use super::ForestOptions;
use super::content::Content;
use super::rows::{Row, RowKind};

/// A header spanning several columns (an arm, or "Weight").
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Span {
    pub name: String,
    pub left: f64,
    pub right: f64,
}

/// Where everything goes (px).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Layout {
    pub width: f64,
    pub height: f64,
    pub font_size: f64,
    pub row_height: f64,
    pub margin: f64,
    pub title_baseline: Option<f64>,
    /// Baselines of the header lines (one or two).
    pub header_baselines: Vec<f64>,
    pub header_rule: f64,
    /// Top of each row.
    pub row_tops: Vec<f64>,
    /// Height of each row.
    pub row_heights: Vec<f64>,
    /// Right edge of each raw-data column.
    pub column_right: Vec<f64>,
    pub column_spans: Vec<Span>,
    /// Left and right ends of the plot panel.
    pub panel: (f64, f64),
    /// Right edges of the estimate, "[lower," and "upper]" pieces.
    pub estimate_right: [f64; 3],
    pub estimate_center: f64,
    /// Right edge of each weight column.
    pub weight_right: Vec<f64>,
    pub weight_span: Option<Span>,
    /// Right end of each note row's text (`None` for other rows).
    pub note_right: Vec<Option<f64>>,
    pub axis_y: f64,
    /// Whether each tick's label is drawn (labels that would touch the previous one are not).
    pub tick_labelled: Vec<bool>,
    pub tick_baseline: f64,
    pub xlab_baseline: f64,
    pub favours_baseline: Option<f64>,
    /// Where the two "favours" labels start (both are left-aligned).
    pub favours_x: [f64; 2],
}

/// Text weight of a row's label and numbers.
pub(super) fn row_weight(row: &Row) -> Weight {
    match row.kind {
        RowKind::Heading | RowKind::Summary { .. } => Weight::Bold,
        _ => Weight::Regular,
    }
}

fn max_width<'a>(fonts: &Fonts, size: f64, texts: impl Iterator<Item = (&'a str, Weight)>) -> f64 {
    texts
        .map(|(t, w)| fonts.width(t, size, w))
        .fold(0.0, f64::max)
}

/// A journal's full-width text column, 17 cm, in px (1/96 in): the default
/// width of a forest plot. At 300 dpi its PNG is 2008 px wide.
pub const COLUMN_WIDTH: f64 = 17.0 / 2.54 * 96.0;

/// The font size (px) when none is given: 9 pt.
pub const DEFAULT_FONT_SIZE: f64 = 12.0;

/// The smallest font size (px) the default layout shrinks to, 6.75 pt, for a
/// plot whose text columns would otherwise leave the panel less than
/// [`PANEL_SHARE`] of the column.
pub const MIN_FONT_SIZE: f64 = 9.0;

/// The share of [`COLUMN_WIDTH`] the default layout keeps for the panel.
pub const PANEL_SHARE: f64 = 0.3;

/// How wide the figure is to be.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    /// `--width`: exactly this wide, or an error if the text leaves no room.
    Exact(f64),
    /// The default: the journal column, or wider when the text columns and
    /// the smallest panel need more.
    Column,
}

impl Layout {
    /// Measures and places the content.
    ///
    /// With `--width` the figure is that wide. Without it the figure fills a
    /// 17 cm column ([`COLUMN_WIDTH`]): the panel takes what the text columns
    /// leave, and when they leave it less than [`PANEL_SHARE`] of the column
    /// the font (unless `--font-size` fixes it) shrinks towards
    /// [`MIN_FONT_SIZE`], since every text width scales with it. Tick labels
    /// that would touch are left out.
    pub fn new(
        content: &Content,
        fonts: &Fonts,
        options: &ForestOptions,
    ) -> Result<Layout, PlotError> {
        let f = options.font_size.unwrap_or(DEFAULT_FONT_SIZE);
        if let Some(width) = options.width {
            return Self::at(content, fonts, f, Target::Exact(width));
        }
        let layout = Self::at(content, fonts, f, Target::Column)?;
        let panel = layout.panel.1 - layout.panel.0;
        if options.font_size.is_some() || panel >= PANEL_SHARE * COLUMN_WIDTH {
            return Ok(layout);
        }
        let text = (layout.width - panel).max(f64::MIN_POSITIVE);
        let smaller = (f * (1.0 - PANEL_SHARE) * COLUMN_WIDTH / text).clamp(MIN_FONT_SIZE, f);
        Self::at(content, fonts, smaller, Target::Column)
    }

    /// The layout at font size `f` for `target`.
    fn at(content: &Content, fonts: &Fonts, f: f64, target: Target) -> Result<Layout, PlotError> {
        let h = (1.55 * f).round();
        let margin = f;
        let gap = 1.5 * f;
        let inner_gap = 0.9 * f;
        let bold = Weight::Bold;
        let rows = &content.rows;
        let measure = |texts: Vec<(&str, Weight)>| max_width(fonts, f, texts.into_iter());

        // Label column. Notes (heterogeneity, tests) are not in it: they
        // run across the row, and the vertical lines break around them.
        let mut labels: Vec<(&str, Weight)> = rows
            .iter()
            .filter(|r| r.kind != RowKind::Note)
            .map(|r| (r.label.as_str(), row_weight(r)))
            .collect();
        labels.push(("Study", bold));
        let label_width = measure(labels);
        let note_right: Vec<Option<f64>> = rows
            .iter()
            .map(|r| {
                (r.kind == RowKind::Note)
                    .then(|| margin + fonts.width(&r.label, f, Weight::Regular))
            })
            .collect();

        // Raw-data columns and their arm headers.
        let mut column_widths: Vec<f64> = content
            .columns
            .iter()
            .enumerate()
            .map(|(c, column)| {
                let mut texts: Vec<(&str, Weight)> = rows
                    .iter()
                    .filter_map(|r| r.cells.get(c).map(|t| (t.as_str(), row_weight(r))))
                    .collect();
                texts.push((column.header, bold));
                measure(texts)
            })
            .collect();
        let groups = column_groups(content);
        for (name, first, last) in &groups {
            let spanned: f64 = column_widths[*first..=*last].iter().sum::<f64>()
                + inner_gap * (last - first) as f64;
            let needed = fonts.width(name, f, bold);
            if needed > spanned {
                column_widths[*last] += needed - spanned;
            }
        }
        let data_width: f64 = column_widths.iter().sum::<f64>()
            + content
                .columns
                .windows(2)
                .map(|w| {
                    if w[0].group == w[1].group {
                        inner_gap
                    } else {
                        gap
                    }
                })
                .sum::<f64>();
        // Notes run under the label and data columns, never over the panel:
        // those columns widen if a note is longer than they are.
        let longest_note = note_right
            .iter()
            .flatten()
            .map(|right| right - margin)
            .fold(0.0, f64::max);
        let left_width = (label_width
            + if content.columns.is_empty() {
                0.0
            } else {
                gap + data_width
            })
        .max(longest_note);

        // Estimate pieces and weight columns.
        let pieces = |pick: fn(&super::rows::EstimateText) -> &str| {
            measure(
                rows.iter()
                    .filter_map(|r| r.estimate.as_ref().map(|e| (pick(e), row_weight(r))))
                    .collect(),
            )
        };
        let space = 0.3 * f;
        let mut estimate_widths = [
            pieces(|e| &e.estimate),
            pieces(|e| &e.lower),
            pieces(|e| &e.upper),
        ];
        let block = estimate_widths.iter().sum::<f64>() + 2.0 * space;
        let header = fonts.width(&content.estimate_header, f, bold);
        if header > block {
            estimate_widths[0] += header - block;
        }
        let estimate_block = estimate_widths.iter().sum::<f64>() + 2.0 * space;
        let mut weight_widths: Vec<f64> = content
            .weight_headers
            .iter()
            .enumerate()
            .map(|(c, head)| {
                let mut texts: Vec<(&str, Weight)> = rows
                    .iter()
                    .filter_map(|r| r.weights.get(c).map(|t| (t.as_str(), row_weight(r))))
                    .collect();
                texts.push((head, bold));
                measure(texts)
            })
            .collect();
        if let Some(group) = &content.weight_group {
            let spanned =
                weight_widths.iter().sum::<f64>() + inner_gap * (weight_widths.len() - 1) as f64;
            let needed = fonts.width(group, f, bold);
            if let Some(last) = weight_widths.last_mut() {
                *last += (needed - spanned).max(0.0);
            }
        }
        let weights_width = weight_widths.iter().sum::<f64>()
            + inner_gap * (weight_widths.len().saturating_sub(1)) as f64;

        // The panel takes what --width leaves.
        let fixed = margin + left_width + gap + gap + estimate_block + gap + weights_width + margin;
        let min_panel = 8.0 * f;
        let panel_width = match target {
            Target::Column => (COLUMN_WIDTH - fixed).max(min_panel),
            Target::Exact(width) if width - fixed >= min_panel => width - fixed,
            Target::Exact(width) => {
                return Err(PlotError::BadOption(format!(
                    "--width {width} leaves no room for the plot: the text columns need {} px; use --width {} or more",
                    fixed.ceil(),
                    (fixed + min_panel).ceil()
                )));
            }
        };

        // Horizontal positions, left to right.
        let mut x = margin + label_width;
        let mut column_right = Vec::new();
        for (c, width) in column_widths.iter().enumerate() {
            let same_group = c > 0 && content.columns[c - 1].group == content.columns[c].group;
            x += if same_group { inner_gap } else { gap } + width;
            column_right.push(x);
        }
        let column_spans = groups
            .iter()
            .map(|(name, first, last)| Span {
                name: name.clone(),
                left: column_right[*first] - column_widths[*first],
                right: column_right[*last],
            })
            .collect();
        let panel_left = margin + left_width + gap;
        let panel = (panel_left, panel_left + panel_width);
        let mut x = panel.1 + gap;
        let mut estimate_right = [0.0; 3];
        for (i, width) in estimate_widths.iter().enumerate() {
            x += width;
            estimate_right[i] = x;
            x += space;
        }
        let estimate_center = panel.1 + gap + estimate_block / 2.0;
        let mut x = panel.1 + gap + estimate_block + gap - inner_gap;
        let weight_right: Vec<f64> = weight_widths
            .iter()
            .map(|w| {
                x += inner_gap + w;
                x
            })
            .collect();
        let weight_span = content.weight_group.as_ref().map(|name| Span {
            name: name.clone(),
            left: panel.1 + gap + estimate_block + gap,
            right: x,
        });
        let mut last_right = f64::NEG_INFINITY;
        let tick_labelled = content
            .axis
            .ticks
            .iter()
            .map(|tick| {
                let centre = panel.0 + content.axis.fraction(tick.at) * panel_width;
                let half = fonts.width(&tick.label, f, Weight::Regular) / 2.0;
                let clear = centre - half >= last_right + 0.4 * f;
                if clear {
                    last_right = centre + half;
                }
                clear
            })
            .collect();
        // "Favours" labels either side of the line of no effect, or under the
        // ends of the axis; the figure widens if the right one would not fit.
        let favours_width = |i: usize| {
            content.favours[i]
                .as_ref()
                .map_or(0.0, |t| fonts.width(t, f, Weight::Regular))
        };
        let favours_x = match content.null {
            Some(null) => {
                let x = panel.0 + content.axis.fraction(null) * panel_width;
                [(x - 0.6 * f - favours_width(0)).max(margin), x + 0.6 * f]
            }
            None => [panel.0, panel.1 - favours_width(1)],
        };
        let favours_right = favours_x[1] + favours_width(1);
        let mut width = note_right
            .iter()
            .flatten()
            .fold(x.max(favours_right), |w, n| w.max(*n))
            + margin;

        // Vertical positions, top to bottom.
        let mut y = margin;
        let title_baseline = content.title.as_ref().map(|title| {
            width = width.max(2.0 * margin + fonts.width(title, 1.25 * f, bold));
            let baseline = y + 1.25 * f;
            y += 1.25 * f * 1.2 + 0.6 * f;
            baseline
        });
        let two_lines = has_spans(content);
        let lines = if two_lines { 2 } else { 1 };
        let header_baselines: Vec<f64> = (0..lines)
            .map(|i| y + (i as f64 + 0.5) * h + 0.35 * f)
            .collect();
        y += lines as f64 * h + 0.1 * h;
        let header_rule = y;
        y += 0.25 * h;
        let mut row_tops = Vec::with_capacity(rows.len());
        let mut row_heights = Vec::with_capacity(rows.len());
        for row in rows {
            let height = if row.kind == RowKind::Gap { 0.5 * h } else { h };
            row_tops.push(y);
            row_heights.push(height);
            y += height;
        }
        let axis_y = y + 0.3 * h;
        let tick_baseline = axis_y + 0.4 * f + f;
        let xlab_baseline = tick_baseline + 1.5 * f;
        let favours_baseline = content
            .favours
            .iter()
            .any(Option::is_some)
            .then_some(xlab_baseline + 1.5 * f);
        let height = favours_baseline.unwrap_or(xlab_baseline) + 0.5 * f + margin;
        Ok(Layout {
            width,
            height,
            font_size: f,
            row_height: h,
            margin,
            title_baseline,
            header_baselines,
            header_rule,
            row_tops,
            row_heights,
            column_right,
            column_spans,
            panel,
            estimate_right,
            estimate_center,
            weight_right,
            weight_span,
            note_right,
            axis_y,
            tick_labelled,
            tick_baseline,
            xlab_baseline,
            favours_baseline,
            favours_x,
        })
    }

    /// The x position of an analysis-scale value, clamped to the panel.
    pub fn x(&self, content: &Content, value: f64) -> f64 {
        let fraction = content.axis.fraction(value).clamp(0.0, 1.0);
        self.panel.0 + fraction * (self.panel.1 - self.panel.0)
    }

    /// The vertical centre of row `i`.
    pub fn row_center(&self, i: usize) -> f64 {
        self.row_tops[i] + self.row_heights[i] / 2.0
    }

    /// The baseline that centres text of the font size on row `i`.
    pub fn row_baseline(&self, i: usize) -> f64 {
        self.row_center(i) + 0.35 * self.font_size
    }
}

fn has_spans(content: &Content) -> bool {
    content.columns.iter().any(|c| c.group.is_some()) || content.weight_group.is_some()
}

/// Runs of adjacent raw-data columns with the same arm: (name, first, last).
fn column_groups(content: &Content) -> Vec<(String, usize, usize)> {
    let mut groups: Vec<(String, usize, usize)> = Vec::new();
    for (c, column) in content.columns.iter().enumerate() {
        let Some(name) = &column.group else { continue };
        match groups.last_mut() {
            Some(last) if &last.0 == name && last.2 + 1 == c => last.2 = c,
            _ => groups.push((name.clone(), c, c)),
        }
    }
    groups
}
