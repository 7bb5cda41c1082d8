//! Several hosts, for real: one PostgreSQL container and three `harness worker`
//! containers on a private Docker network run 500 `rexmart_create` jobs of mixed
//! definitions (some failing on purpose). Mid-run one worker is `docker kill`ed at a
//! random moment of a job, and another is cut off the network for longer than the stale
//! threshold, then reconnected. At the end every job is completed or failed exactly
//! once with the right detail, none stays `started`, marts and inventory agree
//! (no database without its row, no row without its database), and the reconnected
//! worker's late results were refused. Then the PostgreSQL container itself is
//! restarted under the running workers: they reconnect (one line when it goes, one
//! when it is back), the jobs they lost with it are recovered (failed, never run
//! twice), what those creations left is swept, and the run goes on to its end.
//!
//! Images: `ci/docker/build-images.sh` (`harness-pg:15`, `harness-worker:latest`;
//! override with HARNESS_DOCKER_IMAGE / HARNESS_WORKER_IMAGE). Without a Docker
//! daemon or without the images this prints `SKIPPED: <reason>` and passes.
//! `harness = false`: run it with `cargo test --test docker_multihost`.

use harness::pg::cleanup::{self, Cleanup};
use harness::pg::Server;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const JOBS: usize = 500;
const WORKERS: usize = 3;
const HEARTBEAT: u64 = 1;
const STALE: u64 = 6;

#[path = "support/docker_cli.rs"]
mod docker_cli;
use docker_cli::{docker, must};

fn pg_image() -> String {
    std::env::var("HARNESS_DOCKER_IMAGE")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "harness-pg:15".into())
}

fn worker_image() -> String {
    std::env::var("HARNESS_WORKER_IMAGE")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "harness-worker:latest".into())
}

/// Why this test cannot run here, if it cannot.
fn skip_reason() -> Option<String> {
    if !cfg!(feature = "docker") {
        return Some(
            "built without the `docker` cargo feature \
             (cargo test --features docker --test docker_multihost)"
                .into(),
        );
    }
    if let Err(e) = docker(&["--version"]) {
        return Some(format!("no docker client ({e})"));
    }
    if let Err(e) = docker(&["info", "--format", "{{.ServerVersion}}"]) {
        return Some(format!("no Docker daemon answers ({e})"));
    }
    for image in [pg_image(), worker_image()] {
        if docker(&["image", "inspect", "--format", "{{.Id}}", &image]).is_err() {
            return Some(format!(
                "image {image} is missing (build it with ci/docker/build-images.sh)"
            ));
        }
    }
    None
}

/// The containers and network of one run; removed on drop (also on panic), and on
/// Ctrl-C through the harness's cleanup hooks (by label).
struct Cluster {
    prefix: String,
    network: String,
    containers: Vec<String>,
    _on_signal: Arc<dyn Cleanup>,
}

struct RemoveByLabel(String);

impl Cleanup for RemoveByLabel {
    fn cleanup(&self) {
        harness::pg::docker::remove_labelled(&format!("harness.run={}", self.0));
        let _ = docker(&["network", "rm", &format!("{}-net", self.0)]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if !self.containers.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(self.containers.iter().map(String::as_str));
            let _ = docker(&args);
        }
        let _ = docker(&["network", "rm", &self.network]);
    }
}

impl Cluster {
    fn new() -> Cluster {
        let prefix = format!("harness-mh-{}", std::process::id());
        let network = format!("{prefix}-net");
        // A subnet of our own, so that a reconnected worker gets its address back
        // (`--ip` needs a user-configured subnet) and its TCP sessions resume.
        let mut made = Err(String::new());
        for i in 0..20u32 {
            let third = (std::process::id() + i * 37) % 250 + 1;
            let subnet = format!("10.231.{third}.0/24");
            made = docker(&[
                "network",
                "create",
                "--driver",
                "bridge",
                "--subnet",
                &subnet,
                "--label",
                "harness.backend=docker-multihost",
                &network,
            ]);
            if made.is_ok() {
                break;
            }
        }
        made.unwrap_or_else(|e| panic!("cannot create a network: {e}"));
        let on_signal: Arc<dyn Cleanup> = Arc::new(RemoveByLabel(prefix.clone()));
        cleanup::register(&on_signal);
        Cluster {
            prefix,
            network,
            containers: Vec::new(),
            _on_signal: on_signal,
        }
    }

