//! The `tau` command line: parses flags, reads files, calls the library and
//! writes its reports. Nothing here computes statistics.

pub mod args;
pub mod error;
pub mod forest;
pub mod funnel;
pub mod output;
pub mod plot_output;
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
    /// Draw a forest plot (.svg, .png or .pdf).
    Forest(forest::ForestArgs),
    /// Draw a funnel plot (.svg, .png or .pdf).
    Funnel(funnel::FunnelArgs),
    /// Print the JSON Schema of the study-record format.
    Schema,
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Pool(args) => pool::run(&args),
        Command::Forest(args) => forest::run(&args),
        Command::Funnel(args) => funnel::run(&args),
        Command::Schema => output::emit(None, schema::SCHEMA),
    }
}
