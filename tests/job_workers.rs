//! `harness worker` processes sharing one real PostgreSQL: exactly-once execution,
//! recovery after `kill -9`, fencing of a paused worker, `max_concurrency`, wake-ups
//! by LISTEN/NOTIFY, graceful and immediate stops.

#[path = "job/common.rs"]
mod common;
#[path = "job/procs.rs"]
mod procs;

use common::TestApp;
use harness::job::builtin::PROBE_TABLE_SQL;
use harness::pg::testing::server;
use procs::{wait_until, Worker};
use serde_json::json;
use std::time::Duration;

/// The job tests' application (`--app jobtest`).
const APPS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/job/apps");

#[test]
fn child_worker_entry() {
    procs::child_entry();
}

fn setup(label: &str) -> (TestApp, String) {
    let t = TestApp::new(label, json!({}));
    t.client().batch_execute(PROBE_TABLE_SQL).unwrap();
    let url = server().url(&t.db.name);
    (t, url)
}

fn worker(url: &str, extra: &[&str]) -> Worker {
    let mut args = vec![
        "--apps",
        APPS,
        "--app",
        "jobtest",
        "--pg-url",
        url,
        "--poll-interval",
        "200",
    ];
    args.extend_from_slice(extra);
    Worker::start(&args)
}

fn count(t: &TestApp, sql: &str) -> i64 {
    t.client().query_one(sql, &[]).unwrap().get(0)
}

fn status_of(t: &TestApp, code: i64) -> (String, Option<String>) {
    let r = t
        .client()
        .query_one(
            "SELECT status::text, status_detail FROM job WHERE code = $1",
            &[&code],
        )
        .unwrap();
    (r.get(0), r.get(1))
}

#[test]
fn four_workers_run_two_thousand_jobs_exactly_once() {
    let (t, url) = setup("job_w_once");
    let mut workers: Vec<Worker> = (0..4)
        .map(|_| worker(&url, &["--concurrency", "4"]))
        .collect();
    t.client()
        .execute(
            "INSERT INTO job (owner, type, payload) \
             SELECT 'test', 'harness_probe', '{}' FROM generate_series(1, 2000)",
            &[],
        )
        .unwrap();
    wait_until(Duration::from_secs(120), "2000 completed jobs", || {
        count(&t, "SELECT count(*) FROM job WHERE status = 'completed'") == 2000
    });
    for w in &workers {
        w.signal(libc::SIGTERM);
    }
    for w in &mut workers {
        assert_eq!(w.wait(Duration::from_secs(20)), Some(0), "{}", w.log_text());
    }
    assert_eq!(count(&t, "SELECT count(*) FROM harness_job_probe"), 2000);
    assert_eq!(
        count(&t, "SELECT count(DISTINCT code) FROM harness_job_probe"),
        2000
    );
    assert_eq!(
        count(&t, "SELECT count(*) FROM job WHERE claim_attempt <> 1"),
        0
    );
    // The work was shared.
    assert!(count(&t, "SELECT count(DISTINCT pid) FROM harness_job_probe") >= 2);
}

#[test]
fn killed_worker_job_is_recovered_and_nothing_else_is_touched() {
    let (t, url) = setup("job_w_kill");
    let fast = [
        "--set",
        "job_heartbeat_interval=1",
        "--set",
        "job_stale_after=3",
    ];
    let long = t.submit("harness_probe", json!({"sleep_ms": 60000}));
    let mut a = worker(
        &url,
        &[&["--concurrency", "1", "--worker-id", "A"][..], &fast[..]].concat(),
    );
    wait_until(Duration::from_secs(20), "job claimed by A", || {
        count(
            &t,
            "SELECT count(*) FROM job WHERE status = 'started' AND claimed_by = 'A'",
        ) == 1
    });
    let mut b = worker(
        &url,
        &[
            &["--concurrency", "2", "--worker-id", "B", "--grace", "1"][..],
            &fast[..],
        ]
        .concat(),
    );
    let other = t.submit("harness_probe", json!({"sleep_ms": 60000}));
    wait_until(Duration::from_secs(20), "job claimed by B", || {
        status_of(&t, other).0 == "started"
    });
    a.signal(libc::SIGKILL);
    assert_eq!(a.wait(Duration::from_secs(5)), None);
    let killed_at = std::time::Instant::now();
    wait_until(Duration::from_secs(15), "recovery of A's job", || {
        status_of(&t, long).0 == "failed"
    });
    // Stale threshold 3 s, checked every second.
    assert!(
        killed_at.elapsed() < Duration::from_secs(3 + 1 + 2),
        "{:?}",
        killed_at.elapsed()
    );
    assert_eq!(
        status_of(&t, long).1.as_deref(),
        Some("Worker A stopped sending heartbeats; job abandoned after 3 seconds without one")
    );
    // B's job, with a fresh heartbeat, is untouched; B still takes new work.
    assert_eq!(status_of(&t, other), ("started".to_string(), None));
    let short = t.submit("harness_probe", json!({}));
    wait_until(Duration::from_secs(10), "short job on B", || {
        status_of(&t, short).0 == "completed"
    });
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(status_of(&t, other).0, "started");

    // Graceful stop with a job that outlives the grace period: given up, and why.
    b.signal(libc::SIGTERM);
    assert_eq!(b.wait(Duration::from_secs(10)), Some(1), "{}", b.log_text());
    assert_eq!(
        status_of(&t, other),
        (
            "failed".to_string(),
            Some(
                "Worker B stopped: the job did not finish within the 1 s grace period".to_string()
            )
        )
    );
    let log = b.log_text();
    assert!(
        log.contains("INFO:HarnessWorker:Termination received; stopping (again to stop at once)\n"),
        "{log}"
    );
    // B, the only live worker, recovered A's job.
    assert!(
        log.contains(&format!(
            "WARNING:JobWorker:Job #{long} failed: its worker stopped sending heartbeats\n"
        )),
        "{log}"
    );
}

