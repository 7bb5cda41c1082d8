//! `harness jobs [--status S]`: the application's jobs as a table, newest last.

use super::app::AppArgs;
use crate::core::{Error, Result};
use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Status {
    New,
    Queued,
    Started,
    Completed,
    Failed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Queued => "queued",
            Status::Started => "started",
            Status::Completed => "completed",
            Status::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct JobsArgs {
    #[command(flatten)]
    pub app: AppArgs,
    /// Only jobs in this status.
    #[arg(long, value_enum)]
    pub status: Option<Status>,
    /// Show this one job in full (title, payload, whole detail, facets) instead of
    /// the table.
    #[arg(value_name = "CODE")]
    pub code: Option<i64>,
    /// At most this many jobs (the newest).
    #[arg(long, default_value_t = 100)]
    pub limit: i64,
}

const HEADER: [&str; 7] = [
    "code",
    "status",
    "type",
    "owner",
    "submitted",
    "completed",
    "detail",
];

/// The rows of the table, as text cells in [`HEADER`] order.
pub fn rows(
    db: &mut postgres::Client,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<[String; 7]>> {
    let rows = db.query(
        "SELECT * FROM (SELECT code::text, status::text, type, owner, \
           coalesce(to_char(date_submitted, 'YYYY-MM-DD HH24:MI:SS'), ''), \
           coalesce(to_char(date_completed, 'YYYY-MM-DD HH24:MI:SS'), ''), \
           coalesce(split_part(status_detail, E'\\n', 1), ''), code AS k \
         FROM job WHERE $1::text IS NULL OR status::text = $1 ORDER BY code DESC LIMIT $2) t \
         ORDER BY k",
        &[&status, &limit],
    )?;
    Ok(rows
        .iter()
        .map(|r| std::array::from_fn(|i| r.get::<_, String>(i)))
        .collect())
}

/// Left-aligned columns, two spaces apart, no trailing spaces; cells escaped and
/// aligned by display width ([`crate::core::table`]).
pub fn render(rows: &[[String; 7]]) -> String {
    crate::core::table::render(&HEADER, rows)
}

/// One job in full for `harness jobs CODE`: its fields one per line, the payload as
/// JSON, then the whole status detail and each facet row (tables linked to `job` by
/// `job_id`), multi-line values indented under their label. `None`: no such job.
pub fn show(db: &mut postgres::Client, code: i64) -> Result<Option<String>> {
    let Some(row) = db.query_opt(
        "SELECT id, code::text, status::text, type, owner, coalesce(title, ''), \
           coalesce(to_char(date_submitted, 'YYYY-MM-DD HH24:MI:SS'), ''), \
           coalesce(to_char(date_started, 'YYYY-MM-DD HH24:MI:SS'), ''), \
           coalesce(to_char(date_completed, 'YYYY-MM-DD HH24:MI:SS'), ''), \
           payload::text, coalesce(status_detail, '') \
         FROM job WHERE code = $1",
        &[&code],
    )?
    else {
        return Ok(None);
    };
    let id: i32 = row.get(0);
    let mut out = String::new();
    let labels = [
        "code",
        "status",
        "type",
        "owner",
        "title",
        "submitted",
        "started",
        "completed",
        "payload",
        "detail",
    ];
    for (i, label) in labels.iter().enumerate() {
        field(&mut out, label, &row.get::<_, String>(i + 1));
    }
    // Facets: every table whose `job_id` column references `job`.
    let facets = db.query(
        "SELECT c.conrelid::regclass::text FROM pg_constraint c \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
         WHERE c.contype = 'f' AND c.confrelid = 'job'::regclass AND a.attname = 'job_id' \
         ORDER BY 1",
        &[],
    )?;
    for facet in facets {
        let table: String = facet.get(0);
        let sql =
            format!("SELECT row_to_json(f)::jsonb - 'job_id' FROM {table} f WHERE job_id = $1");
        for row in db.query(&sql, &[&id])? {
            let value: serde_json::Value = row.get(0);
            out.push_str(&format!("facet {table}:\n"));
            if let serde_json::Value::Object(map) = value {
                for (k, v) in map {
                    let text = match v {
                        serde_json::Value::String(s) => s,
                        serde_json::Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    let mut inner = String::new();
                    field(&mut inner, &k, &text);
                    for line in inner.lines() {
                        out.push_str(&format!("    {line}\n"));
                    }
                }
            }
        }
    }
    Ok(Some(out))
}

/// `label: value`, or for a multi-line value `label:` and the lines indented.
fn field(out: &mut String, label: &str, value: &str) {
    if value.contains('\n') {
        out.push_str(&format!("{label}:\n"));
        for line in value.lines() {
            out.push_str(&format!("    {line}\n"));
        }
    } else if value.is_empty() {
        out.push_str(&format!("{label}:\n"));
    } else {
        out.push_str(&format!("{label}: {value}\n"));
    }
}

pub fn run(args: &JobsArgs) -> i32 {
    let result = (|| -> Result<String> {
        let app = args.app.open()?;
        if let Some(code) = args.code {
            return show(&mut app.db.connect()?, code)?
                .ok_or_else(|| Error::with("No job exists with code:", code));
        }
        let rows = rows(
            &mut app.db.connect()?,
            args.status.map(Status::as_str),
            args.limit,
        )?;
        Ok(render(&rows))
    })();
    match result {
        Ok(table) => {
            print!("{table}");
            0
        }
        Err(e) => {
            eprintln!("harness jobs: error: {e}");
            2
        }
    }
}
