//! The clusters a harness run uses, started on first use: the primary (application
//! databases) and, with `--multicluster`, a second "hosting" cluster for marts.
//!
//! Rex settings name servers by URL. Decision for this project: a URL with no host
//! names the harness's own clusters, whatever real ports they got (so concurrent
//! runs never collide): port empty or 5432 -> the primary, port 5433 -> the hosting
//! cluster. A URL with a host is a real server, used as given. Credentials in a
//! host-less URL are ignored: the harness's clusters trust their superuser.

use super::rexurl::RexUrl;
use super::Server;
use crate::core::{Error, Result};
use std::sync::Mutex;

/// Where servers come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// A private cluster run from the machine's PostgreSQL binaries.
    Embedded,
    /// An existing server (`--pg-url`, `HARNESS_PG_URL`, `DATABASE_URL`).
    Url,
    /// A container started through the Docker daemon (cargo feature `docker`).
    Docker,
}

/// What the command line says about servers.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `None`: `url` when a URL is given (flag or environment), else `embedded`.
    pub backend: Option<BackendKind>,
    /// `--pg-url`; `HARNESS_PG_URL`, then `DATABASE_URL`, when absent.
    pub pg_url: Option<String>,
    /// `--image NAME[:TAG]` for the docker backend.
    pub image: Option<String>,
    /// Start a second cluster reachable as `pgsql://:5433/...`.
    pub multicluster: bool,
}

impl Options {
    /// The URL given on the command line or in the environment.
    pub fn url(&self) -> Option<String> {
        self.pg_url.clone().or_else(|| {
            ["HARNESS_PG_URL", "DATABASE_URL"]
                .iter()
                .filter_map(|v| std::env::var(v).ok())
                .find(|v| !v.is_empty())
        })
    }

    /// The backend in effect.
    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Some(kind) => kind,
            None if self.url().is_some() => BackendKind::Url,
            None => BackendKind::Embedded,
        }
    }
}

/// Port numbers rex URLs use for the harness's own clusters.
pub const PRIMARY_PORT: u16 = 5432;
pub const HOSTING_PORT: u16 = 5433;

/// The lazily started servers of one harness run.
#[derive(Debug)]
pub struct Clusters {
    options: Options,
    primary: Mutex<Option<Server>>,
    hosting: Mutex<Option<Server>>,
}

