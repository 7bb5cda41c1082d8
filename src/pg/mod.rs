//! Every way the harness gets a real PostgreSQL: a [`Server`] is somewhere to connect
//! to and create databases in. Backends produce one: an embedded cluster run from
//! the machine's binaries ([`embedded`], the default), an existing server given by
//! URL, or a container ([`docker`], behind the `docker` cargo feature). [`Clusters`]
//! starts them lazily for the CLI and maps rex URLs (`pgsql:db`,
//! `pgsql://:5433/mart`) onto them.
//!
//! Application databases are built once into template databases
//! ([`Server::ensure_template`], named `harness_tpl_<key>`) and cloned per
//! transcript ([`Server::clone_database`]). Every database the harness creates on a
//! server it does not own carries a `harness_` prefix; it creates and drops no other.
//!
//! Every connection the harness opens goes through [`Server::connect`] (except the
//! embedded backend's own housekeeping), so a [`cancel::Scope`] current on the thread
//! sees them all (but the process-wide sessions [`marker`] opens outside it).

pub mod bins;
pub mod cancel;
pub mod cleanup;
pub mod clusters;
pub mod docker;
pub mod embedded;
pub mod marker;
pub mod proc;
pub mod rexurl;
mod template;

pub use clusters::{BackendKind, Clusters, Options};
pub use rexurl::RexUrl;

use crate::core::error::pg_text;
use crate::core::{Error, Result};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// What keeps a server alive and knows about it beyond its address: a running
/// embedded cluster or a container. Dropped with the last [`Server`] clone.
pub trait Backing: Send + Sync + fmt::Debug {
    /// e.g. `embedded cluster (PostgreSQL 15.18) in /tmp/harness-pg-0/run-12-0`.
    fn describe(&self) -> String;
    /// The server log, when the harness has one.
    fn log_path(&self) -> Option<PathBuf> {
        None
    }
    /// The last lines of the server log.
    fn log_tail(&self, _lines: usize) -> Option<String> {
        None
    }
    /// Called after a template database was built, to keep it for later runs.
    fn templates_changed(&self) {}
}

impl Backing for embedded::Cluster {
    fn describe(&self) -> String {
        format!(
            "embedded {} cluster (PostgreSQL {}) in {}",
            self.label(),
            self.version(),
            self.dir().display()
        )
    }
    fn log_path(&self) -> Option<PathBuf> {
        Some(embedded::Cluster::log_path(self).to_path_buf())
    }
    fn log_tail(&self, lines: usize) -> Option<String> {
        Some(embedded::Cluster::log_tail(self, lines))
    }
    fn templates_changed(&self) {
        embedded::Cluster::templates_changed(self)
    }
}

/// A reachable PostgreSQL server, with credentials able to create databases.
#[derive(Clone)]
pub struct Server {
    config: postgres::Config,
    backing: Option<Arc<dyn Backing>>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("url", &self.url("postgres"))
            .field("backing", &self.backing)
            .finish()
    }
}

impl Server {
    /// A server given by a `postgresql://` URL (or libpq key=value string).
    pub fn from_url(url: &str) -> Result<Server> {
        let config: postgres::Config = url
            .parse()
            .map_err(|e| Error::with("Failed to parse database URL:", format!("{url}: {e}")))?;
        Ok(Server::from_config(config))
    }

    /// A server at an address the harness does not manage.
    pub fn from_config(config: postgres::Config) -> Server {
        Server {
            config,
            backing: None,
        }
    }

    /// A server kept alive by `backing` (a cluster or container the harness runs).
    pub fn backed(config: postgres::Config, backing: Arc<dyn Backing>) -> Server {
        Server {
            config,
            backing: Some(backing),
        }
    }

    /// Starts a fresh embedded cluster (see [`embedded`]); it stops when the last
    /// clone of the returned server is dropped, or when the process ends.
    pub fn embedded(label: &str) -> Result<Server> {
        let cluster = embedded::Cluster::start(label)?;
        Ok(Server::backed(cluster.config(), cluster))
    }

    pub fn config(&self) -> &postgres::Config {
        &self.config
    }

    pub fn backing(&self) -> Option<&Arc<dyn Backing>> {
        self.backing.as_ref()
    }

    /// The server log, when the harness runs the server.
    pub fn log_path(&self) -> Option<PathBuf> {
        self.backing.as_ref().and_then(|b| b.log_path())
    }

    /// The last `lines` lines of the server log, to print when something failed.
    pub fn log_tail(&self, lines: usize) -> Option<String> {
        self.backing.as_ref().and_then(|b| b.log_tail(lines))
    }

