//! `rexmart_inventory` in the management (application) database: one row per mart,
//! its status moving through the pipeline's phases. Plain SQL, one statement each
//! (the insert: one transaction), values bound as parameters.

use crate::core::{Error, Result};
use chrono::NaiveDateTime;
use postgres::{Client, GenericClient, Row};

/// The pipeline phase a mart is in (the `status` column's enum labels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Creation,
    Deployment,
    PostDeployment,
    Assessment,
    PostAssessment,
    Processing,
    Complete,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Creation => "creation",
            Status::Deployment => "deployment",
            Status::PostDeployment => "post_deployment",
            Status::Assessment => "assessment",
            Status::PostAssessment => "post_assessment",
            Status::Processing => "processing",
            Status::Complete => "complete",
        }
    }
}

/// An inventory record (rex.mart's `Mart`).
#[derive(Clone, Debug, PartialEq)]
pub struct Mart {
    pub code: i64,
    pub definition: String,
    pub owner: String,
    pub name: String,
    pub status: String,
    pub date_creation_started: NaiveDateTime,
    pub date_creation_completed: Option<NaiveDateTime>,
    pub size: Option<i64>,
    pub pinned: bool,
}

impl Mart {
    /// rex's `repr`: `Mart(code=1, definition='empty', owner='test')`.
    pub fn py_repr(&self) -> String {
        use crate::core::repr::py_str_repr;
        format!(
            "Mart(code={}, definition={}, owner={})",
            self.code,
            py_str_repr(&self.definition),
            py_str_repr(&self.owner)
        )
    }

    fn from_row(row: &Row) -> Mart {
        Mart {
            code: row.get("code"),
            definition: row.get("definition"),
            owner: row.get("owner"),
            name: row.get("name"),
            status: row.get("status"),
            date_creation_started: row.get("date_creation_started"),
            date_creation_completed: row.get("date_creation_completed"),
            size: row.get("size"),
            pinned: row.get("pinned"),
        }
    }
}

const COLUMNS: &str = "code, definition, owner, name, status::text AS status, \
    date_creation_started, date_creation_completed, size, pinned";

/// The advisory lock taken around an inventory insert (an arbitrary constant).
const INSERT_LOCK: i64 = 0x7265_786d_6172_7401; // "rexmart" + 1

/// Inserts the record of a mart being created (`name` = `TBD`); returns its code.
/// The code is `max(code) + 1` (rex.deploy's `offset` identity, a trigger), so two
/// creators inserting at once would compute the same one: a transaction-level
/// advisory lock makes the inserts of every worker on the database take turns.
/// `hold(code)` runs before the commit, so whatever it takes (the creator's
/// [`super::cluster::MartLock`]) is held before anyone can see the record.
pub fn insert(
    db: &mut Client,
    definition: &str,
    owner: &str,
    started: NaiveDateTime,
    hold: impl FnOnce(i64) -> Result<()>,
) -> Result<i64> {
    let wrap = |e: Error| e.wrap("While creating inventory record");
    let mut tx = db.transaction().map_err(|e| wrap(e.into()))?;
    let row = tx
        .batch_execute(&format!("SELECT pg_advisory_xact_lock({INSERT_LOCK})"))
        .and_then(|_| {
            tx.query_one(
                "INSERT INTO rexmart_inventory (definition, owner, name, status, date_creation_started) \
                 VALUES ($1, $2, 'TBD', 'creation', $3) RETURNING code",
                &[&definition, &owner, &started],
            )
        })
        .map_err(|e| wrap(e.into()))?;
    let code: i64 = row.get(0);
    hold(code)?;
    tx.commit().map_err(|e| wrap(e.into()))?;
    Ok(code)
}

/// Whether the database has an inventory (rex.mart's facts are deployed).
pub fn is_deployed(db: &mut Client) -> Result<bool> {
    let row = db.query_one("SELECT to_regclass('rexmart_inventory') IS NOT NULL", &[])?;
    Ok(row.get(0))
}

