//! JSON views: the result structs serialised as they are (their field names
//! are the contract); non-finite numbers become `null`.

use serde::{Serialize, Serializer};

use crate::dataset::Dataset;
use crate::pool::PoolResult;

/// Writes any result as pretty JSON with a trailing newline, streaming it to `out`.
pub fn write_json<T: Serialize>(mut out: impl std::io::Write, result: &T) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut out, result).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
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
