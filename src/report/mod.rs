//! Views of results: plain text for people, JSON for programs, CSV for spreadsheets.
//! Each view reads the same result struct, so a number can never differ between them.

pub mod bias;
pub mod csv;
pub mod fixed;
pub mod json;
pub mod regression;
pub mod sensitivity;
pub mod sensitivity_plot;
pub mod simulate;
pub mod subgroup;
pub mod text;

/// Formats a number with `digits` decimals, as metafor prints (NaN as "NA").
pub fn fmt_num(value: f64, digits: usize) -> String {
    if value.is_nan() {
        "NA".into()
    } else {
        fixed::fixed(value, digits)
    }
}

/// Formats a p-value as metafor does: "<.0001" below 1e-4, else 4 decimals.
pub fn fmt_p(p: f64) -> String {
    if p.is_nan() {
        "NA".into()
    } else if p < 1e-4 {
        "<.0001".into()
    } else {
        fixed::fixed(p, 4)
    }
}

/// Lays out rows as columns under a header: the first column holds labels and
/// is left-aligned, the rest are right-aligned.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    aligned_table(header, rows, true)
}

/// Like [`table`], with every column right-aligned when `label_first` is false.
pub fn aligned_table(header: &[&str], rows: &[Vec<String>], label_first: bool) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line_width: usize = widths.iter().map(|w| w + 2).sum();
    let mut out = String::with_capacity(line_width * (rows.len() + 1));
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let start = out.len();
        for (i, (cell, &w)) in cells.zip(&widths).enumerate() {
            let pad = w.saturating_sub(cell.chars().count());
            if i > 0 {
                out.push_str("  ");
            }
            if i == 0 && label_first {
                out.push_str(cell);
                push_spaces(&mut out, pad);
            } else {
                push_spaces(&mut out, pad);
                out.push_str(cell);
            }
        }
        let end = out[start..].trim_end().len();
        out.truncate(start + end);
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

fn push_spaces(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}
