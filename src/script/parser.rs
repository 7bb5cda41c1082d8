//! Recursive-descent parser from tokens to the AST, one method per grammar level.
//! Constructs outside the subset (`async`, `match`, walrus, annotations...) are
//! refused with a message naming the construct.

use super::ast::*;
use super::lexer::{err, err_at, tokenize, tokenize_lazily, unescape, Span, SyntaxErr, Tok, Token};
use super::value::Value;
use std::collections::HashSet;
use std::rc::Rc;

type PResult<T> = Result<T, SyntaxErr>;

/// A parsed source: statements plus how many top-level statements it has (CPython's
/// "single" mode accepts only one, though it may be `a; b` on one line).
pub struct Module {
    pub body: Vec<Stmt>,
    pub top_level: usize,
}

/// A module: any number of statements.
pub fn parse(src: &str) -> PResult<Module> {
    parse_mode(src, false)
}

/// CPython's "single" mode (an interactive statement, a doctest example): one
/// statement, which may be `a; b` on one line; anything after it is CPython's
/// "multiple statements" error at the end of the first.
pub fn parse_single(src: &str) -> PResult<Module> {
    parse_mode(src, true)
}

fn parse_mode(src: &str, single: bool) -> PResult<Module> {
    let (toks, pending) = tokenize_lazily(src);
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        pending,
        comma_hint: true,
    };
    let mut body = Vec::new();
    let mut top_level = 0;
    while !p.at_eof() {
        if p.eat_tok(&Tok::Newline) {
            continue;
        }
        if single && top_level == 1 {
            let end = p.first_newline_before(p.pos);
            return err_at(
                end.line,
                Span::at(end.col + 1),
                "multiple statements found while compiling a single statement",
            );
        }
        if matches!(p.peek(), Tok::Indent) {
            return p.unexpected();
        }
        top_level += 1;
        p.statement(&mut body)?;
    }
    if let Some(e) = p.pending.take() {
        return Err(e);
    }
    Ok(Module { body, top_level })
}

/// Parses a standalone expression (an f-string replacement field).
fn parse_expr_src(src: &str, line: usize) -> PResult<Expr> {
    let toks = tokenize(&format!("({src})")).map_err(|e| SyntaxErr {
        line,
        message: format!("f-string: {}", e.message),
        span: None,
    })?;
    let toks = toks
        .into_iter()
        .map(|t| Token {
            tok: t.tok,
            line,
            col: 0,
            end_col: 0,
        })
        .collect();
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        pending: None,
        comma_hint: true,
    };
    let e = p.expr_list()?;
    p.eat_tok(&Tok::Newline);
    if !p.at_eof() {
        return err(line, "f-string: invalid syntax");
    }
    Ok(e)
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    /// Nesting depth of expressions and blocks, bounded so that hostile input
    /// cannot overflow the Rust stack.
    depth: usize,
    /// The tokenizer's error after the last token: raised when parsing gets there.
    pending: Option<SyntaxErr>,
    /// Whether "Perhaps you forgot a comma?" applies (not in parameter lists).
    comma_hint: bool,
}

const MAX_DEPTH: usize = 100;

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

