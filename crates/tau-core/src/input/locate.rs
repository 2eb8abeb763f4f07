//! Finding where a record, or one of its fields, stands in the source text,
//! so that an error about a value can point at its line and column.
//!
//! The JSON scanner is iterative (no recursion), tolerates anything serde_json
//! has already accepted, and runs only when an error has to be located.

use super::Position;

/// Maps record indices (and field names) back to positions in the input.
#[derive(Debug, Clone)]
pub enum SourceMap<'a> {
    /// The JSON text the records were parsed from.
    Json(&'a str),
    /// For CSV: the line each record starts on, and the header row.
    Csv {
        /// 1-based line of each record.
        lines: Vec<usize>,
        /// Column headers, in order.
        headers: Vec<String>,
        /// Numeric cells that read as 0 although written as a non-zero
        /// number (e.g. 1e-400): (record index, header, the cell as written).
        out_of_range: Vec<(usize, String, String)>,
    },
    /// No source text (records built in code).
    None,
}

impl SourceMap<'_> {
    /// Position of record `index`, or of its `field` when given and present.
    pub fn locate(&self, index: usize, field: Option<&str>) -> Option<Position> {
        match self {
            SourceMap::Json(text) => {
                let bytes = text.as_bytes();
                let start = *record_offsets(bytes).get(index)?;
                let at = field
                    .and_then(|f| field_offset(bytes, start, f))
                    .unwrap_or(start);
                Some(position_of(bytes, at))
            }
            SourceMap::Csv { lines, headers, .. } => {
                let line = *lines.get(index)?;
                // A field without a column (a missing one) points at the row: column 0.
                let column = match field {
                    Some(f) => headers.iter().position(|h| h == f).map_or(0, |c| c + 1),
                    None => 1,
                };
                Some(Position { line, column })
            }
            SourceMap::None => None,
        }
    }
}

impl SourceMap<'_> {
    /// For JSON: the study label of record `index`, read from the text even
    /// when the file as a whole did not parse (escapes are left as written).
    pub fn json_label(&self, index: usize) -> Option<String> {
        let SourceMap::Json(text) = self else {
            return None;
        };
        let bytes = text.as_bytes();
        let record = *record_offsets(bytes).get(index)?;
        if bytes.get(record) != Some(&b'{') {
            return None;
        }
        let (_, value) = find_member(bytes, record, b"study")?;
        if bytes.get(value) != Some(&b'"') {
            return None;
        }
        let end = skip_string(bytes, value).min(bytes.len());
        let inner = bytes.get(value + 1..end.saturating_sub(1).max(value + 1))?;
        Some(String::from_utf8_lossy(inner).into_owned())
    }

    /// The value of `field` in record `index` as written, when it is a
    /// number beyond double precision: non-zero but read as 0 (below about
    /// 1e-308, e.g. 1e-400), or finite but read as infinite (above about
    /// 1.8e308, e.g. 1e999).
    pub fn out_of_range(&self, index: usize, field: &str) -> Option<&str> {
        match self {
            SourceMap::Json(_) => self
                .json_raw_value(index, field)
                .filter(|raw| out_of_range(raw, raw.parse().unwrap_or(f64::NAN))),
            SourceMap::Csv { out_of_range, .. } => out_of_range
                .iter()
                .find(|(i, f, _)| *i == index && f == field)
                .map(|(_, _, raw)| raw.as_str()),
            SourceMap::None => None,
        }
    }

    /// For JSON: the text of the value of `field` in record `index`, as written.
    fn json_raw_value(&self, index: usize, field: &str) -> Option<&str> {
        let SourceMap::Json(text) = self else {
            return None;
        };
        let bytes = text.as_bytes();
        let record = *record_offsets(bytes).get(index)?;
        let (_, value) = find_member(bytes, record, field.as_bytes())?;
        text.get(value..skip_value(bytes, value))
    }

    /// For JSON: the byte range of the top-level object's value for `key`.
    pub fn json_top_level_value(&self, key: &str) -> Option<(usize, usize)> {
        let SourceMap::Json(text) = self else {
            return None;
        };
        let bytes = text.as_bytes();
        let top = skip_ws(bytes, 0);
        if bytes.get(top) != Some(&b'{') {
            return None;
        }
        let (_, value) = find_member(bytes, top, key.as_bytes())?;
        Some((value, skip_value(bytes, value)))
    }
}

/// Whether a number written as `raw` is not 0 but was read as `value` = 0
/// (it lies below the smallest double, about 1e-308).
pub(crate) fn underflows(raw: &str, value: f64) -> bool {
    let mantissa = raw.split(['e', 'E']).next().unwrap_or_default();
    value == 0.0 && mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b))
}

/// Whether a number written as `raw` was read as `value` outside its range:
/// 0 for a non-zero number ([`underflows`]), or infinite for a number
/// written without "inf" (`1e999` overflows; `inf` is meant).
pub(crate) fn out_of_range(raw: &str, value: f64) -> bool {
    underflows(raw, value) || (value.is_infinite() && !raw.to_ascii_lowercase().contains("inf"))
}

