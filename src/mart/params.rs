//! Definition parameters and the values ETL scripts receive: the seven rex.mart data
//! types, their validators (exact rex texts), Python reprs for the `Parameters:` log
//! line, and `validate_parameters` (the creator's pre-flight step).

use crate::core::repr::{py_float_repr, py_str_repr};
use crate::core::yaml::{Node, NodeValue};
use crate::core::{Error, Result};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// `DataTypeVal`'s choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataType {
    Text,
    Integer,
    Float,
    Boolean,
    Date,
    Time,
    DateTime,
}

impl DataType {
    pub const NAMES: [&'static str; 7] = [
        "text", "integer", "float", "boolean", "date", "time", "dateTime",
    ];

    pub fn from_name(name: &str) -> Option<DataType> {
        Some(match name {
            "text" => DataType::Text,
            "integer" => DataType::Integer,
            "float" => DataType::Float,
            "boolean" => DataType::Boolean,
            "date" => DataType::Date,
            "time" => DataType::Time,
            "dateTime" => DataType::DateTime,
            _ => return None,
        })
    }

    /// Checks and converts a value, failing with the type validator's rex text.
    pub fn coerce(self, node: &Node) -> Result<ParamValue> {
        use crate::core::validate::{BoolVal, FloatVal, IntVal, StrVal, Validator};
        let fail = |msg: &str| Error::new(msg).wrap_with("Got:", node.py_repr());
        Ok(match self {
            DataType::Text => ParamValue::from_node(&StrVal::new().validate(node)?),
            DataType::Integer => ParamValue::from_node(&IntVal::new().validate(node)?),
            DataType::Float => ParamValue::from_node(&FloatVal.validate(node)?),
            DataType::Boolean => ParamValue::from_node(&BoolVal.validate(node)?),
            DataType::Date => node
                .as_str()
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .map(ParamValue::Date)
                .ok_or_else(|| fail("Expected a valid date in the format YYYY-MM-DD"))?,
            DataType::Time => node
                .as_str()
                .and_then(|s| NaiveTime::parse_from_str(s, "%H:%M:%S%.f").ok())
                .map(ParamValue::Time)
                .ok_or_else(|| fail("Expected a valid time in the format HH:MM:SS[.FFFFFF]"))?,
            DataType::DateTime => node
                .as_str()
                .and_then(parse_datetime)
                .map(ParamValue::DateTime)
                .ok_or_else(|| {
                    fail("Expected a valid date/time in the format YYYY-MM-DDTHH:MM:SS[.FFFFFF][+-HH:MM]")
                })?,
        })
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.FFFFFF][+-HH:MM]`; an offset is converted to UTC wall time
/// so the naive value stays comparable.
fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    if let Ok(dt) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(dt);
    }
    chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%:z")
        .ok()
        .map(|dt| dt.naive_utc())
}

/// A parameter value as scripts see it.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Date(NaiveDate),
    Time(NaiveTime),
    DateTime(NaiveDateTime),
    /// A list or mapping given as a script parameter (passed through as data).
    List(Vec<ParamValue>),
    Map(Vec<(String, ParamValue)>),
}

impl ParamValue {
    /// Converts plain data (a script's `parameters:` or a payload's values).
    pub fn from_node(node: &Node) -> ParamValue {
        match &node.value {
            NodeValue::Null => ParamValue::Null,
            NodeValue::Bool(b) => ParamValue::Bool(*b),
            NodeValue::Int(i) => ParamValue::Int(*i),
            NodeValue::Float(f) => ParamValue::Float(*f),
            NodeValue::Str(s) => ParamValue::Text(s.clone()),
            NodeValue::Seq(items) => {
                ParamValue::List(items.iter().map(ParamValue::from_node).collect())
            }
            NodeValue::Map(entries) => ParamValue::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), ParamValue::from_node(v)))
                    .collect(),
            ),
        }
    }

    /// Python's `repr` of the value (`'text'`, `42`, `True`, `datetime.date(2020, 1, 2)`).
    pub fn py_repr(&self) -> String {
        match self {
            ParamValue::Null => "None".into(),
            ParamValue::Bool(true) => "True".into(),
            ParamValue::Bool(false) => "False".into(),
            ParamValue::Int(i) => i.to_string(),
            ParamValue::Float(f) => py_float_repr(*f),
            ParamValue::Text(s) => py_str_repr(s),
            ParamValue::Date(d) => format!(
                "datetime.date({}, {}, {})",
                d.year_ce().1,
                d.month0() + 1,
                d.day0() + 1
            ),
            ParamValue::Time(t) => format!("datetime.time({})", time_args(t)),
            ParamValue::DateTime(dt) => {
                let d = dt.date();
                format!(
                    "datetime.datetime({}, {}, {}, {})",
                    d.year_ce().1,
                    d.month0() + 1,
                    d.day0() + 1,
                    time_args(&dt.time())
                )
            }
            ParamValue::List(items) => {
                let parts: Vec<String> = items.iter().map(ParamValue::py_repr).collect();
                format!("[{}]", parts.join(", "))
            }
            ParamValue::Map(entries) => {
                let parts: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", py_str_repr(k), v.py_repr()))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
        }
    }

    /// The SQL literal psycopg2 substitutes for `%(name)s`.
    pub fn sql_literal(&self) -> Result<String> {
        Ok(match self {
            ParamValue::Null => "NULL".into(),
            ParamValue::Bool(b) => if *b { "true" } else { "false" }.into(),
            ParamValue::Int(i) => i.to_string(),
            ParamValue::Float(f) if f.is_finite() => py_float_repr(*f),
            ParamValue::Float(f) => format!(
                "'{}'::float",
                py_float_repr(*f)
                    .replace("nan", "NaN")
                    .replace("inf", "Infinity")
            ),
            ParamValue::Text(s) => quote_literal(s),
            ParamValue::Date(d) => format!("'{}'::date", d.format("%Y-%m-%d")),
            ParamValue::Time(t) => format!("'{}'::time", t.format("%H:%M:%S%.f")),
            ParamValue::DateTime(dt) => {
                format!("'{}'::timestamp", dt.format("%Y-%m-%dT%H:%M:%S%.f"))
            }
            ParamValue::List(items) => {
                let parts = items
                    .iter()
                    .map(ParamValue::sql_literal)
                    .collect::<Result<Vec<_>>>()?;
                format!("ARRAY[{}]", parts.join(","))
            }
            ParamValue::Map(_) => return Err(Error::new("can't adapt type 'dict'")),
        })
    }
}

use chrono::Datelike;

/// Python's `time`/`datetime` repr arguments: trailing zero seconds and microseconds
/// are left out.
fn time_args(t: &NaiveTime) -> String {
    let us = t.nanosecond() / 1000;
    let mut parts = vec![t.hour().to_string(), t.minute().to_string()];
    if t.second() != 0 || us != 0 {
        parts.push(t.second().to_string());
    }
    if us != 0 {
        parts.push(us.to_string());
    }
    parts.join(", ")
}

/// A standard SQL string literal (`standard_conforming_strings` is on).
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// One declared parameter of a definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    pub name: String,
    pub data_type: DataType,
    /// `None`: required. `Some(Null)`: optional without a value.
    pub default: Option<ParamValue>,
}

/// Validated parameters in definition order.
pub type Params = Vec<(String, ParamValue)>;

/// rex.mart's `validate_parameters`: each declared parameter in order (given → type
/// checked, else its default, else `Missing required parameter`), then leftovers.
pub fn validate_parameters(declared: &[Parameter], given: &[(String, Node)]) -> Result<Params> {
    let mut out = Vec::with_capacity(declared.len());
    for p in declared {
        let value = match given.iter().find(|(k, _)| *k == p.name) {
            Some((_, v)) => p
                .data_type
                .coerce(v)
                .map_err(|e| e.wrap_with("While validating parameter:", &p.name))?,
            None => match &p.default {
                Some(d) => d.clone(),
                None => {
                    return Err(Error::new(format!(
                        "Missing required parameter \"{}\"",
                        p.name
                    )))
                }
            },
        };
        out.push((p.name.clone(), value));
    }
    let unknown: Vec<&str> = given
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !declared.iter().any(|p| p.name == *k))
        .collect();
    if !unknown.is_empty() {
        return Err(Error::new(format!(
            "Unknown parameters: {}",
            unknown.join(", ")
        )));
    }
    Ok(out)
}

/// Command-line parameters, `NAME=VALUE` each, as string values (typed later
/// against the definition, like rex's `--param`).
pub fn parse_assignments(raw: &[String]) -> Result<Vec<(String, Node)>> {
    raw.iter()
        .map(|p| {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| Error::with("Expected a parameter as NAME=VALUE:", p))?;
            Ok((k.to_string(), Node::new(NodeValue::Str(v.to_string()))))
        })
        .collect()
}

/// The `Parameters: foo='hello', bar=42` log line, or `None` when there are none.
pub fn parameters_log_line(params: &Params) -> Option<String> {
    if params.is_empty() {
        return None;
    }
    let parts: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", v.py_repr()))
        .collect();
    Some(format!("Parameters: {}", parts.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(v: serde_json::Value) -> Node {
        Node::from_json(&v)
    }

    fn declared() -> Vec<Parameter> {
        vec![
            Parameter {
                name: "foo".into(),
                data_type: DataType::Text,
                default: Some(ParamValue::Text("somefoo".into())),
            },
            Parameter {
                name: "bar".into(),
                data_type: DataType::Integer,
                default: None,
            },
        ]
    }

    #[test]
    fn validates_in_definition_order_with_rex_texts() {
        let given = vec![
            ("bar".to_string(), node(json!(42))),
            ("foo".to_string(), node(json!("hello"))),
        ];
        let p = validate_parameters(&declared(), &given).unwrap();
        assert_eq!(
            parameters_log_line(&p).unwrap(),
            "Parameters: foo='hello', bar=42"
        );
        let err = validate_parameters(&declared(), &[]).unwrap_err();
        assert_eq!(err.to_string(), "Missing required parameter \"bar\"");
        let err =
            validate_parameters(&declared(), &[("bar".into(), node(json!("blah")))]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Expected an integer\nGot:\n    'blah'\nWhile validating parameter:\n    bar"
        );
        let given = vec![
            ("bar".into(), node(json!("7"))),
            ("x".into(), node(json!(1))),
            ("y".into(), node(json!(1))),
        ];
        assert_eq!(
            validate_parameters(&declared(), &given)
                .unwrap_err()
                .to_string(),
            "Unknown parameters: x, y"
        );
    }

    #[test]
    fn dates_and_reprs() {
        let d = DataType::Date.coerce(&node(json!("2020-01-02"))).unwrap();
        assert_eq!(d.py_repr(), "datetime.date(2020, 1, 2)");
        assert_eq!(d.sql_literal().unwrap(), "'2020-01-02'::date");
        let t = DataType::Time.coerce(&node(json!("12:30:00"))).unwrap();
        assert_eq!(t.py_repr(), "datetime.time(12, 30)");
        let dt = DataType::DateTime
            .coerce(&node(json!("2020-01-02T03:04:05.5")))
            .unwrap();
        assert_eq!(
            dt.py_repr(),
            "datetime.datetime(2020, 1, 2, 3, 4, 5, 500000)"
        );
        assert_eq!(
            DataType::Date
                .coerce(&node(json!("nope")))
                .unwrap_err()
                .to_string(),
            "Expected a valid date in the format YYYY-MM-DD\nGot:\n    'nope'"
        );
        assert_eq!(
            ParamValue::Text("it's".into()).sql_literal().unwrap(),
            "'it''s'"
        );
        assert_eq!(
            DataType::Boolean.coerce(&node(json!("true"))).unwrap(),
            ParamValue::Bool(true)
        );
    }
}
