//! rex.job's three async task workers, for `process_queue`/`run_worker` and the
//! bindings: `job_executor` ([`JobExecutorWorker`]), `job_queuer`
//! ([`JobQueuerWorker`]) and `job_cleanup` ([`JobCleanupWorker`]), and
//! `JobInitialize` ([`initialize`]), which gives every `rex_job_<i>` queue a
//! `job_executor`.

use super::settings::JobSettings;
use super::{cleanup, executor_worker, queuer, Registry};
use crate::asynctask::{get_transport, Worker, WorkerRegistry};
use crate::core::app::App;
use crate::core::settings::Settings;
use crate::core::Result;
use serde_json::{json, Value};
use std::sync::Arc;

/// `JobExecutorWorker`: runs `{'code': n}` with the executors of `registry`.
pub struct JobExecutorWorker {
    pub registry: Registry,
}

impl Worker for JobExecutorWorker {
    fn name(&self) -> &str {
        executor_worker::NAME
    }
    fn logger_name(&self) -> &str {
        executor_worker::LOGGER
    }
    fn process(&self, app: &App, payload: &Value) -> Result<()> {
        executor_worker::process(app, &self.registry, payload)
    }
}

/// `JobQueuerWorker`: `new -> queued`, tasks through the app's transport.
pub struct JobQueuerWorker;

impl Worker for JobQueuerWorker {
    fn name(&self) -> &str {
        queuer::NAME
    }
    fn logger_name(&self) -> &str {
        queuer::LOGGER
    }
    fn process(&self, app: &App, _payload: &Value) -> Result<()> {
        queuer::process(app, get_transport(app, None)?.as_ref())
    }
}

/// `JobCleanupWorker`: purges finished jobs older than `job_max_age`.
pub struct JobCleanupWorker;

impl Worker for JobCleanupWorker {
    fn name(&self) -> &str {
        cleanup::NAME
    }
    fn logger_name(&self) -> &str {
        cleanup::LOGGER
    }
    fn process(&self, app: &App, _payload: &Value) -> Result<()> {
        cleanup::process(app).map(|_| ())
    }
}

/// Adds rex.job's three workers to a worker registry.
pub fn register(workers: &mut WorkerRegistry, registry: &Registry) -> Result<()> {
    workers.register(Arc::new(JobExecutorWorker {
        registry: registry.clone(),
    }))?;
    workers.register(Arc::new(JobQueuerWorker))?;
    workers.register(Arc::new(JobCleanupWorker))
}

/// Adds those of rex.job's three workers that `workers` lacks (an application may
/// override them).
pub fn register_missing(workers: &mut WorkerRegistry, registry: &Registry) {
    let all: [Arc<dyn Worker>; 3] = [
        Arc::new(JobExecutorWorker {
            registry: registry.clone(),
        }),
        Arc::new(JobQueuerWorker),
        Arc::new(JobCleanupWorker),
    ];
    for w in all {
        if workers.get(w.name()).is_none() {
            workers.replace(w);
        }
    }
}

/// rex's `JobInitialize`: `asynctask_workers['rex_job_<i>'] = job_executor` for every
/// queue of `job_queues`, as the full worker record rex keeps.
pub fn initialize(settings: &mut Settings) -> Result<()> {
    let queues = JobSettings::from_settings(settings)?.queues;
    let mut workers = settings
        .get("asynctask_workers")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for i in 0..queues {
        workers.insert(
            queuer::queue_name(i),
            json!({"worker": executor_worker::NAME, "rate_max_calls": null, "rate_period": null}),
        );
    }
    settings.set("asynctask_workers", Value::Object(workers));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initialize_adds_one_executor_queue_per_job_queue() {
        let mut s = Settings::new();
        s.set("job_queues", json!(2));
        s.set("asynctask_workers", json!({"foo": "demo_foo_worker"}));
        initialize(&mut s).unwrap();
        let w = crate::asynctask::settings::workers(&s).unwrap();
        assert_eq!(
            w.keys().collect::<Vec<_>>(),
            ["foo", "rex_job_0", "rex_job_1"]
        );
        assert_eq!(w["rex_job_1"].worker, "job_executor");
    }
}