/// Line and column (1-based; the column counts bytes, as serde_json does) of a byte offset.
fn position_of(bytes: &[u8], offset: usize) -> Position {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    Position {
        line,
        column: offset - line_start + 1,
    }
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Index just past the string that opens at `i`.
fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// Index just past the value that starts at `i`.
fn skip_value(bytes: &[u8], mut i: usize) -> usize {
    match bytes.get(i) {
        Some(b'"') => skip_string(bytes, i),
        Some(b'[') | Some(b'{') => {
            let mut depth = 0usize;
            while i < bytes.len() {
                match bytes[i] {
                    b'"' => {
                        i = skip_string(bytes, i);
                        continue;
                    }
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            i
        }
        _ => {
            while i < bytes.len()
                && !matches!(bytes[i], b',' | b']' | b'}')
                && !bytes[i].is_ascii_whitespace()
            {
                i += 1;
            }
            i
        }
    }
}

/// Start offsets of the elements of the array that opens at `i`.
fn array_elements(bytes: &[u8], mut i: usize) -> Vec<usize> {
    let mut out = Vec::new();
    i += 1;
    loop {
        i = skip_ws(bytes, i);
        match bytes.get(i) {
            None | Some(b']') => return out,
            Some(b',') => i += 1,
            Some(_) => {
                out.push(i);
                // At least one byte: a stray `}` is no value, but must not stall the scan.
                i = skip_value(bytes, i).max(i + 1);
            }
        }
    }
}

/// (key offset, value offset) of the member `wanted` of the object that opens
/// at `i`; the scan stops there, so a key before a large array is found cheaply.
///
/// Like every scanner here it tolerates malformed text: each step advances by
/// at least one byte, so it always ends.
fn find_member(bytes: &[u8], mut i: usize, wanted: &[u8]) -> Option<(usize, usize)> {
    i += 1;
    loop {
        i = skip_ws(bytes, i);
        match bytes.get(i) {
            None | Some(b'}') => return None,
            Some(b',') => i += 1,
            Some(b'"') => {
                let key_start = i;
                let key_end = skip_string(bytes, i);
                let key = &bytes
                    [(key_start + 1).min(key_end)..key_end.saturating_sub(1).max(key_start + 1)];
                i = skip_ws(bytes, key_end);
                if bytes.get(i) == Some(&b':') {
                    i = skip_ws(bytes, i + 1);
                }
                if same_key(key, wanted) {
                    return Some((key_start, i));
                }
                i = skip_value(bytes, i);
            }
            Some(_) => i = skip_value(bytes, i).max(i + 1),
        }
    }
}

/// Whether the raw key text (between its quotes) names `wanted`, reading
/// escapes as JSON does: `"me\u0061sure"` is the key `measure`.
fn same_key(raw: &[u8], wanted: &[u8]) -> bool {
    if !raw.contains(&b'\\') {
        return raw == wanted;
    }
    let mut quoted = Vec::with_capacity(raw.len() + 2);
    quoted.push(b'"');
    quoted.extend_from_slice(raw);
    quoted.push(b'"');
    serde_json::from_slice::<String>(&quoted).is_ok_and(|key| key.as_bytes() == wanted)
}

/// Start offsets of the records: the elements of a top-level array, or of the
/// top-level object's `studies` array.
fn record_offsets(bytes: &[u8]) -> Vec<usize> {
    let top = skip_ws(bytes, 0);
    match bytes.get(top) {
        Some(b'[') => array_elements(bytes, top),
        Some(b'{') => find_member(bytes, top, b"studies")
            .filter(|(_, value)| bytes.get(*value) == Some(&b'['))
            .map_or_else(Vec::new, |(_, value)| array_elements(bytes, value)),
        _ => Vec::new(),
    }
}

/// Offset of the key `field` in the record object at `record`; `moderators.x`
/// looks one level down.
fn field_offset(bytes: &[u8], record: usize, field: &str) -> Option<usize> {
    let (head, rest) = match field.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (field, None),
    };
    let (key_at, value_at) = find_member(bytes, record, head.as_bytes())?;
    match rest {
        Some(rest) => field_offset(bytes, value_at, rest).or(Some(key_at)),
        None => Some(key_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_records_and_fields_in_an_object_file() {
        let text = "{\"title\": \"x\",\n \"studies\": [\n  {\"study\": \"a\", \"yi\": 1},\n  {\"study\": \"b [\\\"]\", \"vi\": 2}\n ]}";
        let map = SourceMap::Json(text);
        assert_eq!(map.locate(0, None), Some(Position { line: 3, column: 3 }));
        assert_eq!(
            map.locate(1, Some("vi")),
            Some(Position {
                line: 4,
                column: 23
            })
        );
        assert_eq!(map.locate(2, None), None);
        assert_eq!(map.json_label(1).as_deref(), Some("b [\\\"]"));
    }

    /// Found by fuzzing (json_reader): malformed text once stalled the scan.
    #[test]
    fn malformed_text_does_not_stall() {
        for text in [
            "[[]",
            "[}",
            "{\"studies\": [{]}",
            "[{\"study\": }",
            "[{\"a\":1 ]",
        ] {
            let map = SourceMap::Json(text);
            for index in 0..3 {
                let _ = map.locate(index, Some("vi"));
                let _ = map.json_label(index);
            }
        }
    }

    #[test]
    fn finds_records_in_a_bare_array() {
        let text = "[{\"study\": \"a\"},\n{\"study\": \"b\", \"moderators\": {\"g\": 1}}]";
        let map = SourceMap::Json(text);
        assert_eq!(map.locate(1, None), Some(Position { line: 2, column: 1 }));
        assert_eq!(
            map.locate(1, Some("moderators.g")),
            Some(Position {
                line: 2,
                column: 31
            })
        );
    }
}
