//! The `tau` command line: parses flags, reads files, calls the library and
//! writes its reports. Nothing here computes statistics.

pub mod args;
pub mod baujat;
pub mod bias;
pub mod cumulative;
pub mod error;
pub mod influence;
pub mod leave_one_out;
pub mod output;
pub mod pool;
pub mod schema;

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

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Pool the studies of a file with a common- or random-effects model.
    Pool(pool::PoolArgs),
    /// Print the JSON Schema of the study-record format.
    Schema,
    /// Small-study effects and publication bias: Egger, Begg, trim-and-fill, fail-safe N, PET-PEESE.
    Bias(bias::BiasArgs),
    /// Refit the model without each study in turn.
    LeaveOneOut(leave_one_out::LeaveOneOutArgs),
    /// Refit the model as studies are added one at a time (e.g. by year).
    Cumulative(cumulative::CumulativeArgs),
    /// Case-deletion diagnostics: studentised residuals, DFFITS, Cook's distance, hat values.
    Influence(influence::InfluenceArgs),
    /// Draw a Baujat plot (contribution to heterogeneity against influence) as SVG.
    Baujat(baujat::BaujatArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Pool(args) => pool::run(&args),
        Command::Schema => output::emit(None, schema::SCHEMA),
        Command::Bias(args) => bias::run(&args),
        Command::LeaveOneOut(args) => leave_one_out::run(&args),
        Command::Cumulative(args) => cumulative::run(&args),
        Command::Influence(args) => influence::run(&args),
        Command::Baujat(args) => baujat::run(&args),
    }
}
