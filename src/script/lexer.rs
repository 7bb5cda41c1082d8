//! Tokenizer for the Python subset: tokens with line numbers, INDENT/DEDENT from an
//! indentation stack, implicit line joining inside brackets, backslash continuation.
//! Never panics: every malformed input becomes a [`SyntaxErr`] with a line.

use std::rc::Rc;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Name(Rc<str>),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    /// An f-string's body, unprocessed: the parser splits it into parts.
    FStr {
        body: String,
        raw: bool,
    },
    Op(&'static str),
    Newline,
    Indent,
    Dedent,
    Eof,
}

#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub line: usize,
}

/// A syntax error or an unsupported construct, with its 1-based line.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxErr {
    pub line: usize,
    pub message: String,
}

pub fn err<T>(line: usize, message: impl Into<String>) -> Result<T, SyntaxErr> {
    Err(SyntaxErr {
        line,
        message: message.into(),
    })
}

const OPS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "->", "**", "//", "<<", ">>", "<=", ">=", "==", "!=", "+=",
    "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=", ":=", "+", "-", "*", "/", "%", "@", "&", "|",
    "^", "~", "<", ">", "(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "=",
];

pub fn tokenize(src: &str) -> Result<Vec<Token>, SyntaxErr> {
    Lexer {
        s: src.chars().collect(),
        i: 0,
        line: 1,
        out: Vec::new(),
        indents: vec![0],
        depth: 0,
        open: Vec::new(),
    }
    .run()
}

struct Lexer {
    s: Vec<char>,
    i: usize,
    line: usize,
    out: Vec<Token>,
    indents: Vec<usize>,
    depth: usize,
    /// Open brackets with their lines, for "'(' was never closed".
    open: Vec<(char, usize)>,
}

impl Lexer {
    fn peek(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }

    fn push(&mut self, tok: Tok, line: usize) {
        self.out.push(Token { tok, line });
    }

    fn run(mut self) -> Result<Vec<Token>, SyntaxErr> {
        let mut at_line_start = true;
        loop {
            if at_line_start && self.depth == 0 {
                // Measure indentation; skip blank and comment-only lines.
                let mut col = 0;
                while let Some(c) = self.peek(0) {
                    match c {
                        ' ' => col += 1,
                        '\t' => col = (col / 8 + 1) * 8,
                        '\x0c' => col = 0,
                        _ => break,
                    }
                    self.i += 1;
                }
                match self.peek(0) {
                    None => break,
                    Some('#') => {
                        while !matches!(self.peek(0), None | Some('\n')) {
                            self.i += 1;
                        }
                        continue;
                    }
                    Some('\n') => {
                        self.i += 1;
                        self.line += 1;
                        continue;
                    }
                    Some('\r') => {
                        self.i += 1;
                        continue;
                    }
                    Some('\\') if self.peek(1) == Some('\n') => {
                        self.i += 2;
                        self.line += 1;
                        continue;
                    }
                    _ => {}
                }
                let top = *self.indents.last().unwrap_or(&0);
                if col > top {
                    self.indents.push(col);
                    self.push(Tok::Indent, self.line);
                } else if col < top {
                    while col < *self.indents.last().unwrap_or(&0) {
                        self.indents.pop();
                        self.push(Tok::Dedent, self.line);
                    }
                    if col != *self.indents.last().unwrap_or(&0) {
                        return err(
                            self.line,
                            "unindent does not match any outer indentation level",
                        );
                    }
                }
                at_line_start = false;
            }
            let Some(c) = self.peek(0) else { break };
            let line = self.line;
            match c {
                ' ' | '\t' | '\x0c' | '\r' => self.i += 1,
                '#' => {
                    while !matches!(self.peek(0), None | Some('\n')) {
                        self.i += 1;
                    }
                }
                '\n' => {
                    self.i += 1;
                    self.line += 1;
                    if self.depth == 0 {
                        self.push(Tok::Newline, line);
                        at_line_start = true;
                    }
                }
                '\\' => {
                    if self.peek(1) == Some('\n') {
                        self.i += 2;
                        self.line += 1;
                    } else if self.peek(1) == Some('\r') && self.peek(2) == Some('\n') {
                        self.i += 3;
                        self.line += 1;
                    } else {
                        return err(
                            line,
                            "unexpected character after line continuation character",
                        );
                    }
                }
                c if c.is_ascii_digit()
                    || (c == '.' && self.peek(1).is_some_and(|d| d.is_ascii_digit())) =>
                {
                    self.number()?
                }
                c if c.is_alphabetic() || c == '_' => {
                    let start = self.i;
                    while self
                        .peek(0)
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                    {
                        self.i += 1;
                    }
                    let word: String = self.s[start..self.i].iter().collect();
                    if matches!(self.peek(0), Some('\'' | '"')) {
                        let lower = word.to_ascii_lowercase();
                        if matches!(
                            lower.as_str(),
                            "r" | "u" | "b" | "br" | "rb" | "f" | "rf" | "fr"
                        ) {
                            self.string(&lower)?;
                            continue;
                        }
                    }
                    self.push(Tok::Name(word.into()), line);
                }
                '\'' | '"' => self.string("")?,
                _ => {
                    let mut matched = None;
                    for op in OPS {
                        if op
                            .chars()
                            .enumerate()
                            .all(|(k, oc)| self.peek(k) == Some(oc))
                        {
                            matched = Some(*op);
                            break;
                        }
                    }
                    let Some(op) = matched else {
                        return err(
                            line,
                            format!("invalid character '{c}' (U+{:04X})", c as u32),
                        );
                    };
                    self.i += op.chars().count();
                    match op {
                        "(" | "[" | "{" => {
                            self.depth += 1;
                            self.open.push((c, line));
                        }
                        ")" | "]" | "}" => {
                            let Some((o, oline)) = self.open.pop() else {
                                return err(line, format!("unmatched '{op}'"));
                            };
                            let expected = match o {
                                '(' => ')',
                                '[' => ']',
                                _ => '}',
                            };
                            if !op.starts_with(expected) {
                                let msg = if oline == line {
                                    format!("closing parenthesis '{op}' does not match opening parenthesis '{o}'")
                                } else {
                                    format!("closing parenthesis '{op}' does not match opening parenthesis '{o}' on line {oline}")
                                };
                                return err(line, msg);
                            }
                            self.depth -= 1
                        }
                        _ => {}
                    }
                    self.push(Tok::Op(op), line);
                }
            }
        }
        if let Some((o, oline)) = self.open.last() {
            return err(*oline, format!("'{o}' was never closed"));
        }
        if !matches!(
            self.out.last().map(|t| &t.tok),
            None | Some(Tok::Newline) | Some(Tok::Dedent)
        ) {
            self.push(Tok::Newline, self.line);
        }
        while self.indents.len() > 1 {
            self.indents.pop();
            self.push(Tok::Dedent, self.line);
        }
        self.push(Tok::Eof, self.line);
        Ok(self.out)
    }

