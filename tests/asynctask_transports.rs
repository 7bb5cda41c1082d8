//! rex.asynctask: the shared transport script (test_localmem/test_pgsql), the worker
//! loop's log lines, at-least-once delivery and SKIP LOCKED hand-out on `pgsql`.

#[path = "job/common.rs"]
mod common;

use common::{LogCapture, TestApp};
use harness::asynctask::worker_loop::{self, LoopOptions};
use harness::asynctask::{
    get_transport, process_queue, run_worker, Transport, Worker, WorkerRegistry,
};
use harness::core::app::App;
use harness::core::{Error, Result};
use serde_json::{json, Value};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The script every rex transport test runs.
fn transport_script(t: &dyn Transport) {
    assert_eq!(t.poll_queue("foo").unwrap(), 0);
    t.submit_task("foo", &json!({"foo": 1})).unwrap();
    t.submit_task("foo", &json!({"foo": 2})).unwrap();
    assert_eq!(t.poll_queue("foo").unwrap(), 2);
    assert_eq!(t.get_task("foo").unwrap(), Some(json!({"foo": 1})));
    assert_eq!(t.get_task("foo").unwrap(), Some(json!({"foo": 2})));
    assert_eq!(t.get_task("foo").unwrap(), None);
    assert_eq!(t.poll_queue("foo").unwrap(), 0);
    assert_eq!(t.poll_queue("doesntexist").unwrap(), 0);
    t.submit_task("foo", &json!({"foo": 1})).unwrap();
    t.submit_task("bar", &json!({"bar": 1})).unwrap();
    assert_eq!(t.get_task("bar").unwrap(), Some(json!({"bar": 1})));
    assert_eq!(t.get_task("bar").unwrap(), None);
    assert_eq!(t.get_task("foo").unwrap(), Some(json!({"foo": 1})));
    let bad = "\"BADNAME\" is not a properly-formatted queue name";
    assert_eq!(
        t.submit_task("BADNAME", &json!({}))
            .unwrap_err()
            .to_string(),
        bad
    );
    assert_eq!(t.get_task("BADNAME").unwrap_err().to_string(), bad);
    // Payloads come back with sorted keys; None becomes {}.
    t.submit_task("foo", &json!({"foo": "bar", "baz": 123}))
        .unwrap();
    assert_eq!(
        t.get_task("foo").unwrap().unwrap().to_string(),
        r#"{"baz":123,"foo":"bar"}"#
    );
    t.submit_task("foo", &Value::Null).unwrap();
    assert_eq!(t.get_task("foo").unwrap(), Some(json!({})));
}

#[test]
fn localmem_and_pgsql_pass_the_shared_script() {
    let t = TestApp::new(
        "asynctask_script",
        json!({"asynctask_transport": "localmem://"}),
    );
    let local = get_transport(&t.app, None).unwrap();
    assert_eq!(local.repr(), "LocalMemoryAsyncTransport");
    transport_script(local.as_ref());
    let pg = get_transport(&t.app, Some("pgsql:asynctask_demo_unused")).err();
    assert!(pg
        .unwrap()
        .to_string()
        .starts_with("Failed to connect to the Postgres server:\n"));

    let mut app = t.app.clone();
    app.settings.set("db", json!("pgsql:asynctask_demo"));
    app.settings
        .set("asynctask_transport", json!("pgsql:asynctask_demo"));
    let pg = get_transport(&app, None).unwrap();
    assert_eq!(
        pg.repr(),
        "PostgresAsyncTransport(localhost/asynctask_demo)"
    );
    transport_script(pg.as_ref());
    // Falls back to the db setting; unknown schemes and no setting are errors.
    app.settings.set("asynctask_transport", Value::Null);
    assert!(get_transport(&app, None).is_ok());
    assert_eq!(
        get_transport(&app, Some("foo://bar"))
            .err()
            .unwrap()
            .to_string(),
        "\"foo://bar\" does not resolve to a known AsyncTransport"
    );
    app.settings.set("db", Value::Null);
    assert_eq!(
        get_transport(&app, None).err().unwrap().to_string(),
        "Asynctask transport not specified"
    );
}

