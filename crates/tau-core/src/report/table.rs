//! Plain-text tables: columns sized to their widest cell, labels
//! left-aligned and numbers right-aligned, as R prints data frames.

/// The cells of a table, row after row, in one text buffer: a 1000-row
/// table is then two allocations, not one per cell.
#[derive(Debug, Clone, Default)]
pub struct Cells {
    text: String,
    /// Where each cell ends in `text`.
    ends: Vec<usize>,
}

impl Cells {
    /// An empty table.
    pub fn new() -> Cells {
        Cells::default()
    }

    /// Adds a cell holding `text` (rows are filled left to right, then the next row).
    pub fn push(&mut self, text: &str) {
        self.text.push_str(text);
        self.ends.push(self.text.len());
    }

    /// Adds a cell written by `write`.
    pub fn push_with(&mut self, write: impl FnOnce(&mut String)) {
        write(&mut self.text);
        self.ends.push(self.text.len());
    }

    /// Adds a number with `digits` decimals, "NA" for NaN (as [`super::fmt_num`]).
    pub fn push_num(&mut self, value: f64, digits: usize) {
        self.push_with(|out| super::push_num(out, value, digits));
    }

    /// Cell `index` in filling order.
    fn cell(&self, index: usize) -> &str {
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        &self.text[start..self.ends[index]]
    }
}

/// Lays out rows as columns under a header: the first column holds labels and
/// is left-aligned, the rest are right-aligned.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    aligned_table(header, rows, true)
}

/// Like [`table`], with every column right-aligned when `label_first` is false.
pub fn aligned_table(header: &[&str], rows: &[Vec<String>], label_first: bool) -> String {
    let mut cells = Cells::new();
    for row in rows {
        for cell in row.iter().take(header.len()) {
            cells.push(cell);
        }
        for _ in row.len()..header.len() {
            cells.push("");
        }
    }
    layout(header, &cells, label_first)
}

/// Lays out `cells` (as many per row as the header has names) under the header.
pub fn layout(header: &[&str], cells: &Cells, label_first: bool) -> String {
    let columns = header.len().max(1);
    let width = |text: &str| {
        if text.is_ascii() {
            text.len()
        } else {
            text.chars().count()
        }
    };
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for index in 0..cells.ends.len() {
        let w = &mut widths[index % columns];
        *w = (*w).max(width(cells.cell(index)));
    }
    let rows = cells.ends.len() / columns;
    let line_width: usize = widths.iter().map(|w| w + 2).sum();
    let mut out = String::with_capacity(line_width * (rows + 1));
    let mut line = |row: &mut dyn Iterator<Item = &str>| {
        let start = out.len();
        for (i, (cell, &w)) in row.zip(&widths).enumerate() {
            let pad = w.saturating_sub(width(cell));
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
    for row in 0..rows {
        line(&mut (row * columns..(row + 1) * columns).map(|i| cells.cell(i)));
    }
    out
}

fn push_spaces(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_their_widest_cell() {
        let rows = vec![
            vec!["Aronson 1948".to_owned(), "-0.8893".to_owned()],
            vec!["Ferguson".to_owned(), "1.2".to_owned()],
        ];
        assert_eq!(
            table(&["study", "yi"], &rows),
            "study              yi\nAronson 1948  -0.8893\nFerguson          1.2\n"
        );
        let mut cells = Cells::new();
        cells.push("é");
        cells.push_num(f64::NAN, 2);
        cells.push("b");
        cells.push_num(-1.005, 1);
        assert_eq!(
            layout(&["x", "value"], &cells, false),
            "x  value\né     NA\nb   -1.0\n"
        );
    }
}
