//! `tau schema`: the JSON Schema of study files.

/// The schema, kept beside the record types it describes.
pub const SCHEMA: &str = tau_core::input::SCHEMA;
