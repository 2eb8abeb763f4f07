//! The record field a column header that tau did not recognise probably
//! means, for the message when no study has effect data: `M_exp` → `m1`,
//! `SD_ctl` → `sd2`, `n_exp` → `n1`, `Mean_pre` → `m_pre`.
//!
//! A header is split into a quantity (`M`, `mean`, `SD`, `n`, `events`, ...)
//! and a group (`exp`, `int`, `treat`, `T`, `E` → 1; `ctl`, `con`, `control`,
//! `C` → 2; `pre`, `post`), in either order; failing that, the fields within
//! two edits of the header (Levenshtein distance, case and `_`/space/`-`/`.`
//! ignored) are offered.

use super::NUMERIC_FIELDS;
use crate::fields::COLUMNS;

/// Up to `count` field names nearest to `header`, best first.
pub fn nearest_fields(header: &str, count: usize) -> Vec<&'static str> {
    let key: String = header
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    if let Some(field) = by_parts(header) {
        return vec![field];
    }
    let mut scored: Vec<(usize, &'static str)> = NUMERIC_FIELDS
        .iter()
        .chain(&["study"])
        .map(|field| (edit_distance(&key, &field.replace('_', "")), *field))
        .filter(|(d, field)| *d <= 2 && *d < field.len())
        .collect();
    scored.sort();
    scored.into_iter().take(count).map(|(_, f)| f).collect()
}

/// The field a header names by quantity and group, e.g. `M_exp` → `m1`.
fn by_parts(header: &str) -> Option<&'static str> {
    let lower = header.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let [first, second] = words[..] else {
        return None;
    };
    let pick = |quantity: &str, group: &str| -> Option<&'static str> {
        let quantity = match quantity {
            "m" | "mean" | "mn" | "avg" | "average" | "gem" | "gemiddelde" => "m",
            "sd" | "s" | "std" | "stdev" | "stddev" => "sd",
            "n" | "size" | "total" | "count" => "n",
            "events" | "event" | "ev" | "x" | "cases" | "e" => "events",
            _ => return None,
        };
        let group = match group {
            "1" | "e" | "exp" | "experimental" | "i" | "int" | "intervention" | "t" | "tx"
            | "treat" | "treatment" | "trt" => "1",
            "2" | "c" | "ctl" | "ctrl" | "con" | "control" | "cg" | "k" | "controle" => "2",
            "pre" | "before" | "baseline" | "voor" => "_pre",
            "post" | "after" | "na" => "_post",
            _ => return None,
        };
        let field = format!("{quantity}{group}");
        NUMERIC_FIELDS.iter().find(|f| **f == field).copied()
    };
    pick(first, second).or_else(|| pick(second, first))
}

/// Levenshtein distance between two short strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// The hint for a file where no study has effect data: the columns read as
/// moderators, the fields they may mean, and how to map them. `None` when
/// no column was read as a moderator.
pub fn unrecognised_columns_hint(moderator_columns: &[String]) -> Option<String> {
    if moderator_columns.is_empty() {
        return None;
    }
    let guesses: Vec<(String, &str)> = moderator_columns
        .iter()
        .filter(|c| c.chars().count() <= 40)
        .filter_map(|c| nearest_fields(c, 1).first().map(|f| (c.clone(), *f)))
        .collect();
    let quoted: Vec<String> = moderator_columns.iter().map(|c| format!("'{c}'")).collect();
    let mut hint = format!(
        "columns read as moderators, not as effect data: {}",
        super::list_bounded(&quoted)
    );
    let example = if guesses.is_empty() {
        "m1=COLUMN,sd1=COLUMN,n1=COLUMN,m2=COLUMN,sd2=COLUMN,n2=COLUMN".to_owned()
    } else {
        let nearest: Vec<String> = guesses
            .iter()
            .map(|(column, field)| format!("{column} → {field}?"))
            .collect();
        hint.push_str(&format!(
            "; nearest record fields: {}",
            super::list_bounded(&nearest)
        ));
        guesses
            .iter()
            .take(8)
            .map(|(column, field)| format!("{field}={column}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    hint.push_str(&format!(
        "; name the columns of the effect data with {COLUMNS} {example} (or a line \"# columns: {example}\" at the top of the file), or rename them (see tau schema)"
    ));
    Some(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dutch_and_english_headers_are_guessed() {
        assert_eq!(nearest_fields("M_exp", 1), ["m1"]);
        assert_eq!(nearest_fields("SD_ctl", 1), ["sd2"]);
        assert_eq!(nearest_fields("n_exp", 1), ["n1"]);
        assert_eq!(nearest_fields("exp_n", 1), ["n1"]);
        assert_eq!(nearest_fields("Mean pre", 1), ["m_pre"]);
        assert_eq!(nearest_fields("evnts1", 1), ["events1"]);
        assert_eq!(nearest_fields("country", 1), Vec::<&str>::new());
        assert_eq!(nearest_fields("year", 1), Vec::<&str>::new());
    }

    #[test]
    fn the_hint_names_columns_and_a_mapping() {
        let columns: Vec<String> = ["n_exp", "M_exp", "country"].map(String::from).into();
        let hint = unrecognised_columns_hint(&columns).expect("a hint");
        assert!(
            hint.contains("'n_exp', 'M_exp', 'country'")
                && hint.contains("M_exp → m1?")
                && hint.contains("`columns` n1=n_exp,m1=M_exp"),
            "{hint}"
        );
        assert_eq!(unrecognised_columns_hint(&[]), None);
    }
}
