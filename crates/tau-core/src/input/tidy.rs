//! What a spreadsheet's CSV export adds to the data: every row of the sheet's
//! used area gets every separator, so rows left empty at the end come out as
//! `;;;;` and a first line `# measure: SMD` as `# measure: SMD;;;;`. The CSV
//! reader ignores both.

use std::borrow::Cow;

/// `body` with every line that holds nothing but separators and spaces
/// (outside quoted cells) emptied, keeping the line count: the CSV reader
/// skips empty lines, and line numbers in messages stay true.
pub fn blank_separator_rows(body: &str, separator: u8) -> Cow<'_, str> {
    let separator = char::from(separator);
    let empty_row = |line: &str| {
        let line = line.trim_end_matches('\r');
        line.contains(separator) && line.chars().all(|c| c == separator || c == ' ')
    };
    let mut quoted = false;
    let mut any = false;
    for line in body.split('\n') {
        if !quoted && empty_row(line) {
            any = true;
            break;
        }
        quoted ^= line.bytes().filter(|&b| b == b'"').count() % 2 == 1;
    }
    if !any {
        return Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len());
    let mut quoted = false;
    for (i, line) in body.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if !quoted && empty_row(line) {
            continue;
        }
        quoted ^= line.bytes().filter(|&b| b == b'"').count() % 2 == 1;
        out.push_str(line);
    }
    Cow::Owned(out)
}

/// The value of a `# key: value` comment line without the separators (and
/// spaces) an export appends: `SMD;;;;` → `SMD`.
pub fn comment_value(value: &str) -> &str {
    value.trim_end_matches([';', ',', '\t', ' ', '\r'])
}

/// The content of the comment line that `text` starts with, without its
/// `#`s: `# measure: SMD` → `measure: SMD`. Excel quotes a cell that holds
/// the separator, so `"# columns: m1=M_exp,sd1=SD_exp",,,` is a comment too.
pub fn comment_content(text: &str) -> Option<Cow<'_, str>> {
    let line = text.split('\n').next().unwrap_or_default();
    if line.starts_with('#') {
        return Some(Cow::Borrowed(line.trim_start_matches('#').trim()));
    }
    let quoted = line.strip_prefix('"').filter(|l| l.starts_with('#'))?;
    let mut content = String::new();
    let mut chars = quoted.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if chars.peek() == Some(&'"') => {
                chars.next();
                content.push('"');
            }
            '"' => break,
            c => content.push(c),
        }
    }
    Some(Cow::Owned(
        content.trim_start_matches('#').trim().to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separator_rows_are_emptied() {
        let body = "study;yi;vi\nA;1;1\n;;\n ; ; \nB;2;1\n;;\n";
        assert_eq!(
            blank_separator_rows(body, b';'),
            "study;yi;vi\nA;1;1\n\n\nB;2;1\n\n"
        );
        // Inside a quoted cell a line of separators is data.
        let body = "study,note\nA,\"x\n,,\ny\"\n";
        assert_eq!(blank_separator_rows(body, b','), body);
        assert!(matches!(
            blank_separator_rows("study,yi\nA,1\n", b','),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn comment_values_lose_trailing_separators() {
        assert_eq!(comment_value("SMD;;;;;;;;"), "SMD");
        assert_eq!(comment_value("SMD,,, "), "SMD");
        assert_eq!(comment_value("My title; part 2"), "My title; part 2");
        assert_eq!(
            comment_content("\"# columns: m1=M_exp,sd1=SD_exp\",,,\nstudy").as_deref(),
            Some("columns: m1=M_exp,sd1=SD_exp")
        );
        assert_eq!(
            comment_content("# measure: SMD;;\n").as_deref(),
            Some("measure: SMD;;")
        );
        assert_eq!(comment_content("study,yi"), None);
    }
}
