//! Docker benchmark, printed as figures (min / median / max):
//! - no-op job throughput (jobs/s) of 1 and of 3 `harness worker` containers against
//!   one PostgreSQL container on a private network: a bulk insert of
//!   `HARNESS_BENCH_JOBS` `harness_noop` jobs (default 3000), timed from its commit
//!   until every one is `completed`; 3 rounds each;
//! - start-to-ready time of the docker backend (container start until a connection
//!   answers) next to the embedded backend's with a warm initdb cache; 5 starts each,
//!   a second apart.
//!
//! Run: `cargo bench --features docker --bench docker` after
//! `ci/docker/build-images.sh` (images `harness-pg:15`, `harness-worker:latest`, or
//! HARNESS_DOCKER_IMAGE / HARNESS_WORKER_IMAGE). Without a daemon or the images it
//! prints `SKIPPED: <reason>`.

use harness::pg::Server;
use std::time::{Duration, Instant};

#[path = "../tests/support/docker_cli.rs"]
mod docker_cli;
use docker_cli::{docker, must};

fn env_or(var: &str, default: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn skip_reason(images: &[&str]) -> Option<String> {
    if let Err(e) = docker(&["info", "--format", "{{.ServerVersion}}"]) {
        return Some(format!("no Docker daemon answers ({e})"));
    }
    for image in images {
        if docker(&["image", "inspect", "--format", "{{.Id}}", image]).is_err() {
            return Some(format!(
                "image {image} is missing (build it with ci/docker/build-images.sh)"
            ));
        }
    }
    None
}

/// `min X  median Y  max Z` of `values`, formatted by `f`.
fn summary(mut values: Vec<f64>, f: impl Fn(f64) -> String) -> String {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    format!(
        "min {}  median {}  max {}",
        f(values[0]),
        f(values[values.len() / 2]),
        f(values[values.len() - 1])
    )
}

/// A network, a PostgreSQL container on it and the worker containers of the moment;
/// all removed on drop.
struct Bench {
    prefix: String,
    workers: Vec<String>,
    server: Server,
}

impl Drop for Bench {
    fn drop(&mut self) {
        self.stop_workers();
        let _ = docker(&["rm", "-f", "-v", &format!("{}-pg", self.prefix)]);
        let _ = docker(&["network", "rm", &format!("{}-net", self.prefix)]);
    }
}

impl Bench {
    fn start(pg_image: &str) -> Bench {
        let prefix = format!("harness-bench-{}", std::process::id());
        let net = format!("{prefix}-net");
        must(&[
            "network",
            "create",
            "--label",
            "harness.backend=docker-bench",
            &net,
        ]);
        let mut bench = Bench {
            prefix: prefix.clone(),
            workers: Vec::new(),
            server: Server::from_url("postgresql://postgres@127.0.0.1:1/postgres").unwrap(),
        };
        let pg_name = format!("{prefix}-pg");
        let mut args = vec![
            "run",
            "-d",
            "--name",
            &pg_name,
            "--network",
            &net,
            "--network-alias",
            "pg",
            "--label",
            "harness.backend=docker-bench",
            "-p",
            "127.0.0.1::5432",
            "-e",
            "POSTGRES_HOST_AUTH_METHOD=trust",
            pg_image,
        ];
        args.extend(harness::pg::docker::SERVER_CMD);
        args.extend(["-c", "max_connections=200"]);
        must(&args);
        let port = must(&["port", &pg_name, "5432/tcp"]);
        let port = port.lines().next().unwrap().rsplit(':').next().unwrap();
        bench.server =
            Server::from_url(&format!("postgresql://postgres@127.0.0.1:{port}/postgres")).unwrap();
        let deadline = Instant::now() + Duration::from_secs(90);
        while bench.server.connect("postgres").is_err() {
            assert!(Instant::now() < deadline, "PostgreSQL container not ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        bench
    }

    fn start_workers(&mut self, image: &str, n: usize) {
        for k in 0..n {
            let name = format!("{}-w{k}", self.prefix);
            must(&[
                "run",
                "-d",
                "--name",
                &name,
                "--network",
                &format!("{}-net", self.prefix),
                "--label",
                "harness.backend=docker-bench",
                image,
                "worker",
                "--app",
                "rex.mart_demo",
                "--pg-url",
                "postgresql://postgres@pg:5432/bench",
                "--concurrency",
                "8",
                "--poll-interval",
                "200",
                "--log-level",
                "WARNING",
            ]);
            self.workers.push(name);
        }
    }

    fn stop_workers(&mut self) {
        if !self.workers.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(self.workers.iter().map(String::as_str));
            let _ = docker(&args);
            self.workers.clear();
        }
    }
}

/// jobs/s of `n` worker containers on a fresh `bench` database.
fn round(bench: &mut Bench, image: &str, n: usize, jobs: i64) -> f64 {
    let _ = bench.server.drop_database("bench");
    bench.server.create_database("bench", None).unwrap();
    let mut db = bench.server.connect("bench").unwrap();
    // The demo application's facts (rex.job's among them), as the workers deploy them.
    let app = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("definitions/rex.mart_demo");
    harness::deploy::deploy_application(&mut db, &app).unwrap();
    bench.start_workers(image, n);
    // Every worker connected (each container has its own address).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let hosts: i64 = db
            .query_one(
                "SELECT count(DISTINCT client_addr) FROM pg_stat_activity \
                 WHERE datname = 'bench' AND client_addr IS NOT NULL \
                 AND client_addr <> inet_client_addr()",
                &[],
            )
            .unwrap()
            .get(0);
        if hosts >= n as i64 {
            break;
        }
        assert!(Instant::now() < deadline, "workers did not connect");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    db.execute(
        // Codes given: the table's trigger (max + 1) sees none of the statement's rows.
        "INSERT INTO job (code, owner, type, payload) \
         SELECT g, 'bench', 'harness_noop', '{}'::jsonb FROM generate_series(1, $1::int8) g",
        &[&jobs],
    )
    .unwrap();
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(300);
    loop {
        let done: i64 = db
            .query_one("SELECT count(*) FROM job WHERE status = 'completed'", &[])
            .unwrap()
            .get(0);
        if done == jobs {
            break;
        }
        assert!(Instant::now() < deadline, "jobs did not complete");
        std::thread::sleep(Duration::from_millis(5));
    }
    let rate = jobs as f64 / t0.elapsed().as_secs_f64();
    bench.stop_workers();
    drop(db);
    let _ = bench.server.drop_database("bench");
    rate
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let pg_image = env_or("HARNESS_DOCKER_IMAGE", "harness-pg:15");
    let worker_image = env_or("HARNESS_WORKER_IMAGE", "harness-worker:latest");
    if let Some(why) = skip_reason(&[&pg_image, &worker_image]) {
        println!("SKIPPED: docker bench: {why}");
        return;
    }
    let jobs: i64 = env_or("HARNESS_BENCH_JOBS", "3000").parse().unwrap();

    // Throughput.
    let mut bench = Bench::start(&pg_image);
    let (mut one, mut three) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        one.push(round(&mut bench, &worker_image, 1, jobs));
        three.push(round(&mut bench, &worker_image, 3, jobs));
    }
    drop(bench);
    let rate = |v: f64| format!("{v:.0}");
    println!("docker bench: no-op jobs/s, {jobs} jobs per round, 3 rounds, one PostgreSQL container ({pg_image}):");
    println!("  1 worker container:   {} jobs/s", summary(one, rate));
    println!("  3 worker containers:  {} jobs/s", summary(three, rate));

    // Start-to-ready.
    let ms = |v: f64| format!("{:.0} ms", v * 1000.0);
    if cfg!(feature = "docker") {
        let mut times = Vec::new();
        for _ in 0..5 {
            let t0 = Instant::now();
            let server = harness::pg::docker::start(Some(&pg_image), "bench").unwrap();
            server.connect("postgres").unwrap();
            times.push(t0.elapsed().as_secs_f64());
            drop(server);
            std::thread::sleep(Duration::from_secs(1));
        }
        println!(
            "docker bench: start-to-ready, docker backend ({pg_image}), 5 starts: {}",
            summary(times, ms)
        );
    } else {
        println!(
            "SKIPPED: docker backend start-to-ready: built without the `docker` cargo feature"
        );
    }
    // The first embedded start may fill the initdb cache; not counted.
    drop(Server::embedded("bench").unwrap());
    let mut times = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let server = Server::embedded("bench").unwrap();
        server.connect("postgres").unwrap();
        times.push(t0.elapsed().as_secs_f64());
        drop(server);
        // Time to prepare the next spare data directory, as between real runs.
        std::thread::sleep(Duration::from_secs(1));
    }
    println!(
        "docker bench: start-to-ready, embedded backend (warm cache), 5 starts: {}",
        summary(times, ms)
    );
}
