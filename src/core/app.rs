//! The running application: `Rex('rex.mart_demo', ...)`. Its settings and the
//! databases it talks to. Domain code receives an `&App` instead of reaching for
//! globals, so several applications can live in one process (tests, transcripts).

use super::settings::Settings;
use super::Result;
use crate::pg::Server;
use std::path::PathBuf;

/// One database on one server.
#[derive(Clone, Debug)]
pub struct Database {
    pub server: Server,
    pub name: String,
}

impl Database {
    pub fn connect(&self) -> Result<postgres::Client> {
        self.server.connect(&self.name)
    }
}

/// An application: its directory of definitions, merged settings, its application
/// (management) database, and the server that hosts its marts.
#[derive(Clone, Debug)]
pub struct App {
    /// The name given to `Rex(...)`, e.g. `rex.mart_demo`.
    pub name: String,
    /// `definitions/<name>/`: settings.yaml, deploy.yaml, mart.yaml and the files they include.
    pub dir: PathBuf,
    pub settings: Settings,
    /// The application database; rex.mart calls it the management database.
    pub db: Database,
    /// Where marts are created: the `mart_hosting_cluster` server, or `db.server`.
    pub hosting: Server,
}
