//! `tau man`: the roff man page of tau, from the same command definition the
//! parser uses (clap_mangen), on standard output. Install it with
//! `tau man > /usr/local/share/man/man1/tau.1`.

use clap::CommandFactory;

use super::CliError;

/// Prints the man page.
pub fn run() -> Result<(), CliError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(super::Cli::command())
        .render(&mut page)
        .map_err(|e| CliError::Input(format!("cannot render the man page: {e}")))?;
    super::output::emit(None, &String::from_utf8_lossy(&page))
}
