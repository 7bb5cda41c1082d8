//! The output checker: CPython's `OutputChecker.check_output`, in CPython's order,
//! plus the linear ELLIPSIS matcher and IGNORE_EXCEPTION_DETAIL's name extraction.

use super::flags::Flags;
use super::parse::py_isspace;

const BLANKLINE_MARKER: &str = "<BLANKLINE>";
const ELLIPSIS_MARKER: &str = "...";

/// Python's `s.encode('ASCII', 'backslashreplace')`: non-ASCII characters become
/// `\xNN`, `\uNNNN` or `\UNNNNNNNN`, so that a want written with escapes compares
/// equal to the real characters.
pub fn to_ascii(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_ascii() {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        let n = c as u32;
        if n < 0x80 {
            out.push(c);
        } else if n < 0x100 {
            out.push_str(&format!("\\x{n:02x}"));
        } else if n < 0x10000 {
            out.push_str(&format!("\\u{n:04x}"));
        } else {
            out.push_str(&format!("\\U{n:08x}"));
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Apply `f` to every line (split on `\n`, separators kept).
fn map_lines(s: &str, f: impl Fn(&str) -> &str) -> String {
    s.split('\n').map(f).collect::<Vec<_>>().join("\n")
}

/// `re.sub(r'(?m)^<BLANKLINE>\s*?$', '', want)`: a line that is the marker followed
/// only by white space becomes empty.
fn replace_blanklines(want: &str) -> String {
    map_lines(want, |line| match line.strip_prefix(BLANKLINE_MARKER) {
        Some(rest) if rest.chars().all(py_isspace) => "",
        _ => line,
    })
}

/// `re.sub(r'(?m)^[^\S\n]+$', '', got)`: white-space-only lines become empty.
fn clear_space_lines(got: &str) -> String {
    map_lines(got, |line| {
        if line.chars().all(py_isspace) {
            ""
        } else {
            line
        }
    })
}

/// `' '.join(s.split())`.
fn normalize_whitespace(s: &str) -> String {
    s.split(py_isspace)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// CPython's `_ellipsis_match`: `...` in want matches any substring of got. The
/// first piece must be a prefix, the last a suffix (without overlapping the prefix);
/// middle pieces are found leftmost, in order, never backtracking — linear time.
pub fn ellipsis_match(want: &str, got: &str) -> bool {
    if !want.contains(ELLIPSIS_MARKER) {
        return want == got;
    }
    let pieces: Vec<&str> = want.split(ELLIPSIS_MARKER).collect();
    let (first, last) = (pieces[0], pieces[pieces.len() - 1]);
    let mut start = 0;
    let mut end = got.len();
    let mut middle = &pieces[..];
    if !first.is_empty() {
        if !got.starts_with(first) {
            return false;
        }
        start = first.len();
        middle = &middle[1..];
    }
    if !last.is_empty() {
        if !got.ends_with(last) {
            return false;
        }
        end -= last.len();
        middle = &middle[..middle.len() - 1];
    }
    if start > end {
        return false;
    }
    for piece in middle {
        match got[start..end].find(piece) {
            Some(i) => start += i + piece.len(),
            None => return false,
        }
    }
    true
}

/// True when `got` matches `want` under `flags` (CPython's `check_output`).
pub fn check_output(want: &str, got: &str, flags: Flags) -> bool {
    let got = to_ascii(got);
    let want = to_ascii(want);
    if got == want {
        return true;
    }
    if !flags.has(Flags::DONT_ACCEPT_TRUE_FOR_1)
        && ((got == "True\n" && want == "1\n") || (got == "False\n" && want == "0\n"))
    {
        return true;
    }
    let (mut got, mut want) = (got.into_owned(), want.into_owned());
    if !flags.has(Flags::DONT_ACCEPT_BLANKLINE) {
        want = replace_blanklines(&want);
        got = clear_space_lines(&got);
        if got == want {
            return true;
        }
    }
    if flags.has(Flags::NORMALIZE_WHITESPACE) {
        got = normalize_whitespace(&got);
        want = normalize_whitespace(&want);
        if got == want {
            return true;
        }
    }
    flags.has(Flags::ELLIPSIS) && ellipsis_match(&want, &got)
}

/// `_strip_exception_details`: keep only the exception's name — first line, up to
/// the first colon, after the last dot (`foo.bar.MyError: la di da` -> `MyError`).
pub fn strip_exception_details(msg: &str) -> &str {
    let mut end = msg.find('\n').unwrap_or(msg.len());
    if let Some(i) = msg[..end].find(':') {
        end = i;
    }
    let start = msg[..end].rfind('.').map_or(0, |i| i + 1);
    &msg[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ellipsis_cases() {
        assert!(!ellipsis_match("aa...aa", "aaa"));
        assert!(ellipsis_match("aa...aa", "aaaa"));
        assert!(ellipsis_match("...", ""));
        assert!(ellipsis_match("a...", "abc"));
        assert!(ellipsis_match("...c", "abc"));
        assert!(ellipsis_match("a...b...c", "a1b2c"));
        assert!(!ellipsis_match("a...b...b...c", "abc"));
        assert!(ellipsis_match("......", "xyz"));
    }

    #[test]
    fn order_of_rules() {
        assert!(check_output("1\n", "True\n", Flags::NONE));
        assert!(!check_output(
            "1\n",
            "True\n",
            Flags::DONT_ACCEPT_TRUE_FOR_1
        ));
        assert!(check_output(
            "a\n<BLANKLINE>\nb\n",
            "a\n  \nb\n",
            Flags::NONE
        ));
        assert!(!check_output("a b\n", "a   b\n", Flags::NONE));
        assert!(check_output(
            "a b\n",
            "a \n  b\n",
            Flags::NORMALIZE_WHITESPACE
        ));
        assert!(check_output("\\xe9\n", "\u{e9}\n", Flags::NONE));
    }

    #[test]
    fn exception_names() {
        assert_eq!(
            strip_exception_details("foo.bar.MyError: la di da\n"),
            "MyError"
        );
        assert_eq!(strip_exception_details("abc.def\n"), "def");
        assert_eq!(strip_exception_details("abc.def:\n"), "def");
    }
}
