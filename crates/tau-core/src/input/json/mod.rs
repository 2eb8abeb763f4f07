//! Reading study files in JSON: an object `{"title", "measure", "studies": [...]}`
//! or a bare array of records.

mod stream;

use serde::de::DeserializeSeed;

use super::locate::SourceMap;
use super::{Position, ReadError, Record, StudyFile};

/// The message for a `//` or `/* */` comment, which JSON does not allow.
const COMMENT: &str =
    "a comment: JSON has no comments; remove it, or move the note into \"notes\" or a moderator";

/// The file-level fields of a study file (everything but the records).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    /// A title for reports and plots.
    pub title: Option<String>,
    /// The measure raw data are turned into.
    pub measure: Option<String>,
    /// Where the data come from.
    pub source: Option<String>,
    /// Free-text notes.
    pub notes: Option<String>,
}

/// Parses a JSON study file. Errors carry the line and column, and the
/// record (index and study label) and field of the offending value.
pub fn parse_json(text: &str) -> Result<StudyFile, ReadError> {
    let mut studies = Vec::new();
    let header = stream_json(text, |record| studies.push(std::mem::take(record)))?;
    if studies.is_empty() {
        return Err(ReadError::Empty);
    }
    Ok(StudyFile {
        title: header.title,
        measure: header.measure,
        source: header.source,
        notes: header.notes,
        studies,
    })
}

