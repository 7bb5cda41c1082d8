//! `harness jobs [--status S]`: the application's jobs as a table, newest last.

use super::app::AppArgs;
use crate::core::Result;
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

/// Left-aligned columns, two spaces apart, no trailing spaces.
pub fn render(rows: &[[String; 7]]) -> String {
    let mut widths: Vec<usize> = HEADER.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(cell);
            s.push_str(&" ".repeat(w - cell.chars().count()));
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(HEADER.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

pub fn run(args: &JobsArgs) -> i32 {
    let result = (|| -> Result<String> {
        let app = args.app.open()?;
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
