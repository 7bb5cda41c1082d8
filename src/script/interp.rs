//! The tree-walking evaluator: scopes and frames, statements, expressions, calls,
//! attribute access, imports and exception handling.

use super::ast::*;
use super::value::*;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

/// A namespace: module globals, a function call's locals, a class body.
pub struct Scope {
    pub vars: RefCell<HashMap<Rc<str>, Value>>,
    /// The enclosing function scope (closures read through it).
    pub parent: Option<Rc<Scope>>,
}

impl Scope {
    pub fn new(parent: Option<Rc<Scope>>) -> Rc<Scope> {
        Rc::new(Scope {
            vars: RefCell::new(HashMap::new()),
            parent,
        })
    }
    pub fn get(&self, name: &str) -> Option<Value> {
        self.vars.borrow().get(name).cloned()
    }
    pub fn set(&self, name: Rc<str>, v: Value) {
        self.vars.borrow_mut().insert(name, v);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameKind {
    Module,
    Function,
    Class,
    Comp,
}

pub(crate) struct Frame {
    pub kind: FrameKind,
    pub locals: Option<Rc<Scope>>,
    pub enclosing: Option<Rc<Scope>>,
    pub globals: Rc<Scope>,
    pub func: Option<Rc<FuncDef>>,
    pub filename: Rc<str>,
    pub name: Rc<str>,
    pub line: usize,
    pub yields: Option<Vec<(Value, String)>>,
    /// The exception being handled (for a bare `raise`).
    pub handling: Vec<Rc<Instance>>,
}

pub(crate) enum Flow {
    Normal,
    Break,
    Continue,
    Return(Value),
}

pub type R<T> = Result<T, Exception>;

/// The builtin type objects, so `type(x)`, `isinstance` and method lookup agree.
pub struct Types {
    pub object: Rc<Class>,
    pub type_: Rc<Class>,
    pub none: Rc<Class>,
    pub bool_: Rc<Class>,
    pub int: Rc<Class>,
    pub float: Rc<Class>,
    pub str_: Rc<Class>,
    pub bytes: Rc<Class>,
    pub list: Rc<Class>,
    pub tuple: Rc<Class>,
    pub dict: Rc<Class>,
    pub set: Rc<Class>,
    pub range: Rc<Class>,
    pub slice: Rc<Class>,
    pub function: Rc<Class>,
    pub builtin_fn: Rc<Class>,
    pub method: Rc<Class>,
    pub module: Rc<Class>,
    pub iterator: Rc<Class>,
    pub list_iterator: Rc<Class>,
    pub range_iterator: Rc<Class>,
    pub generator: Rc<Class>,
    pub ellipsis: Rc<Class>,
    pub not_impl: Rc<Class>,
    pub staticmethod: Rc<Class>,
    pub classmethod: Rc<Class>,
    pub property: Rc<Class>,
}

/// CPython's default recursion limit; the stack guard below usually trips first.
const RECURSION_LIMIT: usize = 1000;

/// Generators run eagerly; this bounds an infinite one.
const MAX_GENERATOR_ITEMS: usize = 1_000_000;

fn generator(items: Vec<(Value, String)>, trailing: String, error: Option<Exception>) -> Value {
    Value::Iter(Rc::new(RefCell::new(Iter::Gen {
        items,
        idx: 0,
        trailing: Some(trailing),
        error,
    })))
}

/// Bytes of stack kept free below the guard so that error handling itself fits.
const STACK_MARGIN: usize = 256 * 1024;

thread_local! {
    /// The lowest stack address this thread may reach before calls raise
    /// RecursionError (0 when unknown).
    static STACK_LIMIT: usize = stack_limit();
}

#[cfg(target_os = "linux")]
fn stack_limit() -> usize {
    // SAFETY: pthread_getattr_np fills `attr` for the calling thread; we read the
    // stack bounds and destroy the attribute object as the man page requires.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return 0;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let ok = libc::pthread_attr_getstack(&attr, &mut addr, &mut size) == 0;
        libc::pthread_attr_destroy(&mut attr);
        if !ok || size <= 2 * STACK_MARGIN {
            return 0;
        }
        addr as usize + STACK_MARGIN
    }
}

#[cfg(not(target_os = "linux"))]
fn stack_limit() -> usize {
    0
}

/// Whether the Rust stack is close to exhausted (deep script recursion).
pub(crate) fn stack_exhausted() -> bool {
    let here = 0u8;
    let addr = &here as *const u8 as usize;
    STACK_LIMIT.with(|l| *l != 0 && addr < *l)
}

pub struct Interpreter {
    pub builtins: HashMap<Rc<str>, Value>,
    pub globals: Rc<Scope>,
    pub types: Types,
    pub(crate) exc_classes: HashMap<&'static str, Rc<Class>>,
    pub(crate) modules: HashMap<String, Rc<Module>>,
    pub(crate) frames: Vec<Frame>,
    pub base_dir: PathBuf,
    pub(crate) sources: HashMap<Rc<str>, Rc<str>>,
    pub(crate) view_classes: RefCell<HashMap<&'static str, Rc<Class>>>,
    /// Running a doctest example: module-level expression statements print.
    pub(crate) interactive: bool,
    /// Containers being repr'd or compared (cycle and depth guard).
    pub(crate) repr_stack: Vec<usize>,
}

fn attr_err(msg: String) -> Exception {
    Exception::new("AttributeError", msg)
}

impl Interpreter {
    // ------------------------------------------------------------------ frames

    fn frame(&self) -> &Frame {
        self.frames
            .last()
            .expect("a frame is always active while evaluating")
    }
    fn frame_mut(&mut self) -> &mut Frame {
        self.frames
            .last_mut()
            .expect("a frame is always active while evaluating")
    }
    pub(crate) fn set_line_pub(&mut self, line: usize) {
        self.set_line(line);
    }

    pub(crate) fn exec_stmt(&mut self, s: &Stmt) -> R<Flow> {
        self.exec(s)
    }

    fn set_line(&mut self, line: usize) {
        if let Some(f) = self.frames.last_mut() {
            f.line = line;
        }
    }

    pub(crate) fn module_frame(&self, filename: Rc<str>) -> Frame {
        Frame {
            kind: FrameKind::Module,
            locals: None,
            enclosing: None,
            globals: self.globals.clone(),
            func: None,
            filename,
            name: "<module>".into(),
            line: 1,
            yields: None,
            handling: Vec::new(),
        }
    }

