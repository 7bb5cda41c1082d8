//! Turns an application name into a live [`App`]: finds its directory, reads its
//! settings, gets the servers from [`Clusters`], and makes its application database
//! ready. Shared by the transcript bindings (`Rex(...)`) and the CLI (`--app NAME`).

use crate::core::app::{load_settings, App, Database, SearchPath};
use crate::core::{Error, Result};
use crate::pg::{Clusters, Server};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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
    /// The fresh databases made so far, by `db` setting name and application folder.
    reused: Mutex<Vec<(String, PathBuf, Database)>>,
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

    /// Opens application `name` with `overrides` applied to its settings.
    pub fn open(&self, name: &str, overrides: &Map<String, Value>, mode: DbMode) -> Result<App> {
        self.open_as(name, overrides, mode, None)
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
        let dir = self.search.find(name)?;
        let settings = load_settings(&dir, overrides)
            .map_err(|e| e.wrap_with("While initializing RexDB application:", name))?;
        // Given the database (`--pg-url .../NAME`), the `db` setting may be left out.
        let implied = db_override.map(|db| format!("pgsql:{db}"));
        let db_url = settings
            .get_str("db")
            .or(implied.as_deref())
            .ok_or_else(|| {
                Error::with("Missing mandatory setting:", "db")
                    .wrap_with("While initializing RexDB application:", name)
            })?;
        let (server, db_name) = self.clusters.resolve_rex_url(db_url)?;
        let db_name = db_override.map(str::to_string).or(db_name).ok_or_else(|| {
            Error::with(
                "Expected a database name in the setting:",
                format!("db: {db_url}"),
            )
        })?;
        let db = match mode {
            DbMode::Fresh => self.fresh_database(&server, &db_name, &dir)?,
            DbMode::InPlace => deploy_in_place(&server, &db_name, &dir)?,
        };
        let hosting = match settings.get_str("mart_hosting_cluster") {
            Some(url) => {
                self.clusters
                    .resolve_rex_url(url)
                    .map_err(|e| e.wrap_with("While validating setting:", "mart_hosting_cluster"))?
                    .0
            }
            None => server.clone(),
        };
        Ok(App {
            name: name.to_string(),
            dir,
            settings,
            db,
            hosting,
        })
    }

    /// Clones the application's deployed template into a new database.
    fn fresh_database(
        &self,
        server: &Server,
        db_name: &str,
        dir: &std::path::Path,
    ) -> Result<Database> {
        // A transcript that activates the application again (`Rex(...)` with other
        // settings) works on the same database, as rex does.
        let again = self
            .reused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(name, dir_, db)| {
                name == db_name
                    && dir_ == dir
                    && db.server.url("postgres") == server.url("postgres")
            })
            .map(|(_, _, db)| db.clone());
        if let Some(db) = again {
            return Ok(db);
        }
        let deploying = crate::timings::span("application deploy");
        let hash = crate::deploy::application_hash(dir)?;
        let key = format!("{db_name}_{hash}");
        let template = server.ensure_template(&key, |server, db| {
            let mut client = server.connect(db)?;
            crate::deploy::deploy_application(&mut client, dir)
        })?;
        drop(deploying);
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "harness_{}_{}_{db_name}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        {
            let _timing = crate::timings::span("template clone");
            server.clone_database(&template, &name)?;
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
            dir.to_path_buf(),
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

/// Makes sure database `name` exists on `server` and has the application deployed.
/// Several processes may do this at once (workers starting together): a session
/// advisory lock on the maintenance database, keyed by the database name, makes
/// them take turns, so the database is created once and deployed by one at a time.
fn deploy_in_place(server: &Server, name: &str, dir: &std::path::Path) -> Result<Database> {
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
    dir: &std::path::Path,
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
    let mut client = db.connect()?;
    crate::deploy::deploy_application(&mut client, dir)?;
    Ok(db)
}