    fn number(&mut self) -> Result<(), SyntaxErr> {
        let line = self.line;
        let start = self.i;
        if self.peek(0) == Some('0')
            && matches!(self.peek(1), Some('x' | 'X' | 'o' | 'O' | 'b' | 'B'))
        {
            let radix = match self.peek(1) {
                Some('x' | 'X') => 16,
                Some('o' | 'O') => 8,
                _ => 2,
            };
            self.i += 2;
            let ds = self.i;
            while self
                .peek(0)
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                self.i += 1;
            }
            let digits: String = self.s[ds..self.i].iter().filter(|c| **c != '_').collect();
            return match i64::from_str_radix(&digits, radix) {
                Ok(n) => {
                    self.push(Tok::Int(n), line);
                    Ok(())
                }
                Err(_) => err(
                    line,
                    "invalid or too large integer literal (integers are limited to 64 bits)",
                ),
            };
        }
        let mut is_float = false;
        while self.peek(0).is_some_and(|c| c.is_ascii_digit() || c == '_') {
            self.i += 1;
        }
        if self.peek(0) == Some('.') {
            is_float = true;
            self.i += 1;
            while self.peek(0).is_some_and(|c| c.is_ascii_digit() || c == '_') {
                self.i += 1;
            }
        }
        if matches!(self.peek(0), Some('e' | 'E'))
            && (self.peek(1).is_some_and(|c| c.is_ascii_digit())
                || (matches!(self.peek(1), Some('+' | '-'))
                    && self.peek(2).is_some_and(|c| c.is_ascii_digit())))
        {
            is_float = true;
            self.i += 2;
            while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
        }
        if matches!(self.peek(0), Some('j' | 'J')) {
            return err(
                line,
                "unsupported syntax: complex number literals are not supported",
            );
        }
        if self.peek(0).is_some_and(|c| c.is_alphabetic() || c == '_') {
            return err(line, "invalid decimal literal");
        }
        let text: String = self.s[start..self.i]
            .iter()
            .filter(|c| **c != '_')
            .collect();
        if is_float {
            match text.parse::<f64>() {
                Ok(f) => self.push(Tok::Float(f), line),
                Err(_) => return err(line, "invalid decimal literal"),
            }
        } else {
            if text.len() > 1 && text.starts_with('0') && text.chars().any(|c| c != '0') {
                return err(line, "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers");
            }
            match text.parse::<i64>() {
                Ok(n) => self.push(Tok::Int(n), line),
                Err(_) => {
                    return err(line, "unsupported syntax: integer literal too large (integers are limited to 64 bits)")
                }
            }
        }
        Ok(())
    }

    fn string(&mut self, prefix: &str) -> Result<(), SyntaxErr> {
        let line = self.line;
        let raw = prefix.contains('r');
        let bytes = prefix.contains('b');
        let fstr = prefix.contains('f');
        let q = self.peek(0).unwrap_or('\'');
        let triple = self.peek(1) == Some(q) && self.peek(2) == Some(q);
        self.i += if triple { 3 } else { 1 };
        let mut body = String::new();
        loop {
            let Some(c) = self.peek(0) else {
                return err(
                    line,
                    if triple {
                        "unterminated triple-quoted string literal"
                    } else {
                        "unterminated string literal"
                    },
                );
            };
            if c == q {
                if !triple {
                    self.i += 1;
                    break;
                }
                if self.peek(1) == Some(q) && self.peek(2) == Some(q) {
                    self.i += 3;
                    break;
                }
            }
            if c == '\n' {
                if !triple {
                    return err(line, "unterminated string literal");
                }
                self.line += 1;
            }
            if c == '\\' {
                if let Some(n) = self.peek(1) {
                    body.push('\\');
                    body.push(n);
                    if n == '\n' {
                        self.line += 1;
                    }
                    self.i += 2;
                    continue;
                }
            }
            body.push(c);
            self.i += 1;
        }
        if fstr {
            self.push(Tok::FStr { body, raw }, line);
            return Ok(());
        }
        let text = if raw {
            body
        } else {
            unescape(&body, bytes, line)?
        };
        if bytes {
            let mut out = Vec::new();
            for ch in text.chars() {
                if (ch as u32) > 0xff {
                    return err(line, "bytes can only contain ASCII literal characters");
                }
                out.push(ch as u32 as u8);
            }
            self.push(Tok::Bytes(out), line);
        } else {
            self.push(Tok::Str(text), line);
        }
        Ok(())
    }
}

