//! Opening an application from the command line: its directory on the search path,
//! its settings, its database and the server that hosts its marts.

use crate::core::app::{load_settings, App, Database, SearchPath};
use crate::core::{Error, Result};
use crate::pg::Server;
use std::path::PathBuf;

/// Opens application `name`: the database is the `db` setting's name (`pgsql:NAME`)
/// on `pg_url` (default `$HARNESS_PG_URL`); marts go to `hosting_url`, else to
/// `mart_hosting_cluster` when it is a `postgresql://` URL, else to the same server.
pub fn open_app(
    name: &str,
    apps: &[PathBuf],
    pg_url: Option<&str>,
    hosting_url: Option<&str>,
) -> Result<App> {
    let dir = SearchPath::new(apps, None).find(name)?;
    let settings = load_settings(&dir, &serde_json::Map::new())?;
    let url = match pg_url {
        Some(url) => url.to_string(),
        None => std::env::var("HARNESS_PG_URL").map_err(|_| {
            Error::new("No PostgreSQL server given: use --pg-url or set HARNESS_PG_URL")
        })?,
    };
    let server = Server::from_url(&url)?;
    let db_setting = settings.get_str("db").unwrap_or_default();
    let db_name = db_setting
        .strip_prefix("pgsql:")
        .map(|rest| rest.rsplit('/').next().unwrap_or(rest))
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Error::with("Expected a pgsql: database in setting db:", db_setting))?
        .to_string();
    let hosting = match (hosting_url, settings.get_str("mart_hosting_cluster")) {
        (Some(url), _) => Server::from_url(url)?,
        (None, Some(url)) if url.starts_with("postgresql://") => Server::from_url(url)?,
        _ => server.clone(),
    };
    Ok(App {
        name: name.to_string(),
        dir,
        settings,
        db: Database {
            server,
            name: db_name,
        },
        hosting,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_the_demo_app() {
        let apps = [PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("definitions")];
        let app = open_app(
            "rex.mart_demo",
            &apps,
            Some("postgresql://u@h:5/postgres"),
            None,
        )
        .unwrap();
        assert_eq!(app.db.name, "mart_demo");
        assert_eq!(app.hosting.url("x"), "postgresql://u@h:5/x");
        let app = open_app(
            "rex.mart_demo",
            &apps,
            Some("postgresql://u@h:5/postgres"),
            Some("postgresql://v@k:6/y"),
        )
        .unwrap();
        assert_eq!(app.hosting.url("x"), "postgresql://v@k:6/x");
        assert_eq!(app.db.server.url("x"), "postgresql://u@h:5/x");
    }
}
