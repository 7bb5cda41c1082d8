//! `rex.core.get_settings()`: the active application's settings as a `Record`
//! (attribute access, `Record(name=value, ...)` repr in name order), the `mart_*`
//! settings with rex.mart's defaults when the application leaves them out.

use super::Session;
use crate::core::app::App;
use crate::mart::settings::MartSettings;
use crate::script::native::{arg_str, from_json, new_object, state_of, ClassBuilder};
use crate::script::value::{Class, Exception, Value};
use crate::script::Interpreter;
use std::rc::Rc;

struct SettingsState(serde_json::Map<String, serde_json::Value>);

/// The settings of `app`, rex.mart's defaults filled in.
fn values(app: &App) -> serde_json::Map<String, serde_json::Value> {
    let d = MartSettings::default();
    let mut out = serde_json::Map::new();
    for (k, v) in [
        ("mart_name_prefix", serde_json::json!(d.name_prefix)),
        ("mart_max_name_length", serde_json::json!(d.max_name_length)),
        (
            "mart_default_max_marts_per_owner_definition",
            serde_json::json!(d.default_per_owner),
        ),
        (
            "mart_max_marts_per_owner",
            serde_json::json!(d.max_marts_per_owner),
        ),
        ("mart_hosting_cluster", serde_json::Value::Null),
    ] {
        out.insert(k.to_string(), v);
    }
    for (k, v) in app.settings.values() {
        out.insert(k.clone(), v.clone());
    }
    out
}

pub(super) fn settings_object(session: &Session, app: &App) -> Value {
    let class = session
        .settings_class
        .borrow()
        .clone()
        .unwrap_or_else(|| unreachable!("rex.core is installed first"));
    new_object(&class, SettingsState(values(app)))
}

pub(super) fn settings_class(interp: &Interpreter) -> Rc<Class> {
    ClassBuilder::new(interp, "Record", "rex.core")
        .method("__getattr__", |_, this, a| {
            let st = state_of::<SettingsState>(this, "Record")?;
            let name = arg_str(a.arg(0)?, "attribute")?;
            match st.0.get(&*name) {
                Some(v) => Ok(from_json(v)),
                None => Err(Exception::new(
                    "AttributeError",
                    format!("'Record' object has no attribute '{name}'"),
                )),
            }
        })
        .method("__repr__", |it, this, _| {
            let st = state_of::<SettingsState>(this, "Record")?;
            let mut keys: Vec<&String> = st.0.keys().collect();
            keys.sort();
            let mut parts = Vec::new();
            for k in keys {
                parts.push(format!("{k}={}", it.repr(&from_json(&st.0[k]))?));
            }
            Ok(Value::str(&format!("Record({})", parts.join(", "))))
        })
        .build()
}
