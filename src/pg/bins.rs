//! Finding the PostgreSQL server binaries (`initdb`, `postgres`, `pg_basebackup`)
//! and their version, which keys the initdb cache.

use crate::core::{Error, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// A directory holding the server binaries, and the server version they report.
#[derive(Clone, Debug)]
pub struct Bins {
    pub dir: PathBuf,
    /// e.g. `15.18` (from `postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`).
    pub version: String,
}

impl Bins {
    pub fn tool(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The major version, e.g. `15`.
    pub fn major(&self) -> u32 {
        self.version
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
}

/// Finds the binaries: `HARNESS_PG_BIN`, `pg_config --bindir`, `PATH`, then
/// `/usr/lib/postgresql/*/bin` newest first. The first directory with both `initdb`
/// and `postgres` wins. None found: an error naming the package and the other backends.
pub fn find() -> Result<Bins> {
    // Two programs run per lookup; a process asks once per HARNESS_PG_BIN value.
    static FOUND: Mutex<Option<(Option<OsString>, Bins)>> = Mutex::new(None);
    let key = std::env::var_os("HARNESS_PG_BIN");
    let mut found = FOUND.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((k, bins)) = found.as_ref() {
        if *k == key {
            return Ok(bins.clone());
        }
    }
    let bins = search()?;
    *found = Some((key, bins.clone()));
    Ok(bins)
}

fn search() -> Result<Bins> {
    let mut looked = Vec::new();
    for dir in candidates() {
        if dir.join("initdb").is_file() && dir.join("postgres").is_file() {
            let version = version(&dir.join("postgres"))?;
            return Ok(Bins { dir, version });
        }
        looked.push(dir.display().to_string());
    }
    Err(not_found(&looked))
}

fn candidates() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("HARNESS_PG_BIN") {
        // An explicit choice is the only one: falling back would hide a typo.
        return vec![PathBuf::from(dir)];
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !dir.is_empty() {
                dirs.push(PathBuf::from(dir));
            }
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            // Debian links only some tools into /usr/bin; resolve to the real bindir.
            let dir = match std::fs::canonicalize(dir.join("initdb")) {
                Ok(real) => real.parent().map(Path::to_path_buf).unwrap_or(dir),
                Err(_) => dir,
            };
            dirs.push(dir);
        }
    }
    dirs.extend(debian_bindirs(Path::new("/usr/lib/postgresql")));
    let mut seen = std::collections::HashSet::new();
    dirs.retain(|d| seen.insert(d.clone()));
    dirs
}

/// `/usr/lib/postgresql/<major>/bin`, highest major first.
fn debian_bindirs(root: &Path) -> Vec<PathBuf> {
    let mut found: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let key: Vec<u32> = name
                .split('.')
                .map(|p| p.parse().ok())
                .collect::<Option<_>>()?;
            Some((key, e.path().join("bin")))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.into_iter().map(|(_, p)| p).collect()
}

fn version(postgres: &Path) -> Result<String> {
    let out = Command::new(postgres)
        .arg("--version")
        .output()
        .map_err(|e| {
            Error::with(
                "Cannot run PostgreSQL:",
                format!("{}: {e}", postgres.display()),
            )
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_version(&text).ok_or_else(|| {
        Error::with(
            "Cannot tell the PostgreSQL version:",
            format!("{}: {}", postgres.display(), text.trim()),
        )
    })
}

/// `postgres (PostgreSQL) 15.18 (Debian ...)` -> `15.18`.
fn parse_version(text: &str) -> Option<String> {
    let rest = text.split(')').nth(1)?.trim();
    let v: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    (!v.is_empty()).then_some(v)
}

fn not_found(looked: &[String]) -> Error {
    Error::with(
        "Cannot find the PostgreSQL server binaries (initdb, postgres):",
        format!(
            "looked in: {}\n\
             Install the server: `apt-get install postgresql` (Debian/Ubuntu), \
             `dnf install postgresql-server` (Fedora), `brew install postgresql` (macOS),\n\
             or set HARNESS_PG_BIN to the directory holding initdb and postgres,\n\
             or use another backend: --pg-url URL (or HARNESS_PG_URL / DATABASE_URL) \
             for an existing server, --backend docker for a container.",
            if looked.is_empty() {
                "nowhere".to_string()
            } else {
                looked.join(", ")
            }
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!(
            parse_version("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n").as_deref(),
            Some("15.18")
        );
        assert_eq!(
            parse_version("postgres (PostgreSQL) 17beta1\n").as_deref(),
            Some("17beta1")
        );
        assert_eq!(parse_version("garbage"), None);
    }

    #[test]
    fn missing_binaries_name_package_and_backends() {
        let msg = not_found(&["/nowhere".into()]).to_string();
        assert!(msg.contains("apt-get install postgresql"), "{msg}");
        assert!(msg.contains("--pg-url"), "{msg}");
        assert!(msg.contains("--backend docker"), "{msg}");
    }
}
