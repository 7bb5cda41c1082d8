//! The `mart_*` settings that shape creation (rexmart.md §4.2), read once from the
//! application's merged settings with rex's defaults, so the pipeline never looks
//! settings up by string.

use crate::core::settings::Settings;
use crate::core::{Error, Result};

/// Creation-relevant `mart_*` settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MartSettings {
    /// `mart_name_prefix` (`mart_`); `None` when set to null: names get no prefix.
    pub name_prefix: Option<String>,
    /// `mart_max_name_length` (63): limits fixed names and name tokens.
    pub max_name_length: usize,
    /// `mart_default_max_marts_per_owner_definition` (3): default `quota.per_owner`.
    pub default_per_owner: i64,
    /// `mart_max_marts_per_owner` (10): the owner's total quota.
    pub max_marts_per_owner: i64,
    /// `mart_max_columns` (1000): columns of an assessment table before its fields
    /// spill into additional tables.
    pub max_columns: usize,
    /// `mart_dictionary_presentation_priority` (`form`, `sms`): which presentations
    /// of an instrument describe its fields first.
    pub presentation_priority: Vec<String>,
    /// `mart_dictionary_channel_priority` (none): which channels come first.
    pub channel_priority: Vec<String>,
}

impl Default for MartSettings {
    fn default() -> Self {
        MartSettings {
            name_prefix: Some("mart_".into()),
            max_name_length: 63,
            default_per_owner: 3,
            max_marts_per_owner: 10,
            max_columns: 1000,
            presentation_priority: vec!["form".into(), "sms".into()],
            channel_priority: Vec::new(),
        }
    }
}

impl MartSettings {
    /// Reads the settings, refusing values of the wrong shape with the setting's name.
    pub fn from_settings(settings: &Settings) -> Result<MartSettings> {
        let mut out = MartSettings::default();
        if let Some(v) = settings.values().get("mart_name_prefix") {
            out.name_prefix = match v {
                serde_json::Value::Null => None,
                serde_json::Value::String(s)
                    if !s.is_empty()
                        && s.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') =>
                {
                    Some(s.clone())
                }
                other => {
                    return Err(bad_setting(
                        "mart_name_prefix",
                        "Expected a string matching:",
                        "/^[a-z0-9_]+$/",
                        other,
                    ))
                }
            };
        }
        out.max_name_length = positive(settings, "mart_max_name_length", 63)? as usize;
        out.default_per_owner =
            positive(settings, "mart_default_max_marts_per_owner_definition", 3)?;
        out.max_marts_per_owner = positive(settings, "mart_max_marts_per_owner", 10)?;
        out.max_columns = positive(settings, "mart_max_columns", 1000)? as usize;
        for (name, target) in [
            (
                "mart_dictionary_presentation_priority",
                &mut out.presentation_priority,
            ),
            (
                "mart_dictionary_channel_priority",
                &mut out.channel_priority,
            ),
        ] {
            if let Some(v) = settings.get(name) {
                *target = strings(name, v)?;
            }
        }
        Ok(out)
    }

    /// The longest name token a definition may have: the name is
    /// prefix + token + code (10) + `_` + timestamp (14) and must fit the limit.
    pub fn max_name_token_length(&self) -> i64 {
        self.max_name_length as i64 - (25 + self.name_prefix.as_deref().map_or(0, str::len) as i64)
    }
}

fn positive(settings: &Settings, name: &str, default: i64) -> Result<i64> {
    match settings.get(name) {
        None => Ok(default),
        Some(v) => match v.as_i64() {
            Some(i) if i >= 1 => Ok(i),
            _ => Err(bad_setting(
                name,
                "Expected an integer in range:",
                "[1..]",
                v,
            )),
        },
    }
}

fn strings(name: &str, v: &serde_json::Value) -> Result<Vec<String>> {
    v.as_array()
        .and_then(|items| {
            items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| {
            Error::new("Expected a sequence of strings")
                .wrap_with("Got:", crate::core::repr::py_json_repr(v))
                .wrap_with("While validating setting:", name)
        })
}

fn bad_setting(name: &str, msg: &str, payload: &str, got: &serde_json::Value) -> Error {
    Error::with(msg, payload)
        .wrap_with("Got:", crate::core::repr::py_json_repr(got))
        .wrap_with("While validating setting:", name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_overrides() {
        let mut s = Settings::new();
        assert_eq!(
            MartSettings::from_settings(&s).unwrap(),
            MartSettings::default()
        );
        assert_eq!(MartSettings::default().max_name_token_length(), 33);
        s.set("mart_name_prefix", json!(null));
        s.set("mart_max_marts_per_owner", json!(5));
        let m = MartSettings::from_settings(&s).unwrap();
        assert_eq!(m.name_prefix, None);
        assert_eq!(m.max_marts_per_owner, 5);
        s.set("mart_max_marts_per_owner", json!(0));
        assert_eq!(
            MartSettings::from_settings(&s).unwrap_err().to_string(),
            "Expected an integer in range:\n    [1..]\nGot:\n    0\nWhile validating setting:\n    mart_max_marts_per_owner"
        );
    }
}
