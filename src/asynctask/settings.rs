//! rex.asynctask's settings (rexjob.md §3.5): `asynctask_transport`,
//! `asynctask_workers` and `asynctask_workers_poll_interval`.

use crate::core::settings::Settings;
use crate::core::validate::{
    ChoiceVal, FloatVal, IntVal, MapVal, MaybeVal, OneOfVal, RecordVal, SeqVal, StrVal, Validator,
};
use crate::core::yaml::Node;
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

/// The `asynctask_workers` validator of rex (`WorkerConfigVal` over the names of the
/// registered workers).
fn workers_validator(names: &[&str]) -> MapVal {
    let record = RecordVal::new()
        .field("worker", ChoiceVal::new(names))
        .optional(
            "rate_max_calls",
            MaybeVal::new(IntVal::range(Some(1), None)),
            Node::null(),
        )
        .optional("rate_period", MaybeVal::new(FloatVal), Node::null());
    MapVal::new(
        StrVal::new(),
        MaybeVal::new(OneOfVal(vec![
            Box::new(ChoiceVal::new(names)),
            Box::new(record),
        ])),
    )
}

/// The fields of an `asynctask_scheduled_workers` record, in rex's order.
pub const SCHEDULE_FIELDS: [&str; 12] = [
    "worker",
    "ctl",
    "year",
    "month",
    "day",
    "week",
    "day_of_week",
    "hour",
    "minute",
    "second",
    "start_date",
    "end_date",
];

fn scheduled_validator(names: &[&str]) -> SeqVal {
    let either = |lo: i64, hi: i64| -> OneOfVal {
        OneOfVal(vec![
            Box::new(IntVal::range(Some(lo), Some(hi))),
            Box::new(StrVal::new()),
        ])
    };
    SeqVal::new(
        RecordVal::new()
            .optional("worker", ChoiceVal::new(names), Node::null())
            .optional("ctl", StrVal::new(), Node::null())
            .optional(
                "year",
                OneOfVal(vec![Box::new(IntVal::new()), Box::new(StrVal::new())]),
                Node::null(),
            )
            .optional("month", either(1, 12), Node::null())
            .optional("day", either(1, 31), Node::null())
            .optional("week", either(1, 53), Node::null())
            .optional("day_of_week", either(0, 6), Node::null())
            .optional("hour", either(0, 23), Node::null())
            .optional("minute", either(0, 59), Node::null())
            .optional("second", either(0, 59), Node::null())
            .optional("start_date", StrVal::new(), Node::null())
            .optional("end_date", StrVal::new(), Node::null()),
    )
}

/// Validates `asynctask_workers` and `asynctask_scheduled_workers` against the names
/// of the registered workers `names` (registration order), with rex's errors.
pub fn validate(settings: &Settings, names: &[&str]) -> Result<()> {
    if let Some(v) = settings.get("asynctask_workers") {
        workers_validator(names)
            .validate(&Node::from_json(v))
            .map_err(|e| e.wrap_with("While validating setting:", "asynctask_workers"))?;
    }
    if let Some(v) = settings.get("asynctask_scheduled_workers") {
        let wrap =
            |e: Error| e.wrap_with("While validating setting:", "asynctask_scheduled_workers");
        let valid = scheduled_validator(names)
            .validate(&Node::from_json(v))
            .map_err(wrap)?;
        for (i, item) in valid.to_json().as_array().into_iter().flatten().enumerate() {
            let set = |k: &str| item.get(k).is_some_and(|v| !v.is_null());
            let truthy = |k: &str| {
                item.get(k)
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty())
            };
            let problem = if truthy("worker") == truthy("ctl") {
                Some("Must specify one of 'worker' or 'ctl'")
            } else if !SCHEDULE_FIELDS[2..10].iter().any(|k| set(k)) {
                Some("Must specify some property of the schedule")
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(wrap(Error::new(problem).wrap_with(
                    "While validating sequence item",
                    format!("#{}", i + 1),
                )));
            }
        }
    }
    Ok(())
}
