//! HTSQL without a database: `split_statements` (script splitting), then
//! `check_syntax` (percent-decoding, scanning, parsing) of the whole text and of
//! every statement. Ok or a rex error, never a panic.
#![no_main]

use harness::htsql::{check_syntax, split_statements};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(e) = check_syntax(text) {
        let _ = e.to_string();
    }
    match split_statements(text) {
        Ok(statements) => {
            for s in &statements {
                if let Err(e) = check_syntax(s) {
                    let _ = e.to_string();
                }
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
