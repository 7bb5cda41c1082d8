//! The harness's own executors, used by tests and benchmarks: `harness_noop` (does
//! nothing) and `harness_probe` (records when and where it ran). rex.job's demo
//! executors are Python code of its demo application (definitions/rex.job_demo).

use super::{Executor, Registry};
use crate::core::app::App;
use crate::core::{Error, Result};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// `harness_noop`: nothing at all; the benchmark's job.
pub struct NoopExecutor;

impl Executor for NoopExecutor {
    fn job_type(&self) -> &str {
        "harness_noop"
    }
    fn logger_name(&self) -> &str {
        "NoopExecutor"
    }
    fn execute(&self, _app: &App, _code: i64, _owner: &str, _payload: &Value) -> Result<()> {
        Ok(())
    }
}

/// The table [`ProbeExecutor`] writes to; create it before submitting probe jobs.
pub const PROBE_TABLE_SQL: &str = "CREATE TABLE IF NOT EXISTS harness_job_probe (\
     code int8 NOT NULL, type text NOT NULL, pid int4 NOT NULL, \
     started timestamptz NOT NULL, finished timestamptz NOT NULL)";

/// `harness_probe` (and any other type it is registered under): sleeps `sleep_ms`
/// from the payload, fails when `fail` is true, and records its run (code, type,
/// process id, start and end time) in `harness_job_probe`, so tests can count
/// executions and measure overlaps.
pub struct ProbeExecutor {
    pub job_type: String,
}

impl ProbeExecutor {
    pub fn new(job_type: &str) -> ProbeExecutor {
        ProbeExecutor {
            job_type: job_type.to_string(),
        }
    }
}

impl Executor for ProbeExecutor {
    fn job_type(&self) -> &str {
        &self.job_type
    }
    fn logger_name(&self) -> &str {
        "ProbeExecutor"
    }
    fn execute(&self, app: &App, code: i64, _owner: &str, payload: &Value) -> Result<()> {
        let started = chrono::Utc::now();
        let ms = payload.get("sleep_ms").and_then(Value::as_u64).unwrap_or(0);
        std::thread::sleep(Duration::from_millis(ms));
        let finished = chrono::Utc::now();
        let pid = std::process::id() as i32;
        app.db.connect()?.execute(
            "INSERT INTO harness_job_probe (code, type, pid, started, finished) \
             VALUES ($1, $2, $3, $4, $5)",
            &[&code, &self.job_type, &pid, &started, &finished],
        )?;
        if payload.get("fail").and_then(Value::as_bool) == Some(true) {
            return Err(Error::with("Probe failed as asked:", code));
        }
        Ok(())
    }
}

impl Registry {
    /// `harness_noop` and `harness_probe` (also registered as
    /// `harness_probe_limited`, for `job_limits` tests).
    pub fn builtin() -> Registry {
        let mut r = Registry::new();
        let executors: Vec<Arc<dyn Executor>> = vec![
            Arc::new(NoopExecutor),
            Arc::new(ProbeExecutor::new("harness_probe")),
            Arc::new(ProbeExecutor::new("harness_probe_limited")),
        ];
        for e in executors {
            // Distinct types by construction.
            let _ = r.register(e);
        }
        r
    }
}
