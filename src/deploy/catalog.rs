//! The live schema of `public`, read from `pg_catalog` in one batch of queries (one
//! round trip) and turned into deploy's view of it: tables with their fields
//! (columns and links), identity (primary key), unique keys, triggers and comment
//! metadata. Re-read after any fact that changed the schema, which keeps the model
//! trivially correct.

use super::meta::Meta;
use super::names::link_label_of_column;
use super::value::{ColumnType, Domain};
use crate::core::{Error, Result};
use postgres::{SimpleQueryMessage, SimpleQueryRow};
use std::collections::HashMap;

#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    pub type_name: String,
    pub type_is_public: bool,
    pub enum_labels: Option<Vec<String>>,
    pub not_null: bool,
    pub comment: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Constraint {
    pub name: String,
    pub columns: Vec<String>,
    pub comment: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ForeignKey {
    pub name: String,
    pub column: String,
    pub target: String,
    pub on_delete: String,
}

#[derive(Clone, Debug)]
pub struct Trigger {
    pub name: String,
    pub source: String,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub name: String,
    pub unlogged: bool,
    pub comment: Option<String>,
    pub columns: Vec<Column>,
    pub pk: Option<Constraint>,
    pub uniques: Vec<Constraint>,
    pub fks: Vec<ForeignKey>,
    pub indexes: Vec<String>,
    pub triggers: Vec<Trigger>,
}

/// What a field (a non-`id` column) is to deploy.
#[derive(Clone, Debug)]
pub enum FieldKind {
    Column(Option<ColumnType>),
    Link(String),
}

#[derive(Clone, Debug)]
pub struct Field {
    pub label: String,
    pub column: Column,
    pub kind: FieldKind,
}

impl Field {
    pub fn is_link(&self) -> bool {
        matches!(self.kind, FieldKind::Link(_))
    }

    /// How values of this (column) field are parsed; unrecognised types as text.
    pub fn domain(&self) -> Domain {
        match &self.kind {
            FieldKind::Column(Some(t)) => t.domain(),
            FieldKind::Column(None) => Domain::Text,
            FieldKind::Link(_) => Domain::Integer,
        }
    }
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn fk_of(&self, column: &str) -> Option<&ForeignKey> {
        self.fks.iter().find(|f| f.column == column)
    }

    /// A single-column UNIQUE constraint on `column` (not the primary key).
    pub fn unique_on(&self, column: &str) -> Option<&Constraint> {
        self.uniques
            .iter()
            .find(|u| u.columns.len() == 1 && u.columns[0] == column)
    }

    pub fn has_surrogate_key(&self) -> bool {
        self.column("id").is_some() && self.unique_on("id").is_some()
    }

    pub fn trigger(&self, name: &str) -> Option<&Trigger> {
        self.triggers.iter().find(|t| t.name == name)
    }

    pub fn meta(&self) -> Meta {
        Meta::parse(self.comment.as_deref())
    }

    /// The fields in column order (`id` excluded), labelled as deploy and HTSQL agree.
    pub fn fields(&self) -> Vec<Field> {
        self.columns
            .iter()
            .filter(|c| c.name != "id")
            .map(|c| {
                let meta = Meta::parse(c.comment.as_deref());
                let (label, kind) = match self.fk_of(&c.name) {
                    Some(fk) => (
                        link_label_of_column(&c.name),
                        FieldKind::Link(fk.target.clone()),
                    ),
                    None => (c.name.clone(), FieldKind::Column(column_type(c))),
                };
                Field {
                    label: meta.get_str("label").map(str::to_string).unwrap_or(label),
                    column: c.clone(),
                    kind,
                }
            })
            .collect()
    }

    pub fn field(&self, label: &str) -> Option<Field> {
        self.fields().into_iter().find(|f| f.label == label)
    }
}

/// The deploy type of a catalog column, if it is one deploy knows.
pub fn column_type(c: &Column) -> Option<ColumnType> {
    match &c.enum_labels {
        Some(labels) if c.type_is_public => Some(ColumnType::Enum(labels.clone())),
        _ if c.type_is_public => None,
        _ => ColumnType::from_sql(&c.type_name),
    }
}

#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub tables: Vec<Table>,
}

