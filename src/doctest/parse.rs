//! Transcript parsing, as CPython's `DocTestParser`: examples are `>>> ` lines plus
//! `... ` continuation lines; the expected output ("want") is the following run of
//! non-blank lines that do not start a new example. Everything else is prose.
//!
//! The scan is line based (CPython uses `_EXAMPLE_RE`; the two accept the same
//! examples) so that it runs in linear time on any input, random bytes included.

use std::sync::OnceLock;

use regex::Regex;

use super::flags::{Directive, Flags};

/// One example of a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// Source with prompts and indentation removed; always ends with `\n`.
    pub source: String,
    /// Expected output; ends with `\n` unless empty.
    pub want: String,
    /// Expected exception message (`Type: message\n`), when want is a traceback.
    pub exc_msg: Option<String>,
    /// 0-based line of the `>>>` prompt within the file.
    pub lineno: usize,
    /// Column of the prompt in the original text.
    pub indent: usize,
    /// `# doctest:` directives of this example, in order.
    pub options: Vec<Directive>,
}

/// A transcript that cannot be used: 1-based line in the file and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.line, self.message)
    }
}

/// Normalise line endings the way Python's text-mode `open()` does (universal
/// newlines): `\r\n` and lone `\r` both become `\n`.
pub fn universal_newlines(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_string();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// `str.expandtabs()` with tab size 8: the column restarts after `\n` and `\r`.
pub fn expand_tabs(text: &str) -> String {
    if !text.contains('\t') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut col = 0usize;
    for c in text.chars() {
        match c {
            '\t' => {
                let n = 8 - col % 8;
                out.extend(std::iter::repeat_n(' ', n));
                col += n;
            }
            '\n' | '\r' => {
                out.push(c);
                col = 0;
            }
            _ => {
                out.push(c);
                col += 1;
            }
        }
    }
    out
}

/// Number of leading spaces (only `' '`, as CPython's `[ ]*`).
fn leading_spaces(line: &str) -> usize {
    line.bytes().take_while(|b| *b == b' ').count()
}

/// Python's `str.isspace` for one character (adds the ASCII separators
/// `\x1c`..`\x1f` that Rust does not count as white space).
pub fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// `_min_indent`: the smallest indentation of a line whose first non-space
/// character is not white space.
fn min_indent(lines: &[&str]) -> usize {
    lines
        .iter()
        .filter_map(|l| {
            let n = leading_spaces(l);
            l[n..].chars().next().filter(|c| !py_isspace(*c)).map(|_| n)
        })
        .min()
        .unwrap_or(0)
}

/// Drop the first `n` characters of `line` (Python's `line[n:]`).
fn drop_chars(line: &str, n: usize) -> &str {
    match line.char_indices().nth(n) {
        Some((i, _)) => &line[i..],
        None => "",
    }
}

fn is_ps1(line: &str) -> bool {
    line[leading_spaces(line)..].starts_with(">>>")
}

fn is_ps2(line: &str) -> bool {
    line[leading_spaces(line)..].starts_with("...")
}

fn is_blank(line: &str) -> bool {
    leading_spaces(line) == line.len()
}

fn exception_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?ms)\ATraceback \((?:most recent call last|innermost last)\):\s*$.*?^(\w+.*)")
            .expect("valid exception regex")
    })
}

fn directive_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r#"(?m)#\s*doctest:\s*([^\n'"]*)$"#).expect("valid regex"))
}

/// `_IS_BLANK_OR_COMMENT` on a source without its final newline: one line of spaces
/// with an optional comment.
fn is_blank_or_comment(source: &str) -> bool {
    let s = source.strip_suffix('\n').unwrap_or(source);
    if s.contains('\n') {
        return false;
    }
    let rest = s.trim_start_matches(' ');
    rest.is_empty() || rest.starts_with('#')
}

/// The expected exception message of a want, per `_EXCEPTION_RE`: everything from the
/// first line after the traceback header that starts with a word character.
pub fn exception_message(want: &str) -> Option<String> {
    exception_re()
        .captures(want)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string())
}

