//! `harness submit TYPE JSON`: adds a job (status `new`) and prints its code.

use super::app::AppArgs;
use crate::core::{Error, Result};
use clap::Args;
use serde_json::Value;

#[derive(Debug, Clone, Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    pub app: AppArgs,
    /// The job type: the name an executor is registered under, e.g. rexmart_create.
    #[arg(value_name = "TYPE")]
    pub job_type: String,
    /// The payload, a JSON value (usually an object).
    #[arg(value_name = "JSON")]
    pub payload: String,
    /// The job's owner (default $USER).
    #[arg(long)]
    pub owner: Option<String>,
    /// A title for people.
    #[arg(long)]
    pub title: Option<String>,
}

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

pub fn run(args: &SubmitArgs) -> i32 {
    let result = (|| -> Result<i64> {
        let payload = super::app::parse_payload(&args.payload)?;
        let app = args.app.open()?;
        let (jobs, _) = super::worker::registries(&app)?;
        if jobs.get(&args.job_type).is_none() {
            return Err(Error::with("Unknown job type:", &args.job_type)
                .wrap_with("Known job types:", jobs.types().join("\n")));
        }
        let owner = args
            .owner
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "harness".to_string());
        submit(
            &mut app.db.connect()?,
            &args.job_type,
            &owner,
            args.title.as_deref(),
            &payload,
        )
    })();
    match result {
        Ok(code) => {
            println!("{code}");
            0
        }
        Err(e) => {
            eprintln!("harness submit: error: {}", e.bounded());
            2
        }
    }
}
