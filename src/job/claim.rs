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
//!
//! The columns, indexes and trigger this needs are deployed with rex.job's facts
//! (src/deploy/builtin/rex.job.yaml); workers only check that they are there.
//! `heartbeat_at` is a rex `datetime` (no time zone) holding UTC.

use super::executor_worker::{JobRow, Outcome};
use super::settings::StalePolicy;
use crate::core::{Error, Result};
use postgres::GenericClient;
use std::time::Duration;

/// The notification channel: inserts into `job` (by trigger) and promotions to
/// `queued` wake the workers; polling is the fallback.
pub const CHANNEL: &str = "harness_job";

/// Key of the advisory lock that serialises the queuers.
pub const QUEUER_LOCK: i64 = 0x6861_726e_6573_7302;

/// What claiming needs on top of rex's `job` columns: deployed with rex.job's facts
/// (src/deploy/builtin/rex.job.yaml), checked at worker start.
const QUEUE_SCHEMA: [&str; 8] = [
    "job",
    "claim_attempt",
    "claimed_by",
    "heartbeat_at",
    "job_harness_new_idx",
    "job_harness_queued_idx",
    "job_harness_started_idx",
    "job_harness_notify",
];

/// The queue's columns, indexes and trigger (`QUEUE_SCHEMA`) that are not there.
const MISSING: &str = "\
SELECT want FROM unnest($1::text[]) WITH ORDINALITY AS w(want, n)
WHERE to_regclass(quote_ident(want)) IS NULL
  AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass('job')
                  AND a.attname = want AND a.attnum > 0 AND NOT a.attisdropped)
  AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = to_regclass('job')
                  AND g.tgname = want)
ORDER BY n";

/// Checks that the application database has the job queue deployed (rex.job's
/// facts of this version); the error names what is missing and what to do.
pub fn check_queue_schema(db: &mut impl GenericClient) -> Result<()> {
    let wanted: Vec<&str> = QUEUE_SCHEMA.to_vec();
    let missing: Vec<String> = db
        .query(MISSING, &[&wanted])?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let missing = match missing.first() {
        None => return Ok(()),
        Some(table) if table == "job" => vec!["job".to_string()],
        Some(_) => missing,
    };
    Err(Error::with(
        "The job queue is not deployed; missing:",
        missing.join(", "),
    )
    .wrap(
        "Run `harness worker` against an application database deployed by this \
             version of harness (rex.job's facts)",
    ))
}

const CLAIM: &str = "\
WITH picked AS (
    SELECT id FROM job WHERE status = 'queued'
    ORDER BY date_submitted, code LIMIT $2 FOR UPDATE SKIP LOCKED)
UPDATE job j SET status = 'started', date_started = LOCALTIMESTAMP,
    claim_attempt = j.claim_attempt + 1, claimed_by = $1, heartbeat_at = timezone('UTC', now())
FROM picked WHERE j.id = picked.id
RETURNING j.code, j.owner, j.type, j.payload, j.claim_attempt::int4";

const CLAIM_CODE: &str = "\
UPDATE job j SET status = 'started', date_started = LOCALTIMESTAMP,
    claim_attempt = j.claim_attempt + 1, claimed_by = $1, heartbeat_at = timezone('UTC', now())
WHERE j.id = (SELECT id FROM job WHERE code = $2 AND status IN ('new', 'queued')
              FOR UPDATE SKIP LOCKED)
RETURNING j.code, j.owner, j.type, j.payload, j.claim_attempt::int4";

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

const FAIL: &str = "UPDATE job SET status = 'failed', status_detail = $3, \
     date_completed = LOCALTIMESTAMP, heartbeat_at = NULL \
     WHERE code = $1 AND claim_attempt = $2 AND status = 'started'";
const REQUEUE: &str = "UPDATE job SET status = 'queued', status_detail = $3, date_started = NULL, \
     claimed_by = NULL, heartbeat_at = NULL \
     WHERE code = $1 AND claim_attempt = $2 AND status = 'started'";

const FINISH_MANY: &str = "\
WITH r AS (SELECT * FROM unnest($1::int8[], $2::int4[], $3::text[]) AS r(code, attempt, detail)),
done AS (
    UPDATE job j SET status = 'completed', date_completed = LOCALTIMESTAMP,
        status_detail = NULL, heartbeat_at = NULL
    FROM r WHERE r.detail IS NULL AND j.code = r.code AND j.claim_attempt = r.attempt
        AND j.status = 'started'
    RETURNING j.code),
failed AS (
    UPDATE job j SET status = 'failed', date_completed = LOCALTIMESTAMP,
        status_detail = r.detail, heartbeat_at = NULL
    FROM r WHERE r.detail IS NOT NULL AND j.code = r.code AND j.claim_attempt = r.attempt
        AND j.status = 'started'
    RETURNING j.code)
SELECT code FROM done UNION ALL SELECT code FROM failed";

/// Writes the outcome if the claim still holds; `false` when it was lost (the job
/// was recovered, re-claimed or changed by hand) and nothing was written.
pub fn finish(db: &mut impl GenericClient, claim: &Claimed, outcome: &Outcome) -> Result<bool> {
    Ok(finish_many(db, &[(claim, outcome)])?[0])
}

/// [`finish`] for many jobs in one statement (one commit: workers group their
/// finished jobs). One flag per job, in order.
pub fn finish_many(
    db: &mut impl GenericClient,
    jobs: &[(&Claimed, &Outcome)],
) -> Result<Vec<bool>> {
    let codes: Vec<i64> = jobs.iter().map(|(c, _)| c.job.code).collect();
    let attempts: Vec<i32> = jobs.iter().map(|(c, _)| c.attempt).collect();
    let details: Vec<Option<&str>> = jobs
        .iter()
        .map(|(_, o)| match o {
            Outcome::Completed => None,
            Outcome::Failed(d) => Some(d.as_str()),
        })
        .collect();
    let written: std::collections::HashSet<i64> = db
        .query(FINISH_MANY, &[&codes, &attempts, &details])?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok(codes.iter().map(|c| written.contains(c)).collect())
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
        "UPDATE job j SET heartbeat_at = timezone('UTC', now()) \
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
             WHERE status = 'started' AND heartbeat_at < timezone('UTC', now()) - make_interval(secs => $1) \
             RETURNING code",
            &[&secs, &(stale_after.as_secs() as i64).to_string()],
        )?,
        StalePolicy::Requeue => db.query(
            "UPDATE job SET status = 'queued', date_started = NULL, heartbeat_at = NULL, \
               status_detail = 'Re-queued: worker ' || coalesce(claimed_by, '?') || \
                 ' stopped sending heartbeats', claimed_by = NULL \
             WHERE status = 'started' AND heartbeat_at < timezone('UTC', now()) - make_interval(secs => $1) \
             RETURNING code",
            &[&secs],
        )?,
    };
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
