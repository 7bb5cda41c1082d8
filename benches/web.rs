//! `harness serve` under load, next to PostgreSQL itself in the same run:
//! - `GET /mart` (the user's 5 marts, JSON) and `GET /mart/CODE/foo` (a 5-row HTSQL
//!   gateway query, text table) with 16 concurrent clients, by `wrk` on loopback:
//!   requests/s and p50/p99 latency;
//! - `pgbench` with 16 clients running a plain `SELECT * FROM foo` on the same mart
//!   database: transactions/s and mean latency (the ceiling the gateway sits on).
//!
//! Run: `cargo test --release --bench web -- --ignored --nocapture` (needs `wrk`,
//! Debian package `wrk`; `pgbench` comes with PostgreSQL). `HARNESS_BENCH_SECONDS`
//! sets each run's length (default 10).

#[path = "../tests/mart/mod.rs"]
mod mart;

use harness::mart::{CreateOptions, MartCreator};
use harness::pg::testing::server;
use mart::TestApp;
use std::io::BufRead;
use std::process::{Command, Stdio};

/// Requests/s, p50 and p99 (as wrk prints them) of `wrk` against `url`.
fn wrk(url: &str, seconds: u64) -> Option<(f64, String, String)> {
    let out = Command::new("wrk")
        .args([
            "-t",
            "2",
            "-c",
            "16",
            "-d",
            &format!("{seconds}s"),
            "--latency",
        ])
        .args(["-H", "X-Remote-User: bench", url])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_string()))
    };
    let non_2xx = field("Non-2xx or 3xx responses:");
    assert!(non_2xx.is_none(), "{url}: errors under load:\n{text}");
    Some((
        field("Requests/sec:")?.parse().ok()?,
        field("50%")?,
        field("99%")?,
    ))
}

/// `pgbench` transactions/s and mean latency of `sql` with 16 clients on `url`.
fn pgbench(url: &str, sql: &str, seconds: u64) -> Option<(f64, String)> {
    let bins = harness::pg::bins::find().ok()?;
    let script = tempfile::NamedTempFile::new().ok()?;
    std::fs::write(script.path(), format!("{sql};\n")).ok()?;
    let out = Command::new(bins.tool("pgbench"))
        .args([
            "-n",
            "-c",
            "16",
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
            "-f",
        ])
        .arg(script.path())
        .arg(url)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let tps = text
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let latency = text
        .lines()
        .find_map(|l| l.strip_prefix("latency average = "))?
        .to_string();
    Some((tps, latency))
}

#[test]
#[ignore]
fn web_throughput_and_latency() {
    let seconds: u64 = std::env::var("HARNESS_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let t = TestApp::demo();
    let marts: Vec<_> = (0..5)
        .map(|_| {
            MartCreator::new(&t.app, "bench", "some_data")
                .unwrap()
                .create(CreateOptions::default(), &[], &mut |_| {})
                .unwrap()
        })
        .collect();
    let mart = marts.last().unwrap();
    let prefix = format!("mart_name_prefix=\"{}\"", t.prefix);
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["serve", "--app", "rex.mart_demo", "--listen", "127.0.0.1:0"])
        .args(["--pg-url", &server().url(&t.app.db.name), "--set", &prefix])
        .args(["--user-header", "X-Remote-User"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("harness serve");
    let mut base = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut base)
        .unwrap();
    let base = base.trim().trim_end_matches('/').to_string();
    println!(
        "16 clients, {seconds} s each, loopback; harness serve ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    for (what, path) in [
        ("GET /mart (5 marts, JSON)", "/mart".to_string()),
        (
            "GET /mart/N/foo (HTSQL, 5 rows)",
            format!("/mart/{}/foo", mart.code),
        ),
    ] {
        match wrk(&format!("{base}{path}"), seconds) {
            Some((rps, p50, p99)) => {
                println!("{what:34} {rps:>9.0} req/s  p50 {p50:>9}  p99 {p99:>9}")
            }
            None => println!("{what:34} wrk unavailable (apt-get install wrk)"),
        }
    }
    let mart_url = server().url(&mart.name);
    match pgbench(&mart_url, "SELECT * FROM foo", seconds) {
        Some((tps, latency)) => {
            println!(
                "{:34} {tps:>9.0} tx/s   mean {latency}",
                "pgbench SELECT * FROM foo"
            )
        }
        None => println!("pgbench unavailable"),
    }
    let _ = child.kill();
    let _ = child.wait();
}
