//! JSON views: the result structs serialised as they are (their field names
//! are the contract); non-finite numbers become `null`. Every serialisable
//! result is its own JSON view; a pooled result adds its studies
//! ([`PoolJson`]).

use std::io::{self, Write};

use serde::{Serialize, Serializer};
use serde_json::ser::Formatter;

use crate::data::dataset::Dataset;
use crate::pool::PoolResult;
use crate::report::PoolReport;

/// The JSON view of a result.
pub trait JsonView {
    /// Writes the result as pretty JSON with a trailing newline.
    fn write_json(&self, out: &mut dyn Write) -> io::Result<()>;
}

impl<T: Serialize + ?Sized> JsonView for T {
    fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        write_json(out, self)
    }
}

impl Serialize for PoolReport<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        PoolJson::new(self.result, self.data).serialize(serializer)
    }
}

impl<M: Serialize + ?Sized> Serialize for super::RobustReport<'_, M> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let model = serde_json::to_value(self.model).map_err(serde::ser::Error::custom)?;
        super::robust::json(model, self.robust).serialize(serializer)
    }
}

/// Writes any result as pretty JSON with a trailing newline, streaming it to `out`.
///
/// The serializer writes a token at a time; a local buffer of a concrete
/// type lets those writes inline (through `&mut dyn Write` each one is a
/// call), which halves the time of a 10⁶-study report.
pub fn write_json<T: Serialize + ?Sized>(out: impl Write, result: &T) -> io::Result<()> {
    let mut buffered = io::BufWriter::with_capacity(1 << 16, out);
    let mut serializer = serde_json::Serializer::with_formatter(&mut buffered, Pretty::default());
    result
        .serialize(&mut serializer)
        .map_err(|e| match e.io_error_kind() {
            Some(kind) => io::Error::new(kind, e),
            None => io::Error::other(e),
        })?;
    buffered.write_all(b"\n")?;
    buffered.flush()
}

/// serde_json's `PrettyFormatter` layout (two-space indent, `"key": value`),
/// byte for byte, with each line break and its indentation written at once:
/// the stock formatter writes every two spaces of indentation separately,
/// and at 10⁶ studies those small writes took a sixth of the run.
#[derive(Debug, Default)]
struct Pretty {
    level: usize,
    has_value: bool,
}

/// A comma, a line break and the deepest indentation written in one piece.
const BREAK: &[u8; 66] = b",\n                                                                ";

/// Writes a line break (after a comma when `comma`) and indentation for `level`.
fn line_break<W: ?Sized + Write>(writer: &mut W, comma: bool, level: usize) -> io::Result<()> {
    let start = usize::from(!comma);
    let end = 2 + 2 * level;
    if end <= BREAK.len() {
        return writer.write_all(&BREAK[start..end]);
    }
    writer.write_all(&BREAK[start..2])?;
    for _ in 0..level {
        writer.write_all(b"  ")?;
    }
    Ok(())
}

impl Pretty {
    fn open<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            line_break(writer, false, self.level)?;
        }
        writer.write_all(bracket)
    }
}

impl Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        line_break(writer, !first, self.level)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        line_break(writer, !first, self.level)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(value: &serde_json::Value) -> String {
        let mut out = Vec::new();
        write_json(&mut out, value).expect("writes to memory");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn layout_is_serde_jsons_pretty_layout() {
        let deep = (0..40).fold(
            serde_json::json!([1, {}, []]),
            |inner, i| serde_json::json!({ "level": i, "inner": inner, "empty": {}, "list": [] }),
        );
        let values = [
            serde_json::json!(null),
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!({"a": [1, 2.5, -0.0, 1e-7, 1e300], "b": {"c": "quote \" and \\ and \n é"}, "d": [[], {}, [[1]]]}),
            deep,
        ];
        for value in &values {
            let expected = serde_json::to_string_pretty(value).expect("serialises") + "\n";
            assert_eq!(ours(value), expected);
        }
    }
}
