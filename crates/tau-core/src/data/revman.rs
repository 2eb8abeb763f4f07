//! A data set from a RevMan 5 review (see [`crate::input::revman`]).

use crate::data::dataset::{Dataset, LoadError, LoadOptions, build_with};
use crate::input::locate::SourceMap;
use crate::input::revman::{Outcome, parse_revman};

/// Reads the review in `text` (the outcome `outcome` picks, or all) and
/// builds the data set; also returns the review's outcomes.
pub fn load_revman_with(
    text: &str,
    outcome: Option<&str>,
    options: &LoadOptions,
) -> Result<(Dataset, Vec<Outcome>), LoadError> {
    let (file, outcomes) = parse_revman(text, outcome)?;
    let data = build_with(file, &SourceMap::None, options)?;
    Ok((data, outcomes))
}
