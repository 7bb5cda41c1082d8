//! Purging a mart: its database (unless the database's reference counter says it is
//! still shared) and its inventory record. Purging an unknown code does nothing.

use super::cluster::Cluster;
use super::inventory;
use crate::core::app::App;
use crate::core::Result;
use postgres::Client;

/// Purges mart `code` of `app`.
pub fn purge_mart(app: &App, code: i64) -> Result<()> {
    let mut db = app.db.connect()?;
    purge_with(app, &mut db, code)
}

/// [`purge_mart`] on an open management-database session.
pub fn purge_with(app: &App, db: &mut Client, code: i64) -> Result<()> {
    let Some(mart) = inventory::get(db, code)? else {
        return Ok(());
    };
    let mut cluster = Cluster::connect(&app.hosting)?;
    if cluster.exists(&mart.name)?
        && decref(app, &mart.name)? <= 0
        && !is_management_db(app, &mart.name)
    {
        cluster.drop(&mart.name)?;
    }
    inventory::delete(db, code)
}

/// Decrements the database's `rc.rc` counter when it has one (marts shared by
/// several records); a database without it is referenced once.
fn decref(app: &App, name: &str) -> Result<i64> {
    let mut mart = app.hosting.connect(name)?;
    let has_rc = !mart
        .query(
            "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'rc'",
            &[],
        )?
        .is_empty();
    if !has_rc {
        return Ok(0);
    }
    let row = mart.query_opt(
        "UPDATE rc.rc SET value = value - 1 RETURNING value::int8",
        &[],
    )?;
    Ok(row.map_or(0, |r| r.get(0)))
}

/// rex would drop an `existing` mart's target even when that is the application
/// database itself; the port never drops the database its inventory lives in.
fn is_management_db(app: &App, name: &str) -> bool {
    name == app.db.name && app.hosting.url(name) == app.db.server.url(name)
}
