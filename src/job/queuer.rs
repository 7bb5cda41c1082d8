//! rex.job's `JobQueuerWorker` (`name = 'job_queuer'`): `new -> queued`, respecting
//! `job_limits` (`max_concurrency` counts the type's `queued` and `started` jobs).
//!
//! [`process`] is rex's loop (one task `{'code': n}` per job on `rex_job_<i>`, round
//! robin over `job_queues`). [`promote`] is what `harness worker` runs instead: one
//! statement for all promotable jobs, serialised between workers by an advisory lock
//! so that two queuers cannot both fill the same concurrency slot.

use super::claim::{CHANNEL, QUEUER_LOCK};
use super::settings::JobSettings;
use crate::asynctask::Transport;
use crate::core::app::App;
use crate::core::Result;

pub const NAME: &str = "job_queuer";
pub const LOGGER: &str = "JobQueuerWorker";

/// The queue of job executor number `i` (rex's `'rex_job_%s' % i`).
pub fn queue_name(i: i64) -> String {
    format!("rex_job_{i}")
}

const GET_NEW: &str =
    "SELECT code, type FROM job WHERE status = 'new' ORDER BY date_submitted, code";
const COUNT_RUNNING: &str =
    "SELECT count(*) FROM job WHERE type = $1 AND status IN ('started', 'queued')";
const MARK_QUEUED: &str = "UPDATE job SET status = 'queued' WHERE code = $1";

/// rex's `JobQueuerWorker.process(payload)` (the payload is ignored). The task is sent
/// before the row is marked, as in rex.
pub fn process(app: &App, transport: &dyn Transport) -> Result<()> {
    let settings = JobSettings::from_settings(&app.settings)?;
    let mut db = app.db.connect()?;
    let mut queue_num = 0;
    for row in db.query(GET_NEW, &[])? {
        let (code, job_type): (i64, String) = (row.get(0), row.get(1));
        if let Some(Some(max)) = settings.limits.get(&job_type) {
            let running: i64 = db.query_one(COUNT_RUNNING, &[&job_type])?.get(0);
            if running >= *max {
                continue;
            }
        }
        transport.submit_task(&queue_name(queue_num), &serde_json::json!({ "code": code }))?;
        db.execute(MARK_QUEUED, &[&code])?;
        queue_num = (queue_num + 1) % settings.queues;
    }
    Ok(())
}

const PROMOTE: &str = "\
WITH lim AS (SELECT key AS type, value::int8 AS max FROM jsonb_each_text($1::jsonb)),
running AS (
    SELECT type, count(*) AS n FROM job
    WHERE status IN ('queued', 'started') AND type IN (SELECT type FROM lim) GROUP BY type),
cand AS (
    SELECT id, type, row_number() OVER (PARTITION BY type ORDER BY date_submitted, code) AS rn
    FROM job WHERE status = 'new' ORDER BY date_submitted, code LIMIT $2)
UPDATE job SET status = 'queued'
FROM cand LEFT JOIN lim ON lim.type = cand.type LEFT JOIN running ON running.type = cand.type
WHERE job.id = cand.id AND (lim.max IS NULL OR coalesce(running.n, 0) + cand.rn <= lim.max)";

/// Promotes up to `batch` of the oldest `new` jobs to `queued` in one statement and
/// wakes the workers when it did. Returns how many were promoted.
pub fn promote(db: &mut postgres::Client, settings: &JobSettings, batch: i64) -> Result<u64> {
    let mut tx = db.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&QUEUER_LOCK])?;
    let n = tx.execute(PROMOTE, &[&settings.limits_json(), &batch])?;
    if n > 0 {
        tx.execute("SELECT pg_notify($1, 'queued')", &[&CHANNEL])?;
    }
    tx.commit()?;
    Ok(n)
}
