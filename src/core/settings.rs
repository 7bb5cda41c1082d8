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
}
