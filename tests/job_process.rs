//! rex.job's executor worker, facets, queuer and cleanup against a real PostgreSQL,
//! checked line by line against rex.job's own test (test_basic.rst) and the seed.

#[path = "job/common.rs"]
mod common;

use common::{LogCapture, TestApp};
use harness::asynctask::localmem::LocalMemTransport;
use harness::asynctask::Transport;
use harness::job::{self, Registry};
use serde_json::json;

#[test]
fn executor_worker_logs_and_states_like_rex() {
    let t = TestApp::new("job_process", json!({}));
    let reg = common::demo_registry();
    let log = LogCapture::start("DEBUG");
    let fast = t.submit("demo_fast", json!({}));
    let fragile = t.submit("demo_fragile", json!({}));
    let unknown = t.submit("doesntexist", json!({}));
    assert_eq!((fast, fragile, unknown), (1, 2, 3));
    assert_eq!(
        t.show(1),
        "Job #1: status=new, type=demo_fast, dates=Submitted"
    );

    job::process(&t.app, &reg, &json!({"code": 1})).unwrap();
    assert_eq!(
        log.take(),
        "INFO:JobExecutorWorker:Processing Job #1\n\
         DEBUG:JobExecutorWorker:Executing job #1 for owner \"test\" with payload: {}\n\
         INFO:FastExecutor:FastExecutor executed!\n\
         INFO:JobExecutorWorker:Job #1 complete\n"
    );
    assert_eq!(
        t.show(1),
        "Job #1: status=completed, type=demo_fast, dates=Submitted,Started,Completed"
    );

    job::process(&t.app, &reg, &json!({"code": 2})).unwrap();
    let out = log.take();
    assert!(
        out.starts_with(
            "INFO:JobExecutorWorker:Processing Job #2\n\
             DEBUG:JobExecutorWorker:Executing job #2 for owner \"test\" with payload: {}\n\
             ERROR:JobExecutorWorker:Job #2 failed\n\
             Traceback (most recent call last):\n  "
        ),
        "{out}"
    );
    assert!(
        out.ends_with("\nrex.core.Error: I crashed :(\nINFO:JobExecutorWorker:Job #2 complete\n"),
        "{out}"
    );
    assert_eq!(
        t.show(2),
        "Job #2: status=failed, detail=\"I crashed :(\", type=demo_fragile, dates=Submitted,Started,Completed"
    );

    job::process(&t.app, &reg, &json!({"code": 3})).unwrap();
    assert_eq!(
        log.take(),
        "INFO:JobExecutorWorker:Processing Job #3\n\
         ERROR:JobExecutorWorker:Job type \"doesntexist\" not found; bailing\n"
    );
    assert_eq!(
        t.show(3),
        "Job #3: status=failed, detail=\"Unknown Job Type\", type=doesntexist, dates=Submitted,Started,Completed"
    );

    job::process(&t.app, &reg, &json!({"code": 6})).unwrap();
    assert_eq!(
        log.take(),
        "INFO:JobExecutorWorker:Processing Job #6\n\
         WARNING:JobExecutorWorker:Job #6 not found; bailing\n"
    );
    assert_eq!(t.show(6), "Job #6 not found");

    // At INFO (rex.mart_demo) there is no DEBUG line; a finished job runs again.
    harness::core::logging::set_level("INFO");
    job::process(&t.app, &reg, &json!({"code": "1"})).unwrap();
    assert_eq!(
        log.take(),
        "INFO:JobExecutorWorker:Processing Job #1\n\
         INFO:FastExecutor:FastExecutor executed!\n\
         INFO:JobExecutorWorker:Job #1 complete\n"
    );

    // A bad payload raises before anything is logged or written.
    let err = |p| job::process(&t.app, &reg, &p).unwrap_err().to_string();
    assert_eq!(err(json!({})), "Missing mandatory field:\n    code");
    assert_eq!(
        err(json!({"code": 1, "x": 1})),
        "Got unexpected field:\n    x"
    );
    assert_eq!(
        err(json!({"code": "abc"})),
        "Expected an integer\nGot:\n    'abc'\nWhile validating field:\n    code"
    );
    assert_eq!(log.take(), "");
}

