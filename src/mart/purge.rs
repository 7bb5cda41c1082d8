//! Purging a mart: its database (unless the database's reference counter says it is
//! still shared) and its inventory record. Purging an unknown code does nothing.

use super::cluster::{hosts_management_db, physical_name, Cluster, MartLock};
use super::inventory;
use crate::core::app::App;
use crate::core::Result;
use postgres::Client;

/// Purges mart `code` of `app`.
pub fn purge_mart(app: &App, code: i64) -> Result<()> {
    let mut db = app.db.connect()?;
    let mut cluster = Cluster::connect(&app.hosting)?;
    purge_with(app, &mut db, &mut cluster, code)
}

/// [`purge_mart`] on open sessions. The mart's lock is held from before its record
/// is read until it is deleted: a purge that dies after `DROP DATABASE` leaves a
/// record the sweep can tell from one still being worked on.
pub fn purge_with(app: &App, db: &mut Client, cluster: &mut Cluster, code: i64) -> Result<()> {
    let lock = MartLock::new(app, code);
    cluster.lock(lock)?;
    let result = purge_locked(app, db, cluster, code);
    let unlocked = cluster.unlock(lock);
    result.and(unlocked)
}

fn purge_locked(app: &App, db: &mut Client, cluster: &mut Cluster, code: i64) -> Result<()> {
    let Some(mart) = inventory::get(db, code)? else {
        return Ok(());
    };
    let name = physical_name(app, &mart.name);
    if cluster.exists(&name)?
        && super::rc::decrement(&app.hosting, &name)? <= 0
        && !is_management_db(app, &name)
    {
        cluster.drop(&name)?;
    }
    inventory::delete(db, code)
}

/// rex would drop an `existing` mart's target even when that is the application
/// database itself; the port never drops the database its inventory lives in.
fn is_management_db(app: &App, name: &str) -> bool {
    name == app.db.name && hosts_management_db(app)
}
