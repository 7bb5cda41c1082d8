//! The rex modules as transcripts see them: `rex.core`, `rex.db`, `rex.job`,
//! `rex.mart`. Thin adapters: script values in, domain calls, script values out;
//! a domain `core::Error` becomes the script exception `rex.core.Error`.
//!
//! One [`Session`] per transcript holds what the modules share: the provisioner
//! that opens applications, the stack of active applications (`rex.on()`), and the
//! `rex.core.Error` class.

pub mod app_code;
mod rex_asynctask;
mod rex_core;
mod rex_ctl;
mod rex_db;
mod rex_job;
mod rex_mart;
mod rex_mart_defs;

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
}

impl Session {
    pub fn new(provisioner: Provisioner) -> Rc<Session> {
        Rc::new(Session {
            provisioner,
            active: RefCell::new(Vec::new()),
            opened: RefCell::new(Vec::new()),
            error_class: RefCell::new(None),
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
                if name != app.db.name {
                    let _ = app.hosting.drop_database(&name);
                }
            }
        }
        self.active.borrow_mut().clear();
        self.provisioner.cleanup();
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
    let db_class = rex_db::install(interp, session);
    rex_asynctask::install(interp, session);
    rex_job::install(interp, session);
    rex_mart::install(interp, session, &db_class);
    rex_mart_defs::install(interp, session);
}
