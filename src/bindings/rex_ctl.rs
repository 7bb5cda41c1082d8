//! `rex.ctl`: `ctl(cmd, input='', expect=0)` and `Ctl(cmd, input='')` with `.wait(expect=0)`,
//! `.stop()`. As rex.ctl does, each runs a real `rex` process (this executable, called
//! `rex`), its standard input read from `input`, its standard output and error
//! gathered into one text; an exit status other than `expect` raises
//! `rex.core.Error` ("Received unexpected exit code:").
//!
//! A task on an application works on the transcript's own databases: the binding
//! makes sure the session has the application's database (the one an earlier
//! `Rex(...)` of the same application and `db` opened, else a fresh one it will drop
//! with the others) and tells the child its servers and database
//! (`cli::ctl::app::ENV_*`).

use super::{AppHandle, Session};
use crate::cli::ctl::app as ctl_app;
use crate::core::rex_process::{list2cmdline, shlex_split, RexProcess};
use crate::script::native::{arg_int, arg_str, state_of, ClassBuilder};
use crate::script::value::{Exception, Module, Value};
use crate::script::Interpreter;
use std::cell::RefCell;
use std::rc::Rc;

/// A running (or finished) `rex` process.
struct CtlState {
    cmd: Vec<String>,
    child: RefCell<Option<RexProcess>>,
}

pub fn install(interp: &mut Interpreter, session: &Rc<Session>) {
    let m = Module::new("rex.ctl");
    let s = session.clone();
    let w = session.clone();
    let st = session.clone();
    let class = ClassBuilder::new(interp, "Ctl", "rex.ctl")
        .init(move |it, inst, a| {
            let bound = a.bind("Ctl", &["cmd", "input"], 1)?;
            let cmd = command_line(it, bound[0].as_ref())?;
            let input = input_text(bound[1].as_ref())?;
            let child = start(&s, &cmd, &input)?;
            inst.set_native(CtlState {
                cmd,
                child: RefCell::new(Some(child)),
            });
            Ok(())
        })
        .method("wait", move |_, this, a| {
            let bound = a.bind("wait", &["expect"], 0)?;
            let expect = expect_of(bound[0].as_ref(), true)?;
            let state = state_of::<CtlState>(this, "Ctl")?;
            Ok(Value::str(&finish(&w, &state, expect, false)?))
        })
        .method("stop", move |_, this, _| {
            let state = state_of::<CtlState>(this, "Ctl")?;
            Ok(Value::str(&finish(&st, &state, None, true)?))
        })
        .method("__repr__", |_, this, _| {
            let state = state_of::<CtlState>(this, "Ctl")?;
            Ok(Value::str(&format!(
                "Ctl({})",
                crate::core::repr::py_str_repr(&list2cmdline(&state.cmd))
            )))
        })
        .build();
    let s = session.clone();
    m.add_fn("ctl", move |it, a| {
        let bound = a.bind("ctl", &["cmd", "input", "expect"], 1)?;
        let cmd = command_line(it, bound[0].as_ref())?;
        let input = input_text(bound[1].as_ref())?;
        let expect = expect_of(bound[2].as_ref(), true)?;
        let child = start(&s, &cmd, &input)?;
        let state = CtlState {
            cmd,
            child: RefCell::new(Some(child)),
        };
        let output = finish(&s, &state, expect, false)?;
        crate::script::output::write(&output);
        Ok(Value::None)
    });
    m.set("Ctl", Value::Class(class));
    interp.register_module("rex.ctl", m);
}

/// `cmd`: a string split as `shlex.split` does, or a list of strings.
fn command_line(it: &mut Interpreter, v: Option<&Value>) -> Result<Vec<String>, Exception> {
    let v = v.ok_or_else(|| Exception::type_error("missing cmd"))?;
    if let Ok(text) = arg_str(v, "cmd") {
        return shlex_split(&text).ok_or_else(|| Exception::value_error("No closing quotation"));
    }
    let items = crate::script::native::to_json(it, v)?;
    match items {
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(|i| match i {
                serde_json::Value::String(s) => Ok(s),
                _ => Err(Exception::type_error("expected a list of strings")),
            })
            .collect(),
        _ => Err(Exception::type_error(
            "expected a string or a list of strings",
        )),
    }
}

