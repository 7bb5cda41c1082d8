//! The fact model and its parser: YAML nodes → typed facts, with rex.core validator
//! texts for structural errors (deploy.md §5.2) and the per-kind parse checks of §3
//! (wrapped `While parsing <key> fact:`). Everything here runs before any SQL.

use super::node::{location, shape};
use super::value::{ColumnType, Domain, Value, TYPE_KEYWORDS};
use super::yaml::{Node, NodeValue};
use crate::core::validate::{
    AnyVal, BoolVal, ChoiceVal, OneOrSeqVal, RecordVal, SeqVal, StrVal, Validator,
};
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
    /// Former labels (`was`): renames are outside the subset and refused.
    pub was: Vec<String>,
    pub reliable: Option<bool>,
    pub title: Option<String>,
    pub present: bool,
    pub with: Vec<Fact>,
}

#[derive(Clone, Debug)]
pub struct ColumnFact {
    pub table: String,
    pub label: String,
    pub was: Vec<String>,
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
    pub was: Vec<String>,
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

/// Adds `While parsing:` + the node's location, unless a deeper node already did.
fn located(node: &Node, e: Error) -> Error {
    let done = e.paragraphs.iter().any(|p| p.message == "While parsing:");
    match &node.mark {
        Some(mark) if !done => e.wrap_with("While parsing:", mark),
        _ => e,
    }
}

fn label_val() -> StrVal {
    StrVal::pattern(LABEL_PATTERN)
}

fn qlabel_val() -> StrVal {
    StrVal::pattern(QLABEL_PATTERN)
}

fn null() -> Node {
    Node::null()
}

/// `type:` — one of the keywords, or a list of enum labels.
struct TypeVal;

impl Validator for TypeVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        match &node.value {
            NodeValue::Seq(_) => SeqVal::new(StrVal::pattern(ENUM_LABEL_PATTERN)).validate(node),
            _ => ChoiceVal::new(&TYPE_KEYWORDS).validate(node),
        }
    }
}

/// An identity item: `label` or `{label: generator}`.
struct IdentityItemVal;

impl Validator for IdentityItemVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        match &node.value {
            NodeValue::Map(pairs) if pairs.len() == 1 => {
                let (key, value) = &pairs[0];
                let key_node = Node {
                    value: NodeValue::Str(key.clone()),
                    mark: node.mark.clone(),
                };
                qlabel_val().validate(&key_node)?;
                ChoiceVal::new(&["offset", "random", "uuid"]).validate(value)?;
                Ok(node.clone())
            }
            NodeValue::Map(_) | NodeValue::Seq(_) => Err(located(
                node,
                Error::new("Expected a pair").wrap_with("Got:", shape(node)),
            )),
            _ => qlabel_val().validate(node),
        }
    }
}

/// `data:` — a path or inline CSV (a string), a mapping, or a list of mappings.
struct DataVal;

impl Validator for DataVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        match &node.value {
            NodeValue::Map(_) => Ok(node.clone()),
            NodeValue::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    if item.as_map().is_none() {
                        let e = Error::new("Expected a mapping").wrap_with("Got:", item.py_repr());
                        return Err(located(item, e)
                            .wrap_with("While validating sequence item", format!("#{}", i + 1)));
                    }
                }
                Ok(node.clone())
            }
            _ => StrVal::new().validate(node),
        }
    }
}

/// A validated record: every declared field, absent optional ones as null.
struct Fields(Vec<(String, Node)>);

impl Fields {
    fn check(node: &Node, val: RecordVal) -> Result<Fields> {
        let checked = val.validate(node)?;
        match checked.value {
            NodeValue::Map(pairs) => Ok(Fields(pairs)),
            _ => Ok(Fields(vec![])),
        }
    }

    fn node(&self, name: &str) -> Option<&Node> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    }

    fn has(&self, name: &str) -> bool {
        self.node(name).is_some()
    }

    fn str(&self, name: &str) -> Option<String> {
        self.node(name).and_then(|n| n.as_str()).map(str::to_string)
    }

    fn bool(&self, name: &str) -> Option<bool> {
        self.node(name).and_then(Node::as_bool)
    }

    fn strs(&self, name: &str) -> Vec<String> {
        self.node(name)
            .and_then(Node::as_seq)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
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
        (Some(p), Some(o)) if p != o => Err(Error::with(
            "Got mismatched table names:",
            format!("{p}, {o}"),
        )),
        (Some(t), _) | (None, Some(t)) => Ok(t),
        (None, None) => enclosing
            .map(str::to_string)
            .ok_or_else(|| Error::new("Got missing table name")),
    }
}

fn unexpected_clauses(fields: &Fields, present: bool, clauses: &[&str]) -> Result<()> {
    if present {
        return Ok(());
    }
    match clauses.iter().find(|c| fields.has(c)) {
        Some(c) => Err(Error::with("Got unexpected clause:", c)),
        None => Ok(()),
    }
}

