//! Helpers for benchmarks that run `harness run` as a process
//! (`#[path = "support/runs.rs"] mod runs;`).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

/// Removes the spare clusters the runs left for a throwaway `cache` (they would
/// sit in the work root, possibly in memory, until another run swept them): the
/// work root's `cache-<id>` file names the cache whose spares are `spare-<id>-*`.
pub fn remove_spares(cache: &Path) {
    let Ok(root) = harness::pg::cleanup::work_root() else {
        return;
    };
    let entries: Vec<_> = std::fs::read_dir(&root)
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    for marker in &entries {
        let name = marker.file_name().to_string_lossy().into_owned();
        let Some(id) = name.strip_prefix("cache-") else {
            continue;
        };
        let named = std::fs::read_to_string(marker.path()).unwrap_or_default();
        if !Path::new(named.trim()).starts_with(cache) {
            continue;
        }
        let prefix = format!("spare-{id}-");
        for spare in &entries {
            if spare.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_dir_all(spare.path());
            }
        }
        let _ = std::fs::remove_file(marker.path());
    }
}

/// `  <phase>: <ms> ms (<n>x)` lines after `timings:`.
pub fn parse_timings(stderr: &str) -> BTreeMap<String, f64> {
    stderr
        .lines()
        .skip_while(|l| *l != "timings:")
        .skip(1)
        .filter_map(|l| {
            let (phase, rest) = l.strip_prefix("  ")?.split_once(": ")?;
            let value = rest.split_whitespace().next()?.parse().ok()?;
            Some((phase.to_string(), value))
        })
        .collect()
}
