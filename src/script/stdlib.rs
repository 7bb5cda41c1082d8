//! The standard modules transcripts import: sys, os, os.path, time, json, pprint,
//! datetime, decimal; plus the read-only `open()`.

use super::builtins::to_int;
use super::interp::{Interpreter, R};
use super::native::{
    arg_str, from_json, new_object, new_value_object, state, state_of, ClassBuilder,
};
use super::value::*;
use crate::core::repr::{py_float_repr, py_str_repr};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

/// Creates a standard module by name; `None` if unknown.
pub fn create(it: &mut Interpreter, name: &str) -> Option<Module> {
    Some(match name {
        "sys" => sys(it),
        "os" => os(it),
        "os.path" => os_path(),
        "time" => time(),
        "json" => json(it),
        "pprint" => pprint(),
        "datetime" => datetime(it),
        "decimal" => decimal(it),
        _ => return None,
    })
}

fn kw<'a>(a: &'a Args, name: &str) -> Option<&'a Value> {
    a.kw.iter().find(|(k, _)| &**k == name).map(|(_, v)| v)
}

fn sys(it: &mut Interpreter) -> Module {
    let m = Module::new("sys");
    m.set("argv", Value::list(vec![Value::str("")]));
    m.set("platform", Value::str("linux"));
    m.set("version", Value::str("3.11.7 (harness Python subset)"));
    m.set(
        "version_info",
        Value::tuple(vec![
            Value::Int(3),
            Value::Int(11),
            Value::Int(7),
            Value::str("final"),
            Value::Int(0),
        ]),
    );
    m.set("maxsize", Value::Int(i64::MAX));
    m.set("path", Value::list(vec![]));
    m.set("byteorder", Value::str("little"));
    m.add_fn("exit", |_, a| {
        let p = a.positional("exit", 0, 1)?;
        Err(Exception::with_args("SystemExit", p.to_vec()))
    });
    let stream = |name: &str, to_stdout: bool, it: &Interpreter| {
        let c = ClassBuilder::new(it, "TextIOWrapper", "_io")
            .method("write", move |_, _, a| {
                let s = match a.pos.first() {
                    Some(Value::Str(s)) => s.clone(),
                    Some(o) => {
                        return Err(Exception::type_error(format!(
                            "write() argument must be str, not {}",
                            o.type_name()
                        )))
                    }
                    None => {
                        return Err(Exception::type_error(
                            "write() takes exactly one argument (0 given)",
                        ))
                    }
                };
                if to_stdout {
                    super::output::write(&s);
                } else {
                    eprint!("{s}");
                }
                Ok(Value::Int(s.chars().count() as i64))
            })
            .method("flush", |_, _, _| Ok(Value::None))
            .attr("name", Value::str(name))
            .build();
        new_object(&c, ())
    };
    m.set("stdout", stream("<stdout>", true, it));
    m.set("stderr", stream("<stderr>", false, it));
    m
}

fn env_items() -> Vec<(Value, Value)> {
    std::env::vars()
        .map(|(k, v)| (Value::str(&k), Value::str(&v)))
        .collect()
}

fn env_key(a: &Args, i: usize) -> R<String> {
    match a.pos.get(i) {
        Some(Value::Str(s)) => Ok(s.to_string()),
        Some(o) => Err(Exception::type_error(format!(
            "str expected, not {}",
            o.type_name()
        ))),
        None => Err(Exception::type_error("missing key")),
    }
}

/// `os.environ`: a live view of the process environment, so values a transcript
/// sets are seen by the domain code it calls (as with CPython's putenv).
fn environ(it: &Interpreter) -> Value {
    let c = ClassBuilder::new(it, "_Environ", "os")
        .method("__getitem__", |_, _, a| {
            let k = env_key(&a, 0)?;
            std::env::var(&k)
                .map(|v| Value::str(&v))
                .map_err(|_| Exception::with_args("KeyError", vec![Value::str(&k)]))
        })
        .method("__setitem__", |_, _, a| {
            let k = env_key(&a, 0)?;
            let v = env_key(&a, 1)?;
            if k.is_empty() || k.contains(['=', '\0']) || v.contains('\0') {
                return Err(Exception::value_error("illegal environment variable name"));
            }
            std::env::set_var(k, v);
            Ok(Value::None)
        })
        .method("__delitem__", |_, _, a| {
            let k = env_key(&a, 0)?;
            if std::env::var_os(&k).is_none() {
                return Err(Exception::with_args("KeyError", vec![Value::str(&k)]));
            }
            std::env::remove_var(k);
            Ok(Value::None)
        })
        .method("__contains__", |_, _, a| {
            Ok(Value::Bool(
                matches!(a.pos.first(), Some(Value::Str(k)) if std::env::var_os(&**k).is_some()),
            ))
        })
        .method("get", |_, _, a| {
            let k = env_key(&a, 0)?;
            Ok(match std::env::var(&k) {
                Ok(v) => Value::str(&v),
                Err(_) => a.pos.get(1).cloned().unwrap_or(Value::None),
            })
        })
        .method("__len__", |_, _, _| {
            Ok(Value::Int(std::env::vars_os().count() as i64))
        })
        .method("__iter__", |_, _, _| {
            let keys = env_items().into_iter().map(|(k, _)| k).collect();
            Ok(Value::Iter(Rc::new(RefCell::new(Iter::Seq(keys, 0)))))
        })
        .method("keys", |_, _, _| {
            Ok(Value::list(
                env_items().into_iter().map(|(k, _)| k).collect(),
            ))
        })
        .method("values", |_, _, _| {
            Ok(Value::list(
                env_items().into_iter().map(|(_, v)| v).collect(),
            ))
        })
        .method("items", |_, _, _| {
            Ok(Value::list(
                env_items()
                    .into_iter()
                    .map(|(k, v)| Value::tuple(vec![k, v]))
                    .collect(),
            ))
        })
        .method("copy", |_, _, _| {
            let mut d = Dict::new();
            for (k, v) in env_items() {
                d.insert(k, v)?;
            }
            Ok(Value::dict(d))
        })
        .method("__repr__", |it, _, _| {
            let mut d = Dict::new();
            for (k, v) in env_items() {
                d.insert(k, v)?;
            }
            Ok(Value::str(&format!(
                "environ({})",
                it.repr(&Value::dict(d))?
            )))
        })
        .build();
    new_object(&c, ())
}

fn resolve(it: &Interpreter, p: &str) -> PathBuf {
    let path = PathBuf::from(p);
    if path.is_absolute() {
        path
    } else {
        it.base_dir.join(path)
    }
}

