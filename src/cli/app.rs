//! The one way every application subcommand (`create`, `marts`, `purge`, `worker`,
//! `submit`, `jobs`, `task`) opens its application: [`AppArgs`], flattened into each
//! subcommand's arguments, and [`AppArgs::open`], which goes through the
//! [`Provisioner`] in place (the application database is created and deployed when
//! it is missing, and kept).
//!
//! Which server: `--pg-url`, else `$HARNESS_PG_URL`, else `$DATABASE_URL`; with none
//! of them, `--backend embedded` (the default) starts a throwaway cluster that lives
//! as long as the command. Which database: the URL's database unless it is
//! `postgres`, else the application's `db` setting (`pgsql:NAME`).

use crate::core::app::{App, SearchPath};
use crate::core::{Error, Result};
use crate::pg::{BackendKind, Clusters, Options, Server};
use crate::provision::{DbMode, Provisioner};
use clap::Args;
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::Arc;

/// The application `--app` names when it is not given.
pub const DEFAULT_APP: &str = "rex.mart_demo";

/// Which application, and on which servers, a subcommand works.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Application")]
pub struct AppArgs {
    /// The application: a directory with settings.yaml (and deploy.yaml, mart.yaml)
    /// under one of the --apps directories, or a path to one; or a rex package
    /// (rex.asynctask), which has no folder.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_APP)]
    pub app: String,
    /// A directory where applications live, searched before $HARNESS_APPS and
    /// definitions/ (repeatable).
    #[arg(long = "apps", value_name = "DIR")]
    pub apps: Vec<PathBuf>,
    /// Override a setting with a JSON value, e.g. --set job_stale_after=10 or
    /// --set 'mart_max_marts_per_owner=null' (repeatable; strings need JSON quotes).
    #[arg(long = "set", value_name = "KEY=JSON")]
    pub set: Vec<String>,
    /// The PostgreSQL server of the application database (default $HARNESS_PG_URL,
    /// then $DATABASE_URL). Its database is the application database unless it is
    /// `postgres`; then the app's `db` setting (pgsql:NAME) names it.
    #[arg(long, value_name = "URL")]
    pub pg_url: Option<String>,
    /// The server marts are created on (default: the app's mart_hosting_cluster
    /// setting, else the application database's server).
    #[arg(long, value_name = "URL")]
    pub hosting_url: Option<String>,
    /// Where PostgreSQL comes from when no URL is given: embedded (default; a
    /// throwaway cluster for this command only), url, or docker.
    #[arg(long, value_enum)]
    pub backend: Option<BackendKind>,
}

impl Default for AppArgs {
    fn default() -> AppArgs {
        AppArgs {
            app: DEFAULT_APP.to_string(),
            apps: Vec::new(),
            set: Vec::new(),
            pg_url: None,
            hosting_url: None,
            backend: None,
        }
    }
}

impl AppArgs {
    /// The `--set` overrides as a settings map.
    pub fn overrides(&self) -> Result<Map<String, Value>> {
        let mut overrides = Map::new();
        for item in &self.set {
            let Some((key, text)) = item.split_once('=').filter(|(k, _)| !k.is_empty()) else {
                return Err(Error::with("Expected KEY=JSON:", item).wrap("While parsing --set"));
            };
            let value: Value = serde_json::from_str(text).map_err(|e| {
                Error::with("Expected a JSON value:", format!("{item}\n{e}"))
                    .wrap("While parsing --set")
            })?;
            overrides.insert(key.to_string(), value);
        }
        Ok(overrides)
    }

    /// The server options these flags describe.
    pub fn options(&self) -> Options {
        Options {
            backend: self.backend,
            pg_url: self.pg_url.clone(),
            image: None,
            multicluster: false,
        }
    }

    /// Opens the live application: finds it, applies `--set`, gets the server
    /// (starting an embedded one if need be), and makes sure its database exists
    /// and is deployed.
    pub fn open(&self) -> Result<App> {
        self.open_with(&self.overrides()?)
    }

