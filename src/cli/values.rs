//! Flag values that name library types (estimators, tests, subgroup τ²
//! modes). The library knows nothing of clap: these parsers list the names
//! the library accepts, and `--help` shows them as possible values.

use super::args::{MethodChoice, TestFlag};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use tau_core::model::{Method, Test};
use tau_core::pool_tables::TablesMethod;
use tau_core::report::Format;
use tau_core::subgroup::Tau2Mode;

/// `--method` and `--fallback`: metafor's names; `FE` and `CE` mean `EE`.
pub fn method() -> impl TypedValueParser<Value = Method> {
    let names = Method::ALL.map(|m| match m {
        Method::EE => PossibleValue::new("EE").aliases(["FE", "CE"]),
        other => PossibleValue::new(other.name()),
    });
    PossibleValuesParser::new(names).try_map(|name| Method::parse(&name).ok_or(name))
}

/// `--method`: a τ² estimator as [`method`], or `MH` or `PETO`.
pub fn method_choice() -> impl TypedValueParser<Value = MethodChoice> {
    let names = Method::ALL
        .map(|m| match m {
            Method::EE => PossibleValue::new("EE").aliases(["FE", "CE"]),
            other => PossibleValue::new(other.name()),
        })
        .into_iter()
        .chain(TablesMethod::ALL.map(|m| PossibleValue::new(m.name())));
    PossibleValuesParser::new(names).try_map(|name| {
        Method::parse(&name)
            .map(MethodChoice::Model)
            .or_else(|| TablesMethod::parse(&name).map(MethodChoice::Tables))
            .ok_or(name)
    })
}

/// `simulate --tests`: `z` or `knha`.
pub fn test() -> impl TypedValueParser<Value = Test> {
    PossibleValuesParser::new(Test::ALL.map(|t| PossibleValue::new(t.name())))
        .try_map(|name| Test::parse(&name).ok_or(name))
}

/// The `--test` of a model: `z` or `knha`, or `t` (multilevel models, `--random`).
pub fn test_flag() -> impl TypedValueParser<Value = TestFlag> {
    let names = Test::ALL
        .map(|t| PossibleValue::new(t.name()))
        .into_iter()
        .chain([PossibleValue::new("t")]);
    PossibleValuesParser::new(names).try_map(|name| match Test::parse(&name) {
        Some(test) => Ok(TestFlag::Uni(test)),
        None if name.eq_ignore_ascii_case("t") => Ok(TestFlag::T),
        None => Err(name),
    })
}

/// `--format`: `text`, `json` or `csv`.
pub fn format() -> impl TypedValueParser<Value = Format> {
    PossibleValuesParser::new(
        Format::ALL.map(|f| PossibleValue::new(f.name()).help(super::fields::render(f.about()))),
    )
    .try_map(|name| Format::parse(&name).ok_or(name))
}

/// `subgroup --tau2`: `separate` or `common`.
pub fn tau2_mode() -> impl TypedValueParser<Value = Tau2Mode> {
    PossibleValuesParser::new(["separate", "common"]).map(|name| match name.as_str() {
        "common" => Tau2Mode::Common,
        _ => Tau2Mode::Separate,
    })
}

/// A whole number of at least `min`, for counts and seeds. A negative number
/// is read as a value (with `allow_negative_numbers` on the flag), so that
/// it is refused for what it is instead of clap's tip to write `-- -1`.
pub fn whole(min: u64, example: &'static str) -> impl TypedValueParser<Value = u64> {
    clap::builder::StringValueParser::new().try_map(move |text| match text.trim().parse::<u64>() {
        Ok(n) if n >= min => Ok(n),
        Ok(n) => Err(format!("must be at least {min} (got {n}), e.g. {example}")),
        Err(_) if text.trim().starts_with('-') => Err(format!(
            "must be a whole number from {min} to {}, not negative (got {text}), e.g. {example}",
            u64::MAX
        )),
        Err(_) => Err(format!(
            "must be a whole number from {min} to {} (got {text:?}), e.g. {example}",
            u64::MAX
        )),
    })
}
