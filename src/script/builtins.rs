//! Builtin types, the exception hierarchy and builtin functions.

use super::interp::{Interpreter, Types, R};
use super::value::*;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

fn builtin_class(name: &str, bases: Vec<Rc<Class>>) -> Rc<Class> {
    Rc::new(Class::new(name, "builtins", bases))
}

pub(crate) fn make_types() -> Types {
    let object = builtin_class("object", vec![]);
    let o = || vec![object.clone()];
    let int = builtin_class("int", o());
    Types {
        type_: builtin_class("type", o()),
        none: builtin_class("NoneType", o()),
        bool_: builtin_class("bool", vec![int.clone()]),
        float: builtin_class("float", o()),
        str_: builtin_class("str", o()),
        bytes: builtin_class("bytes", o()),
        list: builtin_class("list", o()),
        tuple: builtin_class("tuple", o()),
        dict: builtin_class("dict", o()),
        set: builtin_class("set", o()),
        range: builtin_class("range", o()),
        slice: builtin_class("slice", o()),
        function: builtin_class("function", o()),
        builtin_fn: builtin_class("builtin_function_or_method", o()),
        method: builtin_class("method", o()),
        module: builtin_class("module", o()),
        iterator: builtin_class("iterator", o()),
        list_iterator: builtin_class("list_iterator", o()),
        range_iterator: builtin_class("range_iterator", o()),
        generator: builtin_class("generator", o()),
        ellipsis: builtin_class("ellipsis", o()),
        not_impl: builtin_class("NotImplementedType", o()),
        staticmethod: builtin_class("staticmethod", o()),
        classmethod: builtin_class("classmethod", o()),
        property: builtin_class("property", o()),
        int,
        object,
    }
}

/// (name, parent) in definition order, so parents exist first.
const EXCEPTIONS: &[(&str, &str)] = &[
    ("BaseException", ""),
    ("SystemExit", "BaseException"),
    ("KeyboardInterrupt", "BaseException"),
    ("GeneratorExit", "BaseException"),
    ("Exception", "BaseException"),
    ("StopIteration", "Exception"),
    ("ArithmeticError", "Exception"),
    ("ZeroDivisionError", "ArithmeticError"),
    ("OverflowError", "ArithmeticError"),
    ("FloatingPointError", "ArithmeticError"),
    ("AssertionError", "Exception"),
    ("AttributeError", "Exception"),
    ("BufferError", "Exception"),
    ("EOFError", "Exception"),
    ("ImportError", "Exception"),
    ("ModuleNotFoundError", "ImportError"),
    ("LookupError", "Exception"),
    ("IndexError", "LookupError"),
    ("KeyError", "LookupError"),
    ("MemoryError", "Exception"),
    ("NameError", "Exception"),
    ("UnboundLocalError", "NameError"),
    ("OSError", "Exception"),
    ("FileNotFoundError", "OSError"),
    ("FileExistsError", "OSError"),
    ("PermissionError", "OSError"),
    ("IsADirectoryError", "OSError"),
    ("NotADirectoryError", "OSError"),
    ("TimeoutError", "OSError"),
    ("ConnectionError", "OSError"),
    ("ReferenceError", "Exception"),
    ("RuntimeError", "Exception"),
    ("NotImplementedError", "RuntimeError"),
    ("RecursionError", "RuntimeError"),
    ("SyntaxError", "Exception"),
    ("IndentationError", "SyntaxError"),
    ("SystemError", "Exception"),
    ("TypeError", "Exception"),
    ("ValueError", "Exception"),
    ("UnicodeError", "ValueError"),
    ("UnicodeDecodeError", "UnicodeError"),
    ("UnicodeEncodeError", "UnicodeError"),
    ("Warning", "Exception"),
    ("UserWarning", "Warning"),
    ("DeprecationWarning", "Warning"),
    ("RuntimeWarning", "Warning"),
];

pub(crate) fn exception_classes(object: &Rc<Class>) -> HashMap<&'static str, Rc<Class>> {
    let mut map: HashMap<&'static str, Rc<Class>> = HashMap::new();
    for (name, parent) in EXCEPTIONS {
        let base = if parent.is_empty() {
            object.clone()
        } else {
            map[parent].clone()
        };
        map.insert(name, builtin_class(name, vec![base]));
    }
    let base = &map["BaseException"];
    base.set(
        "__init__",
        NativeFunction::value("BaseException.__init__", |_, a| {
            if let Some(Value::Instance(i)) = a.pos.first() {
                i.set("args", Value::tuple(a.pos[1..].to_vec()));
            }
            Ok(Value::None)
        }),
    );
    base.set(
        "__str__",
        NativeFunction::value("BaseException.__str__", |it, a| {
            let args = exc_args(&a);
            Ok(Value::Str(
                match args.as_slice() {
                    [] => String::new(),
                    [one] => it.str(one)?,
                    _ => it.repr(&Value::tuple(args))?,
                }
                .into(),
            ))
        }),
    );
    base.set(
        "__repr__",
        NativeFunction::value("BaseException.__repr__", |it, a| {
            let args = exc_args(&a);
            let name = match a.pos.first() {
                Some(Value::Instance(i)) => i.class.name.clone(),
                _ => "BaseException".into(),
            };
            let inner = match args.len() {
                1 => it.repr(&args[0])?,
                _ => {
                    let r = it.repr(&Value::tuple(args))?;
                    r[1..r.len() - 1].to_string()
                }
            };
            Ok(Value::Str(format!("{name}({inner})").into()))
        }),
    );
    map["KeyError"].set(
        "__str__",
        NativeFunction::value("KeyError.__str__", |it, a| {
            let args = exc_args(&a);
            Ok(Value::Str(
                match args.as_slice() {
                    [] => String::new(),
                    [one] => it.repr(one)?,
                    _ => it.repr(&Value::tuple(args))?,
                }
                .into(),
            ))
        }),
    );
    map
}

fn exc_args(a: &Args) -> Vec<Value> {
    match a.pos.first() {
        Some(Value::Instance(i)) => match i.get("args") {
            Some(Value::Tuple(t)) => t.to_vec(),
            _ => vec![],
        },
        _ => vec![],
    }
}

fn f(name: &str, func: impl Fn(&mut Interpreter, Args) -> R<Value> + 'static) -> Value {
    NativeFunction::value(name, func)
}

pub fn to_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(*b as i64),
        _ => None,
    }
}

fn int_arg(v: &Value, what: &str) -> R<i64> {
    to_int(v).ok_or_else(|| {
        Exception::type_error(format!(
            "'{}' object cannot be interpreted as an integer{what}",
            v.type_name()
        ))
    })
}

fn kw<'a>(a: &'a Args, name: &str) -> Option<&'a Value> {
    a.kw.iter().find(|(k, _)| &**k == name).map(|(_, v)| v)
}

fn only_kw(a: &Args, fname: &str, allowed: &[&str]) -> R<()> {
    for (k, _) in &a.kw {
        if !allowed.contains(&&**k) {
            return Err(Exception::type_error(format!(
                "{fname}() got an unexpected keyword argument '{k}'"
            )));
        }
    }
    Ok(())
}

