//! HTSQL values, domains and products: what a statement returns and what callers
//! pass as `$parameters`. Identities print exactly as HTSQL's `IdentityDomain.dump`
//! because rex code does `int(str(product[0]))` on them.

use crate::core::repr::{py_float_repr, py_json_repr, py_str_repr};
use std::fmt;

/// A value of a result cell or a parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Decimal(String),
    Text(String),
    Json(serde_json::Value),
    Date(chrono::NaiveDate),
    Time(chrono::NaiveTime),
    DateTime(chrono::NaiveDateTime),
    Identity(Identity),
    Record(Record),
    List(Vec<Value>),
}

/// An identity (`ID(...)`): its labels, a nested identity being `Value::Identity`.
#[derive(Clone, Debug, PartialEq)]
pub struct Identity(pub Vec<Value>);

/// One result row: fields in selection order, tag first (`""` when untagged).
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The record class name rex prints in reprs (the segment's tag), if any.
    pub name: Option<String>,
    pub fields: Vec<(String, Value)>,
}

impl Record {
    /// The first field with this tag (Python attribute access).
    pub fn get(&self, tag: &str) -> Option<&Value> {
        self.fields.iter().find(|(t, _)| t == tag).map(|(_, v)| v)
    }
    /// The field at position `i` (Python indexing).
    pub fn at(&self, i: usize) -> Option<&Value> {
        self.fields.get(i).map(|(_, v)| v)
    }
}

impl Value {
    pub fn as_record(&self) -> Option<&Record> {
        match self {
            Value::Record(r) => Some(r),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// Python `repr()` of the value as rex shows it.
    pub fn repr(&self) -> String {
        match self {
            Value::Null => "None".into(),
            Value::Bool(b) => if *b { "True" } else { "False" }.into(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => py_float_repr(*f),
            Value::Decimal(d) => format!("Decimal('{d}')"),
            Value::Text(s) => py_str_repr(s),
            Value::Json(j) => py_json_repr(j),
            Value::Date(d) => format!(
                "datetime.date({}, {}, {})",
                d.format("%Y"),
                d.format("%-m"),
                d.format("%-d")
            ),
            Value::Time(t) => format!("datetime.time({})", py_time_args(t)),
            Value::DateTime(t) => format!(
                "datetime.datetime({}, {})",
                t.format("%Y, %-m, %-d"),
                py_time_args(&t.time())
            ),
            Value::Identity(id) => id.repr(),
            Value::Record(r) => r.repr(),
            Value::List(items) => {
                let parts: Vec<String> = items.iter().map(Value::repr).collect();
                format!("[{}]", parts.join(", "))
            }
        }
    }
    /// The value as HTSQL's literal text for a leaf (`str()` of simple values).
    pub fn literal(&self) -> Option<String> {
        Some(match self {
            Value::Null => return None,
            Value::Bool(b) => if *b { "true" } else { "false" }.into(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => py_float_repr(*f),
            Value::Decimal(d) => d.clone(),
            Value::Text(s) => s.clone(),
            Value::Json(j) => serde_json::to_string(j).unwrap_or_default(),
            Value::Date(d) => d.format("%Y-%m-%d").to_string(),
            Value::Time(t) => t.format("%H:%M:%S%.f").to_string(),
            Value::DateTime(t) => t.format("%Y-%m-%d %H:%M:%S%.f").to_string(),
            Value::Identity(id) => id.to_string(),
            Value::Record(r) => r.dump(),
            Value::List(_) => self.repr(),
        })
    }
}

/// Python's time reprs drop a zero microsecond, then a zero second.
fn py_time_args(t: &chrono::NaiveTime) -> String {
    use chrono::Timelike;
    let mut parts = vec![t.hour(), t.minute(), t.second(), t.nanosecond() / 1000];
    for _ in 0..2 {
        if parts.len() > 2 && parts.last() == Some(&0) {
            parts.pop();
        } else {
            break;
        }
    }
    parts
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Record {
    /// Python repr: `job(code=1, owner='x')`, untagged fields as `[3]=...`.
    pub fn repr(&self) -> String {
        let parts: Vec<String> = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, (t, v))| {
                if t.is_empty() {
                    format!("[{i}]={}", v.repr())
                } else {
                    format!("{t}={}", v.repr())
                }
            })
            .collect();
        format!(
            "{}({})",
            self.name.as_deref().unwrap_or("Record"),
            parts.join(", ")
        )
    }
    /// HTSQL `RecordDomain.dump`, used in `While inserting record #N` quotes.
    pub fn dump(&self) -> String {
        let parts: Vec<String> = self.fields.iter().map(|(_, v)| dump_entry(v)).collect();
        format!("{{{}}}", parts.join(", "))
    }
}

fn dump_entry(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::Decimal(_) => {
            v.literal().unwrap_or_default()
        }
        Value::Identity(id) => format!("[{id}]"),
        Value::Record(r) => r.dump(),
        Value::List(items) => match items.as_slice() {
            [one] => format!("({},)", dump_entry(one)),
            _ => format!(
                "({})",
                items.iter().map(dump_entry).collect::<Vec<_>>().join(", ")
            ),
        },
        Value::Time(t) => quote(&py_time(t)),
        Value::DateTime(t) => quote(&format!(
            "{} {}",
            t.date().format("%Y-%m-%d"),
            py_time(&t.time())
        )),
        Value::Json(j) => {
            let mut out = String::new();
            json_dump(j, 0, &mut out);
            quote(&out)
        }
        _ => quote(&v.literal().unwrap_or_default()),
    }
}

/// Python's `str(time)`: microseconds only when not zero.
fn py_time(t: &chrono::NaiveTime) -> String {
    use chrono::Timelike;
    let micros = t.nanosecond() / 1000;
    let base = t.format("%H:%M:%S").to_string();
    if micros == 0 {
        base
    } else {
        format!("{base}.{micros:06}")
    }
}

/// `json.dumps(data, indent=2, separators=(',', ': '), sort_keys=True)` (rex_deploy's
/// JSON domain dump).
fn json_dump(v: &serde_json::Value, depth: usize, out: &mut String) {
    use serde_json::Value as J;
    let pad = |n: usize| "  ".repeat(n);
    match v {
        J::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                out.push_str(&pad(depth + 1));
                json_dump(item, depth + 1, out);
            }
            out.push('\n');
            out.push_str(&pad(depth));
            out.push(']');
        }
        J::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                out.push_str(&pad(depth + 1));
                json_dump(&J::String((*k).clone()), depth + 1, out);
                out.push_str(": ");
                json_dump(&map[*k], depth + 1, out);
            }
            out.push('\n');
            out.push_str(&pad(depth));
            out.push('}');
        }
        J::String(s) => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '\u{8}' => out.push_str("\\b"),
                    '\u{c}' => out.push_str("\\f"),
                    c if (c as u32) < 0x20 || (c as u32) > 0x7f => {
                        let mut buf = [0u16; 2];
                        for unit in c.encode_utf16(&mut buf) {
                            out.push_str(&format!("\\u{unit:04x}"));
                        }
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        J::Number(n) => match n.as_f64().filter(|_| n.is_f64()) {
            Some(f) => out.push_str(&py_float_repr(f)),
            None => out.push_str(&n.to_string()),
        },
        other => out.push_str(&other.to_string()),
    }
}

