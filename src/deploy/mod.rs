//! rex.deploy (the subset of deploy.md): YAML facts describing tables, columns,
//! links, identities and data, deployed into PostgreSQL so that the live schema
//! matches them. Deploying is idempotent (each fact compares with `pg_catalog` and
//! emits only the difference) and atomic (one transaction per deploy).

mod catalog;
mod csv;
mod data;
mod driver;
mod fact;
mod identity;
mod identity_literal;
mod md5;
mod meta;
pub mod names;
mod node;
mod schema;
mod value;

/// The YAML loader deploy reads facts with (rex.core's).
pub use crate::core::yaml;

use crate::core::{Error, Result};
use driver::Driver;
use fact::{parse_facts, Fact};
use std::path::{Path, PathBuf};
use yaml::Node;

/// The rex.job and rex.mart tables every application database gets, dependencies first.
const BUILTIN: [(&str, &str); 2] = [
    ("rex.job", include_str!("builtin/rex.job.yaml")),
    ("rex.mart", include_str!("builtin/rex.mart.yaml")),
];

const LOG: &str = "rex.deploy";

/// Checks facts without applying them (a mart definition's `deploy:`).
pub fn validate(facts: &Node) -> Result<()> {
    match &facts.value {
        yaml::NodeValue::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                fact::parse_facts(item).map_err(|e| {
                    e.wrap_with("While validating sequence item", format!("#{}", i + 1))
                })?;
            }
            Ok(())
        }
        _ => fact::parse_facts(facts).map(|_| ()),
    }
}

/// Deploys the facts of `node` (a YAML list of facts, or a mapping with one fact) into
/// the database behind `client`, in one transaction; relative `data:`/`include:`
/// paths resolve against `base_dir`.
pub fn deploy(client: &mut postgres::Client, facts: &Node, base_dir: &Path) -> Result<()> {
    let facts = parse_facts(facts)?;
    Driver::transaction(client, |drv| deploy_list(drv, &facts, base_dir))
}

/// Parses the facts of `node` without touching a database, returning how many there
/// are; the error is the one `deploy` would report before running any SQL (used by
/// validation tools and the fuzz targets).
pub fn check_facts(facts: &Node) -> Result<usize> {
    parse_facts(facts).map(|f| f.len())
}

fn deploy_list(drv: &mut Driver, facts: &[Fact], base_dir: &Path) -> Result<()> {
    for fact in facts {
        drv.deploy_fact(fact, base_dir)?;
    }
    Ok(())
}

/// One package's facts, parsed, with the directory its relative paths start from.
struct Package {
    name: String,
    facts: Vec<Fact>,
    base_dir: PathBuf,
}

/// Parses everything `deploy_application` deploys, before any SQL runs.
fn application_packages(app_dir: &Path) -> Result<Vec<Package>> {
    let mut packages = vec![];
    for (name, text) in BUILTIN {
        let node = yaml::load_str(text, &format!("{name}/static/deploy.yaml"))?;
        packages.push(Package {
            name: name.to_string(),
            facts: parse_facts(&node)?,
            base_dir: app_dir.to_path_buf(),
        });
    }
    let path = app_dir.join("deploy.yaml");
    if path.is_file() {
        let node = yaml::load_file(&path)?;
        let name = app_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "application".into());
        packages.push(Package {
            name,
            facts: parse_facts(&node)?,
            base_dir: app_dir.to_path_buf(),
        });
    }
    Ok(packages)
}

/// Deploys an application database: the built-in rex.job and rex.mart facts, then
/// `<app_dir>/deploy.yaml` if present; then validates every package again in locked
/// mode (any statement that would still change the database is an error), all in one
/// transaction.
pub fn deploy_application(client: &mut postgres::Client, app_dir: &Path) -> Result<()> {
    let packages = application_packages(app_dir)?;
    Driver::transaction(client, |drv| {
        for p in &packages {
            log::debug!(target: LOG, "Deploying {}.", p.name);
            deploy_list(drv, &p.facts, &p.base_dir)?;
        }
        drv.lock();
        for p in &packages {
            log::debug!(target: LOG, "Validating {}.", p.name);
            deploy_list(drv, &p.facts, &p.base_dir)?;
        }
        Ok(())
    })
}

/// A stable hash of everything `deploy_application` would read (for template
/// caching): the built-in facts and every file under `app_dir`, by relative path.
pub fn application_hash(app_dir: &Path) -> Result<String> {
    let mut files = vec![];
    collect_files(app_dir, app_dir, &mut files)?;
    files.sort();
    let mut input: Vec<u8> = vec![];
    for (name, text) in BUILTIN {
        input.extend(format!("{name}\0{}\0{text}\0", text.len()).as_bytes());
    }
    for rel in files {
        let bytes = std::fs::read(app_dir.join(&rel))?;
        input.extend(format!("{rel}\0{}\0", bytes.len()).as_bytes());
        input.extend(bytes);
    }
    Ok(md5::md5_hex(&input))
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::with(
            "Failed to read directory:",
            format!("{}: {e}", dir.display()),
        )
    })?;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        // Real directories only: a symlinked directory could loop.
        if entry.file_type()?.is_dir() {
            collect_files(root, &path, out)?;
        } else if !path.is_file() {
            continue;
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_string_lossy().into_owned());
        }
    }
    Ok(())
}
