//! Table, column, link and alias facts: compare the fact with the catalog and emit
//! exactly the statements of deploy.md §3.2–§3.4 and §3.9 that close the difference
//! (none when the database already matches).

use super::catalog::{FieldKind, Table};
use super::driver::Driver;
use super::fact::{AliasFact, ColumnFact, LinkFact, TableFact};
use super::meta::{Meta, MetaValue};
use super::names::{ident, label_to_title, link_label_of_column, mangle, mangle1, sql_string};
use super::value::ColumnType;
use crate::core::{Error, Result};

/// `COMMENT ON <what> IS '<meta>'` (or `IS NULL` when the meta is empty).
pub fn comment_sql(what: &str, meta: &Meta) -> String {
    let text = meta.dump().map(|m| sql_string(&m));
    format!(
        "COMMENT ON {what} IS {};",
        text.as_deref().unwrap_or("NULL")
    )
}

/// Sets `label` (only when the label cannot be read back from the SQL name, e.g. a
/// mangled one) and `title` (only when it differs from the label's default title).
fn set_label_title(meta: &mut Meta, label: &str, natural: &str, title: Option<&str>) {
    let label_meta = (label != natural).then(|| MetaValue::Str(label.to_string()));
    meta.set("label", label_meta);
    let title_meta = title
        .filter(|t| *t != label_to_title(label))
        .map(|t| MetaValue::Str(t.to_string()));
    meta.set("title", title_meta);
}

/// Refuses a `was` rename of a field: creating it while a former one exists would
/// silently leave the old data behind.
fn refuse_rename(table: &Table, label: &str, was: &[String]) -> Result<()> {
    match was.iter().find(|old| table.field(old).is_some()) {
        Some(old) => Err(Error::with(
            "Renaming is not supported:",
            format!("{old} -> {label}"),
        )),
        None => Ok(()),
    }
}

/// The table a column/link/identity/alias/data fact needs, or `Discovered missing table:`.
pub fn require_table(drv: &mut Driver, label: &str) -> Result<Table> {
    drv.table(&mangle1(label, None))?
        .ok_or_else(|| Error::with("Discovered missing table:", label))
}

pub fn apply_table(drv: &mut Driver, fact: &TableFact) -> Result<()> {
    let name = mangle1(&fact.label, None);
    let existing = drv.table(&name)?;
    let t = ident(&name);
    let mut sql = vec![];
    if !fact.present {
        let Some(table) = existing else { return Ok(()) };
        let catalog = drv.catalog()?;
        for other in catalog.tables.iter().filter(|o| o.name != name) {
            for fk in other.fks.iter().filter(|fk| fk.target == name) {
                sql.push(format!(
                    "ALTER TABLE {} DROP COLUMN {};",
                    ident(&other.name),
                    ident(&fk.column)
                ));
            }
        }
        sql.push(format!("DROP TABLE {t};"));
        for c in table
            .columns
            .iter()
            .filter(|c| c.enum_labels.is_some() && c.type_is_public)
        {
            sql.push(format!("DROP TYPE {};", ident(&c.type_name)));
        }
        let pk = mangle1(&fact.label, Some("pk"));
        if table.trigger(&pk).is_some() {
            sql.push(format!("DROP FUNCTION {}();", ident(&pk)));
        }
        return drv.ddl(&sql);
    }
    match existing {
        None => {
            let catalog = drv.catalog()?;
            if let Some(old) = fact
                .was
                .iter()
                .find(|w| catalog.table(&mangle1(w, None)).is_some())
            {
                let shown = format!("{old} -> {}", fact.label);
                return Err(Error::with("Renaming is not supported:", shown));
            }
            let seq = mangle1(&fact.label, Some("seq"));
            let unlogged = if fact.reliable == Some(false) {
                "UNLOGGED "
            } else {
                ""
            };
            sql.push(format!(
                "CREATE {unlogged}TABLE {t} (\n    \"id\" \"int4\" NOT NULL\n);"
            ));
            sql.push(format!(
                "CREATE SEQUENCE {} OWNED BY {t}.\"id\";",
                ident(&seq)
            ));
            sql.push(format!(
                "ALTER TABLE {t} ALTER COLUMN \"id\" SET DEFAULT nextval({}::regclass);",
                sql_string(&ident(&seq))
            ));
            sql.push(format!(
                "ALTER TABLE {t} ADD CONSTRAINT {} UNIQUE (\"id\");",
                ident(&mangle1(&fact.label, Some("uk")))
            ));
            let mut meta = Meta::default();
            set_label_title(&mut meta, &fact.label, &name, fact.title.as_deref());
            if meta.dump().is_some() {
                sql.push(comment_sql(&format!("TABLE {t}"), &meta));
            }
        }
        Some(table) => {
            if !table.has_surrogate_key() {
                return Err(Error::with(
                    "Discovered table without surrogate key:",
                    &fact.label,
                ));
            }
            if fact.reliable.is_some_and(|r| r == table.unlogged) {
                return Err(Error::with(
                    "Discovered table with mismatched reliability mode:",
                    &fact.label,
                ));
            }
            let old = table.meta();
            let mut meta = old.clone();
            set_label_title(&mut meta, &fact.label, &name, fact.title.as_deref());
            if meta != old {
                sql.push(comment_sql(&format!("TABLE {t}"), &meta));
            }
        }
    }
    drv.ddl(&sql)
}

