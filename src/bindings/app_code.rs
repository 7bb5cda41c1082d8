//! Application code: the Python modules an application folder carries, run by our
//! Python subset, and the extensions they define.
//!
//! Layout: `definitions/<app>/__init__.py` is the module named after the application
//! (`from rex.job_demo import FastExecutor`); any other `definitions/<app>/<mod>.py`
//! is its submodule `<app>.<mod>`, loaded first, in name order. Activating the
//! application (`Rex(...)`, `harness worker --app`, every app subcommand through
//! [`check`]) runs them once per interpreter.
//!
//! Extensions: a class of that code deriving from a native extension base
//! (`rex.job.JobExecutor`, `rex.asynctask.AsyncTaskWorker`, `rex.mart.MartQuota`...)
//! whose `name` is a string is registered under that name; among several
//! applications, later ones override earlier ones ([`extensions`]).
//!
//! The domain's traits are implemented here by [`PyExecutor`] and [`PyWorker`]: they
//! hold only names (they are `Send + Sync`) and find their class in the interpreter of
//! the calling thread: the transcript's own interpreter while a binding runs a domain
//! call ([`with_interpreter`]), or else one interpreter per thread owned here (worker
//! threads of `harness worker`), whose `print` output goes to stderr after each call.

use super::{AppHandle, Session};
use crate::asynctask::{Worker, WorkerRegistry};
use crate::core::app::{App, SearchPath};
use crate::core::{Error, Result};
use crate::job::{Executor, Registry};
use crate::pg::{Clusters, Options};
use crate::provision::{extensions, Provisioner};
use crate::script::ast::StmtKind;
use crate::script::interp::Scope;
use crate::script::native::{call_method, from_json};
use crate::script::value::{Args, Class, Exception, Module, Value};
use crate::script::Interpreter;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

/// The module attribute marking a module as loaded application code.
const MARK: &str = "__harness_app_dir__";

/// The Python files of an application folder as (module name, path), submodules
/// first (by name), the package module (`__init__.py`) last.
pub fn files(app_name: &str, dir: &Path) -> Vec<(String, PathBuf)> {
    let mut subs = Vec::new();
    let mut init = None;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("py") || !path.is_file() {
                continue;
            }
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if stem == "__init__" {
                init = Some((app_name.to_string(), path));
            } else {
                subs.push((format!("{app_name}.{stem}"), path));
            }
        }
    }
    subs.sort();
    subs.extend(init);
    subs
}

/// Runs the application's code in `it` (once: later calls find it loaded) and
/// returns its modules in load order. Errors carry the file, the line and the
/// traceback, and name the application.
pub fn load(it: &mut Interpreter, app_name: &str, dir: &Path) -> Result<Vec<Rc<Module>>> {
    let mut out = Vec::new();
    for (name, path) in files(app_name, dir) {
        let loaded = it
            .import_module(&name)
            .ok()
            .filter(|m| m.get(MARK).is_some());
        let module = match loaded {
            Some(m) => m,
            None => exec_file(it, &name, &path)
                .map_err(|e| e.wrap_with("While initializing RexDB application:", app_name))?,
        };
        out.push(module);
    }
    Ok(out)
}

