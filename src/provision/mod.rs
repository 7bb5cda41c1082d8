//! Turns an application name into a live [`App`]: finds its directory, reads its
//! settings, gets the servers from [`Clusters`], and makes its application database
//! ready. Shared by the transcript bindings (`Rex(...)`) and the CLI (`--app NAME`).

pub mod extensions;

use crate::core::app::{load_settings, App, Database, SearchPath};
use crate::core::packages::Packages;
use crate::core::{Error, Result};
use crate::pg::{Clusters, Server};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The `dir` of an application without a folder (rex packages only) is
/// `NO_FOLDER/<name>`, a path that does not exist: it holds no files.
const NO_FOLDER: &str = "/nonexistent/harness-rex-packages";

/// `db` URLs of database systems rex.db accepts and the harness does not run: the
/// application then has no database, and what needs PostgreSQL says so (rex.mart:
/// `Only PostgreSQL systems can host Marts`).
const OTHER_ENGINES: &[&str] = &["sqlite:"];

/// How the application database is obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbMode {
    /// A new database cloned from a deployed template, dropped by
    /// [`Provisioner::cleanup`]: each transcript starts from the same state (job and
    /// mart codes start at 1).
    Fresh,
    /// The database the `db` setting names, deployed in place and kept: what a
    /// long-lived worker or a CLI command works on.
    InPlace,
}

/// Opens applications and remembers the databases it created so they can be dropped.
pub struct Provisioner {
    clusters: Arc<Clusters>,
    search: SearchPath,
    created: Mutex<Vec<Database>>,
    /// The fresh databases made so far, by `db` setting name and application folder
    /// (none: rex packages only).
    reused: Mutex<Vec<(String, Option<PathBuf>, Database)>>,
}

impl Provisioner {
    pub fn new(clusters: Arc<Clusters>, search: SearchPath) -> Provisioner {
        Provisioner {
            clusters,
            search,
            created: Mutex::new(Vec::new()),
            reused: Mutex::new(Vec::new()),
        }
    }

    pub fn clusters(&self) -> &Arc<Clusters> {
        &self.clusters
    }

    /// Opens application `name` (an application folder or a rex package) with
    /// `overrides` applied to its settings.
    pub fn open(&self, name: &str, overrides: &Map<String, Value>, mode: DbMode) -> Result<App> {
        self.open_packages(&[name.to_string()], overrides, mode, None)
    }

    /// [`Provisioner::open`], with the application database named `db_override` (on the
    /// `db` setting's server) instead of the `db` setting's database when given: the
    /// CLI's `--pg-url .../NAME`.
    pub fn open_as(
        &self,
        name: &str,
        overrides: &Map<String, Value>,
        mode: DbMode,
        db_override: Option<&str>,
    ) -> Result<App> {
        self.open_packages(&[name.to_string()], overrides, mode, db_override)
    }

