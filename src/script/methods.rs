//! Methods of the builtin types (str, bytes, list, tuple, dict, set, int, float),
//! registered as native functions on the type objects so that `'x'.join` and
//! `str.join` both work.

use super::builtins::to_int;
use super::interp::{Interpreter, R};
use super::value::*;
use crate::core::repr::py_str_repr;
use std::cell::RefCell;
use std::rc::Rc;

type M = fn(&mut Interpreter, &Value, &[Value], &Args) -> R<Value>;

/// Registers `func` as `cls.name`, checking the positional count (after self).
fn reg(cls: &Rc<Class>, tname: &'static str, name: &'static str, min: usize, max: usize, func: M) {
    let full = format!("{tname}.{name}");
    cls.set(
        name,
        NativeFunction::value(name, move |it, a| {
            let Some(this) = a.pos.first().cloned() else {
                return Err(Exception::type_error(format!(
                    "unbound method {full}() needs an argument"
                )));
            };
            if this.type_name() != tname && !it.type_of(&this).is_subclass(&it.type_of_name(tname))
            {
                return Err(Exception::type_error(format!(
                    "descriptor '{name}' for '{tname}' objects doesn't apply to a '{}' object",
                    this.type_name()
                )));
            }
            let rest = &a.pos[1..];
            let n = rest.len();
            if n < min || n > max {
                let plural = |k: usize| if k == 1 { "" } else { "s" };
                // CPython's wording depends on how each builtin parses arguments.
                let old_style = tname == "str"
                    && matches!(
                        name,
                        "find"
                            | "rfind"
                            | "index"
                            | "rindex"
                            | "count"
                            | "startswith"
                            | "endswith"
                            | "split"
                            | "rsplit"
                    );
                let msg = if min == max && min <= 1 {
                    if min == 0 {
                        format!("{full}() takes no arguments ({n} given)")
                    } else {
                        format!("{full}() takes exactly one argument ({n} given)")
                    }
                } else if old_style {
                    let (which, k) = if n < min {
                        ("least", min)
                    } else {
                        ("most", max)
                    };
                    format!(
                        "{name}() takes at {which} {k} argument{} ({n} given)",
                        plural(k)
                    )
                } else if min == max {
                    format!("{name} expected {min} argument{}, got {n}", plural(min))
                } else if n < min {
                    format!(
                        "{name} expected at least {min} argument{}, got {n}",
                        plural(min)
                    )
                } else {
                    format!(
                        "{name} expected at most {max} argument{}, got {n}",
                        plural(max)
                    )
                };
                return Err(Exception::type_error(msg));
            }
            func(it, &this, rest, &a)
        }),
    );
}

fn s(v: &Value) -> Rc<str> {
    match v {
        Value::Str(s) => s.clone(),
        _ => "".into(),
    }
}

fn str_arg(v: &Value, what: &str) -> R<Rc<str>> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        other => Err(Exception::type_error(format!(
            "{what}must be str, not {}",
            other.type_name()
        ))),
    }
}

fn opt_str(v: Option<&Value>) -> R<Option<Rc<str>>> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.clone())),
        Some(o) => Err(Exception::type_error(format!(
            "must be str or None, not {}",
            o.type_name()
        ))),
    }
}

fn strv(x: impl Into<Rc<str>>) -> Value {
    Value::Str(x.into())
}

fn kwv<'a>(a: &'a Args, name: &str) -> Option<&'a Value> {
    a.kw.iter().find(|(k, _)| &**k == name).map(|(_, v)| v)
}

fn char_slice_bounds(text: &str, start: Option<&Value>, end: Option<&Value>) -> (usize, usize) {
    let n = text.chars().count() as i64;
    let norm = |v: Option<&Value>, d: i64| -> i64 {
        match v.and_then(to_int) {
            Some(i) if i < 0 => (i + n).max(0),
            Some(i) => i.min(n),
            None => d,
        }
    };
    let a = norm(start, 0);
    let b = norm(end, n);
    let byte = |ci: i64| {
        text.char_indices()
            .nth(ci as usize)
            .map(|(b, _)| b)
            .unwrap_or(text.len())
    };
    if a > b {
        return (byte(a), byte(a));
    }
    (byte(a), byte(b))
}

fn find_impl(this: &Value, rest: &[Value], rev: bool) -> R<Option<usize>> {
    let text = s(this);
    let sub = str_arg(&rest[0], "")?;
    let (a, b) = char_slice_bounds(&text, rest.get(1), rest.get(2));
    if a > b || b - a < sub.len() && !sub.is_empty() {
        return Ok(None);
    }
    let hay = &text[a..b];
    let pos = if rev {
        hay.rfind(&*sub)
    } else {
        hay.find(&*sub)
    };
    Ok(pos.map(|p| text[..a + p].chars().count()))
}

