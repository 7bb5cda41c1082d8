//! Application settings: `settings.yaml` of the packages an application uses, merged
//! (dicts recursively, later wins), then the keyword overrides given to `Rex(...)`.

use serde_json::{Map, Value};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    values: Map<String, Value>,
}

impl Settings {
    pub fn new() -> Settings {
        Settings::default()
    }

    /// Merges `other` into these settings: mappings merge key by key, anything else
    /// replaces.
    pub fn merge(&mut self, other: &Map<String, Value>) {
        merge_maps(&mut self.values, other);
    }

    /// Sets one setting, replacing what was there (a `Rex(...)` keyword override).
    pub fn set(&mut self, key: &str, value: Value) {
        self.values.insert(key.to_string(), value);
    }

    /// The value of a setting; `None` when unset or null.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key).filter(|v| !v.is_null())
    }

    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    pub fn values(&self) -> &Map<String, Value> {
        &self.values
    }
}

/// The settings the packages of an application may be given (rex's `Setting.mapped()`
/// for rex.core, rex.db, rex.deploy, rex.web, rex.logging, rex.job, rex.asynctask,
/// rex.mart, rex.attach) and the harness's own job-queue settings.
pub const KNOWN: &[&str] = &[
    "access_masks",
    "access_queries",
    "asynctask_scheduled_workers",
    "asynctask_transport",
    "asynctask_workers",
    "asynctask_workers_check_child_interval",
    "asynctask_workers_poll_interval",
    "attach_dir",
    "attach_gcs_bucket",
    "attach_gcs_key",
    "attach_s3_access_key",
    "attach_s3_bucket",
    "attach_s3_endpoint",
    "attach_s3_region",
    "attach_s3_secret_key",
    "db",
    "debug",
    "deploy",
    "gateways",
    "htsql_environment",
    "htsql_extensions",
    "job_heartbeat_interval",
    "job_limits",
    "job_max_age",
    "job_queues",
    "job_stale_after",
    "job_stale_policy",
    "logging_filters",
    "logging_formatters",
    "logging_handlers",
    "logging_loggers",
    "logging_root",
    "mart_allow_runtime_creation",
    "mart_default_max_marts_per_owner_definition",
    "mart_dictionary_channel_priority",
    "mart_dictionary_presentation_priority",
    "mart_etl_htsql_extensions",
    "mart_etl_htsql_gateways",
    "mart_hosting_cluster",
    "mart_htsql_cache_depth",
    "mart_htsql_extensions",
    "mart_max_columns",
    "mart_max_marts_per_owner",
    "mart_max_name_length",
    "mart_name_prefix",
    "mart_runtime_creation_queue",
    "mount",
    "query_timeout",
    "read_only",
    "replay_log",
    "secret",
    "services",
    "user_query",
];

/// rex's refusal of a setting no package declares (`Got unknown setting:`). A name
/// is known when it is in [`KNOWN`] or in `declared` (the application's own
/// settings.yaml, which may configure settings of its own code).
pub fn check_known(name: &str, declared: &Settings) -> crate::core::Result<()> {
    if KNOWN.contains(&name) || declared.values.contains_key(name) {
        return Ok(());
    }
    Err(crate::core::Error::with("Got unknown setting:", name))
}

fn merge_maps(into: &mut Map<String, Value>, from: &Map<String, Value>) {
    for (k, v) in from {
        match (into.get_mut(k), v) {
            (Some(Value::Object(a)), Value::Object(b)) => merge_maps(a, b),
            _ => {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_recursively_and_overrides() {
        let mut s = Settings::new();
        s.merge(json!({"a": {"x": 1, "y": 2}, "b": 1}).as_object().unwrap());
        s.merge(json!({"a": {"y": 3}, "b": null}).as_object().unwrap());
        assert_eq!(s.get("a"), Some(&json!({"x": 1, "y": 3})));
        assert_eq!(s.get("b"), None);
    }

    #[test]
    fn unknown_settings_are_refused_as_rex_words_it() {
        let mut declared = Settings::new();
        declared.set("app_own", json!(1));
        assert!(check_known("job_max_age", &declared).is_ok());
        assert!(check_known("app_own", &declared).is_ok());
        assert_eq!(
            check_known("job_max_agee", &declared)
                .unwrap_err()
                .to_string(),
            "Got unknown setting:\n    job_max_agee"
        );
    }
}
