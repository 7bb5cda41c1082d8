//! Whatever stops a mart creation half-way, the mart does not outlive it: real
//! signals to real `harness create` and `harness worker` processes while a slow
//! mart's ETL runs (`pg_sleep` on the test's real PostgreSQL). A creation stopped
//! in-process ends with its mart purged (unless --keep-on-failure); one whose
//! process died is swept by the next command or worker, with a line saying so.

mod edges;
mod mart;

use edges::{harness, text, wait_until, Worker};
use mart::{db_exists, TestApp};
use std::time::Duration;

/// An application whose `slow` mart sleeps in its post-deployment ETL.
fn slow_app() -> TestApp {
    TestApp::with_definitions(
        "definitions:\n  - id: slow\n    post_deploy_scripts:\n      - script: select pg_sleep(20)\n        type: sql\n",
        &[("settings.yaml", "db: pgsql:unused\n")],
    )
}

/// Waits until one `slow` mart sits in its ETL; returns its code and name.
fn wait_for_etl(t: &TestApp, w: &mut Worker) -> (i64, String) {
    let mut found = None;
    wait_until(Duration::from_secs(30), "the mart's ETL", || {
        if let Ok(Some(status)) = w.child.try_wait() {
            panic!("exited early ({status:?}):\n{}", w.log_text());
        }
        let inv = t.inventory();
        let Some(row) = inv.first() else { return false };
        let sleeping: i64 = t
            .client()
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 \
                 AND query LIKE 'select pg_sleep%' AND state = 'active'",
                &[&row.3],
            )
            .unwrap()
            .get(0);
        found = Some((row.0, row.3.clone()));
        row.4 == "post_deployment" && sleeping == 1
    });
    found.unwrap()
}

