//! The hosting cluster as rex.mart's `Cluster` sees it: databases created, cloned,
//! renamed, dropped and measured from the maintenance database `postgres`, with
//! rex's error texts (`Got an error from the database server:`). The same session
//! holds the marts' advisory locks (see [`MartLock`]).

use crate::core::app::App;
use crate::core::{Error, Result};
use crate::pg::{quote_ident, Server};
use postgres::Client;
use std::collections::HashSet;

/// psycopg2's `str(exc)` for a server error: the message, the `LINE n:` excerpt with
/// its caret when the server gave a position in `query`, then DETAIL/HINT/CONTEXT.
pub fn server_error_text(e: &postgres::Error, query: Option<&str>) -> String {
    let Some(db) = e.as_db_error() else {
        return e.to_string();
    };
    let mut out = db.message().to_string();
    if let (Some(postgres::error::ErrorPosition::Original(pos)), Some(q)) = (db.position(), query) {
        out.push('\n');
        out.push_str(&line_excerpt(q, *pos as usize));
    }
    for (label, part) in [
        ("DETAIL", db.detail()),
        ("HINT", db.hint()),
        ("CONTEXT", db.where_()),
    ] {
        if let Some(text) = part {
            out.push_str(&format!("\n{label}:  {text}"));
        }
    }
    out
}

/// libpq's statement excerpt: `LINE n: <line>` and a caret under the 1-based
/// character position.
fn line_excerpt(query: &str, pos: usize) -> String {
    let chars: Vec<char> = query.chars().collect();
    let pos = pos.saturating_sub(1).min(chars.len());
    let line_no = chars[..pos].iter().filter(|c| **c == '\n').count() + 1;
    let line_start = chars[..pos]
        .iter()
        .rposition(|c| *c == '\n')
        .map_or(0, |i| i + 1);
    let line_end = chars[pos..]
        .iter()
        .position(|c| *c == '\n')
        .map_or(chars.len(), |i| pos + i);
    let line: String = chars[line_start..line_end].iter().collect();
    let prefix = format!("LINE {line_no}: ");
    let caret_col = prefix.chars().count() + (pos - line_start);
    format!(
        "{prefix}{}\n{}^",
        line.trim_end_matches('\r'),
        " ".repeat(caret_col)
    )
}

/// A server error in rex.mart's cluster wording.
pub fn server_error(e: postgres::Error, query: &str) -> Error {
    Error::with(
        "Got an error from the database server:",
        server_error_text(&e, Some(query)),
    )
}

/// The advisory lock of one mart, taken on the hosting cluster's maintenance
/// database: held by its creator from the moment its inventory record is committed
/// until its database is complete, and by a purge from `DROP DATABASE` until the
/// record is deleted. A record whose database is missing and whose lock is free was
/// left by a process that died in between; [`super::sweep`] deletes it.
///
/// Session-level, so it lives exactly as long as the session that runs `CREATE
/// DATABASE` (a dead worker's lock goes with its connection), and two-key (the
/// management database's name hashed, the code), so applications sharing a hosting
/// cluster do not collide. It is not held on the management database because that
/// session is closed while the application database is cloned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MartLock {
    scope: i32,
    code: i32,
}

impl MartLock {
    pub fn new(app: &App, code: i64) -> MartLock {
        let scope = crate::pg::fnv1a(format!("rexmart:{}", app.db.name).as_bytes()) as i32;
        // Codes are `int8` counting up from 1: below 2^31 the key is the code
        // itself; beyond, two marts may share a key, which only makes one wait for
        // the other or the sweep skip a record until the next time.
        MartLock {
            scope,
            code: code as i32,
        }
    }
}

/// The comment of a mart database kept after its creation failed.
const KEPT: &str = "harness: kept after a failed creation";

/// Whether the hosting cluster is the server the management database lives on (one
/// transaction can then change both an inventory record and a database's name).
pub fn hosts_management_db(app: &App) -> bool {
    app.hosting.url("postgres") == app.db.server.url("postgres")
}

/// A session on the hosting cluster's maintenance database.
pub struct Cluster {
    pub server: Server,
    client: Client,
}

impl Cluster {
    pub fn connect(server: &Server) -> Result<Cluster> {
        Ok(Cluster {
            server: server.clone(),
            client: server.connect("postgres")?,
        })
    }

    fn execute(&mut self, sql: &str) -> Result<()> {
        self.client
            .batch_execute(sql)
            .map_err(|e| server_error(e, sql))
    }

    pub fn exists(&mut self, name: &str) -> Result<bool> {
        let sql = "SELECT TRUE FROM pg_catalog.pg_database AS d WHERE d.datname = $1";
        let rows = self
            .client
            .query(sql, &[&name])
            .map_err(|e| server_error(e, sql))?;
        Ok(!rows.is_empty())
    }

    /// `CREATE DATABASE "<name>" WITH ENCODING = 'UTF-8' [TEMPLATE = "<template>"]`.
    pub fn create(&mut self, name: &str, template: Option<&str>) -> Result<()> {
        let mut sql = format!(
            "CREATE DATABASE {} WITH ENCODING = 'UTF-8'",
            quote_ident(name)
        );
        if let Some(t) = template {
            sql.push_str(&format!(" TEMPLATE = {}", quote_ident(t)));
        }
        self.execute(&sql)
    }