fn expr(kind: ExprKind, line: usize) -> Expr {
    Expr { kind, line }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].tok
    }
    fn peek_at(&self, k: usize) -> &Tok {
        &self.toks[(self.pos + k).min(self.toks.len() - 1)].tok
    }
    fn line(&self) -> usize {
        self.toks[self.pos.min(self.toks.len() - 1)].line
    }
    fn at_eof(&self) -> bool {
        matches!(self.peek(), Tok::Eof)
    }
    fn advance(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }
    fn eat_tok(&mut self, t: &Tok) -> bool {
        if self.peek() == t {
            self.advance();
            true
        } else {
            false
        }
    }
    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }
    fn eat_op(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.advance();
            true
        } else {
            false
        }
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Name(n) if &**n == kw)
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.advance();
            true
        } else {
            false
        }
    }
    fn token(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }
    /// An error whose caret marks the current token.
    fn err_here<T>(&self, message: impl Into<String>) -> PResult<T> {
        let t = self.token();
        err_at(t.line, t.span(), message)
    }
    /// An error whose caret marks tokens `first..=last`.
    fn err_tokens<T>(&self, first: usize, last: usize, message: impl Into<String>) -> PResult<T> {
        let last = last.max(first).min(self.toks.len() - 1);
        let (a, b) = (&self.toks[first], &self.toks[last]);
        let end = if b.line == a.line {
            b.end_col
        } else {
            a.end_col
        };
        err_at(a.line, Span::new(a.col + 1, end + 1), message)
    }
    /// The NEWLINE token that ends the statement before token `at`.
    fn first_newline_before(&self, at: usize) -> &Token {
        let mut k = at.min(self.toks.len() - 1);
        while k > 0 && matches!(self.toks[k - 1].tok, Tok::Newline | Tok::Dedent) {
            k -= 1;
        }
        &self.toks[k.min(self.toks.len() - 1)]
    }
    /// The token at the current position cannot be read here: CPython's
    /// "invalid syntax" at it, or a more precise message CPython gives for it.
    fn unexpected<T>(&mut self) -> PResult<T> {
        if self.at_eof() {
            if let Some(e) = self.pending.clone() {
                return Err(e);
            }
        }
        match self.peek() {
            Tok::Eof => return self.err_here("unexpected EOF while parsing"),
            Tok::Indent => {
                // CPython's offset is the indentation's width (no caret after spaces).
                let t = self.token();
                return err_at(t.line, Span::at(t.end_col), "unexpected indent");
            }
            Tok::Dedent => {
                return self.err_here("unindent does not match any outer indentation level")
            }
            _ => {}
        }
        if let Some(e) = self.missing_comma() {
            return Err(e);
        }
        self.err_here("invalid syntax")
    }
    /// CPython's "Perhaps you forgot a comma?": inside brackets, an expression
    /// directly after another one. The caret spans both.
    fn missing_comma(&mut self) -> Option<SyntaxErr> {
        let at = self.pos;
        if !self.comma_hint
            || at == 0
            || !ends_expression(&self.toks[at - 1].tok)
            || !starts_expression(self.peek())
        {
            return None;
        }
        // Inside brackets?
        let mut level = 0i32;
        for t in &self.toks[..at] {
            match t.tok {
                Tok::Op("(" | "[" | "{") => level += 1,
                Tok::Op(")" | "]" | "}") => level -= 1,
                _ => {}
            }
        }
        if level <= 0 {
            return None;
        }
        // The expression before: back to a separator at its own nesting level.
        let mut first = at;
        let mut depth = 0i32;
        while first > 0 {
            match &self.toks[first - 1].tok {
                Tok::Op(")" | "]" | "}") => depth += 1,
                Tok::Op("(" | "[" | "{") if depth > 0 => depth -= 1,
                Tok::Op("(" | "[" | "{" | "," | ":" | "=" | "*" | "**") if depth == 0 => break,
                Tok::Name(n)
                    if depth == 0
                        && matches!(&**n, "if" | "else" | "for" | "lambda" | "yield" | "in") =>
                {
                    break
                }
                _ => {}
            }
            first -= 1;
        }
        let legacy = matches!(&self.toks[first].tok, Tok::Name(n) if matches!(&**n, "print" | "exec" | "match" | "case" | "_"))
            && first + 1 == at;
        let name_string = matches!(self.toks[first].tok, Tok::Name(_))
            && matches!(
                self.toks.get(first + 1).map(|t| &t.tok),
                Some(Tok::Str(_) | Tok::Bytes(_) | Tok::FStr { .. })
            );
        if legacy || name_string {
            return None;
        }
        let r = self.test();
        let last = self.pos.saturating_sub(1);
        self.pos = at;
        r.ok()?;
        self.err_tokens::<()>(first, last, "invalid syntax. Perhaps you forgot a comma?")
            .err()
    }
    fn expect_op(&mut self, op: &str) -> PResult<()> {
        if self.eat_op(op) {
            Ok(())
        } else if self.at_eof() && self.pending.is_some() {
            self.unexpected()
        } else if matches!(op, ")" | "]" | "}") && matches!(self.peek(), Tok::Newline | Tok::Eof) {
            self.err_here(format!(
                "'{}' was never closed",
                match op {
                    ")" => "(",
                    "]" => "[",
                    _ => "{",
                }
            ))
        } else {
            self.unexpected()
        }
    }
    /// `:` and the block of a compound statement (`what` on `line`, as CPython's
    /// "expected an indented block after ..." names it).
    fn suite(&mut self, what: &str, line: usize) -> PResult<Vec<Stmt>> {
        if !self.eat_op(":") {
            if matches!(self.peek(), Tok::Newline) {
                return self.err_here("expected ':'");
            }
            return self.unexpected();
        }
        if matches!(self.peek(), Tok::Newline) && !matches!(self.peek_at(1), Tok::Indent) {
            self.advance();
            let t = self.token();
            return Err(SyntaxErr {
                line: t.line,
                message: format!("expected an indented block after {what} on line {line}"),
                span: Some(t.span()),
            });
        }
        self.block()
    }
    /// An `else:` block, if there is one.
    fn else_suite(&mut self) -> PResult<Option<Vec<Stmt>>> {
        if !self.is_kw("else") {
            return Ok(None);
        }
        let line = self.line();
        self.advance();
        self.suite("'else' statement", line).map(Some)
    }
    fn name(&mut self) -> PResult<Name> {
        match self.peek().clone() {
            Tok::Name(n) if !KEYWORDS.contains(&&*n) => {
                self.advance();
                Ok(n)
            }
            _ => self.unexpected(),
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(
                self.line(),
                "too many nested parentheses or blocks (the harness's limit is 100)",
            );
        }
        Ok(())
    }

    // ---------------------------------------------------------------- statements

    fn statement(&mut self, out: &mut Vec<Stmt>) -> PResult<()> {
        let line = self.line();
        let kw = match self.peek() {
            Tok::Name(n) => n.to_string(),
            Tok::Op("@") => "@".into(),
            _ => String::new(),
        };
        match kw.as_str() {
            "if" => {
                self.advance();
                out.push(self.if_rest(line, "'if' statement")?);
            }
            "while" => {
                self.advance();
                let test = self.condition()?;
                let body = self.suite("'while' statement", line)?;
                let orelse = self.else_suite()?.unwrap_or_default();
                out.push(Stmt {
                    kind: StmtKind::While(test, body, orelse),
                    line,
                });
            }
            "for" => {
                self.advance();
                let target = self.target_list()?;
                if !self.eat_kw("in") {
                    return err(self.line(), "invalid syntax (expected 'in')");
                }
                let iter = self.expr_list()?;
                let body = self.suite("'for' statement", line)?;
                let orelse = self.else_suite()?.unwrap_or_default();
                out.push(Stmt {
                    kind: StmtKind::For(target, iter, body, orelse),
                    line,
                });
            }
            "try" => {
                self.advance();
                out.push(self.try_rest(line)?);
            }
            "with" => {
                self.advance();
                let mut items = Vec::new();
                let paren = self.is_op("(") && self.with_is_parenthesized();
                if paren {
                    self.advance();
                }
                loop {
                    let e = self.test()?;
                    let t = if self.eat_kw("as") {
                        Some(self.target()?)
                    } else {
                        None
                    };
                    items.push((e, t));
                    if !self.eat_op(",") {
                        break;
                    }
                    if paren && self.is_op(")") {
                        break;
                    }
                }
                if paren {
                    self.expect_op(")")?;
                }
                let body = self.suite("'with' statement", line)?;
                out.push(Stmt {
                    kind: StmtKind::With(items, body),
                    line,
                });
            }
            "def" => {
                self.advance();
                let f = self.funcdef(vec![], line)?;
                out.push(Stmt {
                    kind: StmtKind::FunctionDef(Rc::new(f)),
                    line,
                });
            }
            "class" => {
                self.advance();
                out.push(self.classdef(vec![], line)?);
            }
            "@" => {
                let mut decorators = Vec::new();
                while self.eat_op("@") {
                    decorators.push(self.named_expr()?);
                    if !self.eat_tok(&Tok::Newline) {
                        return self.unexpected();
                    }
                }
                let line = self.line();
                if self.eat_kw("def") {
                    let f = self.funcdef(decorators, line)?;
                    out.push(Stmt {
                        kind: StmtKind::FunctionDef(Rc::new(f)),
                        line,
                    });
                } else if self.eat_kw("class") {
                    out.push(self.classdef(decorators, line)?);
                } else if self.is_kw("async") {
                    return self.err_here("unsupported syntax: 'async def' is not supported");
                } else {
                    return self.unexpected();
                }
            }
            "async" => {
                return self.err_here("unsupported syntax: 'async' statements are not supported")
            }
            "match" if self.looks_like_match() => {
                return self.err_here("unsupported syntax: 'match' statements are not supported")
            }
            _ => {
                self.simple_stmts(out)?;
            }
        }
        Ok(())
    }

    fn looks_like_match(&self) -> bool {
        // `match x:` at statement start; `match = 1` or `match(x)` calls are plain code.
        let mut k = 1;
        let mut depth = 0;
        loop {
            match self.peek_at(k) {
                Tok::Newline | Tok::Eof => return false,
                Tok::Op("(" | "[" | "{") => depth += 1,
                Tok::Op(")" | "]" | "}") => depth -= 1,
                Tok::Op("=") if depth == 0 => return false,
                Tok::Op(":") if depth == 0 => {
                    return k > 1 && !matches!(self.peek_at(1), Tok::Op("(" | "." | "[" | "="))
                }
                _ => {}
            }
            k += 1;
        }
    }

    fn with_is_parenthesized(&self) -> bool {
        // `with (a as b, c):` vs `with (expr).x as y:`: look for `as` inside the parens.
        let mut depth = 0;
        let mut k = 0;
        loop {
            match self.peek_at(k) {
                Tok::Op("(" | "[" | "{") => depth += 1,
                Tok::Op(")" | "]" | "}") => {
                    depth -= 1;
                    if depth == 0 {
                        return matches!(self.peek_at(k + 1), Tok::Op(":"));
                    }
                }
                Tok::Name(n) if &**n == "as" && depth == 1 => return true,
                Tok::Newline | Tok::Eof => return false,
                _ => {}
            }
            k += 1;
        }
    }

    fn if_rest(&mut self, line: usize, what: &str) -> PResult<Stmt> {
        let test = self.condition()?;
        let body = self.suite(what, line)?;
        let orelse = if self.is_kw("elif") {
            let l = self.line();
            self.advance();
            vec![self.if_rest(l, "'elif' statement")?]
        } else {
            self.else_suite()?.unwrap_or_default()
        };
        Ok(Stmt {
            kind: StmtKind::If(test, body, orelse),
            line,
        })
    }

    fn try_rest(&mut self, line: usize) -> PResult<Stmt> {
        let body = self.suite("'try' statement", line)?;
        let mut handlers = Vec::new();
        while self.is_kw("except") {
            let hline = self.line();
            self.advance();
            if self.is_op("*") {
                return self.err_here("unsupported syntax: 'except*' is not supported");
            }
            let (typ, name) = if self.is_op(":") || matches!(self.peek(), Tok::Newline) {
                (None, None)
            } else {
                let t = self.test()?;
                let t = if self.is_op(",") {
                    let mut items = vec![t];
                    while self.eat_op(",") {
                        items.push(self.test()?);
                    }
                    expr(ExprKind::Tuple(items), hline)
                } else {
                    t
                };
                let n = if self.eat_kw("as") {
                    Some(self.name()?)
                } else {
                    None
                };
                (Some(t), n)
            };
            let hbody = self.suite("'except' statement", hline)?;
            handlers.push(Handler {
                typ,
                name,
                body: hbody,
                line: hline,
            });
        }
        let orelse = if handlers.is_empty() {
            vec![]
        } else {
            self.else_suite()?.unwrap_or_default()
        };
        let finally = if self.is_kw("finally") {
            let l = self.line();
            self.advance();
            Some(self.suite("'finally' statement", l)?)
        } else {
            None
        };
        if handlers.is_empty() && finally.is_none() {
            return self.err_here("expected 'except' or 'finally' block");
        }
        let finally = finally.unwrap_or_default();
        Ok(Stmt {
            kind: StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            },
            line,
        })
    }

    fn classdef(&mut self, decorators: Vec<Expr>, line: usize) -> PResult<Stmt> {
        let name = self.name()?;
        let mut bases = Vec::new();
        let mut keywords: Vec<(Name, Expr)> = Vec::new();
        if self.eat_op("(") {
            while !self.is_op(")") {
                if matches!(self.peek_at(1), Tok::Op("=")) {
                    let kw = self.name()?;
                    self.expect_op("=")?;
                    if keywords.iter().any(|(k, _)| *k == kw) {
                        return err(self.line(), format!("keyword argument repeated: {kw}"));
                    }
                    keywords.push((kw, self.test()?));
                    if !self.eat_op(",") {
                        break;
                    }
                    continue;
                }
                if !keywords.is_empty() {
                    return err(self.line(), "positional argument follows keyword argument");
                }
                bases.push(self.test()?);
                if !self.eat_op(",") {
                    break;
                }
            }
            self.expect_op(")")?;
        }
        let body = self.suite("class definition", line)?;
        Ok(Stmt {
            kind: StmtKind::ClassDef {
                name,
                bases,
                keywords,
                body,
                decorators,
            },
            line,
        })
    }

    fn funcdef(&mut self, decorators: Vec<Expr>, line: usize) -> PResult<FuncDef> {
        let name = self.name()?;
        self.expect_op("(")?;
        let hint = std::mem::replace(&mut self.comma_hint, false);
        let params = self.params(")");
        let closed = params.is_ok() && self.eat_op(")");
        let params = params.and_then(|p| if closed { Ok(p) } else { self.unexpected() });
        self.comma_hint = hint;
        let params = params?;
        if self.is_op("->") {
            return self.err_here("unsupported syntax: function annotations are not supported");
        }
        let body = self.suite("function definition", line)?;
        Ok(make_func(name, params, body, decorators, line))
    }

    fn params(&mut self, end: &str) -> PResult<Vec<Param>> {
        let hint = std::mem::replace(&mut self.comma_hint, false);
        let r = self.params_inner(end);
        self.comma_hint = hint;
        r
    }

    fn params_inner(&mut self, end: &str) -> PResult<Vec<Param>> {
        let mut params: Vec<Param> = Vec::new();
        let mut kwonly = false;
        let mut seen_default = false;
        // A `*` without a name, until a keyword-only parameter follows it.
        let mut bare_star: Option<usize> = None;
        while !self.is_op(end) {
            let line = self.line();
            if self.eat_op("**") {
                let name = self.name()?;
                params.push(Param {
                    name,
                    default: None,
                    kind: ParamKind::VarKw,
                });
            } else if self.is_op("*") {
                bare_star = Some(self.pos);
                self.advance();
                kwonly = true;
                if !self.is_op(",") && !self.is_op(end) {
                    bare_star = None;
                    let name = self.name()?;
                    params.push(Param {
                        name,
                        default: None,
                        kind: ParamKind::VarArgs,
                    });
                }
            } else if self.eat_op("/") {
                // positional-only marker: accepted, treated as ordinary parameters
            } else {
                let at = self.pos;
                let name = self.name()?;
                if self.is_op(":") && end == ")" {
                    return self
                        .err_here("unsupported syntax: parameter annotations are not supported");
                }
                let default = if self.eat_op("=") {
                    Some(self.test()?)
                } else {
                    None
                };
                if default.is_some() {
                    seen_default = true;
                } else if seen_default && !kwonly {
                    return self.err_tokens(
                        at,
                        at,
                        "non-default argument follows default argument",
                    );
                }
                if params.iter().any(|p| p.name == name) {
                    return err(
                        line,
                        format!("duplicate argument '{name}' in function definition"),
                    );
                }
                let kind = if kwonly {
                    ParamKind::KwOnly
                } else {
                    ParamKind::Normal
                };
                params.push(Param {
                    name,
                    default,
                    kind,
                });
            }
            if !self.eat_op(",") {
                break;
            }
        }
        if let Some(at) = bare_star {
            if !params.iter().any(|p| matches!(p.kind, ParamKind::KwOnly)) {
                return self.err_tokens(at, at, "named arguments must follow bare *");
            }
        }
        Ok(params)
    }

    fn block(&mut self) -> PResult<Vec<Stmt>> {
        self.enter()?;
        let r = self.block_inner();
        self.depth -= 1;
        r
    }

    fn block_inner(&mut self) -> PResult<Vec<Stmt>> {
        let mut body = Vec::new();
        if self.eat_tok(&Tok::Newline) {
            if !self.eat_tok(&Tok::Indent) {
                return err(self.line(), "expected an indented block");
            }
            while !self.eat_tok(&Tok::Dedent) {
                if self.at_eof() {
                    break;
                }
                if self.eat_tok(&Tok::Newline) {
                    continue;
                }
                if matches!(self.peek(), Tok::Indent) {
                    return self.unexpected();
                }
                self.statement(&mut body)?;
            }
        } else {
            self.simple_stmts(&mut body)?;
        }
        Ok(body)
    }

    fn simple_stmts(&mut self, out: &mut Vec<Stmt>) -> PResult<()> {
        loop {
            out.push(self.simple_stmt()?);
            if self.eat_op(";") {
                if matches!(self.peek(), Tok::Newline | Tok::Eof) {
                    break;
                }
                continue;
            }
            break;
        }
        if !self.eat_tok(&Tok::Newline) && !self.at_eof() {
            return self.unexpected();
        }
        Ok(())
    }

    fn simple_stmt(&mut self) -> PResult<Stmt> {
        let line = self.line();
        let kw = match self.peek() {
            Tok::Name(n) => n.to_string(),
            _ => String::new(),
        };
        let kind = match kw.as_str() {
            "pass" => {
                self.advance();
                StmtKind::Pass
            }
            "break" => {
                self.advance();
                StmtKind::Break
            }
            "continue" => {
                self.advance();
                StmtKind::Continue
            }
            "return" => {
                self.advance();
                if matches!(self.peek(), Tok::Newline | Tok::Eof | Tok::Op(";")) {
                    StmtKind::Return(None)
                } else {
                    StmtKind::Return(Some(self.expr_list()?))
                }
            }
            "raise" => {
                self.advance();
                if matches!(self.peek(), Tok::Newline | Tok::Eof | Tok::Op(";")) {
                    StmtKind::Raise(None, None)
                } else {
                    let e = self.test()?;
                    let cause = if self.eat_kw("from") {
                        Some(self.test()?)
                    } else {
                        None
                    };
                    StmtKind::Raise(Some(e), cause)
                }
            }
            "global" | "nonlocal" => {
                self.advance();
                let mut names = vec![self.name()?];
                while self.eat_op(",") {
                    names.push(self.name()?);
                }
                if kw == "global" {
                    StmtKind::Global(names)
                } else {
                    StmtKind::Nonlocal(names)
                }
            }
            "del" => {
                self.advance();
                let mut targets = vec![self.del_target()?];
                while self.eat_op(",") {
                    if matches!(self.peek(), Tok::Newline | Tok::Eof | Tok::Op(";")) {
                        break;
                    }
                    targets.push(self.del_target()?);
                }
                StmtKind::Del(targets)
            }
            "assert" => {
                self.advance();
                let t = self.test()?;
                let m = if self.eat_op(",") {
                    Some(self.test()?)
                } else {
                    None
                };
                StmtKind::Assert(t, m)
            }
            "import" => {
                self.advance();
                let mut names = Vec::new();
                loop {
                    let dotted = self.dotted()?;
                    let alias = if self.eat_kw("as") {
                        Some(self.name()?)
                    } else {
                        None
                    };
                    names.push((dotted, alias));
                    if !self.eat_op(",") {
                        break;
                    }
                }
                StmtKind::Import(names)
            }
            "from" => {
                self.advance();
                if self.is_op(".") || self.is_op("...") {
                    return self.err_here("unsupported syntax: relative imports are not supported");
                }
                let module = self.dotted()?;
                if !self.eat_kw("import") {
                    return self.unexpected();
                }
                let mut names = Vec::new();
                if self.eat_op("*") {
                    // empty list = star
                } else {
                    let paren = self.eat_op("(");
                    loop {
                        let n = self.name()?;
                        let alias = if self.eat_kw("as") {
                            Some(self.name()?)
                        } else {
                            None
                        };
                        names.push((n, alias));
                        if !self.eat_op(",") {
                            break;
                        }
                        if paren && self.is_op(")") {
                            break;
                        }
                    }
                    if paren {
                        self.expect_op(")")?;
                    }
                }
                StmtKind::ImportFrom(module, names)
            }
            _ => return self.expr_stmt(line),
        };
        Ok(Stmt { kind, line })
    }

    fn dotted(&mut self) -> PResult<String> {
        let mut s = self.name()?.to_string();
        while self.eat_op(".") {
            s.push('.');
            s.push_str(&self.name()?);
        }
        Ok(s)
    }

    fn expr_stmt(&mut self, line: usize) -> PResult<Stmt> {
        let start = self.pos;
        let first = self.star_expr_list()?;
        if let ExprKind::Name(n) = &first.kind {
            if matches!(&**n, "print" | "exec")
                && start + 1 == self.pos
                && starts_expression(self.peek())
                && !matches!(self.peek(), Tok::Op("(" | "[" | "-" | "+" | "~"))
            {
                let name = n.clone();
                if self.star_expr_list().is_ok() {
                    return self.err_tokens(
                        start,
                        self.pos - 1,
                        format!(
                            "Missing parentheses in call to '{name}'. Did you mean {name}(...)?"
                        ),
                    );
                }
                self.pos = start + 1;
            }
        }
        let mut ranges = vec![(start, self.pos - 1)];
        if self.is_op(":") {
            return self.err_here("unsupported syntax: annotated assignments are not supported");
        }
        if let Tok::Op(op) = self.peek().clone() {
            let aug = match op {
                "+=" => Some(BinOp::Add),
                "-=" => Some(BinOp::Sub),
                "*=" => Some(BinOp::Mul),
                "/=" => Some(BinOp::Div),
                "//=" => Some(BinOp::FloorDiv),
                "%=" => Some(BinOp::Mod),
                "**=" => Some(BinOp::Pow),
                "<<=" => Some(BinOp::LShift),
                ">>=" => Some(BinOp::RShift),
                "&=" => Some(BinOp::BitAnd),
                "|=" => Some(BinOp::BitOr),
                "^=" => Some(BinOp::BitXor),
                "@=" => Some(BinOp::MatMul),
                _ => None,
            };
            if let Some(bop) = aug {
                if matches!(first.kind, ExprKind::Tuple(_) | ExprKind::List(_)) {
                    let what = if matches!(first.kind, ExprKind::Tuple(_)) {
                        "tuple"
                    } else {
                        "list"
                    };
                    return self.err_tokens(
                        start,
                        self.pos - 1,
                        format!("'{what}' is an illegal expression for augmented assignment"),
                    );
                }
                if let Some((_, name)) = invalid_target(&first, false) {
                    return self.err_tokens(
                        start,
                        self.pos - 1,
                        format!("'{name}' is an illegal expression for augmented assignment"),
                    );
                }
                self.advance();
                let value = if self.is_kw("yield") {
                    self.yield_expr()?
                } else {
                    self.expr_list()?
                };
                return Ok(Stmt {
                    kind: StmtKind::AugAssign(first, bop, value),
                    line,
                });
            }
        }
        if self.is_op("=") {
            let mut items = vec![first];
            while self.eat_op("=") {
                let at = self.pos;
                let v = if self.is_kw("yield") {
                    self.yield_expr()?
                } else {
                    self.star_expr_list()?
                };
                items.push(v);
                ranges.push((at, self.pos - 1));
            }
            let value = items
                .pop()
                .unwrap_or_else(|| expr(ExprKind::Const(Value::None), line));
            for (k, t) in items.iter().enumerate() {
                if let Some((bad, name)) = invalid_target(t, true) {
                    if !std::ptr::eq(bad, t) {
                        return err(bad.line, format!("cannot assign to {name}"));
                    }
                    let (a, b) = ranges[k];
                    // `1 = x` may be a comparison meant: CPython says so.
                    let maybe = items.len() == 1
                        && !matches!(
                            t.kind,
                            ExprKind::Tuple(_) | ExprKind::List(_) | ExprKind::Comp(..)
                        )
                        && !matches!(name, "True" | "False" | "None");
                    let message = if maybe {
                        format!(
                            "cannot assign to {name} here. Maybe you meant '==' instead of '='?"
                        )
                    } else {
                        format!("cannot assign to {name}")
                    };
                    return self.err_tokens(a, b, message);
                }
            }
            return Ok(Stmt {
                kind: StmtKind::Assign(items, value),
                line,
            });
        }
        if let ExprKind::Starred(_) = first.kind {
            return err(line, "can't use starred expression here");
        }
        Ok(Stmt {
            kind: StmtKind::Expr(first),
            line,
        })
    }

    // ---------------------------------------------------------------- expressions

    fn del_target(&mut self) -> PResult<Expr> {
        let at = self.pos;
        let e = self.or_expr()?;
        if let Some((bad, name)) = invalid_target(&e, true) {
            let message = format!("cannot delete {name}");
            if std::ptr::eq(bad, &e) {
                return self.err_tokens(at, self.pos - 1, message);
            }
            return err(bad.line, message);
        }
        Ok(e)
    }

    fn target(&mut self) -> PResult<Expr> {
        let e = self.or_expr()?;
        check_target(&e, true)?;
        Ok(e)
    }

    /// `for` targets: `a, b` or `(a, b)`, without consuming `in`.
    fn target_list(&mut self) -> PResult<Expr> {
        let line = self.line();
        let mut items = vec![self.star_or(Self::or_expr)?];
        let mut tuple = false;
        while self.eat_op(",") {
            tuple = true;
            if self.is_kw("in") || self.is_op("=") {
                break;
            }
            items.push(self.star_or(Self::or_expr)?);
        }
        let e = if tuple {
            expr(ExprKind::Tuple(items), line)
        } else {
            items
                .pop()
                .unwrap_or_else(|| expr(ExprKind::Const(Value::None), line))
        };
        check_target(&e, true)?;
        Ok(e)
    }

    fn star_or(&mut self, f: fn(&mut Self) -> PResult<Expr>) -> PResult<Expr> {
        let line = self.line();
        if self.eat_op("*") {
            let e = self.or_expr()?;
            return Ok(expr(ExprKind::Starred(Box::new(e)), line));
        }
        f(self)
    }

    /// Comma-separated expressions, starred items allowed; a trailing comma makes a tuple.
    fn star_expr_list(&mut self) -> PResult<Expr> {
        let line = self.line();
        let first = self.star_or(Self::named_expr)?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.at_expr_end() {
                break;
            }
            items.push(self.star_or(Self::named_expr)?);
        }
        Ok(expr(ExprKind::Tuple(items), line))
    }

    fn expr_list(&mut self) -> PResult<Expr> {
        self.star_expr_list()
    }

    fn at_expr_end(&self) -> bool {
        matches!(
            self.peek(),
            Tok::Newline | Tok::Eof | Tok::Op(";" | "=" | ")" | "]" | "}" | ":")
        ) || matches!(self.peek(), Tok::Op(o) if o.ends_with('=') && *o != "==" && *o != "!=" && *o != "<=" && *o != ">=")
            || self.is_kw("in")
    }

    /// The condition of `if`, `elif`, `while`.
    fn condition(&mut self) -> PResult<Expr> {
        let at = self.pos;
        let e = self.named_expr()?;
        if self.is_op("=") {
            self.assignment_in_expression(at, &e)?;
        }
        Ok(e)
    }

    fn named_expr(&mut self) -> PResult<Expr> {
        let e = self.test()?;
        if self.is_op(":=") {
            return self
                .err_here("unsupported syntax: assignment expressions (:=) are not supported");
        }
        Ok(e)
    }

    /// `if x = 1:`: CPython's guess that a comparison was meant, when the `=` is
    /// followed by one operand and no further `=`. Otherwise the caller's error.
    fn assignment_in_expression(&mut self, at: usize, e: &Expr) -> PResult<()> {
        let save = self.pos;
        self.advance();
        let ok = self.or_expr().is_ok() && !self.is_op("=") && !self.is_op(":=");
        let end = self.pos - 1;
        self.pos = save;
        if !ok {
            return Ok(());
        }
        let message = match &e.kind {
            ExprKind::Name(_) if at + 1 == save => {
                "invalid syntax. Maybe you meant '==' or ':=' instead of '='?".to_string()
            }
            ExprKind::Tuple(_)
            | ExprKind::List(_)
            | ExprKind::GenExp(..)
            | ExprKind::Const(Value::Bool(_) | Value::None) => return Ok(()),
            ExprKind::Attr(..) => {
                "cannot assign to attribute here. Maybe you meant '==' instead of '='?".into()
            }
            ExprKind::Subscript(..) => {
                "cannot assign to subscript here. Maybe you meant '==' instead of '='?".into()
            }
            _ => match invalid_target(e, false) {
                Some((_, name)) => {
                    format!("cannot assign to {name} here. Maybe you meant '==' instead of '='?")
                }
                None => return Ok(()),
            },
        };
        let end = if message.starts_with("invalid") {
            end
        } else {
            save - 1
        };
        self.err_tokens(at, end, message)
    }

    fn yield_expr(&mut self) -> PResult<Expr> {
        let line = self.line();
        self.advance();
        if self.is_kw("from") {
            return self.err_tokens(
                self.pos - 1,
                self.pos,
                "unsupported syntax: 'yield from' is not supported",
            );
        }
        if matches!(self.peek(), Tok::Newline | Tok::Eof | Tok::Op(")" | ";")) {
            return Ok(expr(ExprKind::Yield(None), line));
        }
        let v = self.expr_list()?;
        Ok(expr(ExprKind::Yield(Some(Box::new(v))), line))
    }

    fn test(&mut self) -> PResult<Expr> {
        self.enter()?;
        let r = self.test_inner();
        self.depth -= 1;
        r
    }

    fn test_inner(&mut self) -> PResult<Expr> {
        let line = self.line();
        let start = self.pos;
        if self.is_kw("lambda") {
            self.advance();
            let params = self.params(":")?;
            self.expect_op(":")?;
            let body = self.test()?;
            let bl = body.line;
            let stmts = vec![Stmt {
                kind: StmtKind::Return(Some(body)),
                line: bl,
            }];
            let f = make_func("<lambda>".into(), params, stmts, vec![], line);
            return Ok(expr(ExprKind::Lambda(Rc::new(f)), line));
        }
        if self.is_kw("yield") {
            return self.yield_expr();
        }
        if self.is_kw("await") {
            return self.err_here("unsupported syntax: 'await' is not supported");
        }
        let e = self.or_test()?;
        if self.is_kw("if") {
            // a comprehension's `if` is handled by the caller: only take it when `else` follows
            let save = self.pos;
            self.advance();
            let cond = self.or_test()?;
            if self.eat_kw("else") {
                let other = self.test()?;
                return Ok(expr(
                    ExprKind::IfExp(Box::new(cond), Box::new(e), Box::new(other)),
                    line,
                ));
            }
            let end = self.pos - 1;
            self.pos = save;
            // A comprehension's `if` follows an iterable read by `or_test`, never this.
            return self.err_tokens(start, end, "expected 'else' after 'if' expression");
        }
        Ok(e)
    }

    fn test_nocond(&mut self) -> PResult<Expr> {
        self.or_test()
    }

    fn or_test(&mut self) -> PResult<Expr> {
        let line = self.line();
        let first = self.and_test()?;
        if !self.is_kw("or") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_kw("or") {
            items.push(self.and_test()?);
        }
        Ok(expr(ExprKind::BoolOp(false, items), line))
    }

    fn and_test(&mut self) -> PResult<Expr> {
        let line = self.line();
        let first = self.not_test()?;
        if !self.is_kw("and") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_kw("and") {
            items.push(self.not_test()?);
        }
        Ok(expr(ExprKind::BoolOp(true, items), line))
    }

    fn not_test(&mut self) -> PResult<Expr> {
        let line = self.line();
        if self.eat_kw("not") {
            self.enter()?;
            let e = self.not_test();
            self.depth -= 1;
            let e = e?;
            return Ok(expr(ExprKind::Unary(UnaryOp::Not, Box::new(e)), line));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let line = self.line();
        let first = self.or_expr()?;
        let mut ops = Vec::new();
        loop {
            let op = match self.peek() {
                Tok::Op("==") => CmpOp::Eq,
                Tok::Op("!=") => CmpOp::Ne,
                Tok::Op("<") => CmpOp::Lt,
                Tok::Op("<=") => CmpOp::Le,
                Tok::Op(">") => CmpOp::Gt,
                Tok::Op(">=") => CmpOp::Ge,
                Tok::Name(n) if &**n == "in" => CmpOp::In,
                Tok::Name(n) if &**n == "is" => {
                    if matches!(self.peek_at(1), Tok::Name(m) if &**m == "not") {
                        self.advance();
                        CmpOp::IsNot
                    } else {
                        CmpOp::Is
                    }
                }
                Tok::Name(n)
                    if &**n == "not" && matches!(self.peek_at(1), Tok::Name(m) if &**m == "in") =>
                {
                    self.advance();
                    CmpOp::NotIn
                }
                _ => break,
            };
            self.advance();
            ops.push((op, self.or_expr()?));
        }
        if ops.is_empty() {
            Ok(first)
        } else {
            Ok(expr(ExprKind::Compare(Box::new(first), ops), line))
        }
    }

    fn binary_level(&mut self, level: usize) -> PResult<Expr> {
        const LEVELS: &[&[(&str, BinOp)]] = &[
            &[("|", BinOp::BitOr)],
            &[("^", BinOp::BitXor)],
            &[("&", BinOp::BitAnd)],
            &[("<<", BinOp::LShift), (">>", BinOp::RShift)],
            &[("+", BinOp::Add), ("-", BinOp::Sub)],
            &[
                ("*", BinOp::Mul),
                ("/", BinOp::Div),
                ("//", BinOp::FloorDiv),
                ("%", BinOp::Mod),
                ("@", BinOp::MatMul),
            ],
        ];
        if level >= LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary_level(level + 1)?;
        loop {
            let line = self.line();
            let Some(op) = LEVELS[level]
                .iter()
                .find(|(s, _)| self.is_op(s))
                .map(|(_, o)| *o)
            else {
                break;
            };
            self.advance();
            let right = self.binary_level(level + 1)?;
            left = expr(ExprKind::BinOp(Box::new(left), op, Box::new(right)), line);
        }
        Ok(left)
    }

    fn or_expr(&mut self) -> PResult<Expr> {
        self.binary_level(0)
    }

    fn unary(&mut self) -> PResult<Expr> {
        self.enter()?;
        let r = self.unary_inner();
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self) -> PResult<Expr> {
        let line = self.line();
        let op = match self.peek() {
            Tok::Op("-") => UnaryOp::Neg,
            Tok::Op("+") => UnaryOp::Pos,
            Tok::Op("~") => UnaryOp::Invert,
            _ => return self.power(),
        };
        self.advance();
        let e = self.unary()?;
        // fold negative literals so that -9223372036854775808 style constants work
        if op == UnaryOp::Neg {
            if let ExprKind::Const(Value::Int(n)) = e.kind {
                if let Some(m) = n.checked_neg() {
                    return Ok(expr(ExprKind::Const(Value::Int(m)), line));
                }
            }
            if let ExprKind::Const(Value::Float(f)) = e.kind {
                return Ok(expr(ExprKind::Const(Value::Float(-f)), line));
            }
        }
        Ok(expr(ExprKind::Unary(op, Box::new(e)), line))
    }

    fn power(&mut self) -> PResult<Expr> {
        let line = self.line();
        let base = self.primary()?;
        if self.eat_op("**") {
            let exp = self.unary()?;
            return Ok(expr(
                ExprKind::BinOp(Box::new(base), BinOp::Pow, Box::new(exp)),
                line,
            ));
        }
        Ok(base)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let mut e = self.atom()?;
        loop {
            let line = self.line();
            if self.eat_op(".") {
                let n = self.name()?;
                e = expr(ExprKind::Attr(Box::new(e), n), line);
            } else if self.eat_op("(") {
                let args = self.call_args()?;
                self.expect_op(")")?;
                e = expr(ExprKind::Call(Box::new(e), args), line);
            } else if self.eat_op("[") {
                let idx = self.subscript_list()?;
                self.expect_op("]")?;
                e = expr(ExprKind::Subscript(Box::new(e), Box::new(idx)), line);
            } else {
                break;
            }
        }
        Ok(e)
    }

    fn call_args(&mut self) -> PResult<Vec<Arg>> {
        let mut args = Vec::new();
        // CPython reads all the arguments before it reports a misplaced one, at
        // the closing parenthesis.
        let mut misplaced: Option<&str> = None;
        while !self.is_op(")") {
            let line = self.line();
            if self.eat_op("**") {
                args.push(Arg::StarStar(self.test()?));
            } else if self.eat_op("*") {
                args.push(Arg::Star(self.test()?));
            } else if matches!(self.peek(), Tok::Name(_)) && matches!(self.peek_at(1), Tok::Op("="))
            {
                let n = self.name()?;
                self.advance();
                if args.iter().any(|a| matches!(a, Arg::Kw(k, _) if *k == n)) {
                    return err(line, format!("keyword argument repeated: {n}"));
                }
                args.push(Arg::Kw(n, self.test()?));
            } else {
                let at = self.pos;
                let e = self.named_expr()?;
                if self.is_kw("for") {
                    let fors = self.comp_fors()?;
                    if !args.is_empty()
                        || (self.is_op(",") && !matches!(self.peek_at(1), Tok::Op(")")))
                    {
                        return self.err_tokens(
                            at,
                            self.pos - 1,
                            "Generator expression must be parenthesized",
                        );
                    }
                    let g = genexp(e, fors, line);
                    args.push(Arg::Pos(g));
                } else {
                    if args.iter().any(|a| matches!(a, Arg::StarStar(..))) {
                        misplaced.get_or_insert(
                            "positional argument follows keyword argument unpacking",
                        );
                    } else if args.iter().any(|a| matches!(a, Arg::Kw(..))) {
                        misplaced.get_or_insert("positional argument follows keyword argument");
                    }
                    args.push(Arg::Pos(e));
                }
            }
            if !self.eat_op(",") {
                break;
            }
        }
        if let Some(message) = misplaced {
            return self.err_here(message);
        }
        Ok(args)
    }

    fn subscript_list(&mut self) -> PResult<Expr> {
        let line = self.line();
        let first = self.subscript()?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.is_op("]") {
                break;
            }
            items.push(self.subscript()?);
        }
        Ok(expr(ExprKind::Tuple(items), line))
    }

    fn subscript(&mut self) -> PResult<Expr> {
        let line = self.line();
        let lower = if self.is_op(":") {
            None
        } else {
            Some(Box::new(self.test()?))
        };
        if !self.eat_op(":") {
            return lower.map(|b| *b).ok_or_else(|| SyntaxErr {
                line,
                message: "invalid syntax".into(),
                span: None,
            });
        }
        let upper = if self.is_op(":") || self.is_op("]") || self.is_op(",") {
            None
        } else {
            Some(Box::new(self.test()?))
        };
        let step = if self.eat_op(":") {
            if self.is_op("]") || self.is_op(",") {
                None
            } else {
                Some(Box::new(self.test()?))
            }
        } else {
            None
        };
        Ok(expr(ExprKind::Slice(lower, upper, step), line))
    }

    fn comp_fors(&mut self) -> PResult<Vec<CompFor>> {
        let mut fors = Vec::new();
        while self.is_kw("for") || self.is_kw("async") {
            if self.is_kw("async") {
                return self
                    .err_here("unsupported syntax: asynchronous comprehensions are not supported");
            }
            self.advance();
            let target = self.target_list()?;
            if !self.eat_kw("in") {
                return self.unexpected();
            }
            let iter = self.or_test()?;
            let mut ifs = Vec::new();
            while self.eat_kw("if") {
                ifs.push(self.test_nocond()?);
            }
            fors.push(CompFor { target, iter, ifs });
        }
        Ok(fors)
    }

    fn atom(&mut self) -> PResult<Expr> {
        let line = self.line();
        let tok = self.peek().clone();
        match tok {
            Tok::Int(n) => {
                self.advance();
                Ok(expr(ExprKind::Const(Value::Int(n)), line))
            }
            Tok::Float(f) => {
                self.advance();
                Ok(expr(ExprKind::Const(Value::Float(f)), line))
            }
            Tok::Str(_) | Tok::FStr { .. } | Tok::Bytes(_) => self.strings(),
            Tok::Op("...") => {
                self.advance();
                Ok(expr(ExprKind::Const(Value::Ellipsis), line))
            }
            Tok::Name(n) => match &*n {
                "None" => {
                    self.advance();
                    Ok(expr(ExprKind::Const(Value::None), line))
                }
                "True" => {
                    self.advance();
                    Ok(expr(ExprKind::Const(Value::Bool(true)), line))
                }
                "False" => {
                    self.advance();
                    Ok(expr(ExprKind::Const(Value::Bool(false)), line))
                }
                _ => Ok(expr(ExprKind::Name(self.name()?), line)),
            },
            Tok::Op("(") => {
                self.advance();
                if self.eat_op(")") {
                    return Ok(expr(ExprKind::Tuple(vec![]), line));
                }
                if self.is_kw("yield") {
                    let y = self.yield_expr()?;
                    self.expect_op(")")?;
                    return Ok(y);
                }
                let first = self.star_or(Self::named_expr)?;
                if self.is_kw("for") {
                    let fors = self.comp_fors()?;
                    self.expect_op(")")?;
                    return Ok(expr(genexp(first, fors, line).kind, line));
                }
                if self.eat_op(")") {
                    if let ExprKind::Starred(_) = first.kind {
                        return err(line, "cannot use starred expression here");
                    }
                    // parenthesized: keep as is (line of the inner expression)
                    return Ok(first);
                }
                let mut items = vec![first];
                while self.eat_op(",") {
                    if self.is_op(")") {
                        break;
                    }
                    items.push(self.star_or(Self::named_expr)?);
                }
                self.expect_op(")")?;
                Ok(expr(ExprKind::Tuple(items), line))
            }
            Tok::Op("[") => {
                self.advance();
                if self.eat_op("]") {
                    return Ok(expr(ExprKind::List(vec![]), line));
                }
                let first = self.star_or(Self::named_expr)?;
                if self.is_kw("for") {
                    let fors = self.comp_fors()?;
                    self.expect_op("]")?;
                    return Ok(expr(
                        ExprKind::Comp(CompKind::List(Box::new(first)), fors),
                        line,
                    ));
                }
                let mut items = vec![first];
                while self.eat_op(",") {
                    if self.is_op("]") {
                        break;
                    }
                    items.push(self.star_or(Self::named_expr)?);
                }
                self.expect_op("]")?;
                Ok(expr(ExprKind::List(items), line))
            }
            Tok::Op("{") => {
                self.advance();
                if self.eat_op("}") {
                    return Ok(expr(ExprKind::Dict(vec![]), line));
                }
                if self.eat_op("**") {
                    let m = self.or_expr()?;
                    return self.dict_rest(vec![(None, m)], line);
                }
                let first = self.star_or(Self::named_expr)?;
                if self.eat_op(":") {
                    let v = self.test()?;
                    if self.is_kw("for") {
                        let fors = self.comp_fors()?;
                        self.expect_op("}")?;
                        return Ok(expr(
                            ExprKind::Comp(CompKind::Dict(Box::new(first), Box::new(v)), fors),
                            line,
                        ));
                    }
                    return self.dict_rest(vec![(Some(first), v)], line);
                }
                if self.is_kw("for") {
                    let fors = self.comp_fors()?;
                    self.expect_op("}")?;
                    return Ok(expr(
                        ExprKind::Comp(CompKind::Set(Box::new(first)), fors),
                        line,
                    ));
                }
                let mut items = vec![first];
                while self.eat_op(",") {
                    if self.is_op("}") {
                        break;
                    }
                    items.push(self.star_or(Self::named_expr)?);
                }
                self.expect_op("}")?;
                Ok(expr(ExprKind::Set(items), line))
            }
            _ => self.unexpected(),
        }
    }

    fn dict_rest(&mut self, mut items: Vec<(Option<Expr>, Expr)>, line: usize) -> PResult<Expr> {
        while self.eat_op(",") {
            if self.is_op("}") {
                break;
            }
            if self.eat_op("**") {
                items.push((None, self.or_expr()?));
                continue;
            }
            let at = self.pos;
            let k = self.test()?;
            if !self.is_op(":") && self.is_op(",") || self.is_op("}") {
                return self.err_tokens(at, at, "':' expected after dictionary key");
            }
            self.expect_op(":")?;
            items.push((Some(k), self.test()?));
        }
        self.expect_op("}")?;
        Ok(expr(ExprKind::Dict(items), line))
    }

    /// Adjacent literals concatenate; mixing bytes and str is an error.
    fn strings(&mut self) -> PResult<Expr> {
        let line = self.line();
        let mut parts: Vec<FPart> = Vec::new();
        let mut bytes: Option<Vec<u8>> = None;
        let mut any_f = false;
        let mut any_str = false;
        loop {
            match self.peek().clone() {
                Tok::Str(s) => {
                    any_str = true;
                    push_lit(&mut parts, s);
                }
                Tok::Bytes(b) => bytes.get_or_insert_with(Vec::new).extend(b),
                Tok::FStr { body, raw } => {
                    any_f = true;
                    any_str = true;
                    let l = self.line();
                    for p in parse_fstring(&body, raw, l)? {
                        match p {
                            FPart::Lit(s) => push_lit(&mut parts, s),
                            other => parts.push(other),
                        }
                    }
                }
                _ => break,
            }
            self.advance();
        }
        if let Some(b) = bytes {
            if any_str {
                // CPython's caret is just past the last literal.
                let last = &self.toks[self.pos - 1];
                return err_at(
                    last.line,
                    Span::at(last.end_col + 1),
                    "cannot mix bytes and nonbytes literals",
                );
            }
            return Ok(expr(ExprKind::Const(Value::Bytes(b.into())), line));
        }
        if !any_f {
            let s = match parts.pop() {
                Some(FPart::Lit(s)) => s,
                _ => String::new(),
            };
            return Ok(expr(ExprKind::Const(Value::Str(s.into())), line));
        }
        Ok(expr(ExprKind::FString(parts), line))
    }
}

