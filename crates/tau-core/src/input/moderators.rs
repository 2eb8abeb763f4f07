//! A record's moderators, and the interner that lets records share their
//! names and categories.
//!
//! A file of 40 000 records with one moderator each names the same moderator
//! 40 000 times and repeats a handful of categories. As a map of owned strings
//! that is three allocations a record; here a record's moderators are one
//! shared, sorted list of names ([`Name`], a thin pointer) and values, the
//! reader hands out one copy per distinct string, and a record whose moderators equal
//! the previous record's shares that record's list (the studies of one
//! analysis in a batch file all carry the same ones).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use serde::Serialize;
use serde::ser::SerializeMap;

use super::Moderator;

/// Named study characteristics, sorted by name; a name appears at most once.
///
/// A shared list (16 bytes, nothing allocated when empty): a data set keeps
/// one per study, and a million studies without moderators should cost
/// nothing; studies with equal moderators may share one list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Moderators(Option<Arc<[Entry]>>);

/// A moderator's name and value.
type Entry = (Name, Moderator);

/// A moderator's name, one shared copy per distinct name: a thin pointer of
/// 8 bytes where an `Arc<str>` takes 16, for a list that holds one name per
/// value (1.6 MB at 10⁵ records with two moderators).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(Arc<Box<str>>);

impl std::ops::Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Name {
        Name(Arc::new(text.into()))
    }
}

impl From<String> for Name {
    fn from(text: String) -> Name {
        Name(Arc::new(text.into_boxed_str()))
    }
}

impl From<Arc<str>> for Name {
    fn from(text: Arc<str>) -> Name {
        Name::from(&*text)
    }
}

impl Moderators {
    /// No moderators.
    pub fn new() -> Moderators {
        Moderators::default()
    }

    fn entries(&self) -> &[Entry] {
        self.0.as_deref().unwrap_or(&[])
    }

    /// The value of moderator `name`.
    pub fn get(&self, name: &str) -> Option<&Moderator> {
        self.position(name).ok().map(|i| &self.entries()[i].1)
    }

    /// Whether moderator `name` is recorded (possibly as missing).
    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    /// Sets moderator `name`, replacing an earlier value (as a JSON object
    /// with a repeated key keeps the last).
    pub fn insert(&mut self, name: impl Into<Name>, value: Moderator) {
        let name = name.into();
        let mut entries = self.entries().to_vec();
        match self.position(&name) {
            Ok(i) => entries[i].1 = value,
            Err(i) => entries.insert(i, (name, value)),
        }
        self.0 = Some(entries.into());
    }

    /// The names, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries().iter().map(|(name, _)| &**name)
    }

    /// Names and values, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Moderator)> {
        self.entries().iter().map(|(name, value)| (&**name, value))
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.entries().binary_search_by(|(n, _)| (**n).cmp(name))
    }
}

impl std::ops::Index<&str> for Moderators {
    type Output = Moderator;

    /// The value of moderator `name`; panics when there is none (for tests
    /// and callers that have checked with [`Moderators::contains_key`]).
    fn index(&self, name: &str) -> &Moderator {
        match self.get(name) {
            Some(value) => value,
            None => panic!("no moderator named {name:?}"),
        }
    }
}

impl<N: Into<Name>> FromIterator<(N, Moderator)> for Moderators {
    /// Collects names and values; of a repeated name the last value is kept.
    fn from_iter<I: IntoIterator<Item = (N, Moderator)>>(iter: I) -> Moderators {
        let mut entries: Vec<Entry> = iter.into_iter().map(|(n, v)| (n.into(), v)).collect();
        Moderators::take_from(&mut entries, &mut Moderators::new())
    }
}

impl Moderators {
    /// Moves `entries` (names and values in any order) into a set and leaves
    /// the vector empty, so that a reader can reuse it for every record. When
    /// the set equals `previous` (the reader's last one), it shares its list;
    /// otherwise it becomes the new `previous`. Of a repeated name the last
    /// value is kept.
    pub fn take_from(entries: &mut Vec<Entry>, previous: &mut Moderators) -> Moderators {
        // Reversed, a stable sort puts the last of equal names first, and
        // `dedup_by` keeps the first of each run.
        entries.reverse();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.dedup_by(|a, b| a.0 == b.0);
        if entries.is_empty() {
            return Moderators::new();
        }
        if previous.entries() != entries.as_slice() {
            *previous = Moderators(Some(entries.drain(..).collect()));
        }
        entries.clear();
        previous.clone()
    }
}

impl Serialize for Moderators {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (name, value) in self.entries() {
            map.serialize_entry(&**name, value)?;
        }
        map.end()
    }
}

/// One shared copy of each distinct string: moderator names and categories.
///
/// Records of one file usually name their moderators in the same order, and
/// sorted files repeat a category many times over, so the string last seen
/// in the same place (the same position among a record's moderators) is
/// checked before the hash set.
#[derive(Debug, Default)]
pub struct Interner {
    all: HashSet<Arc<str>, BuildHasherDefault<Fnv>>,
    last: Places<Arc<str>>,
    names: HashSet<Name, BuildHasherDefault<Fnv>>,
    last_names: Places<Name>,
}

