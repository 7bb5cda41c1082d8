//! Calls: dispatch on the callable, instantiation, binding arguments to
//! parameters with CPython's error messages, and evaluating call arguments.

use super::ast::*;
use super::interp::*;
use super::value::*;
use std::cell::RefCell;
use std::rc::Rc;

impl Interpreter {
    /// Calls any callable with arguments: what native code uses to call back.
    pub fn call(&mut self, f: &Value, args: Args) -> R<Value> {
        match f {
            Value::Function(func) => self.call_function(func, args),
            Value::Native(n) => (n.func)(self, args),
            Value::Bound(b) => {
                let mut args = args;
                args.pos.insert(0, b.0.clone());
                let (_, inner) = &**b;
                let inner = inner.clone();
                self.call(&inner, args)
            }
            Value::Class(c) => {
                // A metaclass's own `__call__` decides what calling the class does.
                let meta_call = c
                    .meta
                    .borrow()
                    .as_ref()
                    .and_then(|m| m.lookup("__call__"))
                    .filter(|f| matches!(f, Value::Function(_)));
                match meta_call {
                    Some(f) => {
                        let mut args = args;
                        args.pos.insert(0, Value::Class(c.clone()));
                        self.call(&f, args)
                    }
                    None => self.instantiate(c, args),
                }
            }
            Value::Instance(_) => match self.get_special(f, "__call__") {
                Some(m) => self.call(&m, args),
                None => Err(Exception::type_error(format!(
                    "'{}' object is not callable",
                    f.type_name()
                ))),
            },
            _ => Err(Exception::type_error(format!(
                "'{}' object is not callable",
                f.type_name()
            ))),
        }
    }

    pub fn instantiate(&mut self, c: &Rc<Class>, args: Args) -> R<Value> {
        if let Some(new) = c.lookup("__new__") {
            // Builtin types and native classes that construct their own values.
            let mut a = args.clone();
            a.pos.insert(0, Value::Class(c.clone()));
            let scripted = matches!(new, Value::Function(_));
            let v = self.call(&new, a)?;
            // As in CPython, `__init__` runs when `__new__` returned an instance of
            // the class (only script-defined ones: native types initialise in `__new__`).
            if let Some(init @ Value::Function(_)) = c.lookup("__init__") {
                let is_instance = self.type_of(&v).is_subclass(c);
                if is_instance && (scripted || c.is_subclass(&self.types.type_)) {
                    self.call(&self.bind(v.clone(), init), args)?;
                }
            }
            return Ok(v);
        }
        let inst = Instance::new(c.clone());
        if c.is_subclass(&self.exc_class("BaseException")) {
            inst.set("args", Value::tuple(args.pos.clone()));
        }
        let v = Value::Instance(inst);
        match c.lookup("__init__") {
            Some(Value::Native(n))
                if n.name == "object.__init__" && (!args.pos.is_empty() || !args.kw.is_empty()) =>
            {
                return Err(Exception::type_error(format!(
                    "{}() takes no arguments",
                    c.name
                )));
            }
            Some(init) => {
                let r = self.call(&self.bind(v.clone(), init), args)?;
                if !r.is_none() {
                    return Err(Exception::type_error(format!(
                        "__init__() should return None, not '{}'",
                        r.type_name()
                    )));
                }
            }
            None => {
                if !args.pos.is_empty() || !args.kw.is_empty() {
                    return Err(Exception::type_error(format!(
                        "{}() takes no arguments",
                        c.name
                    )));
                }
            }
        }
        Ok(v)
    }

    fn call_function(&mut self, func: &Rc<Function>, args: Args) -> R<Value> {
        self.check_cancel()?;
        if self.frames.len() > RECURSION_LIMIT || stack_exhausted() {
            return Err(Exception::new(
                "RecursionError",
                "maximum recursion depth exceeded",
            ));
        }
        let def = &func.def;
        let scope = Scope::new(func.closure.clone());
        self.bind_params(func, args, &scope)?;
        if def.is_generator && def.lazy {
            let st = super::generator::GenState::new(func.clone(), scope);
            return Ok(Value::Iter(Rc::new(RefCell::new(Iter::Lazy(Box::new(st))))));
        }
        self.frames.push(Frame {
            kind: FrameKind::Function,
            locals: Some(scope),
            enclosing: func.closure.clone(),
            globals: func.globals.clone(),
            func: Some(def.clone()),
            filename: func.filename.clone(),
            name: def.name.clone(),
            line: def.line,
            yields: if def.is_generator {
                Some(Vec::new())
            } else {
                None
            },
            handling: Vec::new(),
        });
        let saved = if def.is_generator {
            Some(super::output::take())
        } else {
            None
        };
        let r = self.exec_block(&def.body);
        let frame = self.frames.pop().expect("pushed above");
        if let Some(saved) = saved {
            let trailing = super::output::take();
            super::output::write(&saved);
            let error = r.err().map(|mut e| {
                e.0.frames.push(TraceFrame {
                    filename: frame.filename.clone(),
                    line: frame.line,
                    name: frame.name.clone(),
                });
                e
            });
            return Ok(generator(frame.yields.unwrap_or_default(), trailing, error));
        }
        match r {
            Ok(flow) => Ok(match flow {
                Flow::Return(v) => v,
                _ => Value::None,
            }),
            Err(mut e) => {
                e.0.frames.push(TraceFrame {
                    filename: frame.filename,
                    line: frame.line,
                    name: frame.name,
                });
                Err(e)
            }
        }
    }

