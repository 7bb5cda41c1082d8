//! rex.core's YAML loader: a tree of [`Node`]s that remember where they came from
//! (for `While parsing:` / `"<file>", line N` in errors), with rex's scalar rules
//! (only `true|True|TRUE|false|False|FALSE` are booleans) and its two tags:
//! `!include FILE` (the parsed YAML of FILE) and `!include/str FILE` (FILE's text),
//! both relative to the including file's directory.

use super::{Error, Result};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Where a node starts: the file (or `<unicode string>`) and the 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub file: Arc<str>,
    pub line: usize,
}

impl fmt::Display for Mark {
    /// rex's location text: `"<file>", line N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\", line {}", self.file, self.line)
    }
}

/// One value of a document, with its location when it was read from YAML.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: NodeValue,
    pub mark: Option<Mark>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in document order; duplicates are kept so validators can report them.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// A node without a location (built by code, or converted from JSON).
    pub fn new(value: NodeValue) -> Node {
        Node { value, mark: None }
    }

    pub fn null() -> Node {
        Node::new(NodeValue::Null)
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, NodeValue::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            NodeValue::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            NodeValue::Int(i) => Some(i),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            NodeValue::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(String, Node)]> {
        match &self.value {
            NodeValue::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value of `key` in a mapping (the first one when duplicated).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Converts JSON data (a payload) into a node without locations.
    pub fn from_json(value: &serde_json::Value) -> Node {
        use serde_json::Value as J;
        Node::new(match value {
            J::Null => NodeValue::Null,
            J::Bool(b) => NodeValue::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => NodeValue::Int(i),
                None => NodeValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => NodeValue::Str(s.clone()),
            J::Array(items) => NodeValue::Seq(items.iter().map(Node::from_json).collect()),
            J::Object(map) => NodeValue::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Node::from_json(v)))
                    .collect(),
            ),
        })
    }

    /// Converts to JSON (floats that JSON cannot hold become null).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            NodeValue::Null => J::Null,
            NodeValue::Bool(b) => J::Bool(*b),
            NodeValue::Int(i) => J::from(*i),
            NodeValue::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            NodeValue::Str(s) => J::String(s.clone()),
            NodeValue::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Python's repr of the value, as rex prints it after `Got:`.
    pub fn py_repr(&self) -> String {
        super::repr::py_json_repr(&self.to_json())
    }
}

/// Reads and parses a YAML file, resolving its `!include` tags.
pub fn load_file(path: &Path) -> Result<Node> {
    load_file_at(path, 0)
}

/// How deep `!include`s may nest before we call it a cycle.
const MAX_INCLUDE_DEPTH: usize = 32;

