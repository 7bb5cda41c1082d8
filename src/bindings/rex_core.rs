//! `rex.core`: `Rex(name, **settings)` (an application: `on()`, `off()`, `with`) and
//! the `Error` exception class.

use super::{AppHandle, Session};
use crate::asynctask::WorkerRegistry;
use crate::job::Registry;
use crate::mart::tasks::{MartCreateExecutor, MartCreateWorker};
use crate::provision::DbMode;
use crate::script::native::{arg_str, state_of, to_json, ClassBuilder};
use crate::script::value::{Module, Value};
use crate::script::Interpreter;
use std::rc::Rc;
use std::sync::Arc;

/// The Rust state of a `Rex` object.
struct RexState {
    name: String,
    handle: Rc<AppHandle>,
}

pub fn install(interp: &mut Interpreter, session: &Rc<Session>) {
    let m = Module::new("rex.core");
    let error = ClassBuilder::exception(interp, "Error", "rex.core", None).build();
    *session.error_class.borrow_mut() = Some(error.clone());

    let s = session.clone();
    let on = session.clone();
    let off = session.clone();
    let enter = session.clone();
    let exit = session.clone();
    let rex = ClassBuilder::new(interp, "Rex", "rex.core")
        .init(move |it, inst, a| {
            let name = arg_str(a.arg(0)?, "Rex() application name")?.to_string();
            let mut overrides = serde_json::Map::new();
            for (k, v) in &a.kw {
                overrides.insert(k.to_string(), to_json(it, v)?);
            }
            let handle = open(it, &s, &name, &overrides).map_err(|e| s.raise(e))?;
            s.opened.borrow_mut().push(handle.clone());
            inst.set_native(RexState { name, handle });
            Ok(())
        })
        .method("on", move |_, this, _| {
            let st = state_of::<RexState>(this, "Rex")?;
            on.active.borrow_mut().push(st.handle.clone());
            Ok(Value::None)
        })
        .method("off", move |_, this, _| {
            let st = state_of::<RexState>(this, "Rex")?;
            deactivate(&off, &st.handle);
            Ok(Value::None)
        })
        .method("__enter__", move |_, this, _| {
            let st = state_of::<RexState>(this, "Rex")?;
            enter.active.borrow_mut().push(st.handle.clone());
            Ok(this.clone())
        })
        .method("__exit__", move |_, this, _| {
            let st = state_of::<RexState>(this, "Rex")?;
            deactivate(&exit, &st.handle);
            Ok(Value::Bool(false))
        })
        .method("__repr__", |_, this, _| {
            let st = state_of::<RexState>(this, "Rex")?;
            Ok(Value::str(&format!(
                "Rex({})",
                crate::core::repr::py_str_repr(&st.name)
            )))
        })
        .build();
    m.set("Rex", Value::Class(rex));
    m.set("Error", Value::Class(error));
    interp.register_module("rex.core", m);
}

/// Removes the last activation of `handle` (`rex.off()`).
fn deactivate(session: &Session, handle: &Rc<AppHandle>) {
    let mut active = session.active.borrow_mut();
    if let Some(pos) = active.iter().rposition(|h| Rc::ptr_eq(h, handle)) {
        active.remove(pos);
    }
}

/// Opens an application the way `Rex(...)` initializes one: settings, a fresh
/// application database, logging level, mart definitions validated, and the
/// executors and workers of rex.job and rex.mart registered.
fn open(
    it: &mut Interpreter,
    session: &Session,
    name: &str,
    overrides: &serde_json::Map<String, serde_json::Value>,
) -> crate::core::Result<Rc<AppHandle>> {
    let mut app = session.provisioner.open(name, overrides, DbMode::Fresh)?;
    let level = app
        .settings
        .get("logging_root")
        .and_then(|r| r.get("level"))
        .and_then(|l| l.as_str())
        .unwrap_or("INFO");
    crate::core::logging::set_level(level);
    crate::mart::Definitions::for_app(&app)
        .map_err(|e| e.wrap_with("While initializing RexDB application:", name))?;
    let executors = Registry::new().with(Arc::new(MartCreateExecutor))?;
    let workers = WorkerRegistry::new().with(Arc::new(MartCreateWorker))?;
    let (executors, workers) =
        super::app_code::activate(it, &mut app, overrides, executors, workers)?;
    Ok(Rc::new(AppHandle {
        app,
        executors,
        workers,
    }))
}
