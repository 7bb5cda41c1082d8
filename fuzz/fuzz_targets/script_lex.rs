//! The Python-subset lexer (`harness::script::lexer`): tokens or a `SyntaxErr`, and
//! string-literal unescaping (str and bytes), never a panic.
#![no_main]

use harness::script::lexer::{tokenize, unescape};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|src: &str| {
    let _ = tokenize(src);
    let _ = unescape(src, false, 1);
    let _ = unescape(src, true, 1);
});
