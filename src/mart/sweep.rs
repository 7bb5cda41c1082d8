//! The sweep: inventory records whose database does not exist and that nobody is
//! working on. A creator killed between committing its record and `CREATE DATABASE`,
//! or a purge killed between `DROP DATABASE` and deleting the record, leaves one.
//! Both hold the mart's [`MartLock`] over that window and a dead session's locks are
//! released by the server, so a free lock on a record without its database means
//! the process that wrote it is gone. The job worker sweeps when it starts and after
//! it recovers stale jobs (see `MartCreateExecutor::recover`).

use super::cluster::{Cluster, MartLock};
use super::inventory::{self, Mart};
use crate::core::app::App;
use crate::core::Result;

/// Deletes the orphaned records of `app`'s inventory; returns them. An application
/// without an inventory has none.
pub fn sweep(app: &App) -> Result<Vec<Mart>> {
    let mut db = app.db.connect()?;
    if !inventory::is_deployed(&mut db)? {
        return Ok(Vec::new());
    }
    let mut cluster = Cluster::connect(&app.hosting)?;
    let existing = cluster.database_names()?;
    let mut swept = Vec::new();
    for (code, _) in inventory::missing_databases(&mut db, &existing)? {
        let lock = MartLock::new(app, code);
        if !cluster.try_lock(lock)? {
            continue; // being created or purged right now
        }
        // Read again under the lock: the holder may have finished since the listing.
        let result = (|| -> Result<Option<Mart>> {
            match inventory::get(&mut db, code)? {
                Some(mart) if !cluster.exists(&mart.name)? => {
                    inventory::delete(&mut db, code)?;
                    Ok(Some(mart))
                }
                _ => Ok(None),
            }
        })();
        let unlocked = cluster.unlock(lock);
        if let Some(mart) = result? {
            swept.push(mart);
        }
        unlocked?;
    }
    Ok(swept)
}
