//! rex.asynctask's `ctl_executor` worker: a task `{"command": "..."}` is a `rex`
//! command line, run as a child process (`core::rex_process`) with its output
//! logged.

use crate::asynctask::Worker;
use crate::core::app::App;
use crate::core::rex_process::{shlex_split, RexProcess};
use crate::core::{Error, Result};
use serde_json::Value;

/// Set in the environment of a process `asynctask-workers` supervises: `QUEUE` tab
/// `WORKER`. Taken out of the tasks' own `rex` processes, which are not workers.
pub const ENV_WORKER: &str = "HARNESS_CTL_WORKER";

/// rex.asynctask's `ctl_executor`: runs the rex task `{"command": "..."}` and logs its
/// output.
pub struct CtlExecutorWorker;

impl Worker for CtlExecutorWorker {
    fn name(&self) -> &str {
        "ctl_executor"
    }

    fn logger_name(&self) -> &str {
        "CtlExecutorWorker"
    }

    fn process(&self, _app: &App, payload: &Value) -> Result<()> {
        use crate::core::validate::{RecordVal, StrVal, Validator};
        let node = RecordVal::new()
            .field("command", StrVal::new())
            .validate(&crate::core::yaml::Node::from_json(payload))?;
        let command = node
            .get("command")
            .and_then(|n| n.as_str())
            .unwrap_or_default()
            .to_string();
        log::info!(target: "CtlExecutorWorker", "Executing Task: {command}");
        let cmd = shlex_split(&command).ok_or_else(|| Error::new("No closing quotation"))?;
        let result = RexProcess::start(&cmd, "", &[], &[ENV_WORKER])
            .map_err(|e| Error::with("Cannot start the task:", e))
            .and_then(|p| p.wait(Some(0)));
        match result {
            Ok(output) => {
                let output = output.trim();
                if !output.is_empty() {
                    log::info!(target: "CtlExecutorWorker", "{output}");
                }
            }
            Err(e) => log::error!(
                target: "CtlExecutorWorker",
                "Failed execution\n{}",
                e.uncaught_traceback().trim_end()
            ),
        }
        Ok(())
    }
}
