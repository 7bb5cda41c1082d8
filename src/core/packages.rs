//! The packages an application is made of. rex activates packages, not folders:
//! `Rex('rex.asynctask', 'rex.db', db=...)` is rex.asynctask and rex.db with what
//! they require; `Rex('rex.asynctask_demo')` is the demo and its requirements. Which
//! settings are known and which extensions (workers, executors) exist depend on the
//! packages active, so an application that does not require rex.mart sees no
//! `rexmart_create` worker, as in rex.
//!
//! The rex packages the harness implements are described here ([`BUILTIN`]: their
//! requirements and settings; the Rust extensions each contributes are registered by
//! `provision::extensions`). An application folder (`definitions/<app>/`) is a
//! package too: `package.yaml` there lists what it requires (default:
//! [`DEFAULT_REQUIRES`]). `__main__` (the transcript's own code) is a package that
//! requires nothing.

use super::app::SearchPath;
use super::validate::{RecordVal, SeqVal, StrVal, Validator};
use super::{Error, Result};
use std::path::{Path, PathBuf};

/// One rex package the harness provides.
#[derive(Debug)]
pub struct PackageSpec {
    pub name: &'static str,
    /// The packages it requires, in its `install_requires` order.
    pub requires: &'static [&'static str],
    /// The settings it declares.
    pub settings: &'static [&'static str],
}

/// The rex packages the harness knows, with their requirements among themselves
/// (other requirements, such as rex.instrument, are left out) and their settings.
pub const BUILTIN: &[PackageSpec] = &[
    PackageSpec {
        name: "rex.core",
        requires: &[],
        settings: &["debug"],
    },
    PackageSpec {
        name: "rex.ctl",
        requires: &["rex.core"],
        settings: &[],
    },
    PackageSpec {
        name: "rex.logging",
        requires: &["rex.core"],
        settings: &[
            "logging_filters",
            "logging_formatters",
            "logging_handlers",
            "logging_loggers",
            "logging_root",
        ],
    },
    PackageSpec {
        name: "rex.web",
        requires: &["rex.core", "rex.ctl"],
        settings: &["mount", "replay_log", "secret", "services"],
    },
    PackageSpec {
        name: "rex.db",
        requires: &["rex.core", "rex.ctl", "rex.web"],
        settings: &[
            "access_masks",
            "access_queries",
            "db",
            "gateways",
            "htsql_environment",
            "htsql_extensions",
            "query_timeout",
            "read_only",
            "user_query",
        ],
    },
    PackageSpec {
        name: "rex.deploy",
        requires: &["rex.core", "rex.db", "rex.ctl"],
        settings: &["deploy"],
    },
    PackageSpec {
        name: "rex.attach",
        requires: &["rex.core", "rex.web"],
        settings: &[
            "attach_dir",
            "attach_gcs_bucket",
            "attach_gcs_key",
            "attach_s3_access_key",
            "attach_s3_bucket",
            "attach_s3_endpoint",
            "attach_s3_region",
            "attach_s3_secret_key",
        ],
    },
    PackageSpec {
        name: "rex.asynctask",
        requires: &["rex.core", "rex.ctl", "rex.logging"],
        settings: &[
            "asynctask_scheduled_workers",
            "asynctask_transport",
            "asynctask_workers",
            "asynctask_workers_check_child_interval",
            "asynctask_workers_poll_interval",
        ],
    },
    PackageSpec {
        name: "rex.job",
        requires: &[
            "rex.core",
            "rex.db",
            "rex.deploy",
            "rex.asynctask",
            "rex.logging",
        ],
        // The last three are the harness's own (a worker that stopped answering).
        settings: &[
            "job_limits",
            "job_max_age",
            "job_queues",
            "job_heartbeat_interval",
            "job_stale_after",
            "job_stale_policy",
        ],
    },
    PackageSpec {
        name: "rex.mart",
        // rex.attach stands for the instrument packages rex.mart requires.
        requires: &[
            "rex.core",
            "rex.ctl",
            "rex.db",
            "rex.deploy",
            "rex.attach",
            "rex.web",
            "rex.asynctask",
            "rex.job",
        ],
        settings: &[
            "mart_allow_runtime_creation",
            "mart_default_max_marts_per_owner_definition",
            "mart_dictionary_channel_priority",
            "mart_dictionary_presentation_priority",
            "mart_etl_htsql_extensions",
            "mart_etl_htsql_gateways",
            "mart_hosting_cluster",
            "mart_htsql_cache_depth",
            "mart_htsql_extensions",
            "mart_max_columns",
            "mart_max_marts_per_owner",
            "mart_max_name_length",
            "mart_name_prefix",
            "mart_runtime_creation_queue",
        ],
    },
];