fn push_lit(parts: &mut Vec<FPart>, s: String) {
    if let Some(FPart::Lit(last)) = parts.last_mut() {
        last.push_str(&s);
    } else {
        parts.push(FPart::Lit(s));
    }
}

/// Splits an f-string body into literal text and replacement fields.
fn parse_fstring(body: &str, raw: bool, line: usize) -> PResult<Vec<FPart>> {
    let cs: Vec<char> = body.chars().collect();
    let mut i = 0;
    parse_fstring_parts(&cs, &mut i, raw, line, false)
}

fn parse_fstring_parts(
    cs: &[char],
    i: &mut usize,
    raw: bool,
    line: usize,
    in_spec: bool,
) -> PResult<Vec<FPart>> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let flush = |lit: &mut String, parts: &mut Vec<FPart>| -> PResult<()> {
        if !lit.is_empty() {
            let text = if raw {
                lit.clone()
            } else {
                unescape(lit, false, line)?
            };
            push_lit(parts, text);
            lit.clear();
        }
        Ok(())
    };
    while *i < cs.len() {
        let c = cs[*i];
        if in_spec && c == '}' {
            break;
        }
        if c == '{' {
            if !in_spec && cs.get(*i + 1) == Some(&'{') {
                lit.push('{');
                *i += 2;
                continue;
            }
            flush(&mut lit, &mut parts)?;
            *i += 1;
            // find the end of the expression: depth-aware, string-aware
            let start = *i;
            let mut depth = 0;
            let mut quote: Option<char> = None;
            while *i < cs.len() {
                let ch = cs[*i];
                if let Some(q) = quote {
                    if ch == q {
                        quote = None;
                    }
                } else {
                    match ch {
                        '\'' | '"' => quote = Some(ch),
                        '(' | '[' | '{' => depth += 1,
                        ')' | ']' | '}' if depth > 0 => depth -= 1,
                        '}' | ':' if depth == 0 => break,
                        '!' if depth == 0 && cs.get(*i + 1) != Some(&'=') => break,
                        _ => {}
                    }
                }
                *i += 1;
            }
            let mut src: String = cs[start..*i.min(&mut cs.len())].iter().collect();
            let mut debug = None;
            let trimmed = src.trim_end();
            if trimmed.ends_with('=')
                && !trimmed.ends_with("==")
                && !trimmed.ends_with("!=")
                && !trimmed.ends_with("<=")
                && !trimmed.ends_with(">=")
            {
                debug = Some(src.clone());
                let cut = trimmed.len() - 1;
                src.truncate(cut);
            }
            if src.trim().is_empty() {
                return err(line, "f-string: valid expression required before '}'");
            }
            let e = parse_expr_src(&src, line)?;
            let mut conv = None;
            if *i < cs.len() && cs[*i] == '!' {
                conv = cs.get(*i + 1).copied();
                if !matches!(conv, Some('r' | 's' | 'a')) {
                    return err(
                        line,
                        "f-string: invalid conversion character: expected 's', 'r', or 'a'",
                    );
                }
                *i += 2;
            }
            let mut spec = Vec::new();
            if *i < cs.len() && cs[*i] == ':' {
                *i += 1;
                spec = parse_fstring_parts(cs, i, raw, line, true)?;
            }
            if *i >= cs.len() || cs[*i] != '}' {
                return err(line, "f-string: expecting '}'");
            }
            *i += 1;
            if debug.is_some() && conv.is_none() && spec.is_empty() {
                conv = Some('r');
            }
            parts.push(FPart::Expr {
                expr: Box::new(e),
                conv,
                spec,
                debug,
            });
            continue;
        }
        if c == '}' {
            if cs.get(*i + 1) == Some(&'}') {
                lit.push('}');
                *i += 2;
                continue;
            }
            return err(line, "f-string: single '}' is not allowed");
        }
        lit.push(c);
        *i += 1;
    }
    flush(&mut lit, &mut parts)?;
    Ok(parts)
}