fn load_file_at(path: &Path, depth: usize) -> Result<Node> {
    if depth > MAX_INCLUDE_DEPTH {
        return Err(Error::with(
            "Includes nest too deeply (a file includes itself?):",
            path.display(),
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::with("Failed to open file:", format!("{}: {e}", path.display())))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    load_at(&text, &path.display().to_string(), &dir, depth)
}

/// Parses YAML text; `!include` paths resolve against the current directory.
pub fn load_str(text: &str, origin: &str) -> Result<Node> {
    load(text, origin, Path::new("."))
}

/// Parses YAML text named `origin` whose includes resolve against `dir`.
pub fn load(text: &str, origin: &str, dir: &Path) -> Result<Node> {
    load_at(text, origin, dir, 0)
}

fn load_at(text: &str, origin: &str, dir: &Path, depth: usize) -> Result<Node> {
    let mut builder = Builder {
        depth,
        file: Arc::from(origin),
        dir: dir.to_path_buf(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        error: None,
        aliased: 0,
    };
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, false).map_err(|e| {
        // Where, as PyYAML's messages say it: `in "path", line L, column C`.
        let m = e.marker();
        let at = format!(
            "  in \"{origin}\", line {}, column {}",
            m.line(),
            m.col() + 1
        );
        Error::with("Failed to parse a YAML document:", format!("{e}\n{at}"))
    })?;
    if let Some(e) = builder.error {
        return Err(e);
    }
    Ok(builder.root.unwrap_or_else(Node::null))
}

/// A collection being built: its node, anchor, and (for mappings) the pending key.
struct Open {
    node: Node,
    anchor: usize,
    key: Option<String>,
}

struct Builder {
    depth: usize,
    file: Arc<str>,
    dir: PathBuf,
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    error: Option<Error>,
    /// Nodes copied by aliases so far (see `MAX_ALIASED_NODES`).
    aliased: usize,
}

impl Builder {
    fn mark(&self, m: Marker) -> Option<Mark> {
        Some(Mark {
            file: self.file.clone(),
            line: m.line(),
        })
    }

    /// Adds a finished node to the collection on top of the stack (or as the root).
    fn push(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let Some(top) = self.stack.last_mut() else {
            self.root = Some(node);
            return;
        };
        match &mut top.node.value {
            NodeValue::Seq(items) => items.push(node),
            NodeValue::Map(entries) => match top.key.take() {
                None => {
                    let key = key_text(&node);
                    if key.len() > MAX_KEY_TEXT {
                        // Nested collection keys: each level's repr escapes the one
                        // inside, so the text doubles per level (found by fuzzing).
                        let e = Error::with(
                            "Failed to parse a YAML document:",
                            format!("a mapping key is longer than {MAX_KEY_TEXT} characters"),
                        );
                        self.error = Some(match &node.mark {
                            Some(m) => e.wrap_with("While parsing:", m),
                            None => e,
                        });
                        return;
                    }
                    top.key = Some(key)
                }
                Some(key) => entries.push((key, node)),
            },
            _ => {}
        }
    }

    fn scalar(
        &mut self,
        text: String,
        style: TScalarStyle,
        tag: Option<Tag>,
        mark: Marker,
    ) -> Result<Node> {
        let mark = self.mark(mark);
        let value = match tag {
            Some(tag) if tag.handle == "!" && tag.suffix == "include" => {
                let path = self.dir.join(&text);
                return load_file_at(&path, self.depth + 1).map_err(|e| match mark.as_ref() {
                    Some(m) => e.wrap_with("While parsing:", m),
                    None => e,
                });
            }
            Some(tag) if tag.handle == "!" && tag.suffix == "include/str" => {
                let path = self.dir.join(&text);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    Error::with("Failed to open file:", format!("{}: {e}", path.display()))
                })?;
                NodeValue::Str(text)
            }
            Some(tag) if is_core_tag(&tag, "str") => NodeValue::Str(text),
            Some(tag) if tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!" => {
                resolve_plain(&text)
            }
            Some(tag) => {
                return Err(Error::with(
                    "Got an unknown YAML tag:",
                    format!("{}{}", tag.handle, tag.suffix),
                ))
            }
            None if style == TScalarStyle::Plain => resolve_plain(&text),
            None => NodeValue::Str(text),
        };
        Ok(Node { value, mark })
    }
}

fn is_core_tag(tag: &Tag, name: &str) -> bool {
    (tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:") && tag.suffix == name
}

/// rex's implicit scalar resolution for plain (unquoted) scalars.
fn resolve_plain(text: &str) -> NodeValue {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return NodeValue::Null,
        "true" | "True" | "TRUE" => return NodeValue::Bool(true),
        "false" | "False" | "FALSE" => return NodeValue::Bool(false),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return NodeValue::Int(i);
        }
    }
    let looks_float = digits.bytes().any(|b| b.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && (digits.contains('.') || digits.contains(['e', 'E']));
    if looks_float {
        if let Ok(f) = text.parse::<f64>() {
            return NodeValue::Float(f);
        }
    }
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" => NodeValue::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => NodeValue::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => NodeValue::Float(f64::NAN),
        _ => NodeValue::Str(text.to_string()),
    }
}

/// How many nodes aliases may copy in one document: nodes are trees, so every alias
/// copies its anchor, and nested aliases ("billion laughs") grow exponentially.
const MAX_ALIASED_NODES: usize = 1_000_000;

fn node_count(node: &Node) -> usize {
    1 + match &node.value {
        NodeValue::Seq(items) => items.iter().map(node_count).sum(),
        NodeValue::Map(entries) => entries.iter().map(|(_, v)| node_count(v)).sum(),
        _ => 0,
    }
}

/// The longest mapping key text (a collection used as a key is kept as its repr).
const MAX_KEY_TEXT: usize = 1 << 16;

