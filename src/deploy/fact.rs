//! The fact model and its parser: YAML nodes → typed facts, with rex.core validator
//! texts for structural errors (deploy.md §5.2) and the per-kind parse checks of §3
//! (wrapped `While parsing <key> fact:`). Everything here runs before any SQL.

use super::node::{location, mark_text, repr, shape};
use super::value::{ColumnType, Domain, Value, TYPE_KEYWORDS};
use super::yaml::{Node, NodeValue};
use crate::core::{Error, Result};

const LABEL_PATTERN: &str = "[a-z_][0-9a-z_]*";
const QLABEL_PATTERN: &str = "[a-z_][0-9a-z_]*([.][a-z_][0-9a-z_]*)?";
const ENUM_LABEL_PATTERN: &str = "[0-9A-Za-z_-]+";
const TITLE_PATTERN: &str = r"\S(.*\S)?";
const FACT_KEYS: [&str; 8] = [
    "alias", "column", "data", "identity", "include", "link", "sql", "table",
];

/// One parsed fact; `node` is kept to name the fact in error messages.
#[derive(Clone, Debug)]
pub struct Fact {
    pub kind: FactKind,
    pub node: Node,
}

#[derive(Clone, Debug)]
pub enum FactKind {
    Table(TableFact),
    Column(ColumnFact),
    Link(LinkFact),
    Identity(IdentityFact),
    Data(DataFact),
    Include(String),
    Sql(SqlFact),
    Alias(AliasFact),
}

#[derive(Clone, Debug)]
pub struct TableFact {
    pub label: String,
    pub reliable: Option<bool>,
    pub title: Option<String>,
    pub present: bool,
    pub with: Vec<Fact>,
}

#[derive(Clone, Debug)]
pub struct ColumnFact {
    pub table: String,
    pub label: String,
    pub ty: Option<ColumnType>,
    pub default: Option<Value>,
    pub required: bool,
    pub unique: bool,
    pub title: Option<String>,
    pub present: bool,
}

#[derive(Clone, Debug)]
pub struct LinkFact {
    pub table: String,
    pub label: String,
    pub target: String,
    pub default: Option<String>,
    pub required: bool,
    pub unique: bool,
    pub title: Option<String>,
    pub present: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generator {
    Offset,
    Random,
    Uuid,
}

impl Generator {
    pub fn name(self) -> &'static str {
        match self {
            Generator::Offset => "offset",
            Generator::Random => "random",
            Generator::Uuid => "uuid",
        }
    }

    pub fn from_name(name: &str) -> Option<Generator> {
        match name {
            "offset" => Some(Generator::Offset),
            "random" => Some(Generator::Random),
            "uuid" => Some(Generator::Uuid),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct IdentityFact {
    pub table: String,
    pub fields: Vec<(String, Option<Generator>)>,
}

#[derive(Clone, Debug)]
pub enum DataSource {
    /// A path relative to the deploy's base directory.
    File(String),
    /// Inline CSV text.
    Csv(String),
    /// Structured rows (mappings of field label → value).
    Rows(Vec<Node>),
}

#[derive(Clone, Debug)]
pub struct DataFact {
    pub table: Option<String>,
    pub source: DataSource,
    pub present: bool,
}

#[derive(Clone, Debug)]
pub struct SqlFact {
    pub sql: String,
    pub unless: String,
}

#[derive(Clone, Debug)]
pub struct AliasFact {
    pub table: String,
    pub name: String,
    pub parameters: Vec<String>,
    pub expression: String,
}

impl Fact {
    /// The fact's key field (`table`, `column`, ...), used in `While ... fact:` wraps.
    pub fn key(&self) -> &'static str {
        match self.kind {
            FactKind::Table(_) => "table",
            FactKind::Column(_) => "column",
            FactKind::Link(_) => "link",
            FactKind::Identity(_) => "identity",
            FactKind::Data(_) => "data",
            FactKind::Include(_) => "include",
            FactKind::Sql(_) => "sql",
            FactKind::Alias(_) => "alias",
        }
    }

    /// The table a fact of the `with:`-able kinds belongs to.
    fn table_mut(&mut self) -> Option<&mut String> {
        match &mut self.kind {
            FactKind::Column(f) => Some(&mut f.table),
            FactKind::Link(f) => Some(&mut f.table),
            FactKind::Identity(f) => Some(&mut f.table),
            FactKind::Alias(f) => Some(&mut f.table),
            _ => None,
        }
    }
}

/// Parses a document: null (no facts), one fact mapping, or a list of them.
pub fn parse_facts(node: &Node) -> Result<Vec<Fact>> {
    match &node.value {
        NodeValue::Null => Ok(vec![]),
        NodeValue::Seq(items) => items.iter().map(|item| parse_fact(item, None)).collect(),
        _ => Ok(vec![parse_fact(node, None)?]),
    }
}

fn at(node: &Node, e: Error) -> Error {
    let located = e.paragraphs.iter().any(|p| p.message == "While parsing:");
    match mark_text(node) {
        Some(loc) if !located => e.wrap_with("While parsing:", loc),
        _ => e,
    }
}

fn got(message: &str, node: &Node) -> Error {
    Error::new(message).wrap_with("Got:", repr(node))
}

/// A mapping's fields with rex.core `RecordVal` precedence: unexpected keys first
/// (sorted), then fields in declaration order.
struct Rec<'a> {
    node: &'a Node,
    fields: Vec<(String, &'a Node)>,
}

impl<'a> Rec<'a> {
    fn new(node: &'a Node, pairs: &'a [(String, Node)], allowed: &[&str]) -> Result<Rec<'a>> {
        let mut fields: Vec<(String, &Node)> = pairs
            .iter()
            .map(|(k, v)| (k.replace(['-', ' '], "_"), v))
            .collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some((key, _)) = fields.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            return Err(at(node, Error::with("Got unexpected field:", key)));
        }
        Ok(Rec { node, fields })
    }