fn os(it: &mut Interpreter) -> Module {
    let m = Module::new("os");
    m.set("environ", environ(it));
    m.set("sep", Value::str("/"));
    m.set("linesep", Value::str("\n"));
    m.set("name", Value::str("posix"));
    m.add_fn("getenv", |_, a| {
        let p = a.bind("getenv", &["key", "default"], 1)?;
        let key = arg_str(p[0].as_ref().unwrap_or(&Value::None), "str expected, not")?;
        Ok(match std::env::var(&*key) {
            Ok(v) => Value::str(&v),
            Err(_) => p[1].clone().unwrap_or(Value::None),
        })
    });
    m.add_fn("getcwd", |it, _| {
        Ok(Value::str(&it.base_dir.to_string_lossy()))
    });
    m.add_fn("listdir", |it, a| {
        let p = a.positional("listdir", 0, 1)?;
        let dir = match p.first() {
            Some(v) => resolve(it, &arg_str(v, "path")?),
            None => it.base_dir.clone(),
        };
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|e| {
                Exception::new(
                    "FileNotFoundError",
                    format!("[Errno 2] {e}: {}", py_str_repr(&dir.to_string_lossy())),
                )
            })?
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        names.sort();
        Ok(Value::list(
            names.into_iter().map(|n| Value::str(&n)).collect(),
        ))
    });
    // os.path is created with os (not imported from here: importing it would
    // import its parent, os, which is still being built).
    let path = match it.modules.get("os.path") {
        Some(p) => p.clone(),
        None => {
            let p = Rc::new(os_path());
            it.modules.insert("os.path".into(), p.clone());
            p
        }
    };
    m.set("path", Value::Module(path));
    m
}

fn os_path() -> Module {
    let m = Module::new("os.path");
    m.set("sep", Value::str("/"));
    m.add_fn("join", |_, a| {
        let mut out = String::new();
        for (i, v) in a.pos.iter().enumerate() {
            let s = arg_str(v, "join() argument")?;
            if s.starts_with('/') || i == 0 {
                out = s.to_string();
            } else {
                if !out.is_empty() && !out.ends_with('/') {
                    out.push('/');
                }
                out.push_str(&s);
            }
        }
        Ok(Value::str(&out))
    });
    m.add_fn("exists", |it, a| {
        let p = a.positional("exists", 1, 1)?;
        let s = arg_str(&p[0], "path")?;
        Ok(Value::Bool(resolve(it, &s).exists()))
    });
    m.add_fn("isfile", |it, a| {
        let p = a.positional("isfile", 1, 1)?;
        Ok(Value::Bool(resolve(it, &arg_str(&p[0], "path")?).is_file()))
    });
    m.add_fn("isdir", |it, a| {
        let p = a.positional("isdir", 1, 1)?;
        Ok(Value::Bool(resolve(it, &arg_str(&p[0], "path")?).is_dir()))
    });
    m.add_fn("basename", |_, a| {
        let p = a.positional("basename", 1, 1)?;
        let s = arg_str(&p[0], "path")?;
        Ok(Value::str(s.rsplit('/').next().unwrap_or("")))
    });
    m.add_fn("dirname", |_, a| {
        let p = a.positional("dirname", 1, 1)?;
        let s = arg_str(&p[0], "path")?;
        Ok(Value::str(match s.rfind('/') {
            Some(0) => "/",
            Some(i) => s[..i].trim_end_matches('/'),
            None => "",
        }))
    });
    m.add_fn("abspath", |it, a| {
        let p = a.positional("abspath", 1, 1)?;
        Ok(Value::str(
            &resolve(it, &arg_str(&p[0], "path")?).to_string_lossy(),
        ))
    });
    m.add_fn("splitext", |_, a| {
        let p = a.positional("splitext", 1, 1)?;
        let s = arg_str(&p[0], "path")?;
        let base_start = s.rfind('/').map(|i| i + 1).unwrap_or(0);
        let name = &s[base_start..];
        let (root, ext) = match name.rfind('.') {
            Some(i) if name[..i].chars().any(|c| c != '.') => {
                (&s[..base_start + i], &s[base_start + i..])
            }
            _ => (&s[..], ""),
        };
        Ok(Value::tuple(vec![Value::str(root), Value::str(ext)]))
    });
    m
}

fn time() -> Module {
    let m = Module::new("time");
    m.add_fn("sleep", |_, a| {
        let p = a.positional("sleep", 1, 1)?;
        let secs = match &p[0] {
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            o => {
                return Err(Exception::type_error(format!(
                    "'{}' object cannot be interpreted as an integer",
                    o.type_name()
                )))
            }
        };
        if secs < 0.0 {
            return Err(Exception::value_error("sleep length must be non-negative"));
        }
        std::thread::sleep(std::time::Duration::from_secs_f64(secs));
        Ok(Value::None)
    });
    m.add_fn("time", |_, _| {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Ok(Value::Float(d.as_secs_f64()))
    });
    thread_local! {
        static START: std::time::Instant = std::time::Instant::now();
    }
    m.add_fn("monotonic", |_, _| {
        Ok(Value::Float(START.with(|s| s.elapsed().as_secs_f64())))
    });
    m.add_fn("perf_counter", |_, _| {
        Ok(Value::Float(START.with(|s| s.elapsed().as_secs_f64())))
    });
    m
}

