//! Tokenizer for the Python subset: tokens with line numbers and columns,
//! INDENT/DEDENT from an indentation stack, implicit line joining inside brackets,
//! backslash continuation. Never panics: every malformed input becomes a
//! [`SyntaxErr`] with a line and, where CPython shows a caret, the columns it marks.

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
    /// 0-based character columns of the token's first character and just past its
    /// last (on the line the token ends on, for a multi-line string).
    pub col: usize,
    pub end_col: usize,
}

impl Token {
    /// The columns CPython's caret marks for this token (1-based, end exclusive).
    pub fn span(&self) -> Span {
        Span::new(self.col + 1, self.end_col + 1)
    }
}

/// What a SyntaxError's caret line marks on its line: CPython's `offset` and
/// `end_offset`, 1-based character columns, `end` exclusive and past `start`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    /// A span of at least one column (CPython widens an empty one the same way).
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start,
            end: end.max(start + 1),
        }
    }

    /// One column.
    pub fn at(start: usize) -> Span {
        Span::new(start, start + 1)
    }
}

/// A syntax error or an unsupported construct, with its 1-based line and, when
/// known, the columns CPython's report marks.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxErr {
    pub line: usize,
    pub message: String,
    pub span: Option<Span>,
}

pub fn err<T>(line: usize, message: impl Into<String>) -> Result<T, SyntaxErr> {
    Err(SyntaxErr {
        line,
        message: message.into(),
        span: None,
    })
}

/// An error whose caret marks `span` on `line`.
pub fn err_at<T>(line: usize, span: Span, message: impl Into<String>) -> Result<T, SyntaxErr> {
    Err(SyntaxErr {
        line,
        message: message.into(),
        span: Some(span),
    })
}

const OPS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "->", "**", "//", "<<", ">>", "<=", ">=", "==", "!=", "+=",
    "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=", ":=", "+", "-", "*", "/", "%", "@", "&", "|",
    "^", "~", "<", ">", "(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "=",
];

/// All the tokens of `src`, or its first error.
pub fn tokenize(src: &str) -> Result<Vec<Token>, SyntaxErr> {
    match tokenize_lazily(src) {
        (_, Some(e)) => Err(e),
        (tokens, None) => Ok(tokens),
    }
}

