//! Column types and values: the `type:` keywords of deploy.md §2.2, parsing of text
//! cells and YAML values by domain (with rex's messages), SQL literals (§2.3), the
//! text form kept in comments, and a canonical form to compare with stored rows.

use super::names::sql_string;
use super::yaml::{Node, NodeValue};
use crate::core::repr::{py_float_repr, py_str_repr};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// The `type:` keywords, in the order rex lists them in `Expected one of:`.
pub const TYPE_KEYWORDS: [&str; 11] = [
    "boolean",
    "date",
    "datetime",
    "decimal",
    "float",
    "integer",
    "integer-int4",
    "json",
    "json-json",
    "text",
    "time",
];

/// A column type: a built-in keyword or an enum with its labels in order.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnType {
    Named(&'static str),
    Enum(Vec<String>),
}

impl ColumnType {
    pub fn from_keyword(keyword: &str) -> Option<ColumnType> {
        TYPE_KEYWORDS
            .iter()
            .find(|k| **k == keyword)
            .map(|k| ColumnType::Named(k))
    }

    /// The keyword of an SQL type name found in the catalog.
    pub fn from_sql(name: &str) -> Option<ColumnType> {
        let keyword = match name {
            "bool" => "boolean",
            "int8" => "integer",
            "int4" => "integer-int4",
            "numeric" => "decimal",
            "float8" => "float",
            "text" => "text",
            "date" => "date",
            "time" => "time",
            "timestamp" => "datetime",
            "jsonb" => "json",
            "json" => "json-json",
            _ => return None,
        };
        ColumnType::from_keyword(keyword)
    }

    /// The SQL type name of a built-in type (enums are named by the column).
    pub fn sql_name(&self) -> Option<&'static str> {
        let ColumnType::Named(k) = self else {
            return None;
        };
        Some(match *k {
            "boolean" => "bool",
            "integer" => "int8",
            "integer-int4" => "int4",
            "decimal" => "numeric",
            "float" => "float8",
            "text" => "text",
            "date" => "date",
            "time" => "time",
            "datetime" => "timestamp",
            "json" => "jsonb",
            _ => "json",
        })
    }

    pub fn domain(&self) -> Domain {
        match self {
            ColumnType::Enum(labels) => Domain::Enum(labels.clone()),
            ColumnType::Named(k) => match *k {
                "boolean" => Domain::Boolean,
                "integer" | "integer-int4" => Domain::Integer,
                "decimal" => Domain::Decimal,
                "float" => Domain::Float,
                "date" => Domain::Date,
                "time" => Domain::Time,
                "datetime" => Domain::DateTime,
                "json" | "json-json" => Domain::Json,
                _ => Domain::Text,
            },
        }
    }
}

