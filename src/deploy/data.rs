//! Data facts: rows from CSV (inline or file), JSON/YAML files or inline mappings,
//! upserted by identity (deploy.md §3.6). Links are given by the target's identity
//! literal; existing rows are read once per table and kept in the driver's cache.

use super::catalog::{Field, FieldKind, Table};
use super::driver::Driver;
use super::fact::{DataFact, DataSource};
use super::identity_literal::{self, Lit};
use super::names::{ident, idents};
use super::node::repr;
use super::schema::require_table;
use super::value::Value;
use super::yaml::{Node, NodeValue};
use crate::core::{Error, Result};
use std::collections::HashMap;
use std::path::Path;

/// The stored rows of one table: `id`, then the other columns as text.
pub struct TableRows {
    pub rows: Vec<(i64, Vec<Option<String>>)>,
    pub index: HashMap<Vec<String>, usize>,
}

/// A value of one field in an input row.
#[derive(Clone, Debug)]
enum Cell {
    Skip,
    Null,
    Text(String),
    Node(Node),
}

/// Where input rows come from, for `While parsing row #N:` payloads.
enum Input {
    Csv(Vec<super::csv::Record>, Option<String>),
    Rows(Vec<Node>),
}

fn json_to_node(value: &serde_json::Value) -> Node {
    use serde_json::Value as J;
    Node::new(match value {
        J::Null => NodeValue::Null,
        J::Bool(b) => NodeValue::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => NodeValue::Int(i),
            None => NodeValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => NodeValue::Str(s.clone()),
        J::Array(a) => NodeValue::Seq(a.iter().map(json_to_node).collect()),
        J::Object(o) => NodeValue::Map(
            o.iter()
                .map(|(k, v)| (k.clone(), json_to_node(v)))
                .collect(),
        ),
    })
}

fn structured(node: Node) -> Result<Vec<Node>> {
    match node.value {
        NodeValue::Null => Ok(vec![]),
        NodeValue::Map(_) => Ok(vec![node]),
        NodeValue::Seq(items) => Ok(items),
        _ => Err(Error::with("Expected a sequence", "").wrap_with("Got:", repr(&node))),
    }
}

/// The table label and the raw input of a data fact.
fn load_input(fact: &DataFact, base_dir: &Path) -> Result<(String, Input)> {
    let table = fact.table.clone();
    match &fact.source {
        DataSource::Csv(text) => Ok((
            table.unwrap_or_default(),
            Input::Csv(super::csv::read(text), None),
        )),
        DataSource::Rows(rows) => Ok((table.unwrap_or_default(), Input::Rows(rows.clone()))),
        DataSource::File(path) => {
            let path =
                std::path::absolute(base_dir.join(path)).unwrap_or_else(|_| base_dir.join(path));
            let shown = path.display().to_string();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            let table = table.unwrap_or_else(|| {
                path.file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("")
                    .to_string()
            });
            let read = || {
                std::fs::read_to_string(&path)
                    .map_err(|e| Error::with("Failed to read file:", format!("{shown}: {e}")))
            };
            let input = match ext {
                "csv" => Input::Csv(super::csv::read(&read()?), Some(shown)),
                "json" => {
                    let value: serde_json::Value = serde_json::from_str(&read()?)
                        .map_err(|e| Error::with("Failed to parse a JSON document:", e))?;
                    Input::Rows(structured(json_to_node(&value))?)
                }
                "yaml" => Input::Rows(structured(super::yaml::load_file(&path)?)?),
                _ => return Err(Error::with("Failed to recognize file format:", shown)),
            };
            Ok((table, input))
        }
    }
}

