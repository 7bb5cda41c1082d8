//! `harness submit`, `harness jobs` and `harness task` (their library entry points)
//! against a real PostgreSQL.

#[path = "job/common.rs"]
mod common;

use common::TestApp;
use harness::asynctask::get_transport;
use harness::cli::app::AppArgs;
use harness::cli::jobs::{self, JobsArgs};
use harness::cli::submit::{self, SubmitArgs};
use harness::cli::task::{self, TaskArgs};
use harness::job::submit::submit;
use harness::pg::testing::server;
use serde_json::json;

/// The job tests' application: `db: pgsql:jobtest`, nothing but the built-in schema.
const APPS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/job/apps");

fn app_args(url: &str) -> AppArgs {
    AppArgs {
        app: "jobtest".into(),
        pg_url: Some(url.into()),
        apps: vec![APPS.into()],
        set: vec!["job_queues=2".into()],
        ..AppArgs::default()
    }
}

#[test]
fn submit_jobs_and_task() {
    let t = TestApp::new("job_cli", json!({}));
    let url = server().url(&t.db.name);
    let app = app_args(&url).open().unwrap();
    assert_eq!(app.db.name, t.db.name);
    assert_eq!(app.settings.get("job_queues"), Some(&json!(2)));

    let mut db = t.client();
    let a = submit(&mut db, "demo_fast", "alice", None, &json!({"x": 1})).unwrap();
    let b = submit(&mut db, "demo_fragile", "bob", Some("t"), &json!({})).unwrap();
    assert_eq!((a, b), (1, 2));
    let args = |job_type: &str, payload: &str| SubmitArgs {
        app: app_args(&url),
        job_type: job_type.into(),
        payload: payload.into(),
        owner: Some("carol".into()),
        title: None,
    };
    assert_eq!(submit::run(&args("harness_noop", "{\"a\": [1, 2]}")), 0);
    assert_eq!(submit::run(&args("harness_noop", "{not json")), 2);
    let payload: serde_json::Value = db
        .query_one("SELECT payload FROM job WHERE code = 3", &[])
        .unwrap()
        .get(0);
    assert_eq!(payload, json!({"a": [1, 2]}));

    harness::job::process(&app, &common::demo_registry(), &json!({"code": 2})).unwrap();
    let rows = jobs::rows(&mut db, None, 100).unwrap();
    let table = jobs::render(&rows);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(
        lines[0].starts_with("code  status  type          owner  submitted"),
        "{table}"
    );
    assert!(
        lines[2].starts_with("2     failed  demo_fragile  bob    "),
        "{table}"
    );
    assert!(lines[2].ends_with("  I crashed :("), "{table}");
    assert!(lines.iter().all(|l| !l.ends_with(' ')));
    let failed = jobs::rows(&mut db, Some("failed"), 100).unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0][0], "2");
    let newest = jobs::rows(&mut db, None, 2).unwrap();
    assert_eq!(
        newest.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(),
        ["2", "3"]
    );
    let jobs_args = JobsArgs {
        app: app_args(&url),
        status: Some(jobs::Status::New),
        code: None,
        limit: 10,
    };
    assert_eq!(jobs::run(&jobs_args), 0);

    let task_args = |queue: &str, payload: &str| TaskArgs {
        app: AppArgs {
            set: vec![
                "job_queues=2".into(),
                "asynctask_workers={\"rexmart_create\": \"rexmart_create\"}".into(),
            ],
            ..app_args(&url)
        },
        queue: queue.into(),
        payload: payload.into(),
    };
    assert_eq!(
        task::run(&task_args("rexmart_create", "{\"owner\": \"x\"}")),
        0
    );
    assert_eq!(task::run(&task_args("BADNAME", "{}")), 2);
    assert_eq!(task::run(&task_args("foo", "[1]")), 2);
    let transport = get_transport(&app, Some(&format!("pgsql:{}", t.db.name))).unwrap();
    assert_eq!(
        transport.get_task("rexmart_create").unwrap(),
        Some(json!({"owner": "x"}))
    );
    assert_eq!(transport.poll_queue("foo").unwrap(), 0);
}