fn parse_fact(node: &Node, enclosing: Option<&str>) -> Result<Fact> {
    let key = node.as_map().and_then(|pairs| {
        FACT_KEYS
            .iter()
            .find(|k| pairs.iter().any(|(x, _)| x.replace(['-', ' '], "_") == **k))
    });
    let Some(key) = key else {
        let names: Vec<String> = FACT_KEYS.iter().map(|k| format!("{k} record")).collect();
        let e = Error::with("Expected one of:", names.join("\n")).wrap_with("Got:", shape(node));
        return Err(located(node, e));
    };
    let kind = match *key {
        "table" => parse_table(node)?,
        "column" => parse_column(node, enclosing)?,
        "link" => parse_link(node, enclosing)?,
        "identity" => parse_identity(node, enclosing)?,
        "data" => parse_data(node, enclosing)?,
        "include" => {
            let val = RecordVal::new().field("include", StrVal::new());
            FactKind::Include(Fields::check(node, val)?.str("include").unwrap_or_default())
        }
        "sql" => {
            let val = RecordVal::new()
                .field("sql", StrVal::new())
                .field("unless", StrVal::new());
            let f = Fields::check(node, val)?;
            FactKind::Sql(SqlFact {
                sql: f.str("sql").unwrap_or_default(),
                unless: f.str("unless").unwrap_or_default(),
            })
        }
        _ => parse_alias(node, enclosing)?,
    };
    Ok(Fact {
        kind,
        node: node.clone(),
    })
}

/// Wraps a semantic check failure the way fact construction does.
fn in_fact<T>(key: &str, node: &Node, f: impl FnOnce() -> Result<T>) -> Result<T> {
    f().map_err(|e| e.wrap_with(format!("While parsing {key} fact:"), location(node)))
}

fn parse_table(node: &Node) -> Result<FactKind> {
    let val = RecordVal::new()
        .field("table", label_val())
        .optional("was", OneOrSeqVal::new(label_val()), null())
        .optional("reliable", BoolVal, null())
        .optional("title", StrVal::pattern(TITLE_PATTERN), null())
        .optional("with", SeqVal::new(AnyVal), null())
        .optional("present", BoolVal, null());
    let f = Fields::check(node, val)?;
    let label = f.str("table").unwrap_or_default();
    let present = f.bool("present").unwrap_or(true);
    let mut with = vec![];
    for item in f.node("with").and_then(Node::as_seq).unwrap_or(&[]) {
        let fact = parse_fact(item, Some(&label))
            .map_err(|e| e.wrap_with("While validating field:", "with"))?;
        with.push(fact);
    }
    in_fact("table", node, || {
        unexpected_clauses(&f, present, &["was", "reliable", "title", "with"])?;
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
        was: f.strs("was"),
        reliable: f.bool("reliable"),
        title: f.str("title"),
        present,
        with,
    }))
}

