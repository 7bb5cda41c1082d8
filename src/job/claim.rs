//! How `harness worker` processes share the `job` table safely. One statement per
//! transition, each guarded so that only the current claim can move a job on:
//!
//! - claim: `queued -> started` for the oldest queued jobs, `FOR UPDATE SKIP LOCKED`,
//!   bumping `claim_attempt` (the fencing token) and stamping `claimed_by` and
//!   `heartbeat_at`;
//! - heartbeat: a worker touches `heartbeat_at` of the jobs it still runs;
//! - finish: `started -> completed|failed` only `WHERE claim_attempt = <mine>`, so a
//!   worker whose claim went stale (paused, partitioned) cannot overwrite the result;
//! - recover: a `started` job whose heartbeat is older than the stale threshold is
//!   failed (with a `status_detail` saying so) or re-queued, by `job_stale_policy`.
//!
//! Jobs run by rex's unguarded `JobExecutorWorker().process(...)` never get a
//! heartbeat and are never recovered.

use super::executor_worker::{JobRow, Outcome};
use super::settings::StalePolicy;
use crate::core::Result;
use postgres::GenericClient;
use std::time::Duration;

/// The notification channel: inserts into `job` (by trigger) and promotions to
/// `queued` wake the workers; polling is the fallback.
pub const CHANNEL: &str = "harness_job";

/// Key of the advisory lock that serialises schema changes and the queuer.
const SCHEMA_LOCK: i64 = 0x6861_726e_6573_7301; // "harness" + 1
pub const QUEUER_LOCK: i64 = 0x6861_726e_6573_7302;

/// The columns, indexes and trigger claiming needs, on top of rex's `job` table.
/// Idempotent; safe to run from many workers at once. (The deploy facts should carry
/// the same so that a deployed database needs no change at worker start.)
pub const QUEUE_SCHEMA_SQL: &str = r#"
ALTER TABLE job ADD COLUMN IF NOT EXISTS claim_attempt int4 NOT NULL DEFAULT 0;
ALTER TABLE job ADD COLUMN IF NOT EXISTS claimed_by text;
ALTER TABLE job ADD COLUMN IF NOT EXISTS heartbeat_at timestamptz;
CREATE INDEX IF NOT EXISTS job_harness_new_idx ON job (date_submitted, code) WHERE status = 'new';
CREATE INDEX IF NOT EXISTS job_harness_queued_idx ON job (date_submitted, code) WHERE status = 'queued';
CREATE INDEX IF NOT EXISTS job_harness_started_idx ON job (heartbeat_at) WHERE status = 'started';
CREATE OR REPLACE FUNCTION job_harness_notify() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN PERFORM pg_notify('harness_job', 'new'); RETURN NULL; END;$$;
CREATE OR REPLACE TRIGGER job_harness_notify AFTER INSERT ON job
  FOR EACH STATEMENT EXECUTE FUNCTION job_harness_notify();
"#;

/// Applies [`QUEUE_SCHEMA_SQL`] unless it is already there.
pub fn ensure_queue_schema(db: &mut postgres::Client) -> Result<()> {
    let present: bool = db
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'job_harness_notify') \
             AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'job'::regclass \
                         AND attname = 'heartbeat_at' AND NOT attisdropped)",
            &[],
        )?
        .get(0);
    if present {
        return Ok(());
    }
    let mut tx = db.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
    tx.batch_execute(QUEUE_SCHEMA_SQL)?;
    tx.commit()?;
    Ok(())
}

const CLAIM: &str = "\
WITH picked AS (
    SELECT id FROM job WHERE status = 'queued'
    ORDER BY date_submitted, code LIMIT $2 FOR UPDATE SKIP LOCKED)
UPDATE job j SET status = 'started', date_started = LOCALTIMESTAMP,
    claim_attempt = j.claim_attempt + 1, claimed_by = $1, heartbeat_at = now()
FROM picked WHERE j.id = picked.id
RETURNING j.code, j.owner, j.type, j.payload, j.claim_attempt";

const CLAIM_CODE: &str = "\
UPDATE job j SET status = 'started', date_started = LOCALTIMESTAMP,
    claim_attempt = j.claim_attempt + 1, claimed_by = $1, heartbeat_at = now()
WHERE j.id = (SELECT id FROM job WHERE code = $2 AND status IN ('new', 'queued')
              FOR UPDATE SKIP LOCKED)
RETURNING j.code, j.owner, j.type, j.payload, j.claim_attempt";

/// A job this worker holds: its row and the fencing token of the claim.
#[derive(Clone, Debug, PartialEq)]
pub struct Claimed {
    pub job: JobRow,
    pub attempt: i32,
}

fn claimed_rows(rows: Vec<postgres::Row>) -> Result<Vec<Claimed>> {
    rows.iter()
        .map(|r| {
            Ok(Claimed {
                job: JobRow::from_row(r)?,
                attempt: r.try_get(4)?,
            })
        })
        .collect()
}

