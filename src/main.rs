//! The `tau` binary: see `tau --help`.

#![deny(clippy::unwrap_used, clippy::expect_used)]

mod cli;

use std::io::Write;

use clap::Parser;

fn main() {
    // Warnings and reports name settings by their flags, as errors do.
    tau_core::fields::set_names(cli::fields::name);
    let parsed = cli::Cli::try_parse();
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
