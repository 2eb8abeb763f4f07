//! Markdown views: the paper table of a result ([`super::paper`]) as a
//! pipe table with its caption in bold above and its notes below.

use std::io::Write;

use super::paper::{PaperTable, PaperView};

/// The Markdown view of a result.
pub trait MarkdownView {
    /// Writes the table with numbers rounded to `digits` decimals; a result
    /// without a paper table says so (`ErrorKind::Unsupported`).
    fn write_markdown(&self, digits: usize, out: &mut dyn Write) -> std::io::Result<()>;
}

impl<T: PaperView + ?Sized> MarkdownView for T {
    fn write_markdown(&self, digits: usize, out: &mut dyn Write) -> std::io::Result<()> {
        let table = self
            .paper_table(digits)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::Unsupported, e))?;
        out.write_all(markdown(&table).as_bytes())
    }
}

/// A cell's text with the characters that would end a cell or start markup escaped.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '|' | '*' | '_' | '\\' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The table as Markdown: the first column left-aligned, the rest right-aligned,
/// summary rows in bold.
pub fn markdown(t: &PaperTable) -> String {
    let mut out = format!("**{}**\n\n", cell(&t.caption));
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = String>| {
        out.push('|');
        for c in cells {
            out.push(' ');
            out.push_str(&c);
            out.push_str(" |");
        }
        out.push('\n');
    };
    line(&mut out, &mut t.header.iter().map(|h| cell(h)));
    line(
        &mut out,
        &mut (0..t.header.len()).map(|i| if i == 0 { ":--".into() } else { "--:".into() }),
    );
    for (i, row) in t.rows.iter().enumerate() {
        let bold = i >= t.summary_from;
        line(
            &mut out,
            &mut row.iter().enumerate().map(|(j, c)| {
                if bold && j == 0 && !c.is_empty() {
                    format!("**{}**", cell(c))
                } else {
                    cell(c)
                }
            }),
        );
    }
    if !t.notes.is_empty() {
        out.push('\n');
        out.push_str(&cell(&t.notes.join(" ")));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_table_with_bold_summary_rows() {
        let t = PaperTable {
            caption: "Trials".into(),
            header: vec!["Study".into(), "RR [95% CI]".into()],
            rows: vec![
                vec!["A|B".into(), "0.50 [0.25, 1.00]".into()],
                vec![
                    "Random-effects model (REML)".into(),
                    "0.60 [0.40, 0.90]".into(),
                ],
            ],
            summary_from: 1,
            notes: vec!["I² = 10.0%.".into()],
        };
        assert_eq!(
            markdown(&t),
            "**Trials**\n\n| Study | RR [95% CI] |\n| :-- | --: |\n| A\\|B | 0.50 [0.25, 1.00] |\n| **Random-effects model (REML)** | 0.60 [0.40, 0.90] |\n\nI² = 10.0%.\n"
        );
    }
}