/// Records whose database is not among `existing`, by code: `(code, name)`.
pub fn missing_databases(
    db: &mut Client,
    existing: &std::collections::HashSet<String>,
) -> Result<Vec<(i64, String)>> {
    Ok(db
        .query(
            "SELECT code, name FROM rexmart_inventory ORDER BY code",
            &[],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .filter(|(_, name): &(i64, String)| !existing.contains(name))
        .collect())
}

pub fn set_status(db: &mut Client, code: i64, status: Status) -> Result<()> {
    // The status is one of our own constants and the code a number, so both can be
    // written into the text: one round trip (simple protocol) instead of a prepare
    // and an execute, six times per mart.
    let sql = format!(
        "UPDATE rexmart_inventory SET status = '{}' WHERE code = {code}",
        status.name()
    );
    db.batch_execute(&sql)
        .map_err(|e| Error::from(e).wrap_with("While updating inventory status:", status.name()))?;
    Ok(())
}

pub fn set_name(db: &mut impl GenericClient, code: i64, name: &str) -> Result<()> {
    db.execute(
        "UPDATE rexmart_inventory SET name = $2 WHERE code = $1",
        &[&code, &name],
    )
    .map_err(|e| Error::from(e).wrap_with("While updating inventory name:", name))?;
    Ok(())
}

pub fn set_completion(
    db: &mut Client,
    code: i64,
    completed: NaiveDateTime,
    size: Option<i64>,
) -> Result<()> {
    db.execute(
        "UPDATE rexmart_inventory SET date_creation_completed = $2, size = $3 WHERE code = $1",
        &[&code, &completed, &size],
    )
    .map_err(|e| Error::from(e).wrap("While updating inventory date"))?;
    Ok(())
}

pub fn get(db: &mut Client, code: i64) -> Result<Option<Mart>> {
    let sql = format!("SELECT {COLUMNS} FROM rexmart_inventory WHERE code = $1");
    Ok(db.query_opt(&sql, &[&code])?.as_ref().map(Mart::from_row))
}

/// Records whose database is named `name`.
pub fn with_name(db: &mut Client, name: &str) -> Result<Vec<Mart>> {
    let sql = format!("SELECT {COLUMNS} FROM rexmart_inventory WHERE name = $1 ORDER BY code");
    Ok(db
        .query(&sql, &[&name])?
        .iter()
        .map(Mart::from_row)
        .collect())
}

/// Marts of every status, optionally of one owner, by code.
pub fn list(db: &mut Client, owner: Option<&str>) -> Result<Vec<Mart>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM rexmart_inventory WHERE ($1::text IS NULL OR owner = $1) ORDER BY code"
    );
    Ok(db
        .query(&sql, &[&owner])?
        .iter()
        .map(Mart::from_row)
        .collect())
}

/// Complete marts of an owner (of one definition, or all), oldest completion first.
pub fn complete(db: &mut Client, owner: &str, definition: Option<&str>) -> Result<Vec<Mart>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM rexmart_inventory WHERE owner = $1 AND status = 'complete' \
         AND ($2::text IS NULL OR definition = $2) ORDER BY date_creation_completed, code"
    );
    Ok(db
        .query(&sql, &[&owner, &definition])?
        .iter()
        .map(Mart::from_row)
        .collect())
}

pub fn delete(db: &mut Client, code: i64) -> Result<()> {
    db.execute("DELETE FROM rexmart_inventory WHERE code = $1", &[&code])?;
    Ok(())
}

/// Renders marts as an aligned text table, one header line and one line per mart.
pub fn table(marts: &[Mart]) -> String {
    let header = [
        "code",
        "definition",
        "owner",
        "name",
        "status",
        "started",
        "completed",
        "size",
        "pinned",
    ];
    let mut cells: Vec<Vec<String>> = Vec::new();
    for m in marts {
        cells.push(vec![
            m.code.to_string(),
            m.definition.clone(),
            m.owner.clone(),
            m.name.clone(),
            m.status.clone(),
            py_datetime(&m.date_creation_started),
            m.date_creation_completed
                .as_ref()
                .map(py_datetime)
                .unwrap_or_default(),
            m.size.map(|s| s.to_string()).unwrap_or_default(),
            if m.pinned { "yes" } else { "no" }.to_string(),
        ]);
    }
    crate::core::table::render(&header, &cells)
}

/// Python's `str(datetime)`: microseconds only when not zero.
pub fn py_datetime(dt: &NaiveDateTime) -> String {
    use chrono::Timelike;
    if dt.nanosecond() / 1000 == 0 {
        dt.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        dt.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    }
}

/// Python's `str(timedelta)`: `H:MM:SS[.ffffff]`, with `N day(s), ` when ≥ 1 day.
pub fn py_timedelta(d: chrono::TimeDelta) -> String {
    let total_us = d.num_microseconds().unwrap_or(i64::MAX);
    let days = total_us.div_euclid(86_400_000_000);
    let rest = total_us.rem_euclid(86_400_000_000);
    let (secs, us) = (rest / 1_000_000, rest % 1_000_000);
    let mut out = String::new();
    if days != 0 {
        out.push_str(&format!(
            "{days} day{}, ",
            if days.abs() == 1 { "" } else { "s" }
        ));
    }
    out.push_str(&format!(
        "{}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    ));
    if us != 0 {
        out.push_str(&format!(".{us:06}"));
    }
    out
}

/// Now, local time, to the microsecond (what Python's `datetime.now()` stores).
pub fn now() -> NaiveDateTime {
    use chrono::Timelike;
    let t = chrono::Local::now().naive_local();
    t.with_nanosecond(t.nanosecond() / 1000 * 1000).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_time_formats() {
        let dt =
            NaiveDateTime::parse_from_str("2024-05-01 12:34:56.789012", "%Y-%m-%d %H:%M:%S%.f")
                .unwrap();
        assert_eq!(py_datetime(&dt), "2024-05-01 12:34:56.789012");
        let whole =
            NaiveDateTime::parse_from_str("2024-05-01 12:34:56", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(py_datetime(&whole), "2024-05-01 12:34:56");
        assert_eq!(
            py_timedelta(chrono::TimeDelta::microseconds(512_110)),
            "0:00:00.512110"
        );
        assert_eq!(
            py_timedelta(chrono::TimeDelta::seconds(90_061)),
            "1 day, 1:01:01"
        );
        assert_eq!(py_timedelta(chrono::TimeDelta::seconds(3600)), "1:00:00");
    }
}
