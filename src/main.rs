//! The `tau` binary: see `tau --help`.

#![deny(clippy::unwrap_used, clippy::expect_used)]

mod cli;

use std::io::Write;

use clap::{CommandFactory, FromArgMatches};
use tau_core::report::Format;

fn main() {
    // Warnings and reports name settings by their flags, as errors do.
    tau_core::fields::set_names(cli::fields::name);
    let parsed = cli::Cli::command().try_get_matches().and_then(|matches| {
        // Only a JSON report carries the provenance (the input's SHA-256
        // and every label used): the other formats skip computing it.
        let json = matches.subcommand().is_some_and(|(_, m)| {
            matches!(m.try_get_one::<Format>("format"), Ok(Some(Format::Json)))
        });
        cli::provenance::set_wanted(json);
        cli::Cli::from_arg_matches(&matches)
    });
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    if let Err(e) = cli::run(cli) {
        // A closed standard error must not turn into a panic (exit 101).
        let _ = writeln!(std::io::stderr().lock(), "error: {e}");
        std::process::exit(e.exit_code());
    }
}