    fn name(&self, role: &str) -> String {
        format!("{}-{role}", self.prefix)
    }

    /// `docker create` a container on the private network; not started.
    fn create(&mut self, role: &str, alias: &str, extra: &[&str], image_and_cmd: &[&str]) {
        let name = self.name(role);
        let run_label = format!("harness.run={}", self.prefix);
        let mut args = vec![
            "create",
            "--name",
            &name,
            "--network",
            &self.network,
            "--network-alias",
            alias,
            "--label",
            "harness.backend=docker-multihost",
            "--label",
            &run_label,
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(image_and_cmd);
        must(&args);
        self.containers.push(name);
    }

    fn logs(&self, role: &str) -> String {
        let out = Command::new("docker")
            .args(["logs", &self.name(role)])
            .output()
            .expect("docker logs");
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    fn ip(&self, role: &str) -> String {
        must(&[
            "inspect",
            "--format",
            &format!(
                "{{{{(index .NetworkSettings.Networks \"{}\").IPAddress}}}}",
                self.network
            ),
            &self.name(role),
        ])
    }
}

/// The PostgreSQL container as seen from here (its host port may change when it is
/// restarted).
fn pg_server(cluster: &Cluster) -> Server {
    let port = must(&["port", &cluster.name("pg"), "5432/tcp"]);
    let port = port
        .lines()
        .next()
        .and_then(|l| l.rsplit(':').next())
        .unwrap()
        .to_string();
    Server::from_url(&format!("postgresql://postgres@127.0.0.1:{port}/postgres")).unwrap()
}

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The application the workers serve: the demo's files, and definitions that
/// succeed, take their time, or fail on purpose.
fn write_app(dir: &Path) {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("definitions/rex.mart_demo");
    let app = dir.join("mh");
    std::fs::create_dir_all(dir).unwrap();
    // The whole folder: deploy.yaml reads the data files under deploy/.
    let copied = std::process::Command::new("cp")
        .arg("-R")
        .arg(&demo)
        .arg(&app)
        .status()
        .unwrap();
    assert!(copied.success(), "cp -R {}", demo.display());
    std::fs::write(app.join("settings.yaml"), "db: pgsql:mh_app\n").unwrap();
    std::fs::write(
        app.join("mart.yaml"),
        r#"definitions:
  - id: empty
  - id: some_sql_data
    deploy: !include simple_deploy.yaml
    post_deploy_scripts:
      - script: !include/str simple_etl.sql
        type: sql
  - id: slow
    post_deploy_scripts:
      - script: SELECT pg_sleep(3);
        type: sql
  - id: broken_sql
    post_deploy_scripts:
      - script: insert into blah (col1) values('stuff');
        type: sql
  - id: just_copy_missing
    base:
      type: copy
      target: does_not_exist
"#,
    )
    .unwrap();
}

/// Job `i` of the run: its payload and what it must end as (`None`: completed;
/// `Some(detail)`: failed with that detail).
fn plan(i: usize) -> (Value, Option<&'static str>) {
    let owner = format!("owner{}", i % 25);
    match i % 10 {
        0..=2 => (json!({"owner": owner, "definition": "empty"}), None),
        3 | 4 => (json!({"owner": owner, "definition": "some_sql_data"}), None),
        5 => (json!({"owner": owner, "definition": "slow"}), None),
        6 => (
            json!({"owner": owner, "definition": "broken_sql"}),
            Some(concat!(
                "Got an error from the database driver:\n",
                "    relation \"blah\" does not exist\n",
                "    LINE 1: insert into blah (col1) values('stuff');\n",
                "                        ^\n",
                "While executing SQL script:\n    #1\n",
                "While executing Post-Deployment Scripts\n",
                "While creating Mart database:\n    broken_sql"
            )),
        ),
        7 => (
            json!({"owner": owner, "definition": "just_copy_missing"}),
            Some("Database \"does_not_exist\" does not exist\nWhile creating Mart database:\n    just_copy_missing"),
        ),
        8 => (
            json!({"owner": owner, "definition": "nope"}),
            Some("Unknown definition \"nope\""),
        ),
        _ => (
            json!({"owner": owner}),
            Some("Missing mandatory field:\n    definition"),
        ),
    }
}

fn stale_detail(worker: &str) -> String {
    format!("Worker {worker} stopped sending heartbeats; job abandoned after {STALE} seconds without one")
}

fn codes(db: &mut postgres::Client, sql: &str) -> BTreeSet<i64> {
    db.query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn main() {
    // `cargo test -- --list` and filters: this file is one scenario.
    if std::env::args().any(|a| a == "--list") {
        println!("docker_multihost: test");
        return;
    }
    if let Some(why) = skip_reason() {
        println!("SKIPPED: docker multihost: {why}");
        return;
    }
    let started = Instant::now();
    let mut cluster = Cluster::new();
    let tmp = tempfile::tempdir().unwrap();
    write_app(tmp.path());

    // PostgreSQL, reachable from the workers as `pg` and from here on a local port.
    let pg_image = pg_image();
    cluster.create(
        "pg",
        "pg",
        &[
            "-p",
            "127.0.0.1::5432",
            "-e",
            "POSTGRES_HOST_AUTH_METHOD=trust",
        ],
        &[pg_image.as_str()]
            .into_iter()
            .chain(harness::pg::docker::SERVER_CMD)
            .chain(["-c", "max_connections=300"])
            .collect::<Vec<_>>(),
    );
    must(&["start", &cluster.name("pg")]);
    let server = pg_server(&cluster);
    wait_until("the PostgreSQL container", Duration::from_secs(90), || {
        server.connect("postgres").is_ok()
    });
    server.create_database("mh_app", None).unwrap();
    let mut db = server.connect("mh_app").unwrap();
    harness::deploy::deploy_application(&mut db, &tmp.path().join("mh")).unwrap();
    harness::job::claim::check_queue_schema(&mut db).unwrap();

    // Three workers on the private network.
    let worker_image = worker_image();
    for k in 1..=WORKERS {
        let id = format!("w{k}");
        let heartbeat = format!("job_heartbeat_interval={HEARTBEAT}");
        let stale = format!("job_stale_after={STALE}");
        cluster.create(
            &id,
            &id,
            &[],
            &[
                &worker_image,
                "worker",
                "--app",
                "mh",
                "--apps",
                "/opt/apps",
                "--pg-url",
                "postgresql://postgres@pg:5432/mh_app",
                "--concurrency",
                "4",
                "--worker-id",
                &id,
                "--poll-interval",
                "200",
                "--grace",
                "1",
                "--set",
                &heartbeat,
                "--set",
                &stale,
            ],
        );
        let dest = format!("{}:/opt/apps", cluster.name(&id));
        must(&["cp", &format!("{}/.", tmp.path().display()), &dest]);
        must(&["start", &cluster.name(&id)]);
    }

    // 500 jobs in one transaction.
    let mut expected: BTreeMap<i64, Option<&'static str>> = BTreeMap::new();
    let mut slow = BTreeSet::new();
    {
        let mut tx = db.transaction().unwrap();
        for i in 0..JOBS {
            let (payload, outcome) = plan(i);
            let code: i64 = tx
                .query_one(
                    "INSERT INTO job (owner, type, payload) VALUES ('multihost', 'rexmart_create', $1) RETURNING code",
                    &[&payload],
                )
                .unwrap()
                .get(0);
            if payload["definition"] == "slow" {
                slow.insert(code);
            }
            expected.insert(code, outcome);
        }
        tx.commit().unwrap();
    }
    let slow_list = slow
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let started_by = |db: &mut postgres::Client, worker: &str, only_slow: bool| {
        codes(
            db,
            &format!(
                "SELECT code FROM job WHERE status = 'started' AND claimed_by = '{worker}'{}",
                if only_slow {
                    format!(" AND code IN ({slow_list})")
                } else {
                    String::new()
                }
            ),
        )
    };

    // Kill w1 at a random moment of its work: it may be anywhere in a creation
    // (between its inventory insert and CREATE DATABASE too; the sweep of the
    // worker that recovers its jobs deletes such a record).
    wait_until("w1 to run a job", Duration::from_secs(120), || {
        !started_by(&mut db, "w1", false).is_empty()
    });
    let delay = Duration::from_millis(
        u64::from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos(),
        ) % 1500,
    );
    std::thread::sleep(delay);
    let w1_ip = cluster.ip("w1");
    let doing: Vec<String> = db
        .query(
            "SELECT left(query, 60) FROM pg_stat_activity WHERE client_addr = $1::text::inet \
             AND state = 'active'",
            &[&w1_ip],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    must(&["kill", &cluster.name("w1")]);
    let killed = started_by(&mut db, "w1", false);

    // Cut w2 off while it runs a slow job, for longer than the stale threshold.
    wait_until("w2 to run a slow job", Duration::from_secs(120), || {
        !started_by(&mut db, "w2", true).is_empty()
    });
    let w2_ip = cluster.ip("w2");
    let partition = Instant::now();
    must(&[
        "network",
        "disconnect",
        &cluster.network,
        &cluster.name("w2"),
    ]);
    std::thread::sleep(Duration::from_millis(300));
    let cut_off = started_by(&mut db, "w2", false);
    let recovered_sql = |set: &BTreeSet<i64>| {
        format!(
            "SELECT count(*) FROM job WHERE status = 'failed' AND code IN ({})",
            set.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        )
    };
    wait_until(
        "the cut-off worker's jobs to be recovered",
        Duration::from_secs(60),
        || {
            let n: i64 = db.query_one(&recovered_sql(&cut_off), &[]).unwrap().get(0);
            n as usize == cut_off.len()
        },
    );
    std::thread::sleep(Duration::from_secs(2));
    must(&[
        "network",
        "connect",
        "--ip",
        &w2_ip,
        "--alias",
        "w2",
        &cluster.network,
        &cluster.name("w2"),
    ]);
    let partitioned_for = partition.elapsed();

    let lost_line = |code: i64| {
        format!(
            "WARNING:JobWorker:Job #{code} lost its claim (attempt 1); its result was not recorded"
        )
    };
    // The slow jobs w2 was running end a few seconds after it is back.
    wait_until(
        "the reconnected worker to report its refused results",
        Duration::from_secs(60),
        || {
            let log = cluster.logs("w2");
            cut_off.iter().all(|&c| log.contains(&lost_line(c)))
        },
    );
    // Restart PostgreSQL under the workers (a fast shutdown, the data kept), once
    // w3 runs a job: whatever the workers were doing against it fails.
    // (If the run is nearly over, the restart may find nothing running.)
    let busy_until = Instant::now() + Duration::from_secs(60);
    while started_by(&mut db, "w3", false).is_empty() && Instant::now() < busy_until {
        std::thread::sleep(Duration::from_millis(50));
    }
    let restart_began: chrono::NaiveDateTime =
        db.query_one("SELECT localtimestamp", &[]).unwrap().get(0);
    let in_flight = started_by(&mut db, "w2", false)
        .union(&started_by(&mut db, "w3", false))
        .copied()
        .collect::<BTreeSet<i64>>();
    drop(db);
    let restart = Instant::now();
    must(&["restart", "-t", "10", &cluster.name("pg")]);
    let server = pg_server(&cluster);
    wait_until("PostgreSQL back", Duration::from_secs(90), || {
        server.connect("mh_app").is_ok()
    });
    let down_for = restart.elapsed();
    let mut db = server.connect("mh_app").unwrap();
    let restart_done: chrono::NaiveDateTime =
        db.query_one("SELECT localtimestamp", &[]).unwrap().get(0);

    // The rest of the run.
    wait_until("every job to end", Duration::from_secs(600), || {
        let n: i64 = db
            .query_one(
                "SELECT count(*) FROM job WHERE status NOT IN ('completed', 'failed')",
                &[],
            )
            .unwrap()
            .get(0);
        n == 0
    });
    for k in 2..=WORKERS {
        let _ = docker(&["stop", "-t", "15", &cluster.name(&format!("w{k}"))]);
    }

    // Checks.
    let logs: Vec<String> = (1..=WORKERS)
        .map(|k| cluster.logs(&format!("w{k}")))
        .collect();
    let mut problems = Vec::new();
    let rows = db
        .query(
            "SELECT code, status::text, status_detail, date_started, date_completed \
             FROM job ORDER BY code",
            &[],
        )
        .unwrap();
    let (mut completed, mut failed, mut failed_on_purpose, mut recovered) = (0, 0, 0, 0);
    let mut interrupted = 0;
    let mut executions: BTreeMap<i64, usize> = BTreeMap::new();
    for log in &logs {
        for line in log.lines() {
            if let Some((_, code)) = line.split_once(":Processing Job #") {
                if let Ok(code) = code.trim().parse::<i64>() {
                    *executions.entry(code).or_default() += 1;
                }
            }
        }
    }
    for row in &rows {
        let code: i64 = row.get(0);
        let status: String = row.get(1);
        let detail: Option<String> = row.get(2);
        let started_at: Option<chrono::NaiveDateTime> = row.get(3);
        let ended_at: Option<chrono::NaiveDateTime> = row.get(4);
        // Running while the server restarted: failed by the lost connection, or
        // recovered as stale (never run again), or finished as planned.
        let hit = started_at.is_some_and(|t| t <= restart_done)
            && ended_at.is_some_and(|t| t >= restart_began);
        let want = if killed.contains(&code) {
            recovered += 1;
            Some(stale_detail("w1"))
        } else if cut_off.contains(&code) {
            recovered += 1;
            Some(stale_detail("w2"))
        } else if hit && status == "failed" && expected[&code].map(str::to_string) != detail {
            interrupted += 1;
            detail.clone()
        } else {
            let want = expected[&code].map(str::to_string);
            if want.is_some() {
                failed_on_purpose += 1;
            }
            want
        };
        match status.as_str() {
            "completed" => completed += 1,
            "failed" => failed += 1,
            _ => {}
        }
        let ok = match &want {
            None => status == "completed",
            Some(d) => status == "failed" && detail.as_deref() == Some(d.as_str()),
        };
        if !ok {
            problems.push(format!(
                "job #{code}: {status} {detail:?}, expected {}",
                want.map_or("completed".into(), |d| format!("failed {d:?}"))
            ));
        }
        let runs = executions.get(&code).copied().unwrap_or(0);
        // The killed worker may have claimed a job without starting it yet.
        // So may a worker whose claim committed as the server went down.
        if runs != 1 && !(runs == 0 && (killed.contains(&code) || hit && status == "failed")) {
            problems.push(format!("job #{code} was executed {runs} times"));
        }
    }
    let refused: Vec<i64> = logs[1]
        .lines()
        .filter(|l| l.contains(" lost its claim "))
        .filter_map(|l| {
            l.strip_prefix("WARNING:JobWorker:Job #")?
                .split_once(' ')?
                .0
                .parse()
                .ok()
        })
        .collect();
    // The restart, as the workers saw it: w3 lost the server once, and got it back.
    for (what, n) in [
        ("WARNING:HarnessWorker:Lost the database server", 1),
        (
            "INFO:HarnessWorker:Database server reachable again after ",
            1,
        ),
    ] {
        let seen = logs[2].matches(what).count();
        if seen != n {
            problems.push(format!("w3 logged {what:?} {seen} times, not {n}"));
        }
    }
    for (k, log) in logs.iter().enumerate().skip(1) {
        let errors = log
            .lines()
            .filter(|l| l.starts_with("ERROR:JobWorker:Failed to claim"))
            .count();
        if errors > 3 {
            problems.push(format!("w{} logged {errors} claim errors", k + 1));
        }
    }
    for code in &refused {
        if !cut_off.contains(code) {
            problems.push(format!(
                "w2 lost the claim of job #{code}, which it still held"
            ));
        }
    }
    if refused.is_empty() {
        problems.push("the reconnected worker reported no refused result".into());
    }
    // Marts and inventory agree (once the sweeps after the last recoveries ran).
    let agree = |db: &mut postgres::Client| {
        codes_text(db, "SELECT name FROM rexmart_inventory")
            == codes_text(
                db,
                "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1', 'mh_app')",
            )
    };
    let settle = Instant::now();
    while !agree(&mut db) && settle.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let databases = codes_text(
        &mut db,
        "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1', 'mh_app')",
    );
    let inventory = codes_text(&mut db, "SELECT name FROM rexmart_inventory");
    let inventory_rows: i64 = db
        .query_one("SELECT count(*) FROM rexmart_inventory", &[])
        .unwrap()
        .get(0);
    let mut orphans = 0;
    for name in databases.difference(&inventory) {
        orphans += 1;
        problems.push(format!("mart database {name} has no inventory row"));
    }
    for name in inventory.difference(&databases) {
        orphans += 1;
        problems.push(format!("inventory row {name} points at a missing database"));
    }
    if inventory.len() as i64 != inventory_rows {
        problems.push(format!(
            "{} inventory rows share {} names",
            inventory_rows,
            inventory.len()
        ));
    }
    let left: i64 = db
        .query_one(
            "SELECT count(*) FROM job WHERE status NOT IN ('completed', 'failed')",
            &[],
        )
        .unwrap()
        .get(0);

    println!(
        "docker multihost: {JOBS} jobs on 1 PostgreSQL + {WORKERS} worker containers in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!("  jobs completed:          {completed}");
    println!("  jobs failed:             {failed} ({failed_on_purpose} on purpose, {recovered} recovered)");
    println!(
        "  recovered:               {recovered} ({} of the killed worker, {} of the cut-off worker, cut off for {:.1} s > stale threshold {STALE} s)",
        killed.len(),
        cut_off.len(),
        partitioned_for.as_secs_f64()
    );
    println!(
        "  w1 killed:               {} ms after it started a job, while running {doing:?}",
        delay.as_millis()
    );
    println!(
        "  server restarted:        down {:.1} s from the test's side; {} job(s) in flight, {interrupted} failed by it",
        down_for.as_secs_f64(),
        in_flight.len()
    );
    println!("  fenced writes refused:   {}", refused.len());
    println!("  jobs left started/new:   {left}");
    println!(
        "  executions per job:      1 for {} of {} jobs",
        executions.values().filter(|&&n| n == 1).count(),
        rows.len()
    );
    println!(
        "  marts in inventory:      {inventory_rows} (databases: {})",
        databases.len()
    );
    let swept = logs
        .iter()
        .flat_map(|l| l.lines())
        .filter(|l| {
            l.starts_with("WARNING:MartCreateExecutor:Inventory record #")
                || l.starts_with("WARNING:MartCreateExecutor:Mart #")
        })
        .count();
    println!("  dead workers' records swept: {swept}");
    println!("  orphans found:           {orphans}");
    if !problems.is_empty() {
        for (k, log) in logs.iter().enumerate() {
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- w{} (last lines) ---", k + 1);
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
        for p in problems.iter().take(50) {
            eprintln!("PROBLEM: {p}");
        }
        panic!("docker multihost: {} problems", problems.len());
    }
    assert!(rows.len() == JOBS && left == 0 && orphans == 0);
    println!("docker multihost: ok");
}

fn codes_text(db: &mut postgres::Client, sql: &str) -> BTreeSet<String> {
    db.query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}
