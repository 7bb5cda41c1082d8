//! The transport interface every queue backend implements, and payload encoding.

use crate::core::validate::{MapVal, MaybeVal, Validator};
use crate::core::yaml::Node;
use crate::core::Result;
use serde_json::{Map, Value};

/// A task taken by [`Transport::with_task`]: the outcome of the callback, if a task
/// was found.
pub type Taken = Option<Result<()>>;

/// A set of named FIFO queues of JSON objects.
pub trait Transport: Send + Sync {
    /// Appends a payload (validated and key-sorted by [`encode_payload`]).
    fn submit_task(&self, queue: &str, payload: &Value) -> Result<()>;
    /// Removes and returns the oldest payload (rex's `get_task`: at-most-once).
    fn get_task(&self, queue: &str) -> Result<Option<Value>>;
    /// The number of payloads waiting.
    fn poll_queue(&self, queue: &str) -> Result<i64>;
    /// Runs `f` on the oldest payload and removes it only after `f` returned
    /// (at-least-once): a task whose process dies is not lost. `None`: queue empty.
    fn with_task(&self, queue: &str, f: &mut dyn FnMut(&Value) -> Result<()>) -> Result<Taken>;
    /// rex's `repr(transport)`, e.g. `LocalMemoryAsyncTransport`.
    fn repr(&self) -> String;
}

/// rex's `encode_payload`: `MaybeVal(MapVal())(p) or {}`. `None` becomes `{}`, a JSON
/// object string is parsed, and the top-level keys come back sorted.
pub fn encode_payload(payload: &Value) -> Result<Value> {
    let node = MaybeVal::new(MapVal::any()).validate(&Node::from_json(payload))?;
    match node.to_json() {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(Value::Object(entries.into_iter().collect::<Map<_, _>>()))
        }
        _ => Ok(Value::Object(Map::new())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_like_rex() {
        assert_eq!(
            encode_payload(&json!({"foo": "bar", "baz": 123}))
                .unwrap()
                .to_string(),
            r#"{"baz":123,"foo":"bar"}"#
        );
        assert_eq!(encode_payload(&json!(null)).unwrap(), json!({}));
        assert_eq!(
            encode_payload(&json!("{\"a\": 1}")).unwrap(),
            json!({"a": 1})
        );
        assert_eq!(
            encode_payload(&json!([1])).unwrap_err().to_string(),
            "Expected a mapping\nGot:\n    [1]"
        );
    }
}
