//! Database errors as HTSQL/rex_deploy report them (htsql.md §7.5): NOT NULL and
//! unique violations name the table and field by title, everything else is
//! `Got an error from the database driver` with psycopg2's text.

use super::catalog::{title, Catalog};
use super::error::{error, push};
use crate::core::Error;

/// psycopg2's `str(exc)`: the message, then `DETAIL:  ...` / `HINT:  ...` lines.
pub fn driver_text(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = db.message().to_string();
            if let Some(d) = db.detail() {
                s.push_str(&format!("\nDETAIL:  {d}"));
            }
            if let Some(h) = db.hint() {
                s.push_str(&format!("\nHINT:  {h}"));
            }
            s
        }
        None => e.to_string(),
    }
}

/// An error of a SELECT.
pub fn translate_fetch(e: postgres::Error) -> Error {
    error("Got an error from the database driver", Some(&driver_text(&e)))
}

fn column_title(cat: &Catalog, t: usize, col: &str) -> String {
    let table = &cat.tables[t];
    match table.columns.iter().find(|c| c.name == col) {
        Some(c) => c.title.clone().unwrap_or_else(|| {
            title(col.strip_suffix("_id").unwrap_or(col).trim_end_matches('_'))
        }),
        None => title(col),
    }
}

/// An error of a write into table `t`, translated the way `DeployErrorGuard` does.
pub fn translate_write(cat: &Catalog, t: usize, e: postgres::Error) -> Error {
    let text = driver_text(&e);
    let Some(db) = e.as_db_error() else {
        return error("Got an error from the database driver", Some(&text));
    };
    let table = &cat.tables[t];
    let table_title = table.title();
    let code = db.code().code();
    let translated = if code == "23502" {
        db.column().map(|c| {
            error(
                "Got a blank field value",
                Some(&format!("{table_title} . {}", column_title(cat, t, c))),
            )
        })
    } else if code == "23505" {
        // `Key (a, b)=(...) already exists.`
        let cols: Option<Vec<String>> = db.detail().and_then(|d| {
            let inner = d.strip_prefix("Key (")?.split(")=(").next()?;
            Some(inner.split(", ").map(|s| s.trim_matches('"').to_string()).collect())
        });
        cols.map(|cols| {
            let pk: Vec<String> = table
                .primary_key
                .iter()
                .flatten()
                .map(|c| table.columns[*c].name.clone())
                .collect();
            let titles: Vec<String> = cols.iter().map(|c| column_title(cat, t, c)).collect();
            let what = if titles.len() == 1 {
                titles[0].clone()
            } else {
                format!("({})", titles.join(", "))
            };
            let msg = if !pk.is_empty() && cols == pk {
                "Got a duplicate identity"
            } else {
                "Got a duplicate field value"
            };
            error(msg, Some(&format!("{table_title} . {what}")))
        })
    } else {
        None
    };
    match translated {
        Some(err) => push(err, "Which triggered an error from the database driver", Some(&text)),
        None => error("Got an error from the database driver", Some(&text)),
    }
}