/// What an application folder without `package.yaml` requires: rex.mart, which
/// brings every other package the harness knows.
pub const DEFAULT_REQUIRES: &[&str] = &["rex.deploy", "rex.mart"];

/// The file of an application folder that lists the packages it requires.
pub const PACKAGE_FILE: &str = "package.yaml";

/// The package named `name` among [`BUILTIN`].
pub fn builtin(name: &str) -> Option<&'static PackageSpec> {
    BUILTIN.iter().find(|p| p.name == name)
}

/// The active packages of an application, each after the packages it requires
/// (rex's package list, reversed: the order its extensions are defined in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packages {
    /// The names given (`Rex('__main__', 'rex.mart_demo')`), as rex's errors show them.
    requirements: Vec<String>,
    names: Vec<String>,
    /// The application folder among them: its name and directory.
    folder: Option<(String, PathBuf)>,
}

impl Packages {
    /// The packages `requirements` (the names given to `Rex(...)`) activate, with
    /// rex.core, application folders looked up in `search`. A name that is neither a
    /// rex package, nor `__main__`, nor an application folder is an unknown
    /// application.
    pub fn resolve(requirements: &[String], search: &SearchPath) -> Result<Packages> {
        let mut out = Packages {
            requirements: requirements.to_vec(),
            names: Vec::new(),
            folder: None,
        };
        let mut all: Vec<String> = requirements.to_vec();
        all.push("rex.core".to_string());
        for name in all.iter().rev() {
            out.visit(name, search)?;
        }
        Ok(out)
    }

    /// The packages of an application folder alone (`--app NAME`).
    pub fn of_folder(name: &str, search: &SearchPath) -> Result<Packages> {
        Packages::resolve(&[name.to_string()], search)
    }

    /// The packages every application folder had before folders said what they
    /// require: [`DEFAULT_REQUIRES`] and an application folder `name` in `dir`
    /// (tests that build an `App` by hand).
    pub fn default_for(name: &str, dir: &Path) -> Packages {
        let mut out = Packages {
            requirements: vec![name.to_string()],
            names: Vec::new(),
            folder: None,
        };
        let search = SearchPath::default();
        for req in DEFAULT_REQUIRES.iter().rev().chain(["rex.core"].iter()) {
            // Built-in packages only: cannot fail.
            let _ = out.visit(req, &search);
        }
        out.names.push(name.to_string());
        out.folder = Some((name.to_string(), dir.to_path_buf()));
        out
    }

    /// Depth first, requirements before the package (rex's `_build_package_tree`).
    fn visit(&mut self, name: &str, search: &SearchPath) -> Result<()> {
        if self.names.iter().any(|n| n == name) {
            return Ok(());
        }
        let requires: Vec<String> = if let Some(spec) = builtin(name) {
            spec.requires.iter().map(|s| s.to_string()).collect()
        } else if name == "__main__" {
            Vec::new()
        } else {
            let dir = search.find(name)?;
            if let Some((first, _)) = &self.folder {
                // Requirements are visited last first: `name` was given before.
                return Err(Error::with(
                    "Cannot activate two application folders at once:",
                    format!("{name}\n{first}"),
                ));
            }
            self.folder = Some((name.to_string(), dir.clone()));
            folder_requires(&dir)?
        };
        // Marked before its requirements are visited: a cycle ends here.
        self.names.push(name.to_string());
        let at = self.names.len() - 1;
        for req in &requires {
            self.visit(req, search)
                .map_err(|e| e.wrap_with("Required for:", name))?;
        }
        // Requirements first: move the package after what was just added.
        let me = self.names.remove(at);
        self.names.push(me);
        Ok(())
    }

