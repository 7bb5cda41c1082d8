//! What deploy needs to say about a YAML node in messages: its location
//! (`"<file>", line N`), its Python repr (`Got:` payloads) and, for facts that carry
//! no location (mart definitions), a YAML re-dump of the fact.

use super::yaml::{Node, NodeValue};
use crate::core::repr::py_float_repr;

/// `"<file>", line N` for a node with a mark.
pub fn mark_text(node: &Node) -> Option<String> {
    node.mark.as_ref().map(|m| m.to_string())
}

/// The payload naming a fact: its location, else the fact re-dumped as YAML.
pub fn location(node: &Node) -> String {
    mark_text(node).unwrap_or_else(|| dump(node).trim_end().to_string())
}

/// Python's `repr()` of the plain value the node stands for.
pub fn repr(node: &Node) -> String {
    node.py_repr()
}

/// The kind name rex's union validators print in `Got:` for an unexpected shape.
pub fn shape(node: &Node) -> &'static str {
    match &node.value {
        NodeValue::Seq(_) => "a sequence",
        NodeValue::Map(_) => "a mapping",
        _ => "a scalar",
    }
}

/// A block-style YAML dump (mapping keys in their given order).
pub fn dump(node: &Node) -> String {
    let mut out = String::new();
    dump_into(node, 0, &mut out);
    out
}

fn scalar(node: &Node) -> Option<String> {
    Some(match &node.value {
        NodeValue::Null => "null".into(),
        NodeValue::Bool(b) => b.to_string(),
        NodeValue::Int(i) => i.to_string(),
        NodeValue::Float(f) => py_float_repr(*f),
        NodeValue::Str(s) => super::meta::yaml_scalar(s),
        NodeValue::Seq(v) if v.is_empty() => "[]".into(),
        NodeValue::Map(v) if v.is_empty() => "{}".into(),
        _ => return None,
    })
}

fn dump_into(node: &Node, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match &node.value {
        NodeValue::Seq(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&pad);
                out.push_str("- ");
                match scalar(item) {
                    Some(s) => {
                        out.push_str(&s);
                        out.push('\n');
                    }
                    None => {
                        let mut inner = String::new();
                        dump_into(item, indent + 2, &mut inner);
                        out.push_str(inner.trim_start());
                    }
                }
            }
        }
        NodeValue::Map(pairs) if !pairs.is_empty() => {
            for (key, value) in pairs {
                out.push_str(&pad);
                out.push_str(&super::meta::yaml_scalar(key));
                out.push(':');
                match scalar(value) {
                    Some(s) => {
                        out.push(' ');
                        out.push_str(&s);
                        out.push('\n');
                    }
                    None => {
                        out.push('\n');
                        let nested = if matches!(value.value, NodeValue::Seq(_)) {
                            indent
                        } else {
                            indent + 2
                        };
                        dump_into(value, nested, out);
                    }
                }
            }
        }
        _ => {
            out.push_str(&pad);
            out.push_str(&scalar(node).unwrap_or_default());
            out.push('\n');
        }
    }
}
