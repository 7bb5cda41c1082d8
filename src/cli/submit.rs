//! `harness submit TYPE JSON`: adds a job (status `new`) and prints its code.

use super::app::AppArgs;
use crate::core::{Error, Result};
use crate::job::submit::submit;
use clap::Args;

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
