//! Executors of rex.job's demo application (`demo_fast`, `demo_slow`,
//! `demo_fragile`) and two of the harness's own, used by tests and benchmarks:
//! `harness_noop` (does nothing) and `harness_probe` (records when and where it ran).

use super::{update_facet, Executor, Registry};
use crate::core::app::App;
use crate::core::{Error, Result};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// `demo_fast`: logs `FastExecutor executed!`.
pub struct FastExecutor;

impl Executor for FastExecutor {
    fn job_type(&self) -> &str {
        "demo_fast"
    }
    fn logger_name(&self) -> &str {
        "FastExecutor"
    }
    fn execute(&self, _app: &App, _code: i64, _owner: &str, _payload: &Value) -> Result<()> {
        log::info!(target: "FastExecutor", "FastExecutor executed!");
        Ok(())
    }
}

/// `demo_slow`: sleeps (`sleep` seconds in the payload, 5 by default, as rex), writes
/// `my_value = payload['foo']` into the `slow` facet, logs `SlowExecutor executed!`.
pub struct SlowExecutor;

impl Executor for SlowExecutor {
    fn job_type(&self) -> &str {
        "demo_slow"
    }
    fn logger_name(&self) -> &str {
        "SlowExecutor"
    }
    fn execute(&self, app: &App, code: i64, _owner: &str, payload: &Value) -> Result<()> {
        let secs = payload.get("sleep").and_then(Value::as_f64).unwrap_or(5.0);
        std::thread::sleep(Duration::from_secs_f64(secs.max(0.0)));
        let Some(value) = payload.get("foo") else {
            return Err(Error::new("'foo'"));
        };
        update_facet(app, "slow", code, &[("my_value", value.clone())])?;
        log::info!(target: "SlowExecutor", "SlowExecutor executed!");
        Ok(())
    }
}

/// `demo_fragile`: always fails with `I crashed :(`.
pub struct FragileExecutor;

impl Executor for FragileExecutor {
    fn job_type(&self) -> &str {
        "demo_fragile"
    }
    fn logger_name(&self) -> &str {
        "FragileExecutor"
    }
    fn execute(&self, _app: &App, _code: i64, _owner: &str, _payload: &Value) -> Result<()> {
        Err(Error::new("I crashed :("))
    }
}

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
    /// rex.job_demo's executors plus `harness_noop` and `harness_probe` (also
    /// registered as `harness_probe_limited`, for `job_limits` tests).
    pub fn demo() -> Registry {
        let mut r = Registry::new();
        let executors: Vec<Arc<dyn Executor>> = vec![
            Arc::new(FastExecutor),
            Arc::new(SlowExecutor),
            Arc::new(FragileExecutor),
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