/// Percent-quotes a value for `While processing row #N:` the way rex dumps rows.
fn quote_for_dump(text: &str) -> String {
    let mut out = String::from("'");
    for c in text.chars() {
        match c {
            '\'' => out.push_str("''"),
            '%' => out.push_str("%25"),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn node_text(node: &Node) -> String {
    match &node.value {
        NodeValue::Null => "null".into(),
        NodeValue::Bool(b) => b.to_string(),
        NodeValue::Int(i) => i.to_string(),
        NodeValue::Float(f) => crate::core::repr::py_float_repr(*f),
        NodeValue::Str(s) => s.clone(),
        NodeValue::Seq(items) => items.iter().map(node_text).collect::<Vec<_>>().join("."),
        NodeValue::Map(_) => repr(node),
    }
}

fn dump_row(cells: &[Cell]) -> String {
    let items: Vec<String> = cells
        .iter()
        .filter_map(|c| match c {
            Cell::Skip => None,
            Cell::Null => Some("null".to_string()),
            Cell::Text(s) => Some(quote_for_dump(s)),
            Cell::Node(n) => Some(quote_for_dump(&node_text(n))),
        })
        .collect();
    format!("{{{}}}", items.join(", "))
}

/// Field indexes of the identity columns.
fn identity_fields(table: &Table, fields: &[Field]) -> Vec<usize> {
    let pk = table
        .pk
        .as_ref()
        .map(|p| p.columns.clone())
        .unwrap_or_default();
    pk.iter()
        .filter_map(|c| fields.iter().position(|f| f.column.name == *c))
        .collect()
}

/// Checks a parsed row: identity values present; only identity for `present: false`.
fn check_row(cells: &[Cell], fields: &[Field], pk: &[usize], present: bool) -> Result<()> {
    for &i in pk {
        if matches!(cells[i], Cell::Skip | Cell::Null) {
            return Err(Error::with(
                "Discovered missing value for identity field:",
                &fields[i].label,
            ));
        }
    }
    if !present {
        if let Some(i) =
            (0..cells.len()).find(|i| !pk.contains(i) && !matches!(cells[*i], Cell::Skip))
        {
            return Err(Error::with(
                "Discovered unexpected field:",
                &fields[i].label,
            ));
        }
    }
    Ok(())
}

fn parse_rows(
    input: &Input,
    fields: &[Field],
    pk: &[usize],
    present: bool,
) -> Result<Vec<Vec<Cell>>> {
    let position = |label: &str| {
        fields
            .iter()
            .position(|f| f.label == label)
            .ok_or_else(|| Error::with("Discovered missing field:", label))
    };
    let mut out = vec![];
    match input {
        Input::Csv(records, file) => {
            let Some((header, body)) = records.split_first() else {
                return Ok(vec![]);
            };
            let mut columns = vec![];
            for label in &header.cells {
                let i = position(label)?;
                if columns.contains(&i) {
                    return Err(Error::with("Discovered duplicate field:", label));
                }
                columns.push(i);
            }
            for (n, record) in body.iter().enumerate() {
                let parsed = (|| {
                    let (got, want) = (record.cells.len(), columns.len());
                    if got < want {
                        return Err(Error::with(
                            "Discovered too few entries:",
                            format!("{got} < {want}"),
                        ));
                    }
                    if got > want {
                        return Err(Error::with(
                            "Discovered too many entries:",
                            format!("{got} > {want}"),
                        ));
                    }
                    let mut cells = vec![Cell::Skip; fields.len()];
                    for (&i, text) in columns.iter().zip(&record.cells) {
                        if !text.is_empty() {
                            cells[i] = Cell::Text(text.clone());
                        }
                    }
                    check_row(&cells, fields, pk, present)?;
                    Ok(cells)
                })();
                let context = match file {
                    Some(path) => format!("\"{path}\", line #{}", record.line),
                    None => record.raw.clone(),
                };
                out.push(
                    parsed.map_err(|e| {
                        e.wrap_with(format!("While parsing row #{}:", n + 1), context)
                    })?,
                );
            }
        }
        Input::Rows(rows) => {
            for (n, row) in rows.iter().enumerate() {
                let parsed = (|| {
                    let NodeValue::Map(pairs) = &row.value else {
                        return Err(Error::new("Expected a mapping").wrap_with("Got:", repr(row)));
                    };
                    let mut cells = vec![Cell::Skip; fields.len()];
                    for (key, value) in pairs {
                        let i = position(key)?;
                        cells[i] = match value.value {
                            NodeValue::Null => Cell::Null,
                            _ => Cell::Node(value.clone()),
                        };
                    }
                    check_row(&cells, fields, pk, present)?;
                    Ok(cells)
                })();
                out.push(parsed.map_err(|e| {
                    e.wrap_with(format!("While parsing row #{}:", n + 1), repr(row))
                })?);
            }
        }
    }
    Ok(out)
}

/// Reads (once per run) the rows of `table`, indexed by identity.
fn ensure_rows(drv: &mut Driver, table: &Table) -> Result<()> {
    if drv.rows.contains_key(&table.name) {
        return Ok(());
    }
    let fields = table.fields();
    let pk = identity_fields(table, &fields);
    let names: Vec<String> = fields.iter().map(|f| f.column.name.clone()).collect();
    let mut select = "SELECT \"id\"".to_string();
    for n in &names {
        select.push_str(&format!(", {}", ident(n)));
    }
    select.push_str(&format!("\n    FROM {};", ident(&table.name)));
    let result = drv.read(&select)?;
    let mut cache = TableRows {
        rows: vec![],
        index: HashMap::new(),
    };
    for row in result {
        store_row(&mut cache, &fields, &pk, row);
    }
    drv.rows.insert(table.name.clone(), cache);
    Ok(())
}

fn stored_key(fields: &[Field], pk: &[usize], values: &[Option<String>]) -> Vec<String> {
    pk.iter()
        .map(|&i| match &values[i] {
            None => Value::Null.canonical(),
            Some(s) => fields[i].domain().parse_stored(s).canonical(),
        })
        .collect()
}

/// Adds or replaces a row (`id` first, as SELECT/RETURNING give it) in the cache.
fn store_row(cache: &mut TableRows, fields: &[Field], pk: &[usize], row: Vec<Option<String>>) {
    let id: i64 = row
        .first()
        .cloned()
        .flatten()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let values: Vec<Option<String>> = row.into_iter().skip(1).collect();
    if values.len() != fields.len() {
        return;
    }
    let key = stored_key(fields, pk, &values);
    match cache.index.get(&key) {
        Some(&i) => cache.rows[i] = (id, values),
        None => {
            cache.index.insert(key, cache.rows.len());
            cache.rows.push((id, values));
        }
    }
}

/// Why a link literal did not resolve.
enum LinkError {
    /// Bad literal or target without identity: the message.
    Invalid(String),
    Missing,
}

/// How many labels an identity of `table` takes.
fn width(drv: &mut Driver, table: &Table, depth: usize) -> Result<usize, LinkError> {
    if depth > 16 {
        return Err(LinkError::Invalid("identity loop".into()));
    }
    let fields = table.fields();
    let mut total = 0;
    for i in identity_fields(table, &fields) {
        total += match &fields[i].kind {
            FieldKind::Link(target) => {
                let target = lookup_table(drv, target)?;
                width(drv, &target, depth + 1)?
            }
            _ => 1,
        };
    }
    Ok(total)
}

fn lookup_table(drv: &mut Driver, name: &str) -> Result<Table, LinkError> {
    match drv.table(name) {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(LinkError::Invalid(format!("missing table: {name}"))),
        Err(e) => Err(LinkError::Invalid(e.to_string())),
    }
}

/// Resolves identity `items` to the `id` of a row of `table`.
fn resolve(drv: &mut Driver, table: &Table, items: &[Lit], depth: usize) -> Result<i64, LinkError> {
    let fields = table.fields();
    let pk = identity_fields(table, &fields);
    if pk.is_empty() {
        return Err(LinkError::Invalid(format!(
            "ill-formed identity literal: {}",
            identity_literal::dump(items)
        )));
    }
    let mut parts: Vec<Vec<Lit>> = vec![];
    if items.len() == pk.len() {
        for item in items {
            parts.push(match item {
                Lit::Group(g) => g.clone(),
                leaf => vec![leaf.clone()],
            });
        }
    } else {
        let mut leaves = Lit::leaves(items).into_iter().map(Lit::Leaf);
        let total = width(drv, table, depth)?;
        let got = Lit::leaves(items).len();
        if got < total {
            return Err(LinkError::Invalid(format!(
                "not enough labels: expected {total}, got {got}"
            )));
        }
        if got > total {
            return Err(LinkError::Invalid(format!(
                "too many labels: expected {total}, got {got}"
            )));
        }
        for &i in &pk {
            let n = match &fields[i].kind {
                FieldKind::Link(target) => {
                    let target = lookup_table(drv, target)?;
                    width(drv, &target, depth + 1)?
                }
                _ => 1,
            };
            parts.push(leaves.by_ref().take(n).collect());
        }
    }
    let mut key = vec![];
    for (&i, part) in pk.iter().zip(&parts) {
        key.push(match &fields[i].kind {
            FieldKind::Link(target) => {
                let target = lookup_table(drv, target)?;
                resolve(drv, &target, part, depth + 1)?.to_string()
            }
            _ => {
                let leaves = Lit::leaves(part);
                let [leaf] = leaves.as_slice() else {
                    let total = width(drv, table, depth)?;
                    return Err(LinkError::Invalid(format!(
                        "too many labels: expected {total}, got {}",
                        Lit::leaves(items).len()
                    )));
                };
                fields[i]
                    .domain()
                    .parse_text(leaf)
                    .map_err(LinkError::Invalid)?
                    .canonical()
            }
        });
    }
    ensure_rows(drv, table).map_err(|e| LinkError::Invalid(e.to_string()))?;
    let cache = &drv.rows[&table.name];
    cache
        .index
        .get(&key)
        .map(|&i| cache.rows[i].0)
        .ok_or(LinkError::Missing)
}

/// The `id` a link `default:` names (deploy.md §3.4).
pub fn link_default(drv: &mut Driver, target_label: &str, literal: &str) -> Result<i64> {
    let target = require_table(drv, target_label)?;
    let shown = format!("{target_label}[{literal}]");
    let items = identity_literal::parse(literal)
        .map_err(|_| Error::with("Got ill-formed link value:", &shown))?;
    match resolve(drv, &target, &items, 0) {
        Ok(id) => Ok(id),
        Err(LinkError::Missing) => Err(Error::with("Cannot find link:", shown)),
        Err(LinkError::Invalid(_)) => Err(Error::with("Got ill-formed link value:", shown)),
    }
}

/// Converts one cell to the value to write.
fn convert(drv: &mut Driver, field: &Field, cell: &Cell) -> Result<Value> {
    let invalid = |message: String| Error::with("Discovered invalid input:", message);
    let FieldKind::Link(target_name) = &field.kind else {
        return match cell {
            Cell::Skip | Cell::Null => Ok(Value::Null),
            Cell::Text(s) => field.domain().parse_text(s).map_err(invalid),
            Cell::Node(n) => match field.domain().parse_node(n) {
                Some(result) => result.map_err(invalid),
                None => Err(invalid(repr(n))),
            },
        };
    };
    let items = match cell {
        Cell::Skip | Cell::Null => return Ok(Value::Null),
        Cell::Text(s) => identity_literal::parse(s).map_err(invalid)?,
        Cell::Node(n) => match &n.value {
            NodeValue::Str(s) => identity_literal::parse(s).map_err(invalid)?,
            NodeValue::Int(i) => vec![Lit::Leaf(i.to_string())],
            NodeValue::Seq(parts) => parts.iter().map(|p| Lit::Leaf(node_text(p))).collect(),
            _ => return Err(invalid(repr(n))),
        },
    };
    let target = require_table(drv, target_name)?;
    match resolve(drv, &target, &items, 0) {
        Ok(id) => Ok(Value::Int(id)),
        Err(LinkError::Invalid(message)) => Err(invalid(message)),
        Err(LinkError::Missing) => Err(Error::with(
            "Discovered missing record:",
            format!("{target_name}[{}]", identity_literal::dump(&items)),
        )),
    }
}

fn process_row(
    drv: &mut Driver,
    table: &Table,
    fields: &[Field],
    pk: &[usize],
    cells: &[Cell],
    present: bool,
) -> Result<()> {
    let mut values: Vec<Option<Value>> = vec![];
    for (field, cell) in fields.iter().zip(cells) {
        if matches!(cell, Cell::Skip) {
            values.push(None);
            continue;
        }
        let value = convert(drv, field, cell)
            .map_err(|e| e.wrap_with("While converting field:", &field.label))?;
        values.push(Some(value));
    }
    let key: Vec<String> = pk
        .iter()
        .map(|&i| values[i].as_ref().map(Value::canonical).unwrap_or_default())
        .collect();
    ensure_rows(drv, table)?;
    let t = ident(&table.name);
    let names: Vec<String> = fields.iter().map(|f| f.column.name.clone()).collect();
    let returning = format!(
        "RETURNING \"id\"{}",
        names
            .iter()
            .map(|n| format!(", {}", ident(n)))
            .collect::<String>()
    );
    let existing = {
        let cache = &drv.rows[&table.name];
        cache.index.get(&key).map(|&i| cache.rows[i].clone())
    };
    let sql = match (existing, present) {
        (None, false) => return Ok(()),
        (Some((id, _)), false) => {
            drv.dml(&format!("DELETE FROM {t}\n    WHERE \"id\" = {id};"))?;
            drv.rows.clear();
            return Ok(());
        }
        (None, true) => {
            let given: Vec<usize> = (0..fields.len()).filter(|&i| values[i].is_some()).collect();
            if given.is_empty() {
                format!("INSERT INTO {t}\n    DEFAULT VALUES\n    {returning};")
            } else {
                let cols: Vec<&String> = given.iter().map(|&i| &names[i]).collect();
                let literals: Vec<String> = given
                    .iter()
                    .filter_map(|&i| values[i].as_ref().map(Value::sql))
                    .collect();
                format!(
                    "INSERT INTO {t} ({})\n    VALUES ({})\n    {returning};",
                    idents(&cols),
                    literals.join(", ")
                )
            }
        }
        (Some((id, stored)), true) => {
            let mut assignments = vec![];
            for (i, value) in values.iter().enumerate() {
                let Some(value) = value else { continue };
                let old = match &stored[i] {
                    None => Value::Null,
                    Some(s) => fields[i].domain().parse_stored(s),
                };
                if old.canonical() != value.canonical() {
                    assignments.push(format!("{} = {}", ident(&names[i]), value.sql()));
                }
            }
            if assignments.is_empty() {
                return Ok(());
            }
            format!(
                "UPDATE {t}\n    SET {}\n    WHERE \"id\" = {id}\n    {returning};",
                assignments.join(", ")
            )
        }
    };
    let returned = drv.dml(&sql)?;
    if let Some(cache) = drv.rows.get_mut(&table.name) {
        for row in returned {
            store_row(cache, fields, pk, row);
        }
    }
    Ok(())
}

pub fn apply_data(drv: &mut Driver, fact: &DataFact, base_dir: &Path) -> Result<()> {
    let (label, input) = load_input(fact, base_dir)?;
    let table = require_table(drv, &label)?;
    if table.pk.is_none() {
        return Err(Error::with("Discovered table without identity:", &label));
    }
    let fields = table.fields();
    let pk = identity_fields(&table, &fields);
    let rows = parse_rows(&input, &fields, &pk, fact.present)?;
    for (n, cells) in rows.iter().enumerate() {
        process_row(drv, &table, &fields, &pk, cells, fact.present).map_err(|e| {
            e.wrap_with(format!("While processing row #{}:", n + 1), dump_row(cells))
        })?;
    }
    Ok(())
}
