//! The one table from the analysis request's fields (and the other settings
//! the core's messages name) to the flags that set them. The core writes a
//! setting as its field name in backticks; the CLI shows the flag.

/// The flag that sets `field`, if the command line has one.
pub fn flag(field: &str) -> Option<&'static str> {
    Some(match field {
        "question" => "the subcommand",
        "method" => "--method",
        "test" => "--test",
        "level" => "--level",
        "fallback" => "--fallback",
        "max_iter" => "--max-iter",
        "weighted" => "--unweighted",
        "mods" => "--mods",
        "by" => "--by",
        "levels" => "--levels",
        "tau2" => "--tau2",
        "random" => "--random",
        "rho" => "--rho",
        "fit_only" => "--fit-only",
        "robust" => "--robust",
        "small_sample" => "--small-sample",
        "tau2_ci" => "--tau2-ci",
        "blup" => "--blup",
        "predict" => "--predict",
        "btt" => "--btt",
        "permutations" => "--permutations",
        "seed" => "--seed",
        "format" => "--format",
        "digits" => "--digits",
        "filter" => "--filter",
        "exclude" => "--exclude",
        "measure" => "--measure",
        _ => return None,
    })
}

/// A core message with its fields written as flags.
pub fn render(message: &str) -> String {
    tau_core::fields::render(message, |field| flag(field).map(str::to_owned))
}