// ---------------------------------------------------------------------- json

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
    if level > 1000 || super::interp::stack_exhausted() {
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

fn json(it: &mut Interpreter) -> Module {
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

// ---------------------------------------------------------------------- pprint

fn safe_repr(it: &mut Interpreter, v: &Value) -> R<String> {
    if super::interp::stack_exhausted() {
        return Err(Exception::new(
            "RecursionError",
            "maximum recursion depth exceeded while getting the repr of an object",
        ));
    }
    match v {
        Value::Dict(d) => {
            let mut items = d.borrow().items();
            sort_items(it, &mut items)?;
            let mut parts = Vec::new();
            for (k, x) in items {
                parts.push(format!("{}: {}", safe_repr(it, &k)?, safe_repr(it, &x)?));
            }
            Ok(format!("{{{}}}", parts.join(", ")))
        }
        Value::List(l) => {
            let items = l.borrow().clone();
            let parts: Vec<String> = items.iter().map(|x| safe_repr(it, x)).collect::<R<_>>()?;
            Ok(format!("[{}]", parts.join(", ")))
        }
        Value::Tuple(t) => {
            let parts: Vec<String> = t.iter().map(|x| safe_repr(it, x)).collect::<R<_>>()?;
            Ok(if parts.len() == 1 {
                format!("({},)", parts[0])
            } else {
                format!("({})", parts.join(", "))
            })
        }
        _ => it.repr(v),
    }
}

fn sort_items(it: &mut Interpreter, items: &mut Vec<(Value, Value)>) -> R<()> {
    let mut keys: Vec<Value> = items.iter().map(|(k, _)| k.clone()).collect();
    let orig = keys.clone();
    if it.sort_values(&mut keys, None, false).is_err() {
        return Ok(()); // unorderable keys keep insertion order (pprint's _safe_key falls back)
    }
    let mut out = Vec::with_capacity(items.len());
    let mut used = vec![false; items.len()];
    for k in keys {
        if let Some(i) = orig
            .iter()
            .enumerate()
            .position(|(i, o)| !used[i] && o.is(&k))
        {
            used[i] = true;
            out.push(items[i].clone());
        }
    }
    *items = out;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn pformat(
    it: &mut Interpreter,
    v: &Value,
    indent: usize,
    allowance: usize,
    width: usize,
    level: usize,
    out: &mut String,
) -> R<()> {
    let rep = safe_repr(it, v)?;
    let max = width.saturating_sub(indent + allowance);
    if rep.chars().count() <= max {
        out.push_str(&rep);
        return Ok(());
    }
    match v {
        Value::Dict(d) => {
            let mut items = d.borrow().items();
            if items.is_empty() {
                out.push_str(&rep);
                return Ok(());
            }
            sort_items(it, &mut items)?;
            out.push('{');
            let ind = indent + 1;
            let n = items.len();
            for (i, (k, x)) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                    out.push_str(&" ".repeat(ind));
                }
                let kr = safe_repr(it, k)?;
                out.push_str(&kr);
                out.push_str(": ");
                let al = if i + 1 == n { allowance + 1 } else { 1 };
                pformat(
                    it,
                    x,
                    ind + kr.chars().count() + 2,
                    al,
                    width,
                    level + 1,
                    out,
                )?;
            }
            out.push('}');
        }
        Value::List(_) | Value::Tuple(_) => {
            let items = it.collect(v)?;
            let (open, close) = match v {
                Value::List(_) => ("[", "]"),
                _ if items.len() == 1 => ("(", ",)"),
                _ => ("(", ")"),
            };
            out.push_str(open);
            let ind = indent + 1;
            let n = items.len();
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                    out.push_str(&" ".repeat(ind));
                }
                let al = if i + 1 == n {
                    allowance + close.len()
                } else {
                    1
                };
                pformat(it, x, ind, al, width, level + 1, out)?;
            }
            out.push_str(close);
        }
        Value::Str(text) if !text.is_empty() => {
            pformat_str(text, indent, allowance, width, level, out)
        }
        _ => out.push_str(&rep),
    }
    Ok(())
}

/// pprint's `_pprint_str`: a long string is split at whitespace (and line breaks)
/// into adjacent literals, one per line, in parentheses at the top level.
fn pformat_str(
    text: &str,
    mut indent: usize,
    mut allowance: usize,
    width: usize,
    level: usize,
    out: &mut String,
) {
    let lines: Vec<String> = split_keep_ends(text);
    if level == 1 {
        indent += 1;
        allowance += 1;
    }
    let max_width = width.saturating_sub(indent);
    let mut max_width1 = max_width;
    let mut chunks: Vec<String> = Vec::new();
    let n = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let rep = py_str_repr(line);
        if i + 1 == n {
            max_width1 = max_width1.saturating_sub(allowance);
        }
        if rep.chars().count() <= max_width1 {
            chunks.push(rep);
            continue;
        }
        // alternating runs of non-space then space, like re.findall(r'\S*\s*')
        let mut parts: Vec<String> = Vec::new();
        let mut cur = String::new();
        let mut in_space = false;
        for c in line.chars() {
            if c.is_whitespace() {
                in_space = true;
            } else if in_space {
                parts.push(std::mem::take(&mut cur));
                in_space = false;
            }
            cur.push(c);
        }
        if !cur.is_empty() {
            parts.push(cur);
        }
        let mut max_width2 = max_width;
        let mut current = String::new();
        let np = parts.len();
        for (j, part) in parts.iter().enumerate() {
            let candidate = format!("{current}{part}");
            if j + 1 == np && i + 1 == n {
                max_width2 = max_width2.saturating_sub(allowance);
            }
            if py_str_repr(&candidate).chars().count() > max_width2 {
                if !current.is_empty() {
                    chunks.push(py_str_repr(&current));
                }
                current = part.clone();
            } else {
                current = candidate;
            }
        }
        if !current.is_empty() {
            chunks.push(py_str_repr(&current));
        }
    }
    if chunks.len() <= 1 {
        out.push_str(&chunks.pop().unwrap_or_else(|| py_str_repr(text)));
        return;
    }
    if level == 1 {
        out.push('(');
    }
    for (i, c) in chunks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(c);
    }
    if level == 1 {
        out.push(')');
    }
}

