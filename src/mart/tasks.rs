//! The two ways rex runs a creation in the background: the asynctask worker
//! `rexmart_create` (`MartCreateWorker`) and the job executor of job type
//! `rexmart_create` (`MartCreateExecutor`), which also keeps the creation log in the
//! job's `job_rexmart_create` facet — on failure too. Both create under the
//! application's rules ([`RulesSource`]): its quota, its processors.

use super::creator::{CreateOptions, MartCreator};
use super::rules::{with_rules, DefaultRules, RulesSource};
use super::runlist::RunListEntry;
use crate::asynctask::Worker;
use crate::core::app::App;
use crate::core::{Error, Result};
use crate::job::Executor;
use serde_json::Value;
use std::sync::Arc;

/// A validated payload, ready to run: the creator, its options and parameters.
/// Payload and definition errors come from here, before any log line.
fn prepare<'a>(
    app: &'a App,
    payload: &Value,
) -> Result<(MartCreator<'a>, CreateOptions, RunListEntry)> {
    let entry = RunListEntry::from_json(payload)?;
    let creator = MartCreator::new(app, &entry.owner, &entry.definition)?;
    let options = CreateOptions {
        purge_on_failure: entry.purge_on_failure,
        leave_incomplete: entry.leave_incomplete,
    };
    Ok((creator, options, entry))
}

/// `new(rules)`: creating under the rules `rules` supplies; `default()`: under
/// rex's own rules (no application code).
macro_rules! under_rules {
    ($creator:ident) => {
        impl $creator {
            pub fn new(rules: Arc<dyn RulesSource>) -> $creator {
                $creator { rules }
            }
        }

        impl Default for $creator {
            fn default() -> Self {
                $creator::new(Arc::new(DefaultRules))
            }
        }
    };
}

/// asynctask worker `rexmart_create`; logs as `MartCreateWorker`.
pub struct MartCreateWorker {
    rules: Arc<dyn RulesSource>,
}

under_rules!(MartCreateWorker);

impl Worker for MartCreateWorker {
    fn name(&self) -> &str {
        "rexmart_create"
    }

    fn logger_name(&self) -> &str {
        "MartCreateWorker"
    }

    fn process(&self, app: &App, payload: &Value) -> Result<()> {
        with_rules(&*self.rules, app, |rules| {
            Self::process_with(app, payload, rules.quota)
        })
    }
}

impl MartCreateWorker {
    /// [`Worker::process`] under the given quota rules (the caller provides the
    /// application's processors).
    pub fn process_with(
        app: &App,
        payload: &Value,
        rules: &mut dyn super::quota::QuotaRules,
    ) -> Result<()> {
        let (creator, options, entry) = prepare(app, payload)?;
        creator
            .create_with(
                options,
                &entry.parameters,
                &mut |m| log::info!(target: "MartCreateWorker", "{m}"),
                rules,
            )
            .map(|_| ())
    }
}

/// Job executor for job type `rexmart_create`; logs as `MartCreateExecutor`. The job's
/// owner is ignored: the payload names the mart's owner.
pub struct MartCreateExecutor {
    rules: Arc<dyn RulesSource>,
}

under_rules!(MartCreateExecutor);

impl Executor for MartCreateExecutor {
    fn job_type(&self) -> &str {
        "rexmart_create"
    }

    fn logger_name(&self) -> &str {
        "MartCreateExecutor"
    }

    fn execute(&self, app: &App, code: i64, _owner: &str, payload: &Value) -> Result<()> {
        with_rules(&*self.rules, app, |rules| {
            // A bad payload or definition leaves no facet row, as in rex.
            let (creator, options, entry) = prepare(app, payload)?;
            let mut output: Vec<String> = Vec::new();
            let log = &mut |m: &str| {
                output.push(m.to_string());
                log::info!(target: "MartCreateExecutor", "{m}");
            };
            let result = creator.create_with(options, &entry.parameters, log, rules.quota);
            let saved = save_facet(app, code, &output.join("\n"));
            result?;
            saved.map(|_| ())
        })
    }
    /// Removes what stopped creations left: records pointing at a missing database,
    /// unfinished marts no creator holds (see [`super::sweep`]).
    fn recover(&self, app: &App) -> Result<()> {
        for swept in super::sweep::sweep(app)? {
            log::warn!(target: "MartCreateExecutor", "{}", swept.message());
        }
        Ok(())
    }
    /// A creation runs long and commits as it goes: its rules' reads of the
    /// application database stay out of the job's transaction.
    fn joins_job_transaction(&self) -> bool {
        false
    }
}

/// Upserts the log into the job's `job_rexmart_create` facet (keyed by the job's
/// hidden `id`). One statement.
pub fn save_facet(app: &App, code: i64, log_text: &str) -> Result<u64> {
    let mut db = app.db.connect()?;
    db.execute(
        "INSERT INTO job_rexmart_create (job_id, log) SELECT id, $2 FROM job WHERE code = $1 \
         ON CONFLICT (job_id) DO UPDATE SET log = EXCLUDED.log",
        &[&code, &log_text],
    )
    .map_err(|e| Error::from(e).wrap_with("While saving the log of job:", format!("#{code}")))
}