fn split_ws(text: &str, maxsplit: i64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    let mut n = 0;
    while !rest.is_empty() {
        if maxsplit >= 0 && n >= maxsplit {
            out.push(strv(rest));
            return out;
        }
        match rest.find(char::is_whitespace) {
            Some(p) => {
                out.push(strv(&rest[..p]));
                rest = rest[p..].trim_start();
            }
            None => {
                out.push(strv(rest));
                rest = "";
            }
        }
        n += 1;
    }
    out
}

fn rsplit_ws(text: &str, maxsplit: i64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rest = text.trim_end();
    let mut n = 0;
    while !rest.is_empty() {
        if maxsplit >= 0 && n >= maxsplit {
            out.push(strv(rest));
            break;
        }
        match rest.rfind(char::is_whitespace) {
            Some(p) => {
                let w = rest[p..].chars().next().map(|c| c.len_utf8()).unwrap_or(1);
                out.push(strv(&rest[p + w..]));
                rest = rest[..p].trim_end();
            }
            None => {
                out.push(strv(rest));
                rest = "";
            }
        }
        n += 1;
    }
    out.reverse();
    out
}

fn split_args(rest: &[Value], a: &Args) -> R<(Option<Rc<str>>, i64)> {
    let sep = opt_str(kwv(a, "sep").or(rest.first()))?;
    let maxsplit = match kwv(a, "maxsplit").or(rest.get(1)) {
        Some(v) => {
            to_int(v).ok_or_else(|| Exception::type_error("'maxsplit' must be an integer"))?
        }
        None => -1,
    };
    if let Some(sp) = &sep {
        if sp.is_empty() {
            return Err(Exception::value_error("empty separator"));
        }
    }
    Ok((sep, maxsplit))
}

fn strip_chars<'a>(text: &'a str, chars: Option<&str>, left: bool, right: bool) -> &'a str {
    let pred = |c: char| match chars {
        Some(cs) => cs.contains(c),
        None => c.is_whitespace(),
    };
    let mut t = text;
    if left {
        t = t.trim_start_matches(pred);
    }
    if right {
        t = t.trim_end_matches(pred);
    }
    t
}

