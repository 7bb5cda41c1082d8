//! `harness worker` on an application whose job executor and task worker are written
//! in Python only (tests/job/apps/pyjobs): jobs and tasks submitted from two
//! processes, the worker killed once mid-run and started again, every job and task
//! done exactly once (their database work commits with their completion), a Python
//! exception and a `sys.exit()` survived.

#[path = "job/common.rs"]
mod common;
#[path = "job/procs.rs"]
mod procs;

use common::TestApp;
use harness::pg::testing::server;
use procs::{wait_until, Worker};
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::Duration;

const APPS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/job/apps");

#[test]
fn child_worker_entry() {
    procs::child_entry();
}

/// Set in a child process: insert jobs and tasks `FROM..TO` and exit.
const SUBMIT_ENV: &str = "HARNESS_PY_SUBMIT";

#[test]
fn child_submit_entry() {
    let Ok(spec) = std::env::var(SUBMIT_ENV) else {
        return;
    };
    let v: serde_json::Value = serde_json::from_str(&spec).unwrap();
    let url = v["url"].as_str().unwrap();
    let (from, to) = (v["from"].as_i64().unwrap(), v["to"].as_i64().unwrap());
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    for n in from..to {
        // Interleaved with the other submitter: job codes are `max + 1`, which
        // submit() allocates in turn with it.
        let pause = json!({ "pause": 0.005 });
        harness::job::submit::submit(&mut c, "py_record", "test", None, &pause).unwrap();
        c.execute(
            "INSERT INTO asynctask.asynctask_queue (queue_name, payload) VALUES ('work', $1)",
            &[&json!({ "n": n, "pause": 0.005 })],
        )
        .unwrap();
    }
    std::process::exit(0);
}

fn submitter(url: &str, from: i64, to: i64) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_submit_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            SUBMIT_ENV,
            json!({"url": url, "from": from, "to": to}).to_string(),
        )
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

fn worker(url: &str) -> Worker {
    Worker::start(&[
        "--apps",
        APPS,
        "--app",
        "pyjobs",
        "--pg-url",
        url,
        "--poll-interval",
        "100",
        "--concurrency",
        "4",
        "--set",
        "job_stale_after=2",
        "--set",
        "job_heartbeat_interval=1",
        "--set",
        "job_stale_policy=\"requeue\"",
        "--set",
        "asynctask_workers_poll_interval=50",
    ])
}