/// Parses a JSON study file, handing each record to `sink` as soon as it is
/// read, so that the records never need to be held all at once. The sink may
/// take what it wants from the record (`std::mem::take`); the next record
/// overwrites it.
///
/// The fast path parses without tracking where it is; only when that fails is
/// the text parsed again with serde_path_to_error, to name the record and
/// field in the message. (Records handed to `sink` before a failure are then
/// of no use: the caller discards them with the error.)
pub fn stream_json(text: &str, mut sink: impl FnMut(&mut Record)) -> Result<Header, ReadError> {
    if let Some(message) = super::binary_content(text.as_bytes()) {
        return Err(ReadError::Json {
            position: Position { line: 1, column: 1 },
            path: String::new(),
            message: message.into(),
        });
    }
    let first = text.bytes().position(|b| !b.is_ascii_whitespace());
    match first.map(|i| text.as_bytes()[i]) {
        Some(b'[') | Some(b'{') => {}
        None => {
            return Err(ReadError::Json {
                position: Position { line: 1, column: 1 },
                path: String::new(),
                message: "the file is empty; a study file is a JSON object with a \"studies\" array (see `tau schema`)".into(),
            });
        }
        Some(_) => {
            let offset = first.unwrap_or(text.len());
            let line = text[..offset].matches('\n').count() + 1;
            let message = if text[offset..].starts_with("//") || text[offset..].starts_with("/*") {
                COMMENT
            } else {
                "expected a JSON object with a \"studies\" array, or an array of study records (see `tau schema`)"
            };
            return Err(ReadError::Json {
                position: Position { line, column: 1 },
                path: String::new(),
                message: message.into(),
            });
        }
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let header = match (stream::FileSeed { sink: &mut sink })
        .deserialize(&mut deserializer)
        .and_then(|header| deserializer.end().map(|()| header))
    {
        Ok(header) => header,
        Err(fast) => return Err(located_error(text, &fast)),
    };
    Ok(header)
}

/// The file's top-level `"measure"`, read ahead of the records (it may stand
/// after them), or `None` when there is none or it is not a string.
pub fn top_level_measure(text: &str) -> Option<String> {
    let (start, end) = SourceMap::Json(text).json_top_level_value("measure")?;
    serde_json::from_str(text.get(start..end)?).ok()
}

/// Parses again, tracking the path, to say where the fast parse failed.
fn located_error(text: &str, fast: &serde_json::Error) -> ReadError {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let mut track = serde_path_to_error::Track::new();
    let tracked = serde_path_to_error::Deserializer::new(&mut deserializer, &mut track);
    let result = (stream::FileSeed {
        sink: &mut |_: &mut Record| {},
    })
    .deserialize(tracked);
    match result {
        Err(error) if comment_at(text, error.line(), error.column()) => ReadError::Json {
            position: Position {
                line: error.line(),
                column: error.column(),
            },
            path: String::new(),
            message: COMMENT.into(),
        },
        Err(error) => json_error(&error, describe_path(&track.path().to_string(), text)),
        Ok(_) => match deserializer.end() {
            Err(error) => json_error(&error, String::new()),
            Ok(()) => json_error(fast, String::new()),
        },
    }
}

/// Whether `//` or `/*` stands at 1-based `line` and byte `column` of `text`.
fn comment_at(text: &str, line: usize, column: usize) -> bool {
    let Some(row) = text.split('\n').nth(line.saturating_sub(1)) else {
        return false;
    };
    let at = row
        .as_bytes()
        .get(column.saturating_sub(1)..)
        .unwrap_or_default();
    at.starts_with(b"//") || at.starts_with(b"/*")
}

/// serde's path to the offending value, in the words of the other messages:
/// `studies[2].vi` becomes `study 'Lee 2012' (record 3), field vi: `.
fn describe_path(path: &str, text: &str) -> String {
    // serde_path_to_error writes `?` for a key it could not read (single quotes).
    if path == "." || path.is_empty() || path == "?" {
        return String::new();
    }
    let Some((index, field)) = record_path(path) else {
        return format!("{path}: ");
    };
    let record = match SourceMap::Json(text).json_label(index) {
        Some(label) => format!("study '{label}' (record {})", index + 1),
        None => format!("record {}", index + 1),
    };
    match field {
        Some(field) => format!("{record}, field {field}: "),
        None => format!("{record}: "),
    }
}

/// `studies[3].sd1` or `[3].sd1` → (3, Some("sd1")); `[3].?` → (3, None).
fn record_path(path: &str) -> Option<(usize, Option<&str>)> {
    let rest = path.strip_prefix("studies").unwrap_or(path);
    let (index, rest) = rest.strip_prefix('[')?.split_once(']')?;
    let field = rest
        .strip_prefix('.')
        .filter(|f| !f.is_empty() && !f.starts_with('?'));
    Some((index.parse().ok()?, field))
}

fn json_error(error: &serde_json::Error, path: String) -> ReadError {
    let full = error.to_string();
    // serde_json appends " at line L column C"; the position is reported separately.
    let message = match full.rfind(" at line ") {
        Some(cut) => full[..cut].to_owned(),
        None => full,
    };
    let message = bounded(message);
    ReadError::Json {
        position: Position {
            line: error.line(),
            column: error.column(),
        },
        path,
        message: with_hint(message.replace("expected f64", "expected a number")),
    }
}

/// serde's message, with the middle of a very long one (a string value of
/// megabytes quoted whole) left out.
fn bounded(message: String) -> String {
    const KEEP: usize = 100;
    let chars = message.chars().count();
    if chars <= 3 * KEEP {
        return message;
    }
    let head: String = message.chars().take(KEEP).collect();
    let tail: String = message.chars().skip(chars - KEEP).collect();
    format!(
        "{head}... ({} characters left out) ...{tail}",
        chars - 2 * KEEP
    )
}

/// serde's "invalid type: X, expected Y" as "expected Y, found X", the order
/// every other message uses.
fn expected_first(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some((found, expected)) = rest.rsplit_once(", expected ")
        {
            return format!("expected {expected}, found {found}");
        }
    }
    message.to_owned()
}

