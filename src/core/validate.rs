//! rex.core validators: check and normalise data (YAML nodes or JSON payloads) and
//! fail with rex's exact texts (rex.core's validator messages). A failure found at a node
//! read from YAML also names its location (`While parsing:` / `"<file>", line N`);
//! containers add their own context (`While validating field:` ...) around it.

use super::yaml::{Node, NodeValue};
use super::{Error, Result};
use regex::Regex;

/// Checks a value and returns it normalised.
pub trait Validator: Send + Sync {
    fn validate(&self, node: &Node) -> Result<Node>;
}

impl<V: Validator + ?Sized> Validator for std::sync::Arc<V> {
    fn validate(&self, node: &Node) -> Result<Node> {
        (**self).validate(node)
    }
}

impl<V: Validator + ?Sized> Validator for Box<V> {
    fn validate(&self, node: &Node) -> Result<Node> {
        (**self).validate(node)
    }
}

/// `Got:` with the value's Python repr, then the node's location when it has one.
fn mismatch(node: &Node, err: Error) -> Error {
    located(node, err.wrap_with("Got:", node.py_repr()))
}

/// Adds `While parsing:` / location for a node that came from YAML.
fn located(node: &Node, err: Error) -> Error {
    match &node.mark {
        Some(mark) => err.wrap_with("While parsing:", mark),
        None => err,
    }
}

/// Parses a JSON string the way rex validators accept JSON text for containers.
fn parse_json(node: &Node, text: &str, expected: &str) -> Result<Node> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => {
            let mut parsed = Node::from_json(&v);
            parsed.mark = node.mark.clone();
            Ok(parsed)
        }
        Err(_) => Err(mismatch(node, Error::new(expected))),
    }
}

/// Accepts anything.
pub struct AnyVal;

impl Validator for AnyVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        Ok(node.clone())
    }
}

/// `None`, or whatever the inner validator accepts.
pub struct MaybeVal(pub Box<dyn Validator>);

impl MaybeVal {
    pub fn new(inner: impl Validator + 'static) -> MaybeVal {
        MaybeVal(Box::new(inner))
    }
}

impl Validator for MaybeVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        if node.is_null() {
            Ok(node.clone())
        } else {
            self.0.validate(node)
        }
    }
}

/// A string, optionally matching a whole-string pattern.
#[derive(Default)]
pub struct StrVal {
    pattern: Option<(String, Regex)>,
}

impl StrVal {
    pub fn new() -> StrVal {
        StrVal::default()
    }

    /// A string that matches `pattern` as a whole (Python's `\A(?:p)\Z`).
    pub fn pattern(pattern: &str) -> StrVal {
        StrVal::try_pattern(pattern).expect("valid pattern")
    }

    /// Like [`StrVal::pattern`] for a pattern given by a user.
    pub fn try_pattern(pattern: &str) -> Result<StrVal> {
        let anchored = Regex::new(&format!(r"\A(?:{pattern})\z"))
            .map_err(|e| Error::with("Invalid pattern:", e.to_string()))?;
        Ok(StrVal {
            pattern: Some((pattern.to_string(), anchored)),
        })
    }
}

impl Validator for StrVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let Some(s) = node.as_str() else {
            return Err(mismatch(node, Error::new("Expected a string")));
        };
        if let Some((text, re)) = &self.pattern {
            if !re.is_match(s) {
                return Err(mismatch(
                    node,
                    Error::with("Expected a string matching:", format!("/{text}/")),
                ));
            }
        }
        Ok(node.clone())
    }
}

/// One of a fixed set of strings.
pub struct ChoiceVal(pub Vec<String>);

impl ChoiceVal {
    pub fn new(choices: &[&str]) -> ChoiceVal {
        ChoiceVal(choices.iter().map(|c| c.to_string()).collect())
    }
}

impl Validator for ChoiceVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let Some(s) = node.as_str() else {
            return Err(mismatch(node, Error::new("Expected a string")));
        };
        if !self.0.iter().any(|c| c == s) {
            return Err(mismatch(
                node,
                Error::with("Expected one of:", self.0.join(", ")),
            ));
        }
        Ok(node.clone())
    }
}