/// `str.splitlines(True)`.
fn split_keep_ends(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        cur.push(c);
        let brk = matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if brk {
            if c == '\r' && chars.peek() == Some(&'\n') {
                cur.push('\n');
                chars.next();
            }
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn pprint() -> Module {
    let m = Module::new("pprint");
    fn run(it: &mut Interpreter, a: &Args) -> R<String> {
        let Some(obj) = a.pos.first() else {
            return Err(Exception::type_error(
                "pprint() missing 1 required positional argument: 'object'",
            ));
        };
        let width = match kw(a, "width") {
            Some(v) => to_int(v).unwrap_or(80).max(1) as usize,
            None => 80,
        };
        if let Some(v) = kw(a, "sort_dicts") {
            if !it.truthy(v)? {
                return Err(Exception::new(
                    "NotImplementedError",
                    "pprint(sort_dicts=False) is not supported by the harness's Python subset",
                ));
            }
        }
        let mut out = String::new();
        pformat(it, obj, 0, 0, width, 1, &mut out)?;
        Ok(out)
    }
    m.add_fn("pprint", |it, a| {
        let mut s = run(it, &a)?;
        s.push('\n');
        super::output::write(&s);
        Ok(Value::None)
    });
    m.add_fn("pformat", |it, a| Ok(Value::str(&run(it, &a)?)));
    m
}

// ---------------------------------------------------------------------- datetime

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// timedelta state: total microseconds.
struct Delta(i64);
struct DateS(NaiveDate);
struct DateTimeS(NaiveDateTime);

fn delta_key(us: i64) -> Value {
    Value::tuple(vec![Value::str("timedelta"), Value::Int(us)])
}

fn date_key(d: &NaiveDate) -> Value {
    Value::tuple(vec![
        Value::str("date"),
        Value::Int(d.num_days_from_ce() as i64),
    ])
}

fn datetime_key(d: &NaiveDateTime) -> Value {
    Value::tuple(vec![
        Value::str("datetime"),
        Value::Int(d.and_utc().timestamp_micros()),
    ])
}

fn delta_parts(us: i64) -> (i64, i64, i64) {
    let day = 86_400_000_000i64;
    let days = us.div_euclid(day);
    let rem = us.rem_euclid(day);
    (days, rem / 1_000_000, rem % 1_000_000)
}

fn delta_repr(us: i64) -> String {
    let (d, s, u) = delta_parts(us);
    let mut parts = Vec::new();
    if d != 0 {
        parts.push(format!("days={d}"));
    }
    if s != 0 {
        parts.push(format!("seconds={s}"));
    }
    if u != 0 {
        parts.push(format!("microseconds={u}"));
    }
    if parts.is_empty() {
        "datetime.timedelta(0)".into()
    } else {
        format!("datetime.timedelta({})", parts.join(", "))
    }
}

fn delta_str(us: i64) -> String {
    let (d, s, u) = delta_parts(us);
    let mut out = String::new();
    if d != 0 {
        out = format!("{d} day{}, ", if d.abs() != 1 { "s" } else { "" });
    }
    out.push_str(&format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60));
    if u != 0 {
        out.push_str(&format!(".{u:06}"));
    }
    out
}

fn dt_repr(dt: &NaiveDateTime) -> String {
    let mut s = format!(
        "datetime.datetime({}, {}, {}, {}, {}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute()
    );
    let us = dt.nanosecond() / 1000;
    if dt.second() != 0 || us != 0 {
        s.push_str(&format!(", {}", dt.second()));
    }
    if us != 0 {
        s.push_str(&format!(", {us}"));
    }
    s.push(')');
    s
}

fn dt_iso(dt: &NaiveDateTime, sep: &str) -> String {
    let us = dt.nanosecond() / 1000;
    let mut s = format!(
        "{}{sep}{:02}:{:02}:{:02}",
        dt.date().format("%Y-%m-%d"),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if us != 0 {
        s.push_str(&format!(".{us:06}"));
    }
    s
}

fn int_arg(v: Option<&Value>, default: i64, name: &str) -> R<i64> {
    match v {
        None => Ok(default),
        Some(x) => to_int(x).ok_or_else(|| {
            Exception::type_error(format!(
                "'{}' object cannot be interpreted as an integer ({name})",
                x.type_name()
            ))
        }),
    }
}

fn num_arg(v: Option<&Value>) -> R<f64> {
    match v {
        None => Ok(0.0),
        Some(Value::Int(i)) => Ok(*i as f64),
        Some(Value::Bool(b)) => Ok(*b as i64 as f64),
        Some(Value::Float(f)) => Ok(*f),
        Some(o) => Err(Exception::type_error(format!(
            "unsupported type for timedelta component: {}",
            o.type_name()
        ))),
    }
}

fn datetime(it: &mut Interpreter) -> Module {
    let m = Module::new("datetime");
    let classes: Rc<RefCell<Vec<Rc<Class>>>> = Rc::new(RefCell::new(Vec::new()));
    // index 0: timedelta, 1: date, 2: datetime
    let cls = classes.clone();
    let mk_delta = move |us: i64| -> Value {
        let c = cls.borrow()[0].clone();
        new_value_object(&c, Delta(us), delta_key(us))
    };
    let cls = classes.clone();
    let mk_date = move |d: NaiveDate| -> Value {
        let c = cls.borrow()[1].clone();
        new_value_object(&c, DateS(d), date_key(&d))
    };
    let cls = classes.clone();
    let mk_dt = move |d: NaiveDateTime| -> Value {
        let c = cls.borrow()[2].clone();
        new_value_object(&c, DateTimeS(d), datetime_key(&d))
    };
    let overflow = || Exception::new("OverflowError", "date value out of range");

    let md = mk_delta.clone();
    let md2 = mk_delta.clone();
    let md3 = mk_delta.clone();
    let md4 = mk_delta.clone();
    let md5 = mk_delta.clone();
    let timedelta = ClassBuilder::new(it, "timedelta", "datetime")
        .init(|_, inst, a| {
            let p = a.bind(
                "timedelta",
                &[
                    "days",
                    "seconds",
                    "microseconds",
                    "milliseconds",
                    "minutes",
                    "hours",
                    "weeks",
                ],
                0,
            )?;
            let total = num_arg(p[0].as_ref())? * 86_400e6
                + num_arg(p[1].as_ref())? * 1e6
                + num_arg(p[2].as_ref())?
                + num_arg(p[3].as_ref())? * 1e3
                + num_arg(p[4].as_ref())? * 60e6
                + num_arg(p[5].as_ref())? * 3600e6
                + num_arg(p[6].as_ref())? * 7.0 * 86_400e6;
            let us = total.round() as i64;
            inst.set_native(Delta(us));
            *inst.key.borrow_mut() = Some(delta_key(us));
            Ok(())
        })
        .method("__repr__", |_, this, _| {
            Ok(Value::str(&delta_repr(
                state_of::<Delta>(this, "timedelta")?.0,
            )))
        })
        .method("__str__", |_, this, _| {
            Ok(Value::str(&delta_str(
                state_of::<Delta>(this, "timedelta")?.0,
            )))
        })
        .method("total_seconds", |_, this, _| {
            Ok(Value::Float(
                state_of::<Delta>(this, "timedelta")?.0 as f64 / 1e6,
            ))
        })
        .method("__getattr__", |_, this, a| {
            let us = state_of::<Delta>(this, "timedelta")?.0;
            let (d, s, u) = delta_parts(us);
            match a.pos.first().and_then(|v| v.as_str()) {
                Some("days") => Ok(Value::Int(d)),
                Some("seconds") => Ok(Value::Int(s)),
                Some("microseconds") => Ok(Value::Int(u)),
                Some(n) => Err(Exception::new(
                    "AttributeError",
                    format!("'datetime.timedelta' object has no attribute '{n}'"),
                )),
                None => Err(Exception::type_error("attribute name must be string")),
            }
        })
        .method("__add__", move |_, this, a| {
            let x = state_of::<Delta>(this, "timedelta")?.0;
            match state::<Delta>(a.arg(0)?) {
                Some(y) => Ok(md(x.checked_add(y.0).ok_or_else(overflow)?)),
                None => Ok(Value::NotImplemented),
            }
        })
        .method("__sub__", move |_, this, a| {
            let x = state_of::<Delta>(this, "timedelta")?.0;
            match state::<Delta>(a.arg(0)?) {
                Some(y) => Ok(md2(x.checked_sub(y.0).ok_or_else(overflow)?)),
                None => Ok(Value::NotImplemented),
            }
        })
        .method("__mul__", move |_, this, a| {
            let x = state_of::<Delta>(this, "timedelta")?.0;
            match a.arg(0)? {
                Value::Int(n) => Ok(md3(x.checked_mul(*n).ok_or_else(overflow)?)),
                Value::Float(f) => Ok(md3((x as f64 * f).round() as i64)),
                _ => Ok(Value::NotImplemented),
            }
        })
        .method("__neg__", move |_, this, _| {
            Ok(md4(-state_of::<Delta>(this, "timedelta")?.0))
        })
        .method("__abs__", move |_, this, _| {
            Ok(md5(state_of::<Delta>(this, "timedelta")?.0.abs()))
        })
        .method("__bool__", |_, this, _| {
            Ok(Value::Bool(state_of::<Delta>(this, "timedelta")?.0 != 0))
        })
        .build();
    timedelta.set(
        "__rmul__",
        timedelta.lookup("__mul__").unwrap_or(Value::None),
    );
    add_ordering::<Delta>(&timedelta, |d| d.0 as i128);
    classes.borrow_mut().push(timedelta.clone());

    let mdate = mk_date.clone();
    let mdate2 = mk_date.clone();
    let mdate3 = mk_date.clone();
    let mdelta = mk_delta.clone();
    let date = ClassBuilder::new(it, "date", "datetime")
        .init(|_, inst, a| {
            let p = a.bind("date", &["year", "month", "day"], 3)?;
            let (y, mo, d) = (
                int_arg(p[0].as_ref(), 1, "year")?,
                int_arg(p[1].as_ref(), 1, "month")?,
                int_arg(p[2].as_ref(), 1, "day")?,
            );
            let date = make_date(y, mo, d)?;
            *inst.key.borrow_mut() = Some(date_key(&date));
            inst.set_native(DateS(date));
            Ok(())
        })
        .method("__repr__", |_, this, _| {
            let d = state_of::<DateS>(this, "date")?.0;
            Ok(Value::str(&format!(
                "datetime.date({}, {}, {})",
                d.year(),
                d.month(),
                d.day()
            )))
        })
        .method("__str__", |_, this, _| {
            Ok(Value::str(
                &state_of::<DateS>(this, "date")?
                    .0
                    .format("%Y-%m-%d")
                    .to_string(),
            ))
        })
        .method("isoformat", |_, this, _| {
            Ok(Value::str(
                &state_of::<DateS>(this, "date")?
                    .0
                    .format("%Y-%m-%d")
                    .to_string(),
            ))
        })
        .method("weekday", |_, this, _| {
            Ok(Value::Int(
                state_of::<DateS>(this, "date")?
                    .0
                    .weekday()
                    .num_days_from_monday() as i64,
            ))
        })
        .method("isoweekday", |_, this, _| {
            Ok(Value::Int(
                state_of::<DateS>(this, "date")?
                    .0
                    .weekday()
                    .number_from_monday() as i64,
            ))
        })
        .method("strftime", |_, this, a| {
            let f = arg_str(a.pos.first().unwrap_or(&Value::None), "format")?;
            strftime(
                &state_of::<DateS>(this, "date")?.0.and_time(NaiveTime::MIN),
                &f,
            )
        })
        .method("__getattr__", |_, this, a| {
            let d = state_of::<DateS>(this, "date")?.0;
            match a.pos.first().and_then(|v| v.as_str()) {
                Some("year") => Ok(Value::Int(d.year() as i64)),
                Some("month") => Ok(Value::Int(d.month() as i64)),
                Some("day") => Ok(Value::Int(d.day() as i64)),
                Some(n) => Err(Exception::new(
                    "AttributeError",
                    format!("'datetime.date' object has no attribute '{n}'"),
                )),
                None => Err(Exception::type_error("attribute name must be string")),
            }
        })
        .method("__add__", move |_, this, a| {
            let d = state_of::<DateS>(this, "date")?.0;
            match state::<Delta>(a.arg(0)?) {
                Some(td) => Ok(mdate(
                    d.checked_add_signed(chrono::Duration::days(td.0.div_euclid(86_400_000_000)))
                        .ok_or_else(overflow)?,
                )),
                None => Ok(Value::NotImplemented),
            }
        })
        .method("__sub__", move |_, this, a| {
            let d = state_of::<DateS>(this, "date")?.0;
            if let Some(td) = state::<Delta>(a.arg(0)?) {
                return Ok(mdate2(
                    d.checked_sub_signed(chrono::Duration::days(td.0.div_euclid(86_400_000_000)))
                        .ok_or_else(overflow)?,
                ));
            }
            if let Some(o) = state::<DateS>(a.arg(0)?) {
                return Ok(mdelta((d - o.0).num_days() * 86_400_000_000));
            }
            Ok(Value::NotImplemented)
        })
        .attr(
            "today",
            Value::Descriptor(Rc::new((
                DescKind::Static,
                NativeFunction::value("today", move |_, _| {
                    Ok(mdate3(chrono::Local::now().date_naive()))
                }),
            ))),
        )
        .build();
    add_ordering::<DateS>(&date, |d| d.0.num_days_from_ce() as i128);
    classes.borrow_mut().push(date.clone());

    let mdt = mk_dt.clone();
    let mdt2 = mk_dt.clone();
    let mdt3 = mk_dt.clone();
    let mdt4 = mk_dt.clone();
    let mdt5 = mk_dt.clone();
    let mdelta2 = mk_delta.clone();
    let mdate4 = mk_date.clone();
    let datetime = ClassBuilder::with_bases("datetime", "datetime", vec![date.clone()])
        .init(|_, inst, a| {
            let p = a.bind(
                "datetime",
                &[
                    "year",
                    "month",
                    "day",
                    "hour",
                    "minute",
                    "second",
                    "microsecond",
                ],
                3,
            )?;
            let d = make_date(
                int_arg(p[0].as_ref(), 1, "year")?,
                int_arg(p[1].as_ref(), 1, "month")?,
                int_arg(p[2].as_ref(), 1, "day")?,
            )?;
            let (h, mi, s, us) = (
                int_arg(p[3].as_ref(), 0, "hour")?,
                int_arg(p[4].as_ref(), 0, "minute")?,
                int_arg(p[5].as_ref(), 0, "second")?,
                int_arg(p[6].as_ref(), 0, "microsecond")?,
            );
            for (v, hi, what) in [
                (h, 23, "hour must be in 0..23"),
                (mi, 59, "minute must be in 0..59"),
                (s, 59, "second must be in 0..59"),
                (us, 999_999, "microsecond must be in 0..999999"),
            ] {
                if v < 0 || v > hi {
                    return Err(Exception::value_error(what));
                }
            }
            let t = NaiveTime::from_hms_micro_opt(h as u32, mi as u32, s as u32, us as u32)
                .ok_or_else(|| Exception::value_error("invalid time"))?;
            let dt = d.and_time(t);
            *inst.key.borrow_mut() = Some(datetime_key(&dt));
            inst.set_native(DateTimeS(dt));
            Ok(())
        })
        .method("__repr__", |_, this, _| {
            Ok(Value::str(&dt_repr(
                &state_of::<DateTimeS>(this, "datetime")?.0,
            )))
        })
        .method("__str__", |_, this, _| {
            Ok(Value::str(&dt_iso(
                &state_of::<DateTimeS>(this, "datetime")?.0,
                " ",
            )))
        })
        .method("isoformat", |_, this, a| {
            let sep = match a.pos.first().or(kw(&a, "sep")) {
                Some(v) => arg_str(v, "sep")?.to_string(),
                None => "T".into(),
            };
            Ok(Value::str(&dt_iso(
                &state_of::<DateTimeS>(this, "datetime")?.0,
                &sep,
            )))
        })
        .method("strftime", |_, this, a| {
            let f = arg_str(a.pos.first().unwrap_or(&Value::None), "format")?;
            strftime(&state_of::<DateTimeS>(this, "datetime")?.0, &f)
        })
        .method("date", move |_, this, _| {
            Ok(mdate4(state_of::<DateTimeS>(this, "datetime")?.0.date()))
        })
        .method("weekday", |_, this, _| {
            Ok(Value::Int(
                state_of::<DateTimeS>(this, "datetime")?
                    .0
                    .weekday()
                    .num_days_from_monday() as i64,
            ))
        })
        .method("timestamp", |_, this, _| {
            let dt = state_of::<DateTimeS>(this, "datetime")?.0;
            use chrono::TimeZone;
            let local = chrono::Local
                .from_local_datetime(&dt)
                .earliest()
                .ok_or_else(|| Exception::value_error("invalid local time"))?;
            Ok(Value::Float(local.timestamp_micros() as f64 / 1e6))
        })
        .method("__getattr__", |_, this, a| {
            let d = state_of::<DateTimeS>(this, "datetime")?.0;
            Ok(Value::Int(match a.pos.first().and_then(|v| v.as_str()) {
                Some("year") => d.year() as i64,
                Some("month") => d.month() as i64,
                Some("day") => d.day() as i64,
                Some("hour") => d.hour() as i64,
                Some("minute") => d.minute() as i64,
                Some("second") => d.second() as i64,
                Some("microsecond") => (d.nanosecond() / 1000) as i64,
                Some("tzinfo") => return Ok(Value::None),
                Some(n) => {
                    return Err(Exception::new(
                        "AttributeError",
                        format!("'datetime.datetime' object has no attribute '{n}'"),
                    ))
                }
                None => return Err(Exception::type_error("attribute name must be string")),
            }))
        })
        .method("__add__", move |_, this, a| {
            let d = state_of::<DateTimeS>(this, "datetime")?.0;
            match state::<Delta>(a.arg(0)?) {
                Some(td) => Ok(mdt(d
                    .checked_add_signed(chrono::Duration::microseconds(td.0))
                    .ok_or_else(overflow)?)),
                None => Ok(Value::NotImplemented),
            }
        })
        .method("__sub__", move |_, this, a| {
            let d = state_of::<DateTimeS>(this, "datetime")?.0;
            if let Some(td) = state::<Delta>(a.arg(0)?) {
                return Ok(mdt2(
                    d.checked_sub_signed(chrono::Duration::microseconds(td.0))
                        .ok_or_else(overflow)?,
                ));
            }
            if let Some(o) = state::<DateTimeS>(a.arg(0)?) {
                return Ok(mdelta2((d - o.0).num_microseconds().unwrap_or(i64::MAX)));
            }
            Ok(Value::NotImplemented)
        })
        .attr(
            "now",
            Value::Descriptor(Rc::new((
                DescKind::Static,
                NativeFunction::value("now", move |_, _| {
                    Ok(mdt3(chrono::Local::now().naive_local()))
                }),
            ))),
        )
        .attr(
            "utcnow",
            Value::Descriptor(Rc::new((
                DescKind::Static,
                NativeFunction::value("utcnow", move |_, _| {
                    Ok(mdt4(chrono::Utc::now().naive_utc()))
                }),
            ))),
        )
        .attr(
            "fromisoformat",
            Value::Descriptor(Rc::new((
                DescKind::Static,
                NativeFunction::value("fromisoformat", move |_, a| {
                    let p = a.positional("fromisoformat", 1, 1)?;
                    let s = arg_str(&p[0], "fromisoformat: argument")?;
                    let parsed = NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f")
                        .or_else(|_| NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%.f"))
                        .or_else(|_| NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M"))
                        .or_else(|_| {
                            NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                                .map(|d| d.and_time(NaiveTime::MIN))
                        });
                    match parsed {
                        Ok(d) => Ok(mdt5(d)),
                        Err(_) => Err(Exception::value_error(format!(
                            "Invalid isoformat string: {}",
                            py_str_repr(&s)
                        ))),
                    }
                }),
            ))),
        )
        .build();
    add_ordering::<DateTimeS>(&datetime, |d| d.0.and_utc().timestamp_micros() as i128);
    classes.borrow_mut().push(datetime.clone());

    m.set("timedelta", Value::Class(timedelta));
    m.set("date", Value::Class(date));
    m.set("datetime", Value::Class(datetime));
    m.set("MINYEAR", Value::Int(1));
    m.set("MAXYEAR", Value::Int(9999));
    m
}

fn make_date(y: i64, m: i64, d: i64) -> R<NaiveDate> {
    if !(1..=9999).contains(&y) {
        return Err(Exception::value_error(format!("year {y} is out of range")));
    }
    if !(1..=12).contains(&m) {
        return Err(Exception::value_error("month must be in 1..12"));
    }
    NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32)
        .ok_or_else(|| Exception::value_error("day is out of range for month"))
}

fn strftime(dt: &NaiveDateTime, f: &str) -> R<Value> {
    use std::fmt::Write;
    let mut out = String::new();
    write!(out, "{}", dt.format(f)).map_err(|_| {
        Exception::value_error(format!("Invalid format string: {}", py_str_repr(f)))
    })?;
    Ok(Value::str(&out))
}

type Compare = Rc<dyn Fn(&Value, &Value) -> Option<std::cmp::Ordering>>;

/// `==`, `!=`, `<`, `<=`, `>`, `>=` from one ordering function (`None` = not
/// comparable: NotImplemented).
fn add_comparisons(c: &Rc<Class>, cmp: Compare) {
    type Test = fn(std::cmp::Ordering) -> bool;
    let ops: [(&str, Test); 6] = [
        ("__eq__", |o| o.is_eq()),
        ("__ne__", |o| o.is_ne()),
        ("__lt__", |o| o.is_lt()),
        ("__le__", |o| o.is_le()),
        ("__gt__", |o| o.is_gt()),
        ("__ge__", |o| o.is_ge()),
    ];
    for (name, test) in ops {
        let cmp = cmp.clone();
        c.set(
            name,
            NativeFunction::value(name, move |_, a| {
                let (Some(x), Some(y)) = (a.pos.first(), a.pos.get(1)) else {
                    return Ok(Value::NotImplemented);
                };
                Ok(match cmp(x, y) {
                    Some(o) => Value::Bool(test(o)),
                    None => Value::NotImplemented,
                })
            }),
        );
    }
}

/// Comparisons for a native value type with an integer sort key.
fn add_ordering<T: 'static>(c: &Rc<Class>, key: fn(&T) -> i128) {
    add_comparisons(
        c,
        Rc::new(move |a, b| Some(key(&*state::<T>(a)?).cmp(&key(&*state::<T>(b)?)))),
    );
}

// ---------------------------------------------------------------------- decimal

/// A decimal number: `mantissa * 10**exp` (exact for +, -, *).
#[derive(Clone, Copy)]
pub struct Dec {
    pub mant: i128,
    pub exp: i32,
}

impl Dec {
    pub fn parse(s: &str) -> Option<Dec> {
        let t = s.trim();
        let (mant_s, exp) = match t.find(['e', 'E']) {
            Some(p) => (&t[..p], t[p + 1..].parse::<i32>().ok()?),
            None => (t, 0),
        };
        let (neg, body) = match mant_s.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, mant_s.strip_prefix('+').unwrap_or(mant_s)),
        };
        let (ip, fp) = match body.find('.') {
            Some(p) => (&body[..p], &body[p + 1..]),
            None => (body, ""),
        };
        if ip.is_empty() && fp.is_empty()
            || !ip.chars().chain(fp.chars()).all(|c| c.is_ascii_digit())
        {
            return None;
        }
        let digits = format!("{ip}{fp}");
        let m: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        Some(Dec {
            mant: if neg { -m } else { m },
            exp: exp - fp.len() as i32,
        })
    }

    fn align(a: Dec, b: Dec) -> Option<(i128, i128, i32)> {
        let e = a.exp.min(b.exp);
        let scale = |d: Dec| d.mant.checked_mul(10i128.checked_pow((d.exp - e) as u32)?);
        Some((scale(a)?, scale(b)?, e))
    }

    fn cmp(a: Dec, b: Dec) -> std::cmp::Ordering {
        match Dec::align(a, b) {
            Some((x, y, _)) => x.cmp(&y),
            None => a
                .to_f64()
                .partial_cmp(&b.to_f64())
                .unwrap_or(std::cmp::Ordering::Equal),
        }
    }

    /// The dict/set key: an int when integral (so `Decimal(1)` and `1` are the
    /// same key, as in CPython), else the normalized digits and exponent.
    fn key(self) -> Value {
        let (mut m, mut e) = (self.mant, self.exp);
        while m != 0 && m % 10 == 0 {
            m /= 10;
            e += 1;
        }
        if m == 0 {
            return Value::Int(0);
        }
        if e >= 0 {
            if let Some(v) = 10i128
                .checked_pow(e as u32)
                .and_then(|p| m.checked_mul(p))
                .and_then(|v| i64::try_from(v).ok())
            {
                return Value::Int(v);
            }
        }
        Value::tuple(vec![
            Value::str("decimal"),
            Value::str(&m.to_string()),
            Value::Int(e as i64),
        ])
    }

    pub fn to_f64(self) -> f64 {
        format!("{}e{}", self.mant, self.exp)
            .parse()
            .unwrap_or(f64::NAN)
    }

    /// CPython's `Decimal.__str__` (scientific notation for large exponents).
    pub fn to_string_py(self) -> String {
        let digits = self.mant.unsigned_abs().to_string();
        let sign = if self.mant < 0 { "-" } else { "" };
        let n = digits.len() as i32;
        let adjusted = self.exp + n - 1;
        if self.exp <= 0 && adjusted >= -6 {
            if self.exp == 0 {
                return format!("{sign}{digits}");
            }
            let point = n + self.exp;
            if point > 0 {
                format!(
                    "{sign}{}.{}",
                    &digits[..point as usize],
                    &digits[point as usize..]
                )
            } else {
                format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
            }
        } else {
            let rest = if n > 1 {
                format!(".{}", &digits[1..])
            } else {
                String::new()
            };
            format!(
                "{sign}{}{rest}E{}{}",
                &digits[..1],
                if adjusted >= 0 { "+" } else { "-" },
                adjusted.abs()
            )
        }
    }
}