#[test]
fn paused_worker_cannot_complete_after_its_claim_went_stale() {
    let (t, url) = setup("job_w_pause");
    let fast = [
        "--set",
        "job_heartbeat_interval=1",
        "--set",
        "job_stale_after=2",
    ];
    let code = t.submit("harness_probe", json!({"sleep_ms": 3000}));
    let mut a = worker(
        &url,
        &[&["--concurrency", "1", "--worker-id", "A"][..], &fast[..]].concat(),
    );
    wait_until(Duration::from_secs(20), "job claimed by A", || {
        status_of(&t, code).0 == "started"
    });
    a.signal(libc::SIGSTOP);
    let mut b = worker(&url, &[&["--worker-id", "B"][..], &fast[..]].concat());
    wait_until(Duration::from_secs(15), "recovery", || {
        status_of(&t, code).0 == "failed"
    });
    std::thread::sleep(Duration::from_millis(1500)); // A's sleep is over by now
    a.signal(libc::SIGCONT);
    wait_until(Duration::from_secs(15), "A's execution to end", || {
        count(&t, "SELECT count(*) FROM harness_job_probe") == 1
    });
    wait_until(Duration::from_secs(5), "A to report the lost claim", || {
        a.log_text().contains(&format!("WARNING:JobWorker:Job #{code} lost its claim (attempt 1); its result was not recorded\n"))
    });
    let (status, detail) = status_of(&t, code);
    assert_eq!(status, "failed");
    assert_eq!(
        detail.as_deref(),
        Some("Worker A stopped sending heartbeats; job abandoned after 2 seconds without one")
    );
    for w in [&a, &b] {
        w.signal(libc::SIGTERM);
    }
    assert_eq!(a.wait(Duration::from_secs(10)), Some(0));
    assert_eq!(b.wait(Duration::from_secs(10)), Some(0));
}

