//! Mart definitions without a database: the text is written as `mart.yaml` in a
//! scratch application directory and loaded with `Definitions::load` (definition
//! validation, processors, parameters, quotas, duplicate IDs); every node of the
//! document is also validated as a RunList entry (`RunListEntry::validate`).
#![no_main]

use harness::core::yaml::{load, Node, NodeValue};
use harness::mart::settings::MartSettings;
use harness::mart::{Definitions, RunListEntry};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// A scratch directory under `fuzz/scratch/` (git-ignored; reused by every run).
fn scratch() -> &'static std::path::Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scratch/mart_definition");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

fn runlist(node: &Node) {
    match RunListEntry::validate(node) {
        Ok(entry) => {
            let _ = entry.py_repr();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let NodeValue::Seq(items) = &node.value {
        items.iter().for_each(runlist);
    }
}

fuzz_target!(|text: &str| {
    if text.contains("/dev") || text.contains("/proc") || text.contains("/sys") {
        return;
    }
    let dir = scratch();
    std::fs::write(dir.join("mart.yaml"), text).unwrap();
    match Definitions::load(dir, &MartSettings::default()) {
        Ok(defs) => {
            let _ = defs.ids();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Ok(node) = load(text, "<fuzz>", dir) {
        runlist(&node);
    }
});