fn input_text(v: Option<&Value>) -> Result<String, Exception> {
    match v {
        None | Some(Value::None) => Ok(String::new()),
        Some(v) => Ok(arg_str(v, "input")?.to_string()),
    }
}

/// `expect`: an int, or None (any status); absent: `default_zero` gives 0.
fn expect_of(v: Option<&Value>, default_zero: bool) -> Result<Option<i64>, Exception> {
    match v {
        None => Ok(default_zero.then_some(0)),
        Some(Value::None) => Ok(None),
        Some(v) => Ok(Some(arg_int(v, "expect")?)),
    }
}

/// Starts `rex CMD...` on the transcript's databases.
fn start(session: &Session, cmd: &[String], input: &str) -> Result<RexProcess, Exception> {
    RexProcess::start(cmd, input, &child_env(session, cmd), &[])
        .map_err(|e| Exception::new("OSError", e.to_string()))
}

/// The environment telling the child which servers and database are the
/// transcript's; empty for tasks without an application (help) or when the
/// application cannot be opened here (the child then reports why).
fn child_env(session: &Session, cmd: &[String]) -> Vec<(&'static str, String)> {
    let argv: Vec<String> = std::iter::once("rex".to_string())
        .chain(cmd.iter().cloned())
        .collect();
    let Ok(inv) = crate::cli::ctl::parse("rex", &argv) else {
        return Vec::new();
    };
    if matches!(inv.task.name, "" | "help") {
        return Vec::new();
    }
    let Ok(project) = ctl_app::project(&inv, inv.arg("project")) else {
        return Vec::new();
    };
    let Ok((Some(dir), settings)) = ctl_app::settings(&project) else {
        return Vec::new();
    };
    let Ok(handle) = handle_for(session, &project, settings.get_str("db")) else {
        return Vec::new();
    };
    let app = &handle.app;
    let mut env = vec![
        (ctl_app::ENV_PRIMARY, app.db.server.url("postgres")),
        (ctl_app::ENV_DB, app.db.name.clone()),
    ];
    let names_hosting = settings
        .get_str("mart_hosting_cluster")
        .and_then(|u| crate::pg::RexUrl::parse(u).ok())
        .is_some_and(|u| u.is_local() && u.port == Some(crate::pg::clusters::HOSTING_PORT));
    if names_hosting {
        if let Ok(hosting) = session.provisioner().clusters().hosting() {
            env.push((ctl_app::ENV_HOSTING, hosting.url("postgres")));
        }
    }
    if let Some(parent) = dir.parent() {
        let mut apps = parent.display().to_string();
        if let Some(more) = crate::core::env::var("HARNESS_APPS") {
            apps = format!("{apps}:{more}");
        }
        env.push(("HARNESS_APPS", apps));
    }
    env
}

/// The session's application `project` on database setting `db`: the first one
/// opened (so that every `ctl` of a transcript sees the same database), else a fresh
/// one (dropped with the session's others).
fn handle_for(
    session: &Session,
    project: &ctl_app::Project,
    db: Option<&str>,
) -> crate::core::Result<Rc<AppHandle>> {
    let found = session
        .opened
        .borrow()
        .iter()
        .find(|h| h.app.name == project.name && h.app.settings.get_str("db") == db)
        .cloned();
    if let Some(handle) = found {
        return Ok(handle);
    }
    let app = session.provisioner().open(
        &project.name,
        &project.overrides,
        crate::provision::DbMode::Fresh,
    )?;
    let handle = Rc::new(AppHandle {
        app,
        executors: crate::job::Registry::new(),
        workers: crate::asynctask::WorkerRegistry::new(),
    });
    session.opened.borrow_mut().push(handle.clone());
    Ok(handle)
}

/// Waits for the process (after SIGINT when `stop`), returns its output; an exit
/// status other than `expect` raises rex.core.Error.
fn finish(
    session: &Session,
    state: &CtlState,
    expect: Option<i64>,
    stop: bool,
) -> Result<String, Exception> {
    let Some(process) = state.child.borrow_mut().take() else {
        return Err(session.error("The process has already been waited for"));
    };
    if stop {
        process.interrupt();
    }
    process.wait(expect).map_err(|e| session.raise(e))
}
