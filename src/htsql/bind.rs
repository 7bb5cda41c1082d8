//! Binding (htsql.md §4): resolves names of a syntax tree against the catalog and the
//! parameters, checks types, and produces a query plan ([`Flow`] with output
//! [`Field`]s) that `sql.rs` turns into one SELECT. Unknown names get HTSQL's exact
//! "Found unknown ..." errors with suggestions.

use super::catalog::{normalize, title, Attr, Catalog, IdPart};
use super::error::{error, push, similar, translate_error, with_mark, Mark};
use super::literal;
use super::syntax::{is_home_record_base, CallStyle, Kind, Syn};
use super::value::{Domain, Value};
use crate::core::{Error, Result};
use std::collections::HashMap;

/// One join hop from a table: its own FK (`Direct`) or another table's FK into it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// From table `.0` through its foreign key `.1`.
    Direct(usize, usize),
    /// From the FK target into child table `.0` through the child's foreign key `.1`.
    Reverse(usize, usize),
}

pub type Path = Vec<Step>;

/// A scalar SQL expression over a flow's joins. Values never enter SQL text: they are
/// `Param`s sent as bind parameters.
#[derive(Clone, Debug)]
pub enum Expr {
    /// Column `.2` of table `.1` reached by path `.0`.
    Col(Path, usize, usize),
    /// A bind parameter (text form) cast to an SQL type.
    Param(Option<String>, String),
    /// SQL template: each `{}` takes the next argument.
    Tpl(&'static str, Vec<Expr>),
    /// `(SELECT COUNT(*) ...)` over a plural flow.
    Count(Box<Flow>),
    /// Whether the row reached by the path exists.
    Present(Path),
}

/// How an output field's value is computed.
#[derive(Clone, Debug)]
pub enum Out {
    Scalar(Expr, Domain),
    /// Identity of the row of table `.1` reached by path `.0`.
    Identity(Path, usize),
    /// An identity built from values (`id($x)`), leaves in order.
    MakeIdentity(Vec<(Expr, Domain)>),
    /// A nested record; `None` when the row at the marker path is missing.
    Record(Option<Path>, Vec<Field>, Option<String>),
}

#[derive(Clone, Debug)]
pub struct Field {
    pub tag: Option<String>,
    pub header: String,
    pub out: Out,
}

/// A set of rows of one table (or the single home row when `table` is None).
#[derive(Clone, Debug)]
pub struct Flow {
    pub table: Option<usize>,
    pub filters: Vec<Expr>,
    pub order: Vec<(Expr, bool)>,
    pub limit: Option<i64>,
    /// For a plural link: the outer path and the child FK joining this flow to it.
    pub correlate: Option<(Path, usize)>,
    pub fields: Option<Vec<Field>>,
    pub tag: Option<String>,
    pub singular: bool,
    /// A root segment of one untagged value: the product is that value.
    pub scalar: bool,
    /// A projection (`flow ^ kernel`): one row per distinct kernel value.
    pub group: Option<Vec<Expr>>,
}

/// The current naming scope: a table reached by `path` from the flow base, or home.
#[derive(Clone, Debug)]
pub struct Scope {
    pub table: Option<usize>,
    pub path: Path,
    /// The identifier text that named this scope (`guess_tag`).
    pub tag: Option<String>,
}

#[derive(Clone, Debug)]
pub enum Bound {
    Value(Expr, Domain),
    /// An untyped literal or parameter, typed later by its context.
    Untyped(Option<String>),
    /// A singular link: a table scope.
    Link(Scope),
    Plural(Flow),
    Identity(Out),
    Record(Option<Path>, Vec<Field>, Option<String>, Scope),
    Home,
}

/// Global functions with their arity (-1: any), for lookup and suggestions.
const GLOBALS: &[(&str, i32)] = &[
    ("as", 2),
    ("delete", 1),
    ("insert", 1),
    ("merge", 1),
    ("update", 1),
    ("count", 1),
    ("define", -1),
    ("exists", 1),
    ("filter", 1),
    ("id", -1),
    ("if_null", 2),
    ("is_null", 1),
    ("length", 1),
    ("limit", -1),
    ("lower", 1),
    ("now", 0),
    ("random", 0),
    ("sort", -1),
    ("str", 1),
    ("string", 1),
    ("text", 1),
    ("today", 0),
    ("top", 1),
    ("upper", 1),
];
const CONSTANTS: &[&str] = &["false", "null", "true"];

pub struct Binder<'a> {
    pub cat: &'a Catalog,
    refs: HashMap<String, Value>,
    defined: HashMap<String, Bound>,
}

fn col_domain(cat: &Catalog, t: usize, c: usize) -> Domain {
    cat.tables[t].columns[c].domain.clone()
}

/// The domain of a table's identity.
pub fn identity_domain(cat: &Catalog, t: usize) -> Domain {
    fn parts(cat: &Catalog, t: usize, ps: &[IdPart]) -> Vec<Domain> {
        ps.iter()
            .map(|p| match p {
                IdPart::Column(c) => col_domain(cat, t, *c),
                IdPart::Link(f, nested) => {
                    Domain::Identity(parts(cat, cat.tables[t].fks[*f].target, nested))
                }
            })
            .collect()
    }
    match &cat.tables[t].identity {
        Some(ps) => Domain::Identity(parts(cat, t, ps)),
        None => Domain::Identity(Vec::new()),
    }
}

