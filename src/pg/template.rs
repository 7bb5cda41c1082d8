//! Template databases: an application database is deployed once per key (the
//! caller's hash of the deploy files and the server version) into
//! `harness_tpl_<key>`, then cloned per transcript with `CREATE DATABASE ...
//! TEMPLATE`, which costs tens of milliseconds instead of a deployment.
//!
//! A template is built under a temporary name and renamed when complete, so a
//! build that fails or is killed never leaves something that looks finished; an
//! advisory lock on the server makes concurrent harness processes build it once.
//! Finished templates refuse connections (`ALLOW_CONNECTIONS false`), which keeps
//! them clonable: PostgreSQL refuses to copy a database someone is connected to.

use super::embedded::TEMPLATE_PREFIX;
use super::{fnv1a, quote_ident, Server};
use crate::core::{Error, Result};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The template database name for `key`: the key itself when it is short and plain,
/// otherwise its hash (identifiers are limited to 63 bytes).
pub fn template_name(key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plain && TEMPLATE_PREFIX.len() + key.len() <= 63 {
        format!("{TEMPLATE_PREFIX}{key}")
    } else {
        format!("{TEMPLATE_PREFIX}{:016x}", fnv1a(key.as_bytes()))
    }
}

fn exists(client: &mut postgres::Client, name: &str) -> Result<bool> {
    Ok(!client
        .query(
            "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1",
            &[&name],
        )?
        .is_empty())
}

impl Server {
    /// The name of the template database for `key`, building it first with `build`
    /// (given this server and the name of the empty database to fill) when this
    /// server has none. On the embedded backend a new template is also saved into
    /// the cluster cache, so the next run starts with it.
    pub fn ensure_template(
        &self,
        key: &str,
        build: impl FnOnce(&Server, &str) -> Result<()>,
    ) -> Result<String> {
        let name = template_name(key);
        // Held by this run from now on: a run ending elsewhere will not drop it.
        super::marker::hold(self, &name)?;
        let mut admin = self.connect("postgres")?;
        if exists(&mut admin, &name)? {
            return Ok(name);
        }
        let lock_id = fnv1a(name.as_bytes()) as i64;
        admin.execute("SELECT pg_advisory_lock($1)", &[&lock_id])?;
        let built = self.build_template(&mut admin, &name, build);
        let _ = admin.execute("SELECT pg_advisory_unlock($1)", &[&lock_id]);
        if built? {
            if let Some(backing) = self.backing() {
                backing.templates_changed();
            }
        }
        Ok(name)
    }

    /// Builds `name` unless another process did while we waited for the lock;
    /// true when this call built it.
    fn build_template(
        &self,
        admin: &mut postgres::Client,
        name: &str,
        build: impl FnOnce(&Server, &str) -> Result<()>,
    ) -> Result<bool> {
        if exists(admin, name)? {
            return Ok(false);
        }
        static N: AtomicUsize = AtomicUsize::new(0);
        let temp = format!(
            "harness_tmp_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        self.drop_database(&temp)?;
        self.create_database(&temp, None)?;
        // The mark stays with the database when it is renamed to `name`.
        let built = super::marker::mark(self, &temp).and_then(|()| build(self, &temp));
        if let Err(e) = built {
            let _ = self.drop_database(&temp);
            super::marker::forget(self, &temp);
            return Err(e);
        }
        let mut finish = || -> Result<()> {
            rename_when_idle(admin, &temp, name)?;
            admin.batch_execute(&format!(
                "ALTER DATABASE {} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true",
                quote_ident(name)
            ))?;
            Ok(())
        };
        let finished = finish().inspect_err(|_| {
            let _ = self.drop_database(&temp);
        });
        super::marker::forget(self, &temp);
        finished?;
        Ok(true)
    }

    /// Drops a template database (templates refuse `DROP` until unmarked).
    pub fn drop_template(&self, name: &str) -> Result<()> {
        let mut admin = self.connect("postgres")?;
        if exists(&mut admin, name)? {
            let name = quote_ident(name);
            admin.batch_execute(&format!(
                "ALTER DATABASE {name} WITH IS_TEMPLATE false ALLOW_CONNECTIONS true"
            ))?;
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
        }
        Ok(())
    }

    /// `CREATE DATABASE new_name TEMPLATE template`.
    pub fn clone_database(&self, template: &str, new_name: &str) -> Result<()> {
        self.create_database(new_name, Some(template)).map_err(|e| {
            e.wrap_with(
                "While cloning database:",
                format!("{template} -> {new_name}"),
            )
        })
    }
}

/// Renames a database once the connections the build left behind are gone.
fn rename_when_idle(admin: &mut postgres::Client, from: &str, to: &str) -> Result<()> {
    let sql = format!(
        "ALTER DATABASE {} RENAME TO {}",
        quote_ident(from),
        quote_ident(to)
    );
    let mut last = None;
    for _ in 0..100 {
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&from],
        )?;
        match admin.batch_execute(&sql) {
            Ok(()) => return Ok(()),
            Err(e) => last = Some(Error::from(e)),
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Err(last.unwrap_or_else(|| Error::new("cannot rename the template database")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_identifiers() {
        assert_eq!(
            template_name("mart_demo_ab12"),
            "harness_tpl_mart_demo_ab12"
        );
        let hashed = template_name("Mart Demo / 15.18");
        assert!(
            hashed.starts_with("harness_tpl_") && hashed.len() == 12 + 16,
            "{hashed}"
        );
        assert_eq!(hashed, template_name("Mart Demo / 15.18"));
        assert!(template_name(&"a".repeat(80)).len() <= 63);
    }
}
