//! Issue 15: what `harness run` costs a CI run, next to baselines measured in the
//! same run. Runs the release binary; prints figures and verdicts, asserts nothing.
//!
//!     cargo bench --bench runner        (RUNNER_BENCH_RUNS=n: runs per figure, default 3)
//!
//! 1. Cold start: `harness run transcripts/async.txt` with an empty cluster cache,
//!    against plain `initdb -N` + `pg_ctl -w start` (same settings, same file system)
//!    plus the warm replay. Goal: cold <= 2x (initdb + pg_ctl start + warm replay).
//! 2. Suite: `harness run -j 2 transcripts/` against `-j 1` (warm cache).
//!    Goal: <= 0.6x of the serial time on 2 cores.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use harness::pg::{bins, proc};

fn main() {
    let runs: usize = std::env::var("RUNNER_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(3);
    let exe = Path::new(env!("CARGO_BIN_EXE_harness"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seed = root.join("transcripts/async.txt");
    let suite = root.join("transcripts");
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "harness run ({}; {} cores, load average {}); {runs} runs per figure\n",
        exe.display(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

    // --- cold start ---
    // One cold run, one warm run and one plain initdb + start per round, so a
    // change in the machine's load hits the figure and its budget alike.
    let warm_cache = tempfile::tempdir().unwrap();
    replay(exe, &[&seed], warm_cache.path()); // fills the cache
    let (mut cold, mut cold_phases, mut warm) = (Vec::new(), Vec::new(), Vec::new());
    let (mut initdb, mut start) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let cache = tempfile::tempdir().unwrap();
        let (wall, stderr) = replay(exe, &[&seed], cache.path());
        cold.push(wall);
        cold_phases.push(stderr);
        remove_spares(cache.path());
        warm.push(replay(exe, &[&seed], warm_cache.path()).0);
        let (i, s) = plain_cold_start();
        initdb.push(i);
        start.push(s);
    }
    let (_, cold_med, _) = stats(&cold);
    let (_, warm_med, _) = stats(&warm);
    let (_, initdb_med, _) = stats(&initdb);
    let (_, start_med, _) = stats(&start);
    let budget = 2 * (initdb_med + start_med + warm_med);
    println!(
        "{:<44} {:>9} {:>9} {:>9}",
        "cold start", "min", "median", "max"
    );
    for (name, v) in [
        ("harness run async.txt, empty cache", &cold),
        ("harness run async.txt, warm cache", &warm),
        ("plain initdb -N", &initdb),
        ("plain pg_ctl -w start", &start),
    ] {
        let (min, med, max) = stats(v);
        println!("{name:<44} {:>9} {:>9} {:>9}", ms(min), ms(med), ms(max));
    }
    if let Some(phases) = cold_phases.get(cold_phases.len() / 2) {
        let shown: Vec<String> = parse_timings(phases)
            .into_iter()
            .filter(|(p, v)| *v >= 1.0 && p != "total")
            .map(|(p, v)| format!("{p} {v:.0}"))
            .collect();
        println!(
            "  a cold run's phases (ms, background ones overlap): {}",
            shown.join(", ")
        );
    }
    println!(
        "verdict: cold {} vs 2 x (initdb {} + pg_ctl start {} + warm {}) = {}: {:.2}x of the budget -> {}\n",
        ms(cold_med),
        ms(initdb_med),
        ms(start_med),
        ms(warm_med),
        ms(budget),
        cold_med.as_secs_f64() / budget.as_secs_f64(),
        if cold_med <= budget { "MEETS" } else { "MISSES" }
    );

    // --- suite ---
    let serial: Vec<Duration> = (0..runs)
        .map(|_| {
            replay(
                exe,
                &[Path::new("-j"), Path::new("1"), &suite],
                warm_cache.path(),
            )
            .0
        })
        .collect();
    let parallel: Vec<Duration> = (0..runs)
        .map(|_| {
            replay(
                exe,
                &[Path::new("-j"), Path::new("2"), &suite],
                warm_cache.path(),
            )
            .0
        })
        .collect();
    remove_spares(warm_cache.path());
    println!(
        "{:<44} {:>9} {:>9} {:>9}",
        "suite (transcripts/, warm)", "min", "median", "max"
    );
    for (name, v) in [
        ("harness run -j 1", &serial),
        ("harness run -j 2", &parallel),
    ] {
        let (min, med, max) = stats(v);
        println!("{name:<44} {:>9} {:>9} {:>9}", ms(min), ms(med), ms(max));
    }
    let ratio = stats(&parallel).1.as_secs_f64() / stats(&serial).1.as_secs_f64();
    println!(
        "verdict: -j 2 / -j 1 (medians) = {ratio:.2}x (goal <= 0.6x) -> {}",
        if ratio <= 0.6 { "MEETS" } else { "MISSES" }
    );
}

/// One `harness run --timings ARGS` with `cache` as the cluster cache; panics unless
/// every example passed. Returns the wall time and stderr.
fn replay(exe: &Path, args: &[&Path], cache: &Path) -> (Duration, String) {
    let mut cmd = Command::new(exe);
    cmd.arg("run")
        .arg("--timings")
        .args(args)
        .env("HARNESS_PG_CACHE", cache)
        .env("NO_COLOR", "1")
        .env_remove("HARNESS_PG_URL")
        .env_remove("DATABASE_URL");
    let t = Instant::now();
    let out = cmd.output().expect("cannot run the harness binary");
    let wall = t.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        panic!(
            "harness run failed ({}):\n{}\n{stderr}",
            out.status,
            String::from_utf8_lossy(&out.stdout)
        );
    }
    (wall, stderr)
}

/// `initdb -N` and `pg_ctl -w start` times of a plain cluster with the embedded
/// clusters' settings, in their work directory (the same file system).
fn plain_cold_start() -> (Duration, Duration) {
    let bins = bins::find().expect("PostgreSQL binaries");
    let user = proc::server_user().expect("server user");
    let scratch = harness::pg::cleanup::work_root().unwrap();
    let work = tempfile::Builder::new()
        .prefix("plain-")
        .tempdir_in(&scratch)
        .unwrap();
    std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let (data, sock) = (work.path().join("data"), work.path().join("sock"));
    let path = |p: &Path| p.to_str().unwrap().to_string();
    let run_tool = |name: &str, args: &[String]| {
        let mut cmd = proc::command(&bins.tool(name), user);
        cmd.args(args);
        proc::run(cmd, name).unwrap_or_else(|e| panic!("{e}"));
    };
    for d in [&data, &sock] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700)).unwrap();
        proc::chown_tree(d, user).unwrap();
    }
    let t = Instant::now();
    let init: Vec<String> = ["-D", &path(&data), "-N", "-A", "trust", "-U", "postgres"]
        .iter()
        .chain(&["-E", "UTF8", "--locale=C.UTF-8"])
        .map(|s| s.to_string())
        .collect();
    run_tool("initdb", &init);
    let initdb = t.elapsed();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let options = format!(
        "-p {port} -k {} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off -c autovacuum=off",
        path(&sock)
    );
    let log = format!("{}/log", path(&sock));
    let t = Instant::now();
    let up = [
        "-D",
        &path(&data),
        "-w",
        "-s",
        "-l",
        &log,
        "-o",
        &options,
        "start",
    ];
    run_tool("pg_ctl", &up.map(String::from));
    let start = t.elapsed();
    let down = ["-D", &path(&data), "-w", "-s", "-m", "immediate", "stop"];
    run_tool("pg_ctl", &down.map(String::from));
    (initdb, start)
}

#[path = "support/stats.rs"]
mod stats;
use stats::stats;
#[path = "support/runs.rs"]
mod runs;
use runs::{parse_timings, remove_spares};

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}
