//! The live schema of `public`, read from `pg_catalog` in one batch of queries and
//! turned into deploy's view of it: tables with their fields (columns and links),
//! identity (primary key), unique keys, triggers and comment metadata. Re-read after
//! any fact that changed the schema, which keeps the model trivially correct.

use super::meta::Meta;
use super::names::link_label_of_column;
use super::value::{ColumnType, Domain};
use crate::core::{Error, Result};
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

    /// Reads schema `public`.
    pub fn load(client: &mut postgres::Client) -> Result<Catalog> {
        let mut tables: Vec<Table> = vec![];
        let mut by_oid: HashMap<i64, usize> = HashMap::new();
        let q = |client: &mut postgres::Client, sql: &str| {
            client
                .query(sql, &[])
                .map_err(|e| Error::from(e).wrap_with("While reading the catalog:", sql))
        };
        for row in q(
            client,
            "SELECT c.oid::int8, c.relname::text, c.relpersistence::text, \
             obj_description(c.oid, 'pg_class') \
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname",
        )? {
            by_oid.insert(row.get(0), tables.len());
            tables.push(Table {
                name: row.get(1),
                unlogged: row.get::<_, String>(2) == "u",
                comment: row.get(3),
                columns: vec![],
                pk: None,
                uniques: vec![],
                fks: vec![],
                indexes: vec![],
                triggers: vec![],
            });
        }
        let mut enums: HashMap<i64, Vec<String>> = HashMap::new();
        for row in q(
            client,
            "SELECT enumtypid::int8, enumlabel::text FROM pg_catalog.pg_enum \
             ORDER BY enumtypid, enumsortorder",
        )? {
            enums.entry(row.get(0)).or_default().push(row.get(1));
        }
        let mut attnames: HashMap<(i64, i32), String> = HashMap::new();
        for row in q(
            client,
            "SELECT a.attrelid::int8, a.attnum::int4, a.attname::text, t.typname::text, \
             tn.nspname = 'public', a.attnotnull, col_description(a.attrelid, a.attnum), \
             t.oid::int8 \
             FROM pg_catalog.pg_attribute a \
             JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
             JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace \
             WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 \
             AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum",
        )? {
            let oid: i64 = row.get(0);
            let Some(&i) = by_oid.get(&oid) else { continue };
            attnames.insert((oid, row.get(1)), row.get(2));
            tables[i].columns.push(Column {
                name: row.get(2),
                type_name: row.get(3),
                type_is_public: row.get(4),
                enum_labels: enums.get(&row.get::<_, i64>(7)).cloned(),
                not_null: row.get(5),
                comment: row.get(6),
            });
        }
        let names = |oid: i64, keys: &[i32]| -> Vec<String> {
            keys.iter()
                .filter_map(|k| attnames.get(&(oid, *k)).cloned())
                .collect()
        };
        for row in q(
            client,
            "SELECT con.conrelid::int8, con.conname::text, con.contype::text, \
             con.conkey::int4[], con.confrelid::int8, con.confdeltype::text, \
             obj_description(con.oid, 'pg_constraint') \
             FROM pg_catalog.pg_constraint con \
             JOIN pg_catalog.pg_class c ON c.oid = con.conrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND con.contype IN ('p', 'u', 'f') \
             ORDER BY con.conrelid, con.conname",
        )? {
            let oid: i64 = row.get(0);
            let Some(&i) = by_oid.get(&oid) else { continue };
            let keys: Vec<i32> = row.get::<_, Option<Vec<i32>>>(3).unwrap_or_default();
            let constraint = Constraint {
                name: row.get(1),
                columns: names(oid, &keys),
                comment: row.get(6),
            };
            match row.get::<_, String>(2).as_str() {
                "p" => tables[i].pk = Some(constraint),
                "u" => tables[i].uniques.push(constraint),
                _ => {
                    let target_oid: i64 = row.get(4);
                    let target = by_oid.get(&target_oid).map(|&j| tables[j].name.clone());
                    if let (Some(target), [column]) = (target, constraint.columns.as_slice()) {
                        let fk = ForeignKey {
                            name: constraint.name.clone(),
                            column: column.clone(),
                            target,
                            on_delete: row.get(5),
                        };
                        tables[i].fks.push(fk);
                    }
                }
            }
        }
        for row in q(
            client,
            "SELECT i.indrelid::int8, c.relname::text FROM pg_catalog.pg_index i \
             JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public'",
        )? {
            if let Some(&i) = by_oid.get(&row.get::<_, i64>(0)) {
                tables[i].indexes.push(row.get(1));
            }
        }
        for row in q(
            client,
            "SELECT t.tgrelid::int8, t.tgname::text, p.proname::text, p.prosrc \
             FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid \
             WHERE NOT t.tgisinternal",
        )? {
            if let Some(&i) = by_oid.get(&row.get::<_, i64>(0)) {
                tables[i].triggers.push(Trigger {
                    name: row.get(1),
                    source: row.get(3),
                });
            }
        }
        Ok(Catalog { tables })
    }
}
