//! rex.asynctask's core functions: `get_transport`, `process_queue`, `run_worker`.

use super::localmem::LocalMemTransport;
use super::pgsql::PgTransport;
use super::settings::workers;
use super::transport::Transport;
use super::WorkerRegistry;
use crate::core::app::{App, Database};
use crate::core::{Error, Result};
use crate::pg::Server;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The text of rex's `ValueError` for an unknown scheme.
pub fn unknown_scheme_text(uri: &str) -> String {
    format!("\"{uri}\" does not resolve to a known AsyncTransport")
}

/// `get_transport(uri=None)`: `uri`, else `asynctask_transport`, else the `db`
/// setting. `localmem` transports are shared by every caller of one application (rex
/// caches per app); a `pgsql` transport owns a connection, so each caller gets one.
pub fn get_transport(app: &App, uri: Option<&str>) -> Result<Arc<dyn Transport>> {
    let uri = match uri.filter(|u| !u.is_empty()) {
        Some(u) => u.to_string(),
        None => match app
            .settings
            .get_str("asynctask_transport")
            .or_else(|| app.settings.get_str("db"))
        {
            Some(u) => u.to_string(),
            None => return Err(Error::new("Asynctask transport not specified")),
        },
    };
    let (scheme, rest) = uri.split_once(':').unwrap_or((uri.as_str(), ""));
    match scheme {
        // One application instance = one name on one database (each transcript file
        // gets a fresh database), so transcripts do not see each other's tasks.
        "localmem" => Ok(shared_localmem(&format!("{}/{}", app.name, app.db.name))),
        "pgsql" => Ok(Arc::new(pgsql_transport(app, rest)?)),
        "filesys" => Ok(Arc::new(super::filesys::FileSysTransport::new(rest)?)),
        _ => Err(Error::new(unknown_scheme_text(&uri))),
    }
}

fn shared_localmem(app: &str) -> Arc<dyn Transport> {
    static SHARED: OnceLock<Mutex<HashMap<String, Arc<LocalMemTransport>>>> = OnceLock::new();
    let mut map = SHARED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    map.entry(app.to_string()).or_default().clone()
}

/// `pgsql:db`, `pgsql://host/db`, `pgsql://user:pw@host:port/db?master_lock_id=N`.
/// A database named like the app's `db` setting is the application database itself
/// (which tests and transcripts run under another, fresh name).
fn pgsql_transport(app: &App, rest: &str) -> Result<PgTransport> {
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, dbname) = match rest.strip_prefix("//") {
        Some(r) => r.split_once('/').unwrap_or((r, "")),
        None => ("", rest),
    };
    let mut master_lock_id = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        if let Some(("master_lock_id", v)) = pair.split_once('=') {
            master_lock_id = Some(v.parse::<i32>().map_err(|_| {
                Error::with("Expected an integer", v).wrap_with("While parsing:", "master_lock_id")
            })?);
        }
    }
    let app_db_name = app
        .settings
        .get_str("db")
        .and_then(|d| d.strip_prefix("pgsql:"))
        .map(|d| d.trim_start_matches('/'));
    let host = authority
        .rsplit('@')
        .next()
        .unwrap_or("")
        .split(':')
        .next()
        .unwrap_or("");
    let label = format!(
        "{}/{}",
        if host.is_empty() { "localhost" } else { host },
        dbname
    );
    let db = if authority.is_empty() {
        let name = if Some(dbname) == app_db_name || dbname.is_empty() {
            app.db.name.clone()
        } else {
            dbname.to_string()
        };
        Database {
            server: app.db.server.clone(),
            name,
        }
    } else {
        Database {
            server: Server::from_url(&format!("postgresql://{authority}/"))?,
            name: dbname.to_string(),
        }
    };
    PgTransport::new(db, master_lock_id, label)
}

/// Drains `queue` with one worker instance: `process` every task until the queue is
/// empty. Returns the count. Exceptions propagate (rex's `_process`).
fn drain(
    app: &App,
    registry: &WorkerRegistry,
    queue: &str,
    worker: &str,
    quiet: bool,
) -> Result<usize> {
    let Some(worker) = registry.get(worker) else {
        return Err(Error::new(format!("Worker \"{worker}\" does not exist")));
    };
    let transport = get_transport(app, None)?;
    let _quiet = quiet.then(Quiet::new);
    let mut count = 0;
    while let Some(task) = transport.get_task(queue)? {
        worker.process(app, &task)?;
        count += 1;
    }
    Ok(count)
}

/// `process_queue(queue_name, worker_name=None, quiet=False)`.
pub fn process_queue(
    app: &App,
    registry: &WorkerRegistry,
    queue: &str,
    worker: Option<&str>,
    quiet: bool,
) -> Result<usize> {
    let worker = match worker {
        Some(w) => w.to_string(),
        None => match workers(&app.settings)?.get(queue) {
            Some(config) => config.worker.clone(),
            None => {
                return Err(Error::new(format!(
                    "Cannot identify worker for queue \"{queue}\""
                )))
            }
        },
    };
    drain(app, registry, queue, &worker, quiet)
}

/// `run_worker(worker_name, queue_name=None, quiet=False)`.
pub fn run_worker(
    app: &App,
    registry: &WorkerRegistry,
    worker: &str,
    queue: Option<&str>,
    quiet: bool,
) -> Result<usize> {
    let queue = match queue {
        Some(q) => q.to_string(),
        None => match workers(&app.settings)?
            .into_iter()
            .find(|(_, config)| config.worker == worker)
        {
            Some((q, _)) => q,
            None => {
                return Err(Error::new(format!(
                    "Cannot identify queue for worker \"{worker}\""
                )))
            }
        },
    };
    drain(app, registry, &queue, worker, quiet)
}

/// rex's `disable_logging()` for the duration of a call.
struct Quiet(log::LevelFilter);

impl Quiet {
    fn new() -> Quiet {
        let level = log::max_level();
        log::set_max_level(log::LevelFilter::Off);
        Quiet(level)
    }
}

impl Drop for Quiet {
    fn drop(&mut self) {
        log::set_max_level(self.0);
    }
}
