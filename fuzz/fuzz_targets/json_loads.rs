//! The interpreter's `json.loads` (CPython-exact decoder) on arbitrary text and
//! bytes, plus `json.dumps` of whatever it decoded: a value or a Python exception of
//! an expected type, never a panic or a Rust-level error.
#![no_main]

use harness::script::{Interpreter, Value};
use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;

thread_local! {
    static IT: RefCell<Interpreter> = RefCell::new({
        let mut it = Interpreter::new();
        it.run_example("import sys, json\n", "<fuzz>").unwrap();
        it
    });
}

const EXPECTED: [&str; 5] = [
    "json.decoder.JSONDecodeError",
    "ValueError",
    "OverflowError",
    "RecursionError",
    "UnicodeDecodeError",
];

fuzz_target!(|data: &[u8]| {
    IT.with(|it| {
        let mut it = it.borrow_mut();
        let text = String::from_utf8_lossy(data).into_owned();
        it.set_sys_attr("fuzz_text", Value::str(&text));
        it.set_sys_attr("fuzz_bytes", Value::Bytes(data.into()));
        for src in [
            "_fuzz = json.loads(sys.fuzz_text)\n",
            "_fuzz = json.loads(sys.fuzz_bytes)\n",
        ] {
            let o = it.run_example(src, "<fuzz>").unwrap();
            match &o.exception {
                Some(e) => assert!(
                    EXPECTED.contains(&e.type_name.as_str()),
                    "{src}: {}: {}",
                    e.type_name,
                    e.message
                ),
                None => {
                    let o = it.run_example("json.dumps(_fuzz)\n", "<fuzz>").unwrap();
                    if let Some(e) = &o.exception {
                        assert!(
                            ["ValueError", "RecursionError"].contains(&e.type_name.as_str()),
                            "dumps: {}: {}",
                            e.type_name,
                            e.message
                        );
                    }
                }
            }
        }
    });
});