    fn raw(&self, name: &str) -> Option<&'a Node> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
    }

    fn has(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    fn opt<T>(&self, name: &str, f: impl FnOnce(&Node) -> Result<T>) -> Result<Option<T>> {
        match self.raw(name) {
            None => Ok(None),
            Some(v) => f(v)
                .map(Some)
                .map_err(|e| at(v, e).wrap_with("While validating field:", name)),
        }
    }

    fn req<T>(&self, name: &str, f: impl FnOnce(&Node) -> Result<T>) -> Result<T> {
        match self.opt(name, f)? {
            Some(v) => Ok(v),
            None => Err(at(self.node, Error::with("Missing mandatory field:", name))),
        }
    }
}

fn string(node: &Node) -> Result<String> {
    match &node.value {
        NodeValue::Str(s) => Ok(s.clone()),
        _ => Err(got("Expected a string", node)),
    }
}

fn matching(pattern: &str) -> impl Fn(&Node) -> Result<String> + '_ {
    move |node| {
        let s = string(node)?;
        let re = regex::Regex::new(&format!(r"\A(?:{pattern})\z")).expect("pattern");
        if re.is_match(&s) {
            Ok(s)
        } else {
            Err(Error::with("Expected a string matching:", format!("/{pattern}/"))
                .wrap_with("Got:", repr(node)))
        }
    }
}

fn label(node: &Node) -> Result<String> {
    matching(LABEL_PATTERN)(node)
}

fn qlabel(node: &Node) -> Result<String> {
    matching(QLABEL_PATTERN)(node)
}

fn title(node: &Node) -> Result<String> {
    matching(TITLE_PATTERN)(node)
}

fn boolean(node: &Node) -> Result<bool> {
    match &node.value {
        NodeValue::Bool(b) => Ok(*b),
        NodeValue::Int(0) => Ok(false),
        NodeValue::Int(1) => Ok(true),
        NodeValue::Str(s) if s.is_empty() || s == "0" || s == "false" => Ok(false),
        NodeValue::Str(s) if s == "1" || s == "true" => Ok(true),
        _ => Err(got("Expected a Boolean value", node)),
    }
}

fn seq(node: &Node) -> Result<&Vec<Node>> {
    match &node.value {
        NodeValue::Seq(items) => Ok(items),
        _ => Err(got("Expected a sequence", node)),
    }
}

fn one_or_seq<T>(node: &Node, item: impl Fn(&Node) -> Result<T>) -> Result<Vec<T>> {
    match &node.value {
        NodeValue::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, n)| {
                item(n).map_err(|e| {
                    at(n, e).wrap_with("While validating sequence item", format!("#{}", i + 1))
                })
            })
            .collect(),
        _ => Ok(vec![item(node)?]),
    }
}

fn column_type(node: &Node) -> Result<ColumnType> {
    match &node.value {
        NodeValue::Seq(_) => Ok(ColumnType::Enum(one_or_seq(node, matching(ENUM_LABEL_PATTERN))?)),
        NodeValue::Str(s) => ColumnType::from_keyword(s).ok_or_else(|| {
            Error::with("Expected one of:", TYPE_KEYWORDS.join(", ")).wrap_with("Got:", repr(node))
        }),
        _ => Err(Error::with("Expected one of:", TYPE_KEYWORDS.join(", "))
            .wrap_with("Got:", repr(node))),
    }
}

