//! Stand-in for `crate::core::yaml` until it lands on main: the same `Node` shape
//! (values with marks) and a loader with marks and rex.core scalar resolution, so the
//! fact parser can be written and tested against it now. Replaced by a re-export.

use crate::core::{Error, Result};
use std::path::Path;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    pub file: String,
    pub line: usize,
}

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
    Map(Vec<(String, Node)>),
}

impl Node {
    pub fn new(value: NodeValue) -> Node {
        Node { value, mark: None }
    }
}

struct Builder {
    origin: String,
    stack: Vec<(Node, Option<String>)>,
    done: Vec<Node>,
}

impl Builder {
    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.done.push(node),
            Some((parent, key)) => match &mut parent.value {
                NodeValue::Seq(items) => items.push(node),
                NodeValue::Map(pairs) => match key.take() {
                    None => *key = Some(scalar_text(&node)),
                    Some(k) => pairs.push((k, node)),
                },
                _ => {}
            },
        }
    }
}

fn scalar_text(node: &Node) -> String {
    match &node.value {
        NodeValue::Null => String::new(),
        NodeValue::Bool(b) => b.to_string(),
        NodeValue::Int(i) => i.to_string(),
        NodeValue::Float(f) => f.to_string(),
        NodeValue::Str(s) => s.clone(),
        _ => String::new(),
    }
}

fn resolve_plain(text: &str) -> NodeValue {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return NodeValue::Null,
        "true" | "True" | "TRUE" => return NodeValue::Bool(true),
        "false" | "False" | "FALSE" => return NodeValue::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.replace('_', "").parse::<i64>() {
        if text.chars().next().is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+') {
            return NodeValue::Int(i);
        }
    }
    let float_re = regex::Regex::new(r"^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?$").unwrap();
    if float_re.is_match(text) && text.chars().any(|c| c.is_ascii_digit()) {
        if let Ok(f) = text.replace('_', "").parse::<f64>() {
            return NodeValue::Float(f);
        }
    }
    NodeValue::Str(text.to_string())
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let m = Some(Mark {
            file: self.origin.clone(),
            line: mark.line(),
        });
        match ev {
            Event::Scalar(text, style, _, _) => {
                let value = if style == TScalarStyle::Plain {
                    resolve_plain(&text)
                } else {
                    NodeValue::Str(text)
                };
                self.push_value(Node { value, mark: m });
            }
            Event::SequenceStart(..) => self.stack.push((
                Node {
                    value: NodeValue::Seq(vec![]),
                    mark: m,
                },
                None,
            )),
            Event::MappingStart(..) => self.stack.push((
                Node {
                    value: NodeValue::Map(vec![]),
                    mark: m,
                },
                None,
            )),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((node, _)) = self.stack.pop() {
                    self.push_value(node);
                }
            }
            Event::Alias(_) => self.push_value(Node {
                value: NodeValue::Null,
                mark: m,
            }),
            _ => {}
        }
    }
}

/// Loads one YAML document from `text`; `origin` names it in marks.
pub fn load_str(text: &str, origin: &str) -> Result<Node> {
    let mut builder = Builder {
        origin: origin.to_string(),
        stack: vec![],
        done: vec![],
    };
    Parser::new_from_str(text)
        .load(&mut builder, false)
        .map_err(|e| Error::with("Failed to parse a YAML document:", e))?;
    Ok(builder.done.pop().unwrap_or(Node::new(NodeValue::Null)))
}

/// Loads a YAML file.
pub fn load_file(path: &Path) -> Result<Node> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::with("Failed to read file:", format!("{}: {e}", path.display())))?;
    load_str(&text, &path.display().to_string())
}
