//! Shared fixtures of the mart integration tests: an application whose database is
//! a scratch database with the demo schema, a mart name prefix of its own (tests run
//! in parallel on one server), log capture, and clean-up of every mart database the
//! test made.

#![allow(dead_code)]

use harness::core::app::{App, Database};
use harness::core::settings::Settings;
use harness::pg::testing::{server, ScratchDb};
use harness::pg::Server;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The demo application's `deploy.yaml` (its `people`); every test application
/// deploys it with the rex.job and rex.mart tables.
pub fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("definitions/rex.mart_demo")
}

/// A unique lowercase token for this process and call.
pub fn unique(label: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{label}{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A test application. Dropping it drops the marts it made and its database.
pub struct TestApp {
    pub app: App,
    pub prefix: String,
    /// Other databases the test made that marts may leave behind (fixed names...).
    pub extra_dbs: Vec<String>,
    _dir: Option<tempfile::TempDir>,
    db: ScratchDb,
}

impl TestApp {
    /// The demo application (`definitions/rex.mart_demo`).
    pub fn demo() -> TestApp {
        TestApp::build(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("definitions/rex.mart_demo"),
            None,
        )
    }

    /// An application whose `mart.yaml` is `mart_yaml` (other files: `files`).
    pub fn with_definitions(mart_yaml: &str, files: &[(&str, &str)]) -> TestApp {
        // A name `harness worker --app` accepts (tempdir names start with a dot).
        let dir = tempfile::Builder::new()
            .prefix("mart_app_")
            .tempdir()
            .expect("tempdir");
        std::fs::write(dir.path().join("mart.yaml"), mart_yaml).unwrap();
        std::fs::copy(
            demo_dir().join("deploy.yaml"),
            dir.path().join("deploy.yaml"),
        )
        .unwrap();
        // The data files deploy.yaml reads (the demo's RIOS tables).
        std::fs::create_dir(dir.path().join("deploy")).unwrap();
        for entry in std::fs::read_dir(demo_dir().join("deploy")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(
                &path,
                dir.path().join("deploy").join(path.file_name().unwrap()),
            )
            .unwrap();
        }
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        TestApp::build(dir.path().to_path_buf(), Some(dir))
    }

    /// A copy of the demo application, still called `rex.mart_demo` (in a folder of
    /// its own: give `app_root()` to `--apps`), with `definitions` appended to its
    /// `mart.yaml` (items of its `definitions:` list) and `code` to its
    /// `__init__.py`.
    pub fn demo_copy(definitions: &str, code: &str) -> TestApp {
        let root = tempfile::Builder::new()
            .prefix("mart_apps_")
            .tempdir()
            .expect("tempdir");
        let dir = root.path().join("rex.mart_demo");
        std::fs::create_dir(&dir).unwrap();
        for entry in std::fs::read_dir(demo_dir()).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
            }
        }
        let append = |name: &str, text: &str| {
            let mut all = std::fs::read_to_string(dir.join(name)).unwrap();
            all.push('\n');
            all.push_str(text);
            std::fs::write(dir.join(name), all).unwrap();
        };
        append("mart.yaml", definitions);
        append("__init__.py", code);
        TestApp::build(dir, Some(root))
    }

    /// The folder holding the application's folder (what `--apps` takes).
    pub fn app_root(&self) -> &Path {
        self.app
            .dir
            .parent()
            .expect("an application folder has a parent")
    }

    fn build(dir: PathBuf, tmp: Option<tempfile::TempDir>) -> TestApp {
        let db = ScratchDb::new("mart");
        harness::deploy::deploy_application(&mut db.connect(), &dir)
            .expect("deploy the application");
        let prefix = format!("{}_", unique("t"));
        let mut settings = Settings::new();
        settings.set("mart_name_prefix", serde_json::json!(prefix));
        let app = App {
            name: "rex.mart_demo".into(),
            packages: harness::core::packages::Packages::default_for("rex.mart_demo", &dir),
            dir,
            settings,
            db: Database {
                server: server().clone(),
                name: db.name.clone(),
            },
            hosting: server().clone(),
        };
        TestApp {
            app,
            prefix,
            extra_dbs: Vec::new(),
            _dir: tmp,
            db,
        }
    }

    pub fn set(&mut self, key: &str, value: serde_json::Value) {
        self.app.settings.set(key, value);
    }

    pub fn client(&self) -> postgres::Client {
        self.app.db.connect().expect("connect app db")
    }

    /// `(code, definition, owner, name, status)` of every inventory row.
    pub fn inventory(&self) -> Vec<(i64, String, String, String, String)> {
        self.client()
            .query("SELECT code, definition, owner, name, status::text FROM rexmart_inventory ORDER BY code", &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .collect()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let names: Vec<String> = self
            .app
            .db
            .connect()
            .map(|mut c| {
                c.query("SELECT name FROM rexmart_inventory", &[])
                    .map(|rows| rows.iter().map(|r| r.get(0)).collect())
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        for name in names
            .iter()
            .chain(&self.extra_dbs)
            .chain(&db_names_with_prefix(&self.prefix))
        {
            if *name != self.db.name {
                let _ = self.app.hosting.drop_database(name);
            }
        }
    }
}

/// Databases on the test server whose names start with `prefix`.
pub fn db_names_with_prefix(prefix: &str) -> Vec<String> {
    server()
        .connect("postgres")
        .unwrap()
        .query(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
            &[&prefix],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

pub fn db_exists(server: &Server, name: &str) -> bool {
    !server
        .connect("postgres")
        .unwrap()
        .query("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .unwrap()
        .is_empty()
}

/// Runs `f` with a logger that records the lines.
pub fn capture<T>(f: impl FnOnce(&mut dyn FnMut(&str)) -> T) -> (T, Vec<String>) {
    let mut lines = Vec::new();
    let out = f(&mut |m: &str| lines.push(m.to_string()));
    (out, lines)
}

/// Replaces timestamps, durations and sizes by `…` so log lines compare exactly.
pub fn mask(lines: &[String]) -> Vec<String> {
    let ts = regex::Regex::new(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?").unwrap();
    let stamp = regex::Regex::new(r"_\d{14}$").unwrap();
    let dur = regex::Regex::new(r"^Mart creation duration: \d+:\d\d:\d\d(\.\d{6})?$").unwrap();
    let size = regex::Regex::new(r"^Mart database size: \d+$").unwrap();
    lines
        .iter()
        .map(|l| {
            let l = ts.replace_all(l, "…").to_string();
            let l = stamp.replace(&l, "_…").to_string();
            let l = dur.replace(&l, "Mart creation duration: …").to_string();
            size.replace(&l, "Mart database size: …").to_string()
        })
        .collect()
}

/// Text rows of `sql` run on database `name` of `server`.
pub fn rows(server: &Server, name: &str, sql: &str) -> Vec<String> {
    server
        .connect(name)
        .unwrap()
        .query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| {
            r.get::<_, Option<String>>(0)
                .unwrap_or_else(|| "NULL".into())
        })
        .collect()
}
