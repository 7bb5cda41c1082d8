//! `RunListEntryVal`: what the worker, the job executor and the CLI accept as "create
//! this mart" (rexmart.md §2), with rex's defaults, field order and error precedence
//! (an unexpected field is reported before a missing one).

use crate::core::validate::{BoolVal, MapVal, RecordVal, StrVal, Validator};
use crate::core::yaml::{Node, NodeValue};
use crate::core::Result;

/// One validated entry.
#[derive(Clone, Debug, PartialEq)]
pub struct RunListEntry {
    pub owner: String,
    pub definition: String,
    pub halt_on_failure: bool,
    pub purge_on_failure: bool,
    pub leave_incomplete: bool,
    /// Creation parameters as given (typed later against the definition), keys sorted.
    pub parameters: Vec<(String, Node)>,
}

/// `RunListEntryVal`.
pub fn validator() -> RecordVal {
    let b = |v| Node::new(NodeValue::Bool(v));
    RecordVal::new()
        .field("owner", StrVal::new())
        .field("definition", StrVal::new())
        .optional("halt_on_failure", BoolVal, b(false))
        .optional("purge_on_failure", BoolVal, b(true))
        .optional("leave_incomplete", BoolVal, b(false))
        .optional(
            "parameters",
            MapVal::any(),
            Node::new(NodeValue::Map(Vec::new())),
        )
}

impl RunListEntry {
    /// Validates a node (a payload converted from JSON, or a YAML RunList item).
    pub fn validate(node: &Node) -> Result<RunListEntry> {
        let v = validator().validate(node)?;
        let s = |k: &str| {
            v.get(k)
                .and_then(Node::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let b = |k: &str| v.get(k).and_then(Node::as_bool).unwrap_or_default();
        Ok(RunListEntry {
            owner: s("owner"),
            definition: s("definition"),
            halt_on_failure: b("halt_on_failure"),
            purge_on_failure: b("purge_on_failure"),
            leave_incomplete: b("leave_incomplete"),
            parameters: v
                .get("parameters")
                .and_then(Node::as_map)
                .unwrap_or_default()
                .to_vec(),
        })
    }

    /// Validates a JSON payload (a task's or a job's).
    pub fn from_json(payload: &serde_json::Value) -> Result<RunListEntry> {
        RunListEntry::validate(&Node::from_json(payload))
    }

    /// rex's `repr` of the validated record.
    pub fn py_repr(&self) -> String {
        let py_bool = |b: bool| if b { "True" } else { "False" };
        let params = Node::new(NodeValue::Map(self.parameters.clone())).py_repr();
        format!(
            "Record(owner={}, definition={}, halt_on_failure={}, purge_on_failure={}, leave_incomplete={}, parameters={})",
            crate::core::repr::py_str_repr(&self.owner),
            crate::core::repr::py_str_repr(&self.definition),
            py_bool(self.halt_on_failure),
            py_bool(self.purge_on_failure),
            py_bool(self.leave_incomplete),
            params
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: serde_json::Value) -> String {
        RunListEntry::from_json(&v).unwrap_err().to_string()
    }

    #[test]
    fn defaults_and_repr() {
        let e =
            RunListEntry::from_json(&json!({"owner": "test", "definition": "some_def"})).unwrap();
        assert_eq!(
            e.py_repr(),
            "Record(owner='test', definition='some_def', halt_on_failure=False, purge_on_failure=True, leave_incomplete=False, parameters={})"
        );
    }

    #[test]
    fn error_precedence_matches_rex() {
        assert_eq!(
            err(json!({"owner": "async"})),
            "Missing mandatory field:\n    definition"
        );
        assert_eq!(
            err(json!({"definition": "empty"})),
            "Missing mandatory field:\n    owner"
        );
        assert_eq!(err(json!({})), "Missing mandatory field:\n    owner");
        assert_eq!(
            err(json!({"bad": "payload"})),
            "Got unexpected field:\n    bad"
        );
        assert_eq!(
            err(json!({"zz": 1, "bad": 1, "owner": "x"})),
            "Got unexpected field:\n    bad"
        );
        assert_eq!(
            err(json!({"owner": 5})),
            "Expected a string\nGot:\n    5\nWhile validating field:\n    owner"
        );
        assert_eq!(
            err(json!("nope")),
            "Expected a JSON object\nGot:\n    'nope'"
        );
        assert_eq!(err(json!([1])), "Expected a mapping\nGot:\n    [1]");
    }
}
