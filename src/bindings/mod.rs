//! The rex modules as transcripts see them: `rex.core`, `rex.db`, `rex.job`,
//! `rex.mart`. Thin adapters: script values in, domain calls, script values out;
//! a domain `core::Error` becomes the script exception `rex.core.Error`.
//!
//! One [`Session`] per transcript holds what the modules share: the provisioner
//! that opens applications, the stack of active applications (`rex.on()`), and the
//! `rex.core.Error` class.

pub mod app_code;
pub mod app_rules;
mod rex_asynctask;
mod rex_core;
mod rex_ctl;
mod rex_db;
mod rex_job;
mod rex_mart;
mod rex_mart_defs;
mod rex_mart_rules;
pub mod webob;

use crate::asynctask::WorkerRegistry;
use crate::core::app::App;
use crate::job::Registry;
use crate::provision::Provisioner;
use crate::script::native::raise;
use crate::script::value::{Class, Exception};
use crate::script::Interpreter;
use std::cell::RefCell;
use std::rc::Rc;

/// An opened application with the executors and workers its packages register.
pub struct AppHandle {
    pub app: App,
    pub executors: Registry,
    pub workers: WorkerRegistry,
}

/// What the rex modules of one transcript share.
pub struct Session {
    provisioner: Provisioner,
    active: RefCell<Vec<Rc<AppHandle>>>,
    /// Every application `Rex(...)` opened, for [`Session::finish`].
    opened: RefCell<Vec<Rc<AppHandle>>>,
    error_class: RefCell<Option<Rc<Class>>>,
    guard_class: RefCell<Option<Rc<Class>>>,
    /// rex's extension points (`MartQuota`, ...) by name: the base classes whose
    /// `top()` is the application's implementation.
    extension_bases: RefCell<Vec<(String, Rc<Class>)>>,
    /// Whether a `Rex('__main__', ...)` made the transcript's own classes part of
    /// the application (its extensions count for `top()`).
    main_package: std::cell::Cell<bool>,
}

impl Session {
    pub fn new(provisioner: Provisioner) -> Rc<Session> {
        Rc::new(Session {
            provisioner,
            active: RefCell::new(Vec::new()),
            opened: RefCell::new(Vec::new()),
            error_class: RefCell::new(None),
            guard_class: RefCell::new(None),
            extension_bases: RefCell::new(Vec::new()),
            main_package: std::cell::Cell::new(false),
        })
    }

    pub fn provisioner(&self) -> &Provisioner {
        &self.provisioner
    }

    /// Ends the transcript: drops the marts its applications recorded, then the
    /// application databases the provisioner created for it.
    pub fn finish(&self) {
        for handle in self.opened.borrow_mut().drain(..) {
            let app = &handle.app;
            let names: Vec<String> = app
                .db
                .connect()
                .and_then(|mut c| Ok(c.query("SELECT name FROM rexmart_inventory", &[])?))
                .map(|rows| rows.iter().map(|r| r.get(0)).collect())
                .unwrap_or_default();
            for name in names {
                // `existing` marts record the `db` setting's name for the
                // application database: never drop a database of that name.
                let setting = crate::mart::cluster::db_setting_name(app);
                if name != app.db.name && Some(&name) != setting.as_ref() {
                    let _ = app.hosting.drop_database(&name);
                }
            }
        }
        self.active.borrow_mut().clear();
        self.provisioner.cleanup();
    }

    fn set_extension_base(&self, name: &str, class: &Rc<Class>) {
        self.extension_bases
            .borrow_mut()
            .push((name.to_string(), class.clone()));
    }

    fn extension_base(&self, name: &str) -> Option<Rc<Class>> {
        let bases = self.extension_bases.borrow();
        bases
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.clone())
    }

    /// rex's `Extension.top()`: the implementation of `base` the active
    /// application uses: the last subclass its own Python code defines, else `base`.
    fn extension_top(
        &self,
        it: &mut Interpreter,
        base: &Rc<Class>,
    ) -> Result<Rc<Class>, Exception> {
        let Ok(handle) = self.active() else {
            return Ok(base.clone());
        };
        let app = &handle.app;
        let modules = app_code::load(it, &app.name, &app.dir).map_err(|e| self.raise(e))?;
        let mut top = base.clone();
        for m in &modules {
            for attr in m.order.borrow().iter() {
                if let Some(crate::script::value::Value::Class(c)) = m.get(attr) {
                    let own = c.module == m.name || c.module.starts_with(&format!("{}.", m.name));
                    if own && !Rc::ptr_eq(&c, base) && c.is_subclass(base) {
                        top = c;
                    }
                }
            }
        }
        if self.main_package.get() {
            let mut own: Vec<Rc<Class>> = it
                .globals
                .vars
                .borrow()
                .values()
                .filter_map(|v| match v {
                    crate::script::value::Value::Class(c)
                        if c.module == "__main__"
                            && !Rc::ptr_eq(c, base)
                            && c.is_subclass(base) =>
                    {
                        Some(c.clone())
                    }
                    _ => None,
                })
                .collect();
            // The most derived of the transcript's own implementations.
            own.sort_by_key(|c| std::cmp::Reverse(c.mro.len()));
            if let Some(c) = own.into_iter().next() {
                top = c;
            }
        }
        Ok(top)
    }

    /// The application `rex.on()` activated last.
    fn active(&self) -> Result<Rc<AppHandle>, Exception> {
        self.active
            .borrow()
            .last()
            .cloned()
            .ok_or_else(|| self.error("RexDB application is not activated"))
    }

    /// A `rex.core.Error` exception with `message` as its text.
    fn error(&self, message: &str) -> Exception {
        match &*self.error_class.borrow() {
            Some(class) => raise(class, message),
            None => Exception::new("RuntimeError", message.to_string()),
        }
    }

    /// Converts a domain error into the script's `rex.core.Error`.
    fn raise(&self, e: crate::core::Error) -> Exception {
        self.error(&e.to_string())
    }
}

/// Registers the rex modules in `interp`.
pub fn install(interp: &mut Interpreter, session: &Rc<Session>) {
    rex_ctl::install(interp, session);
    rex_core::install(interp, session);
    let db_classes = rex_db::install(interp, session);
    rex_asynctask::install(interp, session);
    rex_job::install(interp, session);
    rex_mart::install(interp, session, &db_classes);
    rex_mart_defs::install(interp, session);
    webob::install(interp, session);
}
