//! The deploy driver: one connection inside one transaction, the catalog model, the
//! data row cache and the "locked" validation mode. Every statement goes through
//! [`Driver::ddl`] or [`Driver::dml`], which log it, refuse it when locked and wrap
//! database errors the way rex.deploy does (deploy.md §5.4).

use super::catalog::{Catalog, Table};
use super::data::TableRows;
use super::fact::{Fact, FactKind};
use super::node::location;
use crate::core::{Error, Result};
use std::collections::HashMap;
use std::path::Path;

pub struct Driver<'c> {
    client: &'c mut postgres::Client,
    catalog: Option<Catalog>,
    pub(super) rows: HashMap<String, TableRows>,
    locked: bool,
}

const LOG: &str = "rex.deploy";

/// `Got an error from the database driver:` with psycopg2's text (message, DETAIL).
pub fn database_error(e: &postgres::Error, sql: &str) -> Error {
    let text = match e.as_db_error() {
        Some(db) => {
            let mut t = db.message().to_string();
            if let Some(detail) = db.detail() {
                t.push_str(&format!("\nDETAIL:  {detail}"));
            }
            t
        }
        None => e.to_string(),
    };
    Error::with("Got an error from the database driver:", text)
        .wrap_with("While executing SQL:", sql)
}

impl<'c> Driver<'c> {
    pub fn new(client: &'c mut postgres::Client) -> Driver<'c> {
        Driver {
            client,
            catalog: None,
            rows: HashMap::new(),
            locked: false,
        }
    }

    /// Runs `f` inside one transaction: committed if it succeeds, rolled back if not.
    pub fn transaction<T>(
        client: &'c mut postgres::Client,
        f: impl FnOnce(&mut Driver<'c>) -> Result<T>,
    ) -> Result<T> {
        client.batch_execute("BEGIN")?;
        let mut driver = Driver::new(client);
        let result = f(&mut driver);
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = driver.client.batch_execute(end);
        let value = result?;
        ended?;
        Ok(value)
    }

    /// Switches to the validation pass: forget everything, refuse every change.
    pub fn lock(&mut self) {
        self.locked = true;
        self.reset();
    }

    /// Forgets the catalog and all cached rows (after `sql` facts and DDL).
    pub fn reset(&mut self) {
        self.catalog = None;
        self.rows.clear();
    }

    pub fn catalog(&mut self) -> Result<&Catalog> {
        if self.catalog.is_none() {
            self.catalog = Some(Catalog::load(self.client)?);
        }
        Ok(self.catalog.as_ref().expect("catalog loaded above"))
    }

    /// The table named `name`, if it exists.
    pub fn table(&mut self, name: &str) -> Result<Option<Table>> {
        Ok(self.catalog()?.table(name).cloned())
    }

    fn refuse_when_locked(&self, sql: &str) -> Result<()> {
        if self.locked {
            return Err(Error::with("Detected inconsistent data model:", sql));
        }
        log::debug!(target: LOG, "{sql}");
        Ok(())
    }

    /// Executes schema statements; the catalog and row cache are re-read afterwards.
    pub fn ddl(&mut self, statements: &[String]) -> Result<()> {
        for sql in statements {
            self.refuse_when_locked(sql)?;
            self.reset();
            self.client
                .batch_execute(sql)
                .map_err(|e| database_error(&e, sql))?;
        }
        Ok(())
    }

    /// Executes a data statement; returns the rows it returned, as text.
    pub fn dml(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        self.refuse_when_locked(sql)?;
        self.read(sql)
    }

    /// Runs a query that changes nothing (allowed when locked); values as text.
    pub fn read(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        let messages = self
            .client
            .simple_query(sql)
            .map_err(|e| database_error(&e, sql))?;
        let mut rows = vec![];
        for message in messages {
            if let postgres::SimpleQueryMessage::Row(row) = message {
                rows.push(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect(),
                );
            }
        }
        Ok(rows)
    }

    /// Runs arbitrary SQL (an `sql` fact) as one simple query.
    pub fn execute_script(&mut self, sql: &str) -> Result<()> {
        self.refuse_when_locked(sql)?;
        self.reset();
        self.client
            .batch_execute(sql)
            .map_err(|e| database_error(&e, sql))
    }

    /// Deploys one fact, wrapped `While deploying <key> fact:` + its location.
    pub fn deploy_fact(&mut self, fact: &Fact, base_dir: &Path) -> Result<()> {
        let verb = if self.locked {
            "validating"
        } else {
            "deploying"
        };
        self.apply(fact, base_dir).map_err(|e| {
            e.wrap_with(
                format!("While {verb} {} fact:", fact.key()),
                location(&fact.node),
            )
        })
    }

    fn apply(&mut self, fact: &Fact, base_dir: &Path) -> Result<()> {
        match &fact.kind {
            FactKind::Table(t) => {
                super::schema::apply_table(self, t)?;
                for nested in &t.with {
                    self.deploy_fact(nested, base_dir)?;
                }
                Ok(())
            }
            FactKind::Column(c) => super::schema::apply_column(self, c),
            FactKind::Link(l) => super::schema::apply_link(self, l),
            FactKind::Identity(i) => super::identity::apply_identity(self, i),
            FactKind::Alias(a) => super::schema::apply_alias(self, a),
            FactKind::Data(d) => super::data::apply_data(self, d, base_dir),
            FactKind::Include(path) => self.apply_include(path, base_dir),
            FactKind::Sql(s) => {
                let sql = source_text(&s.sql, base_dir)?;
                let unless = source_text(&s.unless, base_dir)?;
                let rows = self.read(&unless)?;
                let truthy = rows.first().is_some_and(|row| {
                    row.iter().any(|v| {
                        v.as_deref()
                            .is_some_and(|v| !matches!(v, "" | "f" | "0" | "false"))
                    })
                });
                if truthy {
                    return Ok(());
                }
                if self.locked {
                    return Err(Error::with(
                        "Discovered failed assertion:",
                        unless.trim_end(),
                    ));
                }
                self.execute_script(&sql)
            }
        }
    }

    fn apply_include(&mut self, path: &str, base_dir: &Path) -> Result<()> {
        let path = base_dir.join(path);
        let node = super::yaml::load_file(&path)?;
        let facts = super::fact::parse_facts(&node)?;
        let dir = path.parent().unwrap_or(base_dir).to_path_buf();
        for fact in &facts {
            self.deploy_fact(fact, &dir)?;
        }
        Ok(())
    }
}

/// The text of an `sql`/`unless` value: inline SQL, or a whitespace-free file path.
fn source_text(value: &str, base_dir: &Path) -> Result<String> {
    if value.is_empty() || value.chars().any(char::is_whitespace) {
        return Ok(value.to_string());
    }
    let path = base_dir.join(value);
    std::fs::read_to_string(&path)
        .map_err(|e| Error::with("Failed to read file:", format!("{}: {e}", path.display())))
}