#[test]
fn multi_paragraph_detail_and_payload_repr() {
    let t = TestApp::new("job_detail", json!({}));
    let log = LogCapture::start("DEBUG");
    struct Wrapped;
    impl job::Executor for Wrapped {
        fn job_type(&self) -> &str {
            "wrapped"
        }
        fn logger_name(&self) -> &str {
            "WrappedExecutor"
        }
        fn execute(
            &self,
            _: &harness::core::app::App,
            _: i64,
            _: &str,
            _: &serde_json::Value,
        ) -> harness::core::Result<()> {
            Err(harness::core::Error::with("Got unexpected field:", "bad")
                .wrap_with("While creating Mart database:", "broken_htsql"))
        }
    }
    let reg = Registry::new().with(std::sync::Arc::new(Wrapped)).unwrap();
    let code = t.submit("wrapped", json!({"bad": "payload", "n": 1.5}));
    job::process(&t.app, &reg, &json!({"code": code})).unwrap();
    let out = log.take();
    assert!(
        out.contains("with payload: {'n': 1.5, 'bad': 'payload'}\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "\nrex.core.Error: Got unexpected field:\n    bad\nWhile creating Mart database:\n    broken_htsql\nINFO:JobExecutorWorker:Job #1 complete\n"
        ),
        "{out}"
    );
    let detail: String = t
        .client()
        .query_one("SELECT status_detail FROM job WHERE code = 1", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        detail,
        "Got unexpected field:\n    bad\nWhile creating Mart database:\n    broken_htsql"
    );
}

#[test]
fn update_facet_upserts_on_the_job() {
    let t = TestApp::new("job_facet", json!({}));
    let _log = LogCapture::start("INFO");
    let a = t.submit("demo_slow", json!({"foo": 123, "sleep": 0}));
    let reg = common::demo_registry();
    job::process(&t.app, &reg, &json!({"code": a})).unwrap();
    let value = |code: i64| -> Option<i64> {
        t.client()
            .query_opt(
                "SELECT s.my_value FROM slow s JOIN job j ON j.id = s.job_id WHERE j.code = $1",
                &[&code],
            )
            .unwrap()
            .map(|r| r.get(0))
    };
    assert_eq!(value(a), Some(123));
    job::update_facet(&t.app, "slow", a, &[("my_value", json!(7))]).unwrap();
    assert_eq!(value(a), Some(7));
    let rows: i64 = t
        .client()
        .query_one("SELECT count(*) FROM slow", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 1);

    // Text facet: insert with NULL elsewhere, then update only the listed field.
    job::update_facet(
        &t.app,
        "job_rexmart_create",
        a,
        &[("log", json!("Mart creation began"))],
    )
    .unwrap();
    job::update_facet(
        &t.app,
        "job_rexmart_create",
        a,
        &[("log", json!("Mart creation began\nmore"))],
    )
    .unwrap();
    let log: String = t
        .client()
        .query_one("SELECT log FROM job_rexmart_create", &[])
        .unwrap()
        .get(0);
    assert_eq!(log, "Mart creation began\nmore");

    let err = job::update_facet(&t.app, "slow", 99, &[("my_value", json!(1))]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Job not found:\n    99\nWhile updating job facet:\n    slow"
    );
    // Deleting the job deletes its facets.
    t.client()
        .execute("DELETE FROM job WHERE code = $1", &[&a])
        .unwrap();
    let rows: i64 = t
        .client()
        .query_one("SELECT count(*) FROM slow", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 0);
}