fn to_dec(v: &Value) -> Option<Dec> {
    match v {
        Value::Int(i) => Some(Dec {
            mant: *i as i128,
            exp: 0,
        }),
        Value::Bool(b) => Some(Dec {
            mant: *b as i128,
            exp: 0,
        }),
        other => state::<Dec>(other).map(|d| *d),
    }
}

fn decimal(it: &mut Interpreter) -> Module {
    let m = Module::new("decimal");
    let cell: Rc<RefCell<Option<Rc<Class>>>> = Rc::new(RefCell::new(None));
    let c1 = cell.clone();
    let mk = move |d: Dec| -> Value {
        match c1.borrow().as_ref() {
            Some(c) => new_value_object(c, d, d.key()),
            None => Value::None,
        }
    };
    let arith = |name: &'static str,
                 mk: Rc<dyn Fn(Dec) -> Value>,
                 f: fn(Dec, Dec) -> Option<Dec>,
                 reflected: bool| {
        move |_: &mut Interpreter, this: &Value, a: Args| -> R<Value> {
            let (Some(x), Some(y)) = (to_dec(this), a.pos.first().and_then(to_dec)) else {
                return Ok(Value::NotImplemented);
            };
            let (x, y) = if reflected { (y, x) } else { (x, y) };
            f(x, y).map(|d| mk(d)).ok_or_else(|| {
                Exception::new(
                    "OverflowError",
                    format!("decimal {name} overflows the harness's 128-bit Decimal"),
                )
            })
        }
    };
    let mkr: Rc<dyn Fn(Dec) -> Value> = Rc::new(mk.clone());
    let add = |a: Dec, b: Dec| {
        Dec::align(a, b).and_then(|(x, y, e)| {
            Some(Dec {
                mant: x.checked_add(y)?,
                exp: e,
            })
        })
    };
    let sub = |a: Dec, b: Dec| {
        Dec::align(a, b).and_then(|(x, y, e)| {
            Some(Dec {
                mant: x.checked_sub(y)?,
                exp: e,
            })
        })
    };
    let mul = |a: Dec, b: Dec| {
        Some(Dec {
            mant: a.mant.checked_mul(b.mant)?,
            exp: a.exp + b.exp,
        })
    };
    let mk_neg = mk.clone();
    let invalid = ClassBuilder::exception(
        it,
        "InvalidOperation",
        "decimal",
        Some(it.builtin_exception("ArithmeticError")),
    )
    .build();
    m.set("InvalidOperation", Value::Class(invalid.clone()));
    let invalid2 = invalid.clone();
    let class = ClassBuilder::new(it, "Decimal", "decimal")
        .init(move |_, inst, a| {
            let p = a.bind("Decimal", &["value", "context"], 0)?;
            let d = match &p[0] {
                None => Dec { mant: 0, exp: 0 },
                Some(Value::Str(s)) => Dec::parse(s).ok_or_else(|| {
                    super::native::raise(&invalid2, "[<class 'decimal.ConversionSyntax'>]")
                })?,
                Some(v) => match to_dec(v) {
                    Some(d) => d,
                    None => {
                        return Err(match v {
                            Value::Float(_) => Exception::new("NotImplementedError", "Decimal(float) is not supported by the harness's Python subset; use Decimal(str)"),
                            o => Exception::type_error(format!("conversion from {} to Decimal is not supported", o.type_name())),
                        })
                    }
                },
            };
            *inst.key.borrow_mut() = Some(d.key());
            inst.set_native(d);
            Ok(())
        })
        .method("__repr__", |_, this, _| Ok(Value::str(&format!("Decimal('{}')", state_of::<Dec>(this, "Decimal")?.to_string_py()))))
        .method("__str__", |_, this, _| Ok(Value::str(&state_of::<Dec>(this, "Decimal")?.to_string_py())))
        .method("__float__", |_, this, _| Ok(Value::Float(state_of::<Dec>(this, "Decimal")?.to_f64())))
        .method("__int__", |_, this, _| {
            let d = *state_of::<Dec>(this, "Decimal")?;
            let v = if d.exp >= 0 { d.mant.checked_mul(10i128.pow(d.exp as u32)) } else { Some(d.mant / 10i128.checked_pow((-d.exp) as u32).unwrap_or(i128::MAX)) };
            v.and_then(|v| i64::try_from(v).ok()).map(Value::Int).ok_or_else(|| Exception::new("OverflowError", "int too large"))
        })
        .method("__bool__", |_, this, _| Ok(Value::Bool(state_of::<Dec>(this, "Decimal")?.mant != 0)))
        .method("__neg__", move |_, this, _| {
            let d = *state_of::<Dec>(this, "Decimal")?;
            Ok(mk_neg(Dec { mant: -d.mant, exp: d.exp }))
        })
        .method("__add__", arith("addition", mkr.clone(), add, false))
        .method("__radd__", arith("addition", mkr.clone(), add, true))
        .method("__sub__", arith("subtraction", mkr.clone(), sub, false))
        .method("__rsub__", arith("subtraction", mkr.clone(), sub, true))
        .method("__mul__", arith("multiplication", mkr.clone(), mul, false))
        .method("__rmul__", arith("multiplication", mkr.clone(), mul, true))
        .method("__truediv__", |_, _, _| Err(Exception::new("NotImplementedError", "Decimal division is not supported by the harness's Python subset")))
        .build();
    add_comparisons(
        &class,
        Rc::new(|a, b| match (to_dec(a), to_dec(b), b) {
            (Some(x), Some(y), _) => Some(Dec::cmp(x, y)),
            (Some(x), None, Value::Float(f)) => x.to_f64().partial_cmp(f),
            _ => None,
        }),
    );
    *cell.borrow_mut() = Some(class.clone());
    m.set("Decimal", Value::Class(class));
    m
}