/// HTSQL's `urlquote(text, "")`: control characters and `%` as `%XX`.
fn urlquote(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if (c as u32) < 0x20 || c == '%' || c == '\x7f' {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn is_word_label(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

impl Identity {
    /// `ID(1)`, `ID(ID(1))`, `ID('a', 2)`.
    pub fn repr(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(Value::repr).collect();
        format!("ID({})", parts.join(", "))
    }
}

impl fmt::Display for Identity {
    /// `IdentityDomain.dump`: leaves joined by `.`, quoted unless `[\w-]+`; a nested
    /// identity is flattened when it has one label or when it comes first and all
    /// later labels are leaves, else wrapped in parentheses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let later_leaves = |from: usize| {
            self.0[from..]
                .iter()
                .all(|v| !matches!(v, Value::Identity(_)))
        };
        let mut chunks = Vec::new();
        for (i, v) in self.0.iter().enumerate() {
            let chunk = match v {
                Value::Identity(inner) => {
                    let text = inner.to_string();
                    if inner.0.len() == 1 || (i == 0 && later_leaves(1)) {
                        text
                    } else {
                        format!("({text})")
                    }
                }
                other => {
                    let text = other.literal().unwrap_or_default();
                    match other {
                        Value::Int(_) | Value::Bool(_) => text,
                        _ if is_word_label(&text) => text,
                        _ => quote(&text),
                    }
                }
            };
            chunks.push(chunk);
        }
        f.write_str(&chunks.join("."))
    }
}

/// The type of an expression or a column (HTSQL domains).
#[derive(Clone, Debug)]
pub enum Domain {
    Untyped,
    Boolean,
    Integer,
    Decimal,
    Float,
    Text,
    /// An enum: its SQL type name (already quoted) and labels in sort order.
    Enum(String, Vec<String>),
    Date,
    Time,
    DateTime,
    Json,
    Opaque,
    Identity(Vec<Domain>),
    Record(Vec<Domain>),
    List(Box<Domain>),
    Void,
}

impl PartialEq for Domain {
    fn eq(&self, other: &Domain) -> bool {
        use Domain::*;
        match (self, other) {
            (Enum(_, a), Enum(_, b)) => a == b,
            (Identity(a), Identity(b)) | (Record(a), Record(b)) => a == b,
            (List(a), List(b)) => a == b,
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |items: &Vec<Domain>| -> String {
            items
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Domain::Untyped => f.write_str("untyped"),
            Domain::Boolean => f.write_str("boolean"),
            Domain::Integer => f.write_str("integer"),
            Domain::Decimal => f.write_str("decimal"),
            Domain::Float => f.write_str("float"),
            Domain::Text => f.write_str("text"),
            Domain::Enum(_, labels) => {
                let l: Vec<String> = labels.iter().map(|s| quote(s)).collect();
                write!(f, "enum({})", l.join(", "))
            }
            Domain::Date => f.write_str("date"),
            Domain::Time => f.write_str("time"),
            Domain::DateTime => f.write_str("datetime"),
            Domain::Json => f.write_str("json"),
            Domain::Opaque => f.write_str("opaque"),
            Domain::Identity(items) => write!(f, "identity({})", list(items)),
            Domain::Record(items) => write!(f, "record({})", list(items)),
            Domain::List(item) => write!(f, "list({item})"),
            Domain::Void => f.write_str("void"),
        }
    }
}

/// Metadata of one output field.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldMeta {
    pub tag: Option<String>,
    pub header: String,
    pub domain: Domain,
}

/// What a statement produced: `data` is a `List` of rows for a plural segment, a
/// single `Record`/value for a singular one, `Null` for void commands (`:delete`).
#[derive(Clone, Debug, PartialEq)]
pub struct Product {
    /// The segment's tag: the table name `:insert` and friends write to.
    pub tag: Option<String>,
    pub domain: Domain,
    /// Field metadata when the rows are records.
    pub fields: Vec<FieldMeta>,
    pub data: Value,
}

impl Product {
    /// HTSQL's `str(product)`: the data as a literal (`({'a', 1}, {'b', 2})`, `27`,
    /// `'text'`, `null`), control characters escaped; `repr` is `<Product ...>` of it.
    pub fn dump(&self) -> String {
        urlquote(&dump_entry(&self.data))
    }

    /// The rows of a list product (empty for anything else).
    pub fn rows(&self) -> &[Value] {
        match &self.data {
            Value::List(items) => items,
            _ => &[],
        }
    }
    pub fn len(&self) -> usize {
        self.rows().len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows().is_empty()
    }
    pub fn get(&self, i: usize) -> Option<&Value> {
        self.rows().get(i)
    }
    /// Python `bool(product)`.
    pub fn truthy(&self) -> bool {
        match &self.data {
            Value::Null => false,
            Value::List(items) => !items.is_empty(),
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_reprs() {
        let d = chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
        assert_eq!(Value::Date(d).repr(), "datetime.date(2024, 1, 2)");
        let dt = d.and_hms_opt(3, 4, 0).unwrap();
        assert_eq!(
            Value::DateTime(dt).repr(),
            "datetime.datetime(2024, 1, 2, 3, 4)"
        );
        let dt = d.and_hms_micro_opt(3, 4, 0, 5).unwrap();
        assert_eq!(
            Value::DateTime(dt).repr(),
            "datetime.datetime(2024, 1, 2, 3, 4, 0, 5)"
        );
        let r = Record {
            name: Some("facet".into()),
            fields: vec![
                ("job".into(), Value::Identity(Identity(vec![Value::Int(1)]))),
                ("log".into(), Value::Text("x".into())),
                ("".into(), Value::Null),
            ],
        };
        assert_eq!(r.repr(), "facet(job=ID(1), log='x', [2]=None)");
    }

    #[test]
    fn identity_dump_rules() {
        let t = |s: &str| Value::Text(s.into());
        let id = |v: Vec<Value>| Identity(v);
        assert_eq!(id(vec![Value::Int(1)]).to_string(), "1");
        assert_eq!(id(vec![t("abc-1")]).to_string(), "abc-1");
        assert_eq!(id(vec![t("o'dd one")]).to_string(), "'o''dd one'");
        assert_eq!(id(vec![t("a.b")]).to_string(), "'a.b'");
        let inner = Value::Identity(id(vec![t("simple"), Value::Int(1)]));
        assert_eq!(
            id(vec![inner.clone(), t("name x")]).to_string(),
            "simple.1.'name x'"
        );
        assert_eq!(id(vec![t("x"), inner]).to_string(), "x.(simple.1)");
        let nested = id(vec![Value::Identity(id(vec![Value::Int(1)]))]);
        assert_eq!(nested.to_string(), "1");
        assert_eq!(nested.repr(), "ID(ID(1))");
    }
}
