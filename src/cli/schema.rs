//! `tau schema`: the JSON Schema of study files.

/// The schema, kept beside the record types it describes.
pub const SCHEMA: &str = include_str!("../input/record.schema.json");