    fn bind_params(&mut self, func: &Function, args: Args, scope: &Rc<Scope>) -> R<()> {
        let def = &func.def;
        let name = &func.qualname;
        let normal: Vec<&Param> = def
            .params
            .iter()
            .filter(|p| matches!(p.kind, ParamKind::Normal))
            .collect();
        let varargs = def
            .params
            .iter()
            .find(|p| matches!(p.kind, ParamKind::VarArgs));
        let varkw = def
            .params
            .iter()
            .find(|p| matches!(p.kind, ParamKind::VarKw));
        let mut vars = scope.vars.borrow_mut();
        let Args { mut pos, kw } = args;
        if pos.len() > normal.len() {
            match varargs {
                Some(va) => {
                    let extra = pos.split_off(normal.len());
                    vars.insert(va.name.clone(), Value::tuple(extra));
                }
                None => {
                    let ndef = func.defaults.len();
                    let takes = if ndef == 0 {
                        format!(
                            "{} positional argument{}",
                            normal.len(),
                            if normal.len() == 1 { "" } else { "s" }
                        )
                    } else {
                        format!(
                            "from {} to {} positional arguments",
                            normal.len() - ndef,
                            normal.len()
                        )
                    };
                    return Err(Exception::type_error(format!(
                        "{name}() takes {takes} but {} {} given",
                        pos.len(),
                        if pos.len() == 1 { "was" } else { "were" }
                    )));
                }
            }
        } else if let Some(va) = varargs {
            vars.insert(va.name.clone(), Value::tuple(vec![]));
        }
        let npos = pos.len();
        for (p, v) in normal.iter().zip(pos) {
            vars.insert(p.name.clone(), v);
        }
        let mut extra_kw = Dict::new();
        for (k, v) in kw {
            let target = def
                .params
                .iter()
                .find(|p| p.name == k && matches!(p.kind, ParamKind::Normal | ParamKind::KwOnly));
            match target {
                Some(p) => {
                    if vars.contains_key(&p.name) {
                        return Err(Exception::type_error(format!(
                            "{name}() got multiple values for argument '{k}'"
                        )));
                    }
                    vars.insert(p.name.clone(), v);
                }
                None => {
                    if varkw.is_none() {
                        return Err(Exception::type_error(format!(
                            "{name}() got an unexpected keyword argument '{k}'"
                        )));
                    }
                    extra_kw.insert(Value::Str(k), v)?;
                }
            }
        }
        if let Some(vk) = varkw {
            vars.insert(vk.name.clone(), Value::dict(extra_kw));
        }
        // defaults and missing arguments
        let first_default = normal.len() - func.defaults.len();
        let mut missing = Vec::new();
        for (i, p) in normal.iter().enumerate() {
            if !vars.contains_key(&p.name) {
                if i >= first_default {
                    vars.insert(p.name.clone(), func.defaults[i - first_default].clone());
                } else {
                    missing.push(format!("'{}'", p.name));
                }
            }
        }
        let _ = npos;
        if !missing.is_empty() {
            return Err(Exception::type_error(format!(
                "{name}() missing {} required positional argument{}: {}",
                missing.len(),
                if missing.len() == 1 { "" } else { "s" },
                join_names(&missing)
            )));
        }
        let mut missing_kw = Vec::new();
        for p in def
            .params
            .iter()
            .filter(|p| matches!(p.kind, ParamKind::KwOnly))
        {
            if !vars.contains_key(&p.name) {
                match func.kwdefaults.iter().find(|(k, _)| *k == p.name) {
                    Some((_, v)) => {
                        vars.insert(p.name.clone(), v.clone());
                    }
                    None => missing_kw.push(format!("'{}'", p.name)),
                }
            }
        }
        if !missing_kw.is_empty() {
            return Err(Exception::type_error(format!(
                "{name}() missing {} required keyword-only argument{}: {}",
                missing_kw.len(),
                if missing_kw.len() == 1 { "" } else { "s" },
                join_names(&missing_kw)
            )));
        }
        Ok(())
    }

    pub(crate) fn eval_args(&mut self, args: &[Arg]) -> R<Args> {
        let mut out = Args::default();
        for a in args {
            match a {
                Arg::Pos(e) => {
                    let v = self.eval(e)?;
                    out.pos.push(v);
                }
                Arg::Star(e) => {
                    let v = self.eval(e)?;
                    let items = self.collect(&v).map_err(|_| {
                        Exception::type_error(format!(
                            "Value after * must be an iterable, not {}",
                            v.type_name()
                        ))
                    })?;
                    out.pos.extend(items);
                }
                Arg::Kw(k, e) => {
                    let v = self.eval(e)?;
                    out.kw.push((k.clone(), v));
                }
                Arg::StarStar(e) => {
                    let v = self.eval(e)?;
                    let Value::Dict(d) = &v else {
                        return Err(Exception::type_error(format!(
                            "argument after ** must be a mapping, not {}",
                            v.type_name()
                        )));
                    };
                    for (k, val) in d.borrow().iter() {
                        let Value::Str(ks) = k else {
                            return Err(Exception::type_error("keywords must be strings"));
                        };
                        if out.kw.iter().any(|(n, _)| n == ks) {
                            return Err(Exception::type_error(format!(
                                "got multiple values for keyword argument '{ks}'"
                            )));
                        }
                        out.kw.push((ks.clone(), val.clone()));
                    }
                }
            }
        }
        Ok(out)
    }
}