/// Claims up to `limit` queued jobs, oldest first.
pub fn claim(db: &mut impl GenericClient, worker: &str, limit: i64) -> Result<Vec<Claimed>> {
    claimed_rows(db.query(CLAIM, &[&worker, &limit])?)
}

/// Claims job `code` if it is still `new` or `queued` (a task `{'code': n}` from
/// rex's queuer); `None` when someone else has it or it is finished.
pub fn claim_code(db: &mut impl GenericClient, worker: &str, code: i64) -> Result<Option<Claimed>> {
    Ok(claimed_rows(db.query(CLAIM_CODE, &[&worker, &code])?)?.pop())
}

const COMPLETE: &str = "UPDATE job SET status = 'completed', date_completed = LOCALTIMESTAMP, \
     status_detail = NULL, heartbeat_at = NULL WHERE code = $1 AND claim_attempt = $2 AND status = 'started'";
const FAIL: &str = "UPDATE job SET status = 'failed', status_detail = $3, \
     date_completed = LOCALTIMESTAMP, heartbeat_at = NULL \
     WHERE code = $1 AND claim_attempt = $2 AND status = 'started'";
const REQUEUE: &str = "UPDATE job SET status = 'queued', status_detail = $3, date_started = NULL, \
     claimed_by = NULL, heartbeat_at = NULL \
     WHERE code = $1 AND claim_attempt = $2 AND status = 'started'";

/// Writes the outcome if the claim still holds; `false` when it was lost (the job
/// was recovered, re-claimed or changed by hand) and nothing was written.
pub fn finish(db: &mut impl GenericClient, claim: &Claimed, outcome: &Outcome) -> Result<bool> {
    let n = match outcome {
        Outcome::Completed => db.execute(COMPLETE, &[&claim.job.code, &claim.attempt])?,
        Outcome::Failed(detail) => db.execute(FAIL, &[&claim.job.code, &claim.attempt, detail])?,
    };
    Ok(n == 1)
}

/// Gives up a job this worker cannot finish (shutdown), recording `reason`: `failed`
/// or back to `queued`, by policy. `false` when the claim was already lost.
pub fn abandon(
    db: &mut impl GenericClient,
    claim: &Claimed,
    policy: StalePolicy,
    reason: &str,
) -> Result<bool> {
    let sql = match policy {
        StalePolicy::Fail => FAIL,
        StalePolicy::Requeue => REQUEUE,
    };
    Ok(db.execute(sql, &[&claim.job.code, &claim.attempt, &reason])? == 1)
}

/// Touches the heartbeat of the jobs this worker runs (one statement for all).
/// Returns how many rows still belong to it.
pub fn heartbeat(db: &mut impl GenericClient, worker: &str, running: &[(i64, i32)]) -> Result<u64> {
    if running.is_empty() {
        return Ok(0);
    }
    let codes: Vec<i64> = running.iter().map(|r| r.0).collect();
    let attempts: Vec<i32> = running.iter().map(|r| r.1).collect();
    Ok(db.execute(
        "UPDATE job j SET heartbeat_at = now() \
         FROM unnest($2::int8[], $3::int4[]) AS r(code, attempt) \
         WHERE j.code = r.code AND j.claim_attempt = r.attempt \
           AND j.status = 'started' AND j.claimed_by = $1",
        &[&worker, &codes, &attempts],
    )?)
}

/// Recovers `started` jobs whose heartbeat is older than `stale_after`. Returns the
/// codes recovered.
pub fn recover_stale(
    db: &mut impl GenericClient,
    stale_after: Duration,
    policy: StalePolicy,
) -> Result<Vec<i64>> {
    let secs = stale_after.as_secs_f64();
    let rows = match policy {
        StalePolicy::Fail => db.query(
            "UPDATE job SET status = 'failed', date_completed = LOCALTIMESTAMP, heartbeat_at = NULL, \
               status_detail = 'Worker ' || coalesce(claimed_by, '?') || \
                 ' stopped sending heartbeats; job abandoned after ' || $2 || ' seconds without one' \
             WHERE status = 'started' AND heartbeat_at < now() - make_interval(secs => $1) \
             RETURNING code",
            &[&secs, &(stale_after.as_secs() as i64).to_string()],
        )?,
        StalePolicy::Requeue => db.query(
            "UPDATE job SET status = 'queued', date_started = NULL, heartbeat_at = NULL, \
               status_detail = 'Re-queued: worker ' || coalesce(claimed_by, '?') || \
                 ' stopped sending heartbeats', claimed_by = NULL \
             WHERE status = 'started' AND heartbeat_at < now() - make_interval(secs => $1) \
             RETURNING code",
            &[&secs],
        )?,
    };
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
