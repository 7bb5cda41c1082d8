//! The one place mart calls rex.deploy and HTSQL, which other modules provide. Mart
//! passes its own value types; this adapter converts them, so the pipeline does not
//! change when those modules' APIs do.

use super::fields::FieldValue;
use super::params::ParamValue;
use super::tables::SelectorField;
use crate::core::yaml::Node;
use crate::core::Result;
use postgres::Client;
use std::path::Path;

/// Checks rex.deploy facts without applying them (definition validation).
pub fn validate_deploy(facts: &Node) -> Result<()> {
    crate::deploy::validate(facts)
}

/// Applies rex.deploy facts to the mart database; relative `data:` paths resolve
/// against `base_dir`.
pub fn deploy_facts(mart: &mut Client, facts: &Node, base_dir: &Path) -> Result<()> {
    crate::deploy::deploy(mart, facts, base_dir)
}

/// Runs one HTSQL ETL statement on the mart; `/:rexdb` reads from `rexdb`.
pub fn produce_htsql(
    mart: &mut Client,
    rexdb: &mut Client,
    statement: &str,
    params: &[(String, ParamValue)],
) -> Result<()> {
    let values = htsql_params(params);
    crate::htsql::produce_etl(mart, rexdb, statement, &refs(&values)).map(|_| ())
}

/// The fields an assessment selector produces (rex.db's `analyze()`), typed as
/// instrument field types; `/:rexdb` binds against `rexdb`.
pub fn selector_fields(
    mart: &mut Client,
    rexdb: &mut Client,
    statement: &str,
    params: &[(String, ParamValue)],
) -> Result<Vec<SelectorField>> {
    use crate::htsql::Domain as D;
    let values = htsql_params(params);
    let product = crate::htsql::analyze(mart, Some(rexdb), statement, &refs(&values))?;
    let mut out = Vec::new();
    for meta in product.fields {
        let (base, enumerations) = match &meta.domain {
            D::Boolean => ("boolean", Vec::new()),
            D::Integer => ("integer", Vec::new()),
            D::Float | D::Decimal => ("float", Vec::new()),
            D::Enum(_, labels) => ("enumeration", labels.clone()),
            D::Date => ("date", Vec::new()),
            D::Time => ("time", Vec::new()),
            D::DateTime => ("dateTime", Vec::new()),
            D::Json => ("json", Vec::new()),
            D::Text | D::Opaque | D::Identity(_) | D::Untyped => ("text", Vec::new()),
            other => {
                return Err(crate::core::Error::new(format!(
                    "Cannot handle selector field of type \"{other}\""
                )))
            }
        };
        out.push(SelectorField {
            tag: meta.tag,
            header: meta.header,
            base: base.to_string(),
            enumerations,
        });
    }
    Ok(out)
}

/// The rows an assessment selector produces, each field's value as a field value
/// (identities in their HTSQL text form).
pub fn selector_rows(
    mart: &mut Client,
    rexdb: &mut Client,
    statement: &str,
    params: &[(String, ParamValue)],
) -> Result<Vec<Vec<(String, FieldValue)>>> {
    use crate::htsql::Value as H;
    let values = htsql_params(params);
    let product = crate::htsql::produce_etl(mart, rexdb, statement, &refs(&values))?;
    let records: Vec<&crate::htsql::Record> = match &product.data {
        H::List(items) => items.iter().filter_map(H::as_record).collect(),
        H::Record(r) => vec![r],
        _ => Vec::new(),
    };
    Ok(records
        .iter()
        .map(|r| {
            r.fields
                .iter()
                .map(|(k, v)| (k.clone(), field_value(v)))
                .collect()
        })
        .collect())
}

fn field_value(v: &crate::htsql::Value) -> FieldValue {
    use crate::htsql::Value as H;
    match v {
        H::Null => FieldValue::Null,
        H::Bool(b) => FieldValue::Bool(*b),
        H::Int(i) => FieldValue::Int(*i),
        H::Float(f) => FieldValue::Float(*f),
        H::Decimal(d) => FieldValue::Decimal(d.clone()),
        H::Text(s) => FieldValue::Text(s.clone()),
        H::Json(j) => super::tables::field_value(j),
        H::Date(d) => FieldValue::Date(*d),
        H::Time(t) => FieldValue::Time(*t),
        H::DateTime(t) => FieldValue::DateTime(*t),
        H::Identity(id) => FieldValue::Text(id.to_string()),
        H::Record(_) | H::List(_) => FieldValue::Other,
    }
}

fn htsql_params(params: &[(String, ParamValue)]) -> Vec<(String, crate::htsql::Value)> {
    params
        .iter()
        .map(|(k, v)| (k.clone(), htsql_value(v)))
        .collect()
}

fn refs(values: &[(String, crate::htsql::Value)]) -> Vec<(&str, crate::htsql::Value)> {
    values
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect()
}

/// A definition or script parameter as an HTSQL `$parameter`.
fn htsql_value(v: &ParamValue) -> crate::htsql::Value {
    use crate::htsql::Value as H;
    match v {
        ParamValue::Null => H::Null,
        ParamValue::Bool(b) => H::Bool(*b),
        ParamValue::Int(i) => H::Int(*i),
        ParamValue::Float(f) => H::Float(*f),
        ParamValue::Text(s) => H::Text(s.clone()),
        ParamValue::Date(d) => H::Date(*d),
        ParamValue::Time(t) => H::Time(*t),
        ParamValue::DateTime(t) => H::DateTime(*t),
        ParamValue::List(items) => H::List(items.iter().map(htsql_value).collect()),
        ParamValue::Map(_) => H::Json(param_json(v)),
    }
}

/// Plain data of a parameter, for mappings that HTSQL takes as JSON.
fn param_json(v: &ParamValue) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        ParamValue::Null => J::Null,
        ParamValue::Bool(b) => J::Bool(*b),
        ParamValue::Int(i) => J::from(*i),
        ParamValue::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        ParamValue::Text(s) => J::String(s.clone()),
        ParamValue::Date(d) => J::String(d.to_string()),
        ParamValue::Time(t) => J::String(t.to_string()),
        ParamValue::DateTime(t) => J::String(t.to_string()),
        ParamValue::List(items) => J::Array(items.iter().map(param_json).collect()),
        ParamValue::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), param_json(v)))
                .collect(),
        ),
    }
}
