//! rex.job's settings (rexjob.md §2.4), read from the application's settings and
//! validated with rex's validators, plus the settings of `harness worker`'s claims.

use crate::core::settings::Settings;
use crate::core::validate::{IntVal, MapVal, RecordVal, StrVal, Validator};
use crate::core::yaml::Node;
use crate::core::Result;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// What happens to a `started` job whose worker stopped heart-beating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StalePolicy {
    /// `failed`, with a `status_detail` that says the worker was lost (the default:
    /// rex jobs such as mart creation are not safe to run twice).
    Fail,
    /// Back to `queued`, to be claimed again.
    Requeue,
}

#[derive(Clone, Debug, PartialEq)]
pub struct JobSettings {
    /// `job_queues`: number of `rex_job_N` queues (default 1).
    pub queues: i64,
    /// `job_max_age`: seconds a finished job is kept; 0 keeps it forever.
    pub max_age: i64,
    /// `job_limits`: `max_concurrency` per job type (`None`: unlimited).
    pub limits: BTreeMap<String, Option<i64>>,
    /// `job_heartbeat_interval` (seconds, default 5): how often a running job's row is
    /// touched.
    pub heartbeat_interval: Duration,
    /// `job_stale_after` (seconds, default 30): a `started` job whose heartbeat is
    /// older than this is recovered.
    pub stale_after: Duration,
    /// `job_stale_policy`: `fail` (default) or `requeue`.
    pub stale_policy: StalePolicy,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            queues: 1,
            max_age: 3 * 24 * 60 * 60,
            limits: BTreeMap::new(),
            heartbeat_interval: Duration::from_secs(5),
            stale_after: Duration::from_secs(30),
            stale_policy: StalePolicy::Fail,
        }
    }
}

/// Validates one setting, wrapping errors like rex (`While validating setting:`).
fn setting(settings: &Settings, name: &str, validator: &dyn Validator) -> Result<Option<Node>> {
    match settings.get(name) {
        None => Ok(None),
        Some(v) => validator
            .validate(&Node::from_json(v))
            .map(Some)
            .map_err(|e| e.wrap_with("While validating setting:", name)),
    }
}

impl JobSettings {
    pub fn from_settings(settings: &Settings) -> Result<JobSettings> {
        let mut out = JobSettings::default();
        if let Some(n) = setting(settings, "job_queues", &IntVal::range(Some(1), None))? {
            out.queues = n.as_i64().unwrap_or(1);
        }
        if let Some(n) = setting(settings, "job_max_age", &IntVal::range(Some(0), None))? {
            out.max_age = n.as_i64().unwrap_or(0);
        }
        let limits = MapVal::new(
            StrVal::new(),
            RecordVal::new().optional(
                "max_concurrency",
                IntVal::range(Some(1), None),
                Node::null(),
            ),
        );
        if let Some(map) = setting(settings, "job_limits", &limits)? {
            for (job_type, record) in map.as_map().unwrap_or_default() {
                let max = record.get("max_concurrency").and_then(Node::as_i64);
                out.limits.insert(job_type.clone(), max);
            }
        }
        let seconds = IntVal::range(Some(1), None);
        if let Some(n) = setting(settings, "job_heartbeat_interval", &seconds)? {
            out.heartbeat_interval = Duration::from_secs(n.as_i64().unwrap_or(5) as u64);
        }
        if let Some(n) = setting(settings, "job_stale_after", &seconds)? {
            out.stale_after = Duration::from_secs(n.as_i64().unwrap_or(30) as u64);
        }
        let policy = crate::core::validate::ChoiceVal::new(&["fail", "requeue"]);
        if let Some(n) = setting(settings, "job_stale_policy", &policy)? {
            out.stale_policy = match n.as_str() {
                Some("requeue") => StalePolicy::Requeue,
                _ => StalePolicy::Fail,
            };
        }
        Ok(out)
    }

    /// The limits as a JSON object `{type: max}` with only the bounded types, for SQL.
    pub fn limits_json(&self) -> Value {
        Value::Object(
            self.limits
                .iter()
                .filter_map(|(t, m)| m.map(|m| (t.clone(), Value::from(m))))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_and_validates() {
        let mut s = Settings::new();
        s.set(
            "job_limits",
            json!({"demo_fast": {"max_concurrency": 1}, "demo_slow": {}}),
        );
        s.set("job_queues", json!(2));
        let js = JobSettings::from_settings(&s).unwrap();
        assert_eq!(js.queues, 2);
        assert_eq!(js.limits.get("demo_fast"), Some(&Some(1)));
        assert_eq!(js.limits.get("demo_slow"), Some(&None));
        assert_eq!(js.limits_json(), json!({"demo_fast": 1}));
        s.set("job_queues", json!(0));
        assert_eq!(
            JobSettings::from_settings(&s).unwrap_err().to_string(),
            "Expected an integer in range:\n    [1..]\nGot:\n    0\nWhile validating setting:\n    job_queues"
        );
    }
}