/// Can this token end an expression (so that another right after it is a missing
/// comma, not a stray token)?
fn ends_expression(t: &Tok) -> bool {
    match t {
        Tok::Name(n) => !KEYWORDS.contains(&&**n) || matches!(&**n, "True" | "False" | "None"),
        Tok::Int(_) | Tok::Float(_) | Tok::Str(_) | Tok::Bytes(_) | Tok::FStr { .. } => true,
        Tok::Op(o) => matches!(*o, ")" | "]" | "}" | "..."),
        _ => false,
    }
}

/// Can this token start an expression?
fn starts_expression(t: &Tok) -> bool {
    match t {
        Tok::Name(n) => {
            !KEYWORDS.contains(&&**n)
                || matches!(&**n, "True" | "False" | "None" | "not" | "lambda")
        }
        Tok::Int(_) | Tok::Float(_) | Tok::Str(_) | Tok::Bytes(_) | Tok::FStr { .. } => true,
        Tok::Op(o) => matches!(*o, "(" | "[" | "{" | "-" | "+" | "~" | "..."),
        _ => false,
    }
}

/// What CPython calls an expression that cannot be assigned to ("cannot assign
/// to function call"), or None for a valid target.
fn invalid_target(e: &Expr, allow_tuple: bool) -> Option<(&Expr, &'static str)> {
    let name = match &e.kind {
        ExprKind::Name(_) | ExprKind::Attr(..) | ExprKind::Subscript(..) => return None,
        ExprKind::Tuple(items) | ExprKind::List(items) if allow_tuple => {
            return items.iter().find_map(|i| invalid_target(i, true))
        }
        ExprKind::Starred(inner) if allow_tuple => return invalid_target(inner, false),
        ExprKind::Call(..) => "function call",
        ExprKind::Const(Value::None) => "None",
        ExprKind::Const(Value::Bool(true)) => "True",
        ExprKind::Const(Value::Bool(false)) => "False",
        ExprKind::Const(Value::Ellipsis) => "ellipsis",
        ExprKind::Const(_) => "literal",
        ExprKind::FString(_) => "f-string expression",
        ExprKind::Compare(..) => "comparison",
        ExprKind::IfExp(..) => "conditional expression",
        ExprKind::Lambda(_) => "lambda",
        ExprKind::Dict(_) => "dict literal",
        ExprKind::Set(_) => "set display",
        ExprKind::Comp(CompKind::List(_), _) => "list comprehension",
        ExprKind::Comp(CompKind::Set(_), _) => "set comprehension",
        ExprKind::Comp(CompKind::Dict(..), _) => "dict comprehension",
        ExprKind::GenExp(..) => "generator expression",
        ExprKind::Yield(_) => "yield expression",
        ExprKind::Starred(_) => "starred",
        _ => "expression",
    };
    Some((e, name))
}

