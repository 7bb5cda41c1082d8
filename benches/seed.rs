//! Issue 7: wall time of `harness run transcripts/async.txt`, cold (empty cache) and
//! warm, single cluster and `--multicluster`, min/median/max over several runs, with
//! the median share of each phase from `--timings`. Runs the release binary; builds
//! nothing itself. Prints figures and a verdict, asserts nothing.
//!
//!     cargo bench --bench seed        (SEED_BENCH_RUNS=n scales the run counts)
//!
//! Goal (from the issue): warm replay under 1.0 s on a 2-core machine.
//!
//! Each scenario has its own throwaway cluster cache (`HARNESS_PG_CACHE`): a fresh
//! one per cold run, one per warm scenario filled by an unmeasured first run.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const GOAL: Duration = Duration::from_millis(1000);

/// The phases `--timings` prints, in report order (anything else goes to `other`).
const PHASES: &[&str] = &[
    "cluster start",
    "application deploy",
    "template save to cache",
    "template clone",
    "examples",
    "drop databases",
    "teardown",
    "spare copy wait",
];

struct Run {
    wall: Duration,
    /// Phase -> milliseconds, from `--timings`.
    phases: BTreeMap<String, f64>,
}

fn main() {
    let scale: f64 = std::env::var("SEED_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .map(|n| n / 7.0)
        .unwrap_or(1.0);
    let runs = |n: usize| ((n as f64 * scale).round() as usize).max(1);
    let exe = Path::new(env!("CARGO_BIN_EXE_harness"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let transcript = root.join("transcripts/async.txt");
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "harness run transcripts/async.txt ({}; {} cores, load average {})\n",
        exe.display(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

    let mut table: Vec<(&str, Vec<Run>)> = Vec::new();

    let mut cold = Vec::new();
    for _ in 0..runs(3) {
        let cache = tempfile::tempdir().unwrap();
        cold.push(replay(exe, &transcript, cache.path(), false));
        remove_spares(cache.path());
    }
    table.push(("cold (empty cache)", cold));

    let cache = tempfile::tempdir().unwrap();
    replay(exe, &transcript, cache.path(), false); // fills the cache
    let warm: Vec<Run> = (0..runs(7))
        .map(|_| replay(exe, &transcript, cache.path(), false))
        .collect();
    remove_spares(cache.path());
    table.push(("warm, single cluster", warm));

    let cache = tempfile::tempdir().unwrap();
    replay(exe, &transcript, cache.path(), true);
    let multi: Vec<Run> = (0..runs(5))
        .map(|_| replay(exe, &transcript, cache.path(), true))
        .collect();
    remove_spares(cache.path());
    table.push(("warm, --multicluster", multi));

    println!(
        "{:<24} {:>4} {:>9} {:>9} {:>9}",
        "scenario", "runs", "min", "median", "max"
    );
    for (name, runs) in &table {
        let walls: Vec<Duration> = runs.iter().map(|r| r.wall).collect();
        let (min, med, max) = stats(&walls);
        println!(
            "{name:<24} {:>4} {:>9} {:>9} {:>9}",
            runs.len(),
            ms(min),
            ms(med),
            ms(max)
        );
    }

    println!("\nmedian per phase (ms, share of the median of their sum), from --timings:");
    for (name, runs) in &table {
        let mut names: Vec<String> = PHASES.iter().map(|p| p.to_string()).collect();
        for r in runs {
            for p in r.phases.keys() {
                if !names.contains(p) && p != "total" {
                    names.push(p.clone());
                }
            }
        }
        let medians: Vec<(String, f64)> = names
            .into_iter()
            .map(|p| {
                let mut v: Vec<f64> = runs
                    .iter()
                    .map(|r| r.phases.get(&p).copied().unwrap_or(0.0))
                    .collect();
                v.sort_by(f64::total_cmp);
                (p, v[v.len() / 2])
            })
            .filter(|(_, m)| *m >= 0.05)
            .collect();
        let sum: f64 = medians.iter().map(|(_, m)| m).sum();
        let parts: Vec<String> = medians
            .iter()
            .map(|(p, m)| format!("{p} {m:.0} ({:.0}%)", 100.0 * m / sum.max(1e-9)))
            .collect();
        println!("  {name}: {}", parts.join(", "));
    }

    let warm_med = stats(&table[1].1.iter().map(|r| r.wall).collect::<Vec<_>>()).1;
    println!(
        "\nverdict: warm single-cluster replay median {} -> {} the 1.0 s goal",
        ms(warm_med),
        if warm_med < GOAL { "MEETS" } else { "MISSES" }
    );
}

/// One `harness run --timings` with `cache` as the cluster cache; panics unless
/// every example passed.
fn replay(exe: &Path, transcript: &Path, cache: &Path, multicluster: bool) -> Run {
    let mut cmd = Command::new(exe);
    cmd.arg("run").arg("--timings");
    if multicluster {
        cmd.arg("--multicluster");
    }
    cmd.arg(transcript)
        .env("HARNESS_PG_CACHE", cache)
        .env("NO_COLOR", "1")
        .env_remove("HARNESS_PG_URL")
        .env_remove("DATABASE_URL");
    let t = Instant::now();
    let out = cmd.output().expect("cannot run the harness binary");
    let wall = t.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        panic!("harness run failed ({}):\n{stdout}\n{stderr}", out.status);
    }
    Run {
        wall,
        phases: parse_timings(&stderr),
    }
}

#[path = "support/runs.rs"]
mod runs;
#[path = "support/stats.rs"]
mod stats;
use runs::{parse_timings, remove_spares};
use stats::stats;

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}