/// Splits `t.label` into (Some(t), label).
fn split_qlabel(q: &str) -> (Option<String>, String) {
    match q.split_once('.') {
        Some((t, l)) => (Some(t.to_string()), l.to_string()),
        None => (None, q.to_string()),
    }
}

/// The table of a column/link/identity/alias/data fact: prefix, `of`, or enclosing.
fn resolve_table(
    prefix: Option<String>,
    of: Option<String>,
    enclosing: Option<&str>,
) -> Result<String> {
    match (prefix, of) {
        (Some(p), Some(o)) if p != o => {
            Err(Error::with("Got mismatched table names:", format!("{p}, {o}")))
        }
        (Some(t), _) | (None, Some(t)) => Ok(t),
        (None, None) => enclosing
            .map(str::to_string)
            .ok_or_else(|| Error::new("Got missing table name")),
    }
}

fn unexpected_clauses(rec: &Rec, present: bool, clauses: &[&str]) -> Result<()> {
    if present {
        return Ok(());
    }
    match clauses.iter().find(|c| rec.has(c)) {
        Some(c) => Err(Error::with("Got unexpected clause:", c)),
        None => Ok(()),
    }
}

fn parse_fact(node: &Node, enclosing: Option<&str>) -> Result<Fact> {
    let NodeValue::Map(pairs) = &node.value else {
        return Err(at(node, union_error(node)));
    };
    let keys: Vec<String> = pairs.iter().map(|(k, _)| k.replace(['-', ' '], "_")).collect();
    let Some(key) = FACT_KEYS.iter().find(|k| keys.iter().any(|x| x == *k)) else {
        return Err(at(node, union_error(node)));
    };
    let kind = match *key {
        "table" => parse_table(node, pairs)?,
        "column" => parse_column(node, pairs, enclosing)?,
        "link" => parse_link(node, pairs, enclosing)?,
        "identity" => parse_identity(node, pairs, enclosing)?,
        "data" => parse_data(node, pairs, enclosing)?,
        "include" => {
            let rec = Rec::new(node, pairs, &["include"])?;
            FactKind::Include(rec.req("include", string)?)
        }
        "sql" => {
            let rec = Rec::new(node, pairs, &["sql", "unless"])?;
            FactKind::Sql(SqlFact {
                sql: rec.req("sql", string)?,
                unless: rec.req("unless", string)?,
            })
        }
        _ => parse_alias(node, pairs, enclosing)?,
    };
    Ok(Fact {
        kind,
        node: node.clone(),
    })
}

fn union_error(node: &Node) -> Error {
    let names: Vec<String> = FACT_KEYS.iter().map(|k| format!("{k} record")).collect();
    Error::with("Expected one of:", names.join("\n")).wrap_with("Got:", shape(node))
}

/// Wraps a semantic check failure the way fact construction does.
fn in_fact<T>(key: &str, node: &Node, f: impl FnOnce() -> Result<T>) -> Result<T> {
    f().map_err(|e| e.wrap_with(format!("While parsing {key} fact:"), location(node)))
}

fn parse_table(node: &Node, pairs: &[(String, Node)]) -> Result<FactKind> {
    let rec = Rec::new(node, pairs, &["table", "was", "reliable", "title", "with", "present"])?;
    let label = rec.req("table", label)?;
    rec.opt("was", |n| one_or_seq(n, label_fn))?;
    let reliable = rec.opt("reliable", boolean)?;
    let title = rec.opt("title", title)?;
    let with_nodes = rec.opt("with", |n| seq(n).cloned())?;
    let present = rec.opt("present", boolean)?.unwrap_or(true);
    let mut with = vec![];
    for item in with_nodes.iter().flatten() {
        let fact = parse_fact(item, Some(&label))
            .map_err(|e| e.wrap_with("While validating field:", "with"))?;
        with.push(fact);
    }
    in_fact("table", node, || {
        unexpected_clauses(&rec, present, &["was", "reliable", "title", "with"])?;
        for fact in &mut with {
            let related = match &mut fact.kind {
                FactKind::Data(d) => match &d.table {
                    Some(t) => *t == label,
                    None => {
                        d.table = Some(label.clone());
                        true
                    }
                },
                _ => fact.table_mut().is_some_and(|t| *t == label),
            };
            if !related {
                return Err(Error::with("Got unrelated fact:", location(&fact.node)));
            }
        }
        Ok(())
    })?;
    Ok(FactKind::Table(TableFact {
        label,
        reliable,
        title,
        present,
        with,
    }))
}

