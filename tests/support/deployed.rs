//! Test databases built the way applications get theirs: by deploying facts with the
//! crate's rex.deploy, never from hand-written SQL. Included by the tests that need
//! it (`#[path = "support/deployed.rs"] mod deployed;`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `tests/<rel>`.
pub fn tests_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(rel)
}

/// Deploys the facts of `file` (relative to `tests/`); their relative paths resolve
/// against the file's directory.
pub fn deploy_file(client: &mut postgres::Client, file: &str) {
    let path = tests_path(file);
    let node = harness::deploy::yaml::load_file(&path)
        .unwrap_or_else(|e| panic!("load {}: {e}", path.display()));
    let base = path.parent().unwrap_or(Path::new("."));
    harness::deploy::deploy(client, &node, base)
        .unwrap_or_else(|e| panic!("deploy {}: {e}", path.display()));
}

/// Deploys an application database: the built-in rex.job and rex.mart facts and the
/// application's `deploy.yaml` (`app_dir` relative to `tests/`; `None`: an application
/// without one), then each extra facts file in order (relative to `tests/`).
pub fn deploy_app(client: &mut postgres::Client, app_dir: Option<&str>, extra: &[&str]) {
    let empty;
    let dir = match app_dir {
        Some(rel) => tests_path(rel),
        None => {
            empty = tempfile::tempdir().expect("tempdir");
            empty.path().to_path_buf()
        }
    };
    harness::deploy::deploy_application(client, &dir)
        .unwrap_or_else(|e| panic!("deploy the application {}: {e}", dir.display()));
    for file in extra {
        deploy_file(client, file);
    }
}
