//! `harness task QUEUE JSON`: submits an async task through the app's transport (the
//! application database when no transport is configured).

use super::app::AppArgs;
use super::worker::app_transport;
use crate::core::{Error, Result};
use clap::Args;
use serde_json::Value;

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
        let payload: Value = serde_json::from_str(&args.payload).map_err(|e| {
            Error::with("Expected a JSON payload:", format!("{}\n{e}", args.payload))
        })?;
        let app = args.app.open()?;
        app_transport(&app)?.submit_task(&args.queue, &payload)
    })();
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("harness task: error: {e}");
            2
        }
    }
}
