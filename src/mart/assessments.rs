//! The assessment phase of mart creation (rex.mart's `AssessmentLoader`): for each
//! assessment definition, its tables ([`PrimaryTable`]) are deployed into the mart,
//! the selector picks the assessments (HTSQL on the mart, `/:rexdb` reading the
//! application database), their documents are loaded into the tables, and the
//! post-load calculations run.

use super::definition::AssessmentDefinitionVal;
use super::ext;
use super::fields::FieldValue;
use super::instruments;
use super::params::ParamValue;
use super::settings::MartSettings;
use super::tables::{AssessmentDef, ChildKind, PortData, PrimaryTable, Row};
use crate::core::validate::Validator;
use crate::core::yaml::{Node, NodeValue};
use crate::core::{Error, Result};
use crate::deploy::names::{ident, mangle1};
use postgres::Client;
use serde_json::Value as Json;

/// Assessments retrieved and inserted per batch (rex's batch size).
const BATCH: usize = 100;

/// The assessment definitions a `dynamic:` item stands for: the built-in `rexdb`
/// definer's rows of the application database, validated as rex validates them.
pub fn dynamic(
    definer: &str,
    app: &mut Client,
    definition: &str,
    settings: &MartSettings,
) -> Result<Vec<AssessmentDef>> {
    if definer != "rexdb" {
        return Err(Error::new(format!(
            "Definer \"{definer}\" cannot be used to create Marts here: only the built-in \
             \"rexdb\" definer runs during creation"
        )));
    }
    let val = AssessmentDefinitionVal {
        max_name_length: settings.max_name_length,
    };
    super::definers::rexdb_assessments(app, definition)?
        .iter()
        .map(|node| AssessmentDef::from_node(&val.validate(node)?))
        .collect()
}

/// The tables of an assessment definition: its selector analyzed on `selector_db`
/// (`/:rexdb` on `app`) with `params`, its instruments read from `app`.
pub fn map_assessment(
    def: &AssessmentDef,
    selector_db: &mut Client,
    app: &mut Client,
    params: &[(String, ParamValue)],
    settings: &MartSettings,
) -> Result<PrimaryTable> {
    let selected = ext::selector_fields(selector_db, app, &def.selector, params)?;
    PrimaryTable::new(def, &selected, app, settings)
}

/// One assessment definition being loaded into a mart.
pub struct AssessmentLoader {
    pub table: PrimaryTable,
    /// Selector parameters: the selector's own, the creation's, `INSTRUMENT`.
    params: Vec<(String, ParamValue)>,
}

fn set(params: &mut Vec<(String, ParamValue)>, name: &str, value: ParamValue) {
    match params.iter_mut().find(|(k, _)| k == name) {
        Some(slot) => slot.1 = value,
        None => params.push((name.to_string(), value)),
    }
}

impl AssessmentLoader {
    /// Analyzes the selector (on `mart`, `/:rexdb` on `app`) and maps the
    /// definition's instruments into tables. `query_params` are the creation's
    /// (definition parameters, `OWNER`, `DEFINITION`).
    pub fn new(
        def: &AssessmentDef,
        mart: &mut Client,
        app: &mut Client,
        query_params: &[(String, ParamValue)],
        settings: &MartSettings,
    ) -> Result<AssessmentLoader> {
        let mut params: Vec<(String, ParamValue)> = def
            .selector_parameters
            .iter()
            .map(|(k, v)| (k.clone(), ParamValue::from_node(v)))
            .collect();
        for (k, v) in query_params {
            set(&mut params, k, v.clone());
        }
        let instruments = def
            .instruments
            .iter()
            .map(|i| ParamValue::Text(i.clone()))
            .collect();
        set(&mut params, "INSTRUMENT", ParamValue::List(instruments));
        let table = map_assessment(def, mart, app, &params, settings)?;
        Ok(AssessmentLoader { table, params })
    }