    /// The names the application was opened with, one a line: the payload of rex's
    /// `While initializing RexDB application:`.
    pub fn given(&self) -> String {
        self.requirements.join("\n")
    }

    /// The package names, requirements before the packages that require them.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn contains(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// The application folder among the packages (`definitions/<app>/`), if any.
    pub fn folder(&self) -> Option<(&str, &Path)> {
        self.folder.as_ref().map(|(n, d)| (n.as_str(), d.as_path()))
    }

    /// Whether an active rex package declares setting `name`.
    pub fn declares(&self, name: &str) -> bool {
        self.names
            .iter()
            .filter_map(|n| builtin(n))
            .any(|p| p.settings.contains(&name))
    }
}

/// What the application folder `dir` requires: `package.yaml`'s `requires`, else
/// [`DEFAULT_REQUIRES`].
fn folder_requires(dir: &Path) -> Result<Vec<String>> {
    let path = dir.join(PACKAGE_FILE);
    if !path.is_file() {
        return Ok(DEFAULT_REQUIRES.iter().map(|s| s.to_string()).collect());
    }
    let node = super::yaml::load_file(&path)?;
    let valid = RecordVal::new()
        .field("requires", SeqVal::new(StrVal::new()))
        .validate(&node)
        .map_err(|e| e.wrap_with("While parsing:", path.display()))?;
    Ok(valid
        .get("requires")
        .and_then(|n| n.as_seq())
        .unwrap_or_default()
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(reqs: &[&str], search: &SearchPath) -> Vec<String> {
        let reqs: Vec<String> = reqs.iter().map(|s| s.to_string()).collect();
        Packages::resolve(&reqs, search).unwrap().names
    }

    #[test]
    fn requirements_come_before_the_packages_that_need_them() {
        let none = SearchPath::default();
        assert_eq!(
            names(&["rex.asynctask", "rex.db"], &none),
            [
                "rex.core",
                "rex.ctl",
                "rex.web",
                "rex.db",
                "rex.logging",
                "rex.asynctask"
            ]
        );
        let mart = names(&["rex.mart"], &none);
        let at = |n: &str| mart.iter().position(|m| m == n).unwrap();
        assert!(at("rex.asynctask") < at("rex.job") && at("rex.job") < at("rex.mart"));
        assert_eq!(mart.len(), BUILTIN.len());
    }

    #[test]
    fn folders_say_what_they_require() {
        let dir = tempfile::tempdir().unwrap();
        let defs = dir.path().join("definitions");
        std::fs::create_dir_all(defs.join("demo")).unwrap();
        std::fs::create_dir_all(defs.join("other")).unwrap();
        std::fs::write(
            defs.join("demo/package.yaml"),
            "requires: [rex.asynctask]\n",
        )
        .unwrap();
        let search = SearchPath {
            dirs: vec![defs.clone()],
        };
        let p = Packages::resolve(&["__main__".into(), "demo".into()], &search).unwrap();
        assert_eq!(
            p.names(),
            [
                "rex.core",
                "rex.ctl",
                "rex.logging",
                "rex.asynctask",
                "demo",
                "__main__"
            ]
        );
        assert_eq!(p.folder().map(|f| f.0), Some("demo"));
        assert!(p.declares("asynctask_workers") && !p.declares("db"));
        // Without package.yaml: rex.mart and everything it brings.
        let other = Packages::of_folder("other", &search).unwrap();
        assert!(other.contains("rex.mart") && other.declares("job_queues"));
        let e = Packages::resolve(&["demo".into(), "other".into()], &search).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("Cannot activate two application folders"));
        std::fs::write(defs.join("demo/package.yaml"), "requires: [rex.nope]\n").unwrap();
        let e = Packages::of_folder("demo", &search)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("Unknown application:\n    rex.nope\n"), "{e}");
        assert!(e.ends_with("Required for:\n    demo"), "{e}");
        std::fs::write(defs.join("demo/package.yaml"), "requires: rex.db\n").unwrap();
        let e = Packages::of_folder("demo", &search)
            .unwrap_err()
            .to_string();
        assert!(e.contains("While parsing:"), "{e}");
    }
}