// ---------------------------------------------------------------------- open()

struct FileState {
    text: Option<String>,
    bytes: Vec<u8>,
    pos: RefCell<usize>,
}

/// `open(path, mode='r')`: read-only, relative to the transcript's directory.
pub fn open(it: &mut Interpreter, a: Args) -> R<Value> {
    let p = a.bind(
        "open",
        &["file", "mode", "buffering", "encoding", "errors", "newline"],
        1,
    )?;
    let path = arg_str(
        p[0].as_ref().unwrap_or(&Value::None),
        "open() argument 'file'",
    )?;
    let mode = match &p[1] {
        Some(v) => arg_str(v, "open() argument 'mode'")?.to_string(),
        None => "r".into(),
    };
    if mode.contains(['w', 'a', 'x', '+']) {
        return Err(Exception::new(
            "NotImplementedError",
            format!(
                "open() mode {} is not supported: transcripts may only read files",
                py_str_repr(&mode)
            ),
        ));
    }
    let full = resolve(it, &path);
    let bytes = std::fs::read(&full).map_err(|e| {
        let (cls, errno, msg) = match e.kind() {
            std::io::ErrorKind::NotFound => ("FileNotFoundError", 2, "No such file or directory"),
            std::io::ErrorKind::PermissionDenied => ("PermissionError", 13, "Permission denied"),
            _ if full.is_dir() => ("IsADirectoryError", 21, "Is a directory"),
            _ => ("OSError", 5, "Input/output error"),
        };
        Exception::new(
            cls,
            format!("[Errno {errno}] {msg}: {}", py_str_repr(&path)),
        )
    })?;
    let text = if mode.contains('b') {
        None
    } else {
        Some(String::from_utf8(bytes.clone()).map_err(|_| {
            Exception::new("UnicodeDecodeError", "'utf-8' codec can't decode the file")
        })?)
    };
    let class = file_class(it);
    let inst = Instance::new(class);
    inst.set("name", Value::Str(path));
    inst.set("mode", Value::str(&mode));
    inst.set_native(FileState {
        text,
        bytes,
        pos: RefCell::new(0),
    });
    Ok(Value::Instance(inst))
}