fn label_fn(node: &Node) -> Result<String> {
    label(node)
}

fn parse_column(node: &Node, pairs: &[(String, Node)], enclosing: Option<&str>) -> Result<FactKind> {
    let rec = Rec::new(
        node,
        pairs,
        &[
            "column", "of", "was", "after", "type", "default", "required", "unique", "title",
            "present",
        ],
    )?;
    let q = rec.req("column", qlabel)?;
    let of = rec.opt("of", label)?;
    rec.opt("was", |n| one_or_seq(n, qlabel))?;
    rec.opt("after", |n| one_or_seq(n, label_fn))?;
    let ty = rec.opt("type", column_type)?;
    let default = rec.raw("default");
    let required = rec.opt("required", boolean)?;
    let unique = rec.opt("unique", boolean)?;
    let title = rec.opt("title", title)?;
    let present = rec.opt("present", boolean)?.unwrap_or(true);
    in_fact("column", node, || {
        let (prefix, label) = split_qlabel(&q);
        let table = resolve_table(prefix, of, enclosing)?;
        unexpected_clauses(
            &rec,
            present,
            &["was", "after", "type", "default", "required", "unique", "title"],
        )?;
        if present && ty.is_none() {
            return Err(Error::with("Got missing clause:", "type"));
        }
        if let Some(ColumnType::Enum(labels)) = &ty {
            if labels.is_empty() {
                return Err(Error::new("Got missing enum labels"));
            }
            let mut seen = std::collections::HashSet::new();
            if labels.iter().any(|l| !seen.insert(l)) {
                return Err(Error::with("Got duplicate enum labels:", labels.join(", ")));
            }
        }
        let default = match (default, &ty) {
            (Some(d), Some(t)) => column_default(d, &t.domain())?,
            _ => None,
        };
        Ok(FactKind::Column(ColumnFact {
            table,
            label,
            ty,
            default,
            required: required.unwrap_or(true),
            unique: unique.unwrap_or(false),
            title,
            present,
        }))
    })
}

/// A column default checked against the column's domain (`today()`/`now()` allowed
/// for date/datetime); YAML null means no default.
fn column_default(node: &Node, domain: &Domain) -> Result<Option<Value>> {
    if let NodeValue::Str(s) = &node.value {
        match (s.as_str(), domain) {
            ("today()", Domain::Date) => return Ok(Some(Value::Today)),
            ("now()", Domain::DateTime) => return Ok(Some(Value::Now)),
            _ => {}
        }
    }
    match domain.parse_node(node) {
        Some(Ok(Value::Null)) => Ok(None),
        Some(Ok(v)) => Ok(Some(v)),
        _ => Err(Error::with("Got ill-typed default value:", repr(node))),
    }
}

fn parse_link(node: &Node, pairs: &[(String, Node)], enclosing: Option<&str>) -> Result<FactKind> {
    let rec = Rec::new(
        node,
        pairs,
        &[
            "link", "of", "to", "default", "was", "after", "required", "unique", "title",
            "present",
        ],
    )?;
    let q = rec.req("link", qlabel)?;
    let of = rec.opt("of", label)?;
    let to = rec.opt("to", label)?;
    let default = rec.opt("default", |n| match &n.value {
        NodeValue::Str(s) => Ok(s.clone()),
        NodeValue::Int(i) => Ok(i.to_string()),
        _ => Err(got("Expected a string", n)),
    })?;
    rec.opt("was", |n| one_or_seq(n, qlabel))?;
    rec.opt("after", |n| one_or_seq(n, label_fn))?;
    let required = rec.opt("required", boolean)?;
    let unique = rec.opt("unique", boolean)?;
    let title = rec.opt("title", title)?;
    let present = rec.opt("present", boolean)?.unwrap_or(true);
    in_fact("link", node, || {
        let (prefix, label) = split_qlabel(&q);
        let table = resolve_table(prefix, of, enclosing)?;
        unexpected_clauses(
            &rec,
            present,
            &["to", "default", "was", "after", "required", "unique", "title"],
        )?;
        Ok(FactKind::Link(LinkFact {
            table,
            target: to.unwrap_or_else(|| label.clone()),
            label,
            default,
            required: required.unwrap_or(true),
            unique: unique.unwrap_or(false),
            title,
            present,
        }))
    })
}

