//! JSON views: the result structs serialised as they are (their field names
//! are the contract); non-finite numbers become `null`.

use serde::Serialize;

/// Writes any result as pretty JSON with a trailing newline, streaming it to `out`.
pub fn write_json<T: Serialize>(mut out: impl std::io::Write, result: &T) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut out, result).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}