/// A Markdown transcript as the doctest parser should see it: only the lines inside
/// fenced code blocks (opened by three or more backticks or tildes, closed by a fence
/// of the same character at least as long) are kept; prose and the fence lines become
/// empty lines, so line numbers stay those of the file and a closing fence ends the
/// expected output instead of being part of it. An unclosed fence runs to the end.
pub fn markdown_code(text: &str) -> String {
    let text = universal_newlines(text);
    let mut out = String::with_capacity(text.len());
    let mut open: Option<(char, usize)> = None;
    for (k, line) in text.split('\n').enumerate() {
        if k > 0 {
            out.push('\n');
        }
        let trimmed = line.trim_start_matches(' ');
        let fence = trimmed
            .chars()
            .next()
            .filter(|c| *c == '`' || *c == '~')
            .map(|c| (c, trimmed.chars().take_while(|d| *d == c).count()))
            .filter(|(_, n)| *n >= 3 && line.len() - trimmed.len() <= 3);
        match (open, fence) {
            (None, Some(f)) => open = Some(f),
            (Some((c, n)), Some((d, m)))
                if c == d && m >= n && trimmed[m * c.len_utf8()..].trim().is_empty() =>
            {
                open = None
            }
            (Some(_), _) => out.push_str(line),
            (None, None) => {}
        }
    }
    out
}

/// Parse a whole transcript (already read as text) into its examples.
pub fn parse(text: &str) -> Result<Vec<Example>, ParseError> {
    let text = expand_tabs(&universal_newlines(text));
    let raw: Vec<&str> = text.split('\n').collect();
    let min = min_indent(&raw);
    let lines: Vec<&str> = if min > 0 {
        raw.iter().map(|l| drop_chars(l, min)).collect()
    } else {
        raw
    };

    let mut examples = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !is_ps1(lines[i]) {
            i += 1;
            continue;
        }
        let lineno = i;
        let indent = leading_spaces(lines[i]);
        let mut j = i + 1;
        while j < lines.len() && is_ps2(lines[j]) {
            j += 1;
        }
        let source_lines = &lines[i..j];
        let want_start = j;
        while j < lines.len() && !is_blank(lines[j]) && !is_ps1(lines[j]) {
            j += 1;
        }
        let want_lines = &lines[want_start..j];
        if let Some(ex) = parse_example(source_lines, want_lines, lineno, indent, min)? {
            examples.push(ex);
        }
        i = j;
    }
    Ok(examples)
}