fn parse_column(node: &Node, enclosing: Option<&str>) -> Result<FactKind> {
    let val = RecordVal::new()
        .field("column", qlabel_val())
        .optional("of", label_val(), null())
        .optional("was", OneOrSeqVal::new(qlabel_val()), null())
        .optional("after", OneOrSeqVal::new(label_val()), null())
        .optional("type", TypeVal, null())
        .optional("default", AnyVal, null())
        .optional("required", BoolVal, null())
        .optional("unique", BoolVal, null())
        .optional("title", StrVal::pattern(TITLE_PATTERN), null())
        .optional("present", BoolVal, null());
    let f = Fields::check(node, val)?;
    let present = f.bool("present").unwrap_or(true);
    in_fact("column", node, || {
        let (prefix, label) = split_qlabel(&f.str("column").unwrap_or_default());
        let table = resolve_table(prefix, f.str("of"), enclosing)?;
        unexpected_clauses(
            &f,
            present,
            &[
                "was", "after", "type", "default", "required", "unique", "title",
            ],
        )?;
        let ty = match f.node("type") {
            None if present => return Err(Error::with("Got missing clause:", "type")),
            None => None,
            Some(n) if n.as_seq().is_some() => Some(ColumnType::Enum(f.strs("type"))),
            Some(n) => n.as_str().and_then(ColumnType::from_keyword),
        };
        if let Some(ColumnType::Enum(labels)) = &ty {
            if labels.is_empty() {
                return Err(Error::new("Got missing enum labels"));
            }
            let mut seen = std::collections::HashSet::new();
            if labels.iter().any(|l| !seen.insert(l)) {
                return Err(Error::with("Got duplicate enum labels:", labels.join(", ")));
            }
        }
        let default = match (f.node("default"), &ty) {
            (Some(d), Some(t)) => column_default(d, &t.domain())?,
            _ => None,
        };
        Ok(FactKind::Column(ColumnFact {
            table,
            label,
            ty,
            default,
            was: f.strs("was").iter().map(|w| split_qlabel(w).1).collect(),
            required: f.bool("required").unwrap_or(true),
            unique: f.bool("unique").unwrap_or(false),
            title: f.str("title"),
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
        _ => Err(Error::with("Got ill-typed default value:", node.py_repr())),
    }
}

/// A link default: an identity literal, written as a string or a number.
struct LiteralVal;

impl Validator for LiteralVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        match &node.value {
            NodeValue::Int(i) => Ok(Node {
                value: NodeValue::Str(i.to_string()),
                mark: node.mark.clone(),
            }),
            _ => StrVal::new().validate(node),
        }
    }
}

fn parse_link(node: &Node, enclosing: Option<&str>) -> Result<FactKind> {
    let val = RecordVal::new()
        .field("link", qlabel_val())
        .optional("of", label_val(), null())
        .optional("to", label_val(), null())
        .optional("default", LiteralVal, null())
        .optional("was", OneOrSeqVal::new(qlabel_val()), null())
        .optional("after", OneOrSeqVal::new(label_val()), null())
        .optional("required", BoolVal, null())
        .optional("unique", BoolVal, null())
        .optional("title", StrVal::pattern(TITLE_PATTERN), null())
        .optional("present", BoolVal, null());
    let f = Fields::check(node, val)?;
    let present = f.bool("present").unwrap_or(true);
    in_fact("link", node, || {
        let (prefix, label) = split_qlabel(&f.str("link").unwrap_or_default());
        let table = resolve_table(prefix, f.str("of"), enclosing)?;
        unexpected_clauses(
            &f,
            present,
            &[
                "to", "default", "was", "after", "required", "unique", "title",
            ],
        )?;
        Ok(FactKind::Link(LinkFact {
            table,
            target: f.str("to").unwrap_or_else(|| label.clone()),
            label,
            default: f.str("default"),
            was: f.strs("was").iter().map(|w| split_qlabel(w).1).collect(),
            required: f.bool("required").unwrap_or(true),
            unique: f.bool("unique").unwrap_or(false),
            title: f.str("title"),
            present,
        }))
    })
}

fn parse_identity(node: &Node, enclosing: Option<&str>) -> Result<FactKind> {
    let val = RecordVal::new()
        .field("identity", OneOrSeqVal::new(IdentityItemVal))
        .optional("of", label_val(), null());
    let f = Fields::check(node, val)?;
    in_fact("identity", node, || {
        let items = f.node("identity").and_then(Node::as_seq).unwrap_or(&[]);
        if items.is_empty() {
            return Err(Error::new("Got missing identity fields"));
        }
        let mut prefix = None;
        let mut fields = vec![];
        for item in items {
            let (q, generator) = match &item.value {
                NodeValue::Map(pairs) => (
                    pairs[0].0.clone(),
                    pairs[0].1.as_str().and_then(Generator::from_name),
                ),
                _ => (item.as_str().unwrap_or_default().to_string(), None),
            };
            let (p, l) = split_qlabel(&q);
            if p.is_some() {
                prefix = p;
            }
            fields.push((l, generator));
        }
        let table = resolve_table(prefix, f.str("of"), enclosing)?;
        Ok(FactKind::Identity(IdentityFact { table, fields }))
    })
}

fn parse_data(node: &Node, enclosing: Option<&str>) -> Result<FactKind> {
    let val = RecordVal::new()
        .field("data", DataVal)
        .optional("of", label_val(), null())
        .optional("present", BoolVal, null());
    let f = Fields::check(node, val)?;
    let data = f.node("data").cloned().unwrap_or_else(null);
    let source = match &data.value {
        NodeValue::Str(s) if !s.is_empty() && !s.chars().any(char::is_whitespace) => {
            DataSource::File(s.clone())
        }
        NodeValue::Str(s) => DataSource::Csv(s.clone()),
        NodeValue::Seq(items) => DataSource::Rows(items.clone()),
        _ => DataSource::Rows(vec![data.clone()]),
    };
    let table = f.str("of").or_else(|| enclosing.map(str::to_string));
    in_fact("data", node, || {
        if table.is_none() && !matches!(source, DataSource::File(_)) {
            return Err(Error::new("Got missing table name"));
        }
        Ok(FactKind::Data(DataFact {
            table,
            source,
            present: f.bool("present").unwrap_or(true),
        }))
    })
}

fn parse_alias(node: &Node, enclosing: Option<&str>) -> Result<FactKind> {
    let val = RecordVal::new()
        .field("alias", StrVal::new())
        .optional("of", label_val(), null())
        .optional("parameters", OneOrSeqVal::new(label_val()), null())
        .optional("expression", StrVal::new(), null());
    let f = Fields::check(node, val)?;
    in_fact("alias", node, || {
        let alias = f.str("alias").unwrap_or_default();
        let (head, expression) = match (alias.split_once(":="), f.str("expression")) {
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
        if f.has("parameters") {
            params = f.strs("parameters");
        }
        let (prefix, name) = split_qlabel(&qname);
        let table = resolve_table(prefix, f.str("of"), enclosing)?;
        Ok(FactKind::Alias(AliasFact {
            table,
            name,
            parameters: params,
            expression,
        }))
    })
}
