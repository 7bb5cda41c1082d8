//! A mart database's reference counter (rex.mart's `mart_incref`/`mart_decref`/
//! `mart_getref`): the table `rc.rc` inside the mart, one row whose `value` counts
//! the records sharing the database. Without the table the count is 1; a decrement
//! to 0 or below drops the database.

use super::cluster::Cluster;
use crate::core::Result;
use crate::pg::Server;

const HAS_RC: &str = "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'rc'";

/// The number of references to database `name`.
pub fn getref(server: &Server, name: &str) -> Result<i64> {
    let mut mart = server.connect(name)?;
    if mart.query(HAS_RC, &[])?.is_empty() {
        return Ok(1);
    }
    let row = mart.query_opt("SELECT value::int8 FROM rc.rc", &[])?;
    Ok(row.map_or(1, |r| r.get(0)))
}

/// Adds a reference (creating the counter at 1 first); returns the new count.
pub fn incref(server: &Server, name: &str) -> Result<i64> {
    let mut mart = server.connect(name)?;
    let mut tx = mart.transaction()?;
    if tx.query(HAS_RC, &[])?.is_empty() {
        tx.batch_execute(
            "CREATE SCHEMA rc; \
             CREATE TYPE rc.rc_code_enum AS ENUM ('-'); \
             CREATE TABLE rc.rc (\
                 id int4 NOT NULL, \
                 code rc.rc_code_enum NOT NULL DEFAULT '-', \
                 value int8 NOT NULL DEFAULT 1, \
                 CONSTRAINT rc_uk UNIQUE (id), \
                 CONSTRAINT rc_pk PRIMARY KEY (code)); \
             CREATE SEQUENCE rc.rc_seq OWNED BY rc.rc.id; \
             ALTER TABLE rc.rc ALTER COLUMN id SET DEFAULT nextval('rc.rc_seq'); \
             INSERT INTO rc.rc DEFAULT VALUES",
        )?;
    }
    let row = tx.query_one(
        "UPDATE rc.rc SET value = value + 1 RETURNING value::int8",
        &[],
    )?;
    tx.commit()?;
    Ok(row.get(0))
}

/// Removes a reference without dropping anything; returns the new count (0 for a
/// database without a counter).
pub fn decrement(server: &Server, name: &str) -> Result<i64> {
    let mut mart = server.connect(name)?;
    if mart.query(HAS_RC, &[])?.is_empty() {
        return Ok(0);
    }
    let row = mart.query_opt(
        "UPDATE rc.rc SET value = value - 1 RETURNING value::int8",
        &[],
    )?;
    Ok(row.map_or(0, |r| r.get(0)))
}

/// Removes a reference; at 0 or below the database is dropped. Returns the count.
pub fn decref(server: &Server, name: &str) -> Result<i64> {
    let value = decrement(server, name)?;
    if value <= 0 {
        Cluster::connect(server)?.drop(name)?;
    }
    Ok(value)
}
