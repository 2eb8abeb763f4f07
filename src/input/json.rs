//! Reading study files in JSON: an object `{"title", "measure", "studies": [...]}`
//! or a bare array of records.

use serde::Deserialize;

use super::{Position, ReadError, Record, StudyFile};

/// Parses a JSON study file. Errors carry the line, column and path of the
/// offending value (via serde_path_to_error).
pub fn parse_json(text: &str) -> Result<StudyFile, ReadError> {
    let first = text.bytes().position(|b| !b.is_ascii_whitespace());
    let file = match first.map(|i| text.as_bytes()[i]) {
        Some(b'[') => StudyFile {
            studies: deserialize::<Vec<Record>>(text)?,
            ..StudyFile::default()
        },
        Some(b'{') => deserialize::<StudyFile>(text)?,
        _ => {
            let offset = first.unwrap_or(text.len());
            let line = text[..offset].matches('\n').count() + 1;
            return Err(ReadError::Json {
                position: Position { line, column: 1 },
                path: String::new(),
                message:
                    "expected a JSON object with a \"studies\" array, or an array of study records"
                        .into(),
            });
        }
    };
    if file.studies.is_empty() {
        return Err(ReadError::Empty);
    }
    Ok(file)
}

fn deserialize<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, ReadError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let path = if path == "." {
            String::new()
        } else {
            format!("{path}: ")
        };
        json_error(error.inner(), path)
    })?;
    deserializer
        .end()
        .map_err(|e| json_error(&e, String::new()))?;
    Ok(value)
}

fn json_error(error: &serde_json::Error, path: String) -> ReadError {
    let full = error.to_string();
    // serde_json appends " at line L column C"; the position is reported separately.
    let message = match full.rfind(" at line ") {
        Some(cut) => full[..cut].to_owned(),
        None => full,
    };
    ReadError::Json {
        position: Position {
            line: error.line(),
            column: error.column(),
        },
        path,
        message: with_hint(message),
    }
}

/// Adds a remedy to serde's message where the cause is a common slip.
fn with_hint(message: String) -> String {
    let hint = if message.starts_with("unknown field") {
        "; check the spelling, or put study characteristics under \"moderators\""
    } else if message.starts_with("invalid type: string") && message.contains("f64") {
        "; write numbers without quotes"
    } else if message.starts_with("invalid type: null") {
        "; leave the field out instead of writing null"
    } else if message.starts_with("recursion limit exceeded") {
        "; records are flat objects, nesting this deep is not a study file"
    } else if message.starts_with("missing field `study`") {
        "; every record needs a \"study\" label"
    } else if message.starts_with("missing field `studies`") {
        "; put the records in a \"studies\" array"
    } else {
        ""
    };
    message + hint
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
                assert_eq!(path, "studies[0].vi: ");
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