#[test]
fn requeued_job_runs_again_and_the_paused_result_is_fenced_out() {
    let (t, url) = setup("job_w_requeue");
    let fast = [
        "--set",
        "job_heartbeat_interval=1",
        "--set",
        "job_stale_after=2",
        "--set",
        "job_stale_policy=\"requeue\"",
    ];
    let code = t.submit("harness_probe", json!({"sleep_ms": 2500}));
    let mut a = worker(
        &url,
        &[&["--concurrency", "1", "--worker-id", "A"][..], &fast[..]].concat(),
    );
    wait_until(Duration::from_secs(20), "job claimed by A", || {
        status_of(&t, code).0 == "started"
    });
    a.signal(libc::SIGSTOP);
    let mut b = worker(&url, &[&["--worker-id", "B"][..], &fast[..]].concat());
    wait_until(
        Duration::from_secs(20),
        "B to re-run and complete the job",
        || status_of(&t, code).0 == "completed",
    );
    let claimed: (String, i32) = {
        let r = t
            .client()
            .query_one(
                "SELECT claimed_by, claim_attempt FROM job WHERE code = $1",
                &[&code],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(claimed, ("B".to_string(), 2));
    a.signal(libc::SIGCONT);
    wait_until(
        Duration::from_secs(10),
        "A to report the lost claim",
        || {
            a.log_text()
                .contains(&format!("Job #{code} lost its claim (attempt 1)"))
        },
    );
    assert_eq!(status_of(&t, code), ("completed".to_string(), None));
    assert_eq!(count(&t, "SELECT count(*) FROM harness_job_probe"), 2);
    for w in [&a, &b] {
        w.signal(libc::SIGTERM);
    }
    a.wait(Duration::from_secs(10));
    b.wait(Duration::from_secs(10));
}

#[test]
fn max_concurrency_is_never_exceeded_across_workers() {
    let (t, url) = setup("job_w_limit");
    let limits = r#"job_limits={"harness_probe_limited": {"max_concurrency": 2}}"#;
    let mut workers: Vec<Worker> = (0..3)
        .map(|_| worker(&url, &["--concurrency", "4", "--set", limits]))
        .collect();
    for _ in 0..24 {
        t.submit("harness_probe_limited", json!({"sleep_ms": 100}));
        t.submit("harness_probe", json!({"sleep_ms": 20}));
    }
    wait_until(Duration::from_secs(60), "all jobs done", || {
        count(&t, "SELECT count(*) FROM job WHERE status = 'completed'") == 48
    });
    for w in &workers {
        w.signal(libc::SIGTERM);
    }
    for w in &mut workers {
        assert_eq!(w.wait(Duration::from_secs(10)), Some(0));
    }
    // Most executions of the limited type running at one instant (a sweep over
    // start/end events).
    let running_max = count(
        &t,
        "SELECT max(s)::int8 FROM (SELECT sum(delta) OVER (ORDER BY at, delta ROWS UNBOUNDED PRECEDING) AS s FROM ( \
           SELECT started AS at, 1 AS delta FROM harness_job_probe WHERE type = 'harness_probe_limited' \
           UNION ALL SELECT finished, -1 FROM harness_job_probe WHERE type = 'harness_probe_limited') e) x",
    );
    assert!(
        running_max <= 2,
        "limited jobs overlapped {running_max} at once"
    );
    assert_eq!(
        running_max, 2,
        "the limit was never reached: no parallelism"
    );
    assert_eq!(count(&t, "SELECT count(*) FROM harness_job_probe"), 48);
}

#[test]
fn notify_wakes_workers_without_polling_and_sigterm_finishes_running_jobs() {
    let (t, url) = setup("job_w_notify");
    let mut w = Worker::start(&[
        "--apps",
        APPS,
        "--app",
        "jobtest",
        "--pg-url",
        &url,
        "--poll-interval",
        "60000",
    ]);
    wait_until(Duration::from_secs(20), "worker schema", || {
        count(
            &t,
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'job_harness_notify'",
        ) == 1
    });
    std::thread::sleep(Duration::from_millis(300)); // LISTEN is issued after the schema
    let code = t.submit("harness_probe", json!({}));
    let took = wait_until(Duration::from_secs(10), "notified job", || {
        status_of(&t, code).0 == "completed"
    });
    assert!(took < Duration::from_secs(5), "{took:?}");

    // SIGTERM while a job runs: it finishes, nothing new is claimed, exit 0.
    let running = t.submit("harness_probe", json!({"sleep_ms": 1500}));
    wait_until(Duration::from_secs(10), "job started", || {
        status_of(&t, running).0 == "started"
    });
    w.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(200));
    let later = t.submit("harness_probe", json!({}));
    assert_eq!(w.wait(Duration::from_secs(20)), Some(0), "{}", w.log_text());
    assert_eq!(status_of(&t, running).0, "completed");
    assert_eq!(status_of(&t, later).0, "new");
    let log = w.log_text();
    assert!(
        log.contains(&format!("INFO:JobExecutorWorker:Processing Job #{code}\n")),
        "{log}"
    );
    assert!(
        log.contains(&format!("INFO:JobExecutorWorker:Job #{running} complete\n")),
        "{log}"
    );

    // A second signal stops at once and records why.
    let stuck = t.submit("harness_probe", json!({"sleep_ms": 60000}));
    let mut w = Worker::start(&[
        "--apps",
        APPS,
        "--app",
        "jobtest",
        "--pg-url",
        &url,
        "--log-format",
        "json",
    ]);
    wait_until(Duration::from_secs(20), "job started", || {
        status_of(&t, stuck).0 == "started"
    });
    w.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    w.signal(libc::SIGTERM);
    assert_eq!(w.wait(Duration::from_secs(5)), Some(1));
    let (status, detail) = status_of(&t, stuck);
    assert_eq!(status, "failed");
    assert!(detail
        .unwrap()
        .ends_with("stopped at once by a second signal"));
    for line in w.log_text().lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(v["level"].is_string() && v["logger"].is_string() && v["message"].is_string());
    }
}

