//! `json.loads`: a hand-written port of CPython 3.11's JSON decoder.
//!
//! CPython runs `json/decoder.py` with the C accelerator (`_json.c`:
//! `scanstring_unicode`, `scan_once_unicode`, `_parse_object_unicode`,
//! `_parse_array_unicode`, `_match_number_unicode`), so this follows the C
//! scanner where it differs from the pure-Python fallback: its messages
//! ("Invalid control character at", "Invalid \\escape" without the character)
//! and its error positions. Positions are code point indices into the document,
//! as in CPython; `JSONDecodeError` computes line and column from them the way
//! `json.decoder.JSONDecodeError.__init__` does.
//!
//! Departures forced by the interpreter's value model: ints are 64-bit (a larger
//! JSON integer is the interpreter's usual OverflowError) and strings cannot
//! hold lone surrogates (`"\ud800"` is a ValueError saying so).

use super::*;

/// Nesting depth at which CPython (recursion limit 1000) gives up.
const MAX_DEPTH: usize = 990;

/// Why decoding stopped: a `JSONDecodeError` (message and position) or any
/// other exception (RecursionError, OverflowError, a hook's exception).
pub(super) enum Failure {
    Syntax(&'static str, usize),
    Raised(Exception),
}

impl From<Exception> for Failure {
    fn from(e: Exception) -> Failure {
        Failure::Raised(e)
    }
}

type D<T> = Result<T, Failure>;

/// The `json.loads` keyword arguments that change decoding.
#[derive(Default)]
pub(super) struct Hooks {
    pub strict: bool,
    pub object_hook: Option<Value>,
    pub object_pairs_hook: Option<Value>,
    pub parse_float: Option<Value>,
    pub parse_int: Option<Value>,
    pub parse_constant: Option<Value>,
}

/// `(lineno, colno)` of a position, as `JSONDecodeError.__init__` computes them:
/// `doc.count('\n', 0, pos) + 1` and `pos - doc.rfind('\n', 0, pos)`.
pub(super) fn line_col(doc: &[char], pos: usize) -> (usize, usize) {
    let head = &doc[..pos.min(doc.len())];
    let line = head.iter().filter(|&&c| c == '\n').count() + 1;
    let col = match head.iter().rposition(|&c| c == '\n') {
        Some(nl) => pos - nl,
        None => pos + 1,
    };
    (line, col)
}

/// `JSONDecoder().decode(doc)` (with `json.loads`'s BOM check first).
pub(super) fn decode(it: &mut Interpreter, doc: &[char], hooks: &Hooks) -> D<Value> {
    if doc.first() == Some(&'\u{feff}') {
        return Err(Failure::Syntax(
            "Unexpected UTF-8 BOM (decode using utf-8-sig)",
            0,
        ));
    }
    let mut d = Decoder {
        s: doc,
        it,
        hooks,
        depth: 0,
        lone_surrogate: None,
    };
    let start = d.skip_ws(0);
    let (value, end) = d.scan_once(start)?;
    let end = d.skip_ws(end);
    if end != doc.len() {
        return Err(Failure::Syntax("Extra data", end));
    }
    if let Some(u) = d.lone_surrogate {
        return Err(Exception::value_error(format!(
            "lone surrogate '\\u{u:04x}' in a JSON string: the harness's Python subset has no surrogate code points"
        ))
        .into());
    }
    Ok(value)
}

struct Decoder<'a> {
    s: &'a [char],
    it: &'a mut Interpreter,
    hooks: &'a Hooks,
    depth: usize,
    /// The first `\uXXXX` surrogate without its pair (not representable).
    lone_surrogate: Option<u32>,
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

impl Decoder<'_> {
    fn at(&self, i: usize) -> Option<char> {
        self.s.get(i).copied()
    }

    fn skip_ws(&self, mut i: usize) -> usize {
        while self.at(i).is_some_and(is_ws) {
            i += 1;
        }
        i
    }

    fn matches(&self, i: usize, word: &str) -> bool {
        (i..).zip(word.chars()).all(|(j, c)| self.at(j) == Some(c))
    }

