//! An application's mart rules written in Python apply outside transcripts too:
//! `harness worker` (the `rexmart_create` job executor and task worker, in worker
//! threads), `harness create` and `rex mart-create` run the demo's `DemoMartQuota` (owner `cmdtest`
//! may not create `some_more_data`; the marts of `test` are never reaped) and the
//! processors of its Python module. The application is a copy of the demo with one
//! more definition, `pyproc` (a quota of one mart per owner, the demo's `myproc`
//! and `otherproc`, and a processor that logs) and that processor's code. In a
//! transcript, `JobExecutorWorker` runs the same rules on the transcript's own
//! interpreter.

mod mart;
#[path = "job/procs.rs"]
mod procs;

use harness::pg::testing::server;
use mart::{db_exists, TestApp};
use procs::{wait_until, Worker};
use serde_json::json;
use std::process::{Command, Output};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_harness");

const PYPROC: &str = r#"  - id: pyproc
    description: A mart whose processors are the application's Python ones
    quota:
      per_owner: 1
    deploy: !include simple_deploy.yaml
    processors:
      - id: myproc
      - id: otherproc
        options:
          foo: x
      - id: pylog
"#;

const PYLOG: &str = "\
class LoggingProcessor(Processor):
    name = 'pylog'

    def execute(self, options, interface):
        interface.log('pylog ran on ' + interface.database)
";

/// The quota refusal, rex's text.
const REFUSED: &str = "Creating a \"some_more_data\" Mart for \"cmdtest\" would exceed their quota";

#[test]
fn child_worker_entry() {
    procs::child_entry();
}

fn app() -> TestApp {
    TestApp::demo_copy(PYPROC, PYLOG)
}

/// The flags naming `t`'s application (the copy) and database.
fn app_flags(t: &TestApp) -> Vec<String> {
    vec![
        "--apps".into(),
        t.app_root().display().to_string(),
        "--app".into(),
        "rex.mart_demo".into(),
        "--pg-url".into(),
        server().url(&t.app.db.name),
        "--set".into(),
        format!("mart_name_prefix=\"{}\"", t.prefix),
    ]
}

/// `(owner, definition, name)` of the marts in the inventory, by code.
fn marts(t: &TestApp) -> Vec<(String, String, String)> {
    t.inventory()
        .into_iter()
        .map(|(_, definition, owner, name, _)| (owner, definition, name))
        .collect()
}

fn owners(t: &TestApp) -> Vec<String> {
    marts(t).into_iter().map(|m| m.0).collect()
}

/// The lines a processor run writes to a creation log, for the mart `name`.
fn processor_lines(name: &str) -> Vec<String> {
    [
        "Executing Processor myproc...",
        "...complete",
        "Executing Processor otherproc...",
        "...complete",
        "Executing Processor pylog...",
        &format!("pylog ran on {name}"),
        "...complete",
    ]
    .iter()
    .map(|l| l.to_string())
    .collect()
}

