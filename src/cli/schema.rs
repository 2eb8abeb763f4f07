//! `tau schema`: the JSON Schema of study files, or with `--output` of the
//! JSON reports.

use clap::Args;

// Flags of `tau schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The schema of the reports (`--format json` of every command) instead
    /// of that of study files.
    #[arg(long)]
    output: bool,
}

/// The schema of study files, kept beside the record types it describes.
pub const SCHEMA: &str = tau_core::input::SCHEMA;

/// The schema of the reports: one definition per kind of report, each key
/// described once (docs/src/output.schema.json, made by
/// tests/schema/make_output_schema.py and checked by tests/output_schema.rs).
pub const OUTPUT_SCHEMA: &str = include_str!("../../docs/src/output.schema.json");

impl SchemaArgs {
    /// The schema asked for.
    pub fn schema(&self) -> &'static str {
        if self.output { OUTPUT_SCHEMA } else { SCHEMA }
    }
}
