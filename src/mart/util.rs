//! rex.mart's small utilities that are not tied to one phase: `make_safe_token`.

use crate::core::{Error, Result};

fn is_safe(token: &str) -> bool {
    let mut chars = token.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Massages `token` into a name safe for a database object: lower case, `-` as `_`,
/// other characters dropped, leading characters dropped until it starts with a
/// letter or `_` (unless `trim` is false), cut to `max_length` characters. `id`
/// becomes `id_`.
pub fn make_safe_token(token: &str, trim: bool, max_length: usize) -> Result<String> {
    let mut safe = token.to_lowercase().replace('-', "_");
    if safe == "id" {
        safe = "id_".into();
    }
    if !is_safe(&safe) {
        safe.retain(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !trim {
            return Ok(safe);
        }
        while !is_safe(&safe) {
            if !safe.is_empty() {
                safe.remove(0);
            }
            if safe.is_empty() {
                return Err(Error::new(format!(
                    "Cannot make a safe token out of \"{token}\""
                )));
            }
        }
    }
    Ok(safe.chars().take(max_length).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(
            make_safe_token("fOo-B@r#baZ", true, 63).unwrap(),
            "foo_brbaz"
        );
        assert_eq!(make_safe_token("id", true, 63).unwrap(), "id_");
        assert_eq!(make_safe_token("9abc", true, 63).unwrap(), "abc");
        assert_eq!(make_safe_token("9abc", false, 63).unwrap(), "9abc");
        assert_eq!(
            make_safe_token("%^$", true, 63).unwrap_err().to_string(),
            "Cannot make a safe token out of \"%^$\""
        );
    }
}
