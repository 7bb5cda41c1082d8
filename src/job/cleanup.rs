//! rex.job's `JobCleanupWorker` (`name = 'job_cleanup'`): deletes finished jobs older
//! than `job_max_age` seconds (facet rows go with them, ON DELETE CASCADE).

use super::settings::JobSettings;
use crate::core::app::App;
use crate::core::Result;

pub const NAME: &str = "job_cleanup";
pub const LOGGER: &str = "JobCleanupWorker";

const PURGE_OLD: &str = "DELETE FROM job WHERE status IN ('completed', 'failed') \
     AND date_completed + make_interval(secs => $1) < LOCALTIMESTAMP";

/// `JobCleanupWorker().process(payload)`; `job_max_age = 0` keeps jobs forever.
/// Returns the number of jobs deleted.
pub fn process(app: &App) -> Result<u64> {
    let settings = JobSettings::from_settings(&app.settings)?;
    purge(&mut app.db.connect()?, settings.max_age)
}

/// Deletes finished jobs completed more than `max_age` seconds ago.
pub fn purge(db: &mut impl postgres::GenericClient, max_age: i64) -> Result<u64> {
    if max_age <= 0 {
        return Ok(0);
    }
    Ok(db.execute(PURGE_OLD, &[&(max_age as f64)])?)
}
