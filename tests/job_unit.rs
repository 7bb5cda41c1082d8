//! A job's unit of work under the job runner (`harness worker`'s), in process:
//! what the executor does on the application database through
//! `work_tx::with_client` is invisible until the job's completion commits it, a
//! failed statement undoes itself only, a failed job commits its work with the
//! failure, and a job whose claim was lost rolls its work back.

#[path = "job/common.rs"]
mod common;

use common::TestApp;
use harness::core::app::App;
use harness::core::work_tx::with_client;
use harness::core::{Error, Result};
use harness::job::runner::{self, RunnerOptions, StopSignal};
use harness::job::settings::JobSettings;
use harness::job::{Executor, Registry};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Rows of `unit_run` another session saw while each job ran: (code, count).
static SEEN: Mutex<Vec<(i64, i64)>> = Mutex::new(Vec::new());

struct UnitProbe;

impl Executor for UnitProbe {
    fn job_type(&self) -> &str {
        "unit_probe"
    }

    fn logger_name(&self) -> &str {
        "UnitProbe"
    }

    fn execute(&self, app: &App, code: i64, _owner: &str, payload: &Value) -> Result<()> {
        let insert = |what: &'static str| {
            with_client(&app.db, |tx| {
                tx.execute("INSERT INTO unit_run VALUES ($1, $2)", &[&code, &what])?;
                Ok(())
            })
        };
        insert("first")?;
        let failed = with_client(&app.db, |tx| {
            tx.execute("INSERT INTO unit_run VALUES ($1, 1 / 0)", &[&code])?;
            Ok(())
        });
        assert!(failed.is_err());
        insert("second")?;
        let seen: i64 = app
            .db
            .connect()?
            .query_one("SELECT count(*) FROM unit_run WHERE code = $1", &[&code])?
            .get(0);
        SEEN.lock().unwrap().push((code, seen));
        if payload.get("lose").is_some() {
            // Someone else takes the job over meanwhile (a recovery, a person).
            app.db.connect()?.execute(
                "UPDATE job SET status = 'failed', status_detail = 'taken over', \
                 claim_attempt = claim_attempt + 1 WHERE code = $1",
                &[&code],
            )?;
        }
        if payload.get("fail").is_some() {
            return Err(Error::new("failed as asked"));
        }
        Ok(())
    }
}

fn run_until_settled(t: &TestApp, jobs: usize) {
    let registry = Registry::new().with(Arc::new(UnitProbe)).unwrap();
    let settings = JobSettings::from_settings(&t.app.settings).unwrap();
    let mut opts = RunnerOptions::new("unit-test");
    opts.poll_interval = Duration::from_millis(50);
    let stop = StopSignal::new();
    let runner = {
        let (app, stop) = (t.app.clone(), stop.clone());
        std::thread::spawn(move || runner::run(&app, &registry, &settings, &opts, &stop))
    };
    let end = Instant::now() + Duration::from_secs(30);
    while count(
        t,
        "SELECT count(*) FROM job WHERE status IN ('completed', 'failed')",
    ) < jobs as i64
    {
        assert!(Instant::now() < end, "jobs did not settle");
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.request();
    runner.join().unwrap().unwrap();
}

fn count(t: &TestApp, sql: &str) -> i64 {
    t.client().query_one(sql, &[]).unwrap().get(0)
}

fn rows_of(t: &TestApp, code: i64) -> Vec<String> {
    t.client()
        .query(
            "SELECT what FROM unit_run WHERE code = $1 ORDER BY what",
            &[&code],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn a_jobs_database_work_commits_with_its_outcome() {
    let t = TestApp::new("job_unit", json!({}));
    t.client()
        .batch_execute("CREATE TABLE unit_run (code int8, what text NOT NULL)")
        .unwrap();
    let done = t.submit("unit_probe", json!({}));
    let failed = t.submit("unit_probe", json!({"fail": true}));
    let lost = t.submit("unit_probe", json!({"lose": true}));
    run_until_settled(&t, 3);

    // Nothing was visible to others while the jobs ran.
    let mut seen = SEEN.lock().unwrap().clone();
    seen.sort_unstable();
    assert_eq!(seen, [(done, 0), (failed, 0), (lost, 0)]);
    // The failed statement undid itself only; the work before and after it stayed.
    assert_eq!(rows_of(&t, done), ["first", "second"]);
    // A failure commits the work done, as autocommit would have.
    assert_eq!(rows_of(&t, failed), ["first", "second"]);
    let detail: String = t
        .client()
        .query_one("SELECT status_detail FROM job WHERE code = $1", &[&failed])
        .unwrap()
        .get(0);
    assert_eq!(detail, "failed as asked");
    // The claim was lost: the work went with it, the other writer's result stands.
    assert_eq!(rows_of(&t, lost), Vec::<String>::new());
    let row = t
        .client()
        .query_one(
            "SELECT status::text, status_detail FROM job WHERE code = $1",
            &[&lost],
        )
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("failed".to_string(), "taken over".to_string())
    );
}
