//! Every way the harness gets a real PostgreSQL: a [`Server`] is somewhere to connect
//! to and create databases in. Backends (embedded cluster, URL, docker) produce one.

use crate::core::{Error, Result};

/// A reachable PostgreSQL server, with credentials able to create databases.
#[derive(Clone, Debug)]
pub struct Server {
    config: postgres::Config,
}

impl Server {
    /// A server given by a `postgresql://` URL (or libpq key=value string).
    pub fn from_url(url: &str) -> Result<Server> {
        let config: postgres::Config = url
            .parse()
            .map_err(|e| Error::with("Failed to parse database URL:", format!("{url}: {e}")))?;
        Ok(Server { config })
    }

    /// Connects to database `dbname` on this server.
    pub fn connect(&self, dbname: &str) -> Result<postgres::Client> {
        let mut config = self.config.clone();
        config.dbname(dbname);
        config
            .connect(postgres::NoTls)
            .map_err(|e| Error::with("Failed to connect to the database server:", e))
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

/// Quotes an SQL identifier: `"name"` with inner quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Servers and scratch databases for the crate's own tests.
pub mod testing {
    use super::Server;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;

    /// The server tests use: `HARNESS_PG_URL` for now.
    pub fn server() -> &'static Server {
        static SERVER: OnceLock<Server> = OnceLock::new();
        SERVER.get_or_init(|| {
            let url = std::env::var("HARNESS_PG_URL")
                .expect("tests need HARNESS_PG_URL until the embedded backend lands");
            Server::from_url(&url).expect("HARNESS_PG_URL")
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
