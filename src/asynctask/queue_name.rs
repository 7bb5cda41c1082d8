//! rex.asynctask's queue name rule: `^[a-z](?:[a-z0-9]|[_](?![_]))*[a-z0-9]$` (at least
//! two characters, lowercase, no `__`, no trailing `_`).

/// Whether `name` is a properly-formatted queue name.
pub fn is_valid(name: &str) -> bool {
    let b = name.as_bytes();
    if b.len() < 2 || !b[0].is_ascii_lowercase() {
        return false;
    }
    let last = b[b.len() - 1];
    if !(last.is_ascii_lowercase() || last.is_ascii_digit()) {
        return false;
    }
    b.iter()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
        && !name.contains("__")
}

/// The text of rex's `ValueError` for a bad name (bindings raise it as `ValueError`).
pub fn error_text(name: &str) -> String {
    format!("\"{name}\" is not a properly-formatted queue name")
}

/// Checks a name; the error carries [`error_text`].
pub fn check(name: &str) -> crate::core::Result<()> {
    if is_valid(name) {
        Ok(())
    } else {
        Err(crate::core::Error::new(error_text(name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_rex_regex() {
        for ok in ["foo", "rex_job_0", "scheduled_0_job_queuer", "a1", "a_b"] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in ["BADNAME", "a", "a__b", "foo_", "_foo", "1foo", "fo-o", ""] {
            assert!(!is_valid(bad), "{bad}");
        }
        assert_eq!(
            error_text("BADNAME"),
            "\"BADNAME\" is not a properly-formatted queue name"
        );
    }
}
