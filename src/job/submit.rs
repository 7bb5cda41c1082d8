//! A new job: the one insert every submitter makes (`harness submit`, the web's
//! mart requests); the job is `new` until a queuer or worker takes it.

use crate::core::Result;
use serde_json::Value;

/// Key of the transaction-level advisory lock that serialises job inserts. A job's
/// code is `max(code) + 1` (rex.deploy's `offset` identity, computed by a trigger):
/// two inserts at once would compute the same code and one would fail on the key.
pub const SUBMIT_LOCK: i64 = 0x6861_726e_6573_7303;

/// Inserts a job and returns its code. Concurrent submitters take turns on
/// [`SUBMIT_LOCK`] for the length of the insert; the insert fires the workers'
/// wake-up.
pub fn submit(
    db: &mut postgres::Client,
    job_type: &str,
    owner: &str,
    title: Option<&str>,
    payload: &Value,
) -> Result<i64> {
    let mut tx = db.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SUBMIT_LOCK])?;
    let row = tx.query_one(
        "INSERT INTO job (owner, title, type, payload) VALUES ($1, $2, $3, $4) RETURNING code",
        &[&owner, &title, &job_type, payload],
    )?;
    tx.commit()?;
    Ok(row.get(0))
}
