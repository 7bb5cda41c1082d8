//! The HTSQL syntax tree and its recursive-descent parser (htsql.md §3). Every node
//! carries the mark of its source span so binding errors can point at it; `Display`
//! is HTSQL's canonical re-serialization, used as the header of untagged fields.

use super::error::{error, with_mark, Mark};
use super::scan::{IdLabel, Tok, Token};
use crate::core::Result;
use std::fmt;
use std::rc::Rc;

#[derive(Clone, Debug)]
pub struct Syn {
    pub kind: Kind,
    pub mark: Mark,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallStyle {
    /// `f(x, y)`
    Function,
    /// `x :f y`
    Infix,
    /// `x /:f`
    Pipe,
}

#[derive(Clone, Debug)]
pub enum Kind {
    /// `/flow` (or a bare `/`).
    Collect(Option<Box<Syn>>),
    /// `a.b`
    Compose(Box<Syn>, Box<Syn>),
    /// `a{...}`
    Select(Box<Syn>, Vec<Syn>),
    /// `a ? p`
    Sieve(Box<Syn>, Box<Syn>),
    /// `f(args)` / `base :f arg` / `base /:f arg`; `name_mark` is the identifier's.
    Apply {
        name: String,
        name_mark: Mark,
        args: Vec<Syn>,
        style: CallStyle,
    },
    Operator(&'static str, Box<Syn>, Box<Syn>),
    Prefix(&'static str, Box<Syn>),
    /// `x+` / `x-`
    Direction(Box<Syn>, &'static str),
    Ident(String),
    Reference(String),
    Wildcard,
    Str(String),
    Integer(String),
    Decimal(String),
    Float(String),
    /// `lhs := rhs`: the specifier's parts (`$`-prefixed for references).
    Assign(Vec<String>, Box<Syn>),
    /// `base[labels]`
    Locate(Box<Syn>, Vec<IdLabel>),
    Group(Box<Syn>),
}

impl Syn {
    /// The identifier's text when the node is a bare identifier.
    pub fn ident(&self) -> Option<&str> {
        match &self.kind {
            Kind::Ident(n) => Some(n),
            _ => None,
        }
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn fmt_labels(labels: &[IdLabel]) -> String {
    labels
        .iter()
        .map(|l| match l {
            IdLabel::Label(s) => s.clone(),
            IdLabel::Str(s) => quote(s),
            IdLabel::Ref(s) => format!("${s}"),
            IdLabel::Group(g) => format!("({})", fmt_labels(g)),
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn join(items: &[Syn]) -> String {
    items
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

impl fmt::Display for Syn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Collect(None) => f.write_str("/"),
            Kind::Collect(Some(s)) => write!(f, "/{s}"),
            Kind::Compose(a, b) => write!(f, "{a}.{b}"),
            Kind::Select(a, items) => write!(f, "{a}{{{}}}", join(items)),
            Kind::Sieve(a, p) => write!(f, "{a}?{p}"),
            Kind::Apply {
                name, args, style, ..
            } => match style {
                CallStyle::Function => write!(f, "{name}({})", join(args)),
                CallStyle::Infix | CallStyle::Pipe => {
                    let sep = if *style == CallStyle::Pipe {
                        "/:"
                    } else {
                        " :"
                    };
                    write!(f, "{}{sep}{name}", args[0])?;
                    match args.len() {
                        1 => Ok(()),
                        2 => write!(f, " {}", args[1]),
                        _ => write!(f, "({})", join(&args[1..])),
                    }
                }
            },
            Kind::Operator(op, a, b) => write!(f, "{a}{op}{b}"),
            Kind::Prefix(op, a) => write!(f, "{op}{a}"),
            Kind::Direction(a, d) => write!(f, "{a}{d}"),
            Kind::Ident(n) => f.write_str(n),
            Kind::Reference(n) => write!(f, "${n}"),
            Kind::Wildcard => f.write_str("*"),
            Kind::Str(s) => f.write_str(&quote(s)),
            Kind::Integer(s) | Kind::Decimal(s) | Kind::Float(s) => f.write_str(s),
            Kind::Assign(lhs, rhs) => write!(f, "{}:={rhs}", lhs.join(".")),
            Kind::Locate(a, labels) => write!(f, "{a}[{}]", fmt_labels(labels)),
            Kind::Group(a) => write!(f, "({a})"),
        }
    }
}

/// Parses one decoded statement.
pub fn parse(text: &Rc<str>) -> Result<Syn> {
    let tokens = super::scan::scan(text)?;
    let mut p = Parser {
        text: text.clone(),
        tokens,
        pos: 0,
        depth: 0,
    };
    let query = p.assignment()?;
    if p.is_sym(";") {
        p.pos += 1;
    }
    if p.peek() != &Tok::End {
        return Err(p.unexpected());
    }
    Ok(query)
}

struct Parser {
    text: Rc<str>,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

const MAX_DEPTH: usize = 90;

impl Parser {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }
    fn peek_at(&self, n: usize) -> &Tok {
        let i = (self.pos + n).min(self.tokens.len() - 1);
        &self.tokens[i].tok
    }
    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Tok::Symbol(x) if *x == s)
    }
    fn is_sym_at(&self, n: usize, s: &str) -> bool {
        matches!(self.peek_at(n), Tok::Symbol(x) if *x == s)
    }
    fn mark_of(&self, i: usize) -> Mark {
        let t = &self.tokens[i];
        Mark {
            text: self.text.clone(),
            start: t.start,
            end: t.end,
        }
    }
    fn span(&self, from: usize) -> Mark {
        let start = self.tokens[from].start;
        let last = if self.pos > from { self.pos - 1 } else { from };
        Mark {
            text: self.text.clone(),
            start,
            end: self.tokens[last].end.max(start),
        }
    }
    fn node(&self, kind: Kind, from: usize) -> Syn {
        Syn {
            kind,
            mark: self.span(from),
        }
    }
    fn unexpected(&self) -> crate::core::Error {
        let msg = if self.peek() == &Tok::End {
            "Got unexpected end of input"
        } else {
            "Got unexpected input"
        };
        with_mark(error(msg, None), "While parsing", &self.mark_of(self.pos))
    }
    fn expect(&mut self, s: &str) -> Result<()> {
        if self.is_sym(s) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }
    fn name(&mut self) -> Result<String> {
        match self.peek().clone() {
            Tok::Name(n) => {
                self.pos += 1;
                Ok(n)
            }
            _ => Err(self.unexpected()),
        }
    }
    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(with_mark(
                error("Got too deeply nested input", None),
                "While parsing",
                &self.mark_of(self.pos),
            ));
        }
        Ok(())
    }

    /// LHSSIG: `$? NAME ( . $? NAME )* ( '(' params ')' )? :=`.
    fn lhs_ahead(&self) -> bool {
        let mut n = 0;
        loop {
            if self.is_sym_at(n, "$") {
                n += 1;
            }
            if !matches!(self.peek_at(n), Tok::Name(_)) {
                return false;
            }
            n += 1;
            if self.is_sym_at(n, ".") {
                n += 1;
                continue;
            }
            break;
        }
        if self.is_sym_at(n, "(") {
            n += 1;
            while !self.is_sym_at(n, ")") {
                match self.peek_at(n) {
                    Tok::Name(_) | Tok::Symbol("$") | Tok::Symbol(",") => n += 1,
                    _ => return false,
                }
            }
            n += 1;
        }
        self.is_sym_at(n, ":=")
    }

    fn with_assign(&mut self, flow: bool) -> Result<Syn> {
        let from = self.pos;
        if self.lhs_ahead() {
            let mut parts = Vec::new();
            while !self.is_sym(":=") {
                match self.peek().clone() {
                    Tok::Symbol("$") => {
                        self.pos += 1;
                        let n = self.name()?;
                        parts.push(format!("${n}"));
                    }
                    Tok::Name(n) => {
                        self.pos += 1;
                        parts.push(n);
                    }
                    _ => self.pos += 1,
                }
            }
            self.pos += 1;
            let rhs = if flow { self.flow()? } else { self.pipe()? };
            return Ok(self.node(Kind::Assign(parts, Box::new(rhs)), from));
        }
        if flow {
            self.flow()
        } else {
            self.pipe()
        }
    }

    fn assignment(&mut self) -> Result<Syn> {
        self.enter()?;
        let r = self.with_assign(false);
        self.depth -= 1;
        r
    }

    fn assignment_list(&mut self, close: &str) -> Result<Vec<Syn>> {
        let mut items = Vec::new();
        while !self.is_sym(close) {
            items.push(self.assignment()?);
            if self.is_sym(",") {
                self.pos += 1;
            } else if !self.is_sym(close) {
                return Err(self.unexpected());
            }
        }
        self.pos += 1;
        Ok(items)
    }

    /// Starts of a flow expression (to decide whether `:f` takes an argument).
    fn flow_starts(&self) -> bool {
        match self.peek() {
            Tok::End | Tok::Identity(_) => false,
            Tok::Symbol(s) => {
                matches!(*s, "/" | "*" | "$" | "{" | "(" | "!" | "^" | "@")
                    && !(*s == "/" && self.is_sym_at(1, ":"))
            }
            _ => true,
        }
    }

    /// `name [flow_assign | '(' assignment_list ')']` after `:` — returns args.
    fn call_args(&mut self, pipe: bool) -> Result<Vec<Syn>> {
        if self.is_sym("(") {
            self.pos += 1;
            return self.assignment_list(")");
        }
        if pipe
            && (self.is_sym("/")
                || self.peek() == &Tok::End
                || self.is_sym(";")
                || self.is_sym(")")
                || self.is_sym("}")
                || self.is_sym(","))
        {
            return Ok(Vec::new());
        }
        if self.flow_starts() {
            return Ok(vec![self.with_assign(true)?]);
        }
        Ok(Vec::new())
    }

    fn pipe(&mut self) -> Result<Syn> {
        let from = self.pos;
        let mut base = self.flow_pipe()?;
        while self.is_sym("/") && self.is_sym_at(1, ":") {
            self.pos += 2;
            let name_at = self.pos;
            let name = self.name()?;
            let name_mark = self.mark_of(name_at);
            let mut args = vec![base];
            args.extend(self.call_args(true)?);
            base = self.node(
                Kind::Apply {
                    name,
                    name_mark,
                    args,
                    style: CallStyle::Pipe,
                },
                from,
            );
        }
        Ok(base)
    }

    fn direction_ahead(&self) -> bool {
        let mut n = 0;
        while self.is_sym_at(n, "+") || self.is_sym_at(n, "-") {
            n += 1;
        }
        n > 0
            && (matches!(self.peek_at(n), Tok::Symbol(s) if matches!(*s, ":" | "," | ";" | ")" | "}"))
                || self.peek_at(n) == &Tok::End)
    }

    fn flow_pipe(&mut self) -> Result<Syn> {
        let from = self.pos;
        let mut base = self.flow()?;
        loop {
            if self.direction_ahead() {
                let Tok::Symbol(d) = self.peek().clone() else {
                    unreachable!()
                };
                self.pos += 1;
                base = self.node(Kind::Direction(Box::new(base), d), from);
            } else if self.is_sym(":") && !self.is_sym_at(1, "=") {
                self.pos += 1;
                let name_at = self.pos;
                let name = self.name()?;
                let name_mark = self.mark_of(name_at);
                let mut args = vec![base];
                if !(self.is_sym(":") || self.is_sym("+") || self.is_sym("-")) {
                    args.extend(self.call_args(false)?);
                }
                base = self.node(
                    Kind::Apply {
                        name,
                        name_mark,
                        args,
                        style: CallStyle::Infix,
                    },
                    from,
                );
            } else {
                return Ok(base);
            }
        }
    }

    fn flow(&mut self) -> Result<Syn> {
        self.enter()?;
        let r = self.flow_inner();
        self.depth -= 1;
        r
    }

    fn flow_inner(&mut self) -> Result<Syn> {
        let from = self.pos;
        let mut base = self.disjunction()?;
        loop {
            if self.is_sym("?") {
                self.pos += 1;
                let p = self.disjunction()?;
                base = self.node(Kind::Sieve(Box::new(base), Box::new(p)), from);
            } else if self.is_sym("^") {
                // Projection (a quotient): `flow ^ kernel`.
                self.pos += 1;
                let kernel = self.disjunction()?;
                base = self.node(Kind::Operator("^", Box::new(base), Box::new(kernel)), from);
            } else if self.is_sym("{") {
                self.pos += 1;
                let items = self.assignment_list("}")?;
                base = self.node(Kind::Select(Box::new(base), items), from);
                while self.is_sym(".") {
                    self.pos += 1;
                    let loc = self.location()?;
                    base = self.node(Kind::Compose(Box::new(base), Box::new(loc)), from);
                }
            } else {
                return Ok(base);
            }
        }
    }

    fn binary(
        &mut self,
        ops: &[&'static str],
        next: fn(&mut Parser) -> Result<Syn>,
        once: bool,
    ) -> Result<Syn> {
        let from = self.pos;
        let mut lhs = next(self)?;
        loop {
            let Some(op) = ops.iter().find(|o| self.is_sym(o)) else {
                return Ok(lhs);
            };
            // `/` followed by `:` is a pipe, not division.
            if *op == "/" && self.is_sym_at(1, ":") {
                return Ok(lhs);
            }
            if (*op == "+" || *op == "-") && self.direction_ahead() {
                return Ok(lhs);
            }
            self.pos += 1;
            let rhs = next(self)?;
            lhs = self.node(Kind::Operator(op, Box::new(lhs), Box::new(rhs)), from);
            if once {
                return Ok(lhs);
            }
        }
    }

    fn disjunction(&mut self) -> Result<Syn> {
        self.binary(&["|"], Parser::conjunction, false)
    }
    fn conjunction(&mut self) -> Result<Syn> {
        self.binary(&["&"], Parser::negation, false)
    }
    fn negation(&mut self) -> Result<Syn> {
        if self.is_sym("!") {
            let from = self.pos;
            self.pos += 1;
            self.enter()?;
            let arg = self.negation();
            self.depth -= 1;
            return Ok(self.node(Kind::Prefix("!", Box::new(arg?)), from));
        }
        self.comparison()
    }
    fn comparison(&mut self) -> Result<Syn> {
        self.binary(
            &["~", "!~", "<=", "<", ">=", ">", "==", "=", "!==", "!="],
            Parser::expression,
            true,
        )
    }
    fn expression(&mut self) -> Result<Syn> {
        self.binary(&["+", "-"], Parser::term, false)
    }
    fn term(&mut self) -> Result<Syn> {
        self.binary(&["*", "/"], Parser::factor, false)
    }
    fn factor(&mut self) -> Result<Syn> {
        if self.is_sym("+") || self.is_sym("-") {
            let from = self.pos;
            let Tok::Symbol(op) = self.peek().clone() else {
                unreachable!()
            };
            self.pos += 1;
            self.enter()?;
            let arg = self.factor();
            self.depth -= 1;
            return Ok(self.node(Kind::Prefix(op, Box::new(arg?)), from));
        }
        self.composition()
    }
    fn composition(&mut self) -> Result<Syn> {
        let from = self.pos;
        let mut base = self.location()?;
        while self.is_sym(".") {
            self.pos += 1;
            let next = self.location()?;
            base = self.node(Kind::Compose(Box::new(base), Box::new(next)), from);
        }
        Ok(base)
    }
    fn location(&mut self) -> Result<Syn> {
        let from = self.pos;
        let base = self.atom()?;
        if let Tok::Identity(labels) = self.peek().clone() {
            self.pos += 1;
            return Ok(self.node(Kind::Locate(Box::new(base), labels), from));
        }
        Ok(base)
    }
    fn atom(&mut self) -> Result<Syn> {
        self.enter()?;
        let r = self.atom_inner();
        self.depth -= 1;
        r
    }
    fn atom_inner(&mut self) -> Result<Syn> {
        let from = self.pos;
        let tok = self.peek().clone();
        match tok {
            // The complement of a projection (`count(^)`).
            Tok::Symbol("^") => {
                self.pos += 1;
                Ok(self.node(Kind::Ident("^".into()), from))
            }
            Tok::Symbol("/") => {
                self.pos += 1;
                let ends = matches!(self.peek(), Tok::End)
                    || (self.is_sym("/") && self.is_sym_at(1, ":"))
                    || matches!(self.peek(), Tok::Symbol(s) if matches!(*s, ")" | "}" | "," | ";" | ":"));
                if ends {
                    return Ok(self.node(Kind::Collect(None), from));
                }
                let inner = self.flow_pipe()?;
                Ok(self.node(Kind::Collect(Some(Box::new(inner))), from))
            }
            Tok::Symbol("*") => {
                self.pos += 1;
                Ok(self.node(Kind::Wildcard, from))
            }
            Tok::Symbol("$") => {
                self.pos += 1;
                let n = self.name()?;
                Ok(self.node(Kind::Reference(n), from))
            }
            Tok::Symbol("{") => {
                self.pos += 1;
                let items = self.assignment_list("}")?;
                Ok(self.node(
                    Kind::Select(
                        Box::new(Syn {
                            kind: Kind::Group(Box::new(Syn {
                                kind: Kind::Wildcard,
                                mark: self.mark_of(from),
                            })),
                            mark: self.mark_of(from),
                        }),
                        items,
                    ),
                    from,
                ))
            }
            Tok::Symbol("(") => {
                self.pos += 1;
                let inner = self.assignment()?;
                self.expect(")")?;
                Ok(self.node(Kind::Group(Box::new(inner)), from))
            }
            Tok::Name(n) => {
                self.pos += 1;
                if self.is_sym("(") {
                    let name_mark = self.mark_of(from);
                    self.pos += 1;
                    let args = self.assignment_list(")")?;
                    return Ok(self.node(
                        Kind::Apply {
                            name: n,
                            name_mark,
                            args,
                            style: CallStyle::Function,
                        },
                        from,
                    ));
                }
                Ok(self.node(Kind::Ident(n), from))
            }
            Tok::Str(s) => {
                self.pos += 1;
                Ok(self.node(Kind::Str(s), from))
            }
            Tok::Integer(s) => {
                self.pos += 1;
                Ok(self.node(Kind::Integer(s), from))
            }
            Tok::Decimal(s) => {
                self.pos += 1;
                Ok(self.node(Kind::Decimal(s), from))
            }
            Tok::Float(s) => {
                self.pos += 1;
                Ok(self.node(Kind::Float(s), from))
            }
            _ => Err(self.unexpected()),
        }
    }
}

/// `true` when the node is the home record marker produced for a bare `{...}`.
pub fn is_home_record_base(s: &Syn) -> bool {
    matches!(&s.kind, Kind::Group(inner) if matches!(inner.kind, Kind::Wildcard))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Syn> {
        parse(&Rc::from(s))
    }

    #[test]
    fn parses_the_etl_shape() {
        let s =
            p("/people{\n        first_name :as col1\n    } :as foo\n    /:rexdb\n    /:insert")
                .unwrap();
        assert_eq!(
            s.to_string(),
            "/people{first_name :as col1} :as foo/:rexdb/:insert"
        );
        let Kind::Apply { name, .. } = &s.kind else {
            panic!()
        };
        assert_eq!(name, "insert");
    }

    #[test]
    fn parse_errors() {
        let e = p("/people{firstname").unwrap_err().to_string();
        assert_eq!(e, "Got unexpected end of input\nWhile parsing:\n    /people{firstname\n                     ^");
        let e = p("/people{firstname}}").unwrap_err().to_string();
        assert_eq!(e, "Got unexpected input\nWhile parsing:\n    /people{firstname}}\n                      ^");
    }

    #[test]
    fn parses_assignments_sort_and_locators() {
        let s = p("/rexmart_inventory{id(), status:=$status}.filter(code=$code)/:update").unwrap();
        assert_eq!(
            s.to_string(),
            "/rexmart_inventory{id(),status:=$status}.filter(code=$code)/:update"
        );
        let s = p("/top(rexmart_inventory.filter(owner=$user).sort(date_creation_completed-))")
            .unwrap();
        assert_eq!(
            s.to_string(),
            "/top(rexmart_inventory.filter(owner=$user).sort(date_creation_completed-))"
        );
        let s = p("/rexmart_inventory[$code]{id()}/:delete").unwrap();
        assert_eq!(s.to_string(), "/rexmart_inventory[$code]{id()}/:delete");
        let s = p("/mart1{id(), 'bar' :as new_column,} /:update").unwrap();
        assert_eq!(s.to_string(), "/mart1{id(),'bar' :as new_column}/:update");
    }
}