    pub fn rename(&mut self, old: &str, new: &str) -> Result<()> {
        self.execute(&Cluster::rename_sql(old, new))
    }

    /// `ALTER DATABASE "<old>" RENAME TO "<new>"` (it may run inside a transaction).
    pub fn rename_sql(old: &str, new: &str) -> String {
        format!(
            "ALTER DATABASE {} RENAME TO {}",
            quote_ident(old),
            quote_ident(new)
        )
    }

    pub fn drop(&mut self, name: &str) -> Result<()> {
        self.execute(&format!("DROP DATABASE {}", quote_ident(name)))
    }

    /// Marks a mart database kept after a failed creation (the caller asked to keep
    /// failures): the sweep leaves such an incomplete mart alone.
    pub fn mark_kept(&mut self, name: &str) -> Result<()> {
        self.execute(&format!(
            "COMMENT ON DATABASE {} IS '{KEPT}'",
            quote_ident(name)
        ))
    }

    /// Ends every session on database `name` (those of a creator that is gone,
    /// still running its last statement), so that it can be dropped.
    pub fn end_sessions_on(&mut self, name: &str) -> Result<()> {
        let sql = "SELECT pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity \
                   WHERE datname = $1 AND pid <> pg_backend_pid()";
        self.client
            .query(sql, &[&name])
            .map_err(|e| server_error(e, sql))?;
        Ok(())
    }

    /// The databases a `DROP DATABASE` cut short left invalid (PostgreSQL marks
    /// them `datconnlimit = -2`; nobody can connect, only a drop finishes them).
    pub fn invalid_database_names(&mut self) -> Result<HashSet<String>> {
        let sql = "SELECT datname FROM pg_catalog.pg_database WHERE datconnlimit = -2";
        let rows = self
            .client
            .query(sql, &[])
            .map_err(|e| server_error(e, sql))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Whether database `name` is invalid (see [`Cluster::invalid_database_names`]).
    pub fn is_invalid(&mut self, name: &str) -> Result<bool> {
        let sql =
            "SELECT TRUE FROM pg_catalog.pg_database WHERE datname = $1 AND datconnlimit = -2";
        let rows = self
            .client
            .query(sql, &[&name])
            .map_err(|e| server_error(e, sql))?;
        Ok(!rows.is_empty())
    }

    /// Whether [`Cluster::mark_kept`] marked database `name`.
    pub fn is_kept(&mut self, name: &str) -> Result<bool> {
        let sql = "SELECT shobj_description(oid, 'pg_database') = $2 \
                   FROM pg_catalog.pg_database WHERE datname = $1";
        let rows = self
            .client
            .query(sql, &[&name, &KEPT])
            .map_err(|e| server_error(e, sql))?;
        Ok(rows.first().and_then(|r| r.get(0)).unwrap_or(false))
    }

    /// The names of all databases on the cluster.
    pub fn database_names(&mut self) -> Result<HashSet<String>> {
        let sql = "SELECT datname FROM pg_catalog.pg_database";
        let rows = self
            .client
            .query(sql, &[])
            .map_err(|e| server_error(e, sql))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Takes `lock`, waiting while another session holds it. Session locks stack:
    /// each [`Cluster::lock`] needs its [`Cluster::unlock`].
    pub fn lock(&mut self, lock: MartLock) -> Result<()> {
        self.advisory("pg_advisory_lock", lock).map(|_| ())
    }

    /// Takes `lock` if no other session holds it.
    pub fn try_lock(&mut self, lock: MartLock) -> Result<bool> {
        self.advisory("pg_try_advisory_lock", lock)
    }

    pub fn unlock(&mut self, lock: MartLock) -> Result<()> {
        self.advisory("pg_advisory_unlock", lock).map(|_| ())
    }

    /// Calls one of PostgreSQL's two-key advisory lock functions; whether it
    /// succeeded (`pg_advisory_lock` returns `void`: true once it returns). The keys
    /// are numbers, written into the text: one round trip.
    fn advisory(&mut self, function: &str, lock: MartLock) -> Result<bool> {
        let sql = format!(
            "SELECT {function}({}, {})::text <> 'false'",
            lock.scope, lock.code
        );
        let messages = self
            .client
            .simple_query(&sql)
            .map_err(|e| server_error(e, &sql))?;
        Ok(messages.iter().any(
            |m| matches!(m, postgres::SimpleQueryMessage::Row(row) if row.get(0) == Some("t")),
        ))
    }

    /// Whether the session is gone (its locks with it).
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// `pg_database_size`, in bytes.
    pub fn size(&mut self, name: &str) -> Result<Option<i64>> {
        let sql = "SELECT pg_database_size($1)";
        let row = self
            .client
            .query_one(sql, &[&name])
            .map_err(|e| server_error(e, sql))?;
        Ok(row.get(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_points_at_the_error() {
        assert_eq!(
            line_excerpt("insert into blah (col1) values('stuff');", 13),
            "LINE 1: insert into blah (col1) values('stuff');\n                    ^"
        );
        assert_eq!(
            line_excerpt("select 1;\nselect x;", 18),
            "LINE 2: select x;\n               ^"
        );
    }
}