/// Processes backslash escapes of a non-raw literal.
pub fn unescape(body: &str, bytes: bool, line: usize) -> Result<String, SyntaxErr> {
    let cs: Vec<char> = body.chars().collect();
    let mut out = String::with_capacity(body.len());
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c != '\\' || i + 1 >= cs.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let n = cs[i + 1];
        i += 2;
        match n {
            '\n' => {}
            '\\' => out.push('\\'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '0'..='7' => {
                let mut v = n.to_digit(8).unwrap_or(0);
                let mut k = 0;
                while k < 2 && i < cs.len() && cs[i].is_digit(8) {
                    v = v * 8 + cs[i].to_digit(8).unwrap_or(0);
                    i += 1;
                    k += 1;
                }
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            'x' | 'u' | 'U' if !(bytes && n != 'x') => {
                let len = match n {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = cs.iter().skip(i).take(len).collect();
                if hex.len() != len || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    return err(line, format!("(unicode error) truncated \\{n} escape"));
                }
                i += len;
                let v = u32::from_str_radix(&hex, 16).unwrap_or(0xfffd);
                match char::from_u32(v) {
                    Some(ch) => out.push(ch),
                    None => return err(line, "(unicode error) illegal Unicode character"),
                }
            }
            'N' if !bytes => {
                return err(
                    line,
                    "unsupported syntax: \\N{...} escapes are not supported",
                )
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn indentation() {
        let t = toks("if x:\n    y\nz\n");
        assert!(t.contains(&Tok::Indent));
        assert!(t.contains(&Tok::Dedent));
    }

    #[test]
    fn strings_and_numbers() {
        assert_eq!(toks("'a\\n'")[0], Tok::Str("a\n".into()));
        assert_eq!(toks("r'a\\n'")[0], Tok::Str("a\\n".into()));
        assert_eq!(toks("0x1f")[0], Tok::Int(31));
        assert_eq!(toks("1.5e3")[0], Tok::Float(1500.0));
        assert_eq!(toks("b'ab'")[0], Tok::Bytes(b"ab".to_vec()));
    }

    #[test]
    fn errors_have_lines() {
        let e = tokenize("x = (\n'abc").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(tokenize("if x:\n    y\n  z\n").is_err());
    }
}