/// How values of a column are read and written.
#[derive(Clone, Debug, PartialEq)]
pub enum Domain {
    Boolean,
    Integer,
    Decimal,
    Float,
    Text,
    Date,
    Time,
    DateTime,
    Json,
    Enum(Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Decimal(String),
    Float(f64),
    Text(String),
    Date(NaiveDate),
    Time(NaiveTime),
    DateTime(NaiveDateTime),
    Json(serde_json::Value),
    /// `today()`: a date default evaluated per insert.
    Today,
    /// `now()`: a datetime default evaluated per insert.
    Now,
}

fn re(pattern: &str) -> regex::Regex {
    regex::Regex::new(pattern).expect("static pattern")
}

/// Python `int()` on a string.
fn parse_py_int(text: &str) -> Option<i64> {
    let t = text.trim();
    if !re(r"^[-+]?[0-9]+(_[0-9]+)*$").is_match(t) {
        return None;
    }
    t.replace('_', "").parse().ok()
}

fn is_py_number(text: &str) -> bool {
    re(r"^[-+]?([0-9]+(_[0-9]+)*(\.([0-9]+(_[0-9]+)*)?)?|\.[0-9]+(_[0-9]+)*)([eE][-+]?[0-9]+)?$")
        .is_match(text.trim())
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    let caps = re(r"^([0-9]{1,2}):([0-9]{2})(:([0-9]{2})(\.([0-9]+))?)?$").captures(text)?;
    let h: u32 = caps[1].parse().ok()?;
    let m: u32 = caps[2].parse().ok()?;
    let s: u32 = caps.get(4).map_or(Some(0), |s| s.as_str().parse().ok())?;
    let micro: u32 = match caps.get(6) {
        None => 0,
        Some(f) => {
            let mut digits: String = f.as_str().chars().take(6).collect();
            while digits.len() < 6 {
                digits.push('0');
            }
            digits.parse().ok()?
        }
    };
    NaiveTime::from_hms_micro_opt(h, m, s, micro)
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    if !re(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$").is_match(text) {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    let caps = re(
        r"^([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[ T]([0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?))?(Z|[-+][0-9]{1,2}(?::?[0-9]{2})?)?$",
    )
    .captures(text)?;
    let date = parse_date(&caps[1])?;
    let time = match caps.get(2) {
        Some(t) => parse_time(t.as_str())?,
        None => NaiveTime::MIN,
    };
    let local = date.and_time(time);
    let Some(tz) = caps.get(3) else {
        return Some(local);
    };
    let tz = tz.as_str();
    let offset_secs = if tz == "Z" {
        0
    } else {
        let sign = if tz.starts_with('-') { -1 } else { 1 };
        let digits: String = tz[1..].chars().filter(|c| c.is_ascii_digit()).collect();
        let (h, m) = if digits.len() <= 2 {
            (digits.parse::<i32>().ok()?, 0)
        } else {
            let split = digits.len() - 2;
            (
                digits[..split].parse::<i32>().ok()?,
                digits[split..].parse::<i32>().ok()?,
            )
        };
        sign * (h * 3600 + m * 60)
    };
    let utc = local - chrono::Duration::seconds(offset_secs as i64);
    use chrono::TimeZone;
    Some(chrono::Local.from_utc_datetime(&utc).naive_local())
}

impl Domain {
    /// Parses a text cell; the error is the message of deploy.md §3.6's table.
    pub fn parse_text(&self, text: &str) -> Result<Value, String> {
        let got = py_str_repr(text);
        match self {
            Domain::Text => Ok(Value::Text(text.to_string())),
            Domain::Boolean => match text {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(format!(
                    "invalid Boolean literal: expected 'true' or 'false'; got {got}"
                )),
            },
            Domain::Integer => parse_py_int(text).map(Value::Int).ok_or_else(|| {
                format!("invalid integer literal: expected an integer in a decimal format; got {got}")
            }),
            Domain::Float => {
                let t = text.trim().replace('_', "");
                match (is_py_number(text), t.parse::<f64>()) {
                    (true, Ok(f)) if f.is_finite() => Ok(Value::Float(f)),
                    _ => Err(format!("invalid float literal: {text}")),
                }
            }
            Domain::Decimal => {
                if is_py_number(text) {
                    Ok(Value::Decimal(text.trim().replace('_', "")))
                } else {
                    Err(format!("invalid decimal literal: {text}"))
                }
            }
            Domain::Enum(labels) => {
                if labels.iter().any(|l| l == text) {
                    Ok(Value::Text(text.to_string()))
                } else {
                    let expected = labels
                        .iter()
                        .map(|l| py_str_repr(l))
                        .collect::<Vec<_>>()
                        .join(", ");
                    Err(format!(
                        "invalid enum literal: expected one of {expected}; got {got}"
                    ))
                }
            }
            Domain::Date => parse_date(text).map(Value::Date).ok_or_else(|| {
                format!("invalid date literal: expected a valid date in a 'YYYY-MM-DD' format; got {got}")
            }),
            Domain::Time => parse_time(text).map(Value::Time).ok_or_else(|| {
                format!("invalid time literal: expected a valid time in a 'HH:SS:MM.SSSSSS' format; got {got}")
            }),
            Domain::DateTime => parse_datetime(text).map(Value::DateTime).ok_or_else(|| {
                format!("invalid datetime literal: expected a valid date/time in a 'YYYY-MM-DD HH:SS:MM.SSSSSS' format; got {got}")
            }),
            Domain::Json => serde_json::from_str(text)
                .map(Value::Json)
                .map_err(|e| e.to_string()),
        }
    }

    /// Parses a YAML value (structured data rows, defaults); `None` = wrong kind.
    pub fn parse_node(&self, node: &Node) -> Option<Result<Value, String>> {
        Some(match (&node.value, self) {
            (NodeValue::Null, _) => Ok(Value::Null),
            (NodeValue::Str(s), _) => self.parse_text(s),
            (NodeValue::Bool(b), Domain::Boolean) => Ok(Value::Bool(*b)),
            (NodeValue::Int(i), Domain::Integer) => Ok(Value::Int(*i)),
            (NodeValue::Int(i), Domain::Decimal) => Ok(Value::Decimal(i.to_string())),
            (NodeValue::Int(i), Domain::Float) => Ok(Value::Float(*i as f64)),
            (NodeValue::Float(f), Domain::Float) if f.is_finite() => Ok(Value::Float(*f)),
            (NodeValue::Float(f), Domain::Decimal) if f.is_finite() => {
                Ok(Value::Decimal(py_float_repr(*f)))
            }
            (_, Domain::Json) => Ok(Value::Json(node_to_json(node)?)),
            _ => return None,
        })
    }