fn check_target(e: &Expr, allow_tuple: bool) -> PResult<()> {
    match invalid_target(e, allow_tuple) {
        None => Ok(()),
        Some((bad, name)) => err(bad.line, format!("cannot assign to {name}")),
    }
}

/// `(elt for t in it if c ...)` as CPython compiles it: a generator function
/// `<genexpr>(.0)` whose body is `for t in .0: if c: ... yield elt`.
fn genexp(elt: Expr, fors: Vec<CompFor>, line: usize) -> Expr {
    let mut body = Stmt {
        kind: StmtKind::Expr(expr(ExprKind::Yield(Some(Box::new(elt))), line)),
        line,
    };
    let mut first_iter = None;
    let n = fors.len();
    for (k, f) in fors.into_iter().enumerate().rev() {
        for cond in f.ifs.into_iter().rev() {
            let l = cond.line;
            body = Stmt {
                kind: StmtKind::If(cond, vec![body], vec![]),
                line: l,
            };
        }
        let iter = if k == 0 {
            first_iter = Some(f.iter);
            expr(ExprKind::Name(".0".into()), line)
        } else {
            f.iter
        };
        body = Stmt {
            kind: StmtKind::For(f.target, iter, vec![body], vec![]),
            line,
        };
        let _ = n;
    }
    let params = vec![Param {
        name: ".0".into(),
        default: None,
        kind: ParamKind::Normal,
    }];
    let def = make_func("<genexpr>".into(), params, vec![body], vec![], line);
    let first = first_iter.unwrap_or_else(|| expr(ExprKind::Tuple(vec![]), line));
    expr(ExprKind::GenExp(Rc::new(def), Box::new(first)), line)
}