/// Runs one file as module `name` with its own globals and registers it.
fn exec_file(it: &mut Interpreter, name: &str, path: &Path) -> Result<Rc<Module>> {
    let filename = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|e| {
        Error::with(
            "Failed to read application code:",
            format!("{filename}: {e}"),
        )
    })?;
    let parsed = crate::script::parser::parse(&source).map_err(|e| {
        Error::with(
            "Failed to load application code:",
            format!(
                "  File \"{filename}\", line {}\nSyntaxError: {}",
                e.line, e.message
            ),
        )
    })?;
    let scope = Scope::new(None);
    scope.set("__name__".into(), Value::str(name));
    let saved = std::mem::replace(&mut it.globals, scope.clone());
    let ran = it.run_source(&source, &filename);
    it.globals = saved;
    match ran {
        Ok(Ok(())) => {}
        Ok(Err(raised)) => {
            return Err(Error::with(
                "Failed to load application code:",
                raised.traceback.trim_end(),
            ))
        }
        Err(e) => {
            return Err(Error::with(
                "Failed to load application code:",
                format!(
                    "  File \"{filename}\", line {}\nSyntaxError: {}",
                    e.line, e.message
                ),
            ))
        }
    }
    // Attributes in definition order (top-level definitions first, as written), so
    // that extensions are listed the way the code defines them.
    let module = Module::new(name);
    let vars = scope.vars.borrow();
    for stmt in &parsed.body {
        let name = match &stmt.kind {
            StmtKind::ClassDef { name, .. } => name,
            StmtKind::FunctionDef(def) => &def.name,
            _ => continue,
        };
        if let Some(v) = vars.get(&**name) {
            module.set(name, v.clone());
        }
    }
    let mut rest: Vec<(&Rc<str>, &Value)> = vars.iter().collect();
    rest.sort_by(|a, b| a.0.cmp(b.0));
    for (k, v) in rest {
        if module.get(k).is_none() {
            module.set(k, v.clone());
        }
    }
    module.set(MARK, Value::str(&filename));
    drop(vars);
    it.register_module(name, module);
    it.import_module(name)
        .map_err(|_| Error::with("Failed to register module:", name))
}

/// The classes of `modules` deriving from `base` whose `name` is a string, as
/// (name, class) in definition order; a later definition of a name replaces an
/// earlier one in place. Classes imported from elsewhere count once.
pub fn subclasses(modules: &[Rc<Module>], base: &Rc<Class>) -> Vec<(String, Rc<Class>)> {
    let mut out: Vec<(String, Rc<Class>)> = Vec::new();
    for m in modules {
        let order = m.order.borrow().clone();
        for attr in order {
            let Some(Value::Class(c)) = m.get(&attr) else {
                continue;
            };
            // Native classes (rex.job's own workers, imported) are not app code.
            let own = c.module == "__main__"
                || c.module == m.name
                || c.module.starts_with(&format!("{}.", m.name));
            if !own || Rc::ptr_eq(&c, base) || !c.is_subclass(base) {
                continue;
            }
            let Some(Value::Str(name)) = c.lookup("name") else {
                continue;
            };
            match out.iter_mut().find(|(n, _)| **n == *name) {
                Some(slot) => slot.1 = c,
                None => out.push((name.to_string(), c)),
            }
        }
    }
    out
}

/// The extensions of the applications `apps` (name, directory; in activation order)
/// deriving from `base`: loads their code into `it`, then [`subclasses`]. Later
/// applications override earlier ones. This is the function other bindings call,
/// e.g. for `rex.mart.MartQuota`.
pub fn extensions(
    it: &mut Interpreter,
    apps: &[(&str, &Path)],
    base: &Rc<Class>,
) -> Result<Vec<(String, Rc<Class>)>> {
    let mut modules = Vec::new();
    for (name, dir) in apps {
        modules.extend(load(it, name, dir)?);
    }
    Ok(subclasses(&modules, base))
}

/// A native base class registered by a binding module (`rex.job`, `JobExecutor`).
pub fn base_class(it: &mut Interpreter, module: &str, name: &str) -> Result<Rc<Class>> {
    match it.import_module(module).ok().and_then(|m| m.get(name)) {
        Some(Value::Class(c)) => Ok(c),
        _ => Err(Error::with(
            "Extension base not installed:",
            format!("{module}.{name}"),
        )),
    }
}

/// Loads an application's code in this thread's interpreter for it, to report its
/// errors before a command uses the application (`harness worker --app`, `create`,
/// ...); the command's later calls on this thread find it loaded.
pub fn check(app: &App) -> Result<()> {
    if files(&app.name, &app.dir).is_empty() {
        return Ok(());
    }
    with_interpreter_for(app, |_| Ok(()))
}

