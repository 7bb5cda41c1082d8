//! rex.job's `JobExecutorWorker` (`name = 'job_executor'`): runs one job given
//! `{'code': n}` with the reference's statements and log lines (rexjob.md §2.1).

use super::{Executor, Registry};
use crate::core::app::App;
use crate::core::repr::{excerpt, py_json_repr};
use crate::core::validate::{IntVal, RecordVal, Validator};
use crate::core::yaml::Node;
use crate::core::{Error, Result};
use postgres::GenericClient;
use serde_json::Value;

/// The worker's name in `asynctask_workers` and its logger name.
pub const NAME: &str = "job_executor";
pub const LOGGER: &str = "JobExecutorWorker";
/// `status_detail` of a job whose type has no executor.
pub const UNKNOWN_TYPE: &str = "Unknown Job Type";

const GET_JOB: &str = "SELECT code, owner, type, payload FROM job WHERE code = $1";
const START_JOB: &str =
    "UPDATE job SET status = 'started', date_started = LOCALTIMESTAMP WHERE code = $1";
const FAIL_JOB: &str = "UPDATE job SET status = 'failed', status_detail = $2, \
     date_completed = LOCALTIMESTAMP WHERE code = $1";
const COMPLETE_JOB: &str =
    "UPDATE job SET status = 'completed', date_completed = LOCALTIMESTAMP WHERE code = $1";

/// The columns of a job an executor needs.
#[derive(Clone, Debug, PartialEq)]
pub struct JobRow {
    pub code: i64,
    pub owner: String,
    pub job_type: String,
    pub payload: Value,
}

impl JobRow {
    /// Reads `code, owner, type, payload` (in that order) from a row.
    pub fn from_row(row: &postgres::Row) -> Result<JobRow> {
        Ok(JobRow {
            code: row.try_get(0)?,
            owner: row.try_get(1)?,
            job_type: row.try_get(2)?,
            payload: row.try_get::<_, Option<Value>>(3)?.unwrap_or(Value::Null),
        })
    }
}

/// How a job ended, as written to its row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    /// `status_detail` = `str(exc)`.
    Failed(String),
}

/// `RecordVal(('code', IntVal()),)`: the job's code from a worker payload.
pub fn validate_payload(payload: &Value) -> Result<i64> {
    let record = RecordVal::new().field("code", IntVal::new());
    let valid = record.validate(&Node::from_json(payload))?;
    valid
        .get("code")
        .and_then(Node::as_i64)
        .ok_or_else(|| Error::with("Missing mandatory field:", "code"))
}

/// `JobExecutorWorker().process(payload)`. A bad payload is returned as an error
/// before anything is logged; everything after that (unknown job, unknown type,
/// executor failure) is logged and written, and `Ok(())` is returned.
pub fn process(app: &App, registry: &Registry, payload: &Value) -> Result<()> {
    let code = validate_payload(payload)?;
    let mut db = app.db.connect()?;
    log::info!(target: LOGGER, "Processing Job #{code}");
    let Some(row) = db.query_opt(GET_JOB, &[&code])? else {
        log::warn!(target: LOGGER, "Job #{code} not found; bailing");
        return Ok(());
    };
    let job = JobRow::from_row(&row)?;
    db.execute(START_JOB, &[&job.code])?;
    run_job(app, registry, &job, false, |outcome| {
        write_outcome(&mut db, job.code, outcome)?;
        Ok(())
    })
}

/// Writes an outcome without any guard, as rex does.
fn write_outcome(db: &mut impl GenericClient, code: i64, outcome: &Outcome) -> Result<()> {
    match outcome {
        Outcome::Completed => db.execute(COMPLETE_JOB, &[&code])?,
        Outcome::Failed(detail) => db.execute(FAIL_JOB, &[&code, detail])?,
    };
    Ok(())
}

/// Everything after START: find the executor, run it, log, and hand the outcome to
/// `finish` (which writes it: unguarded for rex, fenced for `harness worker`).
/// `bounded`: the payload and the failure are logged and recorded with long lines
/// cut ([`Error::bounded`]), as a long-lived worker does; rex quotes them whole.
pub fn run_job(
    app: &App,
    registry: &Registry,
    job: &JobRow,
    bounded: bool,
    finish: impl FnOnce(&Outcome) -> Result<()>,
) -> Result<()> {
    let Some(executor) = registry.get(&job.job_type) else {
        log::error!(target: LOGGER, "Job type \"{}\" not found; bailing", job.job_type);
        return finish(&Outcome::Failed(UNKNOWN_TYPE.to_string()));
    };
    let payload = if is_falsy(&job.payload) {
        Value::Object(Default::default())
    } else {
        job.payload.clone()
    };
    let quoted = py_json_repr(&job.payload);
    log::debug!(
        target: LOGGER,
        "Executing job #{} for owner \"{}\" with payload: {}",
        job.code,
        job.owner,
        if bounded { excerpt(&quoted) } else { quoted }
    );
    let outcome = match execute_guarded(executor.as_ref(), app, job, &payload) {
        Ok(()) => Outcome::Completed,
        Err(err) => {
            let err = if bounded { err.bounded() } else { err };
            // One record: the message and the traceback, as `logger.exception` does.
            log::error!(target: LOGGER, "Job #{} failed\n{}", job.code, err.traceback("execute"));
            Outcome::Failed(err.to_string())
        }
    };
    finish(&outcome)?;
    log::info!(target: LOGGER, "Job #{} complete", job.code);
    Ok(())
}

/// Runs the executor; a panic counts as a failure of the job, not of the worker.
fn execute_guarded(
    executor: &dyn Executor,
    app: &App,
    job: &JobRow,
    payload: &Value,
) -> Result<()> {
    let run = std::panic::AssertUnwindSafe(|| executor.execute(app, job.code, &job.owner, payload));
    match std::panic::catch_unwind(run) {
        Ok(result) => result,
        Err(panic) => {
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "executor panicked".to_string());
            Err(Error::new(text))
        }
    }
}

/// Python truthiness of JSON data (`job.payload or {}`).
fn is_falsy(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payload_validation_uses_rex_texts() {
        assert_eq!(validate_payload(&json!({"code": 5})).unwrap(), 5);
        assert_eq!(validate_payload(&json!({"code": "5"})).unwrap(), 5);
        let err = |v: Value| validate_payload(&v).unwrap_err().to_string();
        assert_eq!(err(json!({})), "Missing mandatory field:\n    code");
        assert_eq!(
            err(json!({"code": 1, "x": 2})),
            "Got unexpected field:\n    x"
        );
        assert_eq!(
            err(json!({"code": "abc"})),
            "Expected an integer\nGot:\n    'abc'\nWhile validating field:\n    code"
        );
        assert_eq!(
            err(json!({"code": true})),
            "Expected an integer\nGot:\n    True\nWhile validating field:\n    code"
        );
    }

    #[test]
    fn falsy_like_python() {
        assert!(is_falsy(&json!(null)));
        assert!(is_falsy(&json!({})));
        assert!(is_falsy(&json!(0)));
        assert!(!is_falsy(&json!({"a": 1})));
    }
}
