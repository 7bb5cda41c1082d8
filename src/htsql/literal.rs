//! Untyped literals and parameters take the type of their context (htsql.md §4.6);
//! this parses and validates their text for a domain, with HTSQL's messages.

use super::value::{Domain, Value};
use crate::core::repr::py_str_repr;

/// Parses `text` as a literal of `domain`; `Err` holds HTSQL's message.
pub fn parse(domain: &Domain, text: &str) -> Result<Value, String> {
    let got = py_str_repr(text);
    match domain {
        Domain::Boolean => match text {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!(
                "invalid Boolean literal: expected 'true' or 'false'; got {got}"
            )),
        },
        Domain::Integer => parse_int(text).map(Value::Int).ok_or_else(|| {
            format!("invalid integer literal: expected an integer in a decimal format; got {got}")
        }),
        Domain::Decimal => {
            let t = text.trim();
            if t.parse::<f64>().is_ok_and(|f| f.is_finite()) && !t.contains(['x', 'X']) {
                Ok(Value::Decimal(t.to_string()))
            } else {
                Err(format!("invalid decimal literal: {text}"))
            }
        }
        Domain::Float => match text.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => Err(format!("invalid float literal: {text}")),
        },
        Domain::Enum(_, labels) => {
            if labels.iter().any(|l| l == text) {
                Ok(Value::Text(text.to_string()))
            } else {
                let l: Vec<String> = labels.iter().map(|l| py_str_repr(l)).collect();
                Err(format!(
                    "invalid enum literal: expected one of {}; got {got}",
                    l.join(", ")
                ))
            }
        }
        Domain::Date => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Value::Date)
            .map_err(|_| {
                format!("invalid date literal: expected a valid date in a 'YYYY-MM-DD' format; got {got}")
            }),
        Domain::Time => ["%H:%M:%S%.f", "%H:%M"]
            .iter()
            .find_map(|f| chrono::NaiveTime::parse_from_str(text, f).ok())
            .map(Value::Time)
            .ok_or_else(|| {
                format!("invalid time literal: expected a valid time in a 'HH:SS:MM.SSSSSS' format; got {got}")
            }),
        Domain::DateTime => parse_datetime(text).map(Value::DateTime).ok_or_else(|| {
            format!("invalid datetime literal: expected a valid date/time in a 'YYYY-MM-DD HH:SS:MM.SSSSSS' format; got {got}")
        }),
        Domain::Json => serde_json::from_str(text)
            .map(Value::Json)
            .map_err(|e| e.to_string()),
        _ => Ok(Value::Text(text.to_string())),
    }
}

/// Python `int()` of a string: surrounding whitespace, a sign, `_` between digits.
fn parse_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, digits) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    let v: i64 = clean.parse().ok()?;
    Some(if neg { -v } else { v })
}

fn parse_datetime(text: &str) -> Option<chrono::NaiveDateTime> {
    let t = text.trim();
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(v) = chrono::NaiveDateTime::parse_from_str(t, f) {
            return Some(v);
        }
    }
    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// The text sent to PostgreSQL for a value (cast there to the column type).
pub fn sql_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Json(j) => Some(j.to_string()),
        Value::DateTime(t) => Some(t.format("%Y-%m-%d %H:%M:%S%.f").to_string()),
        other => other.literal(),
    }
}

/// The SQL type a domain's values are cast to.
pub fn sql_type(domain: &Domain) -> String {
    match domain {
        Domain::Boolean => "boolean".into(),
        Domain::Integer => "int8".into(),
        Domain::Decimal => "numeric".into(),
        Domain::Float => "float8".into(),
        Domain::Enum(t, _) => t.clone(),
        Domain::Date => "date".into(),
        Domain::Time => "time".into(),
        Domain::DateTime => "timestamp".into(),
        Domain::Json => "jsonb".into(),
        _ => "text".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_messages() {
        assert_eq!(
            parse(&Domain::Integer, "abc").unwrap_err(),
            "invalid integer literal: expected an integer in a decimal format; got 'abc'"
        );
        assert_eq!(parse(&Domain::Integer, " 1_000 ").unwrap(), Value::Int(1000));
        let e = Domain::Enum("e".into(), vec!["new".into(), "queued".into()]);
        assert_eq!(
            parse(&e, "bogus").unwrap_err(),
            "invalid enum literal: expected one of 'new', 'queued'; got 'bogus'"
        );
        assert_eq!(
            parse(&Domain::Boolean, "x").unwrap_err(),
            "invalid Boolean literal: expected 'true' or 'false'; got 'x'"
        );
    }
}
