//! The syntax tree. Every statement and expression carries its 1-based line so
//! tracebacks and errors can name it. Constants hold ready-made [`Value`]s so that
//! evaluating a literal allocates nothing.

use super::value::Value;
use std::rc::Rc;

pub type Name = Rc<str>;

#[derive(Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub line: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    LShift,
    RShift,
    BitAnd,
    BitOr,
    BitXor,
    MatMul,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Pow => "**",
            BinOp::LShift => "<<",
            BinOp::RShift => ">>",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::MatMul => "@",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Is,
    IsNot,
    In,
    NotIn,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Is => "is",
            CmpOp::IsNot => "is not",
            CmpOp::In => "in",
            CmpOp::NotIn => "not in",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Pos,
    Not,
    Invert,
}

/// A call argument: positional, `*iterable`, `name=value`, `**mapping`.
#[derive(Debug)]
pub enum Arg {
    Pos(Expr),
    Star(Expr),
    Kw(Name, Expr),
    StarStar(Expr),
}

/// One `for ... in ... if ...` clause of a comprehension.
#[derive(Debug)]
pub struct CompFor {
    pub target: Expr,
    pub iter: Expr,
    pub ifs: Vec<Expr>,
}

#[derive(Debug)]
pub enum CompKind {
    List(Box<Expr>),
    Set(Box<Expr>),
    Dict(Box<Expr>, Box<Expr>),
}

/// A piece of an f-string.
#[derive(Debug)]
pub enum FPart {
    Lit(String),
    Expr {
        expr: Box<Expr>,
        conv: Option<char>,
        spec: Vec<FPart>,
        /// `f'{x=}'`: the source text printed before the value.
        debug: Option<String>,
    },
}

#[derive(Debug)]
pub enum ExprKind {
    Const(Value),
    Name(Name),
    FString(Vec<FPart>),
    Tuple(Vec<Expr>),
    List(Vec<Expr>),
    Set(Vec<Expr>),
    /// `None` key stands for `**mapping`.
    Dict(Vec<(Option<Expr>, Expr)>),
    Attr(Box<Expr>, Name),
    Subscript(Box<Expr>, Box<Expr>),
    Slice(Option<Box<Expr>>, Option<Box<Expr>>, Option<Box<Expr>>),
    Call(Box<Expr>, Vec<Arg>),
    BinOp(Box<Expr>, BinOp, Box<Expr>),
    Unary(UnaryOp, Box<Expr>),
    /// `and` (true) / `or` (false) over two or more operands.
    BoolOp(bool, Vec<Expr>),
    Compare(Box<Expr>, Vec<(CmpOp, Expr)>),
    IfExp(Box<Expr>, Box<Expr>, Box<Expr>),
    Lambda(Rc<FuncDef>),
    Comp(CompKind, Vec<CompFor>),
    /// A generator expression: a `<genexpr>` generator function taking the first
    /// iterable (evaluated in the enclosing scope) as its one argument.
    GenExp(Rc<FuncDef>, Box<Expr>),
    Starred(Box<Expr>),
    Yield(Option<Box<Expr>>),
}

#[derive(Debug)]
pub enum ParamKind {
    Normal,
    VarArgs,
    KwOnly,
    VarKw,
}

#[derive(Debug)]
pub struct Param {
    pub name: Name,
    pub default: Option<Expr>,
    pub kind: ParamKind,
}

#[derive(Debug)]
pub struct FuncDef {
    pub name: Name,
    pub params: Vec<Param>,
    pub body: Vec<Stmt>,
    pub decorators: Vec<Expr>,
    pub line: usize,
    pub is_generator: bool,
    /// The generator can run lazily (see [`lazy_generator_body`]); otherwise it
    /// runs eagerly with its output replayed per item.
    pub lazy: bool,
    /// Names bound in the body (locals unless declared global/nonlocal).
    pub locals: std::collections::HashSet<Name>,
    pub globals: std::collections::HashSet<Name>,
    pub nonlocals: std::collections::HashSet<Name>,
}

#[derive(Debug)]
pub struct Handler {
    pub typ: Option<Expr>,
    pub name: Option<Name>,
    pub body: Vec<Stmt>,
    pub line: usize,
}

#[derive(Debug)]
pub struct Stmt {
    pub kind: StmtKind,
    pub line: usize,
}

#[derive(Debug)]
pub enum StmtKind {
    Expr(Expr),
    Assign(Vec<Expr>, Expr),
    AugAssign(Expr, BinOp, Expr),
    /// `import a.b.c [as x]`
    Import(Vec<(String, Option<Name>)>),
    /// `from a.b import x [as y]`; empty list = `*`.
    ImportFrom(String, Vec<(Name, Option<Name>)>),
    FunctionDef(Rc<FuncDef>),
    ClassDef {
        name: Name,
        bases: Vec<Expr>,
        /// `metaclass=M` and the other class keyword arguments, in order.
        keywords: Vec<(Name, Expr)>,
        body: Vec<Stmt>,
        decorators: Vec<Expr>,
    },
    Return(Option<Expr>),
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    For(Expr, Expr, Vec<Stmt>, Vec<Stmt>),
    While(Expr, Vec<Stmt>, Vec<Stmt>),
    With(Vec<(Expr, Option<Expr>)>, Vec<Stmt>),
    Pass,
    Break,
    Continue,
    Del(Vec<Expr>),
    Assert(Expr, Option<Expr>),
    Raise(Option<Expr>, Option<Expr>),
    Try {
        body: Vec<Stmt>,
        handlers: Vec<Handler>,
        orelse: Vec<Stmt>,
        finally: Vec<Stmt>,
    },
    Global(Vec<Name>),
    Nonlocal(Vec<Name>),
}

