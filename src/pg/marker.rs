//! Leaving a server the harness does not own (`--pg-url`) as it was found.
//!
//! Every database a run makes there (application databases, templates and their
//! build databases) is *marked*: `COMMENT ON DATABASE ... IS 'harness run'`. While
//! the run uses a database it holds a *shared* advisory lock keyed by the database's
//! name on one session per server (the run session), so a database marked and not
//! locked belongs to no live run: its run ended or was killed (`kill -9` closes the
//! session, and the server frees its locks). At the end of a run, each database it
//! used is dropped by whoever then gets the lock exclusively (the last run using a
//! shared template drops it); [`sweep`] drops, at the start of a run, what a killed
//! run left. Servers backed by the harness (embedded, docker) go away whole and are
//! not marked.

use super::{fnv1a, quote_ident, Server};
use crate::core::Result;
use std::collections::HashMap;
use std::sync::Mutex;

/// The comment that marks a database made by a harness run.
pub const MARK: &str = "harness run";

/// The advisory lock class of run markers (first key of the two-key form).
const CLASS: i32 = 0x6872_6e00; // "hrn\0"

struct RunSession {
    server: Server,
    client: postgres::Client,
    held: Vec<String>,
}

fn sessions() -> &'static Mutex<HashMap<String, RunSession>> {
    static SESSIONS: std::sync::OnceLock<Mutex<HashMap<String, RunSession>>> =
        std::sync::OnceLock::new();
    SESSIONS.get_or_init(|| Mutex::new(HashMap::new()))
}

fn key(name: &str) -> i32 {
    fnv1a(name.as_bytes()) as i32
}

/// Whether databases on `server` are marked (a server the harness does not own).
pub fn applies(server: &Server) -> bool {
    server.backing().is_none()
}

/// Holds the shared lock on `name` for this run (blocks while another run drops
/// it). Call before looking for or making the database.
pub fn hold(server: &Server, name: &str) -> Result<()> {
    if !applies(server) {
        return Ok(());
    }
    let mut map = sessions().lock().unwrap_or_else(|e| e.into_inner());
    let url = server.url("postgres");
    if !map.contains_key(&url) {
        // The run's session, whichever thread opens it: no cancel scope's.
        let client = super::cancel::outside(|| server.connect("postgres"))?;
        map.insert(
            url.clone(),
            RunSession {
                server: server.clone(),
                client,
                held: Vec::new(),
            },
        );
    }
    let session = map.get_mut(&url).expect("inserted above");
    if session.held.iter().any(|h| h == name) {
        return Ok(());
    }
    session.client.execute(
        "SELECT pg_advisory_lock_shared($1, $2)",
        &[&CLASS, &key(name)],
    )?;
    session.held.push(name.to_string());
    Ok(())
}

/// Marks database `name` (which exists) as made by a harness run, and holds it.
pub fn mark(server: &Server, name: &str) -> Result<()> {
    if !applies(server) {
        return Ok(());
    }
    hold(server, name)?;
    server.connect("postgres")?.batch_execute(&format!(
        "COMMENT ON DATABASE {} IS '{MARK}'",
        quote_ident(name)
    ))?;
    Ok(())
}

/// Lets go of `name` (the run dropped it itself).
pub fn forget(server: &Server, name: &str) {
    let mut map = sessions().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(session) = map.get_mut(&server.url("postgres")) {
        if let Some(at) = session.held.iter().position(|h| h == name) {
            session.held.remove(at);
            let _ = session.client.execute(
                "SELECT pg_advisory_unlock_shared($1, $2)",
                &[&CLASS, &key(name)],
            );
        }
    }
}

/// End of a run: every database it still holds is released and dropped unless
/// another live run holds it too. Idempotent.
pub fn finish() {
    let taken: Vec<RunSession> = {
        let mut map = sessions().lock().unwrap_or_else(|e| e.into_inner());
        map.drain().map(|(_, s)| s).collect()
    };
    for mut session in taken {
        for name in std::mem::take(&mut session.held) {
            let k = key(&name);
            let _ = session
                .client
                .execute("SELECT pg_advisory_unlock_shared($1, $2)", &[&CLASS, &k]);
            drop_if_free(
                &mut session.client,
                &session.server,
                &name,
                |server, name| {
                    let _ = server.drop_template(name);
                },
            );
        }
    }
}

/// Drops `name` with `remove` when no run holds it, holding it exclusively meanwhile.
fn drop_if_free(
    client: &mut postgres::Client,
    server: &Server,
    name: &str,
    remove: impl FnOnce(&Server, &str),
) {
    let k = key(name);
    let free = client
        .query_one("SELECT pg_try_advisory_lock($1, $2)", &[&CLASS, &k])
        .map(|r| r.get::<_, bool>(0))
        .unwrap_or(false);
    if free {
        remove(server, name);
        let _ = client.execute("SELECT pg_advisory_unlock($1, $2)", &[&CLASS, &k]);
    }
}

/// Drops, with `remove`, every marked database no live run holds: what runs killed
/// before their end left behind. Returns the names dropped.
pub fn sweep(server: &Server, remove: impl Fn(&Server, &str)) -> Result<Vec<String>> {
    if !applies(server) {
        return Ok(Vec::new());
    }
    let mut client = server.connect("postgres")?;
    let rows = client.query(
        "SELECT datname FROM pg_catalog.pg_database \
         WHERE datname LIKE 'harness\\_%' \
         AND pg_catalog.shobj_description(oid, 'pg_database') = $1 ORDER BY datname",
        &[&MARK],
    )?;
    let mut dropped = Vec::new();
    for row in rows {
        let name: String = row.get(0);
        let mine = {
            let map = sessions().lock().unwrap_or_else(|e| e.into_inner());
            map.values().any(|s| s.held.contains(&name))
        };
        if mine {
            continue;
        }
        let mut was_free = false;
        drop_if_free(&mut client, server, &name, |server, name| {
            was_free = true;
            remove(server, name);
        });
        if was_free {
            dropped.push(name);
        }
    }
    Ok(dropped)
}
