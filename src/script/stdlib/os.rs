//! `os` (a live `environ`, getenv, getcwd, listdir) and `os.path`; relative
//! paths resolve against the transcript's directory.

use super::*;

use crate::core::env;

fn env_items() -> Vec<(Value, Value)> {
    env::vars()
        .into_iter()
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

/// `os.environ`: the environment as the interpreter's thread sees it
/// (`core::env`): what a transcript sets is seen by the code it calls and by the
/// processes it starts, and not by the files replayed beside it.
fn environ(it: &Interpreter) -> Value {
    let c = ClassBuilder::new(it, "_Environ", "os")
        .method("__getitem__", |_, _, a| {
            let k = env_key(&a, 0)?;
            env::var(&k)
                .map(|v| Value::str(&v))
                .ok_or_else(|| Exception::with_args("KeyError", vec![Value::str(&k)]))
        })
        .method("__setitem__", |_, _, a| {
            let k = env_key(&a, 0)?;
            let v = env_key(&a, 1)?;
            if k.is_empty() || k.contains(['=', '\0']) || v.contains('\0') {
                return Err(Exception::value_error("illegal environment variable name"));
            }
            env::set(&k, &v);
            Ok(Value::None)
        })
        .method("__delitem__", |_, _, a| {
            let k = env_key(&a, 0)?;
            if env::var(&k).is_none() {
                return Err(Exception::with_args("KeyError", vec![Value::str(&k)]));
            }
            env::remove(&k);
            Ok(Value::None)
        })
        .method("__contains__", |_, _, a| {
            Ok(Value::Bool(
                matches!(a.pos.first(), Some(Value::Str(k)) if env::var(k).is_some()),
            ))
        })
        .method("get", |_, _, a| {
            let k = env_key(&a, 0)?;
            Ok(match env::var(&k) {
                Some(v) => Value::str(&v),
                None => a.pos.get(1).cloned().unwrap_or(Value::None),
            })
        })
        .method("__len__", |_, _, _| {
            Ok(Value::Int(env::vars().len() as i64))
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

pub(super) fn resolve(it: &Interpreter, p: &str) -> PathBuf {
    let path = PathBuf::from(p);
    if path.is_absolute() {
        path
    } else {
        it.base_dir.join(path)
    }
}

pub(super) fn os(it: &mut Interpreter) -> Module {
    let m = Module::new("os");
    m.set("environ", environ(it));
    m.set("sep", Value::str("/"));
    m.set("linesep", Value::str("\n"));
    m.set("name", Value::str("posix"));
    m.add_fn("getenv", |_, a| {
        let p = a.bind("getenv", &["key", "default"], 1)?;
        let key = arg_str(p[0].as_ref().unwrap_or(&Value::None), "str expected, not")?;
        Ok(match env::var(&key) {
            Some(v) => Value::str(&v),
            None => p[1].clone().unwrap_or(Value::None),
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

pub(super) fn os_path() -> Module {
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
