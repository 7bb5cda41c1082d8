//! Application settings: `settings.yaml` of the packages an application uses, merged
//! (dicts recursively, later wins), then the keyword overrides given to `Rex(...)`.

use super::packages::Packages;
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

/// rex's refusal of a setting no active package declares (`Got unknown setting:`).
/// A name is known when a package of `packages` declares it or when it is in
/// `declared` (the application's own settings.yaml, which may configure settings of
/// its own code).
pub fn check_known(
    name: &str,
    declared: &Settings,
    packages: &Packages,
) -> crate::core::Result<()> {
    if packages.declares(name) || declared.values.contains_key(name) {
        return Ok(());
    }
    Err(crate::core::Error::with("Got unknown setting:", name))
}

/// rex's last paragraph of an error raised while initializing `Rex(...,
/// **overrides)`: `With parameters:`, one `key: repr` line per override, by key.
pub fn with_parameters(
    e: crate::core::Error,
    overrides: &Map<String, Value>,
) -> crate::core::Error {
    if overrides.is_empty() {
        return e;
    }
    let mut keys: Vec<&String> = overrides.keys().collect();
    keys.sort();
    let params: Vec<String> = keys
        .into_iter()
        .map(|k| format!("{k}: {}", crate::core::repr::py_json_repr(&overrides[k])))
        .collect();
    e.wrap_with("With parameters:", params.join("\n"))
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
        let none = crate::core::app::SearchPath::default();
        let job = Packages::resolve(&["rex.job".into()], &none).unwrap();
        assert!(check_known("job_max_age", &declared, &job).is_ok());
        assert!(check_known("app_own", &declared, &job).is_ok());
        assert!(check_known("mart_name_prefix", &declared, &job).is_err());
        assert_eq!(
            check_known("job_max_agee", &declared, &job)
                .unwrap_err()
                .to_string(),
            "Got unknown setting:\n    job_max_agee"
        );
        let mut given = Map::new();
        given.insert("b".into(), json!("x"));
        given.insert("a".into(), json!(null));
        let e = with_parameters(crate::core::Error::new("Oops"), &given);
        assert_eq!(
            e.to_string(),
            "Oops\nWith parameters:\n    a: None\n    b: 'x'"
        );
    }
}