    /// The rex.deploy facts of the assessment's tables.
    pub fn deploy_facts(&self) -> Node {
        Node::new(NodeValue::Seq(self.table.deploy_facts()))
    }

    /// Runs the selector and loads the assessments it picks; returns how many
    /// were loaded (assessments without data are skipped).
    pub fn load(&self, mart: &mut Client, app: &mut Client) -> Result<usize> {
        let rows = ext::selector_rows(mart, app, &self.table.def.selector, &self.params)?;
        let mut writer = Writer::new(mart, &self.table)?;
        let mut loaded = 0;
        for batch in rows.chunks(BATCH) {
            let uid_of = |r: &Row| match r.iter().find(|(k, _)| k == "assessment_uid") {
                Some((_, FieldValue::Text(s))) => s.clone(),
                _ => String::new(),
            };
            let uids: Vec<String> = batch.iter().map(uid_of).collect();
            let mut tx = mart.transaction()?;
            for stored in instruments::assessments(app, &uids)? {
                let Some(doc) = &stored.data else { continue };
                let Some(selection) = batch.iter().find(|r| uid_of(r) == stored.uid) else {
                    continue;
                };
                let mut data =
                    self.table
                        .port_data(doc, &stored.instrument_version_uid, selection)?;
                data.row.extend([
                    (
                        "assessment_uid".into(),
                        FieldValue::Text(stored.uid.clone()),
                    ),
                    (
                        "instrument_version_uid".into(),
                        FieldValue::Text(stored.instrument_version_uid.clone()),
                    ),
                ]);
                writer.insert(&mut tx, data)?;
                loaded += 1;
            }
            tx.commit()?;
        }
        Ok(loaded)
    }

    /// Runs the post-load calculations (definition parameters and `INSTRUMENT`).
    pub fn calculate(&self, mart: &mut Client, app: &mut Client) -> Result<()> {
        for statement in self.table.calculation_statements() {
            ext::produce_htsql(mart, app, &statement, &self.params)?;
        }
        Ok(())
    }
}

/// Inserts the rows of assessments into the primary table and its children.
struct Writer {
    primary: String,
    /// `(parent table, link column, identity column of the parent)`.
    parents: Vec<(String, String, String)>,
    /// Columns holding JSON, by table.
    json_columns: Vec<(String, Vec<String>)>,
}

impl Writer {
    fn new(mart: &mut Client, table: &PrimaryTable) -> Result<Writer> {
        let mut parents = Vec::new();
        for parent in &table.def.parents {
            let key = identity_columns(mart, parent)?;
            let [column] = key.as_slice() else {
                return Err(Error::new(format!(
                    "Cannot link Assessments to \"{parent}\": its identity has {} columns; \
                     parental links need a table identified by one column",
                    key.len()
                )));
            };
            parents.push((parent.clone(), mangle1(parent, Some("id")), column.clone()));
        }
        let mut json_columns = Vec::new();
        let mut tables = vec![table.table_name().to_string()];
        tables.extend(table.children.iter().map(|(_, c)| c.table_name.clone()));
        for t in tables {
            let rows = mart.query(
                "SELECT attname::text FROM pg_attribute \
                 WHERE attrelid = $1::text::regclass AND atttypid IN ('json'::regtype, 'jsonb'::regtype)",
                &[&physical(&t)],
            )?;
            json_columns.push((t, rows.iter().map(|r| r.get(0)).collect()));
        }
        Ok(Writer {
            primary: table.table_name().to_string(),
            parents,
            json_columns,
        })
    }