#[test]
fn worker_serves_task_queues_and_refuses_unknown_ones() {
    let (t, url) = setup("job_w_tasks");
    let mut app = t.app.clone();
    app.settings
        .set("asynctask_transport", json!(format!("pgsql:{}", t.db.name)));
    let transport = harness::asynctask::get_transport(&app, None).unwrap();
    // A task left by rex's queuer: the job runner claims the job itself; the task is
    // taken off the queue.
    let code = t.submit("harness_probe", json!({}));
    t.client()
        .execute("UPDATE job SET status = 'queued'", &[])
        .unwrap();
    transport
        .submit_task("rex_job_0", &json!({"code": code}))
        .unwrap();
    let mut w = worker(&url, &["--queues", "rex_job_0"]);
    wait_until(Duration::from_secs(20), "task drained and job run", || {
        transport.poll_queue("rex_job_0").unwrap() == 0 && status_of(&t, code).0 == "completed"
    });
    assert_eq!(count(&t, "SELECT count(*) FROM harness_job_probe"), 1);
    w.signal(libc::SIGTERM);
    assert_eq!(w.wait(Duration::from_secs(10)), Some(0));
    let log = w.log_text();
    assert!(
        log.contains("INFO:HarnessWorker:Launching job_executor to work on queue rex_job_0\n"),
        "{log}"
    );
    assert!(
        log.contains("INFO:JobExecutorWorker:Terminating\n"),
        "{log}"
    );

    let mut bad = worker(&url, &["--queues", "nosuch"]);
    assert_eq!(bad.wait(Duration::from_secs(10)), Some(2));
    assert!(
        bad.log_text()
            .contains("harness worker: error: Cannot identify worker for queue:\n    nosuch"),
        "{}",
        bad.log_text()
    );
}

/// The runner as a library: a report of what it did, and a job that outlives the
/// grace period re-queued (policy `requeue`) with the reason.
#[test]
fn runner_in_process_reports_and_requeues_on_stop() {
    use harness::job::runner::{run, RunnerOptions, StopSignal};
    use harness::job::settings::{JobSettings, StalePolicy};
    let (t, _url) = setup("job_w_lib");
    for _ in 0..5 {
        t.submit("harness_probe", json!({}));
    }
    let slow = t.submit("harness_probe", json!({"sleep_ms": 5000}));
    let settings = JobSettings {
        stale_policy: StalePolicy::Requeue,
        ..JobSettings::default()
    };
    let mut opts = RunnerOptions::new("lib");
    opts.grace = Duration::from_millis(300);
    opts.concurrency = 2;
    let stop = StopSignal::new();
    let (app, s2) = (t.app.clone(), stop.clone());
    let registry = common::demo_registry();
    let runner = std::thread::spawn(move || run(&app, &registry, &settings, &opts, &s2));
    wait_until(
        Duration::from_secs(20),
        "slow job started, others done",
        || {
            status_of(&t, slow).0 == "started"
                && count(&t, "SELECT count(*) FROM job WHERE status = 'completed'") == 5
        },
    );
    assert_eq!(stop.request(), 1);
    let report = runner.join().unwrap().unwrap();
    assert_eq!((report.finished, report.lost), (5, 0));
    assert_eq!(report.abandoned, [slow]);
    assert_eq!(
        status_of(&t, slow),
        (
            "queued".to_string(),
            Some(
                "Worker lib stopped: the job did not finish within the 0.3 s grace period"
                    .to_string()
            )
        )
    );
}

#[test]
fn a_job_table_deployed_without_the_queue_is_refused_with_what_is_missing() {
    // rex.job's original facts: the job table without harness's claim columns.
    let db = harness::pg::testing::ScratchDb::new("job_old_deploy");
    let mut c = db.connect();
    common::deployed::deploy_file(&mut c, "fixtures/rex.job/deploy.yaml");
    let e = harness::job::claim::check_queue_schema(&mut c).unwrap_err();
    assert_eq!(
        e.to_string(),
        "The job queue is not deployed; missing:\n    \
         claim_attempt, claimed_by, heartbeat_at, job_harness_new_idx, \
         job_harness_queued_idx, job_harness_started_idx, job_harness_notify\n\
         Run `harness worker` against an application database deployed by this version \
         of harness (rex.job's facts)"
    );
    // Deploying the application adds them; the check passes.
    common::deployed::deploy_app(&mut c, None, &[]);
    harness::job::claim::check_queue_schema(&mut c).unwrap();
}
