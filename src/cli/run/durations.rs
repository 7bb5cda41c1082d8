//! How long each transcript took last time, so that `-j N` can start the longest
//! files first: a slot left with a long file at the end makes the whole run wait
//! for it. File size is a poor guess (a short transcript that waits for workers
//! outlasts a long one of validators), so the last run's times are kept in the
//! cluster cache directory, one `seconds<TAB>path` line per file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

const FILE: &str = "run-durations.tsv";

/// Previous durations by canonical path.
#[derive(Debug, Default)]
pub struct Durations {
    seconds: HashMap<PathBuf, f64>,
}

fn store() -> Option<PathBuf> {
    crate::pg::embedded::cache_root()
        .ok()
        .map(|root| root.join(FILE))
}

fn key(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

impl Durations {
    /// What the last runs recorded (nothing when there is no record yet or it
    /// cannot be read: the order is then by size).
    pub fn load() -> Durations {
        let text = store()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default();
        let seconds = text
            .lines()
            .filter_map(|l| {
                let (secs, path) = l.split_once('\t')?;
                Some((PathBuf::from(path), secs.parse().ok()?))
            })
            .collect();
        Durations { seconds }
    }

    /// The order to start `paths` in: files never timed first (by size, largest
    /// first: nothing better is known of them), then the timed ones, longest first.
    pub fn longest_first(&self, paths: &[&Path]) -> Vec<usize> {
        let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
        let mut order: Vec<(usize, Option<f64>, u64)> = paths
            .iter()
            .enumerate()
            .map(|(i, p)| (i, self.seconds.get(&key(p)).copied(), size(p)))
            .collect();
        order.sort_by(|a, b| match (a.1, b.1) {
            (None, None) => b.2.cmp(&a.2),
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => y.total_cmp(&x),
        });
        order.into_iter().map(|(i, _, _)| i).collect()
    }

    /// Records this run's times (whole files only: a `FILE:LINE` run or one cut
    /// short says nothing of the file) and writes the record, replacing it
    /// atomically. Failing to write only loses the ordering hint.
    pub fn record(mut self, ran: &[(&Path, f64)]) {
        for (path, secs) in ran {
            self.seconds.insert(key(path), *secs);
        }
        let Some(file) = store() else { return };
        let mut lines: Vec<String> = self
            .seconds
            .iter()
            .filter(|(p, _)| p.exists())
            .map(|(p, s)| format!("{s:.3}\t{}", p.display()))
            .collect();
        lines.sort();
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        let written = file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&tmp, lines.join("\n") + "\n"))
            .and_then(|()| std::fs::rename(&tmp, &file));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untimed_files_first_then_longest_first() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str, size: usize| {
            let path = dir.path().join(n);
            std::fs::write(&path, "x".repeat(size)).unwrap();
            path
        };
        let (a, b, c, d) = (p("a", 10), p("b", 5), p("c", 1), p("d", 100));
        let mut durations = Durations::default();
        durations.seconds.insert(key(&a), 1.0);
        durations.seconds.insert(key(&c), 9.0);
        let order = durations.longest_first(&[&a, &b, &c, &d]);
        // d and b never timed (largest first), then c (9 s), then a (1 s).
        assert_eq!(order, vec![3, 1, 2, 0]);
    }
}
