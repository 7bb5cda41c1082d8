//! `harness task QUEUE JSON`: submits an async task through the app's transport (the
//! application database when no transport is configured).

use super::app::AppArgs;
use super::worker::{app_transport, configured_queues, registries};
use crate::core::app::App;
use crate::core::{Error, Result};
use crate::job::executor_worker;
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct TaskArgs {
    #[command(flatten)]
    pub app: AppArgs,
    /// The queue, e.g. rexmart_create (lowercase letters, digits, single underscores).
    #[arg(value_name = "QUEUE")]
    pub queue: String,
    /// The payload, a JSON object.
    #[arg(value_name = "JSON")]
    pub payload: String,
}

pub fn run(args: &TaskArgs) -> i32 {
    let result = (|| -> Result<()> {
        let payload = super::app::parse_payload(&args.payload)?;
        let app = args.app.open()?;
        check_served(&app, &args.queue)?;
        app_transport(&app)?.submit_task(&args.queue, &payload)
    })();
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("harness task: error: {}", e.bounded());
            2
        }
    }
}

/// A task for a queue no worker would ever take is refused: the queue must be in
/// `asynctask_workers` (or be a `job_queues` queue) with a worker this build has.
pub fn check_served(app: &App, queue: &str) -> Result<()> {
    let queues = configured_queues(app)?;
    let (_, workers) = registries(app)?;
    match queues.get(queue) {
        Some(c) if c.worker == executor_worker::NAME || workers.get(&c.worker).is_some() => Ok(()),
        Some(c) => Err(Error::with("Worker does not exist:", &c.worker)
            .wrap_with("While checking the worker of queue:", queue)),
        None => Err(
            Error::with("No worker is configured for queue:", queue).wrap_with(
                "Configure one with setting asynctask_workers, e.g.:",
                format!("--set 'asynctask_workers={{\"{queue}\": \"WORKER\"}}'"),
            ),
        ),
    }
}
