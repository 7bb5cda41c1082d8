//! rex.core's YAML loader (`harness::core::yaml::load`: anchors, merge keys,
//! `!include`), then the node's JSON and Python-repr renderings. Includes resolve in
//! an empty scratch directory.
#![no_main]

use harness::core::yaml::{load, Node};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// A scratch directory under `fuzz/scratch/` (git-ignored; reused by every run).
fn scratch() -> &'static std::path::Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scratch/yaml_load");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
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
