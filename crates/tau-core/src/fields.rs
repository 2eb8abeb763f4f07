//! The settings that messages name, and how a front end names them.
//!
//! A message of the core that tells the reader to change a setting names the
//! setting by its field, never by a command-line flag: "raise the limit with
//! `max_iter`". Each front end names the fields in its own words, once, at
//! start ([`set_names`], as a program sets its locale): the `tau` command
//! line writes `--max-iter` (its one table of flags is `src/cli/fields.rs`),
//! a page may write the label of its control. Without names set, a field is
//! written as its name in backticks.
//!
//! The core's messages hold a field as a [`Setting`] constant in the format
//! string (`"raise the limit with {MAX_ITER}"`), so that it is named when the
//! message is written, and data in the message (a study label, a key of the
//! input that serde quotes in backticks) is never taken for a field. A
//! static text that names a field in backticks (`` `max_iter` ``) is named
//! with [`named`] before anything else joins it; [`render`] does the same
//! with any naming.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

/// A setting named in a message: written as the front end names its field
/// ([`set_names`]), or as the field name in backticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting(&'static str);

impl Setting {
    /// The field name (`max_iter`).
    pub const fn field(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match NAMES.get().and_then(|names| names(self.0)) {
            Some(name) => f.write_str(&name),
            None => write!(f, "`{}`", self.0),
        }
    }
}

/// The setting `alternative`.
pub const ALTERNATIVE: Setting = Setting("alternative");
/// The setting `blup`.
pub const BLUP: Setting = Setting("blup");
/// The setting `btt`.
pub const BTT: Setting = Setting("btt");
/// The setting `by`.
pub const BY: Setting = Setting("by");
/// The setting `decimal`.
pub const DECIMAL: Setting = Setting("decimal");
/// The setting `digits`.
pub const DIGITS: Setting = Setting("digits");
/// The setting `exclude`.
pub const EXCLUDE: Setting = Setting("exclude");
/// The setting `fallback`.
pub const FALLBACK: Setting = Setting("fallback");
/// The setting `filter`.
pub const FILTER: Setting = Setting("filter");
/// Model averaging of a Bayesian analysis.
pub const AVERAGE: Setting = Setting("average");
/// The prior of μ of a Bayesian analysis.
pub const MU_PRIOR: Setting = Setting("mu_prior");
/// The prior of τ of a Bayesian analysis.
pub const TAU_PRIOR: Setting = Setting("tau_prior");
/// The setting `fit_only`.
pub const FIT_ONLY: Setting = Setting("fit_only");
/// The setting `format`.
pub const FORMAT: Setting = Setting("format");
/// The setting `glmm`.
pub const GLMM: Setting = Setting("glmm");
/// The setting `full`.
pub const FULL: Setting = Setting("full");
/// The setting `k`.
pub const K: Setting = Setting("k");
/// The setting `level`.
pub const LEVEL: Setting = Setting("level");
/// The setting `levels`.
pub const LEVELS: Setting = Setting("levels");
/// The setting `max_iter`.
pub const MAX_ITER: Setting = Setting("max_iter");
/// The setting `measure`.
pub const MEASURE: Setting = Setting("measure");
/// The setting `method`.
pub const METHOD: Setting = Setting("method");
/// The setting `methods`.
pub const METHODS: Setting = Setting("methods");
/// The setting `mods`.
pub const MODS: Setting = Setting("mods");
/// The setting `no_intercept`.
pub const NO_INTERCEPT: Setting = Setting("no_intercept");
/// The setting `permutations`.
pub const PERMUTATIONS: Setting = Setting("permutations");
/// The setting `permute_by`.
pub const PERMUTE_BY: Setting = Setting("permute_by");
/// The setting `predict`.
pub const PREDICT: Setting = Setting("predict");
/// The setting `predict_file`.
pub const PREDICT_FILE: Setting = Setting("predict_file");
/// The setting `question`.
pub const QUESTION: Setting = Setting("question");
/// The setting `random`.
pub const RANDOM: Setting = Setting("random");
/// The setting `reduced`.
pub const REDUCED: Setting = Setting("reduced");
/// The setting `rho`.
pub const RHO: Setting = Setting("rho");
/// The setting `reverse`.
pub const REVERSE: Setting = Setting("reverse");
/// The setting `ri`.
pub const RI: Setting = Setting("ri");
/// The setting `robust`.
pub const ROBUST: Setting = Setting("robust");
/// The setting `shard`.
pub const SHARD: Setting = Setting("shard");
/// The setting `sheet`.
pub const SHEET: Setting = Setting("sheet");
/// The setting `outcome`.
pub const OUTCOME: Setting = Setting("outcome");
/// The setting `columns`.
pub const COLUMNS: Setting = Setting("columns");
/// The setting `scale`.
pub const SCALE: Setting = Setting("scale");
/// The setting `seed`.
pub const SEED: Setting = Setting("seed");
/// The setting `sep`.
pub const SEP: Setting = Setting("sep");
/// The setting `small_sample`.
pub const SMALL_SAMPLE: Setting = Setting("small_sample");
/// The setting `steps`.
pub const STEPS: Setting = Setting("steps");
/// The setting `strict`.
pub const STRICT: Setting = Setting("strict");
/// The setting `vcov`.
pub const VCOV: Setting = Setting("vcov");
/// The setting `corr`.
pub const CORR: Setting = Setting("corr");
/// The setting `struct`.
pub const STRUCT: Setting = Setting("struct");
/// The setting `tau2`.
pub const TAU2: Setting = Setting("tau2");
/// The setting `tau2_ci`.
pub const TAU2_CI: Setting = Setting("tau2_ci");
/// The setting `test`.
pub const TEST: Setting = Setting("test");
/// The setting `type`.
pub const TYPE: Setting = Setting("type");
/// The setting `weighted`.
pub const WEIGHTED: Setting = Setting("weighted");
/// The setting `cluster` (of the sampling covariances, metafor's `vcalc`).
pub const CLUSTER: Setting = Setting("cluster");
/// The setting `obs` (metafor's `vcalc`).
pub const OBS: Setting = Setting("obs");
/// The setting `grp1` (metafor's `vcalc`).
pub const GRP1: Setting = Setting("grp1");
/// The setting `grp2` (metafor's `vcalc`).
pub const GRP2: Setting = Setting("grp2");
/// The setting `first_time` (metafor's `vcalc` `time1`; named apart from
/// the records' `time1`).
pub const TIME1: Setting = Setting("first_time");
/// The setting `second_time` (metafor's `vcalc` `time2`).
pub const TIME2: Setting = Setting("second_time");
/// The setting `phi` (metafor's `vcalc`).
pub const PHI: Setting = Setting("phi");
/// The setting `w1` (metafor's `vcalc`).
pub const W1: Setting = Setting("w1");
/// The setting `w2` (metafor's `vcalc`).
pub const W2: Setting = Setting("w2");

