//! Reading one record with serde, field by field, into a [`Record`], with
//! moderator names and categories shared through an [`Interner`].
//!
//! The messages are serde's own (`unknown field`, `duplicate field`,
//! `missing field`, `invalid type`), as a derived implementation would give.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};

use super::moderators::{Interner, Moderators, Name};
use super::{Moderator, NUMERIC_FIELDS, Record};

/// The fields of a record, in the order error messages list them.
const RECORD_FIELDS: [&str; 32] = [
    "study",
    "yi",
    "vi",
    "sei",
    "estimate",
    "ci_lower",
    "ci_upper",
    "ci_level",
    "n1",
    "m1",
    "sd1",
    "n2",
    "m2",
    "sd2",
    "events1",
    "events2",
    "r",
    "n",
    "events",
    "t",
    "m_pre",
    "m_post",
    "sd_pre",
    "sd_post",
    "m",
    "sd",
    "weight",
    "time1",
    "time2",
    "time",
    "reverse",
    "moderators",
];

/// What the records of one file share while they are read: one copy of each
/// moderator string, and a buffer for a record's moderators.
#[derive(Debug, Default)]
pub struct FileState {
    interner: Interner,
    entries: Vec<(Name, Moderator)>,
    /// The last record's moderators, shared with the next when equal.
    previous: Moderators,
    /// The record just read. It is filled in place, not returned: a record
    /// is 344 bytes, and moving it through serde's return values and the
    /// caller's sink costs more than parsing its three numbers.
    pub record: Record,
}

/// One record, which must be a JSON object: a derived struct deserialiser
/// would also take an array as positional fields. It is read into
/// [`FileState::record`].
pub struct RecordSeed<'a> {
    /// Shared with the other records of the file.
    pub state: &'a mut FileState,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a study record (a record must be a JSON object such as {\"study\": \"Ames 2001\", \"yi\": 0.1, \"vi\": 0.02}, not a list of values)",
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let state = self.state;
        state.record = Record::default();
        let mut study = None;
        let mut moderators = None;
        let mut reverse = None;
        // Which numeric fields were given (a `null` leaves its slot empty but counts).
        let mut seen = 0u64;
        while let Some(field) = map.next_key_seed(FieldSeed)? {
            match field {
                Field::Study => {
                    if study.is_some() {
                        return Err(de::Error::duplicate_field("study"));
                    }
                    study = Some(map.next_value::<String>()?);
                }
                Field::Moderators => {
                    if moderators.is_some() {
                        return Err(de::Error::duplicate_field("moderators"));
                    }
                    moderators = Some(map.next_value_seed(ModeratorsSeed { state: &mut *state })?);
                }
                Field::Reverse => {
                    if reverse.is_some() {
                        return Err(de::Error::duplicate_field("reverse"));
                    }
                    reverse = Some(map.next_value::<Option<bool>>()?.unwrap_or(false));
                }
                Field::Numeric(index) => {
                    let name = NUMERIC_FIELDS[index];
                    if seen & (1 << index) != 0 {
                        return Err(de::Error::duplicate_field(name));
                    }
                    seen |= 1 << index;
                    let value = map.next_value::<Option<f64>>()?;
                    // Every index into NUMERIC_FIELDS has a slot.
                    if let Some(slot) = state.record.numeric_slot_mut(index) {
                        *slot = value;
                    }
                }
            }
        }
        state.record.study = study.ok_or_else(|| de::Error::missing_field("study"))?;
        state.record.moderators = moderators.unwrap_or_default();
        state.record.reverse = reverse.unwrap_or(false);
        Ok(())
    }
}

/// A record's key.
enum Field {
    Study,
    Moderators,
    /// `reverse`: turn the effect round (see [`crate::data::reverse`]).
    Reverse,
    /// Index into [`NUMERIC_FIELDS`].
    Numeric(usize),
}