    /// Reads a value the server printed (simple-query text format).
    pub fn parse_stored(&self, text: &str) -> Value {
        let parsed = match self {
            Domain::Boolean => Ok(Value::Bool(text == "t" || text == "true")),
            Domain::Json => serde_json::from_str(text)
                .map(Value::Json)
                .map_err(|e| e.to_string()),
            _ => self.parse_text(text),
        };
        parsed.unwrap_or_else(|_| Value::Text(text.to_string()))
    }
}

fn node_to_json(node: &Node) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    Some(match &node.value {
        NodeValue::Null => J::Null,
        NodeValue::Bool(b) => J::Bool(*b),
        NodeValue::Int(i) => J::from(*i),
        NodeValue::Float(f) => J::from(serde_json::Number::from_f64(*f)?),
        NodeValue::Str(s) => J::String(s.clone()),
        NodeValue::Seq(items) => J::Array(items.iter().map(node_to_json).collect::<Option<_>>()?),
        NodeValue::Map(pairs) => J::Object(
            pairs
                .iter()
                .map(|(k, v)| Some((k.clone(), node_to_json(v)?)))
                .collect::<Option<_>>()?,
        ),
    })
}

/// Python's `json.dumps(value, sort_keys=True)`: `, ` and `: ` separators, ASCII only.
pub fn json_dumps(value: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match value {
        J::Null => "null".into(),
        J::Bool(b) => b.to_string(),
        J::Number(n) => n.to_string(),
        J::String(s) => crate::core::repr::py_json_str(s, true),
        J::Array(items) => format!(
            "[{}]",
            items.iter().map(json_dumps).collect::<Vec<_>>().join(", ")
        ),
        J::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| {
                    format!(
                        "{}: {}",
                        json_dumps(&J::String(k.clone())),
                        json_dumps(&map[k])
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

fn time_text(t: &NaiveTime) -> String {
    if t.nanosecond() == 0 {
        t.format("%H:%M:%S").to_string()
    } else {
        t.format("%H:%M:%S%.6f").to_string()
    }
}

fn decimal_canonical(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(f) => py_float_repr(f),
        Err(_) => text.to_string(),
    }
}

impl Value {
    /// The SQL literal (deploy.md §2.3).
    pub fn sql(&self) -> String {
        match self {
            Value::Null => "NULL".into(),
            Value::Bool(true) => "TRUE".into(),
            Value::Bool(false) => "FALSE".into(),
            Value::Int(i) => i.to_string(),
            Value::Decimal(d) => d.clone(),
            Value::Float(f) => py_float_repr(*f),
            Value::Today => "'now'::text::date".into(),
            Value::Now => "'now'::text::timestamp".into(),
            other => sql_string(&other.text()),
        }
    }

    /// The text form: comment `default:` values and row dumps in messages.
    pub fn text(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Decimal(d) => d.clone(),
            Value::Float(f) => py_float_repr(*f),
            Value::Text(s) => s.clone(),
            Value::Date(d) => d.format("%Y-%m-%d").to_string(),
            Value::Time(t) => time_text(t),
            Value::DateTime(dt) => {
                format!("{} {}", dt.date().format("%Y-%m-%d"), time_text(&dt.time()))
            }
            Value::Json(j) => json_dumps(j),
            Value::Today => "today()".into(),
            Value::Now => "now()".into(),
        }
    }

    /// A form equal for equal values whatever their spelling (`1.50` = `1.5`).
    pub fn canonical(&self) -> String {
        match self {
            Value::Decimal(d) => decimal_canonical(d),
            Value::Null => "\u{0}null".into(),
            other => other.text(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(Value::Decimal("175.05".into()).sql(), "175.05");
        assert_eq!(
            Domain::DateTime
                .parse_text("2010-12-03 20:37")
                .unwrap()
                .sql(),
            "'2010-12-03 20:37:00'"
        );
        assert_eq!(
            Domain::Time.parse_text("22:30").unwrap().sql(),
            "'22:30:00'"
        );
        assert_eq!(Value::Json(serde_json::json!({})).sql(), "'{}'");
        assert_eq!(
            Value::Json(serde_json::json!({"b": 1, "a": [true, null]})).text(),
            "{\"a\": [true, null], \"b\": 1}"
        );
        assert_eq!(
            Domain::Integer.parse_text(" 1_000 ").unwrap(),
            Value::Int(1000)
        );
        assert_eq!(
            Domain::Enum(vec!["male".into(), "female".into()])
                .parse_text("f")
                .unwrap_err(),
            "invalid enum literal: expected one of 'male', 'female'; got 'f'"
        );
        assert_eq!(
            Domain::Boolean.parse_text("x").unwrap_err(),
            "invalid Boolean literal: expected 'true' or 'false'; got 'x'"
        );
        assert!(Domain::Float.parse_text("inf").is_err());
    }
}