    /// Opens the application made of the packages `requirements` name (`Rex('rex.asynctask',
    /// 'rex.db', db=...)`; at most one of them an application folder). Settings no
    /// active package declares are refused; without rex.db, or with a `db` setting
    /// that is not PostgreSQL, the application has no database
    /// ([`Database::absent`]).
    pub fn open_packages(
        &self,
        requirements: &[String],
        overrides: &Map<String, Value>,
        mode: DbMode,
        db_override: Option<&str>,
    ) -> Result<App> {
        let packages = Packages::resolve(requirements, &self.search)?;
        let (name, dir) = match packages.folder() {
            Some((name, dir)) => (name.to_string(), dir.to_path_buf()),
            None => {
                let name = requirements
                    .iter()
                    .find(|r| *r != "__main__")
                    .or(requirements.first())
                    .cloned()
                    .unwrap_or_else(|| "rex.core".to_string());
                let dir = PathBuf::from(NO_FOLDER).join(&name);
                (name, dir)
            }
        };
        let given = packages.given();
        let initializing = |e: Error| e.wrap_with("While initializing RexDB application:", &given);
        let settings = load_settings(&dir, overrides).map_err(initializing)?;
        let declared = load_settings(&dir, &Map::new()).map_err(initializing)?;
        for key in overrides.keys() {
            crate::core::settings::check_known(key, &declared, &packages)
                .map_err(|e| crate::core::settings::with_parameters(initializing(e), overrides))?;
        }
        let folder = packages.folder().map(|(_, dir)| dir);
        let db = if packages.contains("rex.db") {
            // Given the database (`--pg-url .../NAME`), the `db` setting may be left out.
            let implied = db_override.map(|db| format!("pgsql:{db}"));
            let db_url = settings
                .get_str("db")
                .or(implied.as_deref())
                .ok_or_else(|| initializing(Error::with("Missing mandatory setting:", "db")))?;
            self.database(db_url, db_override, mode, folder)?
        } else {
            Database::absent()
        };
        let hosting = match settings.get_str("mart_hosting_cluster") {
            Some(url) => {
                self.clusters
                    .resolve_rex_url(url)
                    .map_err(|e| e.wrap_with("While validating setting:", "mart_hosting_cluster"))?
                    .0
            }
            None => db.server.clone(),
        };
        Ok(App {
            name,
            dir,
            packages,
            settings,
            db,
            hosting,
        })
    }

    /// The application database the `db` setting names, made ready as `mode` says
    /// (deploying `folder`, if any); absent when the setting names a database system
    /// other than PostgreSQL that rex.db accepts.
    fn database(
        &self,
        db_url: &str,
        db_override: Option<&str>,
        mode: DbMode,
        folder: Option<&std::path::Path>,
    ) -> Result<Database> {
        if OTHER_ENGINES.iter().any(|e| db_url.starts_with(e)) {
            return Ok(Database::absent());
        }
        let (server, db_name) = self.clusters.resolve_rex_url(db_url)?;
        let db_name = db_override.map(str::to_string).or(db_name).ok_or_else(|| {
            Error::with(
                "Expected a database name in the setting:",
                format!("db: {db_url}"),
            )
        })?;
        match mode {
            DbMode::Fresh => self.fresh_database(&server, &db_name, folder),
            DbMode::InPlace => deploy_in_place(&server, &db_name, folder),
        }
    }

    /// A new database for this run: the deployed template of application `folder`
    /// cloned, or (rex packages only) an empty one.
    fn fresh_database(
        &self,
        server: &Server,
        db_name: &str,
        folder: Option<&std::path::Path>,
    ) -> Result<Database> {
        // A transcript that activates the application again (`Rex(...)` with other
        // settings) works on the same database, as rex does; so do rex packages
        // named with the `db` of an application opened before.
        let again = self
            .reused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(name, dir, db)| {
                name == db_name
                    && (folder.is_none() || dir.as_deref() == folder)
                    && db.server.url("postgres") == server.url("postgres")
            })
            .map(|(_, _, db)| db.clone());
        if let Some(db) = again {
            return Ok(db);
        }
        let template = match folder {
            Some(dir) => {
                let _deploying = crate::timings::span("application deploy");
                let hash = crate::deploy::application_hash(dir)?;
                let key = format!("{db_name}_{hash}");
                Some(server.ensure_template(&key, |server, db| {
                    let mut client = server.connect(db)?;
                    crate::deploy::deploy_application(&mut client, dir)
                })?)
            }
            None => None,
        };
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "harness_{}_{}_{db_name}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        {
            let _timing = crate::timings::span("template clone");
            match &template {
                Some(template) => server.clone_database(template, &name)?,
                None => server.create_database(&name, None)?,
            }
        }
        if let Err(e) = crate::pg::marker::mark(server, &name) {
            let _ = server.drop_database(&name);
            return Err(e);
        }
        let db = Database {
            server: server.clone(),
            name,
        };
        self.created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(db.clone());
        live()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(db.clone());
        self.reused.lock().unwrap_or_else(|e| e.into_inner()).push((
            db_name.to_string(),
            folder.map(std::path::Path::to_path_buf),
            db.clone(),
        ));
        Ok(db)
    }

    /// Drops the databases this provisioner created (marts are the caller's business).
    pub fn cleanup(&self) {
        self.reused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        let created = std::mem::take(&mut *self.created.lock().unwrap_or_else(|e| e.into_inner()));
        let _timing = crate::timings::span("drop databases");
        for db in created {
            let _ = db.server.drop_database(&db.name);
            crate::pg::marker::forget(&db.server, &db.name);
            live()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|d| d.name != db.name);
        }
    }
}