/// The leaf columns of a table's identity, as (path from the table, table, column).
pub fn identity_leaves(cat: &Catalog, t: usize) -> Vec<(Path, usize, usize)> {
    fn walk(
        cat: &Catalog,
        t: usize,
        ps: &[IdPart],
        path: &Path,
        out: &mut Vec<(Path, usize, usize)>,
    ) {
        for p in ps {
            match p {
                IdPart::Column(c) => out.push((path.clone(), t, *c)),
                IdPart::Link(f, nested) => {
                    let mut next = path.clone();
                    next.push(Step::Direct(t, *f));
                    walk(cat, cat.tables[t].fks[*f].target, nested, &next, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    if let Some(ps) = &cat.tables[t].identity {
        walk(cat, t, ps, &Vec::new(), &mut out);
    }
    out
}

fn extend(path: &Path, step: Step) -> Path {
    let mut p = path.clone();
    p.push(step);
    p
}

fn plural_error(mark: &Mark) -> Error {
    translate_error("Expected a singular expression", None, mark)
}

impl<'a> Binder<'a> {
    pub fn new(cat: &'a Catalog, params: &[(&str, Value)]) -> Binder<'a> {
        let mut refs: HashMap<String, Value> = HashMap::new();
        refs.insert("user".into(), Value::Null);
        for (k, v) in params {
            refs.insert(normalize(k), v.clone());
        }
        Binder {
            cat,
            refs,
            defined: HashMap::new(),
        }
    }

    fn home() -> Scope {
        Scope {
            table: None,
            path: Vec::new(),
            tag: None,
        }
    }

    /// Binds a top-level segment (`/...`, `{...}`) into a flow with fields.
    pub fn bind_segment(&mut self, syn: &Syn) -> Result<Flow> {
        if let Kind::Assign(lhs, rhs) = &syn.kind {
            let mut flow = self.bind_segment(rhs)?;
            flow.tag = Some(lhs.join("."));
            return Ok(flow);
        }
        let (inner, collected) = match &syn.kind {
            Kind::Collect(Some(inner)) => (&**inner, true),
            Kind::Collect(None) => {
                return Ok(Flow {
                    table: None,
                    filters: vec![],
                    order: vec![],
                    limit: None,
                    correlate: None,
                    fields: Some(vec![]),
                    tag: None,
                    singular: false,
                    scalar: false,
                    group: None,
                })
            }
            _ => (syn, false),
        };
        if let Some(flow) = self.bind_projection(inner)? {
            return Ok(flow);
        }
        let bound = self.bind(inner, &Self::home())?;
        let mut flow = match bound {
            Bound::Plural(mut flow) => {
                // `/table[id]` is a list of one record, as any collected segment.
                flow.singular &= !collected;
                if flow.fields.is_none() {
                    let t = flow.table.expect("a plural flow has a table");
                    let scope = Scope {
                        table: Some(t),
                        path: vec![],
                        tag: None,
                    };
                    flow.fields = Some(self.public_fields(&scope));
                }
                flow
            }
            Bound::Record(_, fields, tag, _) => Flow {
                table: None,
                filters: vec![],
                order: vec![],
                limit: None,
                correlate: None,
                fields: Some(fields),
                tag,
                singular: !collected,
                scalar: false,
                group: None,
            },
            other => {
                let field = self.make_field(other, None, inner.to_string(), &inner.mark)?;
                Flow {
                    table: None,
                    filters: vec![],
                    order: vec![],
                    limit: None,
                    correlate: None,
                    fields: Some(vec![field]),
                    tag: None,
                    singular: true,
                    scalar: true,
                    group: None,
                }
            }
        };
        if let Kind::Apply {
            name, args, style, ..
        } = &inner.kind
        {
            if *style != CallStyle::Function && normalize(name) == "as" && args.len() == 2 {
                if let Some(tag) = args[1].ident() {
                    flow.tag = Some(tag.to_string());
                }
            }
        }
        Ok(flow)
    }

    /// A top-level projection, `base ^ kernel` with an optional selection of the
    /// kernel and `count(^)`: one record per distinct kernel value, in its order.
    fn bind_projection(&mut self, syn: &Syn) -> Result<Option<Flow>> {
        let (quotient, items) = match &syn.kind {
            Kind::Select(base, items) => (&**base, Some(items)),
            _ => (syn, None),
        };
        let Kind::Operator("^", base, kernel) = &quotient.kind else {
            return Ok(None);
        };
        let mut flow = match self.bind(base, &Self::home())? {
            Bound::Plural(flow) => flow,
            _ => {
                return Err(translate_error(
                    "Expected a plural expression",
                    None,
                    &base.mark,
                ))
            }
        };
        let scope = Scope {
            table: flow.table,
            path: vec![],
            tag: None,
        };
        let (k_expr, k_domain) = match self.bind(kernel, &scope)? {
            Bound::Value(e, d) => (e, d),
            _ => {
                return Err(translate_error(
                    "Expected a scalar column as the kernel of a projection",
                    None,
                    &kernel.mark,
                ))
            }
        };
        let k_name = kernel.ident().map(str::to_string);
        let k_field = |tag: Option<String>| Field {
            tag,
            header: kernel.to_string(),
            out: Out::Scalar(k_expr.clone(), k_domain.clone()),
        };
        let mut fields = Vec::new();
        match items {
            None => fields.push(k_field(k_name.clone())),
            Some(items) => {
                for item in items {
                    let is_kernel = item.ident().is_some() && item.ident() == k_name.as_deref();
                    let is_count = matches!(&item.kind, Kind::Apply { name, args, .. }
                        if normalize(name) == "count" && args.len() == 1 && args[0].ident() == Some("^"));
                    if is_kernel {
                        fields.push(k_field(k_name.clone()));
                    } else if is_count {
                        fields.push(Field {
                            tag: Some("count".into()),
                            header: item.to_string(),
                            out: Out::Scalar(Expr::Tpl("COUNT(*)", vec![]), Domain::Integer),
                        });
                    } else {
                        return Err(translate_error(
                            "Expected the kernel or count(^) in a projection",
                            None,
                            &item.mark,
                        ));
                    }
                }
            }
        }
        flow.fields = Some(fields);
        flow.group = Some(vec![k_expr]);
        flow.tag = None;
        flow.singular = false;
        Ok(Some(flow))
    }

    fn public_fields(&self, scope: &Scope) -> Vec<Field> {
        let Some(t) = scope.table else { return vec![] };
        self.cat.tables[t]
            .public
            .iter()
            .map(|(name, attr)| {
                let bound = self.attr_bound(scope, *attr, name);
                let out = match bound {
                    Bound::Value(e, d) => Out::Scalar(e, d),
                    Bound::Link(s) => Out::Identity(s.path, s.table.unwrap_or(t)),
                    _ => Out::Scalar(Expr::Param(None, "text".into()), Domain::Untyped),
                };
                Field {
                    tag: Some(name.clone()),
                    header: title(name),
                    out,
                }
            })
            .collect()
    }

    fn attr_bound(&self, scope: &Scope, attr: Attr, name: &str) -> Bound {
        let t = scope.table.expect("attribute of a table");
        match attr {
            Attr::Column(c) => Bound::Value(
                Expr::Col(scope.path.clone(), t, c),
                col_domain(self.cat, t, c),
            ),
            Attr::Direct(f) => Bound::Link(Scope {
                table: Some(self.cat.tables[t].fks[f].target),
                path: extend(&scope.path, Step::Direct(t, f)),
                tag: Some(name.to_string()),
            }),
            Attr::Reverse(c, f) => {
                let child = &self.cat.tables[c];
                let cols = &child.fks[f].columns;
                let singular = child
                    .primary_key
                    .iter()
                    .chain(child.uniques.iter())
                    .any(|k| k.iter().all(|x| cols.contains(x)));
                if singular {
                    Bound::Link(Scope {
                        table: Some(c),
                        path: extend(&scope.path, Step::Reverse(c, f)),
                        tag: Some(name.to_string()),
                    })
                } else {
                    Bound::Plural(Flow {
                        table: Some(c),
                        filters: vec![],
                        order: vec![],
                        limit: None,
                        correlate: Some((scope.path.clone(), f)),
                        fields: None,
                        tag: Some(child.name.clone()),
                        singular: false,
                        scalar: false,
                        group: None,
                    })
                }
            }
        }
    }

    /// Converts a bound selection element into an output field.
    fn make_field(
        &mut self,
        b: Bound,
        tag: Option<String>,
        header: String,
        mark: &Mark,
    ) -> Result<Field> {
        let out = match b {
            Bound::Value(e, d) => Out::Scalar(e, d),
            Bound::Untyped(v) => Out::Scalar(Expr::Param(v, "text".into()), Domain::Untyped),
            Bound::Identity(out) => out,
            Bound::Record(marker, fields, name, _) => {
                Out::Record(marker, fields, name.or(tag.clone()))
            }
            Bound::Link(scope) => {
                let t = scope.table.expect("link to a table");
                match scope.path.last() {
                    Some(Step::Reverse(..)) => {
                        let fields = self.public_fields(&scope);
                        Out::Record(Some(scope.path.clone()), fields, tag.clone())
                    }
                    _ => Out::Identity(scope.path, t),
                }
            }
            Bound::Plural(_) | Bound::Home => return Err(plural_error(mark)),
        };
        Ok(Field { tag, header, out })
    }

    /// Binds one selection element (handles `:as`, `:=` and tags).
    fn bind_field(&mut self, syn: &Syn, scope: &Scope) -> Result<Vec<Field>> {
        match &syn.kind {
            Kind::Wildcard => {
                if scope.table.is_none() {
                    return Ok(vec![]);
                }
                Ok(self.public_fields(scope))
            }
            Kind::Apply {
                name, args, style, ..
            } if normalize(name) == "as" && *style != CallStyle::Function && args.len() == 2 => {
                let mut fields = self.bind_field(&args[0], scope)?;
                if fields.len() != 1 {
                    return Err(plural_error(&syn.mark));
                }
                let mut f = fields.remove(0);
                match &args[1].kind {
                    Kind::Ident(n) => {
                        f.tag = Some(n.clone());
                        f.header = n.clone();
                        if let Out::Record(m, fs, _) = f.out {
                            f.out = Out::Record(m, fs, Some(n.clone()));
                        }
                    }
                    Kind::Str(s) => f.header = s.clone(),
                    _ => return Err(translate_error("Expected a label", None, &args[1].mark)),
                }
                Ok(vec![f])
            }
            Kind::Assign(lhs, rhs) if lhs.len() == 1 && !lhs[0].starts_with('$') => {
                let b = self.bind(rhs, scope)?;
                let f = self.make_field(b, Some(lhs[0].clone()), lhs[0].clone(), &rhs.mark)?;
                Ok(vec![f])
            }
            Kind::Ident(n) => {
                let b = self.bind(syn, scope)?;
                let header = match &b {
                    Bound::Value(..) | Bound::Link(..) => title(&normalize(n)),
                    _ => n.clone(),
                };
                Ok(vec![self.make_field(
                    b,
                    Some(n.clone()),
                    header,
                    &syn.mark,
                )?])
            }
            Kind::Select(base, _) if base.ident().is_some() => {
                let n = base.ident().unwrap_or_default().to_string();
                let b = self.bind(syn, scope)?;
                Ok(vec![self.make_field(b, Some(n.clone()), n, &syn.mark)?])
            }
            _ => {
                let b = self.bind(syn, scope)?;
                Ok(vec![self.make_field(
                    b,
                    None,
                    syn.to_string(),
                    &syn.mark,
                )?])
            }
        }
    }

    fn scope_of(&self, b: &Bound, mark: &Mark) -> Result<Scope> {
        match b {
            Bound::Link(s) => Ok(s.clone()),
            Bound::Record(_, _, _, s) => Ok(s.clone()),
            Bound::Home => Ok(Self::home()),
            Bound::Plural(f) => Ok(Scope {
                table: f.table,
                path: vec![],
                tag: f.tag.clone(),
            }),
            _ => Err(translate_error("Expected a table or a link", None, mark)),
        }
    }

    /// Binds an expression in a scope.
    pub fn bind(&mut self, syn: &Syn, scope: &Scope) -> Result<Bound> {
        match &syn.kind {
            Kind::Group(inner) if matches!(inner.kind, Kind::Wildcard) => Ok(Bound::Home),
            Kind::Group(inner) => self.bind(inner, scope),
            Kind::Ident(n) => self.bind_ident(n, syn, scope),
            Kind::Reference(n) => self.bind_reference(n, syn),
            Kind::Str(s) => Ok(Bound::Untyped(Some(s.clone()))),
            Kind::Integer(s) => match s.parse::<i64>() {
                Ok(_) => Ok(Bound::Value(
                    Expr::Param(Some(s.clone()), "int8".into()),
                    Domain::Integer,
                )),
                Err(_) => Err(translate_error(
                    "Got invalid integer literal",
                    Some(s),
                    &syn.mark,
                )),
            },
            Kind::Decimal(s) => Ok(Bound::Value(
                Expr::Param(Some(s.clone()), "numeric".into()),
                Domain::Decimal,
            )),
            Kind::Float(s) => Ok(Bound::Value(
                Expr::Param(Some(s.clone()), "float8".into()),
                Domain::Float,
            )),
            Kind::Collect(Some(inner)) => {
                let b = self.bind(inner, &Self::home())?;
                match b {
                    Bound::Plural(_) => Ok(b),
                    _ => Err(translate_error(
                        "Expected a plural expression",
                        None,
                        &syn.mark,
                    )),
                }
            }
            Kind::Collect(None) | Kind::Wildcard => Err(translate_error(
                "Got unexpected expression",
                None,
                &syn.mark,
            )),
            Kind::Compose(base, next) => {
                let b = self.bind(base, scope)?;
                self.bind_method(b, next, &base.mark)
            }
            Kind::Select(base, items) => {
                let b = if is_home_record_base(base) {
                    Bound::Home
                } else {
                    self.bind(base, scope)?
                };
                let inner = match &b {
                    Bound::Home => scope.clone(),
                    _ => self.scope_of(&b, &base.mark)?,
                };
                let inner = if matches!(b, Bound::Home) && scope.table.is_none() {
                    Self::home()
                } else {
                    inner
                };
                let mut fields = Vec::new();
                for item in items {
                    fields.extend(self.bind_field(item, &inner)?);
                }
                match b {
                    Bound::Plural(mut flow) => {
                        flow.fields = Some(fields);
                        Ok(Bound::Plural(flow))
                    }
                    Bound::Link(s) => {
                        let marker = Some(s.path.clone());
                        Ok(Bound::Record(marker, fields, None, s))
                    }
                    Bound::Home => Ok(Bound::Record(None, fields, None, inner)),
                    Bound::Record(m, _, tag, s) => Ok(Bound::Record(m, fields, tag, s)),
                    _ => Err(translate_error(
                        "Expected a table or a link",
                        None,
                        &base.mark,
                    )),
                }
            }
            Kind::Sieve(base, pred) => {
                let b = self.bind(base, scope)?;
                self.filter(b, pred, &base.mark)
            }
            Kind::Locate(base, labels) => {
                let b = self.bind(base, scope)?;
                let Bound::Plural(mut flow) = b else {
                    return Err(translate_error(
                        "Expected a plural expression",
                        None,
                        &base.mark,
                    ));
                };
                let t = flow.table.expect("table flow");
                let leaves = identity_leaves(self.cat, t);
                let values = self.label_values(labels, &syn.mark)?;
                if values.len() != leaves.len() {
                    return Err(translate_error(
                        &format!(
                            "ill-formed identity literal: expected {} labels, got {}",
                            leaves.len(),
                            values.len()
                        ),
                        None,
                        &syn.mark,
                    ));
                }
                for ((path, lt, c), v) in leaves.into_iter().zip(values) {
                    let d = col_domain(self.cat, lt, c);
                    let rhs = self.coerce_value(v, &d, &syn.mark)?;
                    flow.filters
                        .push(Expr::Tpl("({} = {})", vec![Expr::Col(path, lt, c), rhs]));
                }
                flow.singular = true;
                Ok(Bound::Plural(flow))
            }
            Kind::Apply {
                name,
                args,
                style,
                name_mark,
            } => {
                if *style != CallStyle::Function && normalize(name) == "as" && args.len() == 2 {
                    let b = self.bind(&args[0], scope)?;
                    let tag = args[1].ident().map(str::to_string);
                    return Ok(match b {
                        Bound::Plural(mut f) if tag.is_some() => {
                            f.tag = tag;
                            Bound::Plural(f)
                        }
                        Bound::Record(m, fs, _, s) if tag.is_some() => Bound::Record(m, fs, tag, s),
                        other => other,
                    });
                }
                if *style != CallStyle::Function {
                    let b = self.bind(&args[0], scope)?;
                    if !GLOBALS.iter().any(|(g, _)| *g == normalize(name)) {
                        // An unknown pipe marks the whole pipe, like HTSQL.
                        let mark = if *style == CallStyle::Pipe {
                            &syn.mark
                        } else {
                            name_mark
                        };
                        return Err(self.unknown_function(name, args.len(), scope, mark));
                    }
                    let call = Syn {
                        kind: Kind::Apply {
                            name: name.clone(),
                            name_mark: name_mark.clone(),
                            args: args[1..].to_vec(),
                            style: CallStyle::Function,
                        },
                        mark: syn.mark.clone(),
                    };
                    return self.bind_method(b, &call, &args[0].mark);
                }
                self.bind_function(name, name_mark, args, syn, scope)
            }
            Kind::Operator(op, a, b) => self.bind_operator(op, a, b, syn, scope),
            Kind::Prefix(op, a) => {
                let v = self.bind(a, scope)?;
                match *op {
                    "!" => {
                        let e = self.typed_expr(v, &Domain::Boolean, &a.mark)?;
                        Ok(Bound::Value(
                            Expr::Tpl("(NOT {})", vec![e]),
                            Domain::Boolean,
                        ))
                    }
                    "-" => {
                        let (e, d) = self.scalar(v, &a.mark)?;
                        match d {
                            Domain::Integer | Domain::Decimal | Domain::Float => {
                                Ok(Bound::Value(Expr::Tpl("(- {})", vec![e]), d))
                            }
                            _ => Err(self.bad_types(op, &[d], &syn.mark)),
                        }
                    }
                    _ => Ok(v),
                }
            }
            Kind::Direction(..) => {
                Err(translate_error("Got unexpected direction", None, &syn.mark))
            }
            Kind::Assign(..) => Err(translate_error(
                "Got unexpected assignment",
                None,
                &syn.mark,
            )),
        }
    }

    fn label_values(&self, labels: &[super::scan::IdLabel], mark: &Mark) -> Result<Vec<Bound>> {
        use super::scan::IdLabel;
        let mut out = Vec::new();
        for l in labels {
            match l {
                IdLabel::Label(s) | IdLabel::Str(s) => out.push(Bound::Untyped(Some(s.clone()))),
                IdLabel::Group(g) => out.extend(self.label_values(g, mark)?),
                IdLabel::Ref(r) => {
                    let Some(v) = self.refs.get(&normalize(r)).cloned() else {
                        return Err(self.unknown_reference(r, mark));
                    };
                    out.extend(flatten_value(v));
                }
            }
        }
        Ok(out)
    }

    fn bind_method(&mut self, base: Bound, next: &Syn, base_mark: &Mark) -> Result<Bound> {
        if let Kind::Apply {
            name,
            args,
            style: CallStyle::Function,
            ..
        } = &next.kind
        {
            let n = normalize(name);
            match n.as_str() {
                "filter" if args.len() == 1 => return self.filter(base, &args[0], base_mark),
                "sort" => {
                    let Bound::Plural(mut flow) = base else {
                        return Err(translate_error(
                            "Expected a plural expression",
                            None,
                            base_mark,
                        ));
                    };
                    let scope = Scope {
                        table: flow.table,
                        path: vec![],
                        tag: flow.tag.clone(),
                    };
                    let mut order = Vec::new();
                    for a in args {
                        let (inner, desc) = match &a.kind {
                            Kind::Direction(x, d) => (&**x, *d == "-"),
                            _ => (a, false),
                        };
                        let b = self.bind(inner, &scope)?;
                        let (e, _) = self.scalar(b, &inner.mark)?;
                        order.push((e, desc));
                    }
                    order.extend(flow.order);
                    flow.order = order;
                    return Ok(Bound::Plural(flow));
                }
                "limit" if !args.is_empty() => {
                    let Bound::Plural(mut flow) = base else {
                        return Err(translate_error(
                            "Expected a plural expression",
                            None,
                            base_mark,
                        ));
                    };
                    let n = match &args[0].kind {
                        Kind::Integer(s) => s.parse::<i64>().ok(),
                        _ => None,
                    };
                    flow.limit = Some(n.ok_or_else(|| {
                        translate_error("Expected a non-negative integer", None, &args[0].mark)
                    })?);
                    return Ok(Bound::Plural(flow));
                }
                "define" => {
                    let scope = self.scope_of(&base, base_mark)?;
                    for a in args {
                        let Kind::Assign(lhs, rhs) = &a.kind else {
                            return Err(translate_error("Expected an assignment", None, &a.mark));
                        };
                        let b = self.bind(rhs, &scope)?;
                        let key = lhs.join(".");
                        self.defined
                            .insert(normalize(key.trim_start_matches('$')), b);
                    }
                    return Ok(base);
                }
                _ => {}
            }
        }
        let scope = self.scope_of(&base, base_mark)?;
        if let Bound::Plural(flow) = &base {
            // An attribute of a plural flow is plural; only methods above apply.
            let b = self.bind(next, &scope)?;
            return match b {
                Bound::Plural(_) => Ok(b),
                _ => {
                    let _ = flow;
                    Err(plural_error(&next.mark))
                }
            };
        }
        self.bind(next, &scope)
    }

    fn filter(&mut self, base: Bound, pred: &Syn, base_mark: &Mark) -> Result<Bound> {
        let Bound::Plural(mut flow) = base else {
            return Err(translate_error(
                "Expected a plural expression",
                None,
                base_mark,
            ));
        };
        let scope = Scope {
            table: flow.table,
            path: vec![],
            tag: flow.tag.clone(),
        };
        let b = self.bind(pred, &scope)?;
        let e = self.typed_expr(b, &Domain::Boolean, &pred.mark)?;
        flow.filters.push(e);
        Ok(Bound::Plural(flow))
    }

    fn bind_reference(&mut self, n: &str, syn: &Syn) -> Result<Bound> {
        let key = normalize(n);
        if let Some(b) = self.defined.get(&key) {
            return Ok(b.clone());
        }
        let Some(v) = self.refs.get(&key).cloned() else {
            return Err(self.unknown_reference(n, &syn.mark));
        };
        Ok(value_bound(v))
    }

    fn unknown_reference(&self, n: &str, mark: &Mark) -> Error {
        let model = normalize(n);
        let mut names: Vec<&String> = self.refs.keys().chain(self.defined.keys()).collect();
        names.sort();
        names.dedup();
        let choices: Vec<String> = names
            .into_iter()
            .filter(|s| **s != model && similar(&model, s))
            .map(|s| format!("${s}"))
            .collect();
        let mut e = error("Found unknown reference", Some(&format!("${n}")));
        if !choices.is_empty() {
            e = push(e, "Perhaps you had in mind", Some(&choices.join("\n")));
        }
        with_mark(e, "While translating", mark)
    }

    fn bind_ident(&mut self, n: &str, syn: &Syn, scope: &Scope) -> Result<Bound> {
        let key = normalize(n);
        match scope.table {
            None => {
                if let Some(entry) = self.cat.home.get(&key) {
                    let Some(t) = entry else {
                        return Err(translate_error("Found ambiguous name", Some(n), &syn.mark));
                    };
                    return Ok(Bound::Plural(Flow {
                        table: Some(*t),
                        filters: vec![],
                        order: vec![],
                        limit: None,
                        correlate: None,
                        fields: None,
                        tag: Some(n.to_string()),
                        singular: false,
                        scalar: false,
                        group: None,
                    }));
                }
            }
            Some(t) => {
                if let Some(entry) = self.cat.tables[t].labels.get(&key) {
                    let Some(attr) = entry else {
                        return Err(translate_error("Found ambiguous name", Some(n), &syn.mark));
                    };
                    let mut s = scope.clone();
                    s.tag = Some(n.to_string());
                    return Ok(self.attr_bound(&s, *attr, n));
                }
            }
        }
        if let Some(b) = self.defined.get(&key) {
            return Ok(b.clone());
        }
        match key.as_str() {
            "null" => return Ok(Bound::Untyped(None)),
            "true" => return Ok(Bound::Value(Expr::Tpl("TRUE", vec![]), Domain::Boolean)),
            "false" => return Ok(Bound::Value(Expr::Tpl("FALSE", vec![]), Domain::Boolean)),
            _ => {}
        }
        // Not found: HTSQL's suggestion rules for a bare identifier.
        let choices: Vec<String> = if self.refs.contains_key(&key) {
            vec![format!("a reference '${key}'")]
        } else if GLOBALS.iter().any(|(g, _)| *g == key) {
            vec![format!("a function '{key}'")]
        } else {
            let mut samples = self.cat.scope_names(scope.table);
            samples.extend(CONSTANTS.iter().map(|s| s.to_string()));
            samples.sort();
            samples
                .into_iter()
                .filter(|s| *s != key && similar(&key, s))
                .collect()
        };
        let quote = match &scope.tag {
            Some(tag) if scope.table.is_some() => format!("{tag}.{n}"),
            _ => n.to_string(),
        };
        let mut e = error("Found unknown attribute", Some(&quote));
        if !choices.is_empty() {
            e = push(e, "Perhaps you had in mind", Some(&choices.join("\n")));
        }
        Err(with_mark(e, "While translating", &syn.mark))
    }

    fn unknown_function(&self, name: &str, arity: usize, scope: &Scope, mark: &Mark) -> Error {
        let key = normalize(name);
        let choices: Vec<String> = if self.cat_has_attr(scope, &key) {
            vec![format!("an attribute '{key}'")]
        } else {
            GLOBALS
                .iter()
                .filter(|(g, a)| {
                    (*a == -1 || *a as usize == arity) && *g != key && similar(&key, g)
                })
                .map(|(g, _)| g.to_string())
                .collect()
        };
        let mut e = error("Found unknown function", Some(name));
        if !choices.is_empty() {
            e = push(e, "Perhaps you had in mind", Some(&choices.join("\n")));
        }
        with_mark(e, "While translating", mark)
    }

    fn cat_has_attr(&self, scope: &Scope, key: &str) -> bool {
        match scope.table {
            None => self.cat.home.get(key).is_some_and(|v| v.is_some()),
            Some(t) => self.cat.tables[t]
                .labels
                .get(key)
                .is_some_and(|v| v.is_some()),
        }
    }

    fn arity_error(&self, name: &str, expected: i32, got: usize, mark: &Mark) -> Error {
        let what = if expected == 1 {
            "1 argument".to_string()
        } else {
            format!("{expected} arguments")
        };
        translate_error(
            &format!("Function '{name}' expects {what}; got {got}"),
            None,
            mark,
        )
    }

    fn bind_function(
        &mut self,
        name: &str,
        name_mark: &Mark,
        args: &[Syn],
        syn: &Syn,
        scope: &Scope,
    ) -> Result<Bound> {
        let key = normalize(name);
        let Some(&(_, arity)) = GLOBALS.iter().find(|(g, _)| *g == key) else {
            return Err(self.unknown_function(name, args.len(), scope, name_mark));
        };
        if arity >= 0 && arity as usize != args.len() {
            return Err(self.arity_error(&key, arity, args.len(), &syn.mark));
        }
        let unary = |this: &mut Self, d: &Domain| -> Result<Expr> {
            let b = this.bind(&args[0], scope)?;
            this.typed_expr(b, d, &args[0].mark)
        };
        match key.as_str() {
            "upper" | "lower" | "length" => {
                let e = unary(self, &Domain::Text)?;
                Ok(match key.as_str() {
                    "upper" => Bound::Value(Expr::Tpl("UPPER({})", vec![e]), Domain::Text),
                    "lower" => Bound::Value(Expr::Tpl("LOWER({})", vec![e]), Domain::Text),
                    _ => Bound::Value(Expr::Tpl("CHARACTER_LENGTH({})", vec![e]), Domain::Integer),
                })
            }
            "string" | "text" | "str" => {
                let b = self.bind(&args[0], scope)?;
                match b {
                    Bound::Untyped(v) => {
                        Ok(Bound::Value(Expr::Param(v, "text".into()), Domain::Text))
                    }
                    other => {
                        let (e, _) = self.scalar(other, &args[0].mark)?;
                        Ok(Bound::Value(
                            Expr::Tpl("CAST({} AS TEXT)", vec![e]),
                            Domain::Text,
                        ))
                    }
                }
            }
            "random" => Ok(Bound::Value(Expr::Tpl("RANDOM()", vec![]), Domain::Float)),
            "now" => Ok(Bound::Value(
                Expr::Tpl("LOCALTIMESTAMP", vec![]),
                Domain::DateTime,
            )),
            "today" => Ok(Bound::Value(
                Expr::Tpl("CURRENT_DATE", vec![]),
                Domain::Date,
            )),
            "is_null" => {
                let b = self.bind(&args[0], scope)?;
                let (e, _) = self.scalar_any(b, &args[0].mark)?;
                Ok(Bound::Value(
                    Expr::Tpl("({} IS NULL)", vec![e]),
                    Domain::Boolean,
                ))
            }
            "if_null" => {
                let a = self.bind(&args[0], scope)?;
                let b = self.bind(&args[1], scope)?;
                let (ea, eb, d) =
                    self.coerce_pair(a, b, "if_null", &args[0].mark, &args[1].mark, &syn.mark)?;
                Ok(Bound::Value(Expr::Tpl("COALESCE({}, {})", vec![ea, eb]), d))
            }
            "count" | "exists" => {
                let b = self.bind(&args[0], scope)?;
                let Bound::Plural(flow) = b else {
                    return Err(translate_error(
                        "Expected a plural expression",
                        None,
                        &args[0].mark,
                    ));
                };
                let count = Expr::Count(Box::new(flow));
                if key == "count" {
                    Ok(Bound::Value(count, Domain::Integer))
                } else {
                    Ok(Bound::Value(
                        Expr::Tpl("({} > 0)", vec![count]),
                        Domain::Boolean,
                    ))
                }
            }
            "top" => {
                let b = self.bind(&args[0], scope)?;
                let Bound::Plural(mut flow) = b else {
                    return Err(translate_error(
                        "Expected a plural expression",
                        None,
                        &args[0].mark,
                    ));
                };
                flow.limit = Some(1);
                flow.singular = true;
                Ok(Bound::Plural(flow))
            }
            "id" => {
                if args.is_empty() {
                    let Some(t) = scope.table else {
                        return Err(translate_error("Expected a table", None, &syn.mark));
                    };
                    if self.cat.tables[t].identity.is_none() {
                        return Err(translate_error(
                            "Expected a table with identity",
                            None,
                            &syn.mark,
                        ));
                    }
                    return Ok(Bound::Identity(Out::Identity(scope.path.clone(), t)));
                }
                let mut leaves = Vec::new();
                for a in args {
                    let b = self.bind(a, scope)?;
                    leaves.push(self.scalar_any(b, &a.mark)?);
                }
                Ok(Bound::Identity(Out::MakeIdentity(leaves)))
            }
            "filter" | "sort" | "limit" | "define" | "as" => Err(translate_error(
                "Expected a plural expression",
                None,
                &syn.mark,
            )),
            _ => Err(self.unknown_function(name, args.len(), scope, name_mark)),
        }
    }

    /// A scalar (expr, domain); untyped stays untyped (sent as text).
    fn scalar_any(&mut self, b: Bound, mark: &Mark) -> Result<(Expr, Domain)> {
        match b {
            Bound::Untyped(v) => Ok((Expr::Param(v, "text".into()), Domain::Untyped)),
            other => self.scalar(other, mark),
        }
    }

    /// A typed scalar; an untyped value becomes text; a link becomes its identity's
    /// single leaf (for comparisons).
    fn scalar(&mut self, b: Bound, mark: &Mark) -> Result<(Expr, Domain)> {
        match b {
            Bound::Value(e, d) => Ok((e, d)),
            Bound::Untyped(v) => Ok((Expr::Param(v, "text".into()), Domain::Text)),
            Bound::Link(s) => {
                let t = s.table.expect("link to a table");
                let leaves = identity_leaves(self.cat, t);
                if leaves.len() != 1 {
                    return Err(translate_error("Expected a scalar expression", None, mark));
                }
                let (p, lt, c) = leaves.into_iter().next().expect("one leaf");
                let mut path = s.path.clone();
                path.extend(p);
                Ok((Expr::Col(path, lt, c), col_domain(self.cat, lt, c)))
            }
            Bound::Identity(Out::Identity(path, t)) => self.scalar(
                Bound::Link(Scope {
                    table: Some(t),
                    path,
                    tag: None,
                }),
                mark,
            ),
            Bound::Plural(_) | Bound::Home => Err(plural_error(mark)),
            _ => Err(translate_error("Expected a scalar expression", None, mark)),
        }
    }

    /// Coerces a bound value to a domain (untyped literals are parsed and validated).
    fn typed_expr(&mut self, b: Bound, d: &Domain, mark: &Mark) -> Result<Expr> {
        match b {
            Bound::Untyped(v) => self.coerce_value(Bound::Untyped(v), d, mark),
            other => {
                let (e, got) = self.scalar(other, mark)?;
                if &got == d || matches!(d, Domain::Text) && matches!(got, Domain::Enum(..)) {
                    return Ok(e);
                }
                if d == &Domain::Boolean {
                    return Ok(Expr::Tpl("({} IS NOT NULL)", vec![e]));
                }
                if d == &Domain::Text {
                    return Ok(Expr::Tpl("CAST({} AS TEXT)", vec![e]));
                }
                Err(translate_error(
                    &format!("Cannot coerce values of types ({got}, {d}) to a common type"),
                    None,
                    mark,
                ))
            }
        }
    }

    /// An untyped literal parsed into `d` (a `Param`), or a typed value as is.
    fn coerce_value(&mut self, b: Bound, d: &Domain, mark: &Mark) -> Result<Expr> {
        match b {
            Bound::Untyped(None) => Ok(Expr::Param(None, literal::sql_type(d))),
            Bound::Untyped(Some(text)) => {
                let v = literal::parse(d, &text).map_err(|m| translate_error(&m, None, mark))?;
                Ok(Expr::Param(literal::sql_text(&v), literal::sql_type(d)))
            }
            other => self.typed_expr(other, d, mark),
        }
    }

    fn coerce_pair(
        &mut self,
        a: Bound,
        b: Bound,
        _op: &str,
        ma: &Mark,
        mb: &Mark,
        _m: &Mark,
    ) -> Result<(Expr, Expr, Domain)> {
        let da = domain_of(&a);
        let db = domain_of(&b);
        let d = match (&da, &db) {
            (Some(x), None) | (None, Some(x)) => x.clone(),
            (None, None) => Domain::Text,
            (Some(x), Some(y)) => common(x, y).ok_or_else(|| {
                translate_error(
                    &format!("Cannot coerce values of types ({x}, {y}) to a common type"),
                    None,
                    ma,
                )
            })?,
        };
        let ea = self.coerce_value(a, &d, ma)?;
        let eb = self.coerce_value(b, &d, mb)?;
        Ok((ea, eb, d))
    }

    fn bad_types(&self, op: &str, ds: &[Domain], mark: &Mark) -> Error {
        let types: Vec<String> = ds.iter().map(|d| d.to_string()).collect();
        translate_error(
            &format!(
                "Cannot apply operator '{op}' to values of types ({})",
                types.join(", ")
            ),
            None,
            mark,
        )
    }

    /// `x = {a, b}`: `x` equals one of the values (`!=`: none of them); `==`/`!==`
    /// likewise with null-safe comparisons.
    fn bind_membership(
        &mut self,
        op: &'static str,
        a: &Syn,
        items: &[Member<'_>],
        syn: &Syn,
        scope: &Scope,
    ) -> Result<Bound> {
        let (tpl, join) = match op {
            "=" => ("({} = {})", "({} OR {})"),
            "==" => ("({} IS NOT DISTINCT FROM {})", "({} OR {})"),
            "!=" => ("({} <> {})", "({} AND {})"),
            _ => ("({} IS DISTINCT FROM {})", "({} AND {})"),
        };
        let mut out: Option<Expr> = None;
        for item in items {
            let ba = self.bind(a, scope)?;
            let ba = link_to_leaf(self, ba, &a.mark)?;
            let (bi, mark) = match item {
                Member::Syn(item) => (self.bind(item, scope)?, &item.mark),
                Member::Value(v) => (value_bound(v.clone()), &syn.mark),
            };
            let bi = link_to_leaf(self, bi, mark)?;
            let (ea, ei, _) = self.coerce_pair(ba, bi, op, &a.mark, mark, &syn.mark)?;
            let test = Expr::Tpl(tpl, vec![ea, ei]);
            out = Some(match out {
                None => test,
                Some(prev) => Expr::Tpl(join, vec![prev, test]),
            });
        }
        let out = out.unwrap_or(Expr::Tpl("FALSE", vec![]));
        Ok(Bound::Value(out, Domain::Boolean))
    }

    fn bind_operator(
        &mut self,
        op: &'static str,
        a: &Syn,
        b: &Syn,
        syn: &Syn,
        scope: &Scope,
    ) -> Result<Bound> {
        if matches!(op, "=" | "!=" | "==" | "!==") {
            if let Some(items) = bare_selection(b) {
                let items: Vec<Member> = items.iter().map(Member::Syn).collect();
                return self.bind_membership(op, a, &items, syn, scope);
            }
            // A list parameter (`$INSTRUMENT` of rex.mart's selectors) is a
            // membership test, as a selection of its values would be.
            if let Kind::Reference(name) = &b.kind {
                if let Some(Value::List(values)) = self.refs.get(&normalize(name)).cloned() {
                    let items: Vec<Member> = values.into_iter().map(Member::Value).collect();
                    return self.bind_membership(op, a, &items, syn, scope);
                }
            }
        }
        let ba = self.bind(a, scope)?;
        let bb = self.bind(b, scope)?;
        match op {
            "&" | "|" => {
                let ea = self.typed_expr(ba, &Domain::Boolean, &a.mark)?;
                let eb = self.typed_expr(bb, &Domain::Boolean, &b.mark)?;
                let tpl = if op == "&" {
                    "({} AND {})"
                } else {
                    "({} OR {})"
                };
                Ok(Bound::Value(Expr::Tpl(tpl, vec![ea, eb]), Domain::Boolean))
            }
            "=" | "!=" | "==" | "!==" | "<" | "<=" | ">" | ">=" => {
                let ba = link_to_leaf(self, ba, &a.mark)?;
                let bb = link_to_leaf(self, bb, &b.mark)?;
                let (ea, eb, _) = self.coerce_pair(ba, bb, op, &a.mark, &b.mark, &syn.mark)?;
                let tpl = match op {
                    "=" => "({} = {})",
                    "!=" => "({} <> {})",
                    "==" => "({} IS NOT DISTINCT FROM {})",
                    "!==" => "({} IS DISTINCT FROM {})",
                    "<" => "({} < {})",
                    "<=" => "({} <= {})",
                    ">" => "({} > {})",
                    _ => "({} >= {})",
                };
                Ok(Bound::Value(Expr::Tpl(tpl, vec![ea, eb]), Domain::Boolean))
            }
            "~" | "!~" => {
                let ea = self.typed_expr(ba, &Domain::Text, &a.mark)?;
                let eb = self.typed_expr(bb, &Domain::Text, &b.mark)?;
                let tpl = if op == "~" {
                    "({} ILIKE ('%' || REPLACE(REPLACE(REPLACE({}, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'))"
                } else {
                    "({} NOT ILIKE ('%' || REPLACE(REPLACE(REPLACE({}, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'))"
                };
                Ok(Bound::Value(Expr::Tpl(tpl, vec![ea, eb]), Domain::Boolean))
            }
            _ => {
                // + - * /: numbers; `+` also concatenates text (NULL as '').
                let da = domain_of(&ba).unwrap_or(Domain::Untyped);
                let db = domain_of(&bb).unwrap_or(Domain::Untyped);
                let textual = |d: &Domain| matches!(d, Domain::Text | Domain::Untyped);
                if op == "+" && textual(&da) && textual(&db) {
                    let ea = self.typed_expr(ba, &Domain::Text, &a.mark)?;
                    let eb = self.typed_expr(bb, &Domain::Text, &b.mark)?;
                    return Ok(Bound::Value(
                        Expr::Tpl("(COALESCE({}, '') || COALESCE({}, ''))", vec![ea, eb]),
                        Domain::Text,
                    ));
                }
                let numeric = |d: &Domain| {
                    matches!(
                        d,
                        Domain::Integer | Domain::Decimal | Domain::Float | Domain::Untyped
                    )
                };
                if !(numeric(&da) && numeric(&db))
                    || (da == Domain::Untyped && db == Domain::Untyped)
                {
                    return Err(self.bad_types(op, &[da, db], &syn.mark));
                }
                let (ea, eb, d) = self.coerce_pair(ba, bb, op, &a.mark, &b.mark, &syn.mark)?;
                let tpl = match op {
                    "+" => "({} + {})",
                    "-" => "({} - {})",
                    "*" => "({} * {})",
                    _ => "({} / {})",
                };
                Ok(Bound::Value(Expr::Tpl(tpl, vec![ea, eb]), d))
            }
        }
    }
}

/// A link compared with a literal compares its (single-leaf) identity.
/// The items of a bare `{...}` (a list of values on the right of `=`), if `syn` is one.
/// An item of a membership test: written in the query, or a list parameter's value.
enum Member<'s> {
    Syn(&'s Syn),
    Value(Value),
}

fn bare_selection(syn: &Syn) -> Option<&[Syn]> {
    match &syn.kind {
        Kind::Select(base, items) if !items.is_empty() => match &base.kind {
            Kind::Group(inner) if matches!(inner.kind, Kind::Wildcard) => Some(items),
            _ => None,
        },
        _ => None,
    }
}

fn link_to_leaf(binder: &mut Binder, b: Bound, mark: &Mark) -> Result<Bound> {
    match b {
        Bound::Link(_) | Bound::Identity(Out::Identity(..)) => {
            let (e, d) = binder.scalar(b, mark)?;
            Ok(Bound::Value(e, d))
        }
        other => Ok(other),
    }
}

fn domain_of(b: &Bound) -> Option<Domain> {
    match b {
        Bound::Value(_, d) => Some(d.clone()),
        Bound::Untyped(_) => None,
        _ => Some(Domain::Opaque),
    }
}

/// HTSQL's binary coercion of two typed domains.
fn common(a: &Domain, b: &Domain) -> Option<Domain> {
    use Domain::*;
    if a == b {
        return match a {
            Opaque => None,
            _ => Some(a.clone()),
        };
    }
    match (a, b) {
        (Untyped, x) | (x, Untyped) => Some(x.clone()),
        (Integer, Decimal) | (Decimal, Integer) => Some(Decimal),
        (Integer | Decimal, Float) | (Float, Integer | Decimal) => Some(Float),
        _ => None,
    }
}

/// A parameter value as a bound expression (htsql.md §4.6: strings are untyped).
pub fn value_bound(v: Value) -> Bound {
    match v {
        Value::Null => Bound::Untyped(None),
        Value::Text(s) => Bound::Untyped(Some(s)),
        Value::Identity(id) => {
            let leaves =
                id.0.into_iter()
                    .flat_map(flatten_value)
                    .map(|b| match b {
                        Bound::Value(e, d) => (e, d),
                        Bound::Untyped(v) => (Expr::Param(v, "text".into()), Domain::Untyped),
                        _ => (Expr::Param(None, "text".into()), Domain::Untyped),
                    })
                    .collect();
            Bound::Identity(Out::MakeIdentity(leaves))
        }
        other => {
            let d = match &other {
                Value::Bool(_) => Domain::Boolean,
                Value::Int(_) => Domain::Integer,
                Value::Float(_) => Domain::Float,
                Value::Decimal(_) => Domain::Decimal,
                Value::Json(_) => Domain::Json,
                Value::Date(_) => Domain::Date,
                Value::Time(_) => Domain::Time,
                Value::DateTime(_) => Domain::DateTime,
                _ => Domain::Text,
            };
            Bound::Value(
                Expr::Param(literal::sql_text(&other), literal::sql_type(&d)),
                d,
            )
        }
    }
}

/// The leaves of a value used as an identity (nested identities flattened).
fn flatten_value(v: Value) -> Vec<Bound> {
    match v {
        Value::Identity(id) => id.0.into_iter().flat_map(flatten_value).collect(),
        other => vec![value_bound(other)],
    }
}
