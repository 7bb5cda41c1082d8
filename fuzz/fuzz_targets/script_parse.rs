//! The Python-subset parser (`harness::script::parser::parse`, lexer included): a
//! module or a syntax error (deep nesting included), never a panic or stack overflow.
#![no_main]

use harness::script::parser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|src: &str| {
    let _ = parser::parse(src);
});
