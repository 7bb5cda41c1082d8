//! The sweep: inventory records nobody is working on any more that a stopped creation
//! left behind. A creator holds its mart's [`MartLock`] from committing the record
//! until the mart is complete (or purged after a failure), a purge from `DROP
//! DATABASE` until the record is deleted, and a dead session's locks are released by
//! the server: so a free lock on a record that is not complete means the process
//! that wrote it is gone (killed, stopped by a signal, cut off from its server).
//!
//! - A record whose database does not exist (a creator killed before `CREATE
//!   DATABASE`, a purge killed after `DROP DATABASE`) is deleted; so is one whose
//!   database a `DROP DATABASE` cut short left invalid (the drop is finished).
//! - A record never completed whose database exists (a creation killed half-way) is
//!   purged: database dropped, record deleted. Left alone: a mart kept on purpose
//!   after a failure ([`Cluster::mark_kept`]) and the database of a definition of
//!   base type `existing`, which the mart did not create (only its record goes).
//!
//! Who sweeps: `harness worker` when it starts, after it recovers stale jobs or its
//! server comes back, and after giving up jobs at shutdown; `harness create` and
//! `harness marts` before they start (see `MartCreateExecutor::recover`).

use super::cluster::{Cluster, MartLock};
use super::definition::{BaseType, Definitions};
use super::inventory::{self, Mart};
use super::purge::purge_with;
use super::settings::MartSettings;
use crate::core::app::App;
use crate::core::Result;

/// One record the sweep removed, and how.
#[derive(Clone, Debug, PartialEq)]
pub struct Swept {
    pub mart: Mart,
    pub kind: SweptKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweptKind {
    /// The record pointed at a database that does not exist.
    MissingDatabase,
    /// An unfinished mart: its database was dropped with the record.
    Purged,
    /// An unfinished mart of an `existing` database: the record went, the database
    /// (not the mart's own) stays.
    RecordOnly,
}

impl Swept {
    /// The log line saying what was removed and why.
    pub fn message(&self) -> String {
        let m = &self.mart;
        match self.kind {
            SweptKind::MissingDatabase => format!(
                "Inventory record #{} deleted: its database \"{}\" does not exist and no creator or purge holds it",
                m.code, m.name
            ),
            SweptKind::Purged => format!(
                "Mart #{} purged: its creation stopped at status {} and no creator holds it; database \"{}\" dropped",
                m.code, m.status, m.name
            ),
            SweptKind::RecordOnly => format!(
                "Inventory record #{} deleted: its creation stopped at status {} and no creator holds it; database \"{}\" kept (not the mart's own)",
                m.code, m.status, m.name
            ),
        }
    }
}

/// Removes the abandoned records of `app`'s inventory (and the databases of the
/// unfinished ones); returns what it removed. An application without an inventory
/// has none.
pub fn sweep(app: &App) -> Result<Vec<Swept>> {
    let mut db = app.db.connect()?;
    if !inventory::is_deployed(&mut db)? {
        return Ok(Vec::new());
    }
    let mut cluster = Cluster::connect(&app.hosting)?;
    let existing = cluster.database_names()?;
    let invalid = cluster.invalid_database_names()?;
    let candidates: Vec<i64> = db
        .query(
            "SELECT code, name, date_creation_completed IS NULL FROM rexmart_inventory ORDER BY code",
            &[],
        )?
        .iter()
        .filter(|r| {
            let name: String = r.get(1);
            r.get::<_, bool>(2) || !existing.contains(&name) || invalid.contains(&name)
        })
        .map(|r| r.get(0))
        .collect();
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    // Which definitions name an existing database (unreadable definitions: treat
    // every one as such, dropping nothing).
    let definitions = MartSettings::from_settings(&app.settings)
        .and_then(|settings| Definitions::load(&app.dir, &settings))
        .ok();
    let owns_database = |definition: &str| {
        definitions
            .as_ref()
            .and_then(|d| d.get(definition))
            .is_some_and(|d| d.base.base_type != BaseType::Existing)
    };
    let mut swept = Vec::new();
    for code in candidates {
        let lock = MartLock::new(app, code);
        if !cluster.try_lock(lock)? {
            continue; // being created or purged right now
        }
        // Read again under the lock: the holder may have finished since the listing.
        let result = (|| -> Result<Option<Swept>> {
            let Some(mart) = inventory::get(&mut db, code)? else {
                return Ok(None);
            };
            let kind = if !cluster.exists(&mart.name)? {
                inventory::delete(&mut db, code)?;
                SweptKind::MissingDatabase
            } else if cluster.is_invalid(&mart.name)? {
                // A DROP DATABASE cut short: nobody can connect; finish it.
                cluster.drop(&mart.name)?;
                inventory::delete(&mut db, code)?;
                SweptKind::Purged
            } else if mart.date_creation_completed.is_some() || cluster.is_kept(&mart.name)? {
                return Ok(None);
            } else if owns_database(&mart.definition) {
                cluster.end_sessions_on(&mart.name)?;
                purge_with(app, &mut db, &mut cluster, code)?;
                SweptKind::Purged
            } else {
                inventory::delete(&mut db, code)?;
                SweptKind::RecordOnly
            };
            Ok(Some(Swept { mart, kind }))
        })();
        let unlocked = cluster.unlock(lock);
        match result {
            Ok(Some(s)) => swept.push(s),
            Ok(None) => {}
            // One record that cannot be swept now must not keep the others.
            Err(e) => log::warn!(
                target: "MartCreateExecutor",
                "Inventory record #{code} not swept this time:\n{e}"
            ),
        }
        unlocked?;
    }
    Ok(swept)
}
