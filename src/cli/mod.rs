//! The `tau` command line: parses flags, reads files, calls the library and
//! writes its reports. Nothing here computes statistics.

pub mod args;
pub mod bubble;
pub mod error;
pub mod output;
pub mod pool;
pub mod regress;
pub mod schema;
pub mod subgroup;

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
    /// Pool each level of a moderator separately and test the differences.
    Subgroup(subgroup::SubgroupArgs),
    /// Meta-regression on one or more moderators.
    Regress(regress::RegressArgs),
    /// Bubble plot of a meta-regression on one continuous moderator (SVG).
    Bubble(bubble::BubbleArgs),
    /// Print the JSON Schema of the study-record format.
    Schema,
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Pool(args) => pool::run(&args),
        Command::Subgroup(args) => subgroup::run(&args),
        Command::Regress(args) => regress::run(&args),
        Command::Bubble(args) => bubble::run(&args),
        Command::Schema => output::emit(None, schema::SCHEMA),
    }
}