#[test]
fn open_errors_are_clear() {
    let url = server().url("");
    let mut args = app_args(&url);
    args.app = "rex.nope".into();
    let err = args.open().unwrap_err().to_string();
    assert!(
        err.starts_with("Unknown application:\n    rex.nope\nLooked in:\n"),
        "{err}"
    );
    args.set = vec!["novalue".into()];
    assert_eq!(
        args.open().unwrap_err().to_string(),
        "Expected KEY=JSON:\n    novalue\nWhile parsing --set"
    );
    // With the maintenance database in the URL, the app's db setting names the
    // application database, which is created and deployed when missing.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("rex.demo")).unwrap();
    let name = format!("harness_job_cli_{}", std::process::id());
    std::fs::write(
        dir.path().join("rex.demo/settings.yaml"),
        format!("db: pgsql:{name}\n"),
    )
    .unwrap();
    let args = AppArgs {
        app: "rex.demo".into(),
        pg_url: Some(server().url("postgres")),
        apps: vec![dir.path().to_path_buf()],
        ..AppArgs::default()
    };
    let app = args.open().unwrap();
    assert_eq!(app.db.name, name);
    let jobs: i64 = app
        .db
        .connect()
        .unwrap()
        .query_one("SELECT count(*) FROM job", &[])
        .unwrap()
        .get(0);
    assert_eq!(jobs, 0);
    drop(app);
    server().drop_database(&name).unwrap();
}

/// The real binary: `harness submit` prints the code, `harness worker` runs it,
/// `harness jobs --status completed` lists it.
#[test]
fn binary_submit_worker_jobs() {
    use std::process::{Command, Stdio};
    let t = TestApp::new("job_bin", json!({}));
    let url = server().url(&t.db.name);
    let bin = env!("CARGO_BIN_EXE_harness");
    // rex.job_demo (definitions/): its executors are Python code.
    let base = ["--app", "rex.job_demo", "--pg-url", url.as_str()];
    let out = Command::new(bin)
        .arg("submit")
        .args(base)
        .args(["demo_fast", "{}"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n");

    let worker = Command::new(bin)
        .arg("worker")
        .args(base)
        .args(["--concurrency", "1"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    loop {
        let done: i64 = t
            .client()
            .query_one("SELECT count(*) FROM job WHERE status = 'completed'", &[])
            .unwrap()
            .get(0);
        if done == 1 {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "job not run"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(worker.id() as i32, libc::SIGTERM);
    }
    let out = worker.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let log = String::from_utf8_lossy(&out.stderr);
    // In this order; other threads (task workers starting) may log in between.
    let wanted = [
        "INFO:JobExecutorWorker:Processing Job #1",
        "INFO:FastExecutor:FastExecutor executed!",
        "INFO:JobExecutorWorker:Job #1 complete",
    ];
    let mut lines = log.lines();
    for line in wanted {
        assert!(
            lines.any(|l| l == line),
            "{line} missing or out of order:\n{log}"
        );
    }

    let out = Command::new(bin)
        .arg("jobs")
        .args(base)
        .args(["--status", "completed"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(
        lines[1].starts_with("1     completed  demo_fast"),
        "{table}"
    );

    let out = Command::new(bin)
        .arg("submit")
        .args(base)
        .args(["demo_fast", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .starts_with("harness submit: error: Expected a JSON payload:\n    nope\n"));
}

/// An empty database is deployed by the first command that opens it.
#[test]
fn worker_deploys_an_empty_database() {
    let db = harness::pg::testing::ScratchDb::new("job_bin_empty");
    let url = server().url(&db.name);
    let bin = env!("CARGO_BIN_EXE_harness");
    let out = std::process::Command::new(bin)
        .args([
            "submit", "--apps", APPS, "--app", "jobtest", "--pg-url", &url,
        ])
        .args(["harness_noop", "{}"])
        .output()
        .unwrap();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).as_ref()
        ),
        (Some(0), "1\n"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(bin)
        .args(["worker", "--app", "jobtest", "--pg-url", &url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("harness worker: error: Unknown application:\n    jobtest\nLooked in:\n"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Eight submitters at once, each on its own connection: every job gets its own
/// code (`max + 1`, allocated in turn), and no insert fails on the key.
#[test]
fn concurrent_submitters_get_distinct_codes() {
    let t = TestApp::new("job_cli_concurrent", json!({}));
    let start = std::sync::Arc::new(std::sync::Barrier::new(8));
    let submitters: Vec<_> = (0..8)
        .map(|i| {
            let url = server().url(&t.db.name);
            let start = start.clone();
            std::thread::spawn(move || {
                let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                start.wait();
                (0..50)
                    .map(|_| {
                        let owner = format!("s{i}");
                        submit(&mut c, "harness_noop", &owner, None, &json!({})).unwrap()
                    })
                    .collect::<Vec<i64>>()
            })
        })
        .collect();
    let mut codes: Vec<i64> = submitters
        .into_iter()
        .flat_map(|s| s.join().unwrap())
        .collect();
    codes.sort_unstable();
    assert_eq!(codes, (1..=400).collect::<Vec<i64>>());
    let stored: i64 = t
        .client()
        .query_one("SELECT count(DISTINCT code) FROM job", &[])
        .unwrap()
        .get(0);
    assert_eq!(stored, 400);
}
