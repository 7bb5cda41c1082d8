//! Identity facts: the primary key named `<table>_pk`, identity links rebuilt as
//! `ON DELETE CASCADE`, and generated fields filled by a trigger/function pair of the
//! same name whose PL/pgSQL body is exactly rex.deploy's (deploy.md §3.5).

use super::catalog::{Field, FieldKind, Table};
use super::driver::Driver;
use super::fact::{Generator, IdentityFact};
use super::meta::{Meta, MetaValue};
use super::names::{ident, mangle1, sql_string};
use super::schema::{comment_sql, require_table};
use super::value::ColumnType;
use crate::core::{Error, Result};

/// One generator block of the trigger function, indented for `BEGIN ... END;`.
fn generator_block(
    table: &str,
    column: &str,
    kind: &ColumnKind,
    generator: Generator,
    basis: &[String],
) -> String {
    let c = ident(column);
    let t = ident(table);
    let filter: String = basis
        .iter()
        .map(|b| format!("{} = NEW.{}", ident(b), ident(b)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let mut body = format!("    IF NEW.{c} IS NULL THEN\n");
    match (generator, kind) {
        (Generator::Offset, ColumnKind::Integer) => {
            body.push_str(&format!(
                "        DECLARE\n            _offset int8;\n        BEGIN\n            SELECT max({c}) INTO _offset\n                FROM {t}"
            ));
            if !filter.is_empty() {
                body.push_str(&format!("\n                WHERE {filter}"));
            }
            body.push_str(&format!(
                ";\n            NEW.{c} := coalesce(_offset, 0) + 1;\n        END;\n"
            ));
        }
        (Generator::Offset, ColumnKind::Text) => {
            let mut condition = format!("{c} ~ '^[0-9]{{3}}$'");
            if !filter.is_empty() {
                condition = format!("{filter} AND {condition}");
            }
            body.push_str(&format!(
                "        DECLARE\n            _offset int4;\n        BEGIN\n            SELECT max({c}::int4) INTO _offset\n                FROM {t}\n                WHERE {condition};\n            NEW.{c} := to_char(coalesce(_offset, 0) + 1, 'FM000');\n        END;\n"
            ));
        }
        (Generator::Random, ColumnKind::Integer) => {
            body.push_str(&format!(
                "        LOOP\n            NEW.{c} := trunc(random()*999999999)+1;\n            EXIT WHEN NOT EXISTS (SELECT 1 FROM {t} WHERE {c} = NEW.{c});\n        END LOOP;\n"
            ));
        }
        (Generator::Random, ColumnKind::Text) => {
            let letter = "substr('ABCDEFGHJKLMNPQRTUVWXYZ', trunc(random()*23)::int4+1, 1)";
            let digit = "trunc(random()*10)::int4::text";
            let parts = [letter, digit, digit, letter, digit, digit, digit, digit].join(" || ");
            body.push_str(&format!(
                "        LOOP\n            NEW.{c} := {parts};\n            EXIT WHEN NOT EXISTS (SELECT 1 FROM {t} WHERE {c} = NEW.{c});\n        END LOOP;\n"
            ));
        }
        (Generator::Uuid, _) => {
            body.push_str(&format!("        NEW.{c} := gen_random_uuid()::text;\n"));
        }
    }
    body.push_str("    END IF;\n");
    body
}

enum ColumnKind {
    Integer,
    Text,
}

/// Checks that `field` may carry `generator` (deploy.md §3.5 errors).
fn generated_kind(field: &Field, generator: Generator) -> Result<ColumnKind> {
    let ty = match &field.kind {
        FieldKind::Column(Some(ColumnType::Named(k))) => Some(*k),
        _ => None,
    };
    match (generator, ty) {
        (Generator::Uuid, Some("text")) => Ok(ColumnKind::Text),
        (Generator::Uuid, _) => Err(Error::with("Expected a text column:", &field.column.name)),
        (_, Some("integer" | "integer-int4")) => Ok(ColumnKind::Integer),
        (_, Some("text")) => Ok(ColumnKind::Text),
        _ => Err(Error::with(
            "Expected an integer or text column:",
            &field.column.name,
        )),
    }
}

pub fn apply_identity(drv: &mut Driver, fact: &IdentityFact) -> Result<()> {
    let table = require_table(drv, &fact.table)?;
    let t = ident(&table.name);
    let pk_name = mangle1(&fact.table, Some("pk"));
    let pk = ident(&pk_name);
    let mut fields = vec![];
    for (label, _) in &fact.fields {
        let field = table
            .field(label)
            .ok_or_else(|| Error::with("Discovered missing field:", label))?;
        if !field.column.not_null {
            return Err(Error::with("Discovered nullable field:", label));
        }
        fields.push(field);
    }
    for field in &fields {
        if let FieldKind::Link(target) = &field.kind {
            if reaches(drv, target, &table.name, 0)? {
                let shown = format!("{}.{}", fact.table, field.label);
                return Err(Error::with("Discovered identity loop:", shown));
            }
        }
    }
    let columns: Vec<String> = fields.iter().map(|f| f.column.name.clone()).collect();
    let mut blocks = String::new();
    for (i, (field, (_, generator))) in fields.iter().zip(&fact.fields).enumerate() {
        if let Some(g) = generator {
            let kind = generated_kind(field, *g)?;
            blocks.push_str(&generator_block(
                &table.name,
                &field.column.name,
                &kind,
                *g,
                &columns[..i],
            ));
        }
    }
    let mut sql = vec![];
    let current_pk = table.pk.clone();
    let same = current_pk.as_ref().is_some_and(|p| p.columns == columns);
    if !same {
        if let Some(old) = &current_pk {
            for fk in table
                .fks
                .iter()
                .filter(|fk| old.columns.contains(&fk.column) && !columns.contains(&fk.column))
            {
                sql.extend(rebuild_fk(&table, fk, "SET DEFAULT"));
            }
            sql.push(format!(
                "ALTER TABLE {t} DROP CONSTRAINT {};",
                ident(&old.name)
            ));
        }
        sql.push(format!(
            "ALTER TABLE {t} ADD CONSTRAINT {pk} PRIMARY KEY ({}), CLUSTER ON {pk};",
            super::names::idents(&columns)
        ));
    }
    for field in fields.iter().filter(|f| f.is_link()) {
        if let Some(fk) = table
            .fk_of(&field.column.name)
            .filter(|fk| fk.on_delete != "c")
        {
            sql.extend(rebuild_fk(&table, fk, "CASCADE"));
        }
    }
    sql.extend(sync_generator(&table, &pk_name, &blocks));
    let generators: Vec<Option<String>> = fact
        .fields
        .iter()
        .map(|(_, g)| g.map(|g| g.name().to_string()))
        .collect();
    let mut meta = Meta::parse(if same {
        current_pk.as_ref().and_then(|p| p.comment.as_deref())
    } else {
        None
    });
    let old_meta = meta.clone();
    let wanted = generators
        .iter()
        .any(Option::is_some)
        .then_some(MetaValue::List(generators));
    meta.set("generators", wanted);
    if meta != old_meta {
        sql.push(comment_sql(&format!("CONSTRAINT {pk} ON {t}"), &meta));
    }
    drv.ddl(&sql)
}

/// Whether the identity of table `from` leads (through identity links) to `to`.
fn reaches(drv: &mut Driver, from: &str, to: &str, depth: usize) -> Result<bool> {
    if from == to {
        return Ok(true);
    }
    let Some(table) = drv.table(from)? else {
        return Ok(false);
    };
    let pk = table
        .pk
        .as_ref()
        .map(|p| p.columns.clone())
        .unwrap_or_default();
    if depth > 32 {
        return Ok(false);
    }
    for fk in table.fks.iter().filter(|fk| pk.contains(&fk.column)) {
        if reaches(drv, &fk.target, to, depth + 1)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn rebuild_fk(table: &Table, fk: &super::catalog::ForeignKey, action: &str) -> Vec<String> {
    let t = ident(&table.name);
    vec![
        format!("ALTER TABLE {t} DROP CONSTRAINT {};", ident(&fk.name)),
        format!(
            "ALTER TABLE {t} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} (\"id\") ON DELETE {action};",
            ident(&fk.name),
            ident(&fk.column),
            ident(&fk.target)
        ),
    ]
}

/// Creates, replaces or drops the generator function and trigger `<table>_pk`.
fn sync_generator(table: &Table, name: &str, blocks: &str) -> Vec<String> {
    let t = ident(&table.name);
    let f = ident(name);
    let existing = table.trigger(name);
    if blocks.is_empty() {
        return match existing {
            Some(_) => vec![
                format!("DROP TRIGGER {f} ON {t};"),
                format!("DROP FUNCTION {f}();"),
            ],
            None => vec![],
        };
    }
    let source = format!("\nBEGIN\n{blocks}    RETURN NEW;\nEND;\n");
    let mut sql = vec![];
    if existing.is_none_or(|tr| tr.source != source) {
        sql.push(format!(
            "CREATE OR REPLACE FUNCTION {f}() RETURNS \"trigger\" LANGUAGE plpgsql AS {};",
            sql_string(&source)
        ));
    }
    if existing.is_none() {
        sql.push(format!(
            "CREATE TRIGGER {f} BEFORE INSERT ON {t} FOR EACH ROW EXECUTE PROCEDURE {f}();"
        ));
    }
    sql
}