#[test]
fn worker_jobs_and_tasks_follow_the_python_quota_and_run_python_processors() {
    let t = app();
    let mut args = app_flags(&t);
    args.extend(
        [
            "--concurrency",
            "1",
            "--poll-interval",
            "100",
            "--set",
            "asynctask_workers={\"rexmart_create\": \"rexmart_create\"}",
            "--set",
            "asynctask_workers_poll_interval=50",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut worker = Worker::start(&args);
    wait_until(Duration::from_secs(60), "the task worker", || {
        worker
            .log_text()
            .contains("INFO:MartCreateWorker:Starting; queue=rexmart_create")
    });
    // One at a time, in code order (`--concurrency 1`).
    let mut db = t.client();
    for (owner, definition) in [
        ("alice", "pyproc"),
        ("alice", "pyproc"),
        ("test", "pyproc"),
        ("test", "pyproc"),
        ("cmdtest", "some_more_data"),
    ] {
        let payload = json!({"owner": owner, "definition": definition});
        db.execute(
            "INSERT INTO job (owner, type, payload) VALUES ('x', 'rexmart_create', $1)",
            &[&payload],
        )
        .unwrap();
    }
    let count = |sql: &str| -> i64 { t.client().query_one(sql, &[]).unwrap().get(0) };
    wait_until(Duration::from_secs(120), "the jobs", || {
        count("SELECT count(*) FROM job WHERE status IN ('completed', 'failed')") == 5
    });
    let jobs: Vec<(i64, String, Option<String>)> = db
        .query(
            "SELECT code, status::text, status_detail FROM job ORDER BY code",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let statuses: Vec<&str> = jobs.iter().map(|j| j.1.as_str()).collect();
    assert_eq!(
        statuses,
        ["completed", "completed", "completed", "completed", "failed"],
        "{jobs:?}\n{}",
        worker.log_text()
    );
    let detail = jobs[4].2.clone().unwrap_or_default();
    assert!(detail.contains(REFUSED), "{detail}");
    // alice's first mart was reaped by her second; both of `test` stay.
    assert_eq!(owners(&t), ["alice", "test", "test"], "{:?}", marts(&t));
    let all = marts(&t);
    for (_, _, name) in &all {
        assert!(db_exists(&t.app.hosting, name), "{name}");
    }
    // The facet of alice's second job: the processors ran, the Python one logged.
    let facet_of = |code: i64| -> String {
        t.client()
            .query_one(
                "SELECT log FROM job_rexmart_create JOIN job ON job.id = job_id WHERE code = $1",
                &[&code],
            )
            .unwrap()
            .get(0)
    };
    let facet = facet_of(jobs[1].0);
    let lines: Vec<String> = facet.lines().map(str::to_string).collect();
    let expected = processor_lines(&all[0].2);
    assert!(
        lines.windows(expected.len()).any(|w| w == expected),
        "{facet}"
    );
    // The refused job's facet is written, empty (the quota is asked first).
    assert_eq!(facet_of(jobs[4].0), "");

    // The task worker: a creation for bob, a refused one for cmdtest.
    for payload in [
        json!({"owner": "bob", "definition": "pyproc"}),
        json!({"owner": "cmdtest", "definition": "some_more_data"}),
    ] {
        db.execute(
            "INSERT INTO asynctask.asynctask_queue (queue_name, payload) VALUES ('rexmart_create', $1)",
            &[&payload],
        )
        .unwrap();
    }
    wait_until(Duration::from_secs(60), "the tasks", || {
        count("SELECT count(*) FROM asynctask.asynctask_queue") == 0
            && worker.log_text().contains(REFUSED)
            && owners(&t).contains(&"bob".to_string())
    });
    worker.signal(libc::SIGTERM);
    assert_eq!(worker.wait(Duration::from_secs(30)), Some(0));
    let log = worker.log_text();
    let bob = marts(&t).into_iter().find(|m| m.0 == "bob").unwrap().2;
    for line in processor_lines(&bob) {
        assert!(
            log.contains(&format!("INFO:MartCreateWorker:{line}\n")),
            "{line}\n{log}"
        );
    }
    assert!(
        log.contains(&format!(
            "INFO:MartCreateExecutor:pylog ran on {}\n",
            all[0].2
        )),
        "{log}"
    );
    assert!(
        log.contains(
            "ERROR:MartCreateWorker:An unhandled exception occurred while processing the payload\n"
        ) && log.contains(&format!("rex.core.Error: {REFUSED}\n")),
        "{log}"
    );
    assert!(!owners(&t).contains(&"cmdtest".to_string()));
}

fn create(t: &TestApp, definition: &str, owner: &str) -> Output {
    let mut args = vec!["create".to_string(), definition.into(), "--owner".into()];
    args.push(owner.into());
    args.extend(app_flags(t));
    Command::new(BIN)
        .args(&args)
        .env_remove("HARNESS_APPS")
        .output()
        .unwrap()
}

#[test]
fn harness_create_refuses_and_reaps_by_the_python_quota() {
    let t = app();
    let ok = |out: &Output| {
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let name = text.lines().last().unwrap_or_default().to_string();
        (text, name)
    };
    let (text, first) = ok(&create(&t, "pyproc", "alice"));
    for line in processor_lines(&first) {
        assert!(
            text.lines().any(|l| l.ends_with(&format!(" {line}"))),
            "{line}\n{text}"
        );
    }
    // A quota of one: alice's second mart reaps her first.
    let (_, second) = ok(&create(&t, "pyproc", "alice"));
    assert!(!db_exists(&t.app.hosting, &first));
    assert!(db_exists(&t.app.hosting, &second));
    // ...but the marts of `test` stay.
    ok(&create(&t, "pyproc", "test"));
    ok(&create(&t, "pyproc", "test"));
    assert_eq!(owners(&t), ["alice", "test", "test"], "{:?}", marts(&t));
    // Refused before anything is made: status 1, rex's text.
    let out = create(&t, "some_more_data", "cmdtest");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout, b"");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("harness create: error: {REFUSED}\n")
    );
    assert_eq!(owners(&t), ["alice", "test", "test"]);
    // Another definition for cmdtest is fine.
    ok(&create(&t, "empty", "cmdtest"));
}

/// `JobExecutorWorker` in a transcript: the refusal, the Python processors, the
/// reaping (alice's first mart goes, the marts of `test` stay).
const TRANSCRIPT: &str = r#"    >>> from rex.core import Rex
    >>> rex = Rex('rex.mart_demo')
    >>> rex.on()
    >>> from rex.job import JobExecutorWorker
    >>> from rex.db import get_db
    >>> def run_job(owner, definition):
    ...     code = int(str(get_db().produce(
    ...         "/{'x' :as owner, 'rexmart_create' :as type, $payload :as payload} :as job/:insert",
    ...         payload={'owner': owner, 'definition': definition},
    ...     )[0]))
    ...     JobExecutorWorker().process({'code': code})

    >>> run_job('cmdtest', 'some_more_data')  # doctest: +ELLIPSIS
    INFO:JobExecutorWorker:Processing Job #1
    ERROR:JobExecutorWorker:Job #1 failed
    Traceback (most recent call last):
    ...
    rex.core.Error: Creating a "some_more_data" Mart for "cmdtest" would exceed their quota
    INFO:JobExecutorWorker:Job #1 complete

    >>> run_job('alice', 'pyproc')  # doctest: +ELLIPSIS
    INFO:JobExecutorWorker:Processing Job #2
    ...
    INFO:MartCreateExecutor:Executing Processor myproc...
    INFO:MartCreateExecutor:...complete
    INFO:MartCreateExecutor:Executing Processor otherproc...
    INFO:MartCreateExecutor:...complete
    INFO:MartCreateExecutor:Executing Processor pylog...
    INFO:MartCreateExecutor:pylog ran on mart_pyproc_1_...
    INFO:MartCreateExecutor:...complete
    ...
    INFO:JobExecutorWorker:Job #2 complete
    >>> for owner in ['alice', 'test', 'test']:
    ...     run_job(owner, 'pyproc')  # doctest: +ELLIPSIS
    INFO:JobExecutorWorker:Processing Job #3
    ...
    INFO:JobExecutorWorker:Job #5 complete
    >>> get_db().produce("/rexmart_inventory{code, owner}")
    <Product ({2, 'alice'}, {3, 'test'}, {4, 'test'})>
"#;

#[test]
fn transcript_jobs_follow_the_python_quota_and_run_python_processors() {
    let t = app();
    let file = t.app_root().join("pyrules.txt");
    std::fs::write(&file, TRANSCRIPT).unwrap();
    let out = Command::new(BIN)
        .args(["run", "--apps"])
        .arg(t.app_root())
        .args(["--pg-url", &server().url("postgres")])
        .arg(&file)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.ends_with("10 passed, 0 failed\n"), "{text}");
}