/// The SQL type name of a column fact's type (enums get their own type).
fn type_name(table: &str, column: &str, ty: &ColumnType) -> String {
    ty.sql_name()
        .map(str::to_string)
        .unwrap_or_else(|| mangle(&[table, column], Some("enum")))
}

/// Drops the identity (and its generator) of `table`, needed before one of its
/// fields may become nullable.
fn drop_identity_sql(table: &Table, table_label: &str) -> Vec<String> {
    let Some(pk) = &table.pk else { return vec![] };
    let t = ident(&table.name);
    let mut sql = vec![format!(
        "ALTER TABLE {t} DROP CONSTRAINT {};",
        ident(&pk.name)
    )];
    let generator = mangle1(table_label, Some("pk"));
    if table.trigger(&generator).is_some() {
        sql.push(format!("DROP TRIGGER {} ON {t};", ident(&generator)));
        sql.push(format!("DROP FUNCTION {}();", ident(&generator)));
    }
    sql
}

/// Statements that bring NOT NULL, UNIQUE and the comment meta of an existing
/// column or link in line with its fact.
#[allow(clippy::too_many_arguments)]
fn sync_field(
    table: &Table,
    table_label: &str,
    column: &str,
    label: &str,
    required: bool,
    unique: bool,
    meta: Meta,
    index: Option<&str>,
    sql: &mut Vec<String>,
) {
    let t = ident(&table.name);
    let c = ident(column);
    let Some(current) = table.column(column) else {
        return;
    };
    if current.not_null != required {
        if !required
            && table
                .pk
                .as_ref()
                .is_some_and(|pk| pk.columns.iter().any(|x| x == column))
        {
            sql.extend(drop_identity_sql(table, table_label));
        }
        let verb = if required { "SET" } else { "DROP" };
        sql.push(format!("ALTER TABLE {t} ALTER COLUMN {c} {verb} NOT NULL;"));
    }
    let uk = mangle(&[table_label, label], Some("uk"));
    match (table.unique_on(column), unique) {
        (None, true) => {
            if let Some(index) = index.filter(|i| table.indexes.iter().any(|x| x == i)) {
                sql.push(format!("DROP INDEX {};", ident(index)));
            }
            sql.push(format!(
                "ALTER TABLE {t} ADD CONSTRAINT {} UNIQUE ({c});",
                ident(&uk)
            ));
        }
        (Some(existing), false) => {
            sql.push(format!(
                "ALTER TABLE {t} DROP CONSTRAINT {};",
                ident(&existing.name)
            ));
            if let Some(index) = index {
                sql.push(format!("CREATE INDEX {} ON {t} ({c});", ident(index)));
            }
        }
        _ => {}
    }
    if meta != Meta::parse(current.comment.as_deref()) {
        sql.push(comment_sql(&format!("COLUMN {t}.{c}"), &meta));
    }
}

fn field_meta(
    old: Option<&str>,
    label: &str,
    name: &str,
    title: Option<&str>,
    default: Option<String>,
) -> Meta {
    let mut meta = Meta::parse(old);
    meta.set("default", default.map(MetaValue::Str));
    set_label_title(&mut meta, label, name, title);
    meta
}

