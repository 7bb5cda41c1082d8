//! The application a task works on, as rex.ctl's `RexTask.make()` forms it: the
//! requirements (a task's `<project>` argument, the `project` setting, `--require`,
//! the `requirements` setting; the first names the application) and the parameters
//! (the `parameters` setting, then `--set PARAM=VALUE`, values read as YAML).
//!
//! Opening: a child of a transcript's `ctl()` is told the transcript's servers and
//! application database by [`ENV_PRIMARY`], [`ENV_HOSTING`] and [`ENV_DB`] and works
//! on them as they are; otherwise the application is opened like any harness
//! command's (`--pg-url` from `$HARNESS_PG_URL`/`$DATABASE_URL`, deployed in place).

use super::{Fatal, Invocation};
use crate::core::app::{load_settings, App, Database, SearchPath};
use crate::core::settings::Settings;
use crate::core::Result;
use crate::pg::clusters::HOSTING_PORT;
use crate::pg::{Clusters, Options, RexUrl, Server};
use serde_json::{Map, Value};
use std::path::PathBuf;

/// The transcript's primary server (a `postgresql://` URL).
pub const ENV_PRIMARY: &str = "HARNESS_CTL_PRIMARY";
/// The transcript's hosting cluster (`pgsql://:5433/...` in settings), if any.
pub const ENV_HOSTING: &str = "HARNESS_CTL_HOSTING";
/// The database the transcript's session uses as the application database.
pub const ENV_DB: &str = "HARNESS_CTL_DB";

/// What `make()` would build: the application name and its parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Project {
    pub name: String,
    pub overrides: Map<String, Value>,
}

/// A `--set` value or a text setting read as YAML (`{}` a mapping, `5` a number),
/// the text itself when it is not valid YAML or a plain string.
pub fn yaml_value(text: &str) -> Value {
    match crate::core::yaml::load_str(text, "<string>") {
        Ok(node) => match node.to_json() {
            Value::Null
                if !text.trim().is_empty() && text.trim() != "null" && text.trim() != "~" =>
            {
                Value::String(text.to_string())
            }
            v => v,
        },
        Err(_) => Value::String(text.to_string()),
    }
}

/// The application and parameters of an invocation; `own` is the task's own
/// `<project>` argument. Without any: rex's "application is not specified".
pub fn project(inv: &Invocation, own: Option<&str>) -> Result<Project, Fatal> {
    let mut requirements: Vec<String> = Vec::new();
    requirements.extend(own.map(str::to_string));
    requirements.extend(inv.globals.project.clone());
    requirements.extend(inv.values("require").iter().cloned());
    requirements.extend(inv.globals.requirements.iter().cloned());
    let Some(name) = requirements.into_iter().next() else {
        return Err(Fatal("application is not specified".into()));
    };
    let mut overrides = Map::new();
    for (k, v) in &inv.globals.parameters {
        let v = match v {
            Value::String(s) => yaml_value(s),
            other => other.clone(),
        };
        overrides.insert(k.replace('-', "_"), v);
    }
    for item in inv.values("set") {
        let (k, v) = match item.split_once('=') {
            Some((k, v)) => (k, yaml_value(v)),
            None => (item.as_str(), Value::Bool(true)),
        };
        overrides.insert(k.replace('-', "_"), v);
    }
    Ok(Project { name, overrides })
}

/// The application's directory (`None` for a bare rex package such as
/// `rex.asynctask`, which has no directory of its own) and its settings.
pub fn settings(project: &Project) -> Result<(Option<PathBuf>, Settings)> {
    let search = SearchPath::new(&[], None);
    match search.find(&project.name) {
        Ok(dir) => {
            let settings = load_settings(&dir, &project.overrides)
                .map_err(|e| e.wrap_with("While initializing RexDB application:", &project.name))?;
            Ok((Some(dir), settings))
        }
        // rex's own packages (core::packages) need no directory.
        Err(_) if crate::core::packages::builtin(&project.name).is_some() => {
            let mut settings = Settings::new();
            settings.merge(&project.overrides);
            Ok((None, settings))
        }
        Err(e) => Err(e),
    }
}

/// Opens the live application.
pub fn open(project: &Project) -> Result<App> {
    let app = match std::env::var(ENV_PRIMARY) {
        Ok(primary) if !primary.is_empty() => open_in_transcript(project, &primary)?,
        _ => super::super::app::AppArgs {
            app: project.name.clone(),
            ..Default::default()
        }
        .open_with(&project.overrides)?,
    };
    let level = app
        .settings
        .get("logging_root")
        .and_then(|r| r.get("level"))
        .and_then(|l| l.as_str())
        .unwrap_or("INFO");
    crate::core::logging::set_level(level);
    Ok(app)
}

/// The transcript's application database as it is (its session deployed it).
fn open_in_transcript(project: &Project, primary: &str) -> Result<App> {
    let search = SearchPath::new(&[], None);
    let dir = search.find(&project.name)?;
    let settings = load_settings(&dir, &project.overrides)
        .map_err(|e| e.wrap_with("While initializing RexDB application:", &project.name))?;
    let server = Server::from_url(primary)?;
    let clusters = Clusters::new(Options {
        backend: Some(crate::pg::BackendKind::Url),
        pg_url: Some(primary.to_string()),
        image: None,
        multicluster: true,
    });
    let db_name = match std::env::var(ENV_DB) {
        Ok(name) if !name.is_empty() => name,
        _ => {
            let url = settings.get_str("db").unwrap_or_default();
            clusters.resolve_rex_url(url)?.1.unwrap_or_default()
        }
    };
    let hosting = match settings.get_str("mart_hosting_cluster") {
        Some(url) => {
            let parsed = RexUrl::parse(url)?;
            match std::env::var(ENV_HOSTING) {
                Ok(h) if parsed.is_local() && parsed.port == Some(HOSTING_PORT) => {
                    Server::from_url(&h)?
                }
                _ => clusters.resolve_rex_url(url)?.0,
            }
        }
        None => server.clone(),
    };
    let packages = crate::core::packages::Packages::of_folder(&project.name, &search)?;
    Ok(App {
        name: project.name.clone(),
        dir,
        packages,
        settings,
        db: Database {
            server,
            name: db_name,
        },
        hosting,
    })
}
