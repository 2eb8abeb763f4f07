//! Streaming deserialisation of a study file: each record goes to a sink as
//! soon as it is parsed, instead of into a `Vec<Record>`.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::Header;
use crate::input::Record;
use crate::input::deserialize::{FileState, RecordSeed};

const FIELDS: &[&str] = &["title", "measure", "source", "notes", "studies"];

/// The whole file: an object with a `studies` array, or a bare array of records.
pub(super) struct FileSeed<'a, F> {
    pub(super) sink: &'a mut F,
}

impl<'de, F: FnMut(&mut Record)> DeserializeSeed<'de> for FileSeed<'_, F> {
    type Value = Header;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Header, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, F: FnMut(&mut Record)> Visitor<'de> for FileSeed<'_, F> {
    type Value = Header;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with a \"studies\" array, or an array of study records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Header, A::Error> {
        records(seq, self.sink)?;
        Ok(Header::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Header, A::Error> {
        let mut header = Header::default();
        let mut seen_studies = false;
        // Which header fields were given (a `null` leaves its slot empty but counts).
        let mut seen = [false; 4];
        while let Some(key) = map.next_key::<String>()? {
            let index = field_index(&key);
            let slot = match key.as_str() {
                "title" => &mut header.title,
                "measure" => &mut header.measure,
                "source" => &mut header.source,
                "notes" => &mut header.notes,
                "studies" => {
                    if seen_studies {
                        return Err(de::Error::custom("duplicate top-level field `studies`"));
                    }
                    seen_studies = true;
                    map.next_value_seed(StudiesSeed {
                        sink: &mut *self.sink,
                    })?;
                    continue;
                }
                other => return Err(de::Error::unknown_field(other, FIELDS)),
            };
            if seen[index] {
                return Err(de::Error::custom(format_args!(
                    "duplicate top-level field `{}`",
                    FIELDS[index]
                )));
            }
            seen[index] = true;
            *slot = map.next_value()?;
        }
        if !seen_studies {
            return Err(de::Error::missing_field("studies"));
        }
        Ok(header)
    }
}

fn field_index(key: &str) -> usize {
    FIELDS.iter().position(|f| *f == key).unwrap_or(0)
}

/// The `studies` array.
struct StudiesSeed<'a, F> {
    sink: &'a mut F,
}

impl<'de, F: FnMut(&mut Record)> DeserializeSeed<'de> for StudiesSeed<'_, F> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(&mut Record)> Visitor<'de> for StudiesSeed<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of study records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        records(seq, self.sink)
    }
}

fn records<'de, A: SeqAccess<'de>>(
    mut seq: A,
    sink: &mut impl FnMut(&mut Record),
) -> Result<(), A::Error> {
    let mut state = FileState::default();
    while seq
        .next_element_seed(RecordSeed { state: &mut state })?
        .is_some()
    {
        sink(&mut state.record);
    }
    Ok(())
}
