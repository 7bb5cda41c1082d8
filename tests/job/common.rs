//! Shared by the job and asynctask integration tests: a scratch application database
//! deployed like an application's (rex.job, rex.mart and rex.job_demo's `slow`
//! facet), an `App` on it, and a log capture.

#![allow(dead_code)]

use harness::core::app::{App, Database};
use harness::core::packages::Packages;
use harness::core::settings::Settings;
use harness::pg::testing::{server, ScratchDb};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, OnceLock};

#[path = "../support/deployed.rs"]
pub mod deployed;

/// A scratch database with the job tables deployed and an `App` using it.
pub struct TestApp {
    pub db: ScratchDb,
    pub app: App,
}

impl TestApp {
    pub fn new(label: &str, settings: serde_json::Value) -> TestApp {
        let db = ScratchDb::new(label);
        deployed::deploy_app(&mut db.connect(), None, &["job/rex.job_demo.yaml"]);
        let mut s = Settings::new();
        if let Some(map) = settings.as_object() {
            s.merge(map);
        }
        let app = App {
            name: format!("test_{label}"),
            dir: std::path::PathBuf::from("."),
            packages: Packages::default_for(&format!("test_{label}"), Path::new(".")),
            settings: s,
            db: Database {
                server: server().clone(),
                name: db.name.clone(),
            },
            hosting: server().clone(),
        };
        TestApp { db, app }
    }

    pub fn client(&self) -> postgres::Client {
        self.db.connect()
    }

    /// Inserts a job like the seed's `run_job` does; returns its code.
    pub fn submit(&self, job_type: &str, payload: serde_json::Value) -> i64 {
        self.client()
            .query_one(
                "INSERT INTO job (owner, type, payload) VALUES ('test', $1, $2) RETURNING code",
                &[&job_type, &payload],
            )
            .expect("insert job")
            .get(0)
    }

    /// `Job #N: status=..., detail="...", type=..., dates=...` like rex.job's show_job.
    pub fn show(&self, code: i64) -> String {
        let row = self
            .client()
            .query_opt(
                "SELECT status::text, status_detail, type, date_submitted IS NOT NULL, \
                 date_started IS NOT NULL, date_completed IS NOT NULL FROM job WHERE code = $1",
                &[&code],
            )
            .expect("select job");
        let Some(row) = row else {
            return format!("Job #{code} not found");
        };
        let detail: Option<String> = row.get(1);
        let dates: Vec<&str> = [(3, "Submitted"), (4, "Started"), (5, "Completed")]
            .iter()
            .filter(|(i, _)| row.get::<_, bool>(*i))
            .map(|(_, n)| *n)
            .collect();
        format!(
            "Job #{code}: status={},{} type={}, dates={}",
            row.get::<_, String>(0),
            detail
                .map(|d| format!(" detail=\"{d}\","))
                .unwrap_or_default(),
            row.get::<_, String>(2),
            dates.join(",")
        )
    }
}

/// Captures log lines (rex's basic format) while held; one capture at a time.
pub struct LogCapture {
    _guard: MutexGuard<'static, ()>,
}

fn lines() -> &'static Mutex<String> {
    static LINES: OnceLock<Mutex<String>> = OnceLock::new();
    LINES.get_or_init(Default::default)
}

impl LogCapture {
    pub fn start(level: &str) -> LogCapture {
        static LOCK: Mutex<()> = Mutex::new(());
        let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        harness::core::logging::install(harness::core::logging::Format::Basic);
        harness::core::logging::set_level(level);
        lines().lock().unwrap().clear();
        // Library crates log under their module paths (`tokio_postgres::query`);
        // rex loggers never contain `::`. `rex.deploy` is other tests deploying
        // their databases meanwhile.
        harness::core::logging::set_sink(Some(Box::new(|line: &str| {
            let rest = line.split_once(':').map_or("", |(_, r)| r);
            let module_path = rest
                .split_once(':')
                .is_some_and(|(_, after)| after.starts_with(':'));
            let deploy = rest.starts_with("rex.deploy:");
            if !module_path && !deploy {
                lines().lock().unwrap().push_str(line)
            }
        })));
        LogCapture { _guard: guard }
    }

    /// The lines logged since the last call.
    pub fn take(&self) -> String {
        std::mem::take(&mut *lines().lock().unwrap())
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        harness::core::logging::set_sink(None);
        harness::core::logging::set_level("INFO");
    }
}

/// rex.job_demo's executors (Python code of definitions/rex.job_demo) beside the
/// harness's own (`harness_noop`, `harness_probe`).
pub fn demo_registry() -> harness::job::Registry {
    let mut app = TestApp::placeholder_app();
    app.name = "rex.job_demo".to_string();
    app.dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("definitions/rex.job_demo");
    harness::bindings::app_code::extend_registries(
        &app,
        harness::job::Registry::builtin(),
        harness::asynctask::WorkerRegistry::new(),
    )
    .expect("rex.job_demo's code loads")
    .0
}

impl TestApp {
    /// An application value for loading code only (its database is never used).
    fn placeholder_app() -> App {
        App {
            name: String::new(),
            dir: std::path::PathBuf::from("."),
            packages: Packages::default_for("", Path::new(".")),
            settings: Settings::new(),
            db: Database {
                server: server().clone(),
                name: "postgres".to_string(),
            },
            hosting: server().clone(),
        }
    }
}