#[test]
fn queuer_respects_limits_and_cleanup_purges_finished_jobs() {
    let t = TestApp::new(
        "job_queuer",
        json!({"job_limits": {"demo_fast": {"max_concurrency": 1}, "demo_slow": {}}}),
    );
    let _log = LogCapture::start("INFO");
    for ty in [
        "demo_fast",
        "demo_slow",
        "demo_fragile",
        "doesntexist",
        "demo_fast",
    ] {
        t.submit(ty, json!({"foo": 1, "sleep": 0}));
    }
    t.submit("demo_fast", json!({})); // 6
    t.client()
        .execute(
            "UPDATE job SET status = 'completed', date_completed = LOCALTIMESTAMP WHERE code = 6",
            &[],
        )
        .unwrap();
    let transport = LocalMemTransport::new();
    job::queuer::process(&t.app, &transport).unwrap();
    let status = |code: i64| -> String {
        t.client()
            .query_one("SELECT status::text FROM job WHERE code = $1", &[&code])
            .unwrap()
            .get(0)
    };
    let statuses: Vec<String> = (1..=5).map(status).collect();
    assert_eq!(statuses, ["queued", "queued", "queued", "queued", "new"]);
    let mut tasks = Vec::new();
    while let Some(task) = transport.get_task("rex_job_0").unwrap() {
        tasks.push(task);
    }
    assert_eq!(
        tasks,
        [
            json!({"code": 1}),
            json!({"code": 2}),
            json!({"code": 3}),
            json!({"code": 4})
        ]
    );

    // Job 1 completes, the next run queues job 5.
    job::process(&t.app, &common::demo_registry(), &json!({"code": 1})).unwrap();
    job::queuer::process(&t.app, &transport).unwrap();
    assert_eq!(status(5), "queued");

    // Round robin over job_queues.
    let mut app2 = t.app.clone();
    app2.settings.set("job_queues", json!(2));
    t.submit("demo_slow", json!({})); // 7
    t.submit("demo_slow", json!({})); // 8
    let transport2 = LocalMemTransport::new();
    job::queuer::process(&app2, &transport2).unwrap();
    assert_eq!(
        transport2.get_task("rex_job_0").unwrap(),
        Some(json!({"code": 7}))
    );
    assert_eq!(
        transport2.get_task("rex_job_1").unwrap(),
        Some(json!({"code": 8}))
    );

    // Cleanup: 0 keeps everything; otherwise only finished jobs older than max_age go.
    let mut keep = t.app.clone();
    keep.settings.set("job_max_age", json!(0));
    assert_eq!(job::cleanup::process(&keep).unwrap(), 0);
    t.client()
        .execute("UPDATE job SET date_completed = LOCALTIMESTAMP - interval '10 seconds' WHERE date_completed IS NOT NULL", &[])
        .unwrap();
    let mut purge = t.app.clone();
    purge.settings.set("job_max_age", json!(5));
    assert_eq!(job::cleanup::process(&purge).unwrap(), 2); // jobs 1 and 6
    let left: Vec<i64> = t
        .client()
        .query("SELECT code FROM job ORDER BY code", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(left, [2, 3, 4, 5, 7, 8]);
}

#[test]
fn rex_task_workers_run_jobs_through_queues() {
    let mut t = TestApp::new("job_tasks", json!({"asynctask_transport": "localmem://"}));
    job::workers::initialize(&mut t.app.settings).unwrap();
    let log = LogCapture::start("INFO");
    let mut workers = harness::asynctask::WorkerRegistry::new();
    job::workers::register(&mut workers, &common::demo_registry()).unwrap();
    let code = t.submit("demo_fast", json!({}));
    let queuer = workers.get("job_queuer").unwrap();
    queuer.process(&t.app, &json!({})).unwrap();
    assert_eq!(
        t.show(code),
        "Job #1: status=queued, type=demo_fast, dates=Submitted"
    );
    let n = harness::asynctask::process_queue(&t.app, &workers, "rex_job_0", None, false).unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        t.show(code),
        "Job #1: status=completed, type=demo_fast, dates=Submitted,Started,Completed"
    );
    assert_eq!(
        log.take(),
        "INFO:JobExecutorWorker:Processing Job #1\n\
         INFO:FastExecutor:FastExecutor executed!\n\
         INFO:JobExecutorWorker:Job #1 complete\n"
    );
    t.client()
        .execute(
            "UPDATE job SET date_completed = LOCALTIMESTAMP - interval '1 day'",
            &[],
        )
        .unwrap();
    t.app.settings.set("job_max_age", json!(60));
    workers
        .get("job_cleanup")
        .unwrap()
        .process(&t.app, &json!({}))
        .unwrap();
    assert_eq!(t.show(code), "Job #1 not found");
}
