//! rex.asynctask: named queues of JSON payloads, transports (`pgsql`, `localmem`) and
//! workers that process them.
//!
//! Unlike rex (which removed a task before processing it: at-most-once), the worker
//! loop takes tasks with [`Transport::with_task`]: the `pgsql` transport locks the
//! task row with `FOR UPDATE SKIP LOCKED` and deletes it only after `process` has
//! returned, so a task whose worker dies is delivered again (at-least-once).

use crate::core::app::App;
use crate::core::Result;
use serde_json::Value;

pub mod core;
pub mod ctl_executor;
pub mod filesys;
pub mod localmem;
pub mod pgsql;
pub mod queue_name;
pub mod registry;
pub mod settings;
pub mod transport;
pub mod worker_loop;

pub use self::core::{get_transport, process_queue, run_worker};
pub use registry::WorkerRegistry;
pub use transport::Transport;

/// Processes the payloads of one queue. rex names the worker (`rexmart_create`) and
/// logs under the class name (`MartCreateWorker`).
pub trait Worker: Send + Sync {
    /// The worker's registered name, e.g. `rexmart_create`.
    fn name(&self) -> &str;
    /// The logger name, e.g. `MartCreateWorker`.
    fn logger_name(&self) -> &str;
    fn process(&self, app: &App, payload: &Value) -> Result<()>;
    /// `process` inside a worker loop serving `queue` (what a worker's `requeue`
    /// submits to); outside a loop (`process_queue`, `run_worker`) `queue` is `None`.
    fn process_on(&self, app: &App, payload: &Value, queue: Option<&str>) -> Result<()> {
        let _ = queue;
        self.process(app, payload)
    }
}

/// The first paragraph of the error a worker returns to end its own loop (rex: the
/// worker process exits, `sys.exit()`); the supervisor restarts it.
const WORKER_EXIT: &str = "The worker exited";

/// The error that ends a worker's loop (see [`is_worker_exit`]).
pub fn worker_exit() -> crate::core::Error {
    crate::core::Error::new(WORKER_EXIT)
}

/// Whether `e` is [`worker_exit`]'s error.
pub fn is_worker_exit(e: &crate::core::Error) -> bool {
    e.paragraphs.len() == 1 && e.message() == WORKER_EXIT
}
