//! The HTSQL scanner (htsql.md §2): percent-decoding, then tokens with byte spans
//! into the decoded text. Signals (pipe, direction, assignment) are decided by the
//! parser's lookahead instead of synthetic tokens.

use super::error::{error, with_mark, Mark};
use crate::core::Result;
use std::rc::Rc;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Str(String),
    Float(String),
    Decimal(String),
    Integer(String),
    Name(String),
    Symbol(&'static str),
    /// `[ ... ]`: the labels of an identity literal.
    Identity(Vec<IdLabel>),
    End,
}

/// A label inside `[...]`.
#[derive(Clone, Debug, PartialEq)]
pub enum IdLabel {
    Label(String),
    Str(String),
    Ref(String),
    Group(Vec<IdLabel>),
}

#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

const SYMBOLS: [&str; 32] = [
    "~", "!~", "<=", "<", ">=", ">", "==", "=", "!==", "!=", "^", "?", "->", "@", ":=", "!", "&",
    "|", "+", "-", "*", "/", "(", ")", "{", "}", ".", ",", ":", ";", "$", "",
];

/// `urllib.parse.unquote(text, errors='strict')`.
pub fn decode(text: &str) -> Result<String> {
    if !text.contains('%') {
        return Ok(text.to_string());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                std::str::from_utf8(h)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            });
            match hex {
                Some(b) if bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit() => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                _ => {
                    let mark = Mark {
                        text: text.into(),
                        start: i,
                        end: i + 1,
                    };
                    return Err(with_mark(
                        error("Expected symbol `%` followed by two hexdecimal digits", None),
                        "While parsing",
                        &mark,
                    ));
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| error("Got invalid UTF-8 after decoding", None))
}

