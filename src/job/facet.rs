//! `JobExecutor.update_facet(name, code, **fields)`: upserts the facet row of a job.
//! A facet table links to `job` and uses that link (`job_id`) as its whole identity.

use crate::core::app::App;
use crate::core::{Error, Result};
use crate::pg::quote_ident;
use serde_json::{Map, Value};

/// Writes `fields` into the row of `facet_table` for job `code`: updates the listed
/// columns when the row exists (others are left alone), inserts it otherwise. Its own
/// statement, outside any job transaction, like rex's `/merge(...)`. Values are JSON
/// and converted to the columns' types by PostgreSQL (`jsonb_populate_record`).
pub fn update_facet(
    app: &App,
    facet_table: &str,
    code: i64,
    fields: &[(&str, Value)],
) -> Result<()> {
    let mut db = app.db.connect()?;
    update_facet_with(&mut db, facet_table, code, fields)
}

/// [`update_facet`] on an open connection.
pub fn update_facet_with(
    db: &mut impl postgres::GenericClient,
    facet_table: &str,
    code: i64,
    fields: &[(&str, Value)],
) -> Result<()> {
    let table = quote_ident(facet_table);
    let cols: Vec<String> = fields.iter().map(|(name, _)| quote_ident(name)).collect();
    let values: Map<String, Value> = fields
        .iter()
        .map(|(name, value)| (name.to_string(), value.clone()))
        .collect();
    let select: String = cols.iter().map(|c| format!(", r.{c}")).collect();
    let update = if cols.is_empty() {
        "NOTHING".to_string()
    } else {
        let sets: Vec<String> = cols.iter().map(|c| format!("{c} = EXCLUDED.{c}")).collect();
        format!("UPDATE SET {}", sets.join(", "))
    };
    let names: String = cols.iter().map(|c| format!(", {c}")).collect();
    let sql = format!(
        "INSERT INTO {table} (\"job_id\"{names}) \
         SELECT j.id{select} FROM job j, jsonb_populate_record(NULL::{table}, $2::jsonb) r \
         WHERE j.code = $1 \
         ON CONFLICT (\"job_id\") DO {update}"
    );
    let n = db
        .execute(&sql, &[&code, &Value::Object(values)])
        .map_err(|e| Error::from(e).wrap_with("While updating job facet:", facet_table))?;
    if n == 0 && !cols.is_empty() {
        return Err(
            Error::with("Job not found:", code).wrap_with("While updating job facet:", facet_table)
        );
    }
    Ok(())
}