fn make_func(
    name: Name,
    params: Vec<Param>,
    body: Vec<Stmt>,
    decorators: Vec<Expr>,
    line: usize,
) -> FuncDef {
    let mut s = Scan::default();
    for p in &params {
        s.locals.insert(p.name.clone());
    }
    s.stmts(&body);
    for g in s.globals.iter().chain(s.nonlocals.iter()) {
        s.locals.remove(g);
    }
    let is_generator = s.generator || body.iter().any(Stmt::has_yield);
    let lazy = lazy_generator_body(&body);
    FuncDef {
        name,
        params,
        body,
        decorators,
        line,
        is_generator,
        lazy,
        locals: s.locals,
        globals: s.globals,
        nonlocals: s.nonlocals,
    }
}

/// Collects a function body's bound names and whether it yields, without entering
/// nested functions, classes or comprehensions (they have their own scopes).
#[derive(Default)]
struct Scan {
    locals: HashSet<Name>,
    globals: HashSet<Name>,
    nonlocals: HashSet<Name>,
    generator: bool,
}

impl Scan {
    fn stmts(&mut self, body: &[Stmt]) {
        for s in body {
            self.stmt(s);
        }
    }
    fn target(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Name(n) => {
                self.locals.insert(n.clone());
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                items.iter().for_each(|i| self.target(i))
            }
            ExprKind::Starred(i) => self.target(i),
            _ => self.expr(e),
        }
    }
    fn stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Expr(e) => self.expr(e),
            StmtKind::Assign(ts, v) => {
                ts.iter().for_each(|t| self.target(t));
                self.expr(v);
            }
            StmtKind::AugAssign(t, _, v) => {
                self.target(t);
                self.expr(v);
            }
            StmtKind::Import(names) => {
                for (d, a) in names {
                    let n: Name = match a {
                        Some(a) => a.clone(),
                        None => d.split('.').next().unwrap_or(d).into(),
                    };
                    self.locals.insert(n);
                }
            }
            StmtKind::ImportFrom(_, names) => {
                for (n, a) in names {
                    self.locals.insert(a.clone().unwrap_or_else(|| n.clone()));
                }
            }
            StmtKind::FunctionDef(f) => {
                self.locals.insert(f.name.clone());
            }
            StmtKind::ClassDef { name, .. } => {
                self.locals.insert(name.clone());
            }
            StmtKind::Return(Some(e)) => self.expr(e),
            StmtKind::If(t, a, b) | StmtKind::While(t, a, b) => {
                self.expr(t);
                self.stmts(a);
                self.stmts(b);
            }
            StmtKind::For(t, i, a, b) => {
                self.target(t);
                self.expr(i);
                self.stmts(a);
                self.stmts(b);
            }
            StmtKind::With(items, body) => {
                for (e, t) in items {
                    self.expr(e);
                    if let Some(t) = t {
                        self.target(t);
                    }
                }
                self.stmts(body);
            }
            StmtKind::Del(ts) => ts.iter().for_each(|t| self.target(t)),
            StmtKind::Assert(a, b) => {
                self.expr(a);
                if let Some(b) = b {
                    self.expr(b);
                }
            }
            StmtKind::Raise(a, b) => {
                if let Some(a) = a {
                    self.expr(a);
                }
                if let Some(b) = b {
                    self.expr(b);
                }
            }
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            } => {
                self.stmts(body);
                for h in handlers {
                    if let Some(n) = &h.name {
                        self.locals.insert(n.clone());
                    }
                    self.stmts(&h.body);
                }
                self.stmts(orelse);
                self.stmts(finally);
            }
            StmtKind::Global(ns) => ns.iter().for_each(|n| {
                self.globals.insert(n.clone());
            }),
            StmtKind::Nonlocal(ns) => ns.iter().for_each(|n| {
                self.nonlocals.insert(n.clone());
            }),
            _ => {}
        }
    }
    fn expr(&mut self, e: &Expr) {
        // Only `yield` matters inside expressions (no walrus in the subset).
        match &e.kind {
            ExprKind::Yield(_) => self.generator = true,
            ExprKind::BinOp(a, _, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Call(f, args) => {
                self.expr(f);
                for a in args {
                    match a {
                        Arg::Pos(e) | Arg::Star(e) | Arg::Kw(_, e) | Arg::StarStar(e) => {
                            self.expr(e)
                        }
                    }
                }
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                items.iter().for_each(|i| self.expr(i))
            }
            ExprKind::Attr(a, _) | ExprKind::Unary(_, a) | ExprKind::Starred(a) => self.expr(a),
            ExprKind::IfExp(a, b, c) => {
                self.expr(a);
                self.expr(b);
                self.expr(c);
            }
            ExprKind::BoolOp(_, items) => items.iter().for_each(|i| self.expr(i)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seed_constructs() {
        let m = parse("import sys; cluster = 'x' if hasattr(sys, 'A') else None\n").unwrap();
        assert_eq!(m.top_level, 1);
        assert_eq!(m.body.len(), 2);
        let m = parse(
            "def f(code):\n    x = [y for y in [a and 'S', b] if y]\n    return ','.join(x)\n",
        )
        .unwrap();
        assert_eq!(m.top_level, 1);
        parse("print('%s: %s' % (\n  a,\n  b,\n))").unwrap();
        parse("f'{x!r:>10} {y:{w}}'").unwrap();
    }

    #[test]
    fn refuses_unsupported_constructs() {
        for src in [
            "async def f(): pass",
            "(y := 1)",
            "x: int = 1",
            "match x:\n    case 1: pass\n",
        ] {
            let e = parse(src).err().unwrap();
            assert!(e.message.contains("unsupported"), "{src}: {}", e.message);
        }
    }

    #[test]
    fn never_panics_on_random_input() {
        let mut seed: u64 = 42;
        for _ in 0..2000 {
            let len = (seed % 40) as usize;
            let src: String = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let alphabet = b"()[]{}:,.=+-*/%<>!'\"\\#\n \tabcif elsedefor0123456789@fr";
                    alphabet[(seed % alphabet.len() as u64) as usize] as char
                })
                .collect();
            let _ = parse(&src);
        }
    }

    #[test]
    fn locals_and_generators_are_found() {
        let m = parse("def f(a):\n    global g\n    b = 1\n    g = 2\n    yield b\n").unwrap();
        let StmtKind::FunctionDef(f) = &m.body[0].kind else {
            panic!()
        };
        assert!(f.is_generator);
        assert!(f.locals.contains("b") && f.locals.contains("a") && !f.locals.contains("g"));
    }
}
