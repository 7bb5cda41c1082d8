//! `pgsql:` transport: rex's table `asynctask.asynctask_queue`, kept compatible, with
//! row locks instead of rex's per-queue advisory locks: `get_task` is one
//! `DELETE ... FOR UPDATE SKIP LOCKED ... RETURNING`, and [`Transport::with_task`]
//! holds the row lock in a transaction while the task runs and deletes it after;
//! that transaction is the task's unit of work ([`crate::core::work_tx`]).

use super::queue_name;
use super::transport::{encode_payload, Taken, Transport};
use crate::core::app::Database;
use crate::core::work_tx;
use crate::core::{Error, Result};
use postgres::Client;
use serde_json::Value;
use std::sync::{Mutex, MutexGuard};

/// rex's `lock_id('ENSURE QUEUE TABLE')` (signed int32 of sha1), so that a rex process
/// and a harness process creating the table at once serialise on the same lock.
const ENSURE_LOCK_ID: i32 = 652_933_467;
const DEFAULT_MASTER_LOCK_ID: i32 = 1_234_567_890;

const ENSURE_SQL: &str = "\
CREATE SCHEMA IF NOT EXISTS asynctask;
CREATE TABLE IF NOT EXISTS asynctask.asynctask_queue (
    id BIGSERIAL, queue_name TEXT NOT NULL, payload JSON NOT NULL,
    date_submitted TIMESTAMP DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (id));
CREATE INDEX IF NOT EXISTS idx_asynctask_queue_name ON asynctask.asynctask_queue (queue_name);
COMMENT ON SCHEMA asynctask IS 'version: 1';";

const INSERT: &str = "INSERT INTO asynctask.asynctask_queue (queue_name, payload) VALUES ($1, $2)";
const TAKE: &str = "DELETE FROM asynctask.asynctask_queue WHERE id = (\
     SELECT id FROM asynctask.asynctask_queue WHERE queue_name = $1 \
     ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING payload";
const LOCK_OLDEST: &str = "SELECT id, payload FROM asynctask.asynctask_queue \
     WHERE queue_name = $1 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED";
const DELETE: &str = "DELETE FROM asynctask.asynctask_queue WHERE id = $1";
const COUNT: &str = "SELECT count(*) FROM asynctask.asynctask_queue WHERE queue_name = $1";

/// One connection per transport instance (reopened after a failure); give each
/// worker thread its own instance.
pub struct PgTransport {
    db: Database,
    master_lock_id: i32,
    /// `host/database` as the URI gave them, for rex's repr.
    label: String,
    conn: Mutex<Option<Client>>,
}

impl PgTransport {
    /// Connects and makes sure the queue table exists. `label` is `host/database`
    /// from the URI (`localhost` when it names no host).
    pub fn new(db: Database, master_lock_id: Option<i32>, label: String) -> Result<PgTransport> {
        let t = PgTransport {
            db,
            label,
            master_lock_id: master_lock_id.unwrap_or(DEFAULT_MASTER_LOCK_ID),
            conn: Mutex::new(None),
        };
        t.run(|c| {
            c.execute(
                "SELECT pg_advisory_lock($1, $2)",
                &[&t.master_lock_id, &ENSURE_LOCK_ID],
            )?;
            let created = c.batch_execute(ENSURE_SQL);
            c.execute(
                "SELECT pg_advisory_unlock($1, $2)",
                &[&t.master_lock_id, &ENSURE_LOCK_ID],
            )?;
            created
        })?;
        Ok(t)
    }

    fn connection(&self) -> Result<MutexGuard<'_, Option<Client>>> {
        let mut guard = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if guard.as_ref().is_none_or(Client::is_closed) {
            let client = self.db.connect().map_err(|e| {
                let mut detail = e.paragraphs[0].payload.clone().unwrap_or_default();
                // The server's refusals read as libpq prints them (psycopg's text).
                let refused = ["database \"", "role \"", "password authentication"];
                if refused.iter().any(|p| detail.starts_with(p)) {
                    detail = format!("FATAL:  {detail}");
                }
                Error::with("Failed to connect to the Postgres server:", detail)
            })?;
            *guard = Some(client);
        }
        Ok(guard)
    }

    /// Runs `f` on the connection; a failed connection is dropped and reopened next time.
    fn run<T>(&self, f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>) -> Result<T> {
        let mut guard = self.connection()?;
        let Some(client) = guard.as_mut() else {
            return Err(Error::new("Failed to connect to the Postgres server:"));
        };
        let out = f(client);
        if client.is_closed() {
            *guard = None;
        }
        Ok(out?)
    }
}

impl PgTransport {
    /// [`Transport::with_task`] on `client`: the oldest task's row is locked in a
    /// transaction that is the task's unit of work ([`work_tx`]) while `f` runs, then
    /// deleted in it; one commit ends both. A process killed meanwhile rolls back the
    /// task's work with the delete, and the task is delivered again.
    fn take_and_run(
        &self,
        mut client: Client,
        queue: &str,
        f: &mut dyn FnMut(&Value) -> Result<()>,
    ) -> (Option<Client>, Result<Taken>) {
        let locked = work_tx::begin(&mut client).and_then(|()| {
            let row = client.query_opt(LOCK_OLDEST, &[&queue])?;
            if row.is_none() {
                client.batch_execute("COMMIT")?;
            }
            Ok(row)
        });
        let row = match locked {
            Ok(Some(row)) => row,
            Ok(None) => return (Some(client), Ok(None)),
            Err(e) => {
                // Kept for the next task: not in a failed transaction (a statement
                // cancelled by `run --timeout`, say).
                let _ = client.batch_execute("ROLLBACK");
                return (Some(client), Err(e));
            }
        };
        let id: i64 = row.get(0);
        let payload: Value = row.get(1);
        let unit = work_tx::Unit::enter_open(&self.db, client);
        let outcome = f(&payload);
        let Some((mut client, _)) = unit.close() else {
            // The connection went with a call that never returned: the task stays.
            return (
                None,
                Err(Error::new("Lost the connection holding the task")),
            );
        };
        let done = client
            .execute(DELETE, &[&id])
            .and_then(|_| client.batch_execute("COMMIT"));
        if done.is_err() && !client.is_closed() {
            let _ = client.batch_execute("ROLLBACK");
        }
        (
            Some(client),
            done.map(|()| Some(outcome)).map_err(Into::into),
        )
    }
}

impl Transport for PgTransport {
    fn submit_task(&self, queue: &str, payload: &Value) -> Result<()> {
        queue_name::check(queue)?;
        let payload = encode_payload(payload)?;
        self.run(|c| c.execute(INSERT, &[&queue, &payload]))?;
        Ok(())
    }

    fn get_task(&self, queue: &str) -> Result<Option<Value>> {
        queue_name::check(queue)?;
        let row = self.run(|c| c.query_opt(TAKE, &[&queue]))?;
        Ok(row.map(|r| r.get::<_, Value>(0)))
    }

    fn poll_queue(&self, queue: &str) -> Result<i64> {
        queue_name::check(queue)?;
        Ok(self.run(|c| c.query_one(COUNT, &[&queue]))?.get(0))
    }

    fn with_task(&self, queue: &str, f: &mut dyn FnMut(&Value) -> Result<()>) -> Result<Taken> {
        queue_name::check(queue)?;
        let mut guard = self.connection()?;
        let Some(client) = guard.take() else {
            return Ok(None);
        };
        let (client, taken) = self.take_and_run(client, queue, f);
        *guard = client.filter(|c| !c.is_closed());
        taken
    }

    fn repr(&self) -> String {
        format!("PostgresAsyncTransport({})", self.label)
    }
}
