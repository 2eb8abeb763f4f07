//! Turning effects round where lower is better, so that every study points
//! the same way (a problem score such as the ECBI or the SDQ falls when a
//! treatment works, a skill score rises).
//!
//! A study is turned round when its record says `"reverse": true` (a CSV or
//! sheet column `reverse`) or when a rule `--reverse MODERATOR=VALUE`
//! matches its moderators. Its effect size is then `yᵢ → −yᵢ` with the same
//! `vᵢ`, computed after the effect size, so raw data and `yi` alike: a
//! difference (MD, SMD, RD, ...) changes sign, a log ratio (OR, RR, IRR, ROM)
//! becomes the log of its reciprocal, and a correlation changes sign.
//! Single-group measures (PR, PLO, PFT, PAS, MN, MNLN, IRLN) have no
//! direction to turn, and are refused.

use crate::data::moderator::Filter;
use crate::effect_size::measure::Measure;
use crate::fields::REVERSE;
use crate::input::{Moderators, Record};

/// Whether a study is turned round: its record says so, or a rule matches.
/// Marks the rules that matched in `matched`.
pub(crate) fn applies(
    record: &Record,
    moderators: &Moderators,
    rules: &[Filter],
    matched: &mut [bool],
) -> bool {
    let mut reversed = record.reverse;
    for (rule, seen) in rules.iter().zip(matched.iter_mut()) {
        if rule.keeps(moderators) == Some(true) {
            *seen = true;
            reversed = true;
        }
    }
    reversed
}

/// Refuses a measure without a direction (see the module documentation).
pub(crate) fn check_measure(measure: Measure) -> Result<(), String> {
    if measure.null_value().is_some() {
        return Ok(());
    }
    Err(format!(
        "reverse turns an effect round (yi -> -yi), but {} is a single-group measure with no direction to turn; remove reverse (or {REVERSE}) for this measure",
        measure.name()
    ))
}

/// The rules as the reports state them: `--reverse outcome=ECBI`, and
/// `"reverse" field` when a record said so.
pub(crate) fn describe(rules: &[Filter], by_field: bool) -> Vec<String> {
    let mut sources: Vec<String> = rules.iter().map(|r| format!("{REVERSE} {r}")).collect();
    if by_field {
        sources.push("the reverse field".to_owned());
    }
    sources
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_group_measures_have_no_direction() {
        assert!(check_measure(Measure::SMD).is_ok());
        assert!(check_measure(Measure::OR).is_ok());
        let err = check_measure(Measure::PR).expect_err("PR");
        assert!(err.contains("PR is a single-group measure"), "{err}");
    }
}