fn parse_example(
    source_lines: &[&str],
    want_lines: &[&str],
    lineno: usize,
    indent: usize,
    min: usize,
) -> Result<Option<Example>, ParseError> {
    // _check_prompt_blank, by character (a `...` line may be indented differently
    // from its `>>>` line, so positions are not byte offsets).
    for (k, line) in source_lines.iter().enumerate() {
        let after = line.chars().nth(indent + 3);
        if after.is_some_and(|c| c != ' ') {
            let prompt: String = line.chars().skip(indent).take(3).collect();
            return Err(ParseError {
                line: lineno + k + 1,
                message: format!("prompt {prompt:?} is not followed by a space: {line:?}"),
            });
        }
    }
    // _check_prefix on the continuation lines
    let ps2_prefix = format!("{}.", " ".repeat(indent));
    for (k, line) in source_lines.iter().enumerate().skip(1) {
        if !line.is_empty() && !line.starts_with(&ps2_prefix) {
            return Err(ParseError {
                line: lineno + k + 1,
                message: format!("inconsistent leading whitespace: {line:?}"),
            });
        }
    }
    let source = source_lines
        .iter()
        .map(|l| l.get(indent + 4..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");

    let prefix = " ".repeat(indent);
    for (k, line) in want_lines.iter().enumerate() {
        if !line.is_empty() && !line.starts_with(&prefix) {
            return Err(ParseError {
                line: lineno + source_lines.len() + k + 1,
                message: format!("expected output is indented less than its example: {line:?}"),
            });
        }
    }
    let want = want_lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");

    let exc_msg = exception_message(&want);
    let options = find_options(&source, lineno)?;
    if is_blank_or_comment(&source) {
        return Ok(None);
    }
    Ok(Some(Example {
        source: with_newline(source),
        want: if want.is_empty() {
            want
        } else {
            with_newline(want)
        },
        exc_msg: exc_msg.map(with_newline),
        lineno,
        indent: min + indent,
        options,
    }))
}

fn with_newline(mut s: String) -> String {
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// `_find_options`: `# doctest: +FLAG, -FLAG` comments anywhere in the source.
fn find_options(source: &str, lineno: usize) -> Result<Vec<Directive>, ParseError> {
    let mut options = Vec::new();
    for cap in directive_re().captures_iter(source) {
        let spec = cap.get(1).map_or("", |m| m.as_str()).replace(',', " ");
        for option in spec.split(py_isspace).filter(|s| !s.is_empty()) {
            let (sign, name) = option.split_at(option.chars().next().map_or(0, char::len_utf8));
            let flag = match (sign, Flags::by_name(name)) {
                ("+" | "-", Some(flag)) => flag,
                _ => {
                    return Err(ParseError {
                        line: lineno + 1,
                        message: format!("invalid doctest option: {option:?}"),
                    })
                }
            };
            options.push(Directive {
                flag,
                on: sign == "+",
            });
        }
    }
    if !options.is_empty() && is_blank_or_comment(source) {
        return Err(ParseError {
            line: lineno + 1,
            message: format!("option directive on a line with no example: {source:?}"),
        });
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_source_want_and_lines() {
        let text = "Prose.\n\n    >>> x = 1\n    >>> if x:\n    ...     print(x)\n    1\n\nmore\n";
        let ex = parse(text).unwrap();
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[0].source, "x = 1\n");
        assert_eq!(ex[0].want, "");
        assert_eq!(ex[0].lineno, 2);
        assert_eq!(ex[1].source, "if x:\n    print(x)\n");
        assert_eq!(ex[1].want, "1\n");
        assert_eq!(ex[1].lineno, 3);
    }

    #[test]
    fn exception_want() {
        let ex = parse(">>> f()\nTraceback (most recent call last):\n  ...\nValueError: a\n  b\n")
            .unwrap();
        assert_eq!(ex[0].exc_msg.as_deref(), Some("ValueError: a\n  b\n"));
    }

    #[test]
    fn errors_carry_lines() {
        assert_eq!(parse("text\n>>>x\n").unwrap_err().line, 2);
        assert_eq!(parse("  >>> x\n 1\n").unwrap_err().line, 2);
        assert_eq!(parse(">>> x  # doctest: +BOGUS\n").unwrap_err().line, 1);
        assert_eq!(parse("\n>>> # doctest: +SKIP\n").unwrap_err().line, 2);
    }

    #[test]
    fn comment_only_examples_are_dropped() {
        assert!(parse(">>> # nothing\n>>>\n").unwrap().is_empty());
    }

    #[test]
    fn markdown_keeps_fenced_blocks_only() {
        let text = "# Title\n\n>>> 'prose'\n\n```python\n>>> 1 + 1\n2\n```\n\n~~~~\n>>> print('```')\n```\n~~~~\n";
        let ex = parse(&markdown_code(text)).unwrap();
        assert_eq!(ex.len(), 2);
        assert_eq!(
            (ex[0].source.as_str(), ex[0].want.as_str(), ex[0].lineno),
            ("1 + 1\n", "2\n", 5)
        );
        assert_eq!(
            (ex[1].source.as_str(), ex[1].want.as_str()),
            ("print('```')\n", "```\n")
        );
    }

    #[test]
    fn tabs_expand() {
        assert_eq!(expand_tabs("a\tb\n\tc"), "a       b\n        c");
    }
}