impl Expr {
    /// Whether evaluating this expression may execute `yield` (nested function
    /// and lambda bodies excluded; comprehensions included, as CPython 3.11
    /// rejects `yield` there anyway).
    pub fn has_yield(&self) -> bool {
        let any = |items: &[Expr]| items.iter().any(Expr::has_yield);
        let opt = |e: &Option<Box<Expr>>| e.as_ref().is_some_and(|e| e.has_yield());
        match &self.kind {
            ExprKind::Yield(_) => true,
            ExprKind::Const(_) | ExprKind::Name(_) | ExprKind::Lambda(_) => false,
            ExprKind::GenExp(_, first) => first.has_yield(),
            ExprKind::FString(parts) => parts.iter().any(|p| match p {
                FPart::Lit(_) => false,
                FPart::Expr { expr, .. } => expr.has_yield(),
            }),
            ExprKind::Tuple(items) | ExprKind::List(items) | ExprKind::Set(items) => any(items),
            ExprKind::BoolOp(_, items) => any(items),
            ExprKind::Dict(items) => items
                .iter()
                .any(|(k, v)| k.as_ref().is_some_and(|k| k.has_yield()) || v.has_yield()),
            ExprKind::Attr(e, _) | ExprKind::Unary(_, e) | ExprKind::Starred(e) => e.has_yield(),
            ExprKind::Subscript(a, b) | ExprKind::BinOp(a, _, b) => a.has_yield() || b.has_yield(),
            ExprKind::Slice(a, b, c) => opt(a) || opt(b) || opt(c),
            ExprKind::Call(f, args) => {
                f.has_yield()
                    || args.iter().any(|a| match a {
                        Arg::Pos(e) | Arg::Star(e) | Arg::Kw(_, e) | Arg::StarStar(e) => {
                            e.has_yield()
                        }
                    })
            }
            ExprKind::Compare(a, rest) => a.has_yield() || rest.iter().any(|(_, e)| e.has_yield()),
            ExprKind::IfExp(a, b, c) => a.has_yield() || b.has_yield() || c.has_yield(),
            ExprKind::Comp(kind, fors) => {
                let k = match kind {
                    CompKind::List(e) | CompKind::Set(e) => e.has_yield(),
                    CompKind::Dict(a, b) => a.has_yield() || b.has_yield(),
                };
                k || fors
                    .iter()
                    .any(|f| f.target.has_yield() || f.iter.has_yield() || any(&f.ifs))
            }
        }
    }
}

impl Stmt {
    /// Whether executing this statement may execute `yield` (not counting nested
    /// function and class bodies, which are separate scopes).
    pub fn has_yield(&self) -> bool {
        let block = |b: &[Stmt]| b.iter().any(Stmt::has_yield);
        match &self.kind {
            StmtKind::Expr(e) | StmtKind::Return(Some(e)) => e.has_yield(),
            StmtKind::Assign(ts, v) => v.has_yield() || ts.iter().any(Expr::has_yield),
            StmtKind::AugAssign(t, _, v) => t.has_yield() || v.has_yield(),
            StmtKind::If(t, a, b) | StmtKind::While(t, a, b) => {
                t.has_yield() || block(a) || block(b)
            }
            StmtKind::For(t, i, a, b) => t.has_yield() || i.has_yield() || block(a) || block(b),
            StmtKind::With(items, body) => {
                items
                    .iter()
                    .any(|(e, t)| e.has_yield() || t.as_ref().is_some_and(|t| t.has_yield()))
                    || block(body)
            }
            StmtKind::Del(ts) => ts.iter().any(Expr::has_yield),
            StmtKind::Assert(a, b) => a.has_yield() || b.as_ref().is_some_and(|b| b.has_yield()),
            StmtKind::Raise(a, b) => {
                a.as_ref().is_some_and(|a| a.has_yield())
                    || b.as_ref().is_some_and(|b| b.has_yield())
            }
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            } => {
                block(body)
                    || handlers
                        .iter()
                        .any(|h| h.typ.as_ref().is_some_and(|t| t.has_yield()) || block(&h.body))
                    || block(orelse)
                    || block(finally)
            }
            StmtKind::FunctionDef(f) => f
                .params
                .iter()
                .any(|p| p.default.as_ref().is_some_and(|d| d.has_yield())),
            StmtKind::ClassDef {
                bases, keywords, ..
            } => bases.iter().any(Expr::has_yield) || keywords.iter().any(|(_, e)| e.has_yield()),
            _ => false,
        }
    }
}

/// Whether a generator body can run lazily: every `yield` is a whole statement
/// (`yield x` or `target = yield x`) inside plain blocks, `if`, `for` and `while`.
pub fn lazy_generator_body(body: &[Stmt]) -> bool {
    body.iter().all(|s| {
        if !s.has_yield() {
            return true;
        }
        match &s.kind {
            StmtKind::Expr(Expr {
                kind: ExprKind::Yield(v),
                ..
            }) => !v.as_ref().is_some_and(|v| v.has_yield()),
            StmtKind::Assign(
                ts,
                Expr {
                    kind: ExprKind::Yield(v),
                    ..
                },
            ) => !v.as_ref().is_some_and(|v| v.has_yield()) && !ts.iter().any(Expr::has_yield),
            StmtKind::If(t, a, b) | StmtKind::While(t, a, b) => {
                !t.has_yield() && lazy_generator_body(a) && lazy_generator_body(b)
            }
            StmtKind::For(t, i, a, b) => {
                !t.has_yield() && !i.has_yield() && lazy_generator_body(a) && lazy_generator_body(b)
            }
            _ => false,
        }
    })
}
