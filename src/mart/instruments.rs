//! The application's RIOS storage as rex.mart reads it: instruments, their versions
//! (RIOS instrument and calculation set JSON), the forms and SMS interactions that
//! present them, and assessments. The tables are the ones RexDB's instrument, forms
//! and mobile packages deploy (`instrument`, `instrumentversion`, `assessment`,
//! `channel`, `form`, `interaction`); they are read with plain SQL on the
//! application database, as those packages' storage implementations do.

use crate::core::{Error, Result};
use crate::deploy::names::mangle1;
use postgres::Client;
use serde_json::Value as Json;

/// The column a `link: <table>` fact makes.
fn link(table: &str) -> String {
    mangle1(table, Some("id"))
}

/// One version of an instrument.
#[derive(Clone, Debug)]
pub struct InstrumentVersion {
    pub uid: String,
    /// The RIOS instrument definition.
    pub definition: Json,
    /// The RIOS calculation set, when the version has one.
    pub calculations: Option<Json>,
}

/// The codes of the instruments `@ALL` stands for: every instrument that has a
/// version, in `uid` order. (The instrument demo's storage, which the rex.mart demo
/// runs on, lists instruments whatever their status, so neither does this.)
pub fn all_instrument_codes(db: &mut Client) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT i.code FROM instrument i \
         WHERE EXISTS (SELECT 1 FROM instrumentversion v WHERE v.{} = i.id) \
         ORDER BY i.uid",
        link("instrument")
    );
    Ok(db.query(&sql, &[])?.iter().map(|r| r.get(0)).collect())
}

/// A stored JSON document. Documents written in YAML's flow style (single-quoted
/// strings, as some of RexDB's demo data is) are read too, as RexDB's storage did.
fn parse_json(text: &str, what: &str, uid: &str) -> Result<Json> {
    serde_json::from_str(text).or_else(|e| {
        crate::core::yaml::load_str(text, uid)
            .map(|node| node.to_json())
            .map_err(|_| Error::new(format!("The {what} of \"{uid}\" is not valid JSON: {e}")))
    })
}

/// The versions of the instrument `uid`, oldest first; `None` when there is no such
/// instrument.
pub fn versions(db: &mut Client, uid: &str) -> Result<Option<Vec<InstrumentVersion>>> {
    let found = db.query("SELECT id FROM instrument WHERE uid = $1", &[&uid])?;
    let Some(row) = found.first() else {
        return Ok(None);
    };
    let id: i32 = row.get(0);
    let sql = format!(
        "SELECT uid, definition, calculation_json::text FROM instrumentversion \
         WHERE {} = $1 ORDER BY version, uid",
        link("instrument")
    );
    let mut out = Vec::new();
    for r in db.query(&sql, &[&id])? {
        let uid: String = r.get(0);
        let definition = parse_json(r.get(1), "InstrumentVersion definition", &uid)?;
        let calculations = match r.get::<_, Option<String>>(2) {
            Some(text) => Some(parse_json(&text, "CalculationSet", &uid)?),
            None => None,
        }
        .filter(|c| !c.is_null());
        out.push(InstrumentVersion {
            uid,
            definition,
            calculations,
        });
    }
    Ok(Some(out))
}

/// The presentations of a version: `(kind, channel, configuration)` with kind
/// `form` (web forms) or `sms` (interactions), in channel order.
pub fn presentations(db: &mut Client, version_uid: &str) -> Result<Vec<(String, String, Json)>> {
    let mut out = Vec::new();
    for (kind, table) in [("form", "form"), ("sms", "interaction")] {
        let sql = format!(
            "SELECT c.uid, t.uid, t.configuration FROM {table} t \
             JOIN channel c ON c.id = t.{} \
             JOIN instrumentversion v ON v.id = t.{} \
             WHERE v.uid = $1 ORDER BY t.id",
            link("channel"),
            link("instrumentversion")
        );
        for r in db.query(&sql, &[&version_uid])? {
            let uid: String = r.get(1);
            let config = parse_json(r.get(2), "configuration", &uid)?;
            out.push((kind.to_string(), r.get(0), config));
        }
    }
    Ok(out)
}

/// One stored assessment: its version and its RIOS assessment document (`None`
/// when the data is empty).
pub struct StoredAssessment {
    pub uid: String,
    pub instrument_version_uid: String,
    pub data: Option<Json>,
}

/// The assessments `uids` names, in `uid` order (rex's `bulk_retrieve`).
pub fn assessments(db: &mut Client, uids: &[String]) -> Result<Vec<StoredAssessment>> {
    let sql = format!(
        "SELECT a.uid, v.uid, a.data FROM assessment a \
         JOIN instrumentversion v ON v.id = a.{} \
         WHERE a.uid = ANY($1) ORDER BY a.uid",
        link("instrumentversion")
    );
    let mut out = Vec::new();
    for r in db.query(&sql, &[&uids])? {
        let uid: String = r.get(0);
        let text: String = r.get(2);
        let data = if text.trim().is_empty() {
            None
        } else {
            Some(parse_json(&text, "data of Assessment", &uid)?)
                .filter(|d| !d.as_object().is_some_and(serde_json::Map::is_empty) && !d.is_null())
        };
        out.push(StoredAssessment {
            uid,
            instrument_version_uid: r.get(1),
            data,
        });
    }
    Ok(out)
}