/// A Boolean; also `0`, `1`, `''`, `'0'`, `'1'`, `'false'`, `'true'`.
pub struct BoolVal;

impl Validator for BoolVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let b = match &node.value {
            NodeValue::Bool(b) => Some(*b),
            NodeValue::Int(0) => Some(false),
            NodeValue::Int(1) => Some(true),
            NodeValue::Float(f) if *f == 0.0 => Some(false),
            NodeValue::Float(f) if *f == 1.0 => Some(true),
            NodeValue::Str(s) => match s.as_str() {
                "" | "0" | "false" => Some(false),
                "1" | "true" => Some(true),
                _ => None,
            },
            _ => None,
        };
        match b {
            Some(b) => Ok(Node {
                value: NodeValue::Bool(b),
                mark: node.mark.clone(),
            }),
            None => Err(mismatch(node, Error::new("Expected a Boolean value"))),
        }
    }
}

/// An integer (not a Boolean), or a string Python's `int()` accepts; optionally bounded.
#[derive(Default)]
pub struct IntVal {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl IntVal {
    pub fn new() -> IntVal {
        IntVal::default()
    }

    pub fn range(min: Option<i64>, max: Option<i64>) -> IntVal {
        IntVal { min, max }
    }
}

/// Python's `int(str)`: surrounding whitespace, a sign, digits with single underscores.
pub fn python_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let v: i64 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -v } else { v })
}

impl Validator for IntVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let value = match &node.value {
            NodeValue::Int(i) => Some(*i),
            NodeValue::Str(s) => python_int(s),
            _ => None,
        };
        let bounded = self.min.is_some() || self.max.is_some();
        let expected = || {
            if bounded {
                let lo = self.min.map(|v| v.to_string()).unwrap_or_default();
                let hi = self.max.map(|v| v.to_string()).unwrap_or_default();
                Error::with("Expected an integer in range:", format!("[{lo}..{hi}]"))
            } else {
                Error::new("Expected an integer")
            }
        };
        let Some(v) = value else {
            return Err(mismatch(node, Error::new("Expected an integer")));
        };
        if self.min.is_some_and(|m| v < m) || self.max.is_some_and(|m| v > m) {
            return Err(mismatch(node, expected()));
        }
        Ok(Node {
            value: NodeValue::Int(v),
            mark: node.mark.clone(),
        })
    }
}

/// A float; integers and numeric strings are converted.
pub struct FloatVal;

impl Validator for FloatVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let v = match &node.value {
            NodeValue::Float(f) => Some(*f),
            NodeValue::Int(i) => Some(*i as f64),
            NodeValue::Str(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match v {
            Some(f) => Ok(Node {
                value: NodeValue::Float(f),
                mark: node.mark.clone(),
            }),
            None => Err(mismatch(node, Error::new("Expected a float value"))),
        }
    }
}

/// A list (or a JSON array in a string) whose items pass `item`.
pub struct SeqVal(pub Box<dyn Validator>);

impl SeqVal {
    pub fn new(item: impl Validator + 'static) -> SeqVal {
        SeqVal(Box::new(item))
    }
}

impl Validator for SeqVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let parsed;
        let node = match &node.value {
            NodeValue::Str(s) => {
                parsed = parse_json(node, s, "Expected a JSON array")?;
                &parsed
            }
            _ => node,
        };
        let Some(items) = node.as_seq() else {
            return Err(mismatch(node, Error::new("Expected a sequence")));
        };
        validate_items(node, items, self.0.as_ref())
    }
}

fn validate_items(node: &Node, items: &[Node], item: &dyn Validator) -> Result<Node> {
    let out = items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            item.validate(it)
                .map_err(|e| e.wrap_with("While validating sequence item", format!("#{}", i + 1)))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Node {
        value: NodeValue::Seq(out),
        mark: node.mark.clone(),
    })
}

/// A list of items, or one item (normalised to a one-item list).
pub struct OneOrSeqVal(pub Box<dyn Validator>);

impl OneOrSeqVal {
    pub fn new(item: impl Validator + 'static) -> OneOrSeqVal {
        OneOrSeqVal(Box::new(item))
    }
}