pub fn parse_int(s: &str, base: u32) -> Option<i64> {
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (base, t) = if base == 16 || base == 0 {
        match t.get(..2).map(|p| p.to_ascii_lowercase()) {
            Some(p) if p == "0x" => (16, &t[2..]),
            Some(p) if p == "0o" && base == 0 => (8, &t[2..]),
            Some(p) if p == "0b" && base == 0 => (2, &t[2..]),
            _ => (if base == 0 { 10 } else { base }, t),
        }
    } else {
        (base, t)
    };
    if t.is_empty()
        || t.starts_with('_')
        || t.ends_with('_')
        || t.contains("__")
        || t.starts_with(['+', '-'])
    {
        return None;
    }
    let digits: String = t.chars().filter(|c| *c != '_').collect();
    let v = i64::from_str_radix(&digits, base).ok()?;
    Some(if neg { -v } else { v })
}

pub fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.replace('_', "");
    match t.trim_start_matches(['+', '-']) {
        "inf" | "infinity" => {
            return Some(if t.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        "nan" => return Some(f64::NAN),
        "" => return None,
        _ => {}
    }
    if !t.chars().all(|c| c.is_ascii_digit() || ".eE+-".contains(c)) {
        return None;
    }
    t.parse::<f64>().ok()
}

impl Interpreter {
    /// Sorts values in place with an optional key function, stably, using `<`.
    pub fn sort_values(
        &mut self,
        items: &mut Vec<Value>,
        key: Option<&Value>,
        reverse: bool,
    ) -> R<()> {
        let keys: Vec<Value> = match key {
            Some(k) if !k.is_none() => {
                let mut ks = Vec::with_capacity(items.len());
                for i in items.iter() {
                    ks.push(self.call(k, Args::new(vec![i.clone()]))?);
                }
                ks
            }
            _ => items.clone(),
        };
        let mut idx: Vec<usize> = (0..items.len()).collect();
        let mut err: Option<Exception> = None;
        idx.sort_by(|&a, &b| {
            if err.is_some() {
                return std::cmp::Ordering::Equal;
            }
            let (x, y) = if reverse {
                (&keys[b], &keys[a])
            } else {
                (&keys[a], &keys[b])
            };
            match self.less(x, y) {
                Ok(true) => std::cmp::Ordering::Less,
                Ok(false) => match self.less(y, x) {
                    Ok(true) => std::cmp::Ordering::Greater,
                    Ok(false) => std::cmp::Ordering::Equal,
                    Err(e) => {
                        err = Some(e);
                        std::cmp::Ordering::Equal
                    }
                },
                Err(e) => {
                    err = Some(e);
                    std::cmp::Ordering::Equal
                }
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        let sorted: Vec<Value> = idx.into_iter().map(|i| items[i].clone()).collect();
        *items = sorted;
        Ok(())
    }

    pub fn less(&mut self, a: &Value, b: &Value) -> R<bool> {
        if let (Value::Int(x), Value::Int(y)) = (a, b) {
            return Ok(x < y);
        }
        if let (Value::Str(x), Value::Str(y)) = (a, b) {
            return Ok(x < y);
        }
        let r = self.compare(super::ast::CmpOp::Lt, a, b)?;
        self.truthy(&r)
    }

    fn min_max(&mut self, a: Args, is_max: bool) -> R<Value> {
        let name = if is_max { "max" } else { "min" };
        only_kw(&a, name, &["key", "default"])?;
        let key = kw(&a, "key").cloned().filter(|k| !k.is_none());
        let items = match a.pos.len() {
            0 => {
                return Err(Exception::type_error(format!(
                    "{name} expected at least 1 argument, got 0"
                )))
            }
            1 => self.collect(&a.pos[0])?,
            _ => a.pos.clone(),
        };
        if items.is_empty() {
            if let Some(d) = kw(&a, "default") {
                return Ok(d.clone());
            }
            return Err(Exception::value_error(format!(
                "{name}() arg is an empty sequence"
            )));
        }
        let mut best = items[0].clone();
        let mut best_key = match &key {
            Some(k) => self.call(k, Args::new(vec![best.clone()]))?,
            None => best.clone(),
        };
        for v in items.into_iter().skip(1) {
            let k = match &key {
                Some(kf) => self.call(kf, Args::new(vec![v.clone()]))?,
                None => v.clone(),
            };
            let better = if is_max {
                self.less(&best_key, &k)?
            } else {
                self.less(&k, &best_key)?
            };
            if better {
                best = v;
                best_key = k;
            }
        }
        Ok(best)
    }

    fn isinstance(&self, v: &Value, cls: &Value) -> R<bool> {
        match cls {
            Value::Class(c) => Ok(self.type_of(v).is_subclass(c)),
            Value::Tuple(t) => {
                for c in t.iter() {
                    if self.isinstance(v, c)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            _ => Err(Exception::type_error(
                "isinstance() arg 2 must be a type, a tuple of types, or a union",
            )),
        }
    }

    pub fn has_attr(&mut self, v: &Value, name: &str) -> R<bool> {
        match self.get_attr(v, name) {
            Ok(_) => Ok(true),
            Err(mut e) => {
                let inst = self.materialize(&mut e);
                if inst.class.is_subclass(&self.exc_class("AttributeError")) {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    pub(crate) fn dict_from(
        &mut self,
        src: Option<&Value>,
        kwargs: &[(Rc<str>, Value)],
    ) -> R<Dict> {
        let mut d = Dict::new();
        if let Some(src) = src {
            match src {
                Value::Dict(s) => d = s.borrow().clone(),
                _ => {
                    if let Some(keys) = self.get_special(src, "keys") {
                        let ks = self.call(&keys, Args::default())?;
                        for k in self.collect(&ks)? {
                            let v = self.get_item(src, &k)?;
                            d.insert(k, v)?;
                        }
                    } else {
                        for (n, item) in self.collect(src)?.into_iter().enumerate() {
                            let pair = self.collect(&item).map_err(|_| {
                                Exception::type_error(format!(
                                    "cannot convert dictionary update sequence element #{n} to a sequence"
                                ))
                            })?;
                            if pair.len() != 2 {
                                return Err(Exception::value_error(format!(
                                    "dictionary update sequence element #{n} has length {}; 2 is required",
                                    pair.len()
                                )));
                            }
                            let mut p = pair.into_iter();
                            let (k, v) = (
                                p.next().unwrap_or(Value::None),
                                p.next().unwrap_or(Value::None),
                            );
                            d.insert(k, v)?;
                        }
                    }
                }
            }
        }
        for (k, v) in kwargs {
            d.insert(Value::Str(k.clone()), v.clone())?;
        }
        Ok(d)
    }

    pub(crate) fn set_from(&mut self, src: Option<&Value>) -> R<Value> {
        let mut d = Dict::new();
        if let Some(s) = src {
            for v in self.collect(s)? {
                d.insert(v, Value::None)?;
            }
            if matches!(s, Value::Set(_)) {
                // CPython copies a set through set_merge, like a constant display
                d.literal_prefix = d.len();
            }
        }
        Ok(Value::Set(Rc::new(RefCell::new(d))))
    }
}

fn iter_value(items: Vec<Value>) -> Value {
    Value::Iter(Rc::new(RefCell::new(Iter::Seq(items, 0))))
}

/// `super()` proxy: attribute lookups start after the current class in the MRO.
pub(crate) fn make_super(rest: Vec<Rc<Class>>, obj: Value) -> Value {
    thread_local! {
        static SUPER: Rc<Class> = {
            let c = Rc::new(Class::new("super", "builtins", vec![]));
            c.set("__getattr__", NativeFunction::value("super.__getattr__", |it, a| {
                let (Some(Value::Instance(me)), Some(Value::Str(name))) = (a.pos.first(), a.pos.get(1)) else {
                    return Err(Exception::type_error("bad super() call"));
                };
                let Some(state) = me.native::<(Vec<Rc<Class>>, Value)>() else {
                    return Err(Exception::type_error("bad super() call"));
                };
                for c in &state.0 {
                    if let Some(v) = c.attrs.borrow().get(&**name).cloned() {
                        if &**name == "__new__" {
                            // an implicit static method
                            return Ok(v);
                        }
                        return Ok(match v {
                            Value::Function(_) | Value::Native(_) => Value::Bound(Rc::new((state.1.clone(), v))),
                            Value::Descriptor(d) if d.0 == DescKind::ClassMethod => {
                                let cls = match &state.1 {
                                    Value::Class(c) => c.clone(),
                                    other => it.type_of(other),
                                };
                                Value::Bound(Rc::new((Value::Class(cls), d.1.clone())))
                            }
                            Value::Descriptor(d) if d.0 == DescKind::Static => d.1.clone(),
                            Value::Descriptor(d) if d.0 == DescKind::Property => {
                                let g = property_parts(&d.1).0;
                                it.call(&g, Args::new(vec![state.1.clone()]))?
                            }
                            other => other,
                        });
                    }
                }
                // object's own __new__ and __init_subclass__
                match (&**name, &state.1) {
                    ("__new__", _) => Ok(NativeFunction::value("object.__new__", |_, a| match a.pos.first() {
                        Some(Value::Class(c)) => Ok(Value::Instance(Instance::new(c.clone()))),
                        _ => Err(Exception::type_error("object.__new__(X): X is not a type object")),
                    })),
                    ("__call__", Value::Class(c)) => {
                        // type.__call__: make the instance the usual way
                        let c = c.clone();
                        Ok(NativeFunction::value("type.__call__", move |it, a| it.instantiate(&c, a)))
                    }
                    ("__init_subclass__", Value::Class(c)) => {
                        let cname = c.name.clone();
                        Ok(NativeFunction::value("object.__init_subclass__", move |_, a| {
                            if a.kw.is_empty() && a.pos.is_empty() {
                                Ok(Value::None)
                            } else {
                                Err(Exception::type_error(format!("{cname}.__init_subclass__() takes no keyword arguments")))
                            }
                        }))
                    }
                    _ => Err(Exception::new("AttributeError", format!("'super' object has no attribute '{name}'"))),
                }
            }));
            c
        };
    }
    let cls = SUPER.with(|c| c.clone());
    let inst = Instance::new(cls);
    inst.set_native((rest, obj));
    Value::Instance(inst)
}

pub(crate) fn install(it: &mut Interpreter) {
    let t = &it.types;
    let mut b: Vec<(&str, Value)> = vec![
        ("object", Value::Class(t.object.clone())),
        ("type", Value::Class(t.type_.clone())),
        ("int", Value::Class(t.int.clone())),
        ("float", Value::Class(t.float.clone())),
        ("bool", Value::Class(t.bool_.clone())),
        ("str", Value::Class(t.str_.clone())),
        ("bytes", Value::Class(t.bytes.clone())),
        ("list", Value::Class(t.list.clone())),
        ("tuple", Value::Class(t.tuple.clone())),
        ("dict", Value::Class(t.dict.clone())),
        ("set", Value::Class(t.set.clone())),
        ("frozenset", Value::Class(t.set.clone())),
        ("range", Value::Class(t.range.clone())),
        ("slice", Value::Class(t.slice.clone())),
        ("staticmethod", Value::Class(t.staticmethod.clone())),
        ("classmethod", Value::Class(t.classmethod.clone())),
        ("property", Value::Class(t.property.clone())),
        ("NotImplemented", Value::NotImplemented),
        ("Ellipsis", Value::Ellipsis),
    ];
    for (name, c) in &it.exc_classes {
        b.push((name, Value::Class(c.clone())));
    }
    b.push(("IOError", Value::Class(it.exc_classes["OSError"].clone())));
    b.push((
        "EnvironmentError",
        Value::Class(it.exc_classes["OSError"].clone()),
    ));
    for (n, v) in b {
        it.builtins.insert(n.into(), v);
    }
    constructors(it);
    super::methods::install(it);
    let fns: Vec<(&str, Value)> = vec![
        (
            "print",
            f("print", |it, a| {
                only_kw(&a, "print", &["sep", "end", "file", "flush"])?;
                let sep = match kw(&a, "sep") {
                    Some(Value::Str(s)) => s.to_string(),
                    Some(Value::None) | None => " ".into(),
                    Some(o) => {
                        return Err(Exception::type_error(format!(
                            "sep must be None or a string, not {}",
                            o.type_name()
                        )))
                    }
                };
                let end = match kw(&a, "end") {
                    Some(Value::Str(s)) => s.to_string(),
                    Some(Value::None) | None => "\n".into(),
                    Some(o) => {
                        return Err(Exception::type_error(format!(
                            "end must be None or a string, not {}",
                            o.type_name()
                        )))
                    }
                };
                let mut out = String::new();
                for (i, v) in a.pos.iter().enumerate() {
                    if i > 0 {
                        out.push_str(&sep);
                    }
                    out.push_str(&it.str(v)?);
                }
                out.push_str(&end);
                match kw(&a, "file") {
                    Some(Value::None) | None => super::output::write(&out),
                    Some(file) => {
                        let w = it.get_attr(file, "write")?;
                        it.call(&w, Args::new(vec![Value::Str(out.into())]))?;
                    }
                }
                Ok(Value::None)
            }),
        ),
        (
            "repr",
            f("repr", |it, a| {
                let p = a.positional("repr", 1, 1)?;
                Ok(Value::Str(it.repr(&p[0])?.into()))
            }),
        ),
        (
            "ascii",
            f("ascii", |it, a| {
                let p = a.positional("ascii", 1, 1)?;
                let r = it.repr(&p[0])?;
                let mut out = String::new();
                for c in r.chars() {
                    let n = c as u32;
                    if n < 0x80 {
                        out.push(c)
                    } else if n <= 0xff {
                        out.push_str(&format!("\\x{n:02x}"))
                    } else if n <= 0xffff {
                        out.push_str(&format!("\\u{n:04x}"))
                    } else {
                        out.push_str(&format!("\\U{n:08x}"))
                    }
                }
                Ok(Value::Str(out.into()))
            }),
        ),
        (
            "len",
            f("len", |it, a| {
                let p = a.positional("len", 1, 1)?;
                let v = &p[0];
                let n = match v {
                    Value::Str(s) => {
                        if s.is_ascii() {
                            s.len()
                        } else {
                            s.chars().count()
                        }
                    }
                    Value::Bytes(b) => b.len(),
                    Value::List(l) => l.borrow().len(),
                    Value::Tuple(t) => t.len(),
                    Value::Dict(d) | Value::Set(d) => d.borrow().len(),
                    Value::Range(x, y, s) => range_len(*x, *y, *s) as usize,
                    _ => {
                        if let Some(m) = it.get_special(v, "__len__") {
                            let r = it.call(&m, Args::default())?;
                            return match r {
                                Value::Int(n) if n >= 0 => Ok(Value::Int(n)),
                                Value::Int(_) => {
                                    Err(Exception::value_error("__len__() should return >= 0"))
                                }
                                other => Err(Exception::type_error(format!(
                                    "'{}' object cannot be interpreted as an integer",
                                    other.type_name()
                                ))),
                            };
                        }
                        return Err(Exception::type_error(format!(
                            "object of type '{}' has no len()",
                            v.type_name()
                        )));
                    }
                };
                Ok(Value::Int(n as i64))
            }),
        ),
        (
            "sorted",
            f("sorted", |it, a| {
                only_kw(&a, "sorted", &["key", "reverse"])?;
                if a.pos.len() != 1 {
                    return Err(Exception::type_error(format!(
                        "sorted expected 1 argument, got {}",
                        a.pos.len()
                    )));
                }
                let mut items = it.collect(&a.pos[0])?;
                let rev = match kw(&a, "reverse") {
                    Some(v) => it.truthy(v)?,
                    None => false,
                };
                it.sort_values(&mut items, kw(&a, "key"), rev)?;
                Ok(Value::list(items))
            }),
        ),
        (
            "reversed",
            f("reversed", |it, a| {
                let p = a.positional("reversed", 1, 1)?;
                if let Some(m) = it.get_special(&p[0], "__reversed__") {
                    return it.call(&m, Args::default());
                }
                if matches!(p[0], Value::Dict(_) | Value::Set(_) | Value::Iter(_))
                    && !matches!(p[0], Value::Dict(_))
                {
                    return Err(Exception::type_error(format!(
                        "'{}' object is not reversible",
                        p[0].type_name()
                    )));
                }
                let mut items = it.collect(&p[0])?;
                items.reverse();
                Ok(iter_value(items))
            }),
        ),
        (
            "enumerate",
            f("enumerate", |it, a| {
                let start = match kw(&a, "start").or(a.pos.get(1)) {
                    Some(v) => int_arg(v, "")?,
                    None => 0,
                };
                let Some(src) = a.pos.first() else {
                    return Err(Exception::type_error(
                        "enumerate() missing required argument 'iterable' (pos 1)",
                    ));
                };
                let items = it.collect(src)?;
                Ok(iter_value(
                    items
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| Value::tuple(vec![Value::Int(start + i as i64), v]))
                        .collect(),
                ))
            }),
        ),
        (
            "zip",
            f("zip", |it, a| {
                only_kw(&a, "zip", &["strict"])?;
                let mut cols = Vec::new();
                for p in &a.pos {
                    cols.push(it.collect(p).map_err(|_| {
                        Exception::type_error(format!("'{}' object is not iterable", p.type_name()))
                    })?);
                }
                let n = cols.iter().map(|c| c.len()).min().unwrap_or(0);
                Ok(iter_value(
                    (0..n)
                        .map(|i| Value::tuple(cols.iter().map(|c| c[i].clone()).collect()))
                        .collect(),
                ))
            }),
        ),
        ("min", f("min", |it, a| it.min_max(a, false))),
        ("max", f("max", |it, a| it.min_max(a, true))),
        (
            "sum",
            f("sum", |it, a| {
                only_kw(&a, "sum", &["start"])?;
                if a.pos.is_empty() || a.pos.len() > 2 {
                    return Err(Exception::type_error(format!(
                        "sum() takes at most 2 arguments ({} given)",
                        a.pos.len()
                    )));
                }
                let mut acc = kw(&a, "start")
                    .or(a.pos.get(1))
                    .cloned()
                    .unwrap_or(Value::Int(0));
                if let Value::Str(_) = acc {
                    return Err(Exception::type_error(
                        "sum() can't sum strings [use ''.join(seq) instead]",
                    ));
                }
                for v in it.collect(&a.pos[0])? {
                    acc = it.binary(super::ast::BinOp::Add, acc, v)?;
                }
                Ok(acc)
            }),
        ),
        (
            "any",
            f("any", |it, a| {
                let p = a.positional("any", 1, 1)?;
                let iter = it.get_iter(&p[0])?;
                while let Some(v) = it.next(&iter)? {
                    if it.truthy(&v)? {
                        return Ok(Value::Bool(true));
                    }
                }
                Ok(Value::Bool(false))
            }),
        ),
        (
            "all",
            f("all", |it, a| {
                let p = a.positional("all", 1, 1)?;
                let iter = it.get_iter(&p[0])?;
                while let Some(v) = it.next(&iter)? {
                    if !it.truthy(&v)? {
                        return Ok(Value::Bool(false));
                    }
                }
                Ok(Value::Bool(true))
            }),
        ),
        (
            "abs",
            f("abs", |it, a| {
                let p = a.positional("abs", 1, 1)?;
                match &p[0] {
                    Value::Int(i) => {
                        Ok(Value::Int(i.checked_abs().ok_or_else(|| {
                            Exception::new("OverflowError", "integer overflow")
                        })?))
                    }
                    Value::Bool(b) => Ok(Value::Int(*b as i64)),
                    Value::Float(x) => Ok(Value::Float(x.abs())),
                    v => match it.get_special(v, "__abs__") {
                        Some(m) => it.call(&m, Args::default()),
                        None => Err(Exception::type_error(format!(
                            "bad operand type for abs(): '{}'",
                            v.type_name()
                        ))),
                    },
                }
            }),
        ),
        (
            "round",
            f("round", |it, a| {
                let p = a.bind("round", &["number", "ndigits"], 1)?;
                let x = p[0].clone().unwrap_or(Value::None);
                let nd = p[1].clone().filter(|v| !v.is_none());
                match (&x, nd) {
                    (Value::Int(_) | Value::Bool(_), None) => {
                        Ok(Value::Int(to_int(&x).unwrap_or(0)))
                    }
                    (Value::Int(i), Some(n)) => {
                        let n = int_arg(&n, "")?;
                        if n >= 0 {
                            return Ok(Value::Int(*i));
                        }
                        let Some(m) = 10i128.checked_pow(n.unsigned_abs().min(38) as u32) else {
                            return Ok(Value::Int(0));
                        };
                        let i = *i as i128;
                        let q = i.div_euclid(m);
                        let r = i - q * m;
                        let q = if r * 2 > m || (r * 2 == m && q % 2 != 0) {
                            q + 1
                        } else {
                            q
                        };
                        i64::try_from(q * m)
                            .map(Value::Int)
                            .map_err(|_| Exception::new("OverflowError", "integer overflow"))
                    }
                    (Value::Float(f), None) => {
                        if !f.is_finite() {
                            return Err(Exception::new(
                                if f.is_nan() {
                                    "ValueError"
                                } else {
                                    "OverflowError"
                                },
                                if f.is_nan() {
                                    "cannot convert float NaN to integer"
                                } else {
                                    "cannot convert float infinity to integer"
                                },
                            ));
                        }
                        let r = f.round();
                        let r = if (f - f.trunc()).abs() == 0.5 {
                            2.0 * (f / 2.0).round()
                        } else {
                            r
                        };
                        Ok(Value::Int(r as i64))
                    }
                    (Value::Float(f), Some(n)) => {
                        let n = int_arg(&n, "")?;
                        if n >= 0 {
                            let s = format!("{:.*}", n.min(300) as usize, f);
                            Ok(Value::Float(s.parse().unwrap_or(*f)))
                        } else {
                            let m = 10f64.powi((-n) as i32);
                            let q = f / m;
                            let r = if (q - q.trunc()).abs() == 0.5 {
                                2.0 * (q / 2.0).round()
                            } else {
                                q.round()
                            };
                            Ok(Value::Float(r * m))
                        }
                    }
                    (v, nd) => match it.get_special(v, "__round__") {
                        Some(m) => it.call(&m, Args::new(nd.into_iter().collect())),
                        None => Err(Exception::type_error(format!(
                            "type {} doesn't define __round__ method",
                            v.type_name()
                        ))),
                    },
                }
            }),
        ),
        (
            "divmod",
            f("divmod", |it, a| {
                let p = a.positional("divmod", 2, 2)?;
                let q = it.binary(super::ast::BinOp::FloorDiv, p[0].clone(), p[1].clone())?;
                let r = it.binary(super::ast::BinOp::Mod, p[0].clone(), p[1].clone())?;
                Ok(Value::tuple(vec![q, r]))
            }),
        ),
        (
            "pow",
            f("pow", |it, a| {
                let p = a.positional("pow", 2, 3)?;
                if p.len() == 3 {
                    let (Some(mut base), Some(mut e), Some(m)) =
                        (to_int(&p[0]), to_int(&p[1]), to_int(&p[2]))
                    else {
                        return Err(Exception::type_error(
                            "pow() 3rd argument not allowed unless all arguments are integers",
                        ));
                    };
                    if m == 0 {
                        return Err(Exception::value_error("pow() 3rd argument cannot be 0"));
                    }
                    let mut r: i128 = 1;
                    base = base.checked_rem_euclid(m).unwrap_or(0);
                    while e > 0 {
                        if e & 1 == 1 {
                            r = r * base as i128 % m as i128;
                        }
                        base = ((base as i128 * base as i128) % m as i128) as i64;
                        e >>= 1;
                    }
                    return Ok(Value::Int(r as i64));
                }
                it.binary(super::ast::BinOp::Pow, p[0].clone(), p[1].clone())
            }),
        ),
        (
            "isinstance",
            f("isinstance", |it, a| {
                let p = a.positional("isinstance", 2, 2)?;
                Ok(Value::Bool(it.isinstance(&p[0], &p[1])?))
            }),
        ),
        (
            "issubclass",
            f("issubclass", |_, a| {
                let p = a.positional("issubclass", 2, 2)?;
                let Value::Class(c) = &p[0] else {
                    return Err(Exception::type_error("issubclass() arg 1 must be a class"));
                };
                let classes: Vec<Value> = match &p[1] {
                    Value::Tuple(t) => t.to_vec(),
                    other => vec![other.clone()],
                };
                for k in classes {
                    match k {
                        Value::Class(k) if c.is_subclass(&k) => return Ok(Value::Bool(true)),
                        Value::Class(_) => {}
                        _ => return Err(Exception::type_error(
                            "issubclass() arg 2 must be a class, a tuple of classes, or a union",
                        )),
                    }
                }
                Ok(Value::Bool(false))
            }),
        ),
        (
            "hasattr",
            f("hasattr", |it, a| {
                let p = a.positional("hasattr", 2, 2)?;
                let Value::Str(n) = &p[1] else {
                    return Err(Exception::type_error(
                        "hasattr(): attribute name must be string",
                    ));
                };
                Ok(Value::Bool(it.has_attr(&p[0], n)?))
            }),
        ),
        (
            "getattr",
            f("getattr", |it, a| {
                let p = a.positional("getattr", 2, 3)?;
                let Value::Str(n) = &p[1] else {
                    return Err(Exception::type_error(
                        "getattr(): attribute name must be string",
                    ));
                };
                if p.len() == 3 {
                    if it.has_attr(&p[0], n)? {
                        return it.get_attr(&p[0], n);
                    }
                    return Ok(p[2].clone());
                }
                it.get_attr(&p[0], n)
            }),
        ),
        (
            "setattr",
            f("setattr", |it, a| {
                let p = a.positional("setattr", 3, 3)?;
                let Value::Str(n) = &p[1] else {
                    return Err(Exception::type_error("attribute name must be string"));
                };
                it.set_attr(&p[0], n, p[2].clone())?;
                Ok(Value::None)
            }),
        ),
        (
            "delattr",
            f("delattr", |_, a| {
                let p = a.positional("delattr", 2, 2)?;
                match (&p[0], &p[1]) {
                    (Value::Instance(i), Value::Str(n)) => {
                        if i.dict.borrow_mut().remove(n).is_none() {
                            return Err(Exception::new("AttributeError", n.to_string()));
                        }
                        Ok(Value::None)
                    }
                    _ => Err(Exception::type_error(
                        "delattr() is supported on instances only",
                    )),
                }
            }),
        ),
        (
            "iter",
            f("iter", |it, a| {
                let p = a.positional("iter", 1, 1)?;
                it.get_iter(&p[0])
            }),
        ),
        (
            "next",
            f("next", |it, a| {
                let p = a.positional("next", 1, 2)?;
                if !matches!(p[0], Value::Iter(_)) && it.get_special(&p[0], "__next__").is_none() {
                    return Err(Exception::type_error(format!(
                        "'{}' object is not an iterator",
                        p[0].type_name()
                    )));
                }
                match it.next(&p[0])? {
                    Some(v) => Ok(v),
                    None => match p.get(1) {
                        Some(d) => Ok(d.clone()),
                        None => Err(Exception::with_args("StopIteration", vec![])),
                    },
                }
            }),
        ),
        (
            "map",
            f("map", |it, a| {
                if a.pos.len() < 2 {
                    return Err(Exception::type_error(
                        "map() must have at least two arguments.",
                    ));
                }
                let func = a.pos[0].clone();
                let mut cols = Vec::new();
                for p in &a.pos[1..] {
                    cols.push(it.collect(p)?);
                }
                let n = cols.iter().map(|c| c.len()).min().unwrap_or(0);
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    out.push(it.call(
                        &func,
                        Args::new(cols.iter().map(|c| c[i].clone()).collect()),
                    )?);
                }
                Ok(iter_value(out))
            }),
        ),
        (
            "filter",
            f("filter", |it, a| {
                let p = a.positional("filter", 2, 2)?;
                let mut out = Vec::new();
                for v in it.collect(&p[1])? {
                    let keep = if p[0].is_none() {
                        it.truthy(&v)?
                    } else {
                        let r = it.call(&p[0], Args::new(vec![v.clone()]))?;
                        it.truthy(&r)?
                    };
                    if keep {
                        out.push(v);
                    }
                }
                Ok(iter_value(out))
            }),
        ),
        (
            "hash",
            f("hash", |it, a| {
                let p = a.positional("hash", 1, 1)?;
                if let Some(m) = it
                    .get_special(&p[0], "__hash__")
                    .filter(|_| matches!(p[0], Value::Instance(_)))
                {
                    if !m.is_none() {
                        return it.call(&m, Args::default());
                    }
                }
                match (&p[0], p[0].hash()) {
                    (Value::Int(i), _) => Ok(Value::Int(*i)),
                    (Value::Bool(b), _) => Ok(Value::Int(*b as i64)),
                    (_, Some(h)) => Ok(Value::Int(h as i64)),
                    (v, None) => Err(Exception::type_error(format!(
                        "unhashable type: '{}'",
                        v.type_name()
                    ))),
                }
            }),
        ),
        (
            "id",
            f("id", |_, a| {
                let p = a.positional("id", 1, 1)?;
                let id = match &p[0] {
                    Value::List(l) => Rc::as_ptr(l) as *const u8 as usize,
                    Value::Dict(d) | Value::Set(d) => Rc::as_ptr(d) as *const u8 as usize,
                    Value::Instance(i) => Rc::as_ptr(i) as *const u8 as usize,
                    Value::Class(c) => Rc::as_ptr(c) as *const u8 as usize,
                    Value::Function(x) => Rc::as_ptr(x) as *const u8 as usize,
                    Value::Module(m) => Rc::as_ptr(m) as *const u8 as usize,
                    Value::Tuple(t) => Rc::as_ptr(t) as *const u8 as usize,
                    Value::Str(s) => s.as_ptr() as usize,
                    other => other.hash().unwrap_or(0) as usize,
                };
                Ok(Value::Int(id as i64))
            }),
        ),
        (
            "chr",
            f("chr", |_, a| {
                let p = a.positional("chr", 1, 1)?;
                let n = int_arg(&p[0], "")?;
                match u32::try_from(n).ok().and_then(char::from_u32) {
                    Some(c) => Ok(Value::Str(c.to_string().into())),
                    None => Err(Exception::value_error("chr() arg not in range(0x110000)")),
                }
            }),
        ),
        (
            "ord",
            f("ord", |_, a| {
                let p = a.positional("ord", 1, 1)?;
                match &p[0] {
                    Value::Str(s) if s.chars().count() == 1 => {
                        Ok(Value::Int(s.chars().next().map(|c| c as i64).unwrap_or(0)))
                    }
                    Value::Str(s) => Err(Exception::type_error(format!(
                        "ord() expected a character, but string of length {} found",
                        s.chars().count()
                    ))),
                    Value::Bytes(b) if b.len() == 1 => Ok(Value::Int(b[0] as i64)),
                    other => Err(Exception::type_error(format!(
                        "ord() expected string of length 1, but {} found",
                        other.type_name()
                    ))),
                }
            }),
        ),
        (
            "hex",
            f("hex", |_, a| {
                let p = a.positional("hex", 1, 1)?;
                let n = int_arg(&p[0], "")?;
                Ok(Value::Str(
                    if n < 0 {
                        format!("-0x{:x}", n.unsigned_abs())
                    } else {
                        format!("0x{n:x}")
                    }
                    .into(),
                ))
            }),
        ),
        (
            "oct",
            f("oct", |_, a| {
                let p = a.positional("oct", 1, 1)?;
                let n = int_arg(&p[0], "")?;
                Ok(Value::Str(
                    if n < 0 {
                        format!("-0o{:o}", n.unsigned_abs())
                    } else {
                        format!("0o{n:o}")
                    }
                    .into(),
                ))
            }),
        ),
        (
            "bin",
            f("bin", |_, a| {
                let p = a.positional("bin", 1, 1)?;
                let n = int_arg(&p[0], "")?;
                Ok(Value::Str(
                    if n < 0 {
                        format!("-0b{:b}", n.unsigned_abs())
                    } else {
                        format!("0b{n:b}")
                    }
                    .into(),
                ))
            }),
        ),
        (
            "callable",
            f("callable", |it, a| {
                let p = a.positional("callable", 1, 1)?;
                Ok(Value::Bool(match &p[0] {
                    Value::Function(_) | Value::Native(_) | Value::Bound(_) | Value::Class(_) => {
                        true
                    }
                    v @ Value::Instance(_) => it.get_special(v, "__call__").is_some(),
                    _ => false,
                }))
            }),
        ),
        (
            "format",
            f("format", |it, a| {
                let p = a.positional("format", 1, 2)?;
                let spec = match p.get(1) {
                    Some(Value::Str(s)) => s.to_string(),
                    Some(o) => {
                        return Err(Exception::type_error(format!(
                            "format() argument 2 must be str, not {}",
                            o.type_name()
                        )))
                    }
                    None => String::new(),
                };
                Ok(Value::Str(it.format_value(&p[0], &spec)?.into()))
            }),
        ),
        (
            "vars",
            f("vars", |it, a| {
                let p = a.positional("vars", 1, 1)?;
                match &p[0] {
                    Value::Instance(_) => it.get_attr(&p[0], "__dict__"),
                    Value::Module(m) => {
                        let mut d = Dict::new();
                        for n in m.order.borrow().iter() {
                            if let Some(v) = m.get(n) {
                                d.set_str(n, v);
                            }
                        }
                        Ok(Value::dict(d))
                    }
                    _ => Err(Exception::type_error(
                        "vars() argument must have __dict__ attribute",
                    )),
                }
            }),
        ),
        (
            "dir",
            f("dir", |it, a| {
                let p = a.positional("dir", 0, 1)?;
                let mut names: Vec<String> = Vec::new();
                match p.first() {
                    None => {
                        let g = it.globals.vars.borrow();
                        names.extend(g.keys().map(|k| k.to_string()));
                    }
                    Some(Value::Module(m)) => names.extend(m.attrs.borrow().keys().cloned()),
                    Some(v) => {
                        if let Value::Instance(i) = v {
                            names.extend(i.dict.borrow().keys().cloned());
                        }
                        let c = match v {
                            Value::Class(c) => c.clone(),
                            _ => it.type_of(v),
                        };
                        names.extend(c.attrs.borrow().keys().cloned());
                        for m in &c.mro {
                            names.extend(m.attrs.borrow().keys().cloned());
                        }
                    }
                }
                names.sort();
                names.dedup();
                Ok(Value::list(
                    names.into_iter().map(|n| Value::Str(n.into())).collect(),
                ))
            }),
        ),
        (
            "super",
            f("super", |it, a| {
                let p = a.positional("super", 2, 2)?;
                let Value::Class(c) = &p[0] else {
                    return Err(Exception::type_error("super() argument 1 must be a type"));
                };
                let t = match &p[1] {
                    Value::Class(k) => k.clone(),
                    v => it.type_of(v),
                };
                let mut chain = vec![t.clone()];
                chain.extend(t.mro.iter().cloned());
                let Some(pos) = chain.iter().position(|k| Rc::ptr_eq(k, c)) else {
                    return Err(Exception::type_error(
                        "super(type, obj): obj must be an instance or subtype of type",
                    ));
                };
                Ok(make_super(chain[pos + 1..].to_vec(), p[1].clone()))
            }),
        ),
        ("open", f("open", super::stdlib::open)),
        (
            "globals",
            f("globals", |it, _| {
                let mut d = Dict::new();
                for (k, v) in it.globals.vars.borrow().iter() {
                    d.set_str(k, v.clone());
                }
                Ok(Value::dict(d))
            }),
        ),
    ];
    for (n, v) in fns {
        it.builtins.insert(n.into(), v);
    }
    for unsupported in [
        "input",
        "exec",
        "eval",
        "compile",
        "breakpoint",
        "__import__",
        "memoryview",
        "bytearray",
        "complex",
        "locals",
        "aiter",
        "anext",
        "exit",
        "quit",
        "help",
    ] {
        let name = unsupported.to_string();
        it.builtins.insert(
            unsupported.into(),
            f(unsupported, move |_, _| {
                Err(Exception::new(
                    "NotImplementedError",
                    format!("{name}() is not supported by the harness's Python subset"),
                ))
            }),
        );
    }
}

fn constructors(it: &mut Interpreter) {
    let t = &it.types;
    let new = |c: &Rc<Class>, name: &str, func: fn(&mut Interpreter, Args) -> R<Value>| {
        c.set(
            "__new__",
            NativeFunction::value(name, move |it, mut a| {
                if !a.pos.is_empty() {
                    a.pos.remove(0);
                }
                func(it, a)
            }),
        );
    };
    new(&t.int, "int", |it, a| {
        let p = a.bind("int", &["x", "base"], 0)?;
        let base = match &p[1] {
            Some(b) => Some(int_arg(b, "")?),
            None => None,
        };
        let Some(x) = &p[0] else {
            return Ok(Value::Int(0));
        };
        if let Some(b) = base {
            if !(b == 0 || (2..=36).contains(&b)) {
                return Err(Exception::value_error(
                    "int() base must be >= 2 and <= 36, or 0",
                ));
            }
        }
        match x {
            Value::Int(i) => Ok(Value::Int(*i)),
            Value::Bool(b) => Ok(Value::Int(*b as i64)),
            Value::Float(f) => {
                if f.is_nan() {
                    return Err(Exception::value_error(
                        "cannot convert float NaN to integer",
                    ));
                }
                if f.is_infinite() {
                    return Err(Exception::new(
                        "OverflowError",
                        "cannot convert float infinity to integer",
                    ));
                }
                if f.abs() >= 9.223372036854776e18 {
                    return Err(Exception::new(
                        "OverflowError",
                        "int too large for the harness's 64-bit int",
                    ));
                }
                Ok(Value::Int(f.trunc() as i64))
            }
            Value::Str(s) => {
                let b = base.unwrap_or(10) as u32;
                parse_int(s, b).map(Value::Int).ok_or_else(|| {
                    Exception::value_error(format!(
                        "invalid literal for int() with base {b}: {}",
                        crate::core::repr::py_str_repr(s)
                    ))
                })
            }
            v => {
                if let Some(m) = it.get_special(v, "__int__") {
                    return it.call(&m, Args::default());
                }
                Err(Exception::type_error(format!(
                    "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                    v.type_name()
                )))
            }
        }
    });
    new(&t.float, "float", |it, a| {
        let p = a.positional("float", 0, 1)?;
        let Some(x) = p.first() else {
            return Ok(Value::Float(0.0));
        };
        match x {
            Value::Int(i) => Ok(Value::Float(*i as f64)),
            Value::Bool(b) => Ok(Value::Float(*b as i64 as f64)),
            Value::Float(f) => Ok(Value::Float(*f)),
            Value::Str(s) => parse_float(s).map(Value::Float).ok_or_else(|| {
                Exception::value_error(format!(
                    "could not convert string to float: {}",
                    crate::core::repr::py_str_repr(s)
                ))
            }),
            v => {
                if let Some(m) = it.get_special(v, "__float__") {
                    return it.call(&m, Args::default());
                }
                Err(Exception::type_error(format!(
                    "float() argument must be a string or a real number, not '{}'",
                    v.type_name()
                )))
            }
        }
    });
    new(&t.bool_, "bool", |it, a| {
        let p = a.positional("bool", 0, 1)?;
        Ok(Value::Bool(match p.first() {
            Some(v) => it.truthy(v)?,
            None => false,
        }))
    });
    new(&t.str_, "str", |it, a| {
        let p = a.bind("str", &["object", "encoding", "errors"], 0)?;
        match (&p[0], &p[1]) {
            (None, _) => Ok(Value::str("")),
            (Some(Value::Bytes(b)), Some(_)) => {
                Ok(Value::Str(String::from_utf8_lossy(b).into_owned().into()))
            }
            (Some(v), _) => Ok(Value::Str(it.str(v)?.into())),
        }
    });
    new(&t.bytes, "bytes", |it, a| {
        let p = a.bind("bytes", &["source", "encoding", "errors"], 0)?;
        match &p[0] {
            None => Ok(Value::Bytes(Vec::new().into())),
            Some(Value::Str(s)) => {
                if p[1].is_none() {
                    return Err(Exception::type_error("string argument without an encoding"));
                }
                Ok(Value::Bytes(s.as_bytes().to_vec().into()))
            }
            Some(Value::Int(n)) => {
                check_size((*n).max(0) as u128)?;
                Ok(Value::Bytes(vec![0u8; (*n).max(0) as usize].into()))
            }
            Some(v) => {
                let mut out = Vec::new();
                for x in it.collect(v)? {
                    match to_int(&x) {
                        Some(n) if (0..256).contains(&n) => out.push(n as u8),
                        _ => return Err(Exception::value_error("bytes must be in range(0, 256)")),
                    }
                }
                Ok(Value::Bytes(out.into()))
            }
        }
    });
    new(&t.list, "list", |it, a| {
        let p = a.positional("list", 0, 1)?;
        Ok(Value::list(match p.first() {
            Some(v) => it.collect(v)?,
            None => vec![],
        }))
    });
    new(&t.tuple, "tuple", |it, a| {
        let p = a.positional("tuple", 0, 1)?;
        Ok(match p.first() {
            Some(Value::Tuple(t)) => Value::Tuple(t.clone()),
            Some(v) => Value::tuple(it.collect(v)?),
            None => Value::tuple(vec![]),
        })
    });
    new(&t.dict, "dict", |it, a| {
        if a.pos.len() > 1 {
            return Err(Exception::type_error(format!(
                "dict expected at most 1 argument, got {}",
                a.pos.len()
            )));
        }
        let d = it.dict_from(a.pos.first(), &a.kw)?;
        Ok(Value::dict(d))
    });
    new(&t.set, "set", |it, a| {
        let p = a.positional("set", 0, 1)?;
        it.set_from(p.first())
    });
    new(&t.range, "range", |_, a| {
        let p = a.positional("range", 1, 3)?;
        let n: Vec<i64> = p.iter().map(|v| int_arg(v, "")).collect::<R<_>>()?;
        let (start, stop, step) = match n.as_slice() {
            [s] => (0, *s, 1),
            [a, b] => (*a, *b, 1),
            [a, b, c] => (*a, *b, *c),
            _ => (0, 0, 1),
        };
        if step == 0 {
            return Err(Exception::value_error("range() arg 3 must not be zero"));
        }
        Ok(Value::Range(start, stop, step))
    });
    new(&t.slice, "slice", |_, a| {
        let p = a.positional("slice", 1, 3)?;
        Ok(Value::Slice(Rc::new(match p {
            [stop] => [Value::None, stop.clone(), Value::None],
            [s, e] => [s.clone(), e.clone(), Value::None],
            [s, e, st] => [s.clone(), e.clone(), st.clone()],
            _ => [Value::None, Value::None, Value::None],
        })))
    });
    new(&t.object, "object", |_, a| {
        a.positional("object", 0, 0)?;
        Err(Exception::new("SystemError", "unreachable"))
    });
    // object() instances: construct without __new__ so subclasses work.
    t.object.attrs.borrow_mut().remove("__new__");
    t.object.set(
        "__init__",
        NativeFunction::value("object.__init__", |_, a| {
            if a.pos.len() > 1 || !a.kw.is_empty() {
                return Err(Exception::type_error(
                    "object.__init__() takes exactly one argument (the instance to initialize)",
                ));
            }
            Ok(Value::None)
        }),
    );
    t.type_.set(
        "__new__",
        NativeFunction::value("type", |it, mut a| {
            let cls = match a.pos.first() {
                Some(Value::Class(c)) => c.clone(),
                _ => {
                    return Err(Exception::type_error(
                        "type.__new__(X): X is not a type object",
                    ))
                }
            };
            a.pos.remove(0);
            if a.pos.len() == 1 && a.kw.is_empty() {
                return Ok(Value::Class(it.type_of(&a.pos[0])));
            }
            if a.pos.len() != 3 {
                return Err(Exception::type_error("type() takes 1 or 3 arguments"));
            }
            let name = match &a.pos[0] {
                Value::Str(s) => s.clone(),
                other => {
                    return Err(Exception::type_error(format!(
                        "type.__new__() argument 1 must be str, not {}",
                        other.type_name()
                    )))
                }
            };
            let bases = match &a.pos[1] {
                Value::Tuple(items) => items
                    .iter()
                    .map(|b| match b {
                        Value::Class(c) => Ok(c.clone()),
                        other => Err(Exception::type_error(format!(
                            "bases must be types, not {}",
                            other.type_name()
                        ))),
                    })
                    .collect::<R<Vec<_>>>()?,
                other => {
                    return Err(Exception::type_error(format!(
                        "type.__new__() argument 2 must be tuple, not {}",
                        other.type_name()
                    )))
                }
            };
            let attrs = match &a.pos[2] {
                Value::Dict(d) => d
                    .borrow()
                    .items()
                    .into_iter()
                    .map(|(k, v)| match k {
                        Value::Str(k) => Ok((k.to_string(), v)),
                        _ => Err(Exception::type_error("namespace keys must be strings")),
                    })
                    .collect::<R<Vec<_>>>()?,
                other => {
                    return Err(Exception::type_error(format!(
                        "type.__new__() argument 3 must be dict, not {}",
                        other.type_name()
                    )))
                }
            };
            let kw = std::mem::take(&mut a.kw);
            let c = it.new_class(&name, bases, attrs, Some(cls), kw)?;
            Ok(Value::Class(c))
        }),
    );
    t.type_.set(
        "__init__",
        NativeFunction::value("type.__init__", |_, _| Ok(Value::None)),
    );
    let desc = |c: &Rc<Class>, name: &'static str, kind: DescKind| {
        c.set(
            "__new__",
            NativeFunction::value(name, move |_, a| {
                let Some(func) = a.pos.get(1) else {
                    return Err(Exception::type_error(format!(
                        "{name} expected 1 argument, got 0"
                    )));
                };
                Ok(Value::Descriptor(Rc::new((kind, func.clone()))))
            }),
        );
    };
    desc(&t.staticmethod, "staticmethod", DescKind::Static);
    desc(&t.classmethod, "classmethod", DescKind::ClassMethod);
    install_property(&t.property);
}

/// `property(fget=None, fset=None, fdel=None, doc=None)`, its `getter`/`setter`
/// decorators and `fget`/`fset` attributes.
fn install_property(c: &Rc<Class>) {
    c.set(
        "__new__",
        NativeFunction::value("property", |_, mut a| {
            if !a.pos.is_empty() {
                a.pos.remove(0);
            }
            let p = a.bind("property", &["fget", "fset", "fdel", "doc"], 0)?;
            let fget = p[0].clone().unwrap_or(Value::None);
            let fset = p[1].clone().unwrap_or(Value::None);
            Ok(make_property(fget, fset))
        }),
    );
    let parts = |a: &Args| -> R<(Value, Value)> {
        match a.pos.first() {
            Some(Value::Descriptor(d)) if d.0 == DescKind::Property => Ok(property_parts(&d.1)),
            _ => Err(Exception::type_error(
                "descriptor requires a 'property' object",
            )),
        }
    };
    c.set(
        "setter",
        NativeFunction::value("property.setter", move |_, a| {
            let (fget, _) = parts(&a)?;
            Ok(make_property(fget, a.arg(1)?.clone()))
        }),
    );
    c.set(
        "getter",
        NativeFunction::value("property.getter", move |_, a| {
            let (_, fset) = parts(&a)?;
            Ok(make_property(a.arg(1)?.clone(), fset))
        }),
    );
    for (name, second) in [("fget", false), ("fset", true)] {
        c.set(
            name,
            make_property(
                NativeFunction::value(name, move |_, a| {
                    let (fget, fset) = parts(&a)?;
                    Ok(if second { fset } else { fget })
                }),
                Value::None,
            ),
        );
    }
}