/// Adds the Python executors and task workers of `app` to the given registries:
/// what `harness worker` runs beside the built-in ones. A Python extension named
/// like a built-in one replaces it.
pub fn extend_registries(
    app: &App,
    mut executors: Registry,
    mut workers: WorkerRegistry,
) -> Result<(Registry, WorkerRegistry)> {
    let found = with_interpreter_for(app, |it| {
        let job_base = base_class(it, "rex.job", "JobExecutor")?;
        let task_base = base_class(it, "rex.asynctask", "AsyncTaskWorker")?;
        let dirs = [(app.name.as_str(), app.dir.as_path())];
        let jobs = extensions(it, &dirs, &job_base)?;
        let tasks = extensions(it, &dirs, &task_base)?;
        let names = |v: Vec<(String, Rc<Class>)>| -> Vec<(String, String)> {
            v.into_iter().map(|(n, c)| (n, c.name.clone())).collect()
        };
        Ok((names(jobs), names(tasks)))
    })?;
    for (job_type, class) in found.0 {
        executors.replace(Arc::new(PyExecutor::new(Code::of(app), &job_type, &class)));
    }
    for (name, class) in found.1 {
        workers.replace(Arc::new(PyWorker::new(Code::of(app), &name, &class)));
    }
    Ok((executors, workers))
}

// ---------------------------------------------------------------- interpreters

thread_local! {
    /// Interpreters this thread owns, by application directory (worker threads),
    /// with the session whose active application they run for.
    static OWNED: RefCell<HashMap<PathBuf, (Interpreter, Rc<Session>)>> =
        RefCell::new(HashMap::new());
}

/// Runs `f` (a domain call) with `it` lent to the Python extensions called from
/// inside it ([`crate::script::native::reentrant`]).
pub fn with_interpreter<T>(it: &mut Interpreter, f: impl FnOnce() -> T) -> T {
    crate::script::native::reentrant(it, f)
}

/// Runs `f` on the interpreter for `app` on this thread: the binding call's (see
/// [`with_interpreter`]) or this thread's own, made on first use with the rex
/// modules installed, `app` active and its code loaded. Output printed by `f` in an
/// owned interpreter goes to stderr.
pub fn with_interpreter_for<T>(
    app: &App,
    f: impl FnOnce(&mut Interpreter) -> Result<T>,
) -> Result<T> {
    with_code_interpreter(&app.name, &app.dir, app, f)
}

/// [`with_interpreter_for`] with the code of application `name` in `dir` loaded and
/// `app` (possibly another database of it) active.
fn with_code_interpreter<T>(
    name: &str,
    dir: &Path,
    app: &App,
    f: impl FnOnce(&mut Interpreter) -> Result<T>,
) -> Result<T> {
    let mut slot = Some(f);
    if let Some(Some(out)) =
        crate::script::native::with_interpreter(|it| slot.take().map(|f| f(it)))
    {
        return out;
    }
    let Some(f) = slot else {
        return Err(Error::new("The lent interpreter is busy"));
    };
    let owned = OWNED.with(|o| o.borrow_mut().remove(dir));
    let (mut it, session) = match owned {
        Some(owned) => owned,
        None => {
            let mut it = Interpreter::new();
            let session = detached_session(app);
            super::install(&mut it, &session);
            load(&mut it, name, dir)?;
            (it, session)
        }
    };
    // The same code may serve another database of the application (tests).
    {
        let mut active = session.active.borrow_mut();
        let same = active.first().is_some_and(|h| {
            h.app.db.name == app.db.name && h.app.db.server.url("") == app.db.server.url("")
        });
        if !same {
            *active = vec![handle_for(app)];
        }
    }
    // Domain calls made by `f` through the bindings lend `it` again.
    let out = f(&mut it);
    let printed = crate::script::output::take();
    if !printed.is_empty() {
        eprint!("{printed}");
    }
    OWNED.with(|o| o.borrow_mut().insert(dir.to_path_buf(), (it, session)));
    out
}

/// A session outside any transcript: `app` is the active application; nothing is
/// provisioned through it.
fn detached_session(app: &App) -> Rc<Session> {
    let provisioner = Provisioner::new(
        Arc::new(Clusters::new(Options::default())),
        SearchPath::default(),
    );
    let session = Session::new(provisioner);
    session.active.borrow_mut().push(handle_for(app));
    session
}

fn handle_for(app: &App) -> Rc<AppHandle> {
    Rc::new(AppHandle {
        app: app.clone(),
        executors: Registry::new(),
        workers: WorkerRegistry::new(),
    })
}