impl Validator for OneOrSeqVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        match node.as_seq() {
            Some(items) => validate_items(node, items, self.0.as_ref()),
            None => Ok(Node {
                value: NodeValue::Seq(vec![self.0.validate(node)?]),
                mark: node.mark.clone(),
            }),
        }
    }
}

/// A mapping (or a JSON object in a string); the result has its keys sorted.
pub struct MapVal {
    key: Box<dyn Validator>,
    value: Box<dyn Validator>,
}

impl MapVal {
    pub fn new(key: impl Validator + 'static, value: impl Validator + 'static) -> MapVal {
        MapVal {
            key: Box::new(key),
            value: Box::new(value),
        }
    }

    /// Any keys, any values.
    pub fn any() -> MapVal {
        MapVal::new(AnyVal, AnyVal)
    }
}

impl Validator for MapVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let parsed;
        let node = match &node.value {
            NodeValue::Str(s) => {
                parsed = parse_json(node, s, "Expected a JSON object")?;
                &parsed
            }
            _ => node,
        };
        let Some(entries) = node.as_map() else {
            return Err(mismatch(node, Error::new("Expected a mapping")));
        };
        let mut out = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            let key_node = Node::new(NodeValue::Str(k.clone()));
            let key = self
                .key
                .validate(&key_node)
                .map_err(|e| e.wrap_with("While validating mapping key:", key_node.py_repr()))?;
            let key_text = key.as_str().map_or_else(|| key.py_repr(), str::to_string);
            let value = self.value.validate(v).map_err(|e| {
                e.wrap_with("While validating mapping value for key:", key.py_repr())
            })?;
            out.push((key_text, value));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Node {
            value: NodeValue::Map(out),
            mark: node.mark.clone(),
        })
    }
}

/// One field of a [`RecordVal`].
pub struct Field {
    pub name: String,
    pub validator: Box<dyn Validator>,
    /// `None`: mandatory. `Some(v)`: optional with default `v` (not validated).
    pub default: Option<Node>,
}

/// A closed (or open) record: a mapping with declared fields. The result is a mapping
/// of every declared field, in declaration order, defaults filled in.
pub struct RecordVal {
    fields: Vec<Field>,
    open: bool,
}

impl Default for RecordVal {
    fn default() -> Self {
        RecordVal::new()
    }
}

impl RecordVal {
    pub fn new() -> RecordVal {
        RecordVal {
            fields: Vec::new(),
            open: false,
        }
    }

    /// Unknown keys are ignored instead of refused (rex's `OpenRecordVal`).
    pub fn open() -> RecordVal {
        RecordVal {
            fields: Vec::new(),
            open: true,
        }
    }

    /// A mandatory field.
    pub fn field(mut self, name: &str, validator: impl Validator + 'static) -> RecordVal {
        self.fields.push(Field {
            name: name.to_string(),
            validator: Box::new(validator),
            default: None,
        });
        self
    }

    /// An optional field with a default.
    pub fn optional(
        mut self,
        name: &str,
        validator: impl Validator + 'static,
        default: Node,
    ) -> RecordVal {
        self.fields.push(Field {
            name: name.to_string(),
            validator: Box::new(validator),
            default: Some(default),
        });
        self
    }

    pub fn fields(&self) -> &[Field] {
        &self.fields
    }
}

