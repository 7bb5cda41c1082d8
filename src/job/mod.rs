//! rex.job: the `job` table and its facets, executors registered by job type, the job
//! executor worker, the queuer and the cleanup. Plain SQL, one statement per state
//! transition.

use crate::core::app::App;
use crate::core::Result;
use serde_json::Value;

/// Runs jobs of one type (`rexmart_create`, ...). The logger name of its log lines is
/// [`Executor::logger_name`] (rex uses the class name, e.g. `MartCreateExecutor`).
pub trait Executor: Send + Sync {
    /// The job type this executor runs, e.g. `rexmart_create`.
    fn job_type(&self) -> &str;
    /// The logger name for the executor's own log lines, e.g. `MartCreateExecutor`.
    fn logger_name(&self) -> &str;
    /// Runs job `code` for `owner` with its payload (`{}` when the column is empty).
    fn execute(&self, app: &App, code: i64, owner: &str, payload: &Value) -> Result<()>;
}
