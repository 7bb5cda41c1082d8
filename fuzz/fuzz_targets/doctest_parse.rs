//! The doctest transcript parser (`harness::doctest::parse`) and the text helpers it
//! uses, on arbitrary text: a list of examples or a `ParseError`, never a panic.
#![no_main]

use harness::doctest::parse::{exception_message, expand_tabs, universal_newlines};
use harness::doctest::{parse, report};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = universal_newlines(text);
    let _ = expand_tabs(text);
    match parse(text) {
        Ok(examples) => {
            for ex in &examples {
                let _ = exception_message(&ex.want);
                let _ = report::start(ex);
                let _ = report::failure_header("<fuzz>", "fuzz", ex);
            }
        }
        Err(e) => {
            let _ = format!("{} {}", e.line, e.message);
        }
    }
});
