//! rex.job: the `job` table and its facets, executors registered by job type, the job
//! executor worker, the queuer and the cleanup. Plain SQL, one statement per state
//! transition.
//!
//! Two ways to run a job share one code path ([`executor_worker::run_job`]):
//! - rex's `JobExecutorWorker().process({'code': n})` ([`process`]): no guards, exactly
//!   the reference's statements and log lines (transcripts rely on both);
//! - `harness worker` ([`runner`]): jobs are claimed with `FOR UPDATE SKIP LOCKED`,
//!   kept alive by a heartbeat and finished only by the claim that still holds them
//!   (fencing, see [`claim`]).

use crate::core::app::App;
use crate::core::Result;
use serde_json::Value;

pub mod builtin;
pub mod claim;
pub mod cleanup;
pub mod executor_worker;
pub mod facet;
pub mod queuer;
pub mod registry;
pub mod runner;
pub mod settings;
pub mod submit;
pub mod workers;

pub use executor_worker::process;
pub use facet::update_facet;
pub use registry::Registry;

/// Runs jobs of one type (`rexmart_create`, ...). The logger name of its log lines is
/// [`Executor::logger_name`] (rex uses the class name, e.g. `MartCreateExecutor`).
pub trait Executor: Send + Sync {
    /// The job type this executor runs, e.g. `rexmart_create`.
    fn job_type(&self) -> &str;
    /// The logger name for the executor's own log lines, e.g. `MartCreateExecutor`.
    fn logger_name(&self) -> &str;
    /// Runs job `code` for `owner` with its payload (`{}` when the column is empty).
    fn execute(&self, app: &App, code: i64, owner: &str, payload: &Value) -> Result<()>;
    /// Repairs what jobs of this type leave half-done when their worker dies (by
    /// default nothing). The job worker calls it when it starts and after it has
    /// recovered stale jobs; it must be safe while other workers run such jobs.
    fn recover(&self, _app: &App) -> Result<()> {
        Ok(())
    }
    /// Whether the executor's work on the application database (through
    /// [`crate::core::work_tx::with_client`]) joins the job's transaction under
    /// `harness worker`, committing with its completion (exactly once). An executor
    /// whose jobs run long and commit as they go (a mart creation) says no: its
    /// reads would hold a transaction open for the whole job.
    fn joins_job_transaction(&self) -> bool {
        true
    }
}