impl Validator for RecordVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let parsed;
        let node = match &node.value {
            NodeValue::Str(s) => {
                parsed = parse_json(node, s, "Expected a JSON object")?;
                &parsed
            }
            _ => node,
        };
        let Some(entries) = node.as_map() else {
            return Err(mismatch(node, Error::new("Expected a mapping")));
        };
        // Every key is checked (in sorted order) before any field is validated, so an
        // unexpected key wins over a missing one, as in rex.
        let mut given: Vec<(String, &Node)> = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let name = key.replace(['-', ' '], "_");
            if given.iter().any(|(n, _)| *n == name) {
                return Err(located(value, Error::with("Got duplicate field:", &name)));
            }
            given.push((name, value));
        }
        if !self.open {
            // The first unknown key in sorted order is the one reported.
            if let Some((key, value)) = given
                .iter()
                .filter(|(k, _)| !self.fields.iter().any(|f| f.name == *k))
                .min_by(|a, b| a.0.cmp(&b.0))
            {
                return Err(located(value, Error::with("Got unexpected field:", key)));
            }
        }
        let mut out = Vec::with_capacity(self.fields.len());
        for field in &self.fields {
            let value = match given.iter().find(|(n, _)| *n == field.name) {
                Some((_, v)) => field
                    .validator
                    .validate(v)
                    .map_err(|e| e.wrap_with("While validating field:", &field.name))?,
                None => match &field.default {
                    Some(d) => d.clone(),
                    None => {
                        return Err(located(
                            node,
                            Error::with("Missing mandatory field:", &field.name),
                        ))
                    }
                },
            };
            out.push((field.name.clone(), value));
        }
        Ok(Node {
            value: NodeValue::Map(out),
            mark: node.mark.clone(),
        })
    }
}

/// The first of several validators that accepts the value (rex's deprecated `OneOfVal`).
pub struct OneOfVal(pub Vec<Box<dyn Validator>>);

impl Validator for OneOfVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let mut errors = Vec::new();
        for v in &self.0 {
            match v.validate(node) {
                Ok(n) => return Ok(n),
                Err(e) => errors.push(e.to_string()),
            }
        }
        Err(Error::with(
            "Failed to match the value against any of the following:",
            errors.join("\n\n"),
        ))
    }
}

/// How a [`UnionVal`] recognises its variants.
pub enum Test {
    /// A mapping that has this key, e.g. `table` for a table fact (`table record`).
    Field(String),
    Scalar,
    Seq,
    Map,
}

impl Test {
    fn matches(&self, node: &Node) -> bool {
        match self {
            Test::Field(name) => node.get(name).is_some(),
            Test::Scalar => node.as_map().is_none() && node.as_seq().is_none(),
            Test::Seq => node.as_seq().is_some(),
            Test::Map => node.as_map().is_some(),
        }
    }

    fn name(&self) -> String {
        match self {
            Test::Field(name) => format!("{name} record"),
            Test::Scalar => "scalar".into(),
            Test::Seq => "sequence".into(),
            Test::Map => "mapping".into(),
        }
    }
}

/// The variant whose test matches first (rex's `UnionVal`).
pub struct UnionVal(pub Vec<(Test, Box<dyn Validator>)>);