pub fn apply_column(drv: &mut Driver, fact: &ColumnFact) -> Result<()> {
    let name = mangle1(&fact.label, None);
    let table = if fact.present {
        require_table(drv, &fact.table)?
    } else {
        match drv.table(&mangle1(&fact.table, None))? {
            Some(t) => t,
            None => return Ok(()),
        }
    };
    let t = ident(&table.name);
    let c = ident(&name);
    let field = table.field(&fact.label);
    if field.as_ref().is_some_and(|f| f.is_link()) {
        return Err(Error::with(
            "Discovered link with the same name:",
            &fact.label,
        ));
    }
    let mut sql = vec![];
    let Some(ty) = fact.ty.as_ref().filter(|_| fact.present) else {
        let Some(field) = field else { return Ok(()) };
        sql.push(format!("ALTER TABLE {t} DROP COLUMN {c};"));
        if field.column.enum_labels.is_some() && field.column.type_is_public {
            sql.push(format!("DROP TYPE {};", ident(&field.column.type_name)));
        }
        let generator = mangle1(&fact.table, Some("pk"));
        let in_pk = table
            .pk
            .as_ref()
            .is_some_and(|pk| pk.columns.contains(&name));
        if in_pk && table.trigger(&generator).is_some() {
            sql.push(format!("DROP TRIGGER {} ON {t};", ident(&generator)));
            sql.push(format!("DROP FUNCTION {}();", ident(&generator)));
        }
        return drv.ddl(&sql);
    };
    let default_text = fact.default.as_ref().map(|d| d.text());
    let sql_type = type_name(&table.name, &name, ty);
    match field {
        None => {
            refuse_rename(&table, &fact.label, &fact.was)?;
            if let ColumnType::Enum(labels) = ty {
                let labels: Vec<String> = labels.iter().map(|l| sql_string(l)).collect();
                sql.push(format!(
                    "CREATE TYPE {} AS ENUM ({});",
                    ident(&sql_type),
                    labels.join(", ")
                ));
            }
            let mut add = format!("ALTER TABLE {t} ADD COLUMN {c} {}", ident(&sql_type));
            if fact.required {
                add.push_str(" NOT NULL");
            }
            if let Some(d) = &fact.default {
                add.push_str(&format!(" DEFAULT {}", d.sql()));
            }
            add.push(';');
            sql.push(add);
            if fact.unique {
                let uk = mangle(&[&fact.table, &fact.label], Some("uk"));
                sql.push(format!(
                    "ALTER TABLE {t} ADD CONSTRAINT {} UNIQUE ({c});",
                    ident(&uk)
                ));
            }
            let meta = field_meta(
                None,
                &fact.label,
                &name,
                fact.title.as_deref(),
                default_text,
            );
            if meta.dump().is_some() {
                sql.push(comment_sql(&format!("COLUMN {t}.{c}"), &meta));
            }
        }
        Some(field) => {
            let current = match &field.kind {
                FieldKind::Column(Some(current)) => current.clone(),
                _ => {
                    return Err(Error::with(
                        "Discovered column of unrecognized type:",
                        &fact.label,
                    ))
                }
            };
            if current != *ty {
                let old = if matches!(current, ColumnType::Enum(_)) {
                    field.column.type_name.clone()
                } else {
                    current.sql_name().unwrap_or_default().to_string()
                };
                return Err(Error::with(
                    format!("Cannot convert column of type {old} to {sql_type}:"),
                    &fact.label,
                ));
            }
            let old_meta = Meta::parse(field.column.comment.as_deref());
            if old_meta.get_str("default") != default_text.as_deref() {
                sql.push(match &fact.default {
                    Some(d) => format!("ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {};", d.sql()),
                    None => format!("ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT;"),
                });
            }
            let meta = field_meta(
                field.column.comment.as_deref(),
                &fact.label,
                &name,
                fact.title.as_deref(),
                default_text,
            );
            sync_field(
                &table,
                &fact.table,
                &name,
                &fact.label,
                fact.required,
                fact.unique,
                meta,
                None,
                &mut sql,
            );
        }
    }
    drv.ddl(&sql)
}