/// The tokens before the first error (then an ENDMARKER) and the error: as
/// CPython's tokenizer, which runs only as far as the parser reads, an error is
/// the parser's to raise when it reaches that point (a parse error before it wins).
pub fn tokenize_lazily(src: &str) -> (Vec<Token>, Option<SyntaxErr>) {
    Lexer {
        s: src.chars().collect(),
        i: 0,
        line: 1,
        line_start: 0,
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
    /// Index in `s` of the current line's first character.
    line_start: usize,
    out: Vec<Token>,
    indents: Vec<usize>,
    depth: usize,
    /// Open brackets with their lines and columns, for "'(' was never closed".
    open: Vec<(char, usize, usize)>,
}

impl Lexer {
    fn peek(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }

    /// Pushes a token that started at index `start` of `s` on `line`.
    fn push(&mut self, tok: Tok, line: usize, start: usize) {
        let col = self.col_of(line, start);
        let end_col = self.i - self.line_start;
        self.out.push(Token {
            tok,
            line,
            col,
            end_col,
        });
    }

    /// The column of index `at`, which is on `line` (a line before the current
    /// one only for a token spanning lines: its start is found from `at` back).
    fn col_of(&self, line: usize, at: usize) -> usize {
        if line == self.line && at >= self.line_start {
            return at - self.line_start;
        }
        let begin = self.s[..at.min(self.s.len())]
            .iter()
            .rposition(|c| *c == '\n')
            .map_or(0, |k| k + 1);
        at - begin
    }

    /// Steps over the newline at `self.i`.
    fn next_line(&mut self) {
        self.i += 1;
        self.line += 1;
        self.line_start = self.i;
    }

    /// The text of line `line_start`.. without its newline, as CPython's `text`.
    fn line_len(&self, from: usize) -> usize {
        self.s[from..].iter().take_while(|c| **c != '\n').count()
    }

    /// A token at the end of the source (DEDENT, ENDMARKER) stands where CPython
    /// reports errors found there: just past the last line's text.
    fn push_at_end(&mut self, tok: Tok) {
        let (line, col) = match self.out.iter().rev().find(|t| t.tok == Tok::Newline) {
            Some(t) => (t.line, t.col),
            None => (self.line, self.i - self.line_start),
        };
        self.out.push(Token {
            tok,
            line,
            col,
            end_col: col + 1,
        });
    }

    fn run(mut self) -> (Vec<Token>, Option<SyntaxErr>) {
        match self.scan() {
            Ok(()) => (self.out, None),
            Err(e) => {
                self.push_at_end(Tok::Eof);
                (self.out, Some(e))
            }
        }
    }

    fn scan(&mut self) -> Result<(), SyntaxErr> {
        let mut at_line_start = true;
        // Where a comment ending the current line starts.
        let mut comment: Option<usize> = None;
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
                        self.next_line();
                        continue;
                    }
                    Some('\r') => {
                        self.i += 1;
                        continue;
                    }
                    Some('\\') if self.peek(1) == Some('\n') => {
                        self.i += 1;
                        self.next_line();
                        continue;
                    }
                    _ => {}
                }
                let top = *self.indents.last().unwrap_or(&0);
                let start = self.line_start;
                if col > top {
                    self.indents.push(col);
                    self.push(Tok::Indent, self.line, start);
                } else if col < top {
                    while col < *self.indents.last().unwrap_or(&0) {
                        self.indents.pop();
                        self.push(Tok::Dedent, self.line, self.i);
                    }
                    if col != *self.indents.last().unwrap_or(&0) {
                        // CPython marks the end of the line.
                        let len = self.line_len(self.line_start);
                        return err_at(
                            self.line,
                            Span::at(len + 1),
                            "unindent does not match any outer indentation level",
                        );
                    }
                }
                at_line_start = false;
            }
            let Some(c) = self.peek(0) else { break };
            let line = self.line;
            let start = self.i;
            if c != '\n' {
                comment = None;
            }
            match c {
                ' ' | '\t' | '\x0c' | '\r' => self.i += 1,
                '#' => {
                    comment = Some(start);
                    while !matches!(self.peek(0), None | Some('\n')) {
                        self.i += 1;
                    }
                    continue;
                }
                '\n' => {
                    if self.depth == 0 {
                        // As CPython's, the NEWLINE token starts with a comment before
                        // it and ends where the newline character starts.
                        self.push(Tok::Newline, line, comment.unwrap_or(start));
                        at_line_start = true;
                    }
                    self.next_line();
                }
                '\\' => {
                    if self.peek(1) == Some('\n') {
                        self.i += 1;
                        self.next_line();
                    } else if self.peek(1) == Some('\r') && self.peek(2) == Some('\n') {
                        self.i += 2;
                        self.next_line();
                    } else {
                        let col = start - self.line_start;
                        return err_at(
                            line,
                            Span::at(col + 2),
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
                            self.string(&lower, start)?;
                            continue;
                        }
                    }
                    self.push(Tok::Name(word.into()), line, start);
                }
                '\'' | '"' => self.string("", start)?,
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
                    let col = start - self.line_start;
                    let Some(op) = matched else {
                        // CPython's tokenizer passes stray ASCII on to the parser.
                        let message = if c.is_ascii() {
                            "invalid syntax".to_string()
                        } else {
                            format!("invalid character '{c}' (U+{:04X})", c as u32)
                        };
                        return err_at(line, Span::at(col + 1), message);
                    };
                    self.i += op.chars().count();
                    match op {
                        "(" | "[" | "{" => {
                            self.depth += 1;
                            self.open.push((c, line, col));
                        }
                        ")" | "]" | "}" => {
                            let Some((o, oline, _)) = self.open.pop() else {
                                return err_at(
                                    line,
                                    Span::at(col + 1),
                                    format!("unmatched '{op}'"),
                                );
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
                                return err_at(line, Span::at(col + 1), msg);
                            }
                            self.depth -= 1
                        }
                        _ => {}
                    }
                    self.push(Tok::Op(op), line, start);
                }
            }
        }
        if let Some((o, oline, ocol)) = self.open.last() {
            return err_at(
                *oline,
                Span::at(ocol + 1),
                format!("'{o}' was never closed"),
            );
        }
        if !matches!(
            self.out.last().map(|t| &t.tok),
            None | Some(Tok::Newline) | Some(Tok::Dedent)
        ) {
            let start = self.i;
            self.push(Tok::Newline, self.line, start);
            if let Some(t) = self.out.last_mut() {
                t.end_col = t.col + 1;
            }
        }
        while self.indents.len() > 1 {
            self.indents.pop();
            self.push_at_end(Tok::Dedent);
        }
        self.push_at_end(Tok::Eof);
        Ok(())
    }

    /// The 0-based column of index `at` on the current line.
    fn col(&self, at: usize) -> usize {
        at - self.line_start
    }

    /// Digits (and single underscores between them) of `radix` from `self.i`; a
    /// misplaced underscore is CPython's "invalid ... literal" at the character
    /// after it.
    fn digits(&mut self, radix: u32, kind: &str) -> Result<(), SyntaxErr> {
        while let Some(c) = self.peek(0) {
            if c == '_' {
                if !self.peek(1).is_some_and(|d| d.is_digit(radix)) {
                    let col = self.col(self.i + 1);
                    return err_at(self.line, Span::at(col), format!("invalid {kind} literal"));
                }
                self.i += 1;
            } else if c.is_digit(radix) {
                self.i += 1;
            } else {
                break;
            }
        }
        Ok(())
    }

    fn number(&mut self) -> Result<(), SyntaxErr> {
        let line = self.line;
        let start = self.i;
        if self.peek(0) == Some('0')
            && matches!(self.peek(1), Some('x' | 'X' | 'o' | 'O' | 'b' | 'B'))
        {
            let (radix, kind) = match self.peek(1) {
                Some('x' | 'X') => (16, "hexadecimal"),
                Some('o' | 'O') => (8, "octal"),
                _ => (2, "binary"),
            };
            self.i += 2;
            if self.peek(0) == Some('_') {
                self.i += 1;
            }
            let ds = self.i;
            self.digits(radix, kind)?;
            if let Some(c) = self.peek(0).filter(|c| c.is_ascii_alphanumeric()) {
                if radix < 16 && c.is_ascii_digit() {
                    let col = self.col(self.i);
                    return err_at(
                        line,
                        Span::at(col + 1),
                        format!("invalid digit '{c}' in {kind} literal"),
                    );
                }
                let col = self.col(self.i);
                return err_at(line, Span::at(col), format!("invalid {kind} literal"));
            }
            if self.i == ds {
                let col = self.col(self.i);
                return err_at(line, Span::at(col), format!("invalid {kind} literal"));
            }
            let digits: String = self.s[ds..self.i].iter().filter(|c| **c != '_').collect();
            return match i64::from_str_radix(&digits, radix) {
                Ok(n) => {
                    self.push(Tok::Int(n), line, start);
                    Ok(())
                }
                Err(_) => err_at(
                    line,
                    Span::new(self.col(start) + 1, self.col(self.i) + 1),
                    "unsupported syntax: integer literal too large (integers are limited to 64 bits)",
                ),
            };
        }
        let mut is_float = false;
        self.digits(10, "decimal")?;
        if self.peek(0) == Some('.') {
            is_float = true;
            self.i += 1;
            self.digits(10, "decimal")?;
        }
        if matches!(self.peek(0), Some('e' | 'E'))
            && (self.peek(1).is_some_and(|c| c.is_ascii_digit())
                || (matches!(self.peek(1), Some('+' | '-'))
                    && self.peek(2).is_some_and(|c| c.is_ascii_digit())))
        {
            is_float = true;
            self.i += 1;
            if matches!(self.peek(0), Some('+' | '-')) {
                self.i += 1;
            }
            self.digits(10, "decimal")?;
        }
        let span = Span::new(self.col(start) + 1, self.col(self.i) + 1);
        if matches!(self.peek(0), Some('j' | 'J')) {
            self.i += 1;
            return err_at(
                line,
                Span::new(span.start, self.col(self.i) + 1),
                "unsupported syntax: complex number literals are not supported",
            );
        }
        if self.peek(0).is_some_and(|c| c.is_alphabetic() || c == '_') {
            return err_at(line, Span::at(self.col(self.i)), "invalid decimal literal");
        }
        let text: String = self.s[start..self.i]
            .iter()
            .filter(|c| **c != '_')
            .collect();
        if is_float {
            match text.parse::<f64>() {
                Ok(f) => self.push(Tok::Float(f), line, start),
                Err(_) => return err_at(line, span, "invalid decimal literal"),
            }
        } else {
            if text.len() > 1 && text.starts_with('0') && text.chars().any(|c| c != '0') {
                let zeros = text.chars().take_while(|c| *c == '0').count();
                return err_at(
                    line,
                    Span::new(span.start, span.start + zeros),
                    "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers",
                );
            }
            match text.parse::<i64>() {
                Ok(n) => self.push(Tok::Int(n), line, start),
                Err(_) => {
                    return err_at(line, span, "unsupported syntax: integer literal too large (integers are limited to 64 bits)")
                }
            }
        }
        Ok(())
    }

    /// A string literal whose prefix (if any) starts at index `start`.
    fn string(&mut self, prefix: &str, start: usize) -> Result<(), SyntaxErr> {
        let line = self.line;
        let col = self.col(start);
        let raw = prefix.contains('r');
        let bytes = prefix.contains('b');
        let fstr = prefix.contains('f');
        let q = self.peek(0).unwrap_or('\'');
        let triple = self.peek(1) == Some(q) && self.peek(2) == Some(q);
        self.i += if triple { 3 } else { 1 };
        let mut body = String::new();
        let unterminated = |lexer: &Lexer| {
            // CPython counts the line a source's final newline ends as the last.
            let detected = if lexer.peek(0).is_none() && lexer.i > 0 && lexer.s[lexer.i - 1] == '\n'
            {
                lexer.line - 1
            } else {
                lexer.line
            };
            let kind = if triple {
                "triple-quoted string"
            } else {
                "string"
            };
            err_at(
                line,
                Span::at(col + 1),
                format!("unterminated {kind} literal (detected at line {detected})"),
            )
        };
        loop {
            let Some(c) = self.peek(0) else {
                return unterminated(self);
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
                    return unterminated(self);
                }
                self.next_line();
                body.push(c);
                continue;
            }
            if c == '\\' {
                if let Some(n) = self.peek(1) {
                    body.push('\\');
                    body.push(n);
                    self.i += 1;
                    if n == '\n' {
                        self.next_line();
                    } else {
                        self.i += 1;
                    }
                    continue;
                }
            }
            body.push(c);
            self.i += 1;
        }
        if fstr {
            self.push(Tok::FStr { body, raw }, line, start);
            return Ok(());
        }
        if bytes && !body.is_ascii() {
            let end = self.i - self.line_start;
            return err_at(
                line,
                Span::new(col + 1, end + 1),
                "bytes can only contain ASCII literal characters",
            );
        }
        let text = if raw {
            body
        } else {
            unescape(&body, bytes, line)?
        };
        if bytes {
            let out = text.chars().map(|ch| ch as u32 as u8).collect();
            self.push(Tok::Bytes(out), line, start);
        } else {
            self.push(Tok::Str(text), line, start);
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