impl Clusters {
    pub fn new(options: Options) -> Clusters {
        Clusters {
            options,
            primary: Mutex::new(None),
            hosting: Mutex::new(None),
        }
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The primary server, started on first call.
    pub fn primary(&self) -> Result<Server> {
        self.get(&self.primary, "primary")
    }

    /// The hosting (second) server; an error unless `multicluster` is on. With the
    /// url backend both names mean the one server given.
    pub fn hosting(&self) -> Result<Server> {
        if !self.options.multicluster {
            return Err(Error::with(
                "Failed to connect to the database server:",
                format!(
                    "no hosting cluster on port {HOSTING_PORT}: \
                     start the harness with --multicluster"
                ),
            ));
        }
        if self.options.kind() == BackendKind::Url {
            return self.primary();
        }
        self.get(&self.hosting, "hosting")
    }

    /// The servers started so far (for printing logs when something failed).
    pub fn started(&self) -> Vec<Server> {
        [&self.primary, &self.hosting]
            .iter()
            .filter_map(|m| m.lock().unwrap_or_else(|e| e.into_inner()).clone())
            .collect()
    }

    /// Server logs of the started servers, last `lines` lines each, titled.
    pub fn log_tails(&self, lines: usize) -> String {
        tails(&self.started(), lines)
    }

    /// [`Clusters::log_tails`] of the servers that no longer answer: a server that
    /// failed itself, not one whose transcript failed.
    pub fn failed_log_tails(&self, lines: usize) -> String {
        let mut failed = self.started();
        failed.retain(|s| s.connect("postgres").is_err());
        tails(&failed, lines)
    }

    /// Stops the servers this run started (they also stop on their own at exit).
    pub fn shutdown(&self) {
        // What this run made on a server it does not own goes first.
        super::marker::finish();
        for slot in [&self.hosting, &self.primary] {
            slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        }
    }

    fn get(&self, slot: &Mutex<Option<Server>>, label: &str) -> Result<Server> {
        let mut guard = slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(server) = guard.as_ref() {
            return Ok(server.clone());
        }
        let server = self.start(label).map_err(|e| {
            const CONNECT: &str = "Failed to connect to the database server:";
            if e.message() == CONNECT {
                e
            } else {
                Error::with(CONNECT, e)
            }
        })?;
        *guard = Some(server.clone());
        Ok(server)
    }

    fn start(&self, label: &str) -> Result<Server> {
        match self.options.kind() {
            BackendKind::Embedded => Server::embedded(label),
            BackendKind::Url => {
                let url = self.options.url().ok_or_else(|| {
                    Error::with(
                        "No database server URL:",
                        "--backend url needs --pg-url, HARNESS_PG_URL or DATABASE_URL",
                    )
                })?;
                let server = Server::from_url(&url)?;
                server.connect("postgres")?;
                Ok(server)
            }
            BackendKind::Docker => super::docker::start(self.options.image.as_deref(), label),
        }
    }

    /// The server and database a rex URL names (see the module doc).
    pub fn resolve_rex_url(&self, url: &str) -> Result<(Server, Option<String>)> {
        let parsed = RexUrl::parse(url)?;
        if !parsed.is_local() {
            return Ok((remote_server(&parsed), parsed.database));
        }
        let server = match parsed.port.unwrap_or(PRIMARY_PORT) {
            PRIMARY_PORT => self.primary()?,
            HOSTING_PORT => self.hosting()?,
            port => {
                return Err(Error::with(
                    "Failed to connect to the database server:",
                    format!(
                        "no cluster of the harness answers on port {port} \
                         (the primary is {PRIMARY_PORT}, the hosting cluster {HOSTING_PORT})"
                    ),
                ))
            }
        };
        Ok((server, parsed.database))
    }
}

fn tails(servers: &[Server], lines: usize) -> String {
    servers
        .iter()
        .filter_map(|s| {
            let tail = s.log_tail(lines)?;
            let what = s.backing().map(|b| b.describe()).unwrap_or_default();
            Some(format!("--- server log of the {what} ---\n{tail}\n"))
        })
        .collect()
}

/// A server named by host: connection settings as psycopg would take them.
fn remote_server(url: &RexUrl) -> Server {
    let mut config = postgres::Config::new();
    config
        .host(url.host.as_deref().unwrap_or("localhost"))
        .port(url.port.unwrap_or(PRIMARY_PORT))
        .dbname(url.database.as_deref().unwrap_or("postgres"));
    let user = url
        .user
        .clone()
        .or_else(|| std::env::var("PGUSER").ok())
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "postgres".into());
    config.user(&user);
    if let Some(password) = url
        .password
        .as_ref()
        .cloned()
        .or_else(|| std::env::var("PGPASSWORD").ok())
    {
        config.password(password);
    }
    Server::from_config(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_follows_flags_then_environment() {
        let opts = Options {
            pg_url: Some("postgresql://x@h/db".into()),
            ..Options::default()
        };
        assert_eq!(opts.kind(), BackendKind::Url);
        let opts = Options {
            backend: Some(BackendKind::Docker),
            pg_url: Some("postgresql://x@h/db".into()),
            ..Options::default()
        };
        assert_eq!(opts.kind(), BackendKind::Docker);
    }

    #[test]
    fn hosting_needs_multicluster_and_other_ports_are_refused() {
        let clusters = Clusters::new(Options {
            backend: Some(BackendKind::Url),
            pg_url: Some("postgresql://postgres@127.0.0.1:1/postgres".into()),
            ..Options::default()
        });
        let e = clusters.resolve_rex_url("pgsql://:5433/mart").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Failed to connect to the database server:\n    no hosting cluster on port 5433: \
             start the harness with --multicluster"
        );
        let e = clusters.resolve_rex_url("pgsql://:6000/mart").unwrap_err();
        assert_eq!(e.message(), "Failed to connect to the database server:");
        // A host means a real server: resolved without connecting.
        let (server, db) = clusters
            .resolve_rex_url("pgsql://bob:pw@db.example.org:6543/jobs")
            .unwrap();
        assert_eq!(
            server.url("jobs"),
            "postgresql://bob@db.example.org:6543/jobs"
        );
        assert_eq!(db.as_deref(), Some("jobs"));
    }
}