fn identity_item(node: &Node) -> Result<(String, Option<Generator>)> {
    match &node.value {
        NodeValue::Map(pairs) if pairs.len() == 1 => {
            let (key, value) = &pairs[0];
            let key_node = Node {
                value: NodeValue::Str(key.clone()),
                mark: node.mark.clone(),
            };
            let name = qlabel(&key_node)?;
            let generator = match &value.value {
                NodeValue::Str(s) => Generator::from_name(s),
                _ => None,
            }
            .ok_or_else(|| {
                Error::with("Expected one of:", "offset, random, uuid").wrap_with("Got:", repr(value))
            })?;
            Ok((name, Some(generator)))
        }
        NodeValue::Str(_) => Ok((qlabel(node)?, None)),
        _ => Err(Error::new("Expected a pair").wrap_with("Got:", shape(node))),
    }
}

fn parse_identity(
    node: &Node,
    pairs: &[(String, Node)],
    enclosing: Option<&str>,
) -> Result<FactKind> {
    let rec = Rec::new(node, pairs, &["identity", "of"])?;
    let items = rec.req("identity", |n| one_or_seq(n, identity_item))?;
    let of = rec.opt("of", label)?;
    in_fact("identity", node, || {
        if items.is_empty() {
            return Err(Error::new("Got missing identity fields"));
        }
        let mut prefix = None;
        let mut fields = vec![];
        for (q, generator) in items {
            let (p, l) = split_qlabel(&q);
            if p.is_some() {
                prefix = p;
            }
            fields.push((l, generator));
        }
        let table = resolve_table(prefix, of, enclosing)?;
        Ok(FactKind::Identity(IdentityFact { table, fields }))
    })
}

fn parse_data(node: &Node, pairs: &[(String, Node)], enclosing: Option<&str>) -> Result<FactKind> {
    let rec = Rec::new(node, pairs, &["data", "of", "present"])?;
    let source = rec.req("data", |n| match &n.value {
        NodeValue::Str(s) if !s.is_empty() && !s.chars().any(char::is_whitespace) => {
            Ok(DataSource::File(s.clone()))
        }
        NodeValue::Str(s) => Ok(DataSource::Csv(s.clone())),
        NodeValue::Map(_) => Ok(DataSource::Rows(vec![n.clone()])),
        NodeValue::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                if !matches!(item.value, NodeValue::Map(_)) {
                    return Err(at(item, got("Expected a mapping", item))
                        .wrap_with("While validating sequence item", format!("#{}", i + 1)));
                }
            }
            Ok(DataSource::Rows(items.clone()))
        }
        _ => Err(got("Expected a string", n)),
    })?;
    let of = rec.opt("of", label)?;
    let present = rec.opt("present", boolean)?.unwrap_or(true);
    let table = match of {
        Some(t) => Some(t),
        None => enclosing.map(str::to_string),
    };
    in_fact("data", node, || {
        if table.is_none() && !matches!(source, DataSource::File(_)) {
            return Err(Error::new("Got missing table name"));
        }
        Ok(FactKind::Data(DataFact {
            table,
            source,
            present,
        }))
    })
}

fn parse_alias(node: &Node, pairs: &[(String, Node)], enclosing: Option<&str>) -> Result<FactKind> {
    let rec = Rec::new(node, pairs, &["alias", "of", "parameters", "expression"])?;
    let alias = rec.req("alias", string)?;
    let of = rec.opt("of", label)?;
    let parameters = rec.opt("parameters", |n| one_or_seq(n, label_fn))?;
    let expression = rec.opt("expression", string)?;
    in_fact("alias", node, || {
        let (head, expression) = match (alias.split_once(":="), expression) {
            (Some((h, e)), None) => (h.trim().to_string(), e.trim().to_string()),
            (None, Some(e)) => (alias.trim().to_string(), e),
            (Some(_), Some(_)) => return Err(Error::with("Got unexpected clause:", "expression")),
            (None, None) => return Err(Error::with("Got missing clause:", "expression")),
        };
        let (qname, mut params) = match head.split_once('(') {
            Some((n, rest)) => (
                n.trim().to_string(),
                rest.trim_end_matches(')')
                    .split(',')
                    .map(|p| p.trim().trim_start_matches('$').to_string())
                    .filter(|p| !p.is_empty())
                    .collect(),
            ),
            None => (head.clone(), vec![]),
        };
        if let Some(p) = parameters {
            params = p;
        }
        let (prefix, name) = split_qlabel(&qname);
        let table = resolve_table(prefix, of, enclosing)?;
        Ok(FactKind::Alias(AliasFact {
            table,
            name,
            parameters: params,
            expression,
        }))
    })
}
