//! The CSV study-file reader and effect-size computation on arbitrary bytes:
//! every input must give a data set or an error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tau_core::data::dataset;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = dataset::load_csv(text, None);
    }
});
