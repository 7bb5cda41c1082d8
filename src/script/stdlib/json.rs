//! `json`: dumps/loads with CPython's output format and error wording.

use super::json_decode;
use super::*;

fn json_str(s: &str, ensure_ascii: bool) -> String {
    crate::core::repr::py_json_str(s, ensure_ascii)
}

struct JsonOpts {
    indent: Option<String>,
    item_sep: String,
    key_sep: String,
    sort_keys: bool,
    ensure_ascii: bool,
    allow_nan: bool,
    skipkeys: bool,
    default: Option<Value>,
}

/// `float.__repr__` with JSON's names for the non-finite values
/// (`JSONEncoder.iterencode`'s `floatstr`).
fn json_float(f: f64, o: &JsonOpts) -> R<String> {
    if f.is_finite() {
        return Ok(py_float_repr(f));
    }
    if !o.allow_nan {
        return Err(Exception::value_error(
            "Out of range float values are not JSON compliant",
        ));
    }
    Ok(if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
    .into())
}

/// Identity of a container, for the circular-reference check.
fn container_id(v: &Value) -> Option<usize> {
    match v {
        Value::List(l) => Some(Rc::as_ptr(l) as *const u8 as usize),
        Value::Tuple(t) => Some(Rc::as_ptr(t) as *const u8 as usize),
        Value::Dict(d) => Some(Rc::as_ptr(d) as *const u8 as usize),
        Value::Instance(i) => Some(Rc::as_ptr(i) as *const u8 as usize),
        _ => None,
    }
}

fn json_encode(
    it: &mut Interpreter,
    v: &Value,
    o: &JsonOpts,
    level: usize,
    markers: &mut Vec<usize>,
    out: &mut String,
) -> R<()> {
    if level > 990 || crate::script::interp::stack_exhausted() {
        return Err(Exception::new(
            "RecursionError",
            "maximum recursion depth exceeded while encoding a JSON object",
        ));
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
        Value::Float(f) => out.push_str(&json_float(*f, o)?),
        Value::Str(s) => out.push_str(&json_str(s, o.ensure_ascii)),
        Value::List(_) | Value::Tuple(_) | Value::Dict(_) => {
            let id = container_id(v).unwrap_or(0);
            if markers.contains(&id) {
                return Err(Exception::value_error("Circular reference detected"));
            }
            markers.push(id);
            let r = json_container(it, v, o, level, markers, out, nl);
            markers.pop();
            r?;
        }
        other => {
            let Some(d) = o.default.clone() else {
                return Err(Exception::type_error(format!(
                    "Object of type {} is not JSON serializable",
                    other.type_name()
                )));
            };
            let id = container_id(other).unwrap_or(0);
            if id != 0 && markers.contains(&id) {
                return Err(Exception::value_error("Circular reference detected"));
            }
            markers.push(id);
            let r = it
                .call(&d, Args::new(vec![other.clone()]))
                .and_then(|r| json_encode(it, &r, o, level, markers, out));
            markers.pop();
            r?;
        }
    }
    Ok(())
}

fn json_container(
    it: &mut Interpreter,
    v: &Value,
    o: &JsonOpts,
    level: usize,
    markers: &mut Vec<usize>,
    out: &mut String,
    nl: impl Fn(usize, &mut String),
) -> R<()> {
    if let Value::Dict(d) = v {
        let items = d.borrow().items();
        if items.is_empty() {
            out.push_str("{}");
            return Ok(());
        }
        let mut items: Vec<(Value, Value)> = items;
        if o.sort_keys {
            // CPython sorts `dct.items()`: by the original keys, with `<`.
            let mut tuples: Vec<Value> = items
                .into_iter()
                .map(|(k, x)| Value::tuple(vec![k, x]))
                .collect();
            it.sort_values(&mut tuples, None, false)?;
            items = tuples
                .into_iter()
                .map(|t| match t {
                    Value::Tuple(t) => (t[0].clone(), t[1].clone()),
                    other => (other, Value::None),
                })
                .collect();
        }
        out.push('{');
        nl(level + 1, out);
        let mut first = true;
        for (k, x) in items {
            let ks = match &k {
                Value::Str(s) => s.to_string(),
                Value::Float(f) => json_float(*f, o)?,
                Value::Bool(b) => if *b { "true" } else { "false" }.into(),
                Value::None => "null".into(),
                Value::Int(i) => i.to_string(),
                _ if o.skipkeys => continue,
                other => {
                    return Err(Exception::type_error(format!(
                        "keys must be str, int, float, bool or None, not {}",
                        other.type_name()
                    )))
                }
            };
            if !first {
                out.push_str(&o.item_sep);
                nl(level + 1, out);
            }
            first = false;
            out.push_str(&json_str(&ks, o.ensure_ascii));
            out.push_str(&o.key_sep);
            json_encode(it, &x, o, level + 1, markers, out)?;
        }
        nl(level, out);
        out.push('}');
        return Ok(());
    }
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
        json_encode(it, x, o, level + 1, markers, out)?;
    }
    nl(level, out);
    out.push(']');
    Ok(())
}

