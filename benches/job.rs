//! Job queue benchmark, next to `pgbench` TPS of the same server in the same run:
//! - no-op job throughput (jobs/s) with 1, 2 and 4 `harness worker` processes:
//!   a bulk insert of `HARNESS_BENCH_JOBS` jobs (default 4000), timed until every
//!   one is `completed`; goal on 2 cores: ≥ 2,000 jobs/s;
//! - the same with a Python no-op executor (`py_noop` of tests/job/apps/pyjobs, an
//!   application whose executor is Python only) next to the built-in Rust no-op,
//!   one worker process each, same run; goal: Python ≥ 0.7× Rust;
//! - submit-to-start latency p50/p99 (`date_started - date_submitted`, both server
//!   clock) for jobs submitted one at a time, woken by LISTEN/NOTIFY (polling is set
//!   to 10 s so it cannot help); goal: p50 < 20 ms.
//!
//! Run: `cargo test --release --bench job -- --ignored --nocapture` (needs
//! HARNESS_PG_URL and `pgbench` on PATH). Workers are this binary re-run as
//! `harness worker` (test `child_worker_entry`).

#[path = "../tests/job/common.rs"]
mod common;
#[path = "../tests/job/procs.rs"]
mod procs;

use common::TestApp;
use harness::pg::testing::{server, ScratchDb};
use procs::{wait_until, Worker};
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn child_worker_entry() {
    procs::child_entry();
}

fn start_workers(url: &str, n: usize, poll_ms: &str) -> Vec<Worker> {
    start_app_workers("jobtest", url, n, poll_ms)
}

fn start_app_workers(app: &str, url: &str, n: usize, poll_ms: &str) -> Vec<Worker> {
    let workers: Vec<Worker> = (0..n)
        .map(|_| {
            Worker::start(&[
                "--apps",
                concat!(env!("CARGO_MANIFEST_DIR"), "/tests/job/apps"),
                "--app",
                app,
                "--pg-url",
                url,
                "--concurrency",
                "8",
                "--poll-interval",
                poll_ms,
            ])
        })
        .collect();
    // Every worker has issued LISTEN (it logs `started` right after).
    for w in &workers {
        wait_until(Duration::from_secs(20), "worker start", || {
            w.log_text().contains("INFO:JobWorker:Worker ")
        });
    }
    workers
}

fn stop(workers: Vec<Worker>) {
    for w in &workers {
        w.signal(libc::SIGTERM);
    }
    for mut w in workers {
        w.wait(Duration::from_secs(30));
    }
}

fn throughput(t: &TestApp, url: &str, procs: usize, jobs: i64) -> f64 {
    app_throughput(t, url, ("jobtest", "harness_noop"), procs, jobs)
}

/// No-op jobs per second of `procs` workers of `app` running jobs of `job_type`.
fn app_throughput(
    t: &TestApp,
    url: &str,
    (app, job_type): (&str, &str),
    procs: usize,
    jobs: i64,
) -> f64 {
    let mut db = t.client();
    db.batch_execute("TRUNCATE job CASCADE").unwrap();
    let workers = start_app_workers(app, url, procs, "500");
    let start = Instant::now();
    db.execute(
        "INSERT INTO job (owner, type, payload) \
         SELECT 'bench', $2, '{}' FROM generate_series(1, $1::int8)",
        &[&jobs, &job_type],
    )
    .unwrap();
    wait_until(Duration::from_secs(600), "all jobs completed", || {
        let done: i64 = db
            .query_one("SELECT count(*) FROM job WHERE status = 'completed'", &[])
            .unwrap()
            .get(0);
        done == jobs
    });
    let secs = start.elapsed().as_secs_f64();
    stop(workers);
    jobs as f64 / secs
}

fn latency(t: &TestApp, url: &str, n: usize) -> (f64, f64) {
    let mut db = t.client();
    db.batch_execute("TRUNCATE job CASCADE").unwrap();
    let workers = start_workers(url, 1, "10000");
    for _ in 0..n {
        t.submit("harness_noop", json!({}));
        std::thread::sleep(Duration::from_millis(15));
    }
    wait_until(Duration::from_secs(60), "latency jobs completed", || {
        let done: i64 = db
            .query_one("SELECT count(*) FROM job WHERE status = 'completed'", &[])
            .unwrap()
            .get(0);
        done as usize == n
    });
    stop(workers);
    let row = db
        .query_one(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), \
                    percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) \
             FROM (SELECT extract(epoch FROM date_started - date_submitted) * 1000 AS ms FROM job) l",
            &[],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

/// `pgbench` TPC-B-like TPS on a scratch database of the same server.
fn pgbench_tps() -> Option<f64> {
    let db = ScratchDb::new("job_pgbench");
    let url = server().url(&db.name);
    let init = std::process::Command::new("pgbench")
        .args(["-i", "-q", "-s", "1", &url])
        .output()
        .ok()?;
    if !init.status.success() {
        return None;
    }
    let run = std::process::Command::new("pgbench")
        .args(["-n", "-c", "4", "-j", "2", "-T", "5", &url])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&run.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[test]
#[ignore]
fn job_throughput_and_latency() {
    let jobs: i64 = std::env::var("HARNESS_BENCH_JOBS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4000);
    let t = TestApp::new("job_bench", json!({}));
    let url = server().url(&t.db.name);
    let tps = pgbench_tps();
    println!(
        "pgbench (TPC-B, 4 clients, 5 s): {}",
        tps.map_or("unavailable".to_string(), |t| format!("{t:.0} tps"))
    );
    for procs in [1, 2, 4] {
        let rate = throughput(&t, &url, procs, jobs);
        println!("no-op jobs, {procs} worker process(es): {rate:.0} jobs/s ({jobs} jobs)");
    }
    let rust = app_throughput(&t, &url, ("jobtest", "harness_noop"), 1, jobs);
    let python = app_throughput(&t, &url, ("pyjobs", "py_noop"), 1, jobs);
    println!(
        "no-op jobs, 1 worker process: Rust executor {rust:.0} jobs/s, Python executor {python:.0} jobs/s ({:.2}x; goal >= 0.7x)",
        python / rust
    );
    let (p50, p99) = latency(&t, &url, 200);
    println!("submit-to-start latency (LISTEN/NOTIFY, 1 worker): p50 {p50:.1} ms, p99 {p99:.1} ms");
}
