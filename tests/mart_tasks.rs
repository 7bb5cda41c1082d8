//! `MartCreateWorker` and `MartCreateExecutor` on a real PostgreSQL: payload
//! validation, creation, and the executor's `job_rexmart_create` facet (written on
//! failure too, absent when the payload is refused).

mod mart;

use harness::asynctask::Worker;
use harness::job::Executor;
use harness::mart::{MartCreateExecutor, MartCreateWorker};
use mart::{db_exists, TestApp};
use serde_json::{json, Value};

const DEFS: &str = r#"
definitions:
  - id: empty
  - id: broken_sql
    post_deploy_scripts:
      - script: insert into blah (col1) values('stuff');
        type: sql
"#;

fn submit(t: &TestApp, payload: &Value) -> i64 {
    t.client()
        .query_one(
            "INSERT INTO job (owner, type, payload) VALUES ('test', 'rexmart_create', $1) RETURNING code",
            &[payload],
        )
        .unwrap()
        .get(0)
}

fn facet(t: &TestApp, code: i64) -> Option<String> {
    t.client()
        .query_opt(
            "SELECT f.log FROM job_rexmart_create f JOIN job j ON j.id = f.job_id WHERE j.code = $1",
            &[&code],
        )
        .unwrap()
        .map(|r| r.get(0))
}

#[test]
fn worker_validates_payloads_and_creates() {
    let t = TestApp::with_definitions(DEFS, &[]);
    let w = MartCreateWorker::default();
    assert_eq!(
        (w.name(), w.logger_name()),
        ("rexmart_create", "MartCreateWorker")
    );
    w.process(&t.app, &json!({"owner": "async", "definition": "empty"}))
        .unwrap();
    let inv = t.inventory();
    assert_eq!(
        (inv[0].0, inv[0].2.as_str(), inv[0].4.as_str()),
        (1, "async", "complete")
    );
    assert!(db_exists(&t.app.hosting, &inv[0].3));
    for (payload, text) in [
        (
            json!({"owner": "async"}),
            "Missing mandatory field:\n    definition",
        ),
        (
            json!({"definition": "empty"}),
            "Missing mandatory field:\n    owner",
        ),
        (
            json!({"owner": "a", "definition": "nope"}),
            "Unknown definition \"nope\"",
        ),
    ] {
        assert_eq!(w.process(&t.app, &payload).unwrap_err().to_string(), text);
    }
    assert_eq!(t.inventory().len(), 1);
    // purge_on_failure from the payload.
    let err = w
        .process(
            &t.app,
            &json!({"owner": "a", "definition": "broken_sql", "purge_on_failure": false}),
        )
        .unwrap_err();
    assert!(err
        .to_string()
        .ends_with("While creating Mart database:\n    broken_sql"));
    assert_eq!(t.inventory()[1].4, "post_deployment");
}

#[test]
fn executor_keeps_the_log_in_the_facet_on_success_and_failure() {
    let t = TestApp::with_definitions(DEFS, &[]);
    let x = MartCreateExecutor::default();
    assert_eq!(
        (x.job_type(), x.logger_name()),
        ("rexmart_create", "MartCreateExecutor")
    );

    let p1 = json!({"definition": "empty", "owner": "async"});
    let j1 = submit(&t, &p1);
    x.execute(&t.app, j1, "test", &p1).unwrap();
    let log = facet(&t, j1).unwrap();
    let lines: Vec<&str> = log.split('\n').collect();
    assert_eq!(lines.len(), 9);
    assert!(lines[0].starts_with("Mart creation began: "));
    assert_eq!(
        lines[1],
        format!("Creating database: {}", t.inventory()[0].3)
    );
    assert!(lines[8].starts_with("Mart database size: "));
    assert_eq!(t.inventory()[0].2, "async"); // the payload's owner, not the job's

    let p2 = json!({"bad": "payload"});
    let j2 = submit(&t, &p2);
    assert_eq!(
        x.execute(&t.app, j2, "test", &p2).unwrap_err().to_string(),
        "Got unexpected field:\n    bad"
    );
    assert_eq!(facet(&t, j2), None);

    let p3 = json!({"definition": "broken_sql", "owner": "async"});
    let j3 = submit(&t, &p3);
    let err = x.execute(&t.app, j3, "test", &p3).unwrap_err().to_string();
    assert!(err.starts_with(
        "Got an error from the database driver:\n    relation \"blah\" does not exist"
    ));
    let log = facet(&t, j3).unwrap();
    let lines: Vec<&str> = log.split('\n').collect();
    assert_eq!(
        lines[2..],
        ["Executing Post-Deployment ETL...", "SQL script #1..."]
    );
    assert_eq!(t.inventory().len(), 1); // the failed mart was purged

    // Running a job again replaces its facet row.
    harness::mart::tasks::save_facet(&t.app, j1, "again").unwrap();
    assert_eq!(facet(&t, j1).unwrap(), "again");
}