/// A script exception as a domain error: `str(exc)`, with the traceback.
pub fn script_error(it: &mut Interpreter, mut e: Exception) -> Error {
    let inst = it.exception_instance(&mut e);
    let raised = it.raised(e);
    let error = Error::new(raised.message).with_script_traceback(raised.traceback);
    RAISED.with(|r| *r.borrow_mut() = Some((error.clone(), inst)));
    error
}

thread_local! {
    /// The last script exception turned into a domain error on this thread, so that
    /// a binding whose domain call fails with that error raises the original.
    static RAISED: RefCell<Option<(Error, Rc<crate::script::value::Instance>)>> =
        const { RefCell::new(None) };
}

/// A failed domain call as the script exception to raise: the application code's
/// own exception when that is what failed (rex lets it through), else
/// `rex.core.Error`.
pub fn reraise(session: &Session, e: Error) -> Exception {
    let original = RAISED.with(|r| r.borrow_mut().take());
    match original {
        Some((error, inst)) if error == e => Exception::from_instance(inst),
        _ => session.raise(e),
    }
}

/// Whether a script exception is `SystemExit` (`sys.exit()`).
pub fn is_system_exit(it: &mut Interpreter, e: &mut Exception) -> bool {
    let class = it.builtin_exception("SystemExit");
    crate::script::native::exception_matches(it, e, &class)
}

/// Finds the extension class `class` of `app`'s code in `it`.
fn find_class(it: &mut Interpreter, code: &Code, class: &str) -> Result<Rc<Class>> {
    for m in load(it, &code.name, &code.dir)?.iter().rev() {
        if let Some(Value::Class(c)) = m.get(class) {
            return Ok(c);
        }
    }
    Err(Error::with("Extension class not found:", class))
}

/// Instantiates `class` of `app` and calls `method(*args)` on it.
fn call_extension(
    code: &Code,
    app: &App,
    class: &str,
    method: &str,
    args: impl FnOnce(&mut Interpreter) -> Vec<Value>,
    on_error: impl FnOnce(&mut Interpreter, Exception) -> Error,
) -> Result<()> {
    with_code_interpreter(&code.name, &code.dir, app, |it| {
        let c = find_class(it, code, class)?;
        let args = args(it);
        let r = it
            .call(&Value::Class(c), Args::default())
            .and_then(|inst| call_method(it, &inst, method, Args::new(args)));
        match r {
            Ok(_) => Ok(()),
            Err(e) => Err(on_error(it, e)),
        }
    })
}

/// Where an extension's code lives: its application's name and folder.
#[derive(Clone, Debug)]
pub struct Code {
    pub name: String,
    pub dir: PathBuf,
}

impl Code {
    pub fn of(app: &App) -> Code {
        Code {
            name: app.name.clone(),
            dir: app.dir.clone(),
        }
    }
}

/// A `rex.job.JobExecutor` subclass of an application's code.
pub struct PyExecutor {
    code: Code,
    job_type: String,
    class: String,
}

impl PyExecutor {
    pub fn new(code: Code, job_type: &str, class: &str) -> PyExecutor {
        PyExecutor {
            code,
            job_type: job_type.to_string(),
            class: class.to_string(),
        }
    }
}

impl Executor for PyExecutor {
    fn job_type(&self) -> &str {
        &self.job_type
    }
    fn logger_name(&self) -> &str {
        &self.class
    }
    fn execute(
        &self,
        app: &App,
        code: i64,
        owner: &str,
        payload: &serde_json::Value,
    ) -> Result<()> {
        call_extension(
            &self.code,
            app,
            &self.class,
            "execute",
            |_| vec![Value::Int(code), Value::str(owner), from_json(payload)],
            script_error,
        )
    }
}

/// A `rex.asynctask.AsyncTaskWorker` subclass of an application's code.
pub struct PyWorker {
    code: Code,
    name: String,
    class: String,
}

impl PyWorker {
    pub fn new(code: Code, name: &str, class: &str) -> PyWorker {
        PyWorker {
            code,
            name: name.to_string(),
            class: class.to_string(),
        }
    }
}

