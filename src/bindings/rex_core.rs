//! `rex.core`: `Rex(name, ..., **settings)` and `LatentRex` (an application: `on()`,
//! `off()`, `with`) and the `Error` exception class (message,
//! payload, `wrap`); also rex.mart's `guarded` context manager, which makes them.

use super::{AppHandle, Session};
use crate::provision::DbMode;
use crate::script::native::{arg_str, new_object, state_of, to_json, ClassBuilder};
use crate::script::value::{Args, Class, Exception, Module, Value};
use crate::script::Interpreter;
use std::cell::RefCell;
use std::rc::Rc;

pub fn install(interp: &mut Interpreter, session: &Rc<Session>) {
    let m = Module::new("rex.core");
    let error = ClassBuilder::exception(interp, "Error", "rex.core", None)
        .method("__str__", |it, this, _| {
            Ok(Value::str(&error_text(it, this)?))
        })
        .method("wrap", |it, this, a| {
            let p = a.bind("wrap", &["msg", "payload"], 1)?;
            let msg = it.str(p[0].as_ref().unwrap_or(&Value::None))?;
            let payload = match p[1].as_ref().filter(|v| !v.is_none()) {
                Some(v) => Some(it.str(v)?),
                None => None,
            };
            let text = wrapped(&error_text(it, this)?, &msg, payload.as_deref());
            if let Value::Instance(inst) = this {
                inst.set("args", Value::tuple(vec![Value::str(&text)]));
            }
            Ok(Value::None)
        })
        .build();
    *session.error_class.borrow_mut() = Some(error.clone());
    *session.guard_class.borrow_mut() = Some(guard_class(interp, session));
    let rex = rex_class(interp, session, "Rex", false);
    m.set(
        "LatentRex",
        Value::Class(rex_class(interp, session, "LatentRex", true)),
    );
    m.set("Rex", Value::Class(rex));
    m.set("Error", Value::Class(error));
    interp.register_module("rex.core", m);
}

/// The Rust state of a `Rex` object: opened when made (`Rex`) or when first
/// activated (`LatentRex`).
struct RexState {
    /// The package names given (`'__main__', 'rex.mart_demo'`).
    requirements: Vec<String>,
    /// `repr`: `Rex('__main__', 'rex.mart_demo', db='pgsql:x')`.
    repr: String,
    overrides: serde_json::Map<String, serde_json::Value>,
    handle: RefCell<Option<Rc<AppHandle>>>,
}

/// The application a `Rex` object opened (opening a `LatentRex`), for the other
/// binding modules; `None` for other values.
pub(super) fn handle_of(
    it: &mut Interpreter,
    session: &Session,
    v: &Value,
) -> Option<Result<Rc<AppHandle>, Exception>> {
    crate::script::native::state::<RexState>(v).map(|s| s.handle(it, session))
}

impl RexState {
    fn handle(&self, it: &mut Interpreter, session: &Session) -> Result<Rc<AppHandle>, Exception> {
        if let Some(h) = &*self.handle.borrow() {
            return Ok(h.clone());
        }
        let handle =
            open(it, session, &self.requirements, &self.overrides).map_err(|e| session.raise(e))?;
        session.opened.borrow_mut().push(handle.clone());
        *self.handle.borrow_mut() = Some(handle.clone());
        Ok(handle)
    }
}

/// The package names given to `Rex(...)`.
fn requirements(a: &Args) -> Result<Vec<String>, Exception> {
    let mut names = Vec::new();
    for v in &a.pos {
        names.push(arg_str(v, "Rex() package name")?.to_string());
    }
    if names.is_empty() {
        return Err(Exception::type_error("Rex() needs an application name"));
    }
    Ok(names)
}

/// `Rex` (`lazy`: `LatentRex`).
fn rex_class(interp: &Interpreter, session: &Rc<Session>, name: &str, lazy: bool) -> Rc<Class> {
    let s = session.clone();
    let on = session.clone();
    let off = session.clone();
    let enter = session.clone();
    let exit = session.clone();
    let class_name = name.to_string();
    ClassBuilder::new(interp, name, "rex.core")
        .init(move |it, inst, a| {
            let requirements = requirements(&a)?;
            if a.pos
                .iter()
                .any(|v| matches!(v, Value::Str(p) if &**p == "__main__"))
            {
                s.main_package.set(true);
            }
            let mut overrides = serde_json::Map::new();
            for (k, v) in &a.kw {
                overrides.insert(k.to_string(), to_json(it, v)?);
            }
            let mut args: Vec<String> = Vec::new();
            for v in &a.pos {
                args.push(it.repr(v)?);
            }
            let mut keys: Vec<&String> = overrides.keys().collect();
            keys.sort();
            for k in keys {
                args.push(format!(
                    "{k}={}",
                    crate::core::repr::py_json_repr(&overrides[k])
                ));
            }
            let state = RexState {
                requirements,
                repr: format!("{class_name}({})", args.join(", ")),
                overrides,
                handle: RefCell::new(None),
            };
            if !lazy {
                state.handle(it, &s)?;
            }
            inst.set_native(state);
            Ok(())
        })
        .method("on", move |it, this, _| {
            let st = state_of::<RexState>(this, "Rex")?;
            let handle = st.handle(it, &on)?;
            on.active.borrow_mut().push(handle);
            Ok(Value::None)
        })
        .method("off", move |_, this, _| {
            let st = state_of::<RexState>(this, "Rex")?;
            if let Some(h) = &*st.handle.borrow() {
                deactivate(&off, h);
            }
            Ok(Value::None)
        })
        .method("__enter__", move |it, this, _| {
            let st = state_of::<RexState>(this, "Rex")?;
            let handle = st.handle(it, &enter)?;
            enter.active.borrow_mut().push(handle);
            Ok(this.clone())
        })
        .method("__exit__", move |_, this, _| {
            let st = state_of::<RexState>(this, "Rex")?;
            if let Some(h) = &*st.handle.borrow() {
                deactivate(&exit, h);
            }
            Ok(Value::Bool(false))
        })
        .method("__repr__", |_, this, _| {
            let st = state_of::<RexState>(this, "Rex")?;
            Ok(Value::str(&st.repr))
        })
        .build()
}