    fn insert(&mut self, tx: &mut postgres::Transaction<'_>, data: PortData) -> Result<()> {
        let mut row = data.row;
        let mut extra = Vec::new();
        for (parent, link, column) in &self.parents {
            let pos = row.iter().position(|(c, _)| c == parent);
            let value = pos.map(|p| row.remove(p).1).unwrap_or(FieldValue::Null);
            let key = match &value {
                FieldValue::Text(s) => s.clone(),
                FieldValue::Int(i) => i.to_string(),
                _ => String::new(),
            };
            let sql = format!(
                "SELECT id FROM {} WHERE {}::text = $1",
                physical(parent),
                ident(column)
            );
            let found = tx.query(&sql, &[&key])?;
            let Some(id) = found.first().map(|r| r.get::<_, i32>(0)) else {
                return Err(Error::new(format!(
                    "Cannot find \"{key}\" in \"{parent}\" to link the Assessment to"
                )));
            };
            extra.push((link.clone(), Json::from(id)));
        }
        let id = self.insert_row(tx, &self.primary.clone(), &row, extra)?;
        let link = mangle1(&self.primary, Some("id"));
        for (table, kind, rows) in data.children {
            for (i, child) in rows.iter().enumerate() {
                let mut extra = vec![(link.clone(), Json::from(id))];
                if kind == ChildKind::RecordList {
                    extra.push((mangle1("record_seq", None), Json::from(i + 1)));
                }
                self.insert_row(tx, &table, child, extra)?;
            }
        }
        Ok(())
    }

    /// One row, its values converted by `json_populate_record` into the columns'
    /// types (enums, dates and JSON included); returns its `id`.
    fn insert_row(
        &self,
        tx: &mut postgres::Transaction<'_>,
        table: &str,
        row: &Row,
        extra: Vec<(String, Json)>,
    ) -> Result<i32> {
        let json_columns = self
            .json_columns
            .iter()
            .find(|(t, _)| t == table)
            .map_or(&[][..], |(_, c)| c.as_slice());
        let mut object = serde_json::Map::new();
        for (label, value) in row {
            let column = mangle1(label, None);
            let is_json = json_columns.contains(&column);
            object.insert(column, json_of(value, is_json));
        }
        object.extend(extra);
        let columns: Vec<String> = object.keys().map(|c| ident(c)).collect();
        let columns = columns.join(", ");
        let sql = format!(
            "INSERT INTO {t} ({columns}) SELECT {columns} \
             FROM json_populate_record(NULL::{t}, $1::text::json) RETURNING id",
            t = physical(table)
        );
        let text = Json::Object(object).to_string();
        let row = tx.query_one(&sql, &[&text])?;
        Ok(row.get(0))
    }
}

/// The quoted SQL name rex.deploy gives a table labelled `label`.
fn physical(label: &str) -> String {
    ident(&mangle1(label, None))
}

/// A column value as JSON for `json_populate_record`.
fn json_of(value: &FieldValue, is_json: bool) -> Json {
    match value {
        FieldValue::Null | FieldValue::Other => Json::Null,
        FieldValue::Bool(b) => Json::Bool(*b),
        FieldValue::Int(i) => Json::from(*i),
        FieldValue::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        FieldValue::Decimal(d) => Json::String(d.clone()),
        FieldValue::Text(s) if is_json => serde_json::from_str(s).unwrap_or(Json::Null),
        FieldValue::Text(s) => Json::String(s.clone()),
        FieldValue::Date(d) => Json::String(d.format("%Y-%m-%d").to_string()),
        FieldValue::Time(t) => Json::String(t.format("%H:%M:%S%.f").to_string()),
        FieldValue::DateTime(t) => Json::String(t.format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
        FieldValue::List(_) | FieldValue::Tuple(_) | FieldValue::Map(_) => {
            Json::String(value.to_json())
        }
    }
}

/// The columns of a table's primary key (its rex.deploy identity).
fn identity_columns(mart: &mut Client, table: &str) -> Result<Vec<String>> {
    let rows = mart.query(
        "SELECT a.attname::text FROM pg_constraint c \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) \
         WHERE c.conrelid = $1::text::regclass AND c.contype = 'p' \
         ORDER BY array_position(c.conkey, a.attnum)",
        &[&physical(table)],
    )?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