/// Adds a remedy to serde's message where the cause is a common slip.
fn with_hint(message: String) -> String {
    let starts = |prefix: &str| message.starts_with(prefix);
    let hint = if starts("unknown field") {
        return with_suggestion(message);
    } else if starts("invalid type: string") && message.ends_with("expected a number") {
        "; write numbers without quotes"
    } else if starts("invalid type: null") {
        "; this field needs a value, not null"
    } else if (starts("invalid type: integer") || starts("invalid type: floating point"))
        && message.ends_with("expected a string")
    {
        "; put the label in double quotes"
    } else if starts("invalid type: map, expected a number, a string") {
        "; a moderator holds one value, not an object"
    } else if starts("invalid type: sequence, expected a number, a string") {
        "; a moderator holds one value, not a list"
    } else if starts("recursion limit exceeded") {
        "; records are flat objects, nesting this deep is not a study file"
    } else if starts("missing field `study`") {
        "; every record needs a \"study\" label"
    } else if starts("missing field `studies`") {
        "; put the records in a \"studies\" array"
    } else if starts("duplicate moderator") {
        "; give each moderator once per record"
    } else if starts("duplicate field") {
        "; give each field once per record"
    } else if starts("duplicate top-level field") {
        "; give each top-level field once"
    } else if starts("EOF while parsing") {
        "; the file ends early: check for a missing ] or }"
    } else if starts("trailing comma") {
        "; remove the comma before the closing bracket"
    } else if starts("trailing characters") {
        "; the file holds more than one JSON value: remove what follows the end, or check for an extra ] or }"
    } else if starts("key must be a string") {
        "; put keys in double quotes (JSON does not allow single quotes)"
    } else if starts("expected `,` or") {
        "; check for a missing comma between values"
    } else if starts("expected value") {
        "; check for a missing value, a stray comma, single quotes, or NaN (write numbers, or leave the field out)"
    } else if starts("number out of range") {
        "; numbers must lie within about ±1e308"
    } else if starts("control character") {
        "; write line breaks and tabs inside strings as \\n and \\t"
    } else {
        ""
    };
    expected_first(&message) + hint
}

/// For an unknown field, suggests the known one it most likely misspells.
fn with_suggestion(message: String) -> String {
    let unknown = message.split('`').nth(1).unwrap_or_default().to_owned();
    let known: Vec<&str> = message.split('`').skip(3).step_by(2).collect();
    let hint = if let Some(k) = known.iter().find(|k| k.eq_ignore_ascii_case(&unknown)) {
        format!("; did you mean `{k}`? (names are case-sensitive)")
    } else if let Some(k) = known
        .iter()
        .find(|k| unknown.len() >= 3 && edit_distance(k, &unknown) <= 1)
    {
        format!("; did you mean `{k}`?")
    } else {
        "; check the spelling, or put study characteristics under \"moderators\"".into()
    };
    message + &hint
}

/// Levenshtein distance, for spelling suggestions on short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_object_and_array_forms() {
        let object =
            parse_json(r#"{"measure": "GEN", "studies": [{"study": "a", "yi": 0.1, "vi": 0.01}]}"#)
                .expect("valid object");
        assert_eq!(object.measure.as_deref(), Some("GEN"));
        let array = parse_json(r#"[{"study": "a", "yi": 0.1, "sei": 0.1, "moderators": {"g": "x", "n": 3, "b": true, "m": null}}]"#)
            .expect("valid array");
        assert_eq!(array.studies.len(), 1);
    }

    #[test]
    fn reports_line_column_and_path() {
        let err = parse_json("{\"studies\": [\n {\"study\": \"a\", \"vi\": \"x\"}]}")
            .expect_err("bad type");
        match err {
            ReadError::Json {
                position,
                path,
                message,
            } => {
                assert_eq!(position.line, 2);
                assert_eq!(path, "study 'a' (record 1), field vi: ");
                assert!(message.contains("without quotes"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn empty_list_is_an_error() {
        assert_eq!(parse_json("[]").expect_err("empty"), ReadError::Empty);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!(
            "{{\"studies\": [{{\"study\": \"a\", \"moderators\": {{\"x\": {}}}}}]}}",
            "[".repeat(100_000)
        );
        assert!(parse_json(&text).is_err());
    }
}