/// The application databases created and not yet dropped, process-wide.
fn live() -> &'static Mutex<Vec<Database>> {
    static LIVE: Mutex<Vec<Database>> = Mutex::new(Vec::new());
    &LIVE
}

/// Drops every application database still live and the marts its inventory names
/// (on the same server), sessions or not: for an interrupted run. The embedded
/// clusters go with the process; this matters on a server the harness does not own.
pub fn drop_live_databases() {
    let dbs = std::mem::take(&mut *live().lock().unwrap_or_else(|e| e.into_inner()));
    // A server of the harness's own (embedded, docker) goes away whole.
    for db in dbs
        .iter()
        .filter(|db| crate::pg::marker::applies(&db.server))
    {
        drop_with_marts(&db.server, &db.name);
    }
    crate::pg::marker::finish();
}

/// Drops what runs killed before their end left on `server` (databases marked by
/// [`crate::pg::marker`] that no live run holds), with the marts their inventories
/// name; returns the names of the databases dropped.
pub fn sweep_leftovers(server: &Server) -> Result<Vec<String>> {
    crate::pg::marker::sweep(server, drop_with_marts)
}

/// Drops the marts the inventory of application database `name` records (those on
/// `server`), then the database.
pub fn drop_with_marts(server: &Server, name: &str) {
    let marts: Vec<String> = server
        .connect(name)
        .and_then(|mut c| {
            let rows = c.query(
                "SELECT name FROM rexmart_inventory WHERE name IS NOT NULL",
                &[],
            )?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
        .unwrap_or_default();
    for mart in marts {
        if mart != name {
            let _ = server.drop_database(&mart);
        }
    }
    // Also right for a template (which refuses connections and DROP until unmarked).
    let _ = server.drop_template(name);
}

/// Makes sure database `name` exists on `server` and has the application folder `dir`
/// (if any) deployed.
/// Several processes may do this at once (workers starting together): a session
/// advisory lock on the maintenance database, keyed by the database name, makes
/// them take turns, so the database is created once and deployed by one at a time.
fn deploy_in_place(server: &Server, name: &str, dir: Option<&std::path::Path>) -> Result<Database> {
    let _timing = crate::timings::span("application deploy");
    let mut admin = server.connect("postgres")?;
    let key = crate::pg::fnv1a(format!("harness deploy in place: {name}").as_bytes()) as i64;
    admin.execute("SELECT pg_advisory_lock($1)", &[&key])?;
    let result = create_and_deploy(&mut admin, server, name, dir);
    // Closing the session would release it too; unlock at once all the same.
    let _ = admin.execute("SELECT pg_advisory_unlock($1)", &[&key]);
    result
}

fn create_and_deploy(
    admin: &mut postgres::Client,
    server: &Server,
    name: &str,
    dir: Option<&std::path::Path>,
) -> Result<Database> {
    let exists = !admin
        .query(
            "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1",
            &[&name],
        )?
        .is_empty();
    if !exists {
        server.create_database(name, None)?;
    }
    let db = Database {
        server: server.clone(),
        name: name.to_string(),
    };
    if let Some(dir) = dir {
        let mut client = db.connect()?;
        crate::deploy::deploy_application(&mut client, dir)?;
    }
    Ok(db)
}