fn count(t: &TestApp, sql: &str) -> i64 {
    t.client().query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn python_only_app_runs_jobs_and_tasks_exactly_once_across_a_kill() {
    let t = TestApp::new("job_py_once", json!({}));
    let url = server().url(&t.db.name);
    // The first worker deploys the application (py_run, the task queue table).
    let mut first = worker(&url);
    wait_until(Duration::from_secs(60), "the worker's task loop", || {
        first
            .log_text()
            .contains("INFO:RecordingWorker:Starting; queue=work")
    });
    // A Python exception and a sys.exit(), each survived.
    t.client()
        .execute(
            "INSERT INTO asynctask.asynctask_queue (queue_name, payload) \
             VALUES ('work', '{\"fail\": true}'), ('work', '{\"exit\": true}')",
            &[],
        )
        .unwrap();
    t.client()
        .execute(
            "INSERT INTO job (owner, type, payload) VALUES ('test', 'py_record', '{\"fail\": true}')",
            &[],
        )
        .unwrap();
    let mut subs = [submitter(&url, 0, 500), submitter(&url, 500, 1000)];
    wait_until(Duration::from_secs(120), "some of the work done", || {
        count(&t, "SELECT count(*) FROM py_run") >= 300
    });
    first.signal(libc::SIGKILL);
    let _ = first.wait(Duration::from_secs(10));
    let first_log = first.log_text();
    for s in &mut subs {
        assert!(s.wait().unwrap().success());
    }
    let mut second = worker(&url);
    wait_until(Duration::from_secs(180), "all jobs and tasks done", || {
        count(
            &t,
            "SELECT count(*) FROM job WHERE status IN ('completed', 'failed')",
        ) == 1001
            && count(&t, "SELECT count(*) FROM asynctask.asynctask_queue") == 0
            && count(
                &t,
                "SELECT count(DISTINCT n) FROM py_run WHERE kind = 'task'",
            ) == 1000
    });
    second.signal(libc::SIGTERM);
    assert_eq!(second.wait(Duration::from_secs(30)), Some(0));
    let log = format!("{first_log}{}", second.log_text());

    // Every job ran to completion; only the failing one failed, with its message.
    assert_eq!(
        count(&t, "SELECT count(*) FROM job WHERE status = 'completed'"),
        1000
    );
    let detail: String = t
        .client()
        .query_one("SELECT status_detail FROM job WHERE status = 'failed'", &[])
        .unwrap()
        .get(0);
    assert!(detail.starts_with("failed as asked: "), "{detail}");
    assert_eq!(
        count(
            &t,
            "SELECT count(DISTINCT n) FROM py_run WHERE kind = 'job'"
        ),
        1000
    );
    // Exactly once: a job or task the kill interrupted ran again, and the rows its
    // interrupted run wrote went with that run's transaction.
    let twice = |kind: &str| {
        count(
            &t,
            &format!(
                "SELECT count(*) FROM (SELECT n FROM py_run WHERE kind = '{kind}' \
                 GROUP BY n HAVING count(*) > 1) d"
            ),
        )
    };
    assert_eq!(twice("job"), 0);
    assert_eq!(twice("task"), 0);
    assert_eq!(
        count(&t, "SELECT count(*) FROM py_run WHERE kind = 'job'"),
        1000
    );
    assert_eq!(
        count(&t, "SELECT count(*) FROM py_run WHERE kind = 'task'"),
        1000
    );
    // The kill did interrupt work: some job was claimed twice (its first claim
    // recovered as stale), else this test proves nothing about kills.
    assert!(
        count(&t, "SELECT count(*) FROM job WHERE claim_attempt > 1") > 0,
        "no job was interrupted by the kill"
    );

    // The exception failed its task only; sys.exit() ended the task worker, which
    // was started again.
    assert!(
        log.contains("ERROR:RecordingWorker:An unhandled exception occurred while processing the payload\nTraceback (most recent call last):\n"),
        "{log}"
    );
    assert!(log.contains("ValueError: task failed as asked\n"), "{log}");
    assert!(log.contains("task exits\n"), "{log}");
    assert!(
        log.contains("ERROR:HarnessWorker:Worker for queue work died; restarting...\nINFO:HarnessWorker:Launching py_task to work on queue work\n"),
        "{log}"
    );
    // print() and self.logger reach the worker's log.
    assert!(log.contains(" done\n"), "{log}");
    assert!(log.contains("INFO:RecordingWorker:task "), "{log}");
}

#[test]
fn errors_in_application_code_are_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("broken");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("settings.yaml"), "db: pgsql:broken\n").unwrap();
    std::fs::write(
        app.join("__init__.py"),
        "from rex.job import JobExecutor\n\nclass X(JobExecutor):\n    name = 'x'\n\nundefined_name\n",
    )
    .unwrap();
    let t = TestApp::new("job_py_broken", json!({}));
    let url = server().url(&t.db.name);
    let mut w = Worker::start(&[
        "--apps",
        dir.path().to_str().unwrap(),
        "--app",
        "broken",
        "--pg-url",
        &url,
    ]);
    assert_eq!(w.wait(Duration::from_secs(60)), Some(2));
    let log = w.log_text();
    assert!(
        log.contains("harness worker: error: Failed to load application code:\n    Traceback (most recent call last):\n      File \""),
        "{log}"
    );
    assert!(
        log.contains("__init__.py\", line 6, in <module>\n"),
        "{log}"
    );
    assert!(
        log.contains("    NameError: name 'undefined_name' is not defined\nWhile initializing RexDB application:\n    broken\n"),
        "{log}"
    );
}

/// A Python job that outlives the grace period of a stopping worker is given up like
/// a Rust one: failed with the reason, exit status 1, and its late end writes nothing.
/// (Work given up has up to 2 s to clean up after its sessions are ended; this job
/// sleeps past that too, outside the database.)
#[test]
fn slow_python_job_is_given_up_at_shutdown() {
    let t = TestApp::new("job_py_slow", json!({}));
    let url = server().url(&t.db.name);
    let mut w = Worker::start(&[
        "--apps",
        APPS,
        "--app",
        "pyjobs",
        "--pg-url",
        &url,
        "--worker-id",
        "P",
        "--grace",
        "1",
    ]);
    let code = t.submit("py_sleep", json!({"sleep": 6}));
    wait_until(Duration::from_secs(60), "the slow job started", || {
        count(
            &t,
            &format!("SELECT count(*) FROM job WHERE code = {code} AND status = 'started'"),
        ) == 1
    });
    w.signal(libc::SIGTERM);
    assert_eq!(w.wait(Duration::from_secs(30)), Some(1), "{}", w.log_text());
    let row = t
        .client()
        .query_one(
            "SELECT status::text, status_detail FROM job WHERE code = $1",
            &[&code],
        )
        .unwrap();
    let (status, detail): (String, Option<String>) = (row.get(0), row.get(1));
    assert_eq!(status, "failed");
    assert_eq!(
        detail.as_deref(),
        Some("Worker P stopped: the job did not finish within the 1 s grace period")
    );
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(
        count(&t, "SELECT count(*) FROM py_run WHERE kind = 'slept'"),
        0
    );
}