/// Every setting a core message names: the analysis request's fields and
/// the other settings of a front end (`measure`, `filter`, …). A front end
/// names each of them (the CLI's table is tested against this list).
pub const FIELDS: &[Setting] = &[
    ALTERNATIVE,
    AVERAGE,
    BLUP,
    BTT,
    BY,
    CLUSTER,
    COLUMNS,
    CORR,
    DECIMAL,
    DIGITS,
    EXCLUDE,
    FALLBACK,
    FILTER,
    TIME1,
    FIT_ONLY,
    FORMAT,
    FULL,
    GRP1,
    GRP2,
    K,
    LEVEL,
    LEVELS,
    MAX_ITER,
    MEASURE,
    METHOD,
    METHODS,
    MODS,
    MU_PRIOR,
    NO_INTERCEPT,
    OBS,
    OUTCOME,
    PERMUTATIONS,
    PERMUTE_BY,
    PHI,
    PREDICT,
    PREDICT_FILE,
    QUESTION,
    RANDOM,
    REDUCED,
    REVERSE,
    RHO,
    RI,
    ROBUST,
    TIME2,
    SEED,
    SEP,
    SHARD,
    SHEET,
    SMALL_SAMPLE,
    STEPS,
    STRICT,
    STRUCT,
    TAU2,
    TAU2_CI,
    TAU_PRIOR,
    TEST,
    TYPE,
    VCOV,
    W1,
    W2,
    WEIGHTED,
];

/// `message` with each backticked word that `name` knows replaced by what
/// `name` gives; other backticked words keep their backticks.
///
/// Backticks around more than a field name stay, so a message can quote a
/// command with a field in it: ``` ``random` site` ``` renders as
/// `` `--random site` `` where `name` gives `--random`.
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

/// The front end's names of the fields, once set.
static NAMES: OnceLock<fn(&str) -> Option<String>> = OnceLock::new();

/// Sets how this process names the fields in the core's messages (errors,
/// warnings, report lines). The first call wins; it returns whether it was
/// the first.
pub fn set_names(names: fn(&str) -> Option<String>) -> bool {
    NAMES.set(names).is_ok()
}

/// A static `message` that names fields in backticks, rendered with the
/// names of [`set_names`] (kept as it is if none were set). Only for text the
/// core wrote: data in it could be taken for a field.
pub fn named(message: &str) -> Cow<'_, str> {
    match NAMES.get() {
        Some(names) => Cow::Owned(render(message, names)),
        None => Cow::Borrowed(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A front end that writes fields in capitals and does not know `k`.
    fn upper(field: &str) -> Option<String> {
        (field != "k").then(|| field.to_uppercase())
    }

    #[test]
    fn known_fields_are_renamed_and_others_kept() {
        assert_eq!(
            render("raise `max_iter` or `k`, not `a b`", upper),
            "raise MAX_ITER or `k`, not `a b`"
        );
        for text in ["no fields", "odd ` tick", "`method", "``", "`", "`Study`"] {
            assert_eq!(render(text, upper), text);
        }
    }

    #[test]
    fn a_field_inside_a_quoted_command_keeps_the_quotes() {
        assert_eq!(
            render("(``random` site`) or `tau subgroup `by` site`", upper),
            "(`RANDOM site`) or `tau subgroup BY site`"
        );
    }

    #[test]
    fn fields_are_sorted_unique_field_names() {
        assert!(
            FIELDS
                .windows(2)
                .all(|pair| pair[0].field() < pair[1].field())
        );
        assert!(FIELDS.iter().all(|f| is_field(f.field())));
    }

    #[test]
    fn without_names_a_field_is_its_name_in_backticks() {
        // No test of the core sets names: the process's names stay unset.
        assert_eq!(named("pass `measure`"), "pass `measure`");
        assert_eq!(format!("raise {MAX_ITER}"), "raise `max_iter`");
    }
}
