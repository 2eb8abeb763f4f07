//! Text that messages share: lists of study labels that stay readable when a
//! data set has thousands of studies.

/// How many study labels a message lists before it only counts the rest.
pub const MAX_LISTED_STUDIES: usize = 20;

/// "A, B, C" for up to [`MAX_LISTED_STUDIES`] labels, then "and N more".
pub fn list_labels(labels: &[String]) -> String {
    let shown = labels.len().min(MAX_LISTED_STUDIES);
    let mut text = labels[..shown].join(", ");
    if labels.len() > shown {
        text.push_str(&format!(" and {} more", labels.len() - shown));
    }
    text
}