impl Catalog {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Reads schema `public`: six catalog queries sent as one simple query, so a
    /// reload costs one round trip (deploy reloads after every schema change).
    pub fn load(client: &mut postgres::Client) -> Result<Catalog> {
        let [classes, enum_rows, attributes, constraints, index_rows, trigger_rows] =
            result_sets(client)?;
        let mut tables: Vec<Table> = vec![];
        let mut by_oid: HashMap<i64, usize> = HashMap::new();
        for row in &classes {
            by_oid.insert(num(row, 0)?, tables.len());
            tables.push(Table {
                name: text(row, 1)?,
                unlogged: text(row, 2)? == "u",
                comment: opt(row, 3),
                columns: vec![],
                pk: None,
                uniques: vec![],
                fks: vec![],
                indexes: vec![],
                triggers: vec![],
            });
        }
        let mut enums: HashMap<i64, Vec<String>> = HashMap::new();
        for row in &enum_rows {
            enums.entry(num(row, 0)?).or_default().push(text(row, 1)?);
        }
        let mut attnames: HashMap<(i64, i32), String> = HashMap::new();
        for row in &attributes {
            let oid: i64 = num(row, 0)?;
            let Some(&i) = by_oid.get(&oid) else { continue };
            attnames.insert((oid, num(row, 1)?), text(row, 2)?);
            tables[i].columns.push(Column {
                name: text(row, 2)?,
                type_name: text(row, 3)?,
                type_is_public: flag(row, 4)?,
                enum_labels: enums.get(&num(row, 7)?).cloned(),
                not_null: flag(row, 5)?,
                comment: opt(row, 6),
            });
        }
        let names = |oid: i64, keys: &[i32]| -> Vec<String> {
            keys.iter()
                .filter_map(|k| attnames.get(&(oid, *k)).cloned())
                .collect()
        };
        for row in &constraints {
            let oid: i64 = num(row, 0)?;
            let Some(&i) = by_oid.get(&oid) else { continue };
            let keys = int_array(row, 3)?;
            let constraint = Constraint {
                name: text(row, 1)?,
                columns: names(oid, &keys),
                comment: opt(row, 6),
            };
            match text(row, 2)?.as_str() {
                "p" => tables[i].pk = Some(constraint),
                "u" => tables[i].uniques.push(constraint),
                _ => {
                    let target_oid: i64 = num(row, 4)?;
                    let target = by_oid.get(&target_oid).map(|&j| tables[j].name.clone());
                    if let (Some(target), [column]) = (target, constraint.columns.as_slice()) {
                        let fk = ForeignKey {
                            name: constraint.name.clone(),
                            column: column.clone(),
                            target,
                            on_delete: text(row, 5)?,
                        };
                        tables[i].fks.push(fk);
                    }
                }
            }
        }
        for row in &index_rows {
            if let Some(&i) = by_oid.get(&num(row, 0)?) {
                tables[i].indexes.push(text(row, 1)?);
            }
        }
        for row in &trigger_rows {
            if let Some(&i) = by_oid.get(&num(row, 0)?) {
                tables[i].triggers.push(Trigger {
                    name: text(row, 1)?,
                    source: text(row, 3)?,
                });
            }
        }
        Ok(Catalog { tables })
    }
}

/// The catalog queries [`Catalog::load`] reads, in the order it reads them.
const CATALOG_SQL: &str = "\
    SELECT c.oid, c.relname, c.relpersistence, obj_description(c.oid, 'pg_class') \
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
    WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname; \
    SELECT enumtypid, enumlabel FROM pg_catalog.pg_enum ORDER BY enumtypid, enumsortorder; \
    SELECT a.attrelid, a.attnum, a.attname, t.typname, tn.nspname = 'public', a.attnotnull, \
           col_description(a.attrelid, a.attnum), t.oid \
    FROM pg_catalog.pg_attribute a \
    JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
    JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
    JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace \
    WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 \
    AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum; \
    SELECT con.conrelid, con.conname, con.contype, con.conkey, con.confrelid, \
           con.confdeltype, obj_description(con.oid, 'pg_constraint') \
    FROM pg_catalog.pg_constraint con \
    JOIN pg_catalog.pg_class c ON c.oid = con.conrelid \
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
    WHERE n.nspname = 'public' AND con.contype IN ('p', 'u', 'f') \
    ORDER BY con.conrelid, con.conname; \
    SELECT i.indrelid, c.relname FROM pg_catalog.pg_index i \
    JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid \
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
    WHERE n.nspname = 'public'; \
    SELECT t.tgrelid, t.tgname, p.proname, p.prosrc \
    FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid \
    WHERE NOT t.tgisinternal";

/// The rows of each of [`CATALOG_SQL`]'s six queries, values as text.
fn result_sets(client: &mut postgres::Client) -> Result<[Vec<SimpleQueryRow>; 6]> {
    let messages = client
        .simple_query(CATALOG_SQL)
        .map_err(|e| Error::from(e).wrap_with("While reading the catalog:", CATALOG_SQL))?;
    let mut sets: Vec<Vec<SimpleQueryRow>> = vec![vec![]];
    for message in messages {
        match message {
            SimpleQueryMessage::Row(row) => sets.last_mut().expect("one set open").push(row),
            SimpleQueryMessage::CommandComplete(_) => sets.push(vec![]),
            _ => {}
        }
    }
    sets.pop();
    let found = sets.len();
    sets.try_into().map_err(|_| {
        Error::with(
            "While reading the catalog:",
            format!("expected 6 result sets, got {found}"),
        )
    })
}

fn opt(row: &SimpleQueryRow, i: usize) -> Option<String> {
    row.get(i).map(str::to_string)
}

fn text(row: &SimpleQueryRow, i: usize) -> Result<String> {
    opt(row, i).ok_or_else(|| unexpected(row, i, "NULL"))
}

fn num<T: std::str::FromStr>(row: &SimpleQueryRow, i: usize) -> Result<T> {
    let value = row.get(i).unwrap_or("NULL");
    value.parse().map_err(|_| unexpected(row, i, value))
}

fn flag(row: &SimpleQueryRow, i: usize) -> Result<bool> {
    match row.get(i) {
        Some("t") => Ok(true),
        Some("f") => Ok(false),
        other => Err(unexpected(row, i, other.unwrap_or("NULL"))),
    }
}

/// An `int2[]` such as `{1,3}`; NULL is empty.
fn int_array(row: &SimpleQueryRow, i: usize) -> Result<Vec<i32>> {
    let Some(value) = row.get(i) else {
        return Ok(vec![]);
    };
    let inner = value.trim_start_matches('{').trim_end_matches('}');
    inner
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| unexpected(row, i, value)))
        .collect()
}

fn unexpected(row: &SimpleQueryRow, i: usize, value: &str) -> Error {
    let column = row.columns().get(i).map_or("?", |c| c.name());
    Error::with(
        "While reading the catalog:",
        format!("unexpected value {value:?} in column {column}"),
    )
}
