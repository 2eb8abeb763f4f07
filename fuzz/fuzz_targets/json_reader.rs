//! The JSON study-file reader, the record locator and effect-size computation
//! on arbitrary text: every input must give a data set or an error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tau_core::data::dataset;
use tau_core::input::NUMERIC_FIELDS;
use tau_core::input::locate::SourceMap;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = dataset::load_json(text, None);
    // The locator normally runs only on text serde_json accepted; it must
    // survive anything.
    let map = SourceMap::Json(text);
    for index in 0..3 {
        let _ = map.locate(index, None);
        for field in NUMERIC_FIELDS.iter().take(3) {
            let _ = map.locate(index, Some(field));
        }
        let _ = map.locate(index, Some("moderators.x"));
    }
});
