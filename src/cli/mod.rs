//! The `tau` command line: parses flags, reads files, calls the library and
//! writes its reports. Nothing here computes statistics.

pub mod analysis;
pub mod args;
pub mod baujat;
pub mod bayes;
pub mod bias;
pub mod bubble;
pub mod compare;
pub mod completions;
pub mod cumulative;
pub mod error;
pub mod families;
pub mod fields;
pub mod forest;
pub mod funnel;
pub mod influence;
pub mod input_file;
pub mod leave_one_out;
pub mod man;
pub mod matrices;
pub mod multilevel;
pub mod output;
pub mod plot_output;
pub mod pool;
pub mod provenance;
pub mod refits;
pub mod regress;
pub mod robust;
pub mod schema;
pub mod selection;
pub mod simulate;
pub mod subgroup;
pub mod values;
pub mod vcalc;

use clap::{Parser, Subcommand};

pub use error::CliError;

/// tau: meta-analysis that reproduces metafor.
#[derive(Debug, Parser)]
#[command(name = "tau", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands. Each one's flags are defined only when it runs
/// (`defer`): building all 18 flag sets cost most of tau's start-up. Their
/// flag structs carry plain comments, not doc comments, because a deferred
/// struct's doc comment would replace the command's about text.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Pool the studies of a file with a common- or random-effects model.
    Pool(pool::PoolArgs),
    /// Pool each level of a moderator separately and test the differences.
    Subgroup(subgroup::SubgroupArgs),
    /// Meta-regression on one or more moderators.
    Regress(regress::RegressArgs),
    /// Likelihood-ratio test between nested meta-regressions (metafor's anova(full, reduced)).
    Compare(compare::CompareArgs),
    /// Bubble plot of a meta-regression on one continuous moderator (SVG).
    Bubble(bubble::BubbleArgs),
    /// Draw a forest plot (.svg, .png or .pdf).
    Forest(forest::ForestArgs),
    /// Draw a funnel plot (.svg, .png or .pdf).
    Funnel(funnel::FunnelArgs),
    /// Print the JSON Schema of the study-record format (with --output: of
    /// every report that --format json writes).
    Schema(schema::SchemaArgs),
    /// Simulate meta-analyses and compare tau^2 estimators and tests.
    ///
    /// Each replicate is a meta-analysis of k two-arm studies of a standardised
    /// mean difference: per-arm sizes n1, n2 uniform on [n-min, n-max], known
    /// variances vi = 1/n1 + 1/n2 + mu^2/(2(n1 + n2)), and yi ~ N(mu, tau^2 + vi).
    /// The prediction interval is judged against a new study's true effect
    /// ~ N(mu, tau^2). Reports bias and RMSE of the estimate and of tau^2, mean
    /// I^2, CI and PI coverage, the rejection rates of the test of mu = 0 and of
    /// Q, and the number of failed fits, per method and test. The same seed
    /// gives the same results on any number of threads, and on any number of
    /// shards (--shard I/N, joined by `tau simulate merge`).
    Simulate(simulate::SimulateArgs),
    /// Small-study effects and publication bias: Egger, Begg, trim-and-fill, fail-safe N, PET-PEESE.
    Bias(bias::BiasArgs),
    /// Bayesian random-effects meta-analysis (bayesmeta's model): posteriors of tau, mu and each study, Bayes factors, and with --average model averaging (metaBMA).
    Bayes(bayes::BayesArgs),
    /// Selection model for publication bias (metafor's selmodel), e.g. the 3PSM: --type step --steps 0.025.
    Selection(selection::SelectionArgs),
    /// Refit the model without each study in turn.
    LeaveOneOut(leave_one_out::LeaveOneOutArgs),
    /// Refit the model as studies are added one at a time (e.g. by year).
    Cumulative(cumulative::CumulativeArgs),
    /// Case-deletion diagnostics (studentised residuals, DFFITS, Cook's distance, hat values, DFBETAS) of the pooled model or, with --mods, a meta-regression.
    Influence(influence::InfluenceArgs),
    /// Draw a Baujat plot (contribution to heterogeneity against influence) as SVG.
    Baujat(baujat::BaujatArgs),
    /// The sampling covariance matrix of dependent effect sizes from the design (metafor's vcalc), as the CSV that --vcov reads.
    Vcalc(vcalc::VcalcArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell), e.g.
    /// tau completions bash > ~/.local/share/bash-completion/completions/tau.
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff), e.g. tau man > ~/.local/share/man/man1/tau.1.
    Man,
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Pool(args) => pool::run(&args),
        Command::Subgroup(args) => subgroup::run(&args),
        Command::Regress(args) => regress::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Bubble(args) => bubble::run(&args),
        Command::Forest(args) => forest::run(&args),
        Command::Funnel(args) => funnel::run(&args),
        Command::Schema(args) => output::emit(None, args.schema()),
        Command::Simulate(args) => simulate::run(&args),
        Command::Bias(args) => bias::run(&args),
        Command::Bayes(args) => bayes::run(&args),
        Command::Selection(args) => selection::run(&args),
        Command::LeaveOneOut(args) => leave_one_out::run(&args),
        Command::Cumulative(args) => cumulative::run(&args),
        Command::Influence(args) => influence::run(&args),
        Command::Baujat(args) => baujat::run(&args),
        Command::Vcalc(args) => vcalc::run(&args),
        Command::Completions(args) => completions::run(&args),
        Command::Man => man::run(),
    }
}
