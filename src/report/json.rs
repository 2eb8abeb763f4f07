//! JSON views: the result structs serialised as they are (their field names
//! are the contract); non-finite numbers become `null`.

use std::io::Write;

use serde::{Serialize, Serializer};

use crate::dataset::Dataset;
use crate::pool::PoolResult;

/// Writes any result as pretty JSON with a trailing newline, streaming it to `out`.
///
/// The serializer writes a token at a time; a local buffer of a concrete
/// type lets those writes inline (through `&mut dyn Write` each one is a
/// call), which halves the time of a 10⁶-study report.
pub fn write_json<T: Serialize>(out: impl std::io::Write, result: &T) -> std::io::Result<()> {
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut buffered, result).map_err(|e| match e.io_error_kind() {
        Some(kind) => std::io::Error::new(kind, e),
        None => std::io::Error::other(e),
    })?;
    buffered.write_all(b"\n")?;
    buffered.flush()
}

/// The JSON of a pooled analysis: the fields of [`PoolResult`], then the
/// `studies` array (`study, yi, vi, sei, ci_lower, ci_upper, weight`), whose
/// rows are made one at a time while they are written.
#[derive(Serialize)]
pub struct PoolJson<'a> {
    #[serde(flatten)]
    result: &'a PoolResult,
    studies: StudyRows<'a>,
}

impl<'a> PoolJson<'a> {
    /// The JSON view of `result`, the pooled result of `dataset`.
    pub fn new(result: &'a PoolResult, dataset: &'a Dataset) -> PoolJson<'a> {
        PoolJson {
            result,
            studies: StudyRows { result, dataset },
        }
    }
}

struct StudyRows<'a> {
    result: &'a PoolResult,
    dataset: &'a Dataset,
}

impl Serialize for StudyRows<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.result.rows(self.dataset))
    }
}
