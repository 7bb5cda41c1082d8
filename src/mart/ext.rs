//! The one place mart calls rex.deploy and HTSQL, which other modules provide. Mart
//! passes its own value types; this adapter converts them, so the pipeline does not
//! change when those modules' APIs do.

use super::params::ParamValue;
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
    let values: Vec<(String, crate::htsql::Value)> = params
        .iter()
        .map(|(k, v)| (k.clone(), htsql_value(v)))
        .collect();
    let refs: Vec<(&str, crate::htsql::Value)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    crate::htsql::produce_etl(mart, rexdb, statement, &refs).map(|_| ())
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