/// Mapping keys are kept as text: strings as they are, other scalars as YAML wrote them.
fn key_text(node: &Node) -> String {
    match &node.value {
        NodeValue::Str(s) => s.clone(),
        NodeValue::Null => "None".into(),
        NodeValue::Bool(b) => if *b { "True" } else { "False" }.into(),
        NodeValue::Int(i) => i.to_string(),
        NodeValue::Float(f) => super::repr::py_float_repr(*f),
        _ => node.py_repr(),
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => match self.scalar(text, style, tag, mark) {
                Ok(node) => self.push(node, anchor),
                Err(e) => self.error = Some(e),
            },
            Event::SequenceStart(anchor, _) => self.stack.push(Open {
                node: Node {
                    value: NodeValue::Seq(Vec::new()),
                    mark: self.mark(mark),
                },
                anchor,
                key: None,
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Open {
                node: Node {
                    value: NodeValue::Map(Vec::new()),
                    mark: self.mark(mark),
                },
                anchor,
                key: None,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(open) = self.stack.pop() {
                    self.push(open.node, open.anchor);
                }
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().unwrap_or_else(Node::null);
                self.aliased = self.aliased.saturating_add(node_count(&node));
                if self.aliased > MAX_ALIASED_NODES {
                    let e = Error::with(
                        "Failed to parse a YAML document:",
                        format!("aliases expand to more than {MAX_ALIASED_NODES} nodes"),
                    );
                    self.error = Some(match self.mark(mark) {
                        Some(m) => e.wrap_with("While parsing:", m),
                        None => e,
                    });
                    return;
                }
                self.push(node, 0);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_follow_rex_rules() {
        let n = load_str(
            "a: yes\nb: true\nc: 12\nd: 1.5\ne:\nf: 'true'\ng: ~\n",
            "<unicode string>",
        )
        .unwrap();
        assert_eq!(n.get("a").unwrap().as_str(), Some("yes"));
        assert_eq!(n.get("b").unwrap().as_bool(), Some(true));
        assert_eq!(n.get("c").unwrap().as_i64(), Some(12));
        assert_eq!(n.get("d").unwrap().value, NodeValue::Float(1.5));
        assert!(n.get("e").unwrap().is_null());
        assert_eq!(n.get("f").unwrap().as_str(), Some("true"));
        assert!(n.get("g").unwrap().is_null());
    }

    #[test]
    fn marks_give_file_and_line() {
        let n = load_str(
            "- table: foo\n- column: foo.bar\n  type: text\n",
            "<unicode string>",
        )
        .unwrap();
        let items = n.as_seq().unwrap();
        assert_eq!(
            items[1].mark.as_ref().unwrap().to_string(),
            "\"<unicode string>\", line 2"
        );
    }

    #[test]
    fn includes_resolve_relative_to_the_including_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("inner.yaml"), "- table: foo\n").unwrap();
        std::fs::write(dir.path().join("script.htsql"), "/foo\n").unwrap();
        std::fs::write(
            dir.path().join("outer.yaml"),
            "deploy: !include inner.yaml\nscript: !include/str script.htsql\n",
        )
        .unwrap();
        let n = load_file(&dir.path().join("outer.yaml")).unwrap();
        let deploy = n.get("deploy").unwrap();
        assert_eq!(
            deploy.as_seq().unwrap()[0].get("table").unwrap().as_str(),
            Some("foo")
        );
        assert!(deploy.mark.as_ref().unwrap().file.ends_with("inner.yaml"));
        assert_eq!(n.get("script").unwrap().as_str(), Some("/foo\n"));
        std::fs::write(dir.path().join("loop.yaml"), "x: !include loop.yaml\n").unwrap();
        let e = load_file(&dir.path().join("loop.yaml")).unwrap_err();
        assert!(e.to_string().starts_with("Includes nest too deeply"));
    }

    #[test]
    fn nested_collection_keys_are_bounded() {
        // fuzz/artifacts (yaml_load): each nested `{` key escapes the repr of the one
        // inside, doubling the key text per level; 40 levels used to exhaust memory.
        let text = format!("- a: {}{}\n", "{".repeat(40), "}".repeat(40));
        let e = load_str(&text, "<fuzz>").unwrap_err().to_string();
        assert!(
            e.contains("a mapping key is longer than 65536 characters"),
            "{e}"
        );
        // a shallow collection key still loads, as its repr
        let node = load_str("{[1, 2]: x}", "<t>").unwrap();
        assert_eq!(node.as_map().unwrap()[0].0, "[1, 2]");
    }

    #[test]
    fn alias_expansion_is_bounded() {
        // "billion laughs": 8 levels of 10 aliases would copy 10^8 nodes.
        let mut text = String::from("a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n");
        for i in 1..8 {
            let refs = vec![format!("*a{}", i - 1); 10].join(",");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let e = load_str(&text, "<fuzz>").unwrap_err().to_string();
        assert!(
            e.contains("aliases expand to more than 1000000 nodes"),
            "{e}"
        );
        // ordinary aliases still work
        let node = load_str("a: &x [1, 2]\nb: *x\n", "<t>").unwrap();
        assert_eq!(node.get("b").unwrap().as_seq().unwrap().len(), 2);
    }

    #[test]
    fn bad_yaml_is_an_error_not_a_panic() {
        let e = load_str("a: [1, 2\n", "<unicode string>").unwrap_err();
        assert!(e
            .to_string()
            .starts_with("Failed to parse a YAML document:\n"));
        let e = load_str("a: !include does-not-exist.yaml\n", "<unicode string>").unwrap_err();
        assert!(e.to_string().starts_with("Failed to open file:"));
        for junk in ["{", "]", "- - -\n  :", "\t", "&a *a", "a: *b", "!x y"] {
            let _ = load_str(junk, "<unicode string>");
        }
    }
}
