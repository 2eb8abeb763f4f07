//! LaTeX views: the paper table of a result ([`super::paper`]) as a
//! `table` float with a booktabs `tabular` (`\usepackage{booktabs}`), its
//! caption and its notes in a footnote-sized paragraph below.

use std::io::Write;

use super::paper::{PaperTable, PaperView};

/// The LaTeX view of a result.
pub trait LatexView {
    /// Writes the table with numbers rounded to `digits` decimals; a result
    /// without a paper table says so (`ErrorKind::Unsupported`).
    fn write_latex(&self, digits: usize, out: &mut dyn Write) -> std::io::Result<()>;
}

impl<T: PaperView + ?Sized> LatexView for T {
    fn write_latex(&self, digits: usize, out: &mut dyn Write) -> std::io::Result<()> {
        let table = self
            .paper_table(digits)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::Unsupported, e))?;
        out.write_all(latex(&table).as_bytes())
    }
}

/// Text with LaTeX's special characters escaped, and the few non-ASCII
/// symbols of the tables (τ, μ, δ, ², <, –) written as LaTeX understands them
/// without extra packages.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\\' => out.push_str("\\textbackslash{}"),
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '<' => out.push_str("$<$"),
            '>' => out.push_str("$>$"),
            'τ' => out.push_str("$\\tau$"),
            '²' => out.push_str("$^2$"),
            'μ' => out.push_str("$\\mu$"),
            'δ' => out.push_str("$\\delta$"),
            '–' => out.push_str("--"),
            _ => out.push(c),
        }
    }
    out
}

/// The table as LaTeX: the first column left-aligned, the rest right-aligned,
/// summary rows below a rule.
pub fn latex(t: &PaperTable) -> String {
    let columns: String = (0..t.header.len())
        .map(|i| if i == 0 { 'l' } else { 'r' })
        .collect();
    let row = |cells: &[String]| {
        let cells: Vec<String> = cells.iter().map(|c| escape(c)).collect();
        format!("{} \\\\\n", cells.join(" & "))
    };
    let mut out = String::from("\\begin{table}[htbp]\n\\centering\n");
    out.push_str(&format!("\\caption{{{}}}\n", escape(&t.caption)));
    out.push_str(&format!("\\begin{{tabular}}{{{columns}}}\n\\toprule\n"));
    out.push_str(&row(&t.header));
    out.push_str("\\midrule\n");
    for (i, cells) in t.rows.iter().enumerate() {
        if i == t.summary_from && i > 0 {
            out.push_str("\\midrule\n");
        }
        out.push_str(&row(cells));
    }
    out.push_str("\\bottomrule\n\\end{tabular}\n");
    if !t.notes.is_empty() {
        out.push_str(&format!(
            "\n\\smallskip\n{{\\footnotesize {}\\par}}\n",
            escape(&t.notes.join(" "))
        ));
    }
    out.push_str("\\end{table}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booktabs_table_with_escaped_text() {
        let t = PaperTable {
            caption: "Trials & cohorts".into(),
            header: vec!["Study".into(), "I² (%)".into()],
            rows: vec![
                vec!["A_1".into(), "12.5".into()],
                vec!["Pooled".into(), "p < .001".into()],
            ],
            summary_from: 1,
            notes: vec!["τ² = 0.10.".into()],
        };
        assert_eq!(
            latex(&t),
            "\\begin{table}[htbp]\n\\centering\n\\caption{Trials \\& cohorts}\n\\begin{tabular}{lr}\n\\toprule\nStudy & I$^2$ (\\%) \\\\\n\\midrule\nA\\_1 & 12.5 \\\\\n\\midrule\nPooled & p $<$ .001 \\\\\n\\bottomrule\n\\end{tabular}\n\n\\smallskip\n{\\footnotesize $\\tau$$^2$ = 0.10.\\par}\n\\end{table}\n"
        );
    }
}
