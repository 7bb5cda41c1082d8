//! The running application: `Rex('rex.mart_demo', ...)`. Its settings and the
//! databases it talks to. Domain code receives an `&App` instead of reaching for
//! globals, so several applications can live in one process (tests, transcripts).

use super::packages::Packages;
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
    /// No database: the application lacks rex.db, or its `db` setting names a
    /// database system the harness does not run (rex.db accepts `sqlite:`).
    pub fn absent() -> Database {
        Database {
            server: Server::from_config(postgres::Config::new()),
            name: String::new(),
        }
    }

    /// Whether this is [`Database::absent`].
    pub fn is_absent(&self) -> bool {
        self.name.is_empty()
    }

    pub fn connect(&self) -> Result<postgres::Client> {
        if self.is_absent() {
            return Err(super::Error::new(
                "The application has no PostgreSQL database \
                 (rex.db is not among its packages, or its db setting names another system)",
            ));
        }
        self.server.connect(&self.name)
    }
}

/// An application: its directory of definitions, merged settings, its application
/// (management) database, and the server that hosts its marts.
#[derive(Clone, Debug)]
pub struct App {
    /// The name given to `Rex(...)`, e.g. `rex.mart_demo`.
    pub name: String,
    /// `definitions/<name>/`: settings.yaml, deploy.yaml, mart.yaml and the files they
    /// include. An application of rex packages only (`Rex('rex.asynctask')`) has no
    /// folder: `dir` is then a path that does not exist, so it holds no files.
    pub dir: PathBuf,
    /// The packages active (rex.core, the rex packages required, the folder).
    pub packages: Packages,
    pub settings: Settings,
    /// The application database; rex.mart calls it the management database.
    pub db: Database,
    /// Where marts are created: the `mart_hosting_cluster` server, or `db.server`.
    pub hosting: Server,
}

/// Where application directories are looked up, in order: `--apps DIR`s,
/// `$HARNESS_APPS` (`:`-separated), `./definitions`, then the `definitions/` of the
/// transcript's directory or its nearest ancestor that has one.
#[derive(Clone, Debug, Default)]
pub struct SearchPath {
    pub dirs: Vec<PathBuf>,
}

impl SearchPath {
    /// Where applications are looked up, in order: `--apps DIR`s, `$HARNESS_APPS`
    /// (colon-separated), the `definitions/` nearest the transcript (its directory or
    /// an ancestor's), `./definitions`. Every subcommand uses this one order.
    pub fn new(apps: &[PathBuf], transcript_dir: Option<&std::path::Path>) -> SearchPath {
        let mut dirs: Vec<PathBuf> = apps.to_vec();
        if let Ok(env) = std::env::var("HARNESS_APPS") {
            dirs.extend(env.split(':').filter(|s| !s.is_empty()).map(PathBuf::from));
        }
        if let Some(start) = transcript_dir {
            let found = start
                .ancestors()
                .map(|d| d.join("definitions"))
                .find(|d| d.is_dir());
            dirs.extend(found);
        }
        dirs.push(PathBuf::from("definitions"));
        SearchPath { dirs }
    }

    /// The directory of application `name`: `<dir>/<name>` for the first search
    /// directory that has it. A name that leads outside its search directory
    /// (`../x`, `/abs`) is unknown.
    pub fn find(&self, name: &str) -> Result<PathBuf> {
        let inside = |dir: &PathBuf| {
            let candidate = dir.join(name);
            let (Ok(root), Ok(real)) = (dir.canonicalize(), candidate.canonicalize()) else {
                return None;
            };
            (real.is_dir() && real != root && real.starts_with(&root)).then_some(candidate)
        };
        if let Some(found) = self.dirs.iter().find_map(inside) {
            return Ok(found);
        }
        let searched: Vec<String> = self.dirs.iter().map(|d| d.display().to_string()).collect();
        Err(super::Error::with("Unknown application:", name)
            .wrap_with("Looked in:", searched.join("\n")))
    }
}

/// Reads `<dir>/settings.yaml` (if any) and applies `overrides` (`Rex(...)` keywords).
pub fn load_settings(
    dir: &std::path::Path,
    overrides: &serde_json::Map<String, serde_json::Value>,
) -> Result<Settings> {
    let mut settings = Settings::new();
    let path = dir.join("settings.yaml");
    if path.is_file() {
        let node = super::yaml::load_file(&path)?;
        match node.to_json() {
            serde_json::Value::Object(map) => settings.merge(&map),
            serde_json::Value::Null => {}
            _ => {
                return Err(super::Error::with("Expected a mapping", "settings")
                    .wrap_with("While parsing:", path.display()))
            }
        }
    }
    for (k, v) in overrides {
        settings.set(k, v.clone());
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_apps_and_lists_where_it_looked() {
        let dir = tempfile::tempdir().unwrap();
        let defs = dir.path().join("definitions");
        std::fs::create_dir_all(defs.join("rex.demo")).unwrap();
        std::fs::write(
            defs.join("rex.demo/settings.yaml"),
            "db: pgsql:demo\nx: {a: 1}\n",
        )
        .unwrap();
        let nested = dir.path().join("transcripts/sub");
        std::fs::create_dir_all(&nested).unwrap();
        let search = SearchPath::new(&[], Some(&nested));
        let app_dir = search.find("rex.demo").unwrap();
        assert_eq!(app_dir, defs.join("rex.demo"));
        let mut overrides = serde_json::Map::new();
        overrides.insert("x".into(), serde_json::json!(null));
        let s = load_settings(&app_dir, &overrides).unwrap();
        assert_eq!(s.get_str("db"), Some("pgsql:demo"));
        assert_eq!(s.get("x"), None);
        let err = search.find("rex.nope").unwrap_err().to_string();
        assert!(
            err.starts_with("Unknown application:\n    rex.nope\nLooked in:\n"),
            "{err}"
        );
        // A path out of the search directories is no application.
        std::fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
        let outside = defs.join("../elsewhere");
        assert!(outside.is_dir());
        let err = search.find("../elsewhere").unwrap_err().to_string();
        assert!(
            err.starts_with("Unknown application:\n    ../elsewhere\n"),
            "{err}"
        );
        let abs = outside.canonicalize().unwrap();
        assert!(search.find(abs.to_str().unwrap()).is_err());
        // The transcript's nearest definitions/ comes before ./definitions.
        assert_eq!(search.dirs.last(), Some(&PathBuf::from("definitions")));
        assert_eq!(search.dirs[search.dirs.len() - 2], defs);
    }
}