    /// Connects to database `dbname` on this server. In a [`cancel::Scope`] current
    /// on this thread, the connection is registered there.
    pub fn connect(&self, dbname: &str) -> Result<postgres::Client> {
        let mut config = self.config.clone();
        config.dbname(dbname);
        if config.get_application_name().is_none() {
            config.application_name(&session_name());
        }
        let scoped = cancel::prepare(&mut config);
        let client = config
            .connect(postgres::NoTls)
            .map_err(|e| Error::with("Failed to connect to the database server:", pg_text(&e)))?;
        if let Some(scoped) = scoped {
            scoped.register(&client);
        }
        Ok(client)
    }

    /// A URL for database `dbname` on this server, for people and child processes.
    pub fn url(&self, dbname: &str) -> String {
        let host = match self.config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => "localhost".into(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let user = self.config.get_user().unwrap_or("postgres");
        if host.starts_with('/') {
            format!("postgresql://{user}@/{dbname}?host={host}&port={port}")
        } else {
            format!("postgresql://{user}@{host}:{port}/{dbname}")
        }
    }

    /// `CREATE DATABASE name [TEMPLATE template]`, issued from the maintenance database.
    pub fn create_database(&self, name: &str, template: Option<&str>) -> Result<()> {
        let mut sql = format!("CREATE DATABASE {}", quote_ident(name));
        if let Some(t) = template {
            sql.push_str(&format!(" TEMPLATE {}", quote_ident(t)));
        }
        self.connect("postgres")?.batch_execute(&sql)?;
        Ok(())
    }

    /// `DROP DATABASE IF EXISTS name WITH (FORCE)`.
    pub fn drop_database(&self, name: &str) -> Result<()> {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
        self.connect("postgres")?.batch_execute(&sql)?;
        Ok(())
    }
}

/// The `application_name` of this process's sessions (unless its URL sets one):
/// `harness:PID`, so that [`Server::end_own_sessions`] can find them.
pub fn session_name() -> String {
    format!("harness:{}", std::process::id())
}

impl Server {
    /// Terminates this process's other sessions on the server (a creation or job
    /// stopped half-way: whatever it runs fails, and the locks it holds are freed)
    /// and waits up to `wait` for them to be gone. Returns how many there were.
    pub fn end_own_sessions(&self, wait: std::time::Duration) -> Result<usize> {
        let mut db = self.connect("postgres")?;
        let ended: Vec<i32> = db
            .query(
                // In the select list: evaluated only for the rows selected.
                "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE application_name = $1 AND pid <> pg_backend_pid()",
                &[&session_name()],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let until = std::time::Instant::now() + wait;
        while !ended.is_empty() && std::time::Instant::now() < until {
            let left: i64 = db
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)",
                    &[&ended],
                )?
                .get(0);
            if left == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Ok(ended.len())
    }
}

/// Quotes an SQL identifier: `"name"` with inner quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// FNV-1a: a hash that stays the same across Rust versions and processes, for
/// names and lock ids that several harness processes must agree on.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

/// Servers and scratch databases for the crate's own tests.
pub mod testing {
    use super::Server;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;

    /// The server tests use: `HARNESS_PG_URL` when set, else one embedded cluster
    /// per test process, started on first use and stopped when the process ends
    /// (exit hook, or the server's death signal if the process is killed).
    pub fn server() -> &'static Server {
        static SERVER: OnceLock<Server> = OnceLock::new();
        SERVER.get_or_init(|| match std::env::var("HARNESS_PG_URL") {
            Ok(url) if !url.is_empty() => Server::from_url(&url).expect("HARNESS_PG_URL"),
            _ => Server::embedded("test")
                .unwrap_or_else(|e| panic!("tests need PostgreSQL (or HARNESS_PG_URL):\n{e}")),
        })
    }

    /// A database created for one test and dropped when the value is dropped.
    pub struct ScratchDb {
        pub name: String,
    }

    impl ScratchDb {
        pub fn new(label: &str) -> ScratchDb {
            static N: AtomicUsize = AtomicUsize::new(0);
            let name = format!(
                "harness_test_{label}_{}_{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            );
            server()
                .create_database(&name, None)
                .expect("create scratch database");
            ScratchDb { name }
        }

        pub fn connect(&self) -> postgres::Client {
            server()
                .connect(&self.name)
                .expect("connect scratch database")
        }
    }

    impl Drop for ScratchDb {
        fn drop(&mut self) {
            let _ = server().drop_database(&self.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{server, ScratchDb};

    /// `testing::server()` works with `HARNESS_PG_URL` and without it (embedded).
    #[test]
    fn scratch_databases_come_and_go() {
        let name = {
            let db = ScratchDb::new("pg_mod");
            let one: i32 = db.connect().query_one("SELECT 1", &[]).unwrap().get(0);
            assert_eq!(one, 1);
            db.name.clone()
        };
        let left: i64 = server()
            .connect("postgres")
            .unwrap()
            .query_one(
                "SELECT count(*) FROM pg_database WHERE datname = $1",
                &[&name],
            )
            .unwrap()
            .get(0);
        assert_eq!(left, 0);
    }
}