    /// [`AppArgs::open`] with the settings overrides given (`rex --set`, which reads
    /// values as YAML, instead of this command's `--set KEY=JSON`).
    pub fn open_with(&self, overrides: &Map<String, Value>) -> Result<App> {
        let options = self.options();
        // Bad URLs are input errors: say so before anything starts.
        let db_name = match (options.kind(), options.url()) {
            (BackendKind::Url, Some(url)) => {
                let server = Server::from_url(&url)?;
                server
                    .config()
                    .get_dbname()
                    .filter(|n| !n.is_empty() && *n != "postgres")
                    .map(str::to_string)
            }
            _ => None,
        };
        let hosting = self
            .hosting_url
            .as_deref()
            .map(Server::from_url)
            .transpose()?;
        let search = SearchPath::new(&self.apps, None);
        // Unknown applications and settings fail before a server is started.
        // An application folder, or rex packages (`--app rex.asynctask`).
        let packages = crate::core::packages::Packages::of_folder(&self.app, &search)?;
        if !overrides.is_empty() {
            let declared = match packages.folder() {
                Some((_, dir)) => crate::core::app::load_settings(dir, &Map::new())?,
                None => crate::core::settings::Settings::new(),
            };
            for key in overrides.keys() {
                crate::core::settings::check_known(key, &declared, &packages)
                    .map_err(|e| e.wrap("While parsing --set"))?;
            }
        }
        let provisioner = Provisioner::new(Arc::new(Clusters::new(options)), search);
        let mut app =
            provisioner.open_as(&self.app, overrides, DbMode::InPlace, db_name.as_deref())?;
        if let Some(hosting) = hosting {
            app.hosting = hosting;
        }
        // Errors in the application's code are input errors too.
        crate::bindings::app_code::check(&app)?;
        Ok(app)
    }
}

pub use crate::core::repr::{excerpt, EXCERPT_CHARS};

/// A JSON payload given on the command line; a bad one is quoted by [`excerpt`].
pub fn parse_payload(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        Error::with(
            "Expected a JSON payload:",
            format!("{}\n{e}", excerpt(text)),
        )
    })
}

/// Prints `harness CMD: error: MESSAGE` and returns exit status 2 (unusable input).
pub fn fail(command: &str, e: &Error) -> i32 {
    eprintln!("harness {command}: error: {e}");
    2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_needs_key_and_json() {
        let args = |set: &[&str]| AppArgs {
            set: set.iter().map(|s| s.to_string()).collect(),
            ..AppArgs::default()
        };
        let o = args(&["a=1", "b=\"x\"", "c=null", "d=[1,2]"])
            .overrides()
            .unwrap();
        assert_eq!(
            Value::Object(o),
            serde_json::json!({"a": 1, "b": "x", "c": null, "d": [1, 2]})
        );
        assert_eq!(
            args(&["novalue"]).overrides().unwrap_err().to_string(),
            "Expected KEY=JSON:\n    novalue\nWhile parsing --set"
        );
        assert_eq!(
            args(&["=1"]).overrides().unwrap_err().to_string(),
            "Expected KEY=JSON:\n    =1\nWhile parsing --set"
        );
        let e = args(&["a=bare"]).overrides().unwrap_err().to_string();
        assert!(
            e.starts_with("Expected a JSON value:\n    a=bare\n    expected value at line 1"),
            "{e}"
        );
        assert!(e.ends_with("\nWhile parsing --set"), "{e}");
    }

    #[test]
    fn long_rejected_input_is_quoted_in_part() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(1000);
        assert_eq!(
            excerpt(&long),
            format!("{}... (1000 characters in all)", "é".repeat(300))
        );
        let e = parse_payload(&format!("[{}", "1,".repeat(60_000)))
            .unwrap_err()
            .to_string();
        assert!(e.len() < 500, "{e}");
    }

    #[test]
    fn bad_urls_and_unknown_apps_fail_before_any_server_starts() {
        let args = AppArgs {
            pg_url: Some("postgresql://u@h:notaport/db".into()),
            ..AppArgs::default()
        };
        let e = args.open().unwrap_err().to_string();
        assert!(e.starts_with("Failed to parse database URL:\n"), "{e}");
        let args = AppArgs {
            app: "rex.nope".into(),
            pg_url: Some("postgresql://u@127.0.0.1:1/db".into()),
            ..AppArgs::default()
        };
        let e = args.open().unwrap_err().to_string();
        assert!(
            e.starts_with("Unknown application:\n    rex.nope\nLooked in:\n"),
            "{e}"
        );
    }
}