/// `bytes.decode('utf-8')` as `json.loads` does it (a leading BOM is dropped).
fn decode_utf8(b: &[u8]) -> R<String> {
    let b = b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b);
    match std::str::from_utf8(b) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            let at = e.valid_up_to();
            let reason = match e.error_len() {
                None => "unexpected end of data",
                Some(_) if (0xc2..=0xf4).contains(&b[at]) => "invalid continuation byte",
                Some(_) => "invalid start byte",
            };
            Err(Exception::new(
                "UnicodeDecodeError",
                format!(
                    "'utf-8' codec can't decode byte 0x{:02x} in position {at}: {reason}",
                    b[at]
                ),
            ))
        }
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
        let obj = one_positional(&a.pos, "dumps", "obj")?.clone();
        const KNOWN: &[&str] = &[
            "skipkeys",
            "ensure_ascii",
            "check_circular",
            "allow_nan",
            "cls",
            "indent",
            "separators",
            "default",
            "sort_keys",
        ];
        if let Some((k, _)) = a.kw.iter().find(|(k, _)| !KNOWN.contains(&&**k)) {
            return Err(Exception::type_error(format!(
                "JSONEncoder.__init__() got an unexpected keyword argument '{k}'"
            )));
        }
        // `' ' * indent` unless it is a str
        let indent = match kw(&a, "indent") {
            None | Some(Value::None) => None,
            Some(Value::Int(n)) => Some(" ".repeat((*n).clamp(0, 1 << 16) as usize)),
            Some(Value::Bool(b)) => Some(" ".repeat(*b as usize)),
            Some(Value::Str(s)) => Some(s.to_string()),
            Some(o) => {
                return Err(Exception::type_error(format!(
                    "can't multiply sequence by non-int of type '{}'",
                    o.type_name()
                )))
            }
        };
        let (mut item_sep, mut key_sep) = (
            if indent.is_some() { "," } else { ", " }.to_string(),
            ": ".to_string(),
        );
        if let Some(seps) = kw(&a, "separators").filter(|v| !v.is_none()) {
            let seps = it.collect(seps)?;
            match seps.as_slice() {
                [Value::Str(x), Value::Str(y)] => {
                    item_sep = x.to_string();
                    key_sep = y.to_string();
                }
                [_, _] => {
                    return Err(Exception::type_error(
                        "make_encoder() argument 6 must be str, not tuple",
                    ))
                }
                [] | [_] => {
                    return Err(Exception::value_error(format!(
                        "not enough values to unpack (expected 2, got {})",
                        seps.len()
                    )))
                }
                _ => {
                    return Err(Exception::value_error(
                        "too many values to unpack (expected 2)",
                    ))
                }
            }
        }
        let mut flag = |name: &str, default: bool| match kw(&a, name) {
            Some(v) => it.truthy(v),
            None => Ok(default),
        };
        let opts = JsonOpts {
            indent,
            item_sep,
            key_sep,
            sort_keys: flag("sort_keys", false)?,
            ensure_ascii: flag("ensure_ascii", true)?,
            allow_nan: flag("allow_nan", true)?,
            skipkeys: flag("skipkeys", false)?,
            default: kw(&a, "default").cloned().filter(|d| !d.is_none()),
        };
        let mut out = String::new();
        json_encode(it, &obj, &opts, 0, &mut Vec::new(), &mut out)?;
        Ok(Value::str(&out))
    });
    m.add_fn("loads", move |it, a| {
        let text = match one_positional(&a.pos, "loads", "s")? {
            Value::Str(s) => s.to_string(),
            Value::Bytes(b) => decode_utf8(b)?,
            o => {
                return Err(Exception::type_error(format!(
                    "the JSON object must be str, bytes or bytearray, not {}",
                    o.type_name()
                )))
            }
        };
        let mut hooks = json_decode::Hooks {
            strict: true,
            ..Default::default()
        };
        for (k, v) in &a.kw {
            let hook = Some(v.clone()).filter(|v| !v.is_none());
            match &**k {
                "cls" => {}
                "object_hook" => hooks.object_hook = hook,
                "object_pairs_hook" => hooks.object_pairs_hook = hook,
                "parse_float" => hooks.parse_float = hook,
                "parse_int" => hooks.parse_int = hook,
                "parse_constant" => hooks.parse_constant = hook,
                "strict" => hooks.strict = it.truthy(v)?,
                other => {
                    return Err(Exception::type_error(format!(
                        "JSONDecoder.__init__() got an unexpected keyword argument '{other}'"
                    )))
                }
            }
        }
        let doc: Vec<char> = text.chars().collect();
        match json_decode::decode(it, &doc, &hooks) {
            Ok(v) => Ok(v),
            Err(json_decode::Failure::Raised(e)) => Err(e),
            Err(json_decode::Failure::Syntax(msg, pos)) => {
                let (line, col) = json_decode::line_col(&doc, pos);
                let inst = Instance::new(decode_error.clone());
                inst.set(
                    "args",
                    Value::tuple(vec![Value::str(&format!(
                        "{msg}: line {line} column {col} (char {pos})"
                    ))]),
                );
                inst.set("msg", Value::str(msg));
                inst.set("doc", Value::str(&text));
                inst.set("pos", Value::Int(pos as i64));
                inst.set("lineno", Value::Int(line as i64));
                inst.set("colno", Value::Int(col as i64));
                Err(Exception::from_instance(inst))
            }
        }
    });
    m
}

/// The one positional argument of `fname(pname, ...)`, or CPython's TypeError for
/// none or too many.
fn one_positional<'a>(pos: &'a [Value], fname: &str, pname: &str) -> Result<&'a Value, Exception> {
    match pos {
        [v] => Ok(v),
        [] => Err(Exception::type_error(format!(
            "{fname}() missing 1 required positional argument: '{pname}'"
        ))),
        more => Err(Exception::type_error(format!(
            "{fname}() takes 1 positional argument but {} were given",
            more.len()
        ))),
    }
}
