//! rex.asynctask: named queues of JSON payloads, transports (`pgsql`, `localmem`) and
//! workers that process them.

use crate::core::app::App;
use crate::core::Result;
use serde_json::Value;

/// Processes the payloads of one queue. rex names the worker (`rexmart_create`) and
/// logs under the class name (`MartCreateWorker`).
pub trait Worker: Send + Sync {
    /// The worker's registered name, e.g. `rexmart_create`.
    fn name(&self) -> &str;
    /// The logger name, e.g. `MartCreateWorker`.
    fn logger_name(&self) -> &str;
    fn process(&self, app: &App, payload: &Value) -> Result<()>;
}
