//! Bounded lists of names for messages: a moderator with 20,000 levels must
//! not turn "there is no level 'x'" into a 148 KB message. Up to
//! [`SHOWN`] names are listed in full; beyond that, the [`NEAREST`] names
//! closest to what was asked for (by edit distance, Levenshtein 1966), then
//! a count of the rest.

/// Lists of up to this many names are given in full.
pub const SHOWN: usize = 20;

/// How many of the nearest names a longer list shows.
pub const NEAREST: usize = 8;

/// `all` (each name cut to 80 characters) joined by ", " when there are at
/// most [`SHOWN`]; otherwise the [`NEAREST`] nearest to `wanted`, in the
/// order of `all`, and "and N more".
pub fn nearest_listed(wanted: &str, all: &[String]) -> String {
    if all.len() <= SHOWN {
        let names: Vec<String> = all.iter().map(|n| super::bounded(n)).collect();
        return names.join(", ");
    }
    // Names much longer than the one wanted are far from it anyway: cut
    // both so that 20,000 long names cost no more than short ones.
    let wanted: Vec<char> = wanted.chars().take(80).collect();
    let mut ranked: Vec<(usize, usize)> = all
        .iter()
        .enumerate()
        .map(|(i, name)| (distance(&wanted, name), i))
        .collect();
    ranked.sort_unstable();
    let mut shown: Vec<usize> = ranked.iter().take(NEAREST).map(|&(_, i)| i).collect();
    shown.sort_unstable();
    let mut names: Vec<String> = shown.iter().map(|&i| super::bounded(&all[i])).collect();
    names.push(format!("and {} more", all.len() - shown.len()));
    names.join(", ")
}

/// The edit distance (insertions, deletions, substitutions) between
/// `wanted` and the first 80 characters of `name`.
fn distance(wanted: &[char], name: &str) -> usize {
    let name: Vec<char> = name.chars().take(80).collect();
    let mut previous: Vec<usize> = (0..=name.len()).collect();
    let mut current = vec![0; name.len() + 1];
    for (i, a) in wanted.iter().enumerate() {
        current[0] = i + 1;
        for (j, b) in name.iter().enumerate() {
            let substitute = previous[j] + usize::from(a != b);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[name.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lists_are_given_in_full() {
        let all: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(nearest_listed("x", &all), "a, b, c");
    }

    #[test]
    fn long_lists_show_the_nearest_and_a_count() {
        let all: Vec<String> = (0..20_000).map(|i| format!("L{i}")).collect();
        let text = nearest_listed("L1234x", &all);
        assert!(
            text.contains("L1234") && text.ends_with("and 19992 more"),
            "{text}"
        );
        assert!(text.len() < 200, "{text}");
    }

    #[test]
    fn edit_distance() {
        let d = |a: &str, b: &str| distance(&a.chars().collect::<Vec<_>>(), b);
        assert_eq!(d("kitten", "sitting"), 3);
        assert_eq!(d("", "abc"), 3);
        assert_eq!(d("same", "same"), 0);
    }
}
