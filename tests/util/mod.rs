//! Shared helpers of the test suite: the `tau` binary, fixture files and the
//! default tolerances ([`prec`]).

pub mod plots;
pub mod prec;
pub mod temp;

use assert_cmd::Command;
use serde::de::DeserializeOwned;

/// The `tau` binary, run from the repository root (so `studies/…` and
/// `tests/fixtures/…` resolve).
pub fn tau() -> Command {
    let mut command = Command::cargo_bin("tau").expect("the tau binary is built for tests");
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

/// A JSON fixture under `tests/fixtures/`, as `T` (often a `serde_json::Value`).
pub fn fixture<T: DeserializeOwned>(name: &str) -> T {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