impl Validator for UnionVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        if let Some((_, v)) = self.0.iter().find(|(t, _)| t.matches(node)) {
            return v.validate(node);
        }
        let names: Vec<String> = self.0.iter().map(|(t, _)| t.name()).collect();
        let got = match &node.value {
            NodeValue::Map(_) => "a mapping".to_string(),
            NodeValue::Seq(_) => "a sequence".to_string(),
            _ => node.py_repr(),
        };
        Err(located(
            node,
            Error::with("Expected one of:", names.join("\n")).wrap_with("Got:", got),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::yaml::load_str;
    use serde_json::json;

    fn run_list_entry() -> RecordVal {
        RecordVal::new()
            .field("owner", StrVal::new())
            .field("definition", StrVal::new())
            .optional(
                "halt_on_failure",
                BoolVal,
                Node::new(NodeValue::Bool(false)),
            )
            .optional(
                "purge_on_failure",
                BoolVal,
                Node::new(NodeValue::Bool(true)),
            )
            .optional(
                "leave_incomplete",
                BoolVal,
                Node::new(NodeValue::Bool(false)),
            )
            .optional(
                "parameters",
                MapVal::any(),
                Node::new(NodeValue::Map(vec![])),
            )
    }

    fn err(v: &dyn Validator, data: serde_json::Value) -> String {
        v.validate(&Node::from_json(&data)).unwrap_err().to_string()
    }

    #[test]
    fn record_error_precedence_matches_rex() {
        let v = run_list_entry();
        assert_eq!(
            err(&v, json!({"owner": "async"})),
            "Missing mandatory field:\n    definition"
        );
        assert_eq!(
            err(&v, json!({"definition": "empty"})),
            "Missing mandatory field:\n    owner"
        );
        assert_eq!(
            err(&v, json!({"bad": "payload"})),
            "Got unexpected field:\n    bad"
        );
        assert_eq!(
            err(&v, json!({"zz": 1, "bad": 2})),
            "Got unexpected field:\n    bad"
        );
        assert_eq!(
            err(&v, json!({"owner": 1, "definition": "x"})),
            "Expected a string\nGot:\n    1\nWhile validating field:\n    owner"
        );
        let ok = v
            .validate(&Node::from_json(
                &json!({"definition": "empty", "owner": "async"}),
            ))
            .unwrap();
        assert_eq!(
            ok.to_json(),
            json!({"owner": "async", "definition": "empty", "halt_on_failure": false,
                   "purge_on_failure": true, "leave_incomplete": false, "parameters": {}})
        );
    }

    #[test]
    fn scalar_texts() {
        assert_eq!(
            err(&IntVal::new(), json!("abc")),
            "Expected an integer\nGot:\n    'abc'"
        );
        assert_eq!(
            err(&IntVal::new(), json!(true)),
            "Expected an integer\nGot:\n    True"
        );
        assert_eq!(
            IntVal::new()
                .validate(&Node::from_json(&json!("5")))
                .unwrap()
                .as_i64(),
            Some(5)
        );
        assert_eq!(
            err(&IntVal::range(Some(1), Some(10)), json!(11)),
            "Expected an integer in range:\n    [1..10]\nGot:\n    11"
        );
        assert_eq!(
            err(&IntVal::range(Some(0), None), json!(-1)),
            "Expected an integer in range:\n    [0..]\nGot:\n    -1"
        );
        assert_eq!(
            err(&BoolVal, json!("yes")),
            "Expected a Boolean value\nGot:\n    'yes'"
        );
        assert_eq!(
            err(&ChoiceVal::new(&["a", "b"]), json!("c")),
            "Expected one of:\n    a, b\nGot:\n    'c'"
        );
        assert_eq!(
            err(&StrVal::pattern("[a-z_][0-9a-z_]*"), json!("Bad")),
            "Expected a string matching:\n    /[a-z_][0-9a-z_]*/\nGot:\n    'Bad'"
        );
    }

    #[test]
    fn containers_wrap_context() {
        assert_eq!(
            err(&SeqVal::new(IntVal::new()), json!([1, "x"])),
            "Expected an integer\nGot:\n    'x'\nWhile validating sequence item\n    #2"
        );
        assert_eq!(
            err(
                &MapVal::new(StrVal::new(), IntVal::new()),
                json!({"a": "x"})
            ),
            "Expected an integer\nGot:\n    'x'\nWhile validating mapping value for key:\n    'a'"
        );
        assert_eq!(
            err(&MapVal::any(), json!([1])),
            "Expected a mapping\nGot:\n    [1]"
        );
        let sorted = MapVal::any()
            .validate(&Node::from_json(&json!({"b": 1, "a": 2})))
            .unwrap();
        assert_eq!(sorted.as_map().unwrap()[0].0, "a");
    }

    #[test]
    fn yaml_nodes_name_their_location() {
        let node = load_str("owner: x\ndefinition: [1]\n", "<unicode string>").unwrap();
        assert_eq!(
            run_list_entry().validate(&node).unwrap_err().to_string(),
            "Expected a string\nGot:\n    [1]\nWhile parsing:\n    \"<unicode string>\", line 2\nWhile validating field:\n    definition"
        );
        let node = load_str("owner: x\nowner: y\ndefinition: z\n", "<unicode string>").unwrap();
        assert_eq!(
            run_list_entry().validate(&node).unwrap_err().to_string(),
            "Got duplicate field:\n    owner\nWhile parsing:\n    \"<unicode string>\", line 2"
        );
    }

    #[test]
    fn union_names_variants() {
        let v = UnionVal(vec![
            (Test::Field("table".into()), Box::new(AnyVal)),
            (Test::Field("column".into()), Box::new(AnyVal)),
        ]);
        assert_eq!(
            err(&v, json!({"x": 1})),
            "Expected one of:\n    table record\n    column record\nGot:\n    a mapping"
        );
    }
}
