//! JSON views: the result structs serialised as they are (their field names
//! are the contract); non-finite numbers become `null`.

use serde::Serialize;

/// Serialises any result as pretty JSON with a trailing newline.
pub fn to_json<T: Serialize>(result: &T) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(result).map(|s| s + "\n")
}

/// Writes any result as pretty JSON with a trailing newline, streaming it to `out`.
pub fn write_json<T: Serialize>(mut out: impl std::io::Write, result: &T) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut out, result).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}