/// `rex mart-create` (as `harness ctl`), outside a transcript.
fn ctl_create(t: &TestApp, owner: &str, definition: &str) -> Output {
    Command::new(BIN)
        .args(["ctl", "mart-create", "--owner", owner])
        .args(["--definition", definition])
        .arg(format!("--set=mart_name_prefix={}", t.prefix))
        .env("REX_PROJECT", "rex.mart_demo")
        .env("HARNESS_APPS", t.app_root())
        .env("HARNESS_PG_URL", server().url(&t.app.db.name))
        .output()
        .unwrap()
}

#[test]
fn rex_mart_create_follows_the_python_quota_and_runs_python_processors() {
    let t = app();
    let out = ctl_create(&t, "alice", "pyproc");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let name = marts(&t).pop().unwrap().2;
    for line in processor_lines(&name) {
        assert!(
            text.lines().any(|l| l.ends_with(&format!(" {line}"))),
            "{line}\n{text}"
        );
    }
    // Refused: the entry fails (said on stderr), the command goes on (no halt).
    let out = ctl_create(&t, "cmdtest", "some_more_data");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("Mart creation for Record(owner='cmdtest', definition='some_more_data', "),
        "{err}"
    );
    assert!(
        err.contains(&format!("rex.core.Error: {REFUSED}\n")),
        "{err}"
    );
    assert_eq!(owners(&t), ["alice"]);
}