    /// Runs `body` in a fresh module frame; the exception, if any, carries its frames.
    pub(crate) fn run_module_body(
        &mut self,
        body: &[Stmt],
        filename: Rc<str>,
        single: bool,
    ) -> R<()> {
        let depth = self.frames.len();
        self.frames.push(self.module_frame(filename));
        let r = self.exec_top(body, single);
        let r = match r {
            Err(mut e) => {
                let f = self.frame();
                e.0.frames.push(TraceFrame {
                    filename: f.filename.clone(),
                    line: f.line,
                    name: f.name.clone(),
                });
                Err(e)
            }
            Ok(_) => Ok(()),
        };
        self.frames.truncate(depth);
        r
    }

    fn exec_top(&mut self, body: &[Stmt], single: bool) -> R<()> {
        let _ = single;
        for s in body {
            self.set_line(s.line);
            match self.exec(s)? {
                Flow::Normal => {}
                Flow::Return(_) => {
                    return Err(Exception::new("SyntaxError", "'return' outside function"))
                }
                Flow::Break => return Err(Exception::new("SyntaxError", "'break' outside loop")),
                Flow::Continue => {
                    return Err(Exception::new(
                        "SyntaxError",
                        "'continue' not properly in loop",
                    ))
                }
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------------ names

    fn lookup(&self, name: &Rc<str>) -> R<Value> {
        let f = self.frame();
        if let Some(l) = &f.locals {
            if let Some(v) = l.get(name) {
                return Ok(v);
            }
            if f.kind == FrameKind::Function {
                if let Some(func) = &f.func {
                    if func.locals.contains(name) {
                        return Err(Exception::new(
                            "UnboundLocalError",
                            format!("cannot access local variable '{name}' where it is not associated with a value"),
                        ));
                    }
                }
            }
        }
        let mut cur = f.enclosing.clone();
        while let Some(s) = cur {
            if let Some(v) = s.get(name) {
                return Ok(v);
            }
            cur = s.parent.clone();
        }
        if let Some(v) = f.globals.get(name) {
            return Ok(v);
        }
        if let Some(v) = self.builtins.get(name) {
            return Ok(v.clone());
        }
        Err(Exception::new(
            "NameError",
            format!("name '{name}' is not defined"),
        ))
    }

    fn store_name(&mut self, name: &Rc<str>, v: Value) {
        let f = self.frame();
        if let Some(func) = &f.func {
            if f.kind == FrameKind::Function {
                if func.globals.contains(name) {
                    f.globals.set(name.clone(), v);
                    return;
                }
                if func.nonlocals.contains(name) {
                    let mut cur = f.enclosing.clone();
                    while let Some(s) = cur {
                        if s.vars.borrow().contains_key(name) {
                            s.set(name.clone(), v);
                            return;
                        }
                        cur = s.parent.clone();
                    }
                }
            }
        }
        match &f.locals {
            Some(l) => l.set(name.clone(), v),
            None => f.globals.set(name.clone(), v),
        }
    }

    fn delete_name(&mut self, name: &Rc<str>) -> R<()> {
        let f = self.frame();
        let scope = match (&f.locals, &f.func) {
            (_, Some(func)) if func.globals.contains(name) => f.globals.clone(),
            (Some(l), _) => l.clone(),
            (None, _) => f.globals.clone(),
        };
        if scope.vars.borrow_mut().remove(name).is_none() {
            return Err(Exception::new(
                "NameError",
                format!("name '{name}' is not defined"),
            ));
        }
        Ok(())
    }

    // ------------------------------------------------------------------ statements

    pub(crate) fn exec_block(&mut self, body: &[Stmt]) -> R<Flow> {
        for s in body {
            match self.exec(s)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn exec(&mut self, s: &Stmt) -> R<Flow> {
        self.set_line(s.line);
        match &s.kind {
            StmtKind::Return(Some(e)) => {
                let v = self.eval(e)?;
                Ok(Flow::Return(v))
            }
            StmtKind::If(test, body, orelse) => {
                let t = self.eval(test)?;
                if self.truthy(&t)? {
                    self.exec_block(body)
                } else {
                    self.exec_block(orelse)
                }
            }
            StmtKind::Expr(e) => {
                let v = self.eval(e)?;
                if self.interactive && !v.is_none() {
                    self.display(v)?;
                }
                Ok(Flow::Normal)
            }
            StmtKind::Assign(targets, value) => {
                let v = self.eval(value)?;
                for t in targets {
                    self.assign(t, v.clone())?;
                }
                Ok(Flow::Normal)
            }
            _ => self.exec_rare(s),
        }
    }

    /// `sys.displayhook`: module-level expression statements of an example print
    /// the repr of their non-None value.
    #[inline(never)]
    fn display(&mut self, v: Value) -> R<()> {
        if self.frame().kind != FrameKind::Module {
            return Ok(());
        }
        let r = self.repr(&v)?;
        super::output::write(&r);
        super::output::write("\n");
        self.builtins.insert("_".into(), v);
        Ok(())
    }

    #[inline(never)]
    fn exec_rare(&mut self, s: &Stmt) -> R<Flow> {
        match &s.kind {
            StmtKind::Expr(_) | StmtKind::Assign(..) => return self.exec(s),
            StmtKind::AugAssign(target, op, value) => self.aug_assign(target, *op, value)?,
            StmtKind::Pass => {}
            StmtKind::Break => return Ok(Flow::Break),
            StmtKind::Continue => return Ok(Flow::Continue),
            StmtKind::Return(e) => {
                let v = match e {
                    Some(e) => self.eval(e)?,
                    None => Value::None,
                };
                return Ok(Flow::Return(v));
            }
            StmtKind::If(test, body, orelse) => {
                let t = self.eval(test)?;
                return if self.truthy(&t)? {
                    self.exec_block(body)
                } else {
                    self.exec_block(orelse)
                };
            }
            StmtKind::While(test, body, orelse) => loop {
                let t = self.eval(test)?;
                if !self.truthy(&t)? {
                    return self.exec_block(orelse);
                }
                match self.exec_block(body)? {
                    Flow::Break => break,
                    Flow::Return(v) => return Ok(Flow::Return(v)),
                    _ => {}
                }
            },
            StmtKind::For(target, iter, body, orelse) => {
                let it = self.eval(iter)?;
                let it = self.get_iter(&it)?;
                loop {
                    self.set_line(s.line);
                    let Some(v) = self.next(&it)? else {
                        return self.exec_block(orelse);
                    };
                    self.assign(target, v)?;
                    match self.exec_block(body)? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        _ => {}
                    }
                }
            }
            StmtKind::FunctionDef(def) => {
                let f = self.make_function(def)?;
                let f = self.decorate(&def.decorators, f)?;
                self.store_name(&def.name, f);
            }
            StmtKind::ClassDef {
                name,
                bases,
                body,
                decorators,
            } => {
                let c = self.class_def(name, bases, body)?;
                let c = self.decorate(decorators, c)?;
                self.store_name(name, c);
            }
            StmtKind::Import(names) => {
                for (dotted, alias) in names {
                    let m = self.import_module(dotted)?;
                    match alias {
                        Some(a) => self.store_name(a, Value::Module(m)),
                        None => {
                            let top = dotted.split('.').next().unwrap_or(dotted);
                            let tm = self.import_module(top)?;
                            self.store_name(&Rc::from(top), Value::Module(tm));
                        }
                    }
                }
            }
            StmtKind::ImportFrom(module, names) => {
                let m = self.import_module(module)?;
                if names.is_empty() {
                    let order = m.order.borrow().clone();
                    for n in order {
                        if n.starts_with('_') {
                            continue;
                        }
                        if let Some(v) = m.get(&n) {
                            self.store_name(&Rc::from(n.as_str()), v);
                        }
                    }
                }
                for (n, alias) in names {
                    let v = match m.get(n) {
                        Some(v) => v,
                        None => match self.import_module(&format!("{module}.{n}")) {
                            Ok(sub) => Value::Module(sub),
                            Err(_) => {
                                return Err(Exception::new(
                                    "ImportError",
                                    format!(
                                    "cannot import name '{n}' from '{module}' (unknown location)"
                                ),
                                ))
                            }
                        },
                    };
                    self.store_name(alias.as_ref().unwrap_or(n), v);
                }
            }
            StmtKind::With(items, body) => return self.with(items, body),
            StmtKind::Del(targets) => {
                for t in targets {
                    self.delete(t)?;
                }
            }
            StmtKind::Assert(test, msg) => {
                let t = self.eval(test)?;
                if !self.truthy(&t)? {
                    let args = match msg {
                        Some(m) => vec![self.eval(m)?],
                        None => vec![],
                    };
                    return Err(Exception::with_args("AssertionError", args));
                }
            }
            StmtKind::Raise(exc, cause) => return Err(self.raise(exc.as_ref(), cause.as_ref())?),
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            } => return self.exec_try(body, handlers, orelse, finally),
            StmtKind::Global(_) | StmtKind::Nonlocal(_) => {}
        }
        Ok(Flow::Normal)
    }

    fn decorate(&mut self, decorators: &[Expr], mut v: Value) -> R<Value> {
        for d in decorators.iter().rev() {
            let f = self.eval(d)?;
            v = self.call(&f, Args::new(vec![v]))?;
        }
        Ok(v)
    }

    fn raise(&mut self, exc: Option<&Expr>, cause: Option<&Expr>) -> R<Exception> {
        let Some(exc) = exc else {
            return match self
                .frames
                .iter()
                .rev()
                .find_map(|f| f.handling.last().cloned())
            {
                Some(inst) => Ok(Exception::from_instance(inst)),
                None => Ok(Exception::new(
                    "RuntimeError",
                    "No active exception to reraise",
                )),
            };
        };
        let v = self.eval(exc)?;
        let inst = self.raise_value_instance(v)?;
        if let Some(c) = cause {
            let cv = self.eval(c)?;
            let cv = if cv.is_none() {
                cv
            } else {
                Value::Instance(self.raise_value_instance(cv)?)
            };
            inst.set("__cause__", cv);
        }
        Ok(Exception::from_instance(inst))
    }

    /// `raise X`: X is an exception instance or class.
    fn raise_value_instance(&mut self, v: Value) -> R<Rc<Instance>> {
        let base = self.exc_class("BaseException");
        match &v {
            Value::Instance(i) if i.class.is_subclass(&base) => Ok(i.clone()),
            Value::Class(c) if c.is_subclass(&base) => match self.call(&v, Args::default())? {
                Value::Instance(i) => Ok(i),
                _ => Err(Exception::type_error(
                    "exceptions must derive from BaseException",
                )),
            },
            _ => Err(Exception::type_error(
                "exceptions must derive from BaseException",
            )),
        }
    }

    pub(crate) fn exc_class(&self, name: &str) -> Rc<Class> {
        self.exc_classes
            .get(name)
            .or_else(|| self.exc_classes.get("Exception"))
            .cloned()
            .expect("exception classes are registered at startup")
    }

    /// Turns a pending builtin exception into an instance (once) and returns it.
    pub fn materialize(&mut self, e: &mut Exception) -> Rc<Instance> {
        if let ExcValue::Pending { class, args } = &e.0.value {
            let c = self.exc_class(class);
            let inst = Instance::new(c);
            inst.set("args", Value::tuple(args.clone()));
            e.0.value = ExcValue::Instance(inst);
        }
        match &e.0.value {
            ExcValue::Instance(i) => i.clone(),
            ExcValue::Pending { .. } => unreachable!("materialized above"),
        }
    }

    fn exec_try(
        &mut self,
        body: &[Stmt],
        handlers: &[Handler],
        orelse: &[Stmt],
        finally: &[Stmt],
    ) -> R<Flow> {
        let mut result = self.exec_block(body);
        if let Err(mut e) = result {
            result = Err(Exception::new("SystemError", "unreachable"));
            let inst = self.materialize(&mut e);
            let mut handled = false;
            for h in handlers {
                let matches = match &h.typ {
                    None => true,
                    Some(t) => {
                        let tv = self.eval(t)?;
                        self.exc_matches(&inst, &tv)?
                    }
                };
                if matches {
                    handled = true;
                    self.set_line(h.line);
                    if let Some(n) = &h.name {
                        self.store_name(n, Value::Instance(inst.clone()));
                    }
                    self.frame_mut().handling.push(inst.clone());
                    result = self.exec_block(&h.body);
                    self.frame_mut().handling.pop();
                    if let Some(n) = &h.name {
                        let _ = self.delete_name(n);
                    }
                    break;
                }
            }
            if !handled {
                result = Err(e);
            }
        } else if matches!(result, Ok(Flow::Normal)) {
            result = self.exec_block(orelse);
        }
        if !finally.is_empty() {
            match self.exec_block(finally)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        result
    }

    fn exc_matches(&mut self, inst: &Rc<Instance>, t: &Value) -> R<bool> {
        match t {
            Value::Class(c) => Ok(inst.class.is_subclass(c)),
            Value::Tuple(items) => {
                for i in items.iter() {
                    if self.exc_matches(inst, i)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            _ => Err(Exception::type_error(
                "catching classes that do not inherit from BaseException is not allowed",
            )),
        }
    }

    fn with(&mut self, items: &[(Expr, Option<Expr>)], body: &[Stmt]) -> R<Flow> {
        let Some(((e, target), rest)) = items.split_first() else {
            return self.exec_block(body);
        };
        let mgr = self.eval(e)?;
        let enter = self.get_special(&mgr, "__enter__");
        let exit = self.get_special(&mgr, "__exit__");
        let (Some(enter), Some(exit)) = (enter, exit) else {
            let t = mgr.type_name();
            let missing = if self.get_special(&mgr, "__enter__").is_none() {
                ""
            } else {
                " and __exit__"
            };
            let _ = missing;
            return Err(Exception::type_error(format!(
                "'{t}' object does not support the context manager protocol"
            )));
        };
        let v = self.call(&enter, Args::default())?;
        if let Some(t) = target {
            self.assign(t, v)?;
        }
        let r = self.with(rest, body);
        match r {
            Ok(flow) => {
                self.call(
                    &exit,
                    Args::new(vec![Value::None, Value::None, Value::None]),
                )?;
                Ok(flow)
            }
            Err(mut e) => {
                let inst = self.materialize(&mut e);
                let args = vec![
                    Value::Class(inst.class.clone()),
                    Value::Instance(inst.clone()),
                    Value::None,
                ];
                let suppress = self.call(&exit, Args::new(args))?;
                if self.truthy(&suppress)? {
                    Ok(Flow::Normal)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// A special method looked up on the type (bound to `v`), as CPython does.
    pub fn get_special(&self, v: &Value, name: &str) -> Option<Value> {
        let cls = self.type_of(v);
        let f = cls.lookup(name)?;
        Some(self.bind(v.clone(), f))
    }

    fn bind(&self, obj: Value, f: Value) -> Value {
        match &f {
            Value::Function(_) | Value::Native(_) => Value::Bound(Rc::new((obj, f))),
            Value::Descriptor(d) if d.0 == DescKind::Static => d.1.clone(),
            Value::Descriptor(d) if d.0 == DescKind::ClassMethod => {
                Value::Bound(Rc::new((Value::Class(self.type_of(&obj)), d.1.clone())))
            }
            _ => f,
        }
    }

    // ------------------------------------------------------------------ assignment

    pub(crate) fn assign(&mut self, target: &Expr, v: Value) -> R<()> {
        match &target.kind {
            ExprKind::Name(n) => {
                self.store_name(n, v);
                Ok(())
            }
            ExprKind::Attr(obj, name) => {
                let o = self.eval(obj)?;
                self.set_attr(&o, name, v)
            }
            ExprKind::Subscript(obj, idx) => {
                let o = self.eval(obj)?;
                let i = self.eval(idx)?;
                self.set_item(&o, i, v)
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => self.unpack(items, v),
            _ => Err(Exception::new("SyntaxError", "cannot assign to expression")),
        }
    }

    fn unpack(&mut self, targets: &[Expr], v: Value) -> R<()> {
        let values = self.collect(&v).map_err(|e| {
            if e.is_pending("TypeError") {
                Exception::type_error(format!(
                    "cannot unpack non-iterable {} object",
                    v.type_name()
                ))
            } else {
                e
            }
        })?;
        let star = targets
            .iter()
            .position(|t| matches!(t.kind, ExprKind::Starred(_)));
        match star {
            None => {
                if values.len() != targets.len() {
                    return Err(if values.len() > targets.len() {
                        Exception::value_error(format!(
                            "too many values to unpack (expected {})",
                            targets.len()
                        ))
                    } else {
                        Exception::value_error(format!(
                            "not enough values to unpack (expected {}, got {})",
                            targets.len(),
                            values.len()
                        ))
                    });
                }
                for (t, v) in targets.iter().zip(values) {
                    self.assign(t, v)?;
                }
            }
            Some(si) => {
                let after = targets.len() - si - 1;
                if values.len() < targets.len() - 1 {
                    return Err(Exception::value_error(format!(
                        "not enough values to unpack (expected at least {}, got {})",
                        targets.len() - 1,
                        values.len()
                    )));
                }
                let mut values = values;
                let tail = values.split_off(values.len() - after);
                let mid = values.split_off(si);
                for (t, v) in targets[..si].iter().zip(values) {
                    self.assign(t, v)?;
                }
                if let ExprKind::Starred(inner) = &targets[si].kind {
                    self.assign(inner, Value::list(mid))?;
                }
                for (t, v) in targets[si + 1..].iter().zip(tail) {
                    self.assign(t, v)?;
                }
            }
        }
        Ok(())
    }

    fn aug_assign(&mut self, target: &Expr, op: BinOp, value: &Expr) -> R<()> {
        match &target.kind {
            ExprKind::Name(n) => {
                let cur = self.lookup(n)?;
                let rhs = self.eval(value)?;
                let v = self.inplace_op(op, cur, rhs)?;
                self.store_name(n, v);
            }
            ExprKind::Attr(obj, name) => {
                let o = self.eval(obj)?;
                let cur = self.get_attr(&o, name)?;
                let rhs = self.eval(value)?;
                let v = self.inplace_op(op, cur, rhs)?;
                self.set_attr(&o, name, v)?;
            }
            ExprKind::Subscript(obj, idx) => {
                let o = self.eval(obj)?;
                let i = self.eval(idx)?;
                let cur = self.get_item(&o, &i)?;
                let rhs = self.eval(value)?;
                let v = self.inplace_op(op, cur, rhs)?;
                self.set_item(&o, i, v)?;
            }
            _ => {
                return Err(Exception::new(
                    "SyntaxError",
                    "illegal expression for augmented assignment",
                ))
            }
        }
        Ok(())
    }

    fn inplace_op(&mut self, op: BinOp, cur: Value, rhs: Value) -> R<Value> {
        // Lists extend in place (`+=`), as CPython's list.__iadd__.
        if let (BinOp::Add, Value::List(l)) = (op, &cur) {
            let items = self.collect(&rhs)?;
            l.borrow_mut().extend(items);
            return Ok(cur);
        }
        if let Some(f) = self.get_special(&cur, &format!("__i{}", &op_dunder(op)[2..])) {
            let r = self.call(&f, Args::new(vec![rhs.clone()]))?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
        }
        self.binary(op, cur, rhs)
    }

    fn delete(&mut self, target: &Expr) -> R<()> {
        match &target.kind {
            ExprKind::Name(n) => self.delete_name(n),
            ExprKind::Attr(obj, name) => {
                let o = self.eval(obj)?;
                match &o {
                    Value::Instance(i) => {
                        if i.dict.borrow_mut().remove(name).is_none() {
                            return Err(attr_err(format!(
                                "'{}' object has no attribute '{name}'",
                                i.class.name
                            )));
                        }
                        Ok(())
                    }
                    _ => Err(attr_err(format!(
                        "'{}' object has no attribute '{name}'",
                        o.type_name()
                    ))),
                }
            }
            ExprKind::Subscript(obj, idx) => {
                let o = self.eval(obj)?;
                let i = self.eval(idx)?;
                self.del_item(&o, &i)
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                for t in items {
                    self.delete(t)?;
                }
                Ok(())
            }
            _ => Err(Exception::new("SyntaxError", "cannot delete expression")),
        }
    }

    // ------------------------------------------------------------------ definitions

    fn make_function(&mut self, def: &Rc<FuncDef>) -> R<Value> {
        let mut defaults = Vec::new();
        let mut kwdefaults = Vec::new();
        for p in &def.params {
            if let Some(d) = &p.default {
                let v = self.eval(d)?;
                match p.kind {
                    ParamKind::KwOnly => kwdefaults.push((p.name.clone(), v)),
                    _ => defaults.push(v),
                }
            }
        }
        let f = self.frame();
        let closure = match f.kind {
            FrameKind::Function | FrameKind::Comp => f.locals.clone(),
            FrameKind::Class => f.enclosing.clone(),
            FrameKind::Module => None,
        };
        let qualname = match f.kind {
            FrameKind::Class => format!("{}.{}", f.name, def.name),
            FrameKind::Function => format!("{}.<locals>.{}", f.name, def.name),
            _ => def.name.to_string(),
        };
        Ok(Value::Function(Rc::new(Function {
            def: def.clone(),
            qualname,
            defaults,
            kwdefaults,
            globals: f.globals.clone(),
            closure,
            filename: f.filename.clone(),
            module: "__main__".into(),
            attrs: RefCell::new(HashMap::new()),
        })))
    }

    fn class_def(&mut self, name: &Rc<str>, bases: &[Expr], body: &[Stmt]) -> R<Value> {
        let mut base_classes = Vec::new();
        for b in bases {
            match self.eval(b)? {
                Value::Class(c) => base_classes.push(c),
                other => {
                    return Err(Exception::type_error(format!(
                        "bases must be types, not {}",
                        other.type_name()
                    )))
                }
            }
        }
        if base_classes.is_empty() {
            base_classes.push(self.types.object.clone());
        }
        let f = self.frame();
        let enclosing = match f.kind {
            FrameKind::Function | FrameKind::Comp => f.locals.clone(),
            _ => f.enclosing.clone(),
        };
        let scope = Scope::new(None);
        let frame = Frame {
            kind: FrameKind::Class,
            locals: Some(scope.clone()),
            enclosing,
            globals: f.globals.clone(),
            func: None,
            filename: f.filename.clone(),
            name: name.clone(),
            line: f.line,
            yields: None,
            handling: Vec::new(),
        };
        self.frames.push(frame);
        let r = self.exec_block(body);
        self.frames.pop();
        r?;
        let cls = Class::new(name, "__main__", base_classes);
        for (k, v) in scope.vars.borrow().iter() {
            cls.set(k, v.clone());
        }
        // As in CPython, defining __eq__ without __hash__ makes instances unhashable.
        if cls.attrs.borrow().contains_key("__eq__") && !cls.attrs.borrow().contains_key("__hash__")
        {
            cls.set("__hash__", Value::None);
        }
        Ok(Value::Class(Rc::new(cls)))
    }

    // ------------------------------------------------------------------ calls

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
            Value::Class(c) => self.instantiate(c, args),
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
            let mut a = args;
            a.pos.insert(0, Value::Class(c.clone()));
            return self.call(&new, a);
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

    fn eval_args(&mut self, args: &[Arg]) -> R<Args> {
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

    // ------------------------------------------------------------------ expressions

    /// Evaluates an expression. The hot, small cases live here; the rest are in
    /// out-of-line functions so that each level of script recursion costs little
    /// Rust stack (debug builds give every match arm its own stack slots).
    pub(crate) fn eval(&mut self, e: &Expr) -> R<Value> {
        match &e.kind {
            ExprKind::Const(v) => Ok(v.clone()),
            ExprKind::Name(n) => self.lookup(n),
            ExprKind::Attr(obj, name) => {
                let o = self.eval(obj)?;
                self.get_attr(&o, name)
            }
            ExprKind::Call(f, args) => self.eval_call(e, f, args),
            _ => self.eval_rare(e),
        }
    }

    #[inline(never)]
    fn eval_call(&mut self, e: &Expr, f: &Expr, args: &[Arg]) -> R<Value> {
        // `super()` without arguments needs the current frame's class and self.
        if let ExprKind::Name(n) = &f.kind {
            if &**n == "super"
                && args.is_empty()
                && self
                    .lookup(n)
                    .is_ok_and(|v| matches!(v, Value::Native(ref nf) if nf.name == "super"))
            {
                return self.zero_arg_super();
            }
        }
        let fv = self.eval(f)?;
        let a = self.eval_args(args)?;
        self.set_line(e.line);
        self.call(&fv, a)
    }

    #[inline(never)]
    fn eval_rare(&mut self, e: &Expr) -> R<Value> {
        match &e.kind {
            ExprKind::Const(v) => Ok(v.clone()),
            ExprKind::Name(n) => self.lookup(n),
            ExprKind::Attr(obj, name) => {
                let o = self.eval(obj)?;
                self.get_attr(&o, name)
            }
            ExprKind::Call(f, args) => {
                // `super()` without arguments needs the current frame's class and self.
                if let ExprKind::Name(n) = &f.kind {
                    if &**n == "super"
                        && args.is_empty()
                        && self
                            .lookup(n)
                            .is_ok_and(|v| matches!(v, Value::Native(ref nf) if nf.name == "super"))
                    {
                        return self.zero_arg_super();
                    }
                }
                let fv = self.eval(f)?;
                let a = self.eval_args(args)?;
                self.set_line(e.line);
                self.call(&fv, a)
            }
            ExprKind::BinOp(a, op, b) => {
                let x = self.eval(a)?;
                let y = self.eval(b)?;
                self.binary(*op, x, y)
            }
            ExprKind::Unary(op, a) => {
                let v = self.eval(a)?;
                self.unary(*op, v)
            }
            ExprKind::BoolOp(is_and, items) => {
                let mut last = Value::None;
                for (i, item) in items.iter().enumerate() {
                    last = self.eval(item)?;
                    if i + 1 == items.len() {
                        break;
                    }
                    let t = self.truthy(&last)?;
                    if t != *is_and {
                        return Ok(last);
                    }
                }
                Ok(last)
            }
            ExprKind::Compare(first, rest) => {
                let mut left = self.eval(first)?;
                for (op, re) in rest {
                    let right = self.eval(re)?;
                    let r = self.compare(*op, &left, &right)?;
                    if !self.truthy(&r)? {
                        return Ok(r);
                    }
                    if std::ptr::eq(re, &rest[rest.len() - 1].1) {
                        return Ok(r);
                    }
                    left = right;
                }
                Ok(Value::Bool(true))
            }
            ExprKind::IfExp(cond, a, b) => {
                let c = self.eval(cond)?;
                if self.truthy(&c)? {
                    self.eval(a)
                } else {
                    self.eval(b)
                }
            }
            ExprKind::Tuple(items) => Ok(Value::tuple(self.eval_items(items)?)),
            ExprKind::List(items) => Ok(Value::list(self.eval_items(items)?)),
            ExprKind::Set(items) => {
                let vals = self.eval_items(items)?;
                let mut d = Dict::new();
                for v in vals {
                    d.insert(v, Value::None)?;
                }
                if items.len() > 2 && items.iter().all(|i| matches!(i.kind, ExprKind::Const(_))) {
                    d.literal_prefix = d.len();
                }
                Ok(Value::Set(Rc::new(RefCell::new(d))))
            }
            ExprKind::Dict(items) => {
                let mut d = Dict::new();
                for (k, v) in items {
                    match k {
                        Some(k) => {
                            let kv = self.eval(k)?;
                            let vv = self.eval(v)?;
                            d.insert(kv, vv)?;
                        }
                        None => {
                            let m = self.eval(v)?;
                            let Value::Dict(src) = &m else {
                                return Err(Exception::type_error(format!(
                                    "'{}' object is not a mapping",
                                    m.type_name()
                                )));
                            };
                            for (k, v) in src.borrow().items() {
                                d.insert(k, v)?;
                            }
                        }
                    }
                }
                Ok(Value::dict(d))
            }
            ExprKind::Subscript(obj, idx) => {
                let o = self.eval(obj)?;
                let i = self.eval(idx)?;
                self.get_item(&o, &i)
            }
            ExprKind::Slice(a, b, c) => {
                let mut parts = [Value::None, Value::None, Value::None];
                for (slot, e) in parts.iter_mut().zip([a, b, c]) {
                    if let Some(e) = e {
                        *slot = self.eval(e)?;
                    }
                }
                Ok(Value::Slice(Rc::new(parts)))
            }
            ExprKind::FString(parts) => {
                let mut out = String::new();
                self.fstring(parts, &mut out)?;
                Ok(Value::Str(out.into()))
            }
            ExprKind::Lambda(def) => self.make_function(def),
            ExprKind::Comp(kind, fors) => self.comprehension(kind, fors),
            ExprKind::GenExp(def, first) => {
                // CPython's model: a generator function called with the first iterable
                let it = self.eval(first)?;
                let it = self.get_iter(&it)?;
                let f = self.make_function(def)?;
                self.call(&f, Args::new(vec![it]))
            }
            ExprKind::Starred(_) => Err(Exception::new(
                "SyntaxError",
                "can't use starred expression here",
            )),
            ExprKind::Yield(v) => {
                let val = match v {
                    Some(v) => self.eval(v)?,
                    None => Value::None,
                };
                match self
                    .frames
                    .iter_mut()
                    .rev()
                    .find(|f| f.kind == FrameKind::Function)
                {
                    Some(Frame {
                        yields: Some(ys), ..
                    }) => {
                        if ys.len() >= MAX_GENERATOR_ITEMS {
                            return Err(Exception::new(
                                "NotImplementedError",
                                "generator yielded more than 1000000 items: the harness runs generators eagerly, so infinite generators are not supported",
                            ));
                        }
                        ys.push((val, super::output::take()));
                        Ok(Value::None)
                    }
                    _ => Err(Exception::new("SyntaxError", "'yield' outside function")),
                }
            }
        }
    }

    fn eval_items(&mut self, items: &[Expr]) -> R<Vec<Value>> {
        let mut out = Vec::with_capacity(items.len());
        for i in items {
            if let ExprKind::Starred(inner) = &i.kind {
                let v = self.eval(inner)?;
                out.extend(self.collect(&v)?);
            } else {
                out.push(self.eval(i)?);
            }
        }
        Ok(out)
    }

    fn fstring(&mut self, parts: &[FPart], out: &mut String) -> R<()> {
        for p in parts {
            match p {
                FPart::Lit(s) => out.push_str(s),
                FPart::Expr {
                    expr,
                    conv,
                    spec,
                    debug,
                } => {
                    if let Some(d) = debug {
                        out.push_str(d);
                    }
                    let v = self.eval(expr)?;
                    let v = match conv {
                        Some('r') | Some('a') => Value::Str(self.repr(&v)?.into()),
                        Some('s') => Value::Str(self.str(&v)?.into()),
                        _ => v,
                    };
                    let mut sp = String::new();
                    self.fstring(spec, &mut sp)?;
                    out.push_str(&self.format_value(&v, &sp)?);
                }
            }
        }
        Ok(())
    }

    fn comprehension(&mut self, kind: &CompKind, fors: &[CompFor]) -> R<Value> {
        // The first iterable is evaluated in the enclosing scope.
        let Some(first) = fors.first() else {
            return Ok(Value::None);
        };
        let first_iter = self.eval(&first.iter)?;
        let f = self.frame();
        let enclosing = match f.kind {
            FrameKind::Function | FrameKind::Comp => f.locals.clone(),
            _ => f.enclosing.clone(),
        };
        let scope = Scope::new(enclosing.clone());
        let frame = Frame {
            kind: FrameKind::Comp,
            locals: Some(scope),
            enclosing,
            globals: f.globals.clone(),
            func: None,
            filename: f.filename.clone(),
            name: f.name.clone(),
            line: f.line,
            yields: None,
            handling: Vec::new(),
        };
        self.frames.push(frame);
        let mut acc = CompAcc {
            list: Vec::new(),
            dict: Dict::new(),
        };
        let r = self.comp_loop(kind, fors, 0, Some(first_iter), &mut acc);
        self.frames.pop();
        r?;
        Ok(match kind {
            CompKind::List(_) => Value::list(acc.list),
            CompKind::Set(_) | CompKind::Dict(..) => {
                if matches!(kind, CompKind::Set(_)) {
                    Value::Set(Rc::new(RefCell::new(acc.dict)))
                } else {
                    Value::dict(acc.dict)
                }
            }
        })
    }

    fn comp_loop(
        &mut self,
        kind: &CompKind,
        fors: &[CompFor],
        i: usize,
        pre: Option<Value>,
        acc: &mut CompAcc,
    ) -> R<()> {
        if i == fors.len() {
            match kind {
                CompKind::List(e) => {
                    let v = self.eval(e)?;
                    acc.list.push(v);
                }
                CompKind::Set(e) => {
                    let v = self.eval(e)?;
                    acc.dict.insert(v, Value::None)?;
                }
                CompKind::Dict(k, v) => {
                    let kv = self.eval(k)?;
                    let vv = self.eval(v)?;
                    acc.dict.insert(kv, vv)?;
                }
            }
            return Ok(());
        }
        let cf = &fors[i];
        let iterable = match pre {
            Some(v) => v,
            None => self.eval(&cf.iter)?,
        };
        let it = self.get_iter(&iterable)?;
        'outer: while let Some(v) = self.next(&it)? {
            self.assign(&cf.target, v)?;
            for cond in &cf.ifs {
                let c = self.eval(cond)?;
                if !self.truthy(&c)? {
                    continue 'outer;
                }
            }
            self.comp_loop(kind, fors, i + 1, None, acc)?;
        }
        Ok(())
    }

    fn zero_arg_super(&mut self) -> R<Value> {
        let f = self.frame();
        let (Some(func), Some(locals)) = (&f.func, &f.locals) else {
            return Err(Exception::new("RuntimeError", "super(): no arguments"));
        };
        let Some(first) = func.params.first() else {
            return Err(Exception::new("RuntimeError", "super(): no arguments"));
        };
        let Some(obj) = locals.get(&first.name) else {
            return Err(Exception::new("RuntimeError", "super(): arg[0] deleted"));
        };
        // Find the class defining the running function by searching the MRO.
        let fname = func.clone();
        let cls = match &obj {
            Value::Class(c) => c.clone(),
            other => self.type_of(other),
        };
        let mut chain = vec![cls.clone()];
        chain.extend(cls.mro.iter().cloned());
        let owner = chain.iter().position(|c| {
            c.attrs.borrow().values().any(|v| match v {
                Value::Function(f) => Rc::ptr_eq(&f.def, &fname),
                Value::Descriptor(d) => {
                    matches!(&d.1, Value::Function(f) if Rc::ptr_eq(&f.def, &fname))
                }
                _ => false,
            })
        });
        let Some(pos) = owner else {
            return Err(Exception::new(
                "RuntimeError",
                "super(): __class__ cell not found",
            ));
        };
        Ok(super::builtins::make_super(chain[pos + 1..].to_vec(), obj))
    }

    // ------------------------------------------------------------------ attributes

    pub fn type_of(&self, v: &Value) -> Rc<Class> {
        let t = &self.types;
        match v {
            Value::None => t.none.clone(),
            Value::Ellipsis => t.ellipsis.clone(),
            Value::NotImplemented => t.not_impl.clone(),
            Value::Bool(_) => t.bool_.clone(),
            Value::Int(_) => t.int.clone(),
            Value::Float(_) => t.float.clone(),
            Value::Str(_) => t.str_.clone(),
            Value::Bytes(_) => t.bytes.clone(),
            Value::List(_) => t.list.clone(),
            Value::Tuple(_) => t.tuple.clone(),
            Value::Dict(_) => t.dict.clone(),
            Value::Set(_) => t.set.clone(),
            Value::Range(..) => t.range.clone(),
            Value::Slice(_) => t.slice.clone(),
            Value::Function(_) => t.function.clone(),
            Value::Native(_) => t.builtin_fn.clone(),
            Value::Bound(_) => t.method.clone(),
            Value::Class(_) => t.type_.clone(),
            Value::Instance(i) => i.class.clone(),
            Value::Module(_) => t.module.clone(),
            Value::Iter(it) => match &*it.borrow() {
                Iter::List(..) => t.list_iterator.clone(),
                Iter::Range(..) => t.range_iterator.clone(),
                Iter::Gen { .. } | Iter::Lazy(_) | Iter::Running => t.generator.clone(),
                _ => t.iterator.clone(),
            },
            Value::Descriptor(d) => match d.0 {
                DescKind::Static => t.staticmethod.clone(),
                DescKind::ClassMethod => t.classmethod.clone(),
                DescKind::Property => t.property.clone(),
            },
        }
    }

    /// `getattr(obj, name)` with CPython's lookup order and error messages.
    pub fn get_attr(&mut self, obj: &Value, name: &str) -> R<Value> {
        match obj {
            Value::Instance(inst) => {
                if let Some(v) = inst.get(name) {
                    return Ok(v);
                }
                if let Some(v) = inst.class.lookup(name) {
                    if let Value::Descriptor(d) = &v {
                        if d.0 == DescKind::Property {
                            let getter = d.1.clone();
                            return self.call(&getter, Args::new(vec![obj.clone()]));
                        }
                    }
                    return Ok(self.bind(obj.clone(), v));
                }
                match name {
                    "__class__" => return Ok(Value::Class(inst.class.clone())),
                    "__dict__" => {
                        let mut d = Dict::new();
                        for (k, v) in inst.dict.borrow().iter() {
                            d.set_str(k, v.clone());
                        }
                        return Ok(Value::dict(d));
                    }
                    _ => {}
                }
                if let Some(ga) = inst.class.lookup("__getattr__") {
                    let f = self.bind(obj.clone(), ga);
                    return self.call(&f, Args::new(vec![Value::str(name)]));
                }
                Err(attr_err(format!(
                    "'{}' object has no attribute '{name}'",
                    inst.class.name
                )))
            }
            Value::Class(c) => {
                if let Some(v) = c.lookup(name) {
                    return Ok(match &v {
                        Value::Descriptor(d) if d.0 == DescKind::Static => d.1.clone(),
                        Value::Descriptor(d) if d.0 == DescKind::ClassMethod => {
                            Value::Bound(Rc::new((obj.clone(), d.1.clone())))
                        }
                        _ => v,
                    });
                }
                match name {
                    "__name__" | "__qualname__" => Ok(Value::str(&c.name)),
                    "__module__" => Ok(Value::str(&c.module)),
                    "__bases__" => Ok(Value::tuple(
                        c.bases.iter().map(|b| Value::Class(b.clone())).collect(),
                    )),
                    "__mro__" => {
                        let mut v = vec![obj.clone()];
                        v.extend(c.mro.iter().map(|b| Value::Class(b.clone())));
                        Ok(Value::tuple(v))
                    }
                    "__class__" => Ok(Value::Class(self.types.type_.clone())),
                    "__doc__" => Ok(Value::None),
                    _ => Err(attr_err(format!(
                        "type object '{}' has no attribute '{name}'",
                        c.name
                    ))),
                }
            }
            Value::Module(m) => match m.get(name) {
                Some(v) => Ok(v),
                None if name == "__name__" => Ok(Value::str(&m.name)),
                None => {
                    // submodule registered but not yet attached
                    let full = format!("{}.{}", m.name, name);
                    if self.modules.contains_key(&full) {
                        return Ok(Value::Module(self.modules[&full].clone()));
                    }
                    Err(attr_err(format!(
                        "module '{}' has no attribute '{name}'",
                        m.name
                    )))
                }
            },
            Value::Function(f) => match name {
                "__name__" => Ok(Value::str(&f.def.name)),
                "__qualname__" => Ok(Value::str(&f.qualname)),
                "__module__" => Ok(Value::Str(f.module.clone())),
                "__doc__" => Ok(Value::None),
                _ => match f.attrs.borrow().get(name) {
                    Some(v) => Ok(v.clone()),
                    None => Err(attr_err(format!(
                        "'function' object has no attribute '{name}'"
                    ))),
                },
            },
            Value::Native(f) if name == "__name__" => Ok(Value::str(&f.name)),
            Value::Bound(b) if name == "__self__" => Ok(b.0.clone()),
            Value::Bound(b) if name == "__func__" => Ok(b.1.clone()),
            Value::Bound(b) if name == "__name__" => {
                let inner = b.1.clone();
                self.get_attr(&inner, name)
            }
            _ => {
                let cls = self.type_of(obj);
                if let Some(v) = cls.lookup(name) {
                    if let Value::Descriptor(d) = &v {
                        if d.0 == DescKind::Property {
                            let getter = d.1.clone();
                            return self.call(&getter, Args::new(vec![obj.clone()]));
                        }
                    }
                    return Ok(self.bind(obj.clone(), v));
                }
                if name == "__class__" {
                    return Ok(Value::Class(cls));
                }
                Err(attr_err(format!(
                    "'{}' object has no attribute '{name}'",
                    obj.type_name()
                )))
            }
        }
    }

    pub fn set_attr(&mut self, obj: &Value, name: &str, v: Value) -> R<()> {
        match obj {
            Value::Instance(inst) => {
                if let Some(sa) = inst.class.lookup("__setattr__") {
                    let f = self.bind(obj.clone(), sa);
                    self.call(&f, Args::new(vec![Value::str(name), v]))?;
                    return Ok(());
                }
                if let Some(Value::Descriptor(d)) = inst.class.lookup(name) {
                    if d.0 == DescKind::Property {
                        return Err(attr_err(format!(
                            "property '{name}' of '{}' object has no setter",
                            inst.class.name
                        )));
                    }
                }
                inst.set(name, v);
                Ok(())
            }
            Value::Class(c) => {
                c.set(name, v);
                Ok(())
            }
            Value::Module(m) => {
                m.set(name, v);
                Ok(())
            }
            Value::Function(f) => {
                f.attrs.borrow_mut().insert(name.to_string(), v);
                Ok(())
            }
            _ => {
                let has = self.type_of(obj).lookup(name).is_some();
                Err(attr_err(if has {
                    format!(
                        "'{}' object attribute '{name}' is read-only",
                        obj.type_name()
                    )
                } else {
                    format!("'{}' object has no attribute '{name}'", obj.type_name())
                }))
            }
        }
    }

    // ------------------------------------------------------------------ imports

    pub fn import_module(&mut self, name: &str) -> R<Rc<Module>> {
        if let Some(m) = self.modules.get(name) {
            return Ok(m.clone());
        }
        if let Some(m) = super::stdlib::create(self, name) {
            let m = Rc::new(m);
            self.modules.insert(name.to_string(), m.clone());
            if let Some((parent, child)) = name.rsplit_once('.') {
                let p = self.import_module(parent)?;
                p.set(child, Value::Module(m.clone()));
            }
            return Ok(m);
        }
        let top = name.split('.').next().unwrap_or(name);
        if CPYTHON_STDLIB.contains(&top) {
            return Err(Exception::new(
                "NotImplementedError",
                format!("module '{name}' is not supported by the harness's Python subset (supported: sys, os, os.path, time, json, pprint, datetime, decimal)"),
            ));
        }
        Err(Exception::new(
            "ModuleNotFoundError",
            format!("No module named '{name}'"),
        ))
    }

    /// Registers a module (and its parent packages) under a dotted name.
    pub fn register_module(&mut self, name: &str, module: Module) {
        let m = Rc::new(module);
        let mut parent_name = String::new();
        let parts: Vec<&str> = name.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            let full = if parent_name.is_empty() {
                part.to_string()
            } else {
                format!("{parent_name}.{part}")
            };
            let this = if i + 1 == parts.len() {
                self.modules.insert(full.clone(), m.clone());
                m.clone()
            } else {
                self.modules
                    .entry(full.clone())
                    .or_insert_with(|| Rc::new(Module::new(&full)))
                    .clone()
            };
            if !parent_name.is_empty() {
                if let Some(p) = self.modules.get(&parent_name) {
                    p.set(part, Value::Module(this));
                }
            }
            parent_name = full;
        }
    }
}

/// CPython standard modules we do not provide: importing one is a clear
/// NotImplementedError rather than CPython-contradicting ModuleNotFoundError.
const CPYTHON_STDLIB: &[&str] = &[
    "abc",
    "argparse",
    "array",
    "ast",
    "asyncio",
    "base64",
    "binascii",
    "bisect",
    "calendar",
    "cmath",
    "codecs",
    "collections",
    "configparser",
    "contextlib",
    "copy",
    "csv",
    "ctypes",
    "dataclasses",
    "difflib",
    "doctest",
    "email",
    "enum",
    "errno",
    "fnmatch",
    "fractions",
    "functools",
    "gc",
    "getpass",
    "glob",
    "gzip",
    "hashlib",
    "heapq",
    "hmac",
    "html",
    "http",
    "importlib",
    "inspect",
    "io",
    "ipaddress",
    "itertools",
    "locale",
    "logging",
    "math",
    "mimetypes",
    "multiprocessing",
    "numbers",
    "operator",
    "pathlib",
    "pickle",
    "platform",
    "queue",
    "random",
    "re",
    "secrets",
    "select",
    "shlex",
    "shutil",
    "signal",
    "socket",
    "sqlite3",
    "ssl",
    "stat",
    "statistics",
    "string",
    "struct",
    "subprocess",
    "tempfile",
    "textwrap",
    "threading",
    "timeit",
    "traceback",
    "types",
    "typing",
    "unittest",
    "urllib",
    "uuid",
    "warnings",
    "weakref",
    "xml",
    "zipfile",
    "zlib",
    "zoneinfo",
];

struct CompAcc {
    list: Vec<Value>,
    dict: Dict,
}

pub(crate) fn op_dunder(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "__add__",
        BinOp::Sub => "__sub__",
        BinOp::Mul => "__mul__",
        BinOp::Div => "__truediv__",
        BinOp::FloorDiv => "__floordiv__",
        BinOp::Mod => "__mod__",
        BinOp::Pow => "__pow__",
        BinOp::LShift => "__lshift__",
        BinOp::RShift => "__rshift__",
        BinOp::BitAnd => "__and__",
        BinOp::BitOr => "__or__",
        BinOp::BitXor => "__xor__",
        BinOp::MatMul => "__matmul__",
    }
}