/// How many places [`Interner::intern_at`] remembers.
const PLACES: usize = 32;

/// FNV-1a (Fowler, Noll and Vo), a fast hash for short strings. The strings
/// come from the user's own file, so the protection of std's SipHash
/// against crafted collisions is not needed.
#[derive(Debug)]
pub struct Fnv(u64);

/// A hash map with [`Fnv`] for keys from the user's file.
pub type FnvMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<Fnv>>;

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl Interner {
    /// The shared copy of `text`, made on first sight.
    pub fn intern(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.all.get(text) {
            return Arc::clone(shared);
        }
        // Control characters in a name or category would reach the terminal
        // and SVG (subgroup labels); they are shown as U+FFFD.
        if text.contains(char::is_control) {
            return self.intern(&super::visible(text));
        }
        let shared: Arc<str> = Arc::from(text);
        self.all.insert(Arc::clone(&shared));
        shared
    }

    /// The shared [`Name`] of a moderator called `text`.
    pub fn name(&mut self, text: &str) -> Name {
        if let Some(shared) = self.names.get(text) {
            return shared.clone();
        }
        let name = Name::from(&*self.intern(text));
        self.names.insert(name.clone());
        name
    }

    /// [`Interner::name`], for a name met at `place` (see [`Interner::intern_at`]).
    pub fn name_at(&mut self, place: usize, text: &str) -> Name {
        if let Some(last) = self.last_names.get(place, text) {
            return last;
        }
        let name = self.name(text);
        self.last_names.put(place, name.clone());
        name
    }

    /// [`Interner::intern`], for a string met at `place` (any number that
    /// names where in a record it stands).
    pub fn intern_at(&mut self, place: usize, text: &str) -> Arc<str> {
        if let Some(last) = self.last.get(place, text) {
            return last;
        }
        let shared = self.intern(text);
        self.last.put(place, Arc::clone(&shared));
        shared
    }
}

/// The string last met at each of the first [`PLACES`] places.
#[derive(Debug)]
struct Places<T>(Vec<Option<T>>);

impl<T> Default for Places<T> {
    fn default() -> Self {
        Places(Vec::new())
    }
}

impl<T: Clone + std::ops::Deref<Target = str>> Places<T> {
    /// The string last met at `place`, when it is `text`.
    fn get(&self, place: usize, text: &str) -> Option<T> {
        self.0
            .get(place)?
            .as_ref()
            .filter(|last| ***last == *text)
            .cloned()
    }

    /// Remembers `value` at `place` (beyond [`PLACES`], nothing).
    fn put(&mut self, place: usize, value: T) {
        if place < PLACES {
            if self.0.len() < PLACES {
                self.0.resize(PLACES, None);
            }
            self.0[place] = Some(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_names_sorted_and_the_last_value() {
        let mut m = Moderators::new();
        m.insert("year", Moderator::Number(2001.0));
        m.insert("adapted", Moderator::Bool(true));
        m.insert("year", Moderator::Number(2002.0));
        assert_eq!(m.keys().collect::<Vec<_>>(), ["adapted", "year"]);
        assert_eq!(m.get("year"), Some(&Moderator::Number(2002.0)));
        assert_eq!(m["adapted"], Moderator::Bool(true));
        assert!(!m.contains_key("Year"));
        assert_eq!(
            serde_json::to_string(&m).ok().as_deref(),
            Some(r#"{"adapted":true,"year":2002.0}"#)
        );
    }

    #[test]
    fn collecting_keeps_the_last_of_a_repeated_name() {
        let m: Moderators = [
            ("b", Moderator::Number(1.0)),
            ("a", Moderator::Missing),
            ("b", Moderator::Number(2.0)),
        ]
        .into_iter()
        .collect();
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(m["b"], Moderator::Number(2.0));
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn equal_sets_in_a_row_share_one_list() {
        let mut previous = Moderators::new();
        let mut entries = vec![("g".into(), Moderator::Number(1.0))];
        let a = Moderators::take_from(&mut entries, &mut previous);
        entries.push(("g".into(), Moderator::Number(1.0)));
        let b = Moderators::take_from(&mut entries, &mut previous);
        assert!(entries.is_empty());
        assert_eq!(a, b);
        assert!(matches!((&a.0, &b.0), (Some(x), Some(y)) if Arc::ptr_eq(x, y)));
        entries.push(("g".into(), Moderator::Number(2.0)));
        let c = Moderators::take_from(&mut entries, &mut previous);
        assert_eq!(c["g"], Moderator::Number(2.0));
        assert_eq!(a["g"], Moderator::Number(1.0));
        assert!(Moderators::take_from(&mut entries, &mut previous).is_empty());
    }

    #[test]
    fn interned_strings_are_shared() {
        let mut interner = Interner::default();
        let a = interner.intern("content");
        let b = interner.intern("content");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*interner.intern("material"), "material");
        let c = interner.intern_at(3, "content");
        assert!(Arc::ptr_eq(&a, &c));
        assert!(Arc::ptr_eq(&c, &interner.intern_at(3, "content")));
        assert_eq!(&*interner.intern_at(3, "other"), "other");
    }
}
