//! `tau completions SHELL`: the shell's completion script for tau, from the
//! same command definition the parser uses (clap_complete), on standard output.

use clap::{Args, CommandFactory};

use super::CliError;

// `tau completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Prints the completion script.
pub fn run(args: &CompletionsArgs) -> Result<(), CliError> {
    let mut command = super::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "tau", &mut script);
    super::output::emit(None, &String::from_utf8_lossy(&script))
}