/// Reads a key without allocating, and rejects unknown ones.
struct FieldSeed;

impl<'de> DeserializeSeed<'de> for FieldSeed {
    type Value = Field;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Field, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl Visitor<'_> for FieldSeed {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field identifier")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Field, E> {
        match key {
            "study" => Ok(Field::Study),
            "moderators" => Ok(Field::Moderators),
            "reverse" => Ok(Field::Reverse),
            _ => match NUMERIC_FIELDS.iter().position(|name| *name == key) {
                Some(index) => Ok(Field::Numeric(index)),
                None => Err(de::Error::unknown_field(key, &RECORD_FIELDS)),
            },
        }
    }
}

/// A record's `moderators` object.
struct ModeratorsSeed<'a> {
    state: &'a mut FileState,
}

impl<'de> DeserializeSeed<'de> for ModeratorsSeed<'_> {
    type Value = Moderators;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Moderators, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ModeratorsSeed<'_> {
    type Value = Moderators;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Moderators, A::Error> {
        let state = self.state;
        state.entries.clear();
        // A repeated name is an error, as a repeated record field is. Few
        // moderators are checked by a scan, many by a set (hostile input).
        let mut names = std::collections::HashSet::new();
        while let Some(name) = map.next_key_seed(Shared {
            interner: &mut state.interner,
            place: 2 * state.entries.len(),
        })? {
            let repeated = if state.entries.len() < 32 {
                state.entries.iter().any(|(seen, _)| *seen == name)
            } else {
                if names.is_empty() {
                    names.extend(state.entries.iter().map(|(seen, _)| seen.clone()));
                }
                !names.insert(name.clone())
            };
            if repeated {
                return Err(de::Error::custom(format_args!(
                    "duplicate moderator `{name}`"
                )));
            }
            let value = map.next_value_seed(ModeratorSeed {
                interner: &mut state.interner,
                place: 2 * state.entries.len() + 1,
            })?;
            state.entries.push((name, value));
        }
        Ok(Moderators::take_from(
            &mut state.entries,
            &mut state.previous,
        ))
    }
}

/// A moderator name, interned.
struct Shared<'a> {
    interner: &'a mut Interner,
    /// Where in the record it stands (see [`Interner::intern_at`]).
    place: usize,
}

impl<'de> DeserializeSeed<'de> for Shared<'_> {
    type Value = Name;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for Shared<'_> {
    type Value = Name;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(self.interner.name_at(self.place, text))
    }
}

/// One moderator value; categories interned.
struct ModeratorSeed<'a> {
    interner: &'a mut Interner,
    /// Where in the record it stands (see [`Interner::intern_at`]).
    place: usize,
}

impl<'de> DeserializeSeed<'de> for ModeratorSeed<'_> {
    type Value = Moderator;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Moderator, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Visitor<'_> for ModeratorSeed<'_> {
    type Value = Moderator;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, a string, a boolean or null")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Moderator, E> {
        Ok(Moderator::Number(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Moderator, E> {
        Ok(Moderator::Number(v as f64))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Moderator, E> {
        Ok(Moderator::Number(v as f64))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Moderator, E> {
        Ok(Moderator::Text(self.interner.intern_at(self.place, v)))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Moderator, E> {
        Ok(Moderator::Bool(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Moderator, E> {
        Ok(Moderator::Missing)
    }

    fn visit_none<E: de::Error>(self) -> Result<Moderator, E> {
        Ok(Moderator::Missing)
    }
}

impl<'de> serde::Deserialize<'de> for Record {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Record, D::Error> {
        let mut state = FileState::default();
        RecordSeed { state: &mut state }.deserialize(deserializer)?;
        Ok(state.record)
    }
}

impl<'de> serde::Deserialize<'de> for Moderator {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Moderator, D::Error> {
        ModeratorSeed {
            interner: &mut Interner::default(),
            place: 0,
        }
        .deserialize(deserializer)
    }
}