#[test]
fn pgsql_tasks_survive_a_dying_worker_and_are_handed_out_once() {
    let t = TestApp::new(
        "asynctask_alo",
        json!({"db": "pgsql:x", "asynctask_transport": "pgsql:x"}),
    );
    let a = get_transport(&t.app, None).unwrap();
    a.submit_task("jobs", &json!({"n": 1})).unwrap();
    a.submit_task("jobs", &json!({"n": 2})).unwrap();

    // A worker that dies while processing (a panic drops its transaction): the task
    // stays queued.
    let app = t.app.clone();
    let died = std::thread::spawn(move || {
        let t = get_transport(&app, None).unwrap();
        let _ = t.with_task("jobs", &mut |_p| panic!("worker died"));
    })
    .join();
    assert!(died.is_err());
    assert_eq!(a.poll_queue("jobs").unwrap(), 2);

    // While one worker holds task 1, another gets task 2 (SKIP LOCKED), not task 1.
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let app = t.app.clone();
    let holder = std::thread::spawn(move || {
        let t = get_transport(&app, None).unwrap();
        let mut seen = None;
        t.with_task("jobs", &mut |p| {
            seen = Some(p.clone());
            held_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            Ok(())
        })
        .unwrap();
        seen
    });
    held_rx.recv().unwrap();
    let b = get_transport(&t.app, None).unwrap();
    assert_eq!(b.get_task("jobs").unwrap(), Some(json!({"n": 2})));
    assert_eq!(b.get_task("jobs").unwrap(), None);
    release_tx.send(()).unwrap();
    assert_eq!(holder.join().unwrap(), Some(json!({"n": 1})));
    // Deleted only once processed.
    assert_eq!(a.poll_queue("jobs").unwrap(), 0);
}

struct FooWorker {
    seen: Mutex<Vec<Value>>,
}

impl Worker for FooWorker {
    fn name(&self) -> &str {
        "demo_foo_worker"
    }
    fn logger_name(&self) -> &str {
        "FooWorker"
    }
    fn process(&self, _app: &App, payload: &Value) -> Result<()> {
        self.seen.lock().unwrap().push(payload.clone());
        if payload.get("fail").is_some() {
            return Err(Error::new("Oops"));
        }
        Ok(())
    }
}

#[test]
fn worker_loop_logs_like_rex_and_carries_on_after_errors() {
    let t = TestApp::new(
        "asynctask_loop",
        json!({"db": "pgsql:x", "asynctask_transport": "pgsql:x"}),
    );
    let log = LogCapture::start("DEBUG");
    let transport = get_transport(&t.app, None).unwrap();
    transport.submit_task("foo", &json!({"foo": 1})).unwrap();
    transport
        .submit_task("foo", &json!({"fail": true}))
        .unwrap();
    let worker = FooWorker {
        seen: Mutex::new(vec![]),
    };
    let opts = LoopOptions {
        poll_interval: Duration::from_millis(10),
        halt_when_empty: true,
        stop: Arc::new(AtomicBool::new(false)),
    };
    worker_loop::run(&t.app, &worker, transport.as_ref(), "foo", &opts).unwrap();
    let out = log.take();
    assert!(
        out.starts_with(
            "INFO:FooWorker:Starting; queue=foo\n\
             DEBUG:FooWorker:Got payload: {'foo': 1}\n\
             DEBUG:FooWorker:Processing complete\n\
             DEBUG:FooWorker:Got payload: {'fail': True}\n\
             ERROR:FooWorker:An unhandled exception occurred while processing the payload\n\
             Traceback (most recent call last):\n"
        ),
        "{out}"
    );
    assert!(
        out.ends_with("rex.core.Error: Oops\nINFO:FooWorker:No tasks found in queue\nINFO:FooWorker:Terminating\n"),
        "{out}"
    );
    assert_eq!(worker.seen.lock().unwrap().len(), 2);
    assert_eq!(transport.poll_queue("foo").unwrap(), 0);
}

#[test]
fn process_queue_and_run_worker_find_their_pairs() {
    let t = TestApp::new(
        "asynctask_core",
        json!({"asynctask_transport": "localmem://", "asynctask_workers": {"foo": "demo_foo_worker", "off": null, "bar": {"worker": "nope"}}}),
    );
    let _log = LogCapture::start("INFO");
    let worker = Arc::new(FooWorker {
        seen: Mutex::new(vec![]),
    });
    let reg = WorkerRegistry::new().with(worker.clone()).unwrap();
    let transport = get_transport(&t.app, None).unwrap();
    transport.submit_task("foo", &json!({"a": 1})).unwrap();
    transport.submit_task("foo", &json!({"a": 2})).unwrap();
    assert_eq!(process_queue(&t.app, &reg, "foo", None, false).unwrap(), 2);
    transport.submit_task("other", &json!({"a": 3})).unwrap();
    assert_eq!(
        process_queue(&t.app, &reg, "other", Some("demo_foo_worker"), true).unwrap(),
        1
    );
    assert_eq!(
        run_worker(&t.app, &reg, "demo_foo_worker", None, false).unwrap(),
        0
    );
    let err = |r: Result<usize>| r.unwrap_err().to_string();
    assert_eq!(
        err(process_queue(&t.app, &reg, "nothing", None, false)),
        "Cannot identify worker for queue \"nothing\""
    );
    assert_eq!(
        err(process_queue(&t.app, &reg, "bar", None, false)),
        "Worker \"nope\" does not exist"
    );
    assert_eq!(
        err(run_worker(&t.app, &reg, "ghost", None, false)),
        "Cannot identify queue for worker \"ghost\""
    );
    assert_eq!(worker.seen.lock().unwrap().len(), 3);
}