impl Worker for PyWorker {
    fn name(&self) -> &str {
        &self.name
    }
    fn logger_name(&self) -> &str {
        &self.class
    }
    fn process(&self, app: &App, payload: &serde_json::Value) -> Result<()> {
        self.process_on(app, payload, None)
    }
    fn process_on(
        &self,
        app: &App,
        payload: &serde_json::Value,
        queue: Option<&str>,
    ) -> Result<()> {
        let queue = queue.map(str::to_string);
        call_extension(
            &self.code,
            app,
            &self.class,
            "__harness_process__",
            |_| {
                vec![
                    from_json(payload),
                    queue.as_deref().map_or(Value::None, Value::str),
                ]
            },
            |it, mut e| {
                if is_system_exit(it, &mut e) {
                    crate::asynctask::worker_exit()
                } else {
                    script_error(it, e)
                }
            },
        )
    }
}

/// What `Rex(...)` does with an opened application `app` in the transcript's
/// interpreter `it`: loads its code, registers its executors and task workers with
/// those of its packages ([`registries`]), adds rex.job's
/// executor queues to `asynctask_workers` and validates the task settings against
/// the registered workers. Errors name the application and the `Rex(...)` keywords.
pub fn activate(
    it: &mut Interpreter,
    app: &mut App,
    overrides: &serde_json::Map<String, serde_json::Value>,
) -> Result<(Registry, WorkerRegistry)> {
    let given = app.packages.given();
    let context = |e: Error| -> Error {
        let e = if e
            .paragraphs
            .iter()
            .any(|p| p.message == "While initializing RexDB application:")
        {
            e
        } else {
            e.wrap_with("While initializing RexDB application:", &given)
        };
        crate::core::settings::with_parameters(e, overrides)
    };
    merge_overrides(app, overrides).map_err(context)?;
    let builtin_jobs = extensions::executors(&app.packages, &script_rules())
        .map_err(context)?
        .types()
        .len();
    let (executors, workers) = with_interpreter(it, || registries(app)).map_err(context)?;
    crate::asynctask::settings::validate(&app.settings, &workers.names_in_order())
        .map_err(context)?;
    // rex's JobInitialize belongs to applications that use rex.job: those with
    // executors of their own or job settings.
    let uses_jobs = app.packages.contains("rex.job")
        && (executors.types().len() > builtin_jobs
            || app.settings.values().keys().any(|k| k.starts_with("job_")));
    if uses_jobs {
        crate::job::workers::initialize(&mut app.settings).map_err(context)?;
    }
    Ok((executors, workers))
}

/// The executors and task workers of `app`: those of its packages (Rust, in package
/// order, see [`extensions`]), then its own (Python), which replace a package's of
/// the same name in its place. rex.job's `job_executor` runs them all.
pub fn registries(app: &App) -> Result<(Registry, WorkerRegistry)> {
    let rules = script_rules();
    let executors = extensions::executors(&app.packages, &rules)?;
    let (executors, own) = extend_registries(app, executors, WorkerRegistry::new())?;
    let mut workers = extensions::workers(&app.packages, &executors, &rules)?;
    for worker in own.in_order() {
        workers.replace(worker.clone());
    }
    Ok((executors, workers))
}

/// The rules rex.mart's creators ask: the application's own (Python) quota,
/// permissions and processors, run by the calling thread's interpreter.
fn script_rules() -> Arc<dyn crate::mart::rules::RulesSource> {
    Arc::new(super::app_rules::ScriptRules)
}

/// rex merges the task settings given to `Rex(...)` into the application's own
/// (mappings key by key, lists appended) instead of replacing them.
fn merge_overrides(
    app: &mut App,
    overrides: &serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    use serde_json::Value as J;
    let own = crate::core::app::load_settings(&app.dir, &serde_json::Map::new())?;
    if let (Some(J::Object(given)), Some(J::Object(base))) = (
        overrides.get("asynctask_workers"),
        own.get("asynctask_workers"),
    ) {
        let mut merged = base.clone();
        for (k, v) in given {
            merged.insert(k.clone(), v.clone());
        }
        app.settings.set("asynctask_workers", J::Object(merged));
    }
    if let (Some(J::Array(given)), Some(J::Array(base))) = (
        overrides.get("asynctask_scheduled_workers"),
        own.get("asynctask_scheduled_workers"),
    ) {
        let mut merged = base.clone();
        merged.extend(given.iter().cloned());
        app.settings
            .set("asynctask_scheduled_workers", J::Array(merged));
    }
    Ok(())
}