    /// `scan_once_unicode`: one JSON value starting exactly at `idx`; returns
    /// it and the index just past it. No value there: "Expecting value" at `idx`.
    fn scan_once(&mut self, idx: usize) -> D<(Value, usize)> {
        let Some(c) = self.at(idx) else {
            return Err(Failure::Syntax("Expecting value", idx));
        };
        match c {
            '"' => {
                let (s, end) = self.scanstring(idx + 1)?;
                Ok((Value::str(&s), end))
            }
            '{' | '[' => {
                if self.depth >= MAX_DEPTH || crate::script::interp::stack_exhausted() {
                    let what = if c == '{' { "object" } else { "array" };
                    return Err(Exception::new(
                        "RecursionError",
                        format!(
                            "maximum recursion depth exceeded while decoding a JSON {what} from a unicode string"
                        ),
                    )
                    .into());
                }
                self.depth += 1;
                let r = if c == '{' {
                    self.parse_object(idx + 1)
                } else {
                    self.parse_array(idx + 1)
                };
                self.depth -= 1;
                r
            }
            'n' if self.matches(idx, "null") => Ok((Value::None, idx + 4)),
            't' if self.matches(idx, "true") => Ok((Value::Bool(true), idx + 4)),
            'f' if self.matches(idx, "false") => Ok((Value::Bool(false), idx + 5)),
            'N' if self.matches(idx, "NaN") => Ok((self.constant("NaN", f64::NAN)?, idx + 3)),
            'I' if self.matches(idx, "Infinity") => {
                Ok((self.constant("Infinity", f64::INFINITY)?, idx + 8))
            }
            '-' if self.matches(idx, "-Infinity") => {
                Ok((self.constant("-Infinity", f64::NEG_INFINITY)?, idx + 9))
            }
            _ => self.match_number(idx),
        }
    }

    fn constant(&mut self, name: &str, value: f64) -> D<Value> {
        match &self.hooks.parse_constant {
            Some(f) => Ok(self.it.call(f, Args::new(vec![Value::str(name)]))?),
            None => Ok(Value::Float(value)),
        }
    }