fn job_status(t: &TestApp, code: i64) -> (String, String) {
    let row = t
        .client()
        .query_one(
            "SELECT status::text, coalesce(status_detail, '') FROM job WHERE code = $1",
            &[&code],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

fn submit_slow(t: &TestApp) -> i64 {
    t.client()
        .query_one(
            "INSERT INTO job (owner, type, payload) VALUES ('t', 'rexmart_create', \
             '{\"owner\": \"me\", \"definition\": \"slow\"}') RETURNING code",
            &[],
        )
        .unwrap()
        .get(0)
}

#[test]
fn ctrl_c_in_create_purges_the_mart() {
    let t = slow_app();
    let mut c = Worker::spawn(&t, &["create", "slow", "--owner", "me"]);
    let (code, name) = wait_for_etl(&t, &mut c);
    assert!(db_exists(&t.app.hosting, &name));
    c.signal(libc::SIGINT);
    assert_eq!(c.wait(Duration::from_secs(15)), Some(1), "{}", c.log_text());
    let log = c.log_text();
    assert!(
        log.contains(
            "harness create: interrupted; stopping the creation (again to quit at once)\n"
        ),
        "{log}"
    );
    assert!(
        log.ends_with("harness create: error: Mart creation interrupted\n"),
        "{log}"
    );
    assert_eq!(t.inventory(), [], "record #{code} purged:\n{log}");
    assert!(!db_exists(&t.app.hosting, &name), "{log}");
}

#[test]
fn ctrl_c_in_create_keeps_the_mart_when_asked_and_the_sweep_leaves_it() {
    let t = slow_app();
    let mut c = Worker::spawn(
        &t,
        &["create", "slow", "--owner", "me", "--keep-on-failure"],
    );
    let (code, name) = wait_for_etl(&t, &mut c);
    c.signal(libc::SIGTERM);
    assert_eq!(c.wait(Duration::from_secs(15)), Some(1), "{}", c.log_text());
    let inv = t.inventory();
    assert_eq!((inv[0].0, inv[0].4.as_str()), (code, "post_deployment"));
    assert!(db_exists(&t.app.hosting, &name));
    // Another command sweeps: the kept mart stays.
    let out = harness(&t, &["marts"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    assert!(text(&out.stdout).contains(&name));
    assert!(db_exists(&t.app.hosting, &name));
}

#[test]
fn a_killed_create_is_swept_by_the_next_command() {
    let t = slow_app();
    let mut c = Worker::spawn(&t, &["create", "slow", "--owner", "me"]);
    let (code, name) = wait_for_etl(&t, &mut c);
    c.signal(libc::SIGKILL);
    assert_eq!(c.wait(Duration::from_secs(5)), None);
    assert_eq!(t.inventory().len(), 1, "left behind");
    // Its lock goes with its maintenance session, which the server ends at once;
    // its ETL statement is still sleeping: the sweep ends it to drop the database.
    let out = harness(&t, &["marts"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        format!("harness marts: Mart #{code} purged: its creation stopped at status post_deployment and no creator holds it; database \"{name}\" dropped\n")
    );
    assert!(!text(&out.stdout).contains(&name));
    assert_eq!(t.inventory(), []);
    assert!(!db_exists(&t.app.hosting, &name));
}

/// A worker running one slow mart job; returns it with the job's code and the mart.
fn worker_in_etl(t: &TestApp, grace: &str) -> (Worker, i64, i64, String) {
    let job = submit_slow(t);
    let mut w = Worker::start(t, &["--grace", grace, "--poll-interval", "50"]);
    let (code, name) = wait_for_etl(t, &mut w);
    (w, job, code, name)
}

fn assert_purged_by_worker(t: &TestApp, w: &Worker, code: i64, name: &str) {
    let log = w.log_text();
    assert!(
        log.contains("WARNING:HarnessWorker:Ending the database sessions of work given up\n"),
        "{log}"
    );
    // Purged by the creation itself once its sessions ended, or else by the sweep
    // that follows (saying so).
    let _ = code;
    assert_eq!(t.inventory(), [], "{log}");
    assert!(!db_exists(&t.app.hosting, name), "{log}");
}

#[test]
fn a_worker_whose_grace_expires_purges_the_mart() {
    let t = slow_app();
    let (mut w, job, code, name) = worker_in_etl(&t, "1");
    w.signal(libc::SIGTERM);
    assert_eq!(w.wait(Duration::from_secs(20)), Some(1), "{}", w.log_text());
    let (status, detail) = job_status(&t, job);
    assert_eq!(status, "failed");
    assert!(
        detail.contains("did not finish within the 1 s grace period"),
        "{detail}"
    );
    assert_purged_by_worker(&t, &w, code, &name);
}

#[test]
fn a_second_signal_to_a_worker_purges_the_mart() {
    let t = slow_app();
    let (mut w, job, code, name) = worker_in_etl(&t, "60");
    w.signal(libc::SIGTERM);
    wait_until(Duration::from_secs(10), "the first signal's line", || {
        w.log_text().contains("Termination received")
    });
    w.signal(libc::SIGINT);
    assert_eq!(w.wait(Duration::from_secs(20)), Some(1), "{}", w.log_text());
    let (status, detail) = job_status(&t, job);
    assert_eq!(status, "failed");
    assert!(
        detail.contains("stopped at once by a second signal"),
        "{detail}"
    );
    assert_purged_by_worker(&t, &w, code, &name);
}

#[test]
fn a_killed_worker_leaves_a_mart_the_next_worker_sweeps() {
    let t = slow_app();
    let (mut a, _job, code, name) = worker_in_etl(&t, "30");
    a.signal(libc::SIGKILL);
    assert_eq!(a.wait(Duration::from_secs(5)), None);
    let mut b = Worker::start(&t, &["--poll-interval", "50"]);
    wait_until(Duration::from_secs(30), "B's sweep", || {
        t.inventory().is_empty()
    });
    assert_eq!(b.stop(), Some(0), "{}", b.log_text());
    let log = b.log_text();
    assert!(
        log.contains(&format!("WARNING:MartCreateExecutor:Mart #{code} purged: its creation stopped at status post_deployment and no creator holds it; database \"{name}\" dropped\n")),
        "{log}"
    );
    assert!(!db_exists(&t.app.hosting, &name));
}
