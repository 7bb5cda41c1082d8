//! rex.core's YAML loader (`harness::core::yaml::load`: anchors, merge keys,
//! `!include`), then the node's JSON and Python-repr renderings. Includes resolve in
//! an empty scratch directory.
#![no_main]

use harness::core::yaml::{load, Node};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn scratch() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fuzz_target!(|text: &str| {
    // `!include /dev/zero` and friends would read forever: not a parser bug.
    if text.contains("/dev") || text.contains("/proc") || text.contains("/sys") {
        return;
    }
    match load(text, "<fuzz>", scratch()) {
        Ok(node) => {
            let json = node.to_json();
            let _ = node.py_repr();
            let _ = Node::from_json(&json);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