fn file_class(it: &mut Interpreter) -> Rc<Class> {
    thread_local! {
        static CLASS: RefCell<Option<Rc<Class>>> = const { RefCell::new(None) };
    }
    if let Some(c) = CLASS.with(|c| c.borrow().clone()) {
        return c;
    }
    fn rest(f: &FileState) -> Value {
        let mut pos = f.pos.borrow_mut();
        match &f.text {
            Some(t) => {
                let s = &t[(*pos).min(t.len())..];
                *pos = t.len();
                Value::str(s)
            }
            None => {
                let b = &f.bytes[(*pos).min(f.bytes.len())..];
                *pos = f.bytes.len();
                Value::Bytes(b.to_vec().into())
            }
        }
    }
    fn lines(f: &FileState) -> Vec<Value> {
        let mut pos = f.pos.borrow_mut();
        let t = f.text.as_deref().unwrap_or("");
        let s = &t[(*pos).min(t.len())..];
        *pos = t.len();
        s.split_inclusive('\n').map(Value::str).collect()
    }
    let unsupported = ClassBuilder::exception(
        it,
        "UnsupportedOperation",
        "io",
        Some(it.builtin_exception("OSError")),
    )
    .build();
    let c = ClassBuilder::new(it, "TextIOWrapper", "_io")
        .method("read", |_, this, _| {
            let f = state_of::<FileState>(this, "file")?;
            Ok(rest(&f))
        })
        .method("readlines", |_, this, _| {
            let f = state_of::<FileState>(this, "file")?;
            Ok(Value::list(lines(&f)))
        })
        .method("readline", |_, this, _| {
            let f = state_of::<FileState>(this, "file")?;
            let t = f.text.as_deref().unwrap_or("");
            let mut pos = f.pos.borrow_mut();
            let s = &t[(*pos).min(t.len())..];
            let line = match s.find('\n') {
                Some(i) => &s[..=i],
                None => s,
            };
            *pos += line.len();
            Ok(Value::str(line))
        })
        .method("__iter__", |_, this, _| {
            let f = state_of::<FileState>(this, "file")?;
            let items = lines(&f);
            Ok(Value::Iter(Rc::new(RefCell::new(Iter::Seq(items, 0)))))
        })
        .method("close", |_, _, _| Ok(Value::None))
        .method("__enter__", |_, this, _| Ok(this.clone()))
        .method("__exit__", |_, _, _| Ok(Value::Bool(false)))
        .method("write", move |_, _, _| {
            Err(super::native::raise(&unsupported, "not writable"))
        })
        .build();
    CLASS.with(|cell| *cell.borrow_mut() = Some(c.clone()));
    c
}
