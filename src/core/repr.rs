//! Python `repr` of plain data. Error payloads (`Got:`), log lines (`%r`) and
//! validator messages print values the way CPython does, so this lives in core.

use serde_json::Value;

/// `repr(s)` for a Python `str`: single quotes unless the text has a `'` and no `"`.
pub fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_unprintable(c) => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Characters Python's `str.isprintable()` rejects that appear in practice: C1
/// controls, separators other than the ASCII space, and a few format characters.
fn is_unprintable(c: char) -> bool {
    matches!(c as u32,
        0x80..=0xa0 | 0xad | 0x1680 | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064
        | 0x3000 | 0xfeff | 0xd800..=0xdfff)
}

/// `repr(float)`: the shortest round-trip form, with `.0` for integral values.
pub fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e16).contains(&abs) {
        // Python switches to exponent notation: 1e+16, 1.5e-05.
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    let s = format!("{f}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// Python repr of JSON data as Python sees it after `json.loads`.
pub fn py_json_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => py_float_repr(f),
            _ => n.to_string(),
        },
        Value::String(s) => py_str_repr(s),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(py_json_repr).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", py_str_repr(k), py_json_repr(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// A JSON string as Python's `json.dumps` writes it (`ensure_ascii`: `\\uXXXX`
/// escapes for everything outside printable ASCII).
pub fn py_json_str(s: &str, ensure_ascii: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if ensure_ascii && (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// How much of a rejected input an error message quotes.
pub const EXCERPT_CHARS: usize = 300;

/// `text` as an error message quotes it: whole up to [`EXCERPT_CHARS`] characters,
/// else its start and how long it was (a 120 KB payload is not echoed back).
pub fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        None => text.to_string(),
        Some((end, _)) => format!(
            "{}... ({} characters in all)",
            &text[..end],
            text.chars().count()
        ),
    }
}

/// `text` with each long line quoted by [`excerpt`]. A line no longer than an
/// excerpt can be (its start and its length) is kept: excerpts are not cut again.
pub fn excerpt_lines(text: &str) -> String {
    const EXCERPT_MAX: usize = EXCERPT_CHARS + 40;
    let line = |l: &str| match l.char_indices().nth(EXCERPT_MAX) {
        None => l.to_string(),
        Some(_) => excerpt(l),
    };
    let lines: Vec<String> = text.split('\n').map(line).collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_choose_quotes_like_python() {
        assert_eq!(py_str_repr("abc"), "'abc'");
        assert_eq!(py_str_repr("it's"), "\"it's\"");
        assert_eq!(py_str_repr("it's \"x\""), "'it\\'s \"x\"'");
        assert_eq!(py_str_repr("a\nb\\"), "'a\\nb\\\\'");
    }

    #[test]
    fn floats_are_shortest_round_trip() {
        assert_eq!(py_float_repr(0.5), "0.5");
        assert_eq!(py_float_repr(5.0), "5.0");
        assert_eq!(py_float_repr(1e16), "1e+16");
        assert_eq!(py_float_repr(1.5e-5), "1.5e-05");
        assert_eq!(py_float_repr(0.1 + 0.2), "0.30000000000000004");
    }

    #[test]
    fn json_values() {
        let v: Value = serde_json::from_str(r#"{"a": [1, 2.5, null, true], "b": "x"}"#).unwrap();
        assert_eq!(py_json_repr(&v), "{'a': [1, 2.5, None, True], 'b': 'x'}");
    }
}