pub fn apply_link(drv: &mut Driver, fact: &LinkFact) -> Result<()> {
    let name = mangle1(&fact.label, Some("id"));
    let natural = link_label_of_column(&name);
    let table = if fact.present {
        require_table(drv, &fact.table)?
    } else {
        match drv.table(&mangle1(&fact.table, None))? {
            Some(t) => t,
            None => return Ok(()),
        }
    };
    let t = ident(&table.name);
    let c = ident(&name);
    let field = table.field(&fact.label);
    if field.as_ref().is_some_and(|f| !f.is_link()) {
        return Err(Error::with(
            "Discovered column with the same name:",
            &fact.label,
        ));
    }
    if !fact.present {
        return match field {
            Some(_) => drv.ddl(&[format!("ALTER TABLE {t} DROP COLUMN {c};")]),
            None => Ok(()),
        };
    }
    let target = require_table(drv, &fact.target)?;
    if target.name == table.name && fact.required {
        return Err(Error::with(
            "Detected self-referential mandatory link:",
            &fact.label,
        ));
    }
    let default_id = match &fact.default {
        Some(literal) => Some(super::data::link_default(drv, &fact.target, literal)?),
        None => None,
    };
    let fk = mangle(&[&fact.table, &fact.label], Some("fk"));
    let mut sql = vec![];
    match field {
        None => {
            refuse_rename(&table, &fact.label, &fact.was)?;
            let mut add = format!("ALTER TABLE {t} ADD COLUMN {c} \"int4\"");
            if fact.required {
                add.push_str(" NOT NULL");
            }
            if let Some(id) = default_id {
                add.push_str(&format!(" DEFAULT {id}"));
            }
            add.push(';');
            sql.push(add);
            sql.push(format!(
                "ALTER TABLE {t} ADD CONSTRAINT {} FOREIGN KEY ({c}) REFERENCES {} (\"id\") ON DELETE SET DEFAULT;",
                ident(&fk),
                ident(&target.name)
            ));
            if fact.unique {
                let uk = mangle(&[&fact.table, &fact.label], Some("uk"));
                sql.push(format!(
                    "ALTER TABLE {t} ADD CONSTRAINT {} UNIQUE ({c});",
                    ident(&uk)
                ));
            } else {
                sql.push(format!("CREATE INDEX {} ON {t} ({c});", ident(&fk)));
            }
            let meta = field_meta(
                None,
                &fact.label,
                &natural,
                fact.title.as_deref(),
                fact.default.clone(),
            );
            if meta.dump().is_some() {
                sql.push(comment_sql(&format!("COLUMN {t}.{c}"), &meta));
            }
        }
        Some(field) => {
            if !matches!(&field.kind, FieldKind::Link(x) if *x == target.name) {
                return Err(Error::with(
                    "Discovered link with mismatched target:",
                    &fact.label,
                ));
            }
            let old_meta = Meta::parse(field.column.comment.as_deref());
            if old_meta.get_str("default") != fact.default.as_deref() {
                sql.push(match default_id {
                    Some(id) => format!("ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {id};"),
                    None => format!("ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT;"),
                });
            }
            let meta = field_meta(
                field.column.comment.as_deref(),
                &fact.label,
                &natural,
                fact.title.as_deref(),
                fact.default.clone(),
            );
            sync_field(
                &table,
                &fact.table,
                &name,
                &fact.label,
                fact.required,
                fact.unique,
                meta,
                Some(&fk),
                &mut sql,
            );
        }
    }
    drv.ddl(&sql)
}

/// HTSQL prints expressions without blanks after commas and inside parentheses.
fn htsql_reprint(expression: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    let mut chars = expression.trim().chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '\'' {
            quoted = !quoted;
        }
        out.push(ch);
        if !quoted && matches!(ch, ',' | '(') {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        }
        if !quoted && chars.peek().is_some_and(|c| c.is_whitespace()) {
            let rest: String = chars.clone().collect();
            if rest.trim_start().starts_with(')') {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
            }
        }
    }
    out
}

pub fn apply_alias(drv: &mut Driver, fact: &AliasFact) -> Result<()> {
    let table = require_table(drv, &fact.table)?;
    let head = if fact.parameters.is_empty() {
        fact.name.clone()
    } else {
        let params: Vec<String> = fact.parameters.iter().map(|p| format!("${p}")).collect();
        format!("{}({})", fact.name, params.join(","))
    };
    let entry = format!("{head} := {}", htsql_reprint(&fact.expression));
    let old = table.meta();
    let mut aliases: Vec<String> = old
        .get_list("aliases")
        .map(|l| l.iter().flatten().cloned().collect())
        .unwrap_or_default();
    let signature = |a: &str| -> (String, usize) {
        let head = a.split(":=").next().unwrap_or("").trim();
        match head.split_once('(') {
            Some((n, p)) => (n.to_string(), p.split(',').count()),
            None => (head.to_string(), 0),
        }
    };
    let mine = signature(&entry);
    aliases.retain(|a| signature(a) != mine);
    aliases.push(entry);
    aliases.sort_by_key(|a| signature(a));
    let mut meta = old.clone();
    meta.set(
        "aliases",
        Some(MetaValue::List(aliases.into_iter().map(Some).collect())),
    );
    if meta == old {
        return Ok(());
    }
    let sql = comment_sql(&format!("TABLE {}", ident(&table.name)), &meta);
    drv.ddl(&[sql])
}
