//! rex.asynctask's settings (rexjob.md §3.5): `asynctask_transport`,
//! `asynctask_workers` and `asynctask_workers_poll_interval`.

use crate::core::settings::Settings;
use crate::core::{Error, Result};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// One `asynctask_workers` entry: rex's `WorkerConfigVal` record.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerConfig {
    pub worker: String,
    pub rate_max_calls: Option<i64>,
    pub rate_period: Option<f64>,
}

impl WorkerConfig {
    pub fn named(worker: &str) -> WorkerConfig {
        WorkerConfig {
            worker: worker.to_string(),
            rate_max_calls: None,
            rate_period: None,
        }
    }
}

/// `asynctask_workers`: queue name -> worker; `null` entries switch a queue off and are
/// left out.
pub fn workers(settings: &Settings) -> Result<BTreeMap<String, WorkerConfig>> {
    let mut out = BTreeMap::new();
    let Some(value) = settings.get("asynctask_workers") else {
        return Ok(out);
    };
    let Some(map) = value.as_object() else {
        return Err(Error::with("Expected a mapping", "")
            .wrap_with("While validating setting:", "asynctask_workers"));
    };
    for (queue, config) in map {
        let config = match config {
            Value::Null => continue,
            Value::String(name) => WorkerConfig::named(name),
            Value::Object(record) => match record.get("worker").and_then(Value::as_str) {
                Some(name) => WorkerConfig {
                    worker: name.to_string(),
                    rate_max_calls: record.get("rate_max_calls").and_then(Value::as_i64),
                    rate_period: record.get("rate_period").and_then(Value::as_f64),
                },
                None => {
                    return Err(Error::with("Missing mandatory field:", "worker")
                        .wrap_with(
                            "While validating mapping value for key:",
                            format!("'{queue}'"),
                        )
                        .wrap_with("While validating setting:", "asynctask_workers"))
                }
            },
            other => {
                return Err(Error::new("Expected a JSON object")
                    .wrap_with("Got:", crate::core::repr::py_json_repr(other))
                    .wrap_with(
                        "While validating mapping value for key:",
                        format!("'{queue}'"),
                    )
                    .wrap_with("While validating setting:", "asynctask_workers"))
            }
        };
        out.insert(queue.clone(), config);
    }
    Ok(out)
}

/// `asynctask_workers_poll_interval` (milliseconds, default 500).
pub fn poll_interval(settings: &Settings) -> Duration {
    let ms = settings
        .get("asynctask_workers_poll_interval")
        .and_then(Value::as_u64)
        .filter(|ms| *ms >= 1)
        .unwrap_or(500);
    Duration::from_millis(ms)
}
