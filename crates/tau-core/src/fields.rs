//! Settings named in messages. The core's messages name a setting by its
//! field name in backticks (`` `max_iter` ``), never by a command-line
//! flag: each front end writes its own name for it, the CLI its flag
//! (`--max-iter`), the browser page its control.

/// `message` with each backticked word that `name` knows replaced by what
/// `name` gives; other backticked words keep their backticks.
pub fn render(message: &str, name: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find('`') {
        let (before, after) = rest.split_at(open);
        out.push_str(before);
        let inner = &after[1..];
        match inner.find('`') {
            Some(close) if is_field(&inner[..close]) => {
                let field = &inner[..close];
                match name(field) {
                    Some(written) => out.push_str(&written),
                    None => {
                        out.push('`');
                        out.push_str(field);
                        out.push('`');
                    }
                }
                rest = &inner[close + 1..];
            }
            _ => {
                out.push('`');
                rest = inner;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A field name: lower-case letters, digits and underscores.
fn is_field(word: &str) -> bool {
    !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn known_fields_are_renamed_and_others_kept() {
        let flag = |f: &str| (f == "max_iter").then(|| "--max-iter".to_owned());
        assert_eq!(
            render("raise `max_iter` or `other`, not `a b`", flag),
            "raise --max-iter or `other`, not `a b`"
        );
        assert_eq!(render("no fields", flag), "no fields");
        assert_eq!(render("odd ` tick", flag), "odd ` tick");
    }
}
