//! JSON payloads of mart-creation tasks and jobs: `RunListEntry::from_json` on any
//! JSON document (rex's field order, defaults and error precedence); Ok or a rex
//! error, never a panic.
#![no_main]

use harness::mart::RunListEntry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    match RunListEntry::from_json(&payload) {
        Ok(entry) => {
            let _ = entry.py_repr();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
