//! rex.deploy fact parsing without a database: YAML text through the loader, then
//! `harness::deploy::check_facts` (every fact kind's fields, names, types, links,
//! identities, data and SQL facts). Ok or a rex error, never a panic.
#![no_main]

use harness::core::yaml::load;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// A scratch directory under `fuzz/scratch/` (git-ignored; reused by every run).
fn scratch() -> &'static std::path::Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scratch/deploy_facts");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

fuzz_target!(|text: &str| {
    if text.contains("/dev") || text.contains("/proc") || text.contains("/sys") {
        return;
    }
    let Ok(node) = load(text, "<fuzz>", scratch()) else {
        return;
    };
    if let Err(e) = harness::deploy::check_facts(&node) {
        let _ = e.to_string();
    }
});