/// `rex.core.Error`'s text: the message, then the payload indented by 4.
fn error_text(it: &mut Interpreter, this: &Value) -> Result<String, Exception> {
    let args = it.get_attr(this, "args")?;
    let items = match &args {
        Value::Tuple(t) => t.to_vec(),
        _ => Vec::new(),
    };
    let mut text = match items.first() {
        Some(v) => it.str(v)?,
        None => String::new(),
    };
    if let Some(payload) = items.get(1).filter(|p| !p.is_none()) {
        text.push('\n');
        text.push_str(&indent(&it.str(payload)?));
    }
    Ok(text)
}

fn indent(text: &str) -> String {
    crate::core::error::python_splitlines(text)
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `Error.wrap(msg, payload)`: the text with one more paragraph.
fn wrapped(text: &str, msg: &str, payload: Option<&str>) -> String {
    let mut out = format!("{text}\n{msg}");
    if let Some(p) = payload {
        out.push('\n');
        out.push_str(&indent(p));
    }
    out
}

/// The state of a `guarded(msg, payload)` context manager.
struct Guard {
    msg: String,
    payload: Option<Value>,
}

/// rex.mart's `guarded(msg, payload=None)`: any exception leaving the block becomes
/// a `rex.core.Error` with one more paragraph.
pub(super) fn guard_object(session: &Rc<Session>, msg: String, payload: Option<Value>) -> Value {
    let class = session
        .guard_class
        .borrow()
        .clone()
        .unwrap_or_else(|| unreachable!("rex.core is installed first"));
    new_object(&class, Guard { msg, payload })
}

fn guard_class(interp: &Interpreter, session: &Rc<Session>) -> Rc<Class> {
    let s = session.clone();
    ClassBuilder::new(interp, "guarded", "rex.mart")
        .method("__enter__", |_, _, _| Ok(Value::None))
        .method("__exit__", move |it, this, a| {
            let g = state_of::<Guard>(this, "guarded")?;
            let exc = a.arg(1)?.clone();
            let Value::Instance(inst) = &exc else {
                return Ok(Value::Bool(false));
            };
            let payload = match &g.payload {
                Some(p) => Some(it.str(p)?),
                None => None,
            };
            let class = s.error_class.borrow().clone();
            let is_error = class.as_ref().is_some_and(|c| inst.class.is_subclass(c));
            let text = if is_error {
                error_text(it, &exc)?
            } else {
                it.str(&exc)?
            };
            let text = wrapped(&text, &g.msg, payload.as_deref());
            if is_error {
                inst.set("args", Value::tuple(vec![Value::str(&text)]));
                return Ok(Value::Bool(false));
            }
            Err(s.error(&text))
        })
        .build()
}

/// Removes the last activation of `handle` (`rex.off()`).
fn deactivate(session: &Session, handle: &Rc<AppHandle>) {
    let mut active = session.active.borrow_mut();
    if let Some(pos) = active.iter().rposition(|h| Rc::ptr_eq(h, handle)) {
        active.remove(pos);
    }
}

/// Opens an application the way `Rex(...)` initializes one: its packages, settings,
/// a fresh application database, logging level, mart definitions validated, and the
/// executors and workers of its packages registered.
fn open(
    it: &mut Interpreter,
    session: &Session,
    requirements: &[String],
    overrides: &serde_json::Map<String, serde_json::Value>,
) -> crate::core::Result<Rc<AppHandle>> {
    if let Some(serde_json::Value::String(url)) = overrides.get("mart_hosting_cluster") {
        if !url.starts_with("pgsql:") {
            return Err(
                crate::core::Error::new("Only PostgreSQL systems can host Marts")
                    .wrap_with("While validating setting:", "mart_hosting_cluster"),
            );
        }
    }
    let mut app =
        session
            .provisioner
            .open_packages(requirements, overrides, DbMode::Fresh, None)?;
    let level = app
        .settings
        .get("logging_root")
        .and_then(|r| r.get("level"))
        .and_then(|l| l.as_str())
        .unwrap_or("INFO");
    crate::core::logging::set_thread_level(level);
    let (executors, workers) = super::app_code::activate(it, &mut app, overrides)?;
    // After the code: definitions may name the processors it defines.
    crate::mart::Definitions::for_app(&app).map_err(|e| {
        e.wrap_with(
            "While initializing RexDB application:",
            app.packages.given(),
        )
    })?;
    Ok(Rc::new(AppHandle {
        app,
        executors,
        workers,
    }))
}
