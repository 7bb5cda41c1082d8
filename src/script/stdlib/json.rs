//! `json`: dumps/loads with CPython's output format and error wording.

use super::*;

fn json_str(s: &str, ensure_ascii: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if ensure_ascii && (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct JsonOpts {
    indent: Option<String>,
    item_sep: String,
    key_sep: String,
    sort_keys: bool,
    ensure_ascii: bool,
    default: Option<Value>,
}

fn json_encode(
    it: &mut Interpreter,
    v: &Value,
    o: &JsonOpts,
    level: usize,
    out: &mut String,
) -> R<()> {
    if level > 1000 || crate::script::interp::stack_exhausted() {
        return Err(Exception::value_error("Circular reference detected"));
    }
    let nl = |level: usize, out: &mut String| {
        if let Some(ind) = &o.indent {
            out.push('\n');
            for _ in 0..level {
                out.push_str(ind);
            }
        }
    };
    match v {
        Value::None => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&if f.is_nan() {
            "NaN".into()
        } else if f.is_infinite() {
            if *f > 0.0 {
                "Infinity".into()
            } else {
                "-Infinity".into()
            }
        } else {
            py_float_repr(*f)
        }),
        Value::Str(s) => out.push_str(&json_str(s, o.ensure_ascii)),
        Value::List(_) | Value::Tuple(_) => {
            let items = it.collect(v)?;
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(&o.item_sep);
                }
                nl(level + 1, out);
                json_encode(it, x, o, level + 1, out)?;
            }
            nl(level, out);
            out.push(']');
        }
        Value::Dict(d) => {
            let mut items = d.borrow().items();
            if items.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            let mut keyed = Vec::with_capacity(items.len());
            for (k, x) in items.drain(..) {
                let ks = match &k {
                    Value::Str(s) => s.to_string(),
                    Value::Int(i) => i.to_string(),
                    Value::Float(f) => py_float_repr(*f),
                    Value::Bool(b) => if *b { "true" } else { "false" }.into(),
                    Value::None => "null".into(),
                    other => {
                        return Err(Exception::type_error(format!(
                            "keys must be str, int, float, bool or None, not {}",
                            other.type_name()
                        )))
                    }
                };
                keyed.push((ks, x));
            }
            if o.sort_keys {
                keyed.sort_by(|a, b| a.0.cmp(&b.0));
            }
            out.push('{');
            for (i, (k, x)) in keyed.iter().enumerate() {
                if i > 0 {
                    out.push_str(&o.item_sep);
                }
                nl(level + 1, out);
                out.push_str(&json_str(k, o.ensure_ascii));
                out.push_str(&o.key_sep);
                json_encode(it, x, o, level + 1, out)?;
            }
            nl(level, out);
            out.push('}');
        }
        other => {
            if let Some(d) = o.default.clone() {
                let r = it.call(&d, Args::new(vec![other.clone()]))?;
                return json_encode(it, &r, o, level, out);
            }
            return Err(Exception::type_error(format!(
                "Object of type {} is not JSON serializable",
                other.type_name()
            )));
        }
    }
    Ok(())
}

/// CPython's wording for the common JSON syntax errors serde reports.
fn json_error_kind(serde_msg: &str) -> &'static str {
    if serde_msg.starts_with("trailing characters") {
        "Extra data"
    } else if serde_msg.starts_with("key must be a string") {
        "Expecting property name enclosed in double quotes"
    } else if serde_msg.starts_with("expected `:`") {
        "Expecting ':' delimiter"
    } else if serde_msg.starts_with("expected `,`")
        || serde_msg.starts_with("EOF while parsing a list")
        || serde_msg.starts_with("EOF while parsing an object")
    {
        "Expecting ',' delimiter"
    } else if serde_msg.starts_with("EOF while parsing a string") {
        "Unterminated string"
    } else if serde_msg.starts_with("invalid escape") {
        "Invalid \\escape"
    } else if serde_msg.starts_with("control character") {
        "Invalid control character"
    } else {
        "Expecting value"
    }
}

pub(super) fn json(it: &mut Interpreter) -> Module {
    let m = Module::new("json");
    let decode_error = ClassBuilder::exception(
        it,
        "JSONDecodeError",
        "json.decoder",
        Some(it.builtin_exception("ValueError")),
    )
    .build();
    m.set("JSONDecodeError", Value::Class(decode_error.clone()));
    m.add_fn("dumps", |it, a| {
        let Some(obj) = a.pos.first().cloned() else {
            return Err(Exception::type_error(
                "dumps() missing 1 required positional argument: 'obj'",
            ));
        };
        let indent = match kw(&a, "indent") {
            None | Some(Value::None) => None,
            Some(Value::Int(n)) => Some(" ".repeat((*n).max(0) as usize)),
            Some(Value::Str(s)) => Some(s.to_string()),
            Some(o) => {
                return Err(Exception::type_error(format!(
                    "indent must be int or str, not {}",
                    o.type_name()
                )))
            }
        };
        let (mut item_sep, mut key_sep) = (
            if indent.is_some() { "," } else { ", " }.to_string(),
            ": ".to_string(),
        );
        if let Some(Value::Tuple(t)) = kw(&a, "separators") {
            if let (Some(Value::Str(x)), Some(Value::Str(y))) = (t.first(), t.get(1)) {
                item_sep = x.to_string();
                key_sep = y.to_string();
            }
        }
        let sort_keys = match kw(&a, "sort_keys") {
            Some(v) => it.truthy(v)?,
            None => false,
        };
        let ensure_ascii = match kw(&a, "ensure_ascii") {
            Some(v) => it.truthy(v)?,
            None => true,
        };
        let opts = JsonOpts {
            indent,
            item_sep,
            key_sep,
            sort_keys,
            ensure_ascii,
            default: kw(&a, "default").cloned().filter(|d| !d.is_none()),
        };
        let mut out = String::new();
        json_encode(it, &obj, &opts, 0, &mut out)?;
        Ok(Value::str(&out))
    });
    m.add_fn("loads", move |_, a| {
        let p = a.positional("loads", 1, 1)?;
        let text = match &p[0] {
            Value::Str(s) => s.to_string(),
            Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            o => {
                return Err(Exception::type_error(format!(
                    "the JSON object must be str, bytes or bytearray, not {}",
                    o.type_name()
                )))
            }
        };
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v) => Ok(from_json(&v)),
            Err(e) => {
                let (mut line, mut col) = (e.line(), e.column().max(1));
                if e.is_eof() {
                    // CPython reports the position just past the end of the text.
                    line = text.split('\n').count();
                    col = text
                        .rsplit('\n')
                        .next()
                        .map(|l| l.chars().count())
                        .unwrap_or(0)
                        + 1;
                }
                let offset: usize = text
                    .split('\n')
                    .take(line.saturating_sub(1))
                    .map(|l| l.chars().count() + 1)
                    .sum::<usize>()
                    + col
                    - 1;
                let what = json_error_kind(&e.to_string());
                let inst = Instance::new(decode_error.clone());
                inst.set(
                    "args",
                    Value::tuple(vec![Value::str(&format!(
                        "{what}: line {line} column {col} (char {offset})"
                    ))]),
                );
                Err(Exception::from_instance(inst))
            }
        }
    });
    m
}