    /// `_match_number_unicode`: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`,
    /// where a fraction or exponent without digits is left for the caller.
    fn match_number(&mut self, start: usize) -> D<(Value, usize)> {
        let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
        let mut idx = start;
        if self.at(idx) == Some('-') {
            idx += 1;
        }
        match self.at(idx) {
            Some('1'..='9') => {
                idx += 1;
                while digit(self.at(idx)) {
                    idx += 1;
                }
            }
            Some('0') => idx += 1,
            _ => return Err(Failure::Syntax("Expecting value", start)),
        }
        let mut is_float = false;
        if self.at(idx) == Some('.') && digit(self.at(idx + 1)) {
            is_float = true;
            idx += 2;
            while digit(self.at(idx)) {
                idx += 1;
            }
        }
        if matches!(self.at(idx), Some('e' | 'E')) {
            let e_start = idx;
            idx += 1;
            if matches!(self.at(idx), Some('-' | '+')) {
                idx += 1;
            }
            let digits_from = idx;
            while digit(self.at(idx)) {
                idx += 1;
            }
            if idx > digits_from {
                is_float = true;
            } else {
                idx = e_start;
            }
        }
        let text: String = self.s[start..idx].iter().collect();
        let hook = if is_float {
            &self.hooks.parse_float
        } else {
            &self.hooks.parse_int
        };
        if let Some(f) = hook {
            let v = self.it.call(f, Args::new(vec![Value::str(&text)]))?;
            return Ok((v, idx));
        }
        let v = if is_float {
            // Rust's parse is correctly rounded like float(); overflow is inf.
            Value::Float(text.parse::<f64>().unwrap_or(f64::NAN))
        } else {
            match text.parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => {
                    return Err(Exception::new(
                        "OverflowError",
                        "integer overflow: the harness's Python subset limits int to 64 bits",
                    )
                    .into())
                }
            }
        };
        Ok((v, idx))
    }

    /// `scanstring_unicode`: the string whose opening quote is at `end - 1`;
    /// returns it and the index just past the closing quote.
    fn scanstring(&mut self, mut end: usize) -> D<(String, usize)> {
        let begin = end - 1;
        let len = self.s.len();
        let mut out = String::new();
        loop {
            // The next quote or backslash; control characters are errors.
            let mut next = end;
            let mut c = None;
            while next < len {
                let d = self.s[next];
                if d == '"' || d == '\\' {
                    c = Some(d);
                    break;
                }
                if (d as u32) <= 0x1f && self.hooks.strict {
                    return Err(Failure::Syntax("Invalid control character at", next));
                }
                next += 1;
            }
            let Some(c) = c else {
                return Err(Failure::Syntax("Unterminated string starting at", begin));
            };
            out.extend(&self.s[end..next]);
            next += 1;
            if c == '"' {
                return Ok((out, next));
            }
            if next == len {
                return Err(Failure::Syntax("Unterminated string starting at", begin));
            }
            let esc = self.s[next];
            if esc != 'u' {
                end = next + 1;
                out.push(match esc {
                    '"' => '"',
                    '\\' => '\\',
                    '/' => '/',
                    'b' => '\x08',
                    'f' => '\x0c',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    _ => return Err(Failure::Syntax("Invalid \\escape", end - 2)),
                });
                continue;
            }
            next += 1;
            end = next + 4;
            if end >= len {
                return Err(Failure::Syntax("Invalid \\uXXXX escape", next - 1));
            }
            let mut u = self.hex4(next, end)?;
            next = end;
            if (0xd800..=0xdbff).contains(&u)
                && end + 6 < len
                && self.s[next] == '\\'
                && self.s[next + 1] == 'u'
            {
                let u2 = self.hex4(next + 2, end + 6)?;
                if (0xdc00..=0xdfff).contains(&u2) {
                    u = 0x10000 + (((u - 0xd800) << 10) | (u2 - 0xdc00));
                    end += 6;
                }
            }
            match char::from_u32(u) {
                Some(ch) => out.push(ch),
                None => {
                    // Reported once the whole document has parsed, so that a
                    // syntax error later on wins as it does in CPython.
                    self.lone_surrogate.get_or_insert(u);
                    out.push('\u{fffd}');
                }
            }
        }
    }

    /// Four hex digits `s[from..to]`; a bad digit is reported at `to - 5`
    /// (the `u`), as `_json.c` does.
    fn hex4(&self, from: usize, to: usize) -> D<u32> {
        let mut v = 0u32;
        for &d in &self.s[from..to] {
            match d.to_digit(16) {
                Some(x) => v = (v << 4) | x,
                None => return Err(Failure::Syntax("Invalid \\uXXXX escape", to - 5)),
            }
        }
        Ok(v)
    }

    /// `_parse_object_unicode`: the object whose `{` is at `idx - 1`.
    fn parse_object(&mut self, mut idx: usize) -> D<(Value, usize)> {
        let mut pairs: Vec<(Value, Value)> = Vec::new();
        idx = self.skip_ws(idx);
        if self.at(idx) != Some('}') {
            loop {
                if self.at(idx) != Some('"') {
                    return Err(Failure::Syntax(
                        "Expecting property name enclosed in double quotes",
                        idx,
                    ));
                }
                let (key, next) = self.scanstring(idx + 1)?;
                idx = self.skip_ws(next);
                if self.at(idx) != Some(':') {
                    return Err(Failure::Syntax("Expecting ':' delimiter", idx));
                }
                idx = self.skip_ws(idx + 1);
                let (value, next) = self.scan_once(idx)?;
                pairs.push((Value::str(&key), value));
                idx = self.skip_ws(next);
                if self.at(idx) == Some('}') {
                    break;
                }
                if self.at(idx) != Some(',') {
                    return Err(Failure::Syntax("Expecting ',' delimiter", idx));
                }
                idx = self.skip_ws(idx + 1);
            }
        }
        let end = idx + 1;
        if let Some(f) = self.hooks.object_pairs_hook.clone() {
            let list = Value::list(
                pairs
                    .into_iter()
                    .map(|(k, v)| Value::tuple(vec![k, v]))
                    .collect(),
            );
            return Ok((self.it.call(&f, Args::new(vec![list]))?, end));
        }
        let mut d = Dict::new();
        for (k, v) in pairs {
            d.insert(k, v)?;
        }
        let mut result = Value::dict(d);
        if let Some(f) = self.hooks.object_hook.clone() {
            result = self.it.call(&f, Args::new(vec![result]))?;
        }
        Ok((result, end))
    }

    /// `_parse_array_unicode`: the array whose `[` is at `idx - 1`.
    fn parse_array(&mut self, mut idx: usize) -> D<(Value, usize)> {
        let mut items = Vec::new();
        idx = self.skip_ws(idx);
        if self.at(idx) != Some(']') {
            loop {
                let (value, next) = self.scan_once(idx)?;
                items.push(value);
                idx = self.skip_ws(next);
                if self.at(idx) == Some(']') {
                    break;
                }
                if self.at(idx) != Some(',') {
                    return Err(Failure::Syntax("Expecting ',' delimiter", idx));
                }
                idx = self.skip_ws(idx + 1);
            }
        }
        Ok((Value::list(items), idx + 1))
    }
}
