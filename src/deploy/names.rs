//! Every generated SQL name and literal: rex.deploy's `mangle`, identifier quoting,
//! string literals and `label_to_title`. Other code (HTSQL's catalog reader, mart
//! scripts) relies on these names, so they follow deploy.md §2.1 exactly.

use super::md5::md5_hex;

const MAX_NAME: usize = 63;
const RESERVED_SUFFIXES: [&str; 7] = ["id", "pk", "uk", "fk", "chk", "seq", "enum"];

/// `mangle(fragments, suffix)`: joins the fragments with a separator longer than any
/// `_` run inside them, adds the suffix and shortens with an MD5 digest when the name
/// is too long or could clash with a generated one.
pub fn mangle(fragments: &[&str], suffix: Option<&str>) -> String {
    let mut sep = "_".to_string();
    while fragments.iter().any(|f| f.contains(sep.as_str())) {
        sep.push('_');
    }
    let stem = fragments.join(&sep);
    let mut text = match suffix {
        Some(s) => format!("{stem}{sep}{s}"),
        None => stem.clone(),
    };
    let mut forbidden = stem == "pg" || stem.starts_with("pg_");
    if suffix.is_none() {
        forbidden |= RESERVED_SUFFIXES
            .iter()
            .any(|r| stem == *r || stem.ends_with(&format!("_{r}")));
    }
    let len = |s: &str| s.chars().count();
    if forbidden || len(&text) > MAX_NAME {
        let digest = format!("{sep}{}", &md5_hex(stem.as_bytes())[..6]);
        if len(&text) + len(&digest) > MAX_NAME {
            let cut_start = MAX_NAME / 4;
            let cut_end = cut_start + len(&digest) + len(&sep) + len(&text) - MAX_NAME;
            let chars: Vec<char> = text.chars().collect();
            let head: String = chars[..cut_start].iter().collect();
            let tail: String = chars[cut_end.min(chars.len())..].iter().collect();
            text = format!("{head}{sep}{tail}");
        }
        text.push_str(&digest);
    }
    text
}

/// `mangle` of one label.
pub fn mangle1(label: &str, suffix: Option<&str>) -> String {
    mangle(&[label], suffix)
}

/// A quoted identifier; names in `public` are never schema-qualified.
pub fn ident(name: &str) -> String {
    crate::pg::quote_ident(name)
}

/// A comma-separated list of quoted identifiers.
pub fn idents<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| ident(n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An SQL string literal the way rex.deploy writes one: `'` doubled, and with an `E`
/// prefix (and doubled backslashes) only when the text has a backslash.
pub fn sql_string(text: &str) -> String {
    let quoted = text.replace('\'', "''");
    if text.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

/// rex's `label_to_title`: underscores to spaces, then Python's `str.title()`.
pub fn label_to_title(label: &str) -> String {
    let mut out = String::new();
    let mut prev_cased = false;
    for c in label.replace('_', " ").chars() {
        let cased = c.is_alphabetic();
        if cased && !prev_cased {
            out.extend(c.to_uppercase());
        } else if cased {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        prev_cased = cased;
    }
    out
}

/// The link label a column name stands for (HTSQL agrees): `job_id` → `job`,
/// `rexmart_dynamic_assessment__id` → `rexmart_dynamic_assessment`.
pub fn link_label_of_column(column: &str) -> String {
    match column.strip_suffix("id") {
        Some(stem) if stem.ends_with('_') => stem.trim_end_matches('_').to_string(),
        _ => column.to_string(),
    }
}

/// Whether `text` is a valid label (`[a-z_][0-9a-z_]*`).
pub fn is_label(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mangle_vectors_of_the_spec() {
        assert_eq!(mangle1("individual", None), "individual");
        assert_eq!(
            mangle(&["individual", "mother"], Some("fk")),
            "individual_mother_fk"
        );
        assert_eq!(
            mangle(&["individual", "adopted_father"], None),
            "individual__adopted_father"
        );
        assert_eq!(mangle1("remote_id", None), "remote_id__161172");
        let mut long = vec!["very"];
        long.extend(std::iter::repeat_n("long", 100));
        long.push("name");
        assert_eq!(
            mangle(&long, None),
            "very_long_long___long_long_long_long_long_long_long_name_6c78ff"
        );
        assert_eq!(
            mangle1("rexmart_inventory", Some("seq")),
            "rexmart_inventory__seq"
        );
        assert_eq!(mangle(&["job", "status"], Some("enum")), "job_status_enum");
        assert_eq!(
            mangle(&["rexmart_inventory", "status"], Some("enum")),
            "rexmart_inventory__status__enum"
        );
        assert_eq!(
            mangle(
                &[
                    "rexmart_dynamic_assessment_instrument",
                    "rexmart_dynamic_assessment"
                ],
                Some("fk")
            ),
            "rexmart_dynamic__rument__rexmart_dynamic_assessment__fk__2a31f6"
        );
        assert_eq!(
            mangle1("rexmart_dynamic_assessment", Some("id")),
            "rexmart_dynamic_assessment__id"
        );
        assert_eq!(mangle1("individual_id", None), "individual_id__3dcb2f");
    }

    #[test]
    fn titles_and_literals() {
        assert_eq!(label_to_title("col1x"), "Col1X");
        assert_eq!(label_to_title("date_submitted"), "Date Submitted");
        assert_eq!(sql_string("it's"), "'it''s'");
        assert_eq!(sql_string("a\\b"), "E'a\\\\b'");
        assert_eq!(link_label_of_column("job_id"), "job");
        assert_eq!(
            link_label_of_column("rexmart_dynamic_assessment__id"),
            "rexmart_dynamic_assessment"
        );
    }
}
