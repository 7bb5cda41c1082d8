//! rex.mart's `extract_htsql_statements`: a script is split into statements by
//! indentation (a line starting in column 0 opens a statement, indented lines
//! continue it, `#` in column 0 and blank lines are dropped).

use crate::core::{Error, Result};

/// Splits an HTSQL ETL script into statements (htsql.md §1.1).
pub fn split_statements(script: &str) -> Result<Vec<String>> {
    let mut statements: Vec<Vec<&str>> = Vec::new();
    for (idx, line) in crate::core::error::python_splitlines(script)
        .into_iter()
        .enumerate()
    {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == line.trim_start() {
            statements.push(vec![line]);
        } else if let Some(current) = statements.last_mut() {
            current.push(line);
        } else {
            return Err(Error::new(format!(
                "Got unexpected indentation, line {}",
                idx + 1
            )));
        }
    }
    Ok(statements.into_iter().map(|s| s.join("\n")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_rex_mart() {
        let got = split_statements("\n# A comment\n/foo{\n        col1\n    }\n\n/bar\n").unwrap();
        assert_eq!(got, vec!["/foo{\n        col1\n    }", "/bar"]);
        let err = split_statements("\n  /foo").unwrap_err();
        assert_eq!(err.to_string(), "Got unexpected indentation, line 2");
    }
}