struct Scanner<'a> {
    text: &'a str,
    rc: Rc<str>,
    pos: usize,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl<'a> Scanner<'a> {
    fn fail(&self, message: &str, start: usize, end: usize) -> crate::core::Error {
        let mark = Mark {
            text: self.rc.clone(),
            start,
            end,
        };
        with_mark(error(message, None), "While parsing", &mark)
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn skip_junk(&mut self) {
        loop {
            let rest = self.rest();
            let Some(c) = rest.chars().next() else { return };
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else if c == '#' {
                let end = rest
                    .find(['\0', '\r', '\n'])
                    .unwrap_or(rest.len());
                self.pos += end;
            } else {
                return;
            }
        }
    }

    /// `' ( [^'\0] | '' )* '` starting at the current `'`.
    fn string(&mut self) -> Result<String> {
        let start = self.pos;
        let mut value = String::new();
        let mut chars = self.text[start + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' => {
                    if self.text[start + 1 + i + 1..].starts_with('\'') {
                        value.push('\'');
                        chars.next();
                    } else {
                        self.pos = start + 1 + i + 1;
                        return Ok(value);
                    }
                }
                '\0' => break,
                c => value.push(c),
            }
        }
        Err(self.fail("cannot find a matching quote mark", start, start + 1))
    }

    fn digits(&self, from: usize) -> usize {
        self.text[from..]
            .bytes()
            .take_while(|b| b.is_ascii_digit())
            .count()
    }

    /// FLOAT, DECIMAL or INTEGER at the current position (which starts a number).
    fn number(&mut self) -> Tok {
        let start = self.pos;
        let mut p = start + self.digits(start);
        let int_digits = p - start;
        let mut has_dot = false;
        if self.text[p..].starts_with('.') {
            let frac = self.digits(p + 1);
            if int_digits > 0 || frac > 0 {
                has_dot = true;
                p += 1 + frac;
            }
        }
        let exp = if self.text[p..].starts_with(['e', 'E']) {
            let mut q = p + 1;
            if self.text[q..].starts_with(['+', '-']) {
                q += 1;
            }
            let d = self.digits(q);
            (d > 0).then_some(q + d)
        } else {
            None
        };
        if let Some(end) = exp {
            self.pos = end;
            return Tok::Float(self.text[start..end].to_string());
        }
        self.pos = p;
        let text = self.text[start..p].to_string();
        if has_dot {
            Tok::Decimal(text)
        } else {
            Tok::Integer(text)
        }
    }

    fn identity(&mut self, open: char) -> Result<Vec<IdLabel>> {
        let start = self.pos;
        self.pos += 1;
        let close = if open == '[' { ']' } else { ')' };
        let mut labels = Vec::new();
        loop {
            self.skip_junk();
            let rest = self.rest();
            let Some(c) = rest.chars().next() else {
                let msg = if open == '[' {
                    "cannot find a matching ']'"
                } else {
                    "cannot find a matching ')'"
                };
                return Err(self.fail(msg, start, start + 1));
            };
            if c == close {
                self.pos += 1;
                return Ok(labels);
            }
            match c {
                '.' => self.pos += 1,
                '[' | '(' => labels.push(IdLabel::Group(self.identity(c)?)),
                '\'' => labels.push(IdLabel::Str(self.string()?)),
                '$' => {
                    self.pos += 1;
                    let n: usize = self.rest().chars().take_while(|c| is_word(*c)).map(char::len_utf8).sum();
                    if n == 0 {
                        return Err(self.fail(&format!("Got unexpected character {}", crate::core::repr::py_str_repr(&c.to_string())), self.pos - 1, self.pos));
                    }
                    labels.push(IdLabel::Ref(self.rest()[..n].to_string()));
                    self.pos += n;
                }
                c if is_word(c) || c == '-' => {
                    let n: usize = rest
                        .chars()
                        .take_while(|c| is_word(*c) || *c == '-')
                        .map(char::len_utf8)
                        .sum();
                    labels.push(IdLabel::Label(rest[..n].to_string()));
                    self.pos += n;
                }
                c => {
                    return Err(self.fail(
                        &format!(
                            "Got unexpected character {}",
                            crate::core::repr::py_str_repr(&c.to_string())
                        ),
                        self.pos,
                        self.pos + c.len_utf8(),
                    ))
                }
            }
        }
    }

    fn next(&mut self) -> Result<Token> {
        self.skip_junk();
        let start = self.pos;
        let rest = self.rest();
        let Some(c) = rest.chars().next() else {
            return Ok(Token {
                tok: Tok::End,
                start,
                end: start,
            });
        };
        let tok = if c == '\'' {
            Tok::Str(self.string()?)
        } else if c.is_ascii_digit()
            || (c == '.' && rest[1..].starts_with(|d: char| d.is_ascii_digit()))
        {
            self.number()
        } else if is_word(c) {
            let n: usize = rest.chars().take_while(|c| is_word(*c)).map(char::len_utf8).sum();
            self.pos += n;
            Tok::Name(rest[..n].to_string())
        } else if c == '[' {
            Tok::Identity(self.identity('[')?)
        } else if c == ']' {
            return Err(self.fail("cannot find a matching '['", start, start + 1));
        } else if let Some(sym) = SYMBOLS
            .iter()
            .find(|s| !s.is_empty() && rest.starts_with(**s))
        {
            self.pos += sym.len();
            Tok::Symbol(sym)
        } else {
            return Err(self.fail(
                &format!(
                    "Got unexpected character {}",
                    crate::core::repr::py_str_repr(&c.to_string())
                ),
                start,
                start + c.len_utf8(),
            ));
        };
        Ok(Token {
            tok,
            start,
            end: self.pos,
        })
    }
}

/// Scans the decoded text into tokens, the last one `End`.
pub fn scan(text: &Rc<str>) -> Result<Vec<Token>> {
    let mut s = Scanner {
        text,
        rc: text.clone(),
        pos: 0,
    };
    let mut out = Vec::new();
    loop {
        let t = s.next()?;
        let end = t.tok == Tok::End;
        out.push(t);
        if end {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_numbers_strings_and_symbols() {
        let text: Rc<str> = "1 1.5 .5 1e3 'it''s' a!=b [x.'y'.$z]".into();
        let toks: Vec<Tok> = scan(&text).unwrap().into_iter().map(|t| t.tok).collect();
        assert_eq!(toks[0], Tok::Integer("1".into()));
        assert_eq!(toks[1], Tok::Decimal("1.5".into()));
        assert_eq!(toks[2], Tok::Decimal(".5".into()));
        assert_eq!(toks[3], Tok::Float("1e3".into()));
        assert_eq!(toks[4], Tok::Str("it's".into()));
        assert_eq!(toks[6], Tok::Symbol("!="));
        assert!(matches!(toks[8], Tok::Identity(ref l) if l.len() == 3));
    }

    #[test]
    fn decodes_percent() {
        assert_eq!(decode("%25o%25").unwrap(), "%o%");
        let e = decode("'%o'").unwrap_err().to_string();
        assert!(e.starts_with("Expected symbol `%` followed by two hexdecimal digits\nWhile parsing:\n    '%o'\n     ^"), "{e}");
    }
}
