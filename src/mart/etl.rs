//! ETL scripts: rex.mart's HTSQL statement splitter and the SQL path, which
//! substitutes `%(name)s` parameters the way psycopg2's pyformat does and runs the
//! whole script as one multi-statement query.

use super::cluster::server_error_text;
use super::params::ParamValue;
use crate::core::{Error, Result};

/// `extract_htsql_statements`: unindented lines start a statement, indented lines
/// continue it; blank lines and `#` comments are dropped.
pub fn extract_htsql_statements(text: &str) -> Result<Vec<String>> {
    let mut statements: Vec<Vec<&str>> = Vec::new();
    for (i, line) in crate::core::error::python_splitlines(text)
        .into_iter()
        .enumerate()
    {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            match statements.last_mut() {
                Some(current) => current.push(line),
                None => {
                    return Err(Error::new(format!(
                        "Got unexpected indentation, line {}",
                        i + 1
                    )))
                }
            }
        } else {
            statements.push(vec![line]);
        }
    }
    Ok(statements.into_iter().map(|s| s.join("\n")).collect())
}

/// psycopg2's pyformat substitution with a dict: `%(name)s` → the value's literal,
/// `%%` → `%`. A missing name fails like Python's `KeyError` (`'name'`).
pub fn pyformat(script: &str, params: &[(String, ParamValue)]) -> Result<String> {
    let mut out = String::with_capacity(script.len());
    let mut rest = script;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('%') {
            out.push('%');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('(') {
            let Some(close) = tail.find(')') else {
                return Err(Error::new("incomplete placeholder: '%(' without ')'"));
            };
            let name = &tail[..close];
            let Some(tail) = tail[close + 1..].strip_prefix('s') else {
                return Err(Error::new(
                    "format not supported: only %(name)s placeholders are",
                ));
            };
            let value = params
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v)
                .ok_or_else(|| Error::new(crate::core::repr::py_str_repr(name)))?;
            out.push_str(&value.sql_literal()?);
            rest = tail;
        } else {
            return Err(Error::new(
                "format not supported: only %(name)s placeholders are",
            ));
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Runs an SQL script (parameters substituted) in autocommit, as one query.
pub fn run_sql(
    mart: &mut postgres::Client,
    script: &str,
    params: &[(String, ParamValue)],
) -> Result<()> {
    let text = pyformat(script, params)?;
    mart.batch_execute(&text).map_err(|e| {
        Error::with(
            "Got an error from the database driver:",
            server_error_text(&e, Some(&text)),
        )
    })
}

/// Script parameters, then definition parameters, then `OWNER` and `DEFINITION`:
/// later ones win (lookups take the last entry with a name).
pub fn script_params(
    script: &[(String, ParamValue)],
    definition: &[(String, ParamValue)],
    owner: &str,
    definition_id: &str,
) -> Vec<(String, ParamValue)> {
    let mut merged: Vec<(String, ParamValue)> = Vec::new();
    let extra = [
        ("OWNER".to_string(), ParamValue::Text(owner.to_string())),
        (
            "DEFINITION".to_string(),
            ParamValue::Text(definition_id.to_string()),
        ),
    ];
    for (k, v) in script.iter().chain(definition).chain(extra.iter()) {
        merged.retain(|(n, _)| n != k);
        merged.push((k.clone(), v.clone()));
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_rex() {
        assert_eq!(extract_htsql_statements("").unwrap(), Vec::<String>::new());
        assert_eq!(
            extract_htsql_statements("/foo\n/bar").unwrap(),
            vec!["/foo", "/bar"]
        );
        assert_eq!(
            extract_htsql_statements("\n# A comment\n/foo{\n        col1\n    }\n\n/bar\n")
                .unwrap(),
            vec!["/foo{\n        col1\n    }", "/bar"]
        );
        assert_eq!(
            extract_htsql_statements("\n  /foo")
                .unwrap_err()
                .to_string(),
            "Got unexpected indentation, line 2"
        );
    }

    #[test]
    fn pyformat_quotes_and_overrides() {
        let p = script_params(
            &[
                ("var1".into(), ParamValue::Text("it's".into())),
                ("OWNER".into(), ParamValue::Int(1)),
            ],
            &[("n".into(), ParamValue::Int(5))],
            "bob",
            "def",
        );
        assert_eq!(
            pyformat(
                "values (%(var1)s, %(OWNER)s, %(DEFINITION)s, %(n)s, '100%%')",
                &p
            )
            .unwrap(),
            "values ('it''s', 'bob', 'def', 5, '100%')"
        );
        assert_eq!(pyformat("%(nope)s", &p).unwrap_err().to_string(), "'nope'");
    }
}
