//! The one table from the analysis request's fields (and the other settings
//! the core's messages name) to the flags that set them. The core names a
//! setting by its field (`max_iter`); `main` gives it this table once
//! ([`tau_core::fields::set_names`]), so that errors, warnings and reports
//! name the flag (`--max-iter`).

/// The flag that sets `field`, if the command line has one.
pub fn flag(field: &str) -> Option<&'static str> {
    Some(match field {
        "question" => "the subcommand",
        "alternative" => "--alternative",
        "method" => "--method",
        "methods" => "--methods",
        "test" => "--test",
        "level" => "--level",
        "fallback" => "--fallback",
        "max_iter" => "--max-iter",
        "weighted" => "--unweighted",
        "mods" => "--mods",
        "no_intercept" => "--no-intercept",
        "by" => "--by",
        "levels" => "--levels",
        "tau2" => "--tau2",
        "random" => "--random",
        "rho" => "--rho",
        "struct" => "--struct",
        "vcov" => "--vcov",
        "corr" => "--corr",
        "fit_only" => "--fit-only",
        "robust" => "--robust",
        "small_sample" => "--small-sample",
        "tau2_ci" => "--tau2-ci",
        "blup" => "--blup",
        "predict" => "--predict",
        "predict_file" => "--predict-file",
        "btt" => "--btt",
        "full" => "--full",
        "glmm" => "--glmm",
        "reduced" => "--reduced",
        "permutations" => "--permutations",
        "permute_by" => "--permute-by",
        "scale" => "--scale",
        "seed" => "--seed",
        "k" => "--k",
        "steps" => "--steps",
        "type" => "--type",
        "tau_prior" => "--tau-prior",
        "mu_prior" => "--mu-prior",
        "average" => "--average",
        "format" => "--format",
        "digits" => "--digits",
        "filter" => "--filter",
        "exclude" => "--exclude",
        "measure" => "--measure",
        "reverse" => "--reverse",
        "shard" => "--shard",
        "sheet" => "--sheet",
        "outcome" => "--outcome",
        "columns" => "--columns",
        "ri" => "--ri",
        "strict" => "--strict",
        "sep" => "--sep",
        "decimal" => "--decimal",
        "cluster" => "--cluster",
        "obs" => "--obs",
        "grp1" => "--grp1",
        "grp2" => "--grp2",
        "first_time" => "--time1",
        "second_time" => "--time2",
        "phi" => "--phi",
        "w1" => "--w1",
        "w2" => "--w2",
        _ => return None,
    })
}

/// [`flag`] as the core's naming function ([`tau_core::fields::set_names`]).
pub fn name(field: &str) -> Option<String> {
    flag(field).map(str::to_owned)
}

/// A core message with its fields written as flags.
pub fn render(message: &str) -> String {
    tau_core::fields::render(message, name)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use clap::CommandFactory;

    use super::*;

    /// Every long flag of every subcommand.
    fn flags(command: &clap::Command, out: &mut BTreeSet<String>) {
        for arg in command.get_arguments() {
            out.extend(arg.get_long().map(|long| format!("--{long}")));
        }
        for sub in command.get_subcommands() {
            flags(sub, out);
        }
    }

    #[test]
    fn every_field_the_core_names_has_a_flag_that_exists() {
        let mut known = BTreeSet::new();
        let mut command = super::super::Cli::command();
        // The subcommands' flags are deferred until the tree is built.
        command.build();
        flags(&command, &mut known);
        for setting in tau_core::fields::FIELDS {
            let field = setting.field();
            let written = flag(field).unwrap_or_else(|| panic!("no flag for `{field}`"));
            assert!(
                written == "the subcommand" || known.contains(written),
                "`{field}` is written {written}, which no subcommand takes"
            );
        }
    }
}