fn affix_match(it: &mut Interpreter, this: &Value, rest: &[Value], start: bool) -> R<Value> {
    let text = s(this);
    let (a, b) = char_slice_bounds(&text, rest.get(1), rest.get(2));
    let hay = &text[a..b.max(a)];
    let cands: Vec<Value> = match &rest[0] {
        Value::Tuple(t) => t.to_vec(),
        Value::Str(_) => vec![rest[0].clone()],
        other => {
            let _ = it;
            return Err(Exception::type_error(format!(
                "{} first arg must be str or a tuple of str, not {}",
                if start { "startswith" } else { "endswith" },
                other.type_name()
            )));
        }
    };
    for c in cands {
        let c = str_arg(&c, "tuple for startswith ")?;
        if (start && hay.starts_with(&*c)) || (!start && hay.ends_with(&*c)) {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn pad_str(text: &str, width: i64, fill: &str, mode: char) -> R<Value> {
    let mut fc = fill.chars();
    let (Some(f), None) = (fc.next(), fc.next()) else {
        return Err(Exception::type_error(
            "The fill character must be exactly one character long",
        ));
    };
    let n = text.chars().count() as i64;
    if width <= n {
        return Ok(strv(text));
    }
    check_size(width as u128)?;
    let total = (width - n) as usize;
    let fs = |k: usize| f.to_string().repeat(k);
    Ok(strv(match mode {
        '<' => format!("{text}{}", fs(total)),
        '>' => format!("{}{text}", fs(total)),
        _ => {
            let left = total / 2 + (total & width as usize & 1);
            format!("{}{text}{}", fs(left), fs(total - left))
        }
    }))
}

fn title_case(text: &str) -> String {
    let mut out = String::new();
    let mut prev_cased = false;
    for c in text.chars() {
        if prev_cased {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        prev_cased = c.is_alphabetic();
    }
    out
}

fn list_of(v: &Value) -> Rc<RefCell<Vec<Value>>> {
    match v {
        Value::List(l) => l.clone(),
        _ => Rc::new(RefCell::new(Vec::new())),
    }
}

fn dict_of(v: &Value) -> Rc<RefCell<Dict>> {
    match v {
        Value::Dict(d) | Value::Set(d) => d.clone(),
        _ => Rc::new(RefCell::new(Dict::new())),
    }
}

fn set_value(d: Dict) -> Value {
    Value::Set(Rc::new(RefCell::new(d)))
}

impl Interpreter {
    pub(crate) fn type_of_name(&self, name: &str) -> Rc<Class> {
        let t = &self.types;
        match name {
            "str" => t.str_.clone(),
            "list" => t.list.clone(),
            "dict" => t.dict.clone(),
            "set" => t.set.clone(),
            "tuple" => t.tuple.clone(),
            "bytes" => t.bytes.clone(),
            "int" => t.int.clone(),
            "float" => t.float.clone(),
            _ => t.object.clone(),
        }
    }

    fn index_of(&mut self, items: &[Value], x: &Value, what: &str) -> R<usize> {
        for (i, v) in items.iter().enumerate() {
            if v.is(x) || self.eq(v, x)? {
                return Ok(i);
            }
        }
        let r = self.repr(x)?;
        Err(Exception::value_error(if what == "list" {
            format!("{r} is not in list")
        } else {
            "tuple.index(x): x not in tuple".to_string()
        }))
    }

    fn count_of(&mut self, items: &[Value], x: &Value) -> R<Value> {
        let mut n = 0;
        for v in items {
            if v.is(x) || self.eq(v, x)? {
                n += 1;
            }
        }
        Ok(Value::Int(n))
    }

    fn dict_view(&self, d: &Value, kind: &'static str) -> Value {
        let cls = self.view_classes.borrow().get(kind).cloned();
        let Some(cls) = cls else { return Value::None };
        let inst = Instance::new(cls);
        inst.set_native(dict_of(d));
        Value::Instance(inst)
    }
}

fn view_items(kind: &str, d: &Dict) -> Vec<Value> {
    match kind {
        "dict_keys" => d.keys(),
        "dict_values" => d.values(),
        _ => d
            .items()
            .into_iter()
            .map(|(k, v)| Value::tuple(vec![k, v]))
            .collect(),
    }
}

fn make_view_class(kind: &'static str) -> Rc<Class> {
    let c = Rc::new(Class::new(kind, "builtins", vec![]));
    let state = |a: &Args| -> R<Rc<RefCell<Dict>>> {
        match a.pos.first() {
            Some(Value::Instance(i)) => i
                .native::<Rc<RefCell<Dict>>>()
                .map(|r| (*r).clone())
                .ok_or_else(|| Exception::type_error("bad dict view")),
            _ => Err(Exception::type_error("bad dict view")),
        }
    };
    c.set(
        "__iter__",
        NativeFunction::value("__iter__", move |_, a| {
            let d = state(&a)?;
            let items = view_items(kind, &d.borrow());
            Ok(Value::Iter(Rc::new(RefCell::new(Iter::Seq(items, 0)))))
        }),
    );
    c.set(
        "__len__",
        NativeFunction::value("__len__", move |_, a| {
            Ok(Value::Int(state(&a)?.borrow().len() as i64))
        }),
    );
    c.set(
        "__repr__",
        NativeFunction::value("__repr__", move |it, a| {
            let d = state(&a)?;
            let items = view_items(kind, &d.borrow());
            let r = it.repr(&Value::list(items))?;
            Ok(strv(format!("{kind}({r})")))
        }),
    );
    c.set(
        "__contains__",
        NativeFunction::value("__contains__", move |it, a| {
            let d = state(&a)?;
            let x = a.pos.get(1).cloned().unwrap_or(Value::None);
            if kind == "dict_keys" {
                return Ok(Value::Bool(d.borrow().contains(&x)?));
            }
            let items = view_items(kind, &d.borrow());
            it.contains(&Value::list(items), &x).map(Value::Bool)
        }),
    );
    c.set(
        "__eq__",
        NativeFunction::value("__eq__", move |it, a| {
            let d = state(&a)?;
            let other = a.pos.get(1).cloned().unwrap_or(Value::None);
            let mine = view_items(kind, &d.borrow());
            let theirs = match &other {
                Value::Instance(_) | Value::Set(_) => it.collect(&other)?,
                _ => return Ok(Value::NotImplemented),
            };
            if kind == "dict_values" {
                return Ok(Value::Bool(false));
            }
            let (x, y) = (
                it.set_from(Some(&Value::list(mine)))?,
                it.set_from(Some(&Value::list(theirs)))?,
            );
            it.eq(&x, &y).map(Value::Bool)
        }),
    );
    c
}

pub(crate) fn install(it: &mut Interpreter) {
    {
        let mut v = it.view_classes.borrow_mut();
        for k in ["dict_keys", "dict_values", "dict_items"] {
            v.insert(k, make_view_class(k));
        }
    }
    let t = &it.types;
    let st = t.str_.clone();
    reg(&st, "str", "join", 1, 1, |it, this, r, _| {
        let items = it.collect(&r[0])?;
        let sep = s(this);
        let mut out = String::new();
        for (i, v) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(&sep);
            }
            match v {
                Value::Str(x) => out.push_str(x),
                other => {
                    return Err(Exception::type_error(format!(
                        "sequence item {i}: expected str instance, {} found",
                        other.type_name()
                    )))
                }
            }
        }
        Ok(strv(out))
    });
    reg(&st, "str", "split", 0, 2, |_, this, r, a| {
        let (sep, max) = split_args(r, a)?;
        let text = s(this);
        Ok(Value::list(match sep {
            None => split_ws(&text, max),
            Some(sp) => {
                if max < 0 {
                    text.split(&*sp).map(strv).collect()
                } else {
                    text.splitn(max as usize + 1, &*sp).map(strv).collect()
                }
            }
        }))
    });
    reg(&st, "str", "rsplit", 0, 2, |_, this, r, a| {
        let (sep, max) = split_args(r, a)?;
        let text = s(this);
        Ok(Value::list(match sep {
            None => rsplit_ws(&text, max),
            Some(sp) => {
                let mut v: Vec<Value> = if max < 0 {
                    text.rsplit(&*sp).map(strv).collect()
                } else {
                    text.rsplitn(max as usize + 1, &*sp).map(strv).collect()
                };
                v.reverse();
                v
            }
        }))
    });
    reg(&st, "str", "splitlines", 0, 1, |it, this, r, a| {
        let keep = match kwv(a, "keepends").or(r.first()) {
            Some(v) => it.truthy(v)?,
            None => false,
        };
        let text = s(this);
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if matches!(
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
            ) {
                let mut end = c.to_string();
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                    end.push('\n');
                }
                if keep {
                    cur.push_str(&end);
                }
                out.push(strv(std::mem::take(&mut cur)));
            } else {
                cur.push(c);
            }
        }
        if !cur.is_empty() {
            out.push(strv(cur));
        }
        Ok(Value::list(out))
    });
    reg(&st, "str", "strip", 0, 1, |_, this, r, _| {
        let c = opt_str(r.first())?;
        Ok(strv(strip_chars(&s(this), c.as_deref(), true, true)))
    });
    reg(&st, "str", "lstrip", 0, 1, |_, this, r, _| {
        let c = opt_str(r.first())?;
        Ok(strv(strip_chars(&s(this), c.as_deref(), true, false)))
    });
    reg(&st, "str", "rstrip", 0, 1, |_, this, r, _| {
        let c = opt_str(r.first())?;
        Ok(strv(strip_chars(&s(this), c.as_deref(), false, true)))
    });
    reg(&st, "str", "startswith", 1, 3, |it, this, r, _| {
        affix_match(it, this, r, true)
    });
    reg(&st, "str", "endswith", 1, 3, |it, this, r, _| {
        affix_match(it, this, r, false)
    });
    reg(&st, "str", "replace", 2, 3, |_, this, r, _| {
        let old = str_arg(&r[0], "replace() argument 1 ")?;
        let new = str_arg(&r[1], "replace() argument 2 ")?;
        let text = s(this);
        let count = r.get(2).and_then(to_int).unwrap_or(-1);
        Ok(strv(if count < 0 {
            text.replace(&*old, &new)
        } else {
            text.replacen(&*old, &new, count as usize)
        }))
    });
    reg(&st, "str", "upper", 0, 0, |_, this, _, _| {
        Ok(strv(s(this).to_uppercase()))
    });
    reg(&st, "str", "lower", 0, 0, |_, this, _, _| {
        Ok(strv(s(this).to_lowercase()))
    });
    reg(&st, "str", "casefold", 0, 0, |_, this, _, _| {
        Ok(strv(s(this).to_lowercase()))
    });
    reg(&st, "str", "title", 0, 0, |_, this, _, _| {
        Ok(strv(title_case(&s(this))))
    });
    reg(&st, "str", "capitalize", 0, 0, |_, this, _, _| {
        let text = s(this);
        let mut c = text.chars();
        Ok(strv(match c.next() {
            Some(f) => f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase(),
            None => String::new(),
        }))
    });
    reg(&st, "str", "swapcase", 0, 0, |_, this, _, _| {
        Ok(strv(
            s(this)
                .chars()
                .flat_map(|c| -> Vec<char> {
                    if c.is_uppercase() {
                        c.to_lowercase().collect()
                    } else {
                        c.to_uppercase().collect()
                    }
                })
                .collect::<String>(),
        ))
    });
    st.set(
        "format",
        NativeFunction::value("format", |it, a| {
            let Some(Value::Str(f)) = a.pos.first().cloned() else {
                return Err(Exception::type_error(
                    "descriptor 'format' requires a 'str' object",
                ));
            };
            let rest = Args {
                pos: a.pos[1..].to_vec(),
                kw: a.kw.clone(),
            };
            Ok(strv(it.str_format(&f, &rest)?))
        }),
    );
    st.set(
        "format_map",
        NativeFunction::value("format_map", |it, a| {
            let (Some(Value::Str(f)), Some(Value::Dict(d))) = (a.pos.first(), a.pos.get(1)) else {
                return Err(Exception::type_error(
                    "format_map() argument must be a mapping",
                ));
            };
            let kw = d
                .borrow()
                .items()
                .into_iter()
                .filter_map(|(k, v)| match k {
                    Value::Str(k) => Some((k, v)),
                    _ => None,
                })
                .collect();
            Ok(strv(it.str_format(f, &Args { pos: vec![], kw })?))
        }),
    );
    reg(&st, "str", "find", 1, 3, |_, this, r, _| {
        Ok(Value::Int(
            find_impl(this, r, false)?.map(|p| p as i64).unwrap_or(-1),
        ))
    });
    reg(&st, "str", "rfind", 1, 3, |_, this, r, _| {
        Ok(Value::Int(
            find_impl(this, r, true)?.map(|p| p as i64).unwrap_or(-1),
        ))
    });
    reg(
        &st,
        "str",
        "index",
        1,
        3,
        |_, this, r, _| match find_impl(this, r, false)? {
            Some(p) => Ok(Value::Int(p as i64)),
            None => Err(Exception::value_error("substring not found")),
        },
    );
    reg(
        &st,
        "str",
        "rindex",
        1,
        3,
        |_, this, r, _| match find_impl(this, r, true)? {
            Some(p) => Ok(Value::Int(p as i64)),
            None => Err(Exception::value_error("substring not found")),
        },
    );
    reg(&st, "str", "count", 1, 3, |_, this, r, _| {
        let text = s(this);
        let sub = str_arg(&r[0], "")?;
        let (a, b) = char_slice_bounds(&text, r.get(1), r.get(2));
        let hay = &text[a..b.max(a)];
        Ok(Value::Int(if sub.is_empty() {
            hay.chars().count() as i64 + 1
        } else {
            hay.matches(&*sub).count() as i64
        }))
    });
    fn pred(this: &Value, f: fn(char) -> bool) -> R<Value> {
        let t = s(this);
        Ok(Value::Bool(!t.is_empty() && t.chars().all(f)))
    }
    reg(&st, "str", "isdigit", 0, 0, |_, this, _, _| {
        pred(this, |c| c.is_ascii_digit() || c.is_numeric())
    });
    reg(&st, "str", "isdecimal", 0, 0, |_, this, _, _| {
        pred(this, |c| c.is_ascii_digit())
    });
    reg(&st, "str", "isnumeric", 0, 0, |_, this, _, _| {
        pred(this, |c| c.is_numeric())
    });
    reg(&st, "str", "isalpha", 0, 0, |_, this, _, _| {
        pred(this, |c| c.is_alphabetic())
    });
    reg(&st, "str", "isalnum", 0, 0, |_, this, _, _| {
        pred(this, |c| c.is_alphanumeric())
    });
    reg(&st, "str", "isspace", 0, 0, |_, this, _, _| {
        pred(this, |c| c.is_whitespace())
    });
    reg(&st, "str", "isascii", 0, 0, |_, this, _, _| {
        Ok(Value::Bool(s(this).is_ascii()))
    });
    reg(&st, "str", "isupper", 0, 0, |_, this, _, _| {
        let t = s(this);
        Ok(Value::Bool(
            t.chars().any(|c| c.is_uppercase()) && !t.chars().any(|c| c.is_lowercase()),
        ))
    });
    reg(&st, "str", "islower", 0, 0, |_, this, _, _| {
        let t = s(this);
        Ok(Value::Bool(
            t.chars().any(|c| c.is_lowercase()) && !t.chars().any(|c| c.is_uppercase()),
        ))
    });
    reg(&st, "str", "istitle", 0, 0, |_, this, _, _| {
        let t = s(this);
        Ok(Value::Bool(
            t.chars().any(|c| c.is_alphabetic()) && title_case(&t) == *t,
        ))
    });
    reg(&st, "str", "isidentifier", 0, 0, |_, this, _, _| {
        let t = s(this);
        let mut c = t.chars();
        Ok(Value::Bool(
            c.next().is_some_and(|f| f.is_alphabetic() || f == '_')
                && c.all(|x| x.is_alphanumeric() || x == '_'),
        ))
    });
    reg(&st, "str", "center", 1, 2, |_, this, r, _| {
        let f = match r.get(1) {
            Some(v) => str_arg(v, "")?,
            None => " ".into(),
        };
        pad_str(&s(this), to_int(&r[0]).unwrap_or(0), &f, '^')
    });
    reg(&st, "str", "ljust", 1, 2, |_, this, r, _| {
        let f = match r.get(1) {
            Some(v) => str_arg(v, "")?,
            None => " ".into(),
        };
        pad_str(&s(this), to_int(&r[0]).unwrap_or(0), &f, '<')
    });
    reg(&st, "str", "rjust", 1, 2, |_, this, r, _| {
        let f = match r.get(1) {
            Some(v) => str_arg(v, "")?,
            None => " ".into(),
        };
        pad_str(&s(this), to_int(&r[0]).unwrap_or(0), &f, '>')
    });
    reg(&st, "str", "zfill", 1, 1, |_, this, r, _| {
        let t = s(this);
        let w = to_int(&r[0]).unwrap_or(0);
        let n = t.chars().count() as i64;
        if w <= n {
            return Ok(strv(t));
        }
        check_size(w as u128)?;
        let (sign, rest) = match t.chars().next() {
            Some(c @ ('+' | '-')) => (c.to_string(), &t[1..]),
            _ => (String::new(), &t[..]),
        };
        Ok(strv(format!(
            "{sign}{}{rest}",
            "0".repeat((w - n) as usize)
        )))
    });
    reg(&st, "str", "partition", 1, 1, |_, this, r, _| {
        let t = s(this);
        let sep = str_arg(&r[0], "")?;
        if sep.is_empty() {
            return Err(Exception::value_error("empty separator"));
        }
        Ok(match t.find(&*sep) {
            Some(p) => Value::tuple(vec![
                strv(&t[..p]),
                strv(sep.clone()),
                strv(&t[p + sep.len()..]),
            ]),
            None => Value::tuple(vec![strv(t.clone()), strv(""), strv("")]),
        })
    });
    reg(&st, "str", "rpartition", 1, 1, |_, this, r, _| {
        let t = s(this);
        let sep = str_arg(&r[0], "")?;
        if sep.is_empty() {
            return Err(Exception::value_error("empty separator"));
        }
        Ok(match t.rfind(&*sep) {
            Some(p) => Value::tuple(vec![
                strv(&t[..p]),
                strv(sep.clone()),
                strv(&t[p + sep.len()..]),
            ]),
            None => Value::tuple(vec![strv(""), strv(""), strv(t.clone())]),
        })
    });
    reg(&st, "str", "removeprefix", 1, 1, |_, this, r, _| {
        let t = s(this);
        let p = str_arg(&r[0], "")?;
        Ok(strv(t.strip_prefix(&*p).unwrap_or(&t)))
    });
    reg(&st, "str", "removesuffix", 1, 1, |_, this, r, _| {
        let t = s(this);
        let p = str_arg(&r[0], "")?;
        Ok(strv(t.strip_suffix(&*p).unwrap_or(&t)))
    });
    reg(&st, "str", "encode", 0, 2, |_, this, _, _| {
        Ok(Value::Bytes(s(this).as_bytes().to_vec().into()))
    });
    reg(&st, "str", "expandtabs", 0, 1, |_, this, r, _| {
        let size = r.first().and_then(to_int).unwrap_or(8).max(0) as usize;
        check_size(size as u128 * s(this).len() as u128)?;
        let mut out = String::new();
        let mut col = 0;
        for c in s(this).chars() {
            match c {
                '\t' => {
                    if size > 0 {
                        let n = size - col % size;
                        out.push_str(&" ".repeat(n));
                        col += n;
                    }
                }
                '\n' | '\r' => {
                    out.push(c);
                    col = 0;
                }
                _ => {
                    out.push(c);
                    col += 1;
                }
            }
        }
        Ok(strv(out))
    });

    let by = t.bytes.clone();
    reg(&by, "bytes", "decode", 0, 2, |_, this, _, _| match this {
        Value::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => Ok(strv(s)),
            Err(e) => Err(Exception::new(
                "UnicodeDecodeError",
                format!(
                    "'utf-8' codec can't decode byte 0x{:02x} in position {}: invalid start byte",
                    b[e.valid_up_to()],
                    e.valid_up_to()
                ),
            )),
        },
        _ => Ok(strv("")),
    });

    let li = t.list.clone();
    reg(&li, "list", "append", 1, 1, |_, this, r, _| {
        list_of(this).borrow_mut().push(r[0].clone());
        Ok(Value::None)
    });
    reg(&li, "list", "extend", 1, 1, |it, this, r, _| {
        let items = it.collect(&r[0])?;
        list_of(this).borrow_mut().extend(items);
        Ok(Value::None)
    });
    reg(&li, "list", "insert", 2, 2, |_, this, r, _| {
        let l = list_of(this);
        let mut l = l.borrow_mut();
        let n = l.len() as i64;
        let i = to_int(&r[0]).ok_or_else(|| {
            Exception::type_error(format!(
                "'{}' object cannot be interpreted as an integer",
                r[0].type_name()
            ))
        })?;
        let i = if i < 0 { (i + n).max(0) } else { i.min(n) };
        l.insert(i as usize, r[1].clone());
        Ok(Value::None)
    });
    reg(&li, "list", "pop", 0, 1, |_, this, r, _| {
        let l = list_of(this);
        let mut l = l.borrow_mut();
        if l.is_empty() {
            return Err(Exception::new("IndexError", "pop from empty list"));
        }
        let n = l.len() as i64;
        let i = r.first().and_then(to_int).unwrap_or(-1);
        let j = if i < 0 { i + n } else { i };
        if j < 0 || j >= n {
            return Err(Exception::new("IndexError", "pop index out of range"));
        }
        Ok(l.remove(j as usize))
    });
    reg(&li, "list", "remove", 1, 1, |it, this, r, _| {
        let l = list_of(this);
        let items = l.borrow().clone();
        for (i, v) in items.iter().enumerate() {
            if v.is(&r[0]) || it.eq(v, &r[0])? {
                l.borrow_mut().remove(i);
                return Ok(Value::None);
            }
        }
        Err(Exception::value_error("list.remove(x): x not in list"))
    });
    reg(&li, "list", "index", 1, 3, |it, this, r, _| {
        let items = list_of(this).borrow().clone();
        let start = r.get(1).and_then(to_int).unwrap_or(0).max(0) as usize;
        let end = r
            .get(2)
            .and_then(to_int)
            .map(|e| e.max(0) as usize)
            .unwrap_or(items.len())
            .min(items.len());
        let sub = if start < end {
            &items[start..end]
        } else {
            &[][..]
        };
        Ok(Value::Int(
            (it.index_of(sub, &r[0], "list")? + start) as i64,
        ))
    });
    reg(&li, "list", "count", 1, 1, |it, this, r, _| {
        let items = list_of(this).borrow().clone();
        it.count_of(&items, &r[0])
    });
    li.set(
        "sort",
        NativeFunction::value("sort", |it, a| {
            if a.pos.len() != 1 {
                return Err(Exception::type_error(
                    "sort() takes no positional arguments",
                ));
            }
            let l = list_of(&a.pos[0]);
            let mut items = l.borrow().clone();
            let rev = match kwv(&a, "reverse") {
                Some(v) => it.truthy(v)?,
                None => false,
            };
            for (k, _) in &a.kw {
                if &**k != "key" && &**k != "reverse" {
                    return Err(Exception::type_error(format!(
                        "sort() got an unexpected keyword argument '{k}'"
                    )));
                }
            }
            it.sort_values(&mut items, kwv(&a, "key"), rev)?;
            *l.borrow_mut() = items;
            Ok(Value::None)
        }),
    );
    reg(&li, "list", "reverse", 0, 0, |_, this, _, _| {
        list_of(this).borrow_mut().reverse();
        Ok(Value::None)
    });
    reg(&li, "list", "copy", 0, 0, |_, this, _, _| {
        Ok(Value::list(list_of(this).borrow().clone()))
    });
    reg(&li, "list", "clear", 0, 0, |_, this, _, _| {
        list_of(this).borrow_mut().clear();
        Ok(Value::None)
    });

    let tu = t.tuple.clone();
    reg(&tu, "tuple", "index", 1, 1, |it, this, r, _| {
        let items = match this {
            Value::Tuple(t) => t.to_vec(),
            _ => vec![],
        };
        Ok(Value::Int(it.index_of(&items, &r[0], "tuple")? as i64))
    });
    reg(&tu, "tuple", "count", 1, 1, |it, this, r, _| {
        let items = match this {
            Value::Tuple(t) => t.to_vec(),
            _ => vec![],
        };
        it.count_of(&items, &r[0])
    });

    let di = t.dict.clone();
    reg(&di, "dict", "keys", 0, 0, |it, this, _, _| {
        Ok(it.dict_view(this, "dict_keys"))
    });
    reg(&di, "dict", "values", 0, 0, |it, this, _, _| {
        Ok(it.dict_view(this, "dict_values"))
    });
    reg(&di, "dict", "items", 0, 0, |it, this, _, _| {
        Ok(it.dict_view(this, "dict_items"))
    });
    reg(&di, "dict", "get", 1, 2, |_, this, r, _| {
        Ok(dict_of(this)
            .borrow()
            .get(&r[0])?
            .unwrap_or_else(|| r.get(1).cloned().unwrap_or(Value::None)))
    });
    reg(&di, "dict", "pop", 1, 2, |_, this, r, _| {
        let d = dict_of(this);
        let v = d.borrow_mut().remove(&r[0])?;
        match (v, r.get(1)) {
            (Some(v), _) => Ok(v),
            (None, Some(default)) => Ok(default.clone()),
            (None, None) => Err(Exception::with_args("KeyError", vec![r[0].clone()])),
        }
    });
    reg(&di, "dict", "popitem", 0, 0, |_, this, _, _| {
        let d = dict_of(this);
        let item = d.borrow_mut().pop_last();
        match item {
            Some((k, v)) => Ok(Value::tuple(vec![k, v])),
            None => Err(Exception::new("KeyError", "popitem(): dictionary is empty")),
        }
    });
    reg(&di, "dict", "setdefault", 1, 2, |_, this, r, _| {
        let d = dict_of(this);
        let cur = d.borrow().get(&r[0])?;
        match cur {
            Some(v) => Ok(v),
            None => {
                let v = r.get(1).cloned().unwrap_or(Value::None);
                d.borrow_mut().insert(r[0].clone(), v.clone())?;
                Ok(v)
            }
        }
    });
    di.set(
        "update",
        NativeFunction::value("update", |it, a| {
            let Some(this) = a.pos.first() else {
                return Ok(Value::None);
            };
            if a.pos.len() > 2 {
                return Err(Exception::type_error(format!(
                    "update expected at most 1 argument, got {}",
                    a.pos.len() - 1
                )));
            }
            let src = it.dict_from(a.pos.get(1), &a.kw)?;
            let d = dict_of(this);
            for (k, v) in src.items() {
                d.borrow_mut().insert(k, v)?;
            }
            Ok(Value::None)
        }),
    );
    reg(&di, "dict", "copy", 0, 0, |_, this, _, _| {
        Ok(Value::dict(dict_of(this).borrow().clone()))
    });
    reg(&di, "dict", "clear", 0, 0, |_, this, _, _| {
        dict_of(this).borrow_mut().clear();
        Ok(Value::None)
    });
    di.set(
        "fromkeys",
        Value::Descriptor(Rc::new((
            DescKind::Static,
            NativeFunction::value("fromkeys", |it, a| {
                let p = a.positional("fromkeys", 1, 2)?;
                let mut d = Dict::new();
                for k in it.collect(&p[0])? {
                    d.insert(k, p.get(1).cloned().unwrap_or(Value::None))?;
                }
                Ok(Value::dict(d))
            }),
        ))),
    );

    let se = t.set.clone();
    reg(&se, "set", "add", 1, 1, |_, this, r, _| {
        dict_of(this)
            .borrow_mut()
            .insert(r[0].clone(), Value::None)?;
        Ok(Value::None)
    });
    reg(&se, "set", "remove", 1, 1, |_, this, r, _| {
        match dict_of(this).borrow_mut().remove(&r[0])? {
            Some(_) => Ok(Value::None),
            None => Err(Exception::with_args("KeyError", vec![r[0].clone()])),
        }
    });
    reg(&se, "set", "discard", 1, 1, |_, this, r, _| {
        dict_of(this).borrow_mut().remove(&r[0])?;
        Ok(Value::None)
    });
    reg(&se, "set", "pop", 0, 0, |_, this, _, _| {
        let d = dict_of(this);
        let first = d.borrow().set_order().into_iter().next();
        match first {
            Some(k) => {
                d.borrow_mut().remove(&k)?;
                Ok(k)
            }
            None => Err(Exception::new("KeyError", "pop from an empty set")),
        }
    });
    reg(&se, "set", "clear", 0, 0, |_, this, _, _| {
        dict_of(this).borrow_mut().clear();
        Ok(Value::None)
    });
    reg(&se, "set", "copy", 0, 0, |it, this, _, _| {
        it.set_from(Some(this))
    });
    reg(&se, "set", "update", 0, 8, |it, this, r, _| {
        let d = dict_of(this);
        for src in r {
            for v in it.collect(src)? {
                d.borrow_mut().insert(v, Value::None)?;
            }
        }
        Ok(Value::None)
    });
    reg(&se, "set", "union", 0, 8, |it, this, r, _| {
        let mut d = dict_of(this).borrow().clone();
        for src in r {
            for v in it.collect(src)? {
                d.insert(v, Value::None)?;
            }
        }
        Ok(set_value(d))
    });
    reg(&se, "set", "intersection", 0, 8, |it, this, r, _| {
        let mut d = dict_of(this).borrow().clone();
        for src in r {
            let other = it.set_from(Some(src))?;
            let o = dict_of(&other);
            let mut keep = Dict::new();
            for k in d.keys() {
                if o.borrow().contains(&k)? {
                    keep.insert(k, Value::None)?;
                }
            }
            d = keep;
        }
        Ok(set_value(d))
    });
    reg(&se, "set", "difference", 0, 8, |it, this, r, _| {
        let mut d = dict_of(this).borrow().clone();
        for src in r {
            for v in it.collect(src)? {
                d.remove(&v)?;
            }
        }
        Ok(set_value(d))
    });
    reg(
        &se,
        "set",
        "symmetric_difference",
        1,
        1,
        |it, this, r, _| {
            let other = it.set_from(Some(&r[0]))?;
            it.binary(super::ast::BinOp::BitXor, this.clone(), other)
        },
    );
    reg(&se, "set", "issubset", 1, 1, |it, this, r, _| {
        let other = it.set_from(Some(&r[0]))?;
        it.compare(super::ast::CmpOp::Le, this, &other)
    });
    reg(&se, "set", "issuperset", 1, 1, |it, this, r, _| {
        let other = it.set_from(Some(&r[0]))?;
        it.compare(super::ast::CmpOp::Ge, this, &other)
    });
    reg(&se, "set", "isdisjoint", 1, 1, |it, this, r, _| {
        let d = dict_of(this);
        for v in it.collect(&r[0])? {
            if d.borrow().contains(&v)? {
                return Ok(Value::Bool(false));
            }
        }
        Ok(Value::Bool(true))
    });

    let fl = t.float.clone();
    reg(&fl, "float", "is_integer", 0, 0, |_, this, _, _| {
        Ok(Value::Bool(
            matches!(this, Value::Float(f) if f.fract() == 0.0 && f.is_finite()),
        ))
    });
    let int = t.int.clone();
    reg(&int, "int", "bit_length", 0, 0, |_, this, _, _| {
        let n = to_int(this).unwrap_or(0);
        Ok(Value::Int(64 - n.unsigned_abs().leading_zeros() as i64))
    });
    let _ = py_str_repr;
}
