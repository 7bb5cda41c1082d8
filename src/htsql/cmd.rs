//! The write commands of `tweak.etl` (htsql.md §5.3–5.6): `:insert`, `:update`,
//! `:merge`, `:delete`. Each takes the feed's [`Product`], maps tagged fields onto
//! columns and links of the target table, adapts values to column types and writes
//! inside one transaction. Inserts go in batches (`unnest` of text arrays) and fall
//! back to row-by-row only to report which record failed.

use super::bind::{identity_leaves, Expr, Field, Flow, Out};
use super::catalog::{normalize, Attr, Catalog};
use super::dberror::translate_write;
use super::error::{error, push};
use super::literal;
use super::sql::{build_identity, fetch, leaf_domains, table_sql};
use super::value::{Domain, Identity, Product, Record, Value};
use crate::core::{Error, Result};
use crate::pg::quote_ident;
use std::collections::HashMap;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Insert,
    Update,
    Merge,
    Delete,
}

impl Command {
    pub fn from_name(name: &str) -> Option<Command> {
        match normalize(name).as_str() {
            "insert" => Some(Command::Insert),
            "update" => Some(Command::Update),
            "merge" => Some(Command::Merge),
            "delete" => Some(Command::Delete),
            _ => None,
        }
    }
    fn verbs(self) -> (&'static str, &'static str) {
        match self {
            Command::Insert => ("While inserting record", "While inserting a record"),
            Command::Update => ("While updating record", "While updating a record"),
            Command::Merge => ("While merging record", "While merging a record"),
            Command::Delete => ("While deleting record", "While deleting a record"),
        }
    }
}

/// Where a feed field goes: a column, or a link (FK #) whose identity is resolved.
#[derive(Clone)]
enum Target {
    Column(usize),
    Link(usize),
}

struct Mapping {
    field: usize,
    label: String,
    target: Target,
    domain: Domain,
}

fn quote_value(v: &Value) -> String {
    match v {
        Value::Identity(id) => id.to_string(),
        other => format!(
            "'{}'",
            other.literal().unwrap_or_default().replace('\'', "''")
        ),
    }
}

/// Runs a write command on `client`'s database with the feed `product`.
pub fn run(
    client: &mut impl postgres::GenericClient,
    cat: &Catalog,
    cmd: Command,
    product: Product,
) -> Result<Product> {
    let Product {
        tag,
        domain,
        fields,
        data,
    } = product;
    let (records, single) = match (&domain, data) {
        (Domain::List(item), Value::List(rows)) if matches!(**item, Domain::Record(_)) => {
            (rows, false)
        }
        (Domain::Record(_), Value::Record(r)) => (vec![Value::Record(r)], true),
        (Domain::Record(_), Value::Null) => (vec![], true),
        (d, _) => {
            return Err(error(
                &format!("Expected a record or a list of records; got {d}"),
                None,
            ))
        }
    };
    let header = Product {
        tag,
        domain,
        fields,
        data: Value::Null,
    };
    run_stream(
        client,
        cat,
        cmd,
        header,
        single,
        &mut std::iter::once(Ok(records)),
    )
}

/// Runs a write command whose feed rows arrive in batches (`header` carries the
/// feed's tag and field metadata). A batch may be an error (the feed failed): then
/// nothing is committed.
pub fn run_stream(
    client: &mut impl postgres::GenericClient,
    cat: &Catalog,
    cmd: Command,
    product: Product,
    single: bool,
    batches: &mut dyn Iterator<Item = Result<Vec<Value>>>,
) -> Result<Product> {
    let tag = product
        .tag
        .clone()
        .ok_or_else(|| error("Missing table name", None))?;
    let t = match cat.home.get(&normalize(&tag)) {
        Some(Some(t)) => *t,
        _ => return Err(error("Got unknown table", Some(&tag))),
    };
    let table = &cat.tables[t];
    let needs_identity = matches!(cmd, Command::Update | Command::Delete);
    let skip = usize::from(needs_identity);
    if needs_identity {
        let Some(first) = product.fields.first() else {
            return Err(error("Expected the first field to be an identity", None));
        };
        let want = super::bind::identity_domain(cat, t);
        if first.domain != want {
            return Err(error(
                &format!(
                    "Expected the first field to be the table identity; got {}",
                    first.domain
                ),
                None,
            ));
        }
    }
    let mut maps: Vec<Mapping> = Vec::new();
    for (i, meta) in product.fields.iter().enumerate().skip(skip) {
        let Some(ftag) = &meta.tag else { continue };
        if ftag.is_empty() {
            continue;
        }
        let key = normalize(ftag);
        let target = match table.labels.get(&key) {
            Some(Some(Attr::Column(c))) => Target::Column(*c),
            Some(Some(Attr::Direct(f))) => Target::Link(*f),
            _ => return Err(error("Expected a column or a link name", Some(ftag))),
        };
        let same = |a: &Target, b: &Target| match (a, b) {
            (Target::Column(x), Target::Column(y)) | (Target::Link(x), Target::Link(y)) => x == y,
            _ => false,
        };
        if maps.iter().any(|m| same(&m.target, &target)) {
            return Err(error("Got duplicate field", Some(ftag)));
        }
        check_type(cat, t, &target, &key, &meta.domain)?;
        maps.push(Mapping {
            field: i,
            label: key,
            target,
            domain: meta.domain.clone(),
        });
    }
    let mut tx = client.transaction()?;
    let mut w = Writer {
        cat,
        t,
        links: HashMap::new(),
    };
    let (many, one) = cmd.verbs();
    let wrap = |e: Error, n: usize, rec: &Value| -> Error {
        let dump = rec.as_record().map(Record::dump).unwrap_or_default();
        if single {
            push(e, one, Some(&dump))
        } else {
            push(e, &format!("{many} #{}", n + 1), Some(&dump))
        }
    };
    let mut results: Vec<Value> = Vec::new();
    match cmd {
        Command::Insert => {
            let cols = insert_columns(&maps, cat, t);
            let mut records: Vec<Value> = Vec::new();
            let mut rows: Vec<Vec<(usize, Option<String>)>> = Vec::new();
            if let Some(ids) = w.copy_stream(
                &mut tx,
                &cols,
                &maps,
                batches,
                &mut records,
                &mut rows,
                &wrap,
            )? {
                results = ids;
            } else {
                for batch in &mut *batches {
                    records.extend(batch?);
                }
                for (n, rec) in records.iter().enumerate().skip(rows.len()) {
                    let row = w
                        .columns(&mut tx, &maps, rec)
                        .map_err(|e| wrap(e, n, rec))?;
                    rows.push(row);
                }
                let mut done = 0;
                for chunk in rows.chunks(5000) {
                    let keys = w.insert_chunk(&mut tx, &cols, chunk).or_else(|_| {
                        // Find the failing record, with its own error text.
                        let mut keys = Vec::new();
                        for (k, row) in chunk.iter().enumerate() {
                            let n = done + k;
                            keys.extend(
                                w.insert_chunk(&mut tx, &cols, std::slice::from_ref(row))
                                    .map_err(|e| wrap(e, n, &records[n]))?,
                            );
                        }
                        Ok::<_, Error>(keys)
                    })?;
                    for (k, key) in keys.into_iter().enumerate() {
                        let n = done + k;
                        let id = w
                            .identity(&mut tx, &key)
                            .map_err(|e| wrap(e, n, &records[n]))?;
                        results.push(id);
                    }
                    done += chunk.len();
                }
            }
        }
        Command::Update | Command::Delete | Command::Merge => {
            let mut records: Vec<Value> = Vec::new();
            for batch in &mut *batches {
                records.extend(batch?);
            }
            for (n, rec) in records.iter().enumerate() {
                let r = w
                    .one(&mut tx, cmd, &maps, rec)
                    .map_err(|e| wrap(e, n, rec))?;
                if let Some(v) = r {
                    results.push(v);
                }
            }
        }
    }
    tx.commit()?;
    let id_domain = super::bind::identity_domain(cat, t);
    if cmd == Command::Delete {
        return Ok(Product {
            tag: None,
            domain: Domain::Void,
            fields: vec![],
            data: Value::Null,
        });
    }
    Ok(if single {
        Product {
            tag: None,
            domain: id_domain,
            fields: vec![],
            data: results.into_iter().next().unwrap_or(Value::Null),
        }
    } else {
        Product {
            tag: None,
            domain: Domain::List(Box::new(id_domain)),
            fields: vec![],
            data: Value::List(results),
        }
    })
}

/// Type clarification rules (htsql.md §5.3 step 4), checked once per field.
fn check_type(cat: &Catalog, t: usize, target: &Target, label: &str, got: &Domain) -> Result<()> {
    let expected = match target {
        Target::Column(c) => cat.tables[t].columns[*c].domain.clone(),
        Target::Link(f) => super::bind::identity_domain(cat, cat.tables[t].fks[*f].target),
    };
    let ok = match (got, &expected) {
        (a, b) if a == b => true,
        (Domain::Untyped, _) => true,
        (Domain::Text | Domain::Enum(..), Domain::Enum(..)) => true,
        (Domain::Integer, Domain::Decimal | Domain::Float) => true,
        (Domain::Decimal, Domain::Float) => true,
        (Domain::Date, Domain::DateTime) => true,
        (Domain::Text, Domain::Json) => true,
        (Domain::Identity(a), Domain::Identity(_)) => {
            leaf_domains(got).len() == leaf_domains(&expected).len() || a.is_empty()
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(error(
            &format!("Invalid type for column {label}: expected {expected}; got {got}"),
            None,
        ))
    }
}

/// The column list of an INSERT, in table column order.
fn insert_columns(maps: &[Mapping], cat: &Catalog, t: usize) -> Vec<usize> {
    let mut cols: Vec<usize> = maps
        .iter()
        .flat_map(|m| match m.target {
            Target::Column(c) => vec![c],
            Target::Link(f) => cat.tables[t].fks[f].columns.clone(),
        })
        .collect();
    cols.sort_unstable();
    cols
}

struct Writer<'a> {
    cat: &'a Catalog,
    t: usize,
    links: HashMap<(usize, String), Vec<Option<String>>>,
}

/// A one-table flow filtered by `column = value` pairs, selecting `out`.
fn lookup_flow(
    t: usize,
    conds: Vec<(super::bind::Path, usize, usize, Option<String>, String)>,
    out: Vec<Field>,
) -> Flow {
    Flow {
        table: Some(t),
        filters: conds
            .into_iter()
            .map(|(p, lt, c, v, ty)| {
                Expr::Tpl("({} = {})", vec![Expr::Col(p, lt, c), Expr::Param(v, ty)])
            })
            .collect(),
        order: vec![],
        limit: None,
        correlate: None,
        fields: Some(out),
        tag: None,
        singular: false,
        scalar: false,
        group: None,
    }
}

/// Output fields selecting columns of `t` as text.
fn text_fields(t: usize, cols: &[usize]) -> Vec<Field> {
    cols.iter()
        .map(|c| Field {
            tag: None,
            header: String::new(),
            out: Out::Scalar(Expr::Col(vec![], t, *c), Domain::Text),
        })
        .collect()
}

fn texts(v: &Value) -> Vec<Option<String>> {
    match v {
        Value::Record(r) => r.fields.iter().map(|(_, v)| v.literal()).collect(),
        _ => vec![],
    }
}

impl<'a> Writer<'a> {
    /// Column values (text) of a record: `(column index, value)`.
    fn columns(
        &mut self,
        tx: &mut impl postgres::GenericClient,
        maps: &[Mapping],
        rec: &Value,
    ) -> Result<Vec<(usize, Option<String>)>> {
        let Some(rec) = rec.as_record() else {
            return Ok(vec![]);
        };
        let mut out = Vec::new();
        for m in maps {
            let v = rec.at(m.field).cloned().unwrap_or(Value::Null);
            match m.target {
                Target::Column(c) => {
                    let col = &self.cat.tables[self.t].columns[c];
                    out.push((c, adapt(&v, &m.domain, &col.domain, &m.label)?));
                }
                Target::Link(f) => {
                    let fk = &self.cat.tables[self.t].fks[f];
                    let ids = match &v {
                        Value::Null => vec![None; fk.columns.len()],
                        v => self.resolve_link(tx, f, v)?,
                    };
                    out.extend(fk.columns.iter().copied().zip(ids));
                }
            }
        }
        out.sort_by_key(|(c, _)| *c);
        Ok(out)
    }

    fn resolve_link(
        &mut self,
        tx: &mut impl postgres::GenericClient,
        f: usize,
        v: &Value,
    ) -> Result<Vec<Option<String>>> {
        let key = (f, quote_value(v));
        if let Some(ids) = self.links.get(&key) {
            return Ok(ids.clone());
        }
        let fk = self.cat.tables[self.t].fks[f].clone();
        let target = fk.target;
        let leaves = identity_leaves(self.cat, target);
        let values = flat_leaves(v);
        let missing = || {
            error(
                "Unable to resolve a link",
                Some(&format!("{}[{}]", self.cat.tables[target].name, key.1)),
            )
        };
        if values.len() != leaves.len() {
            return Err(missing());
        }
        let mut conds = Vec::new();
        for ((p, lt, c), val) in leaves.into_iter().zip(values) {
            let d = self.cat.tables[lt].columns[c].domain.clone();
            let text = adapt(
                &val,
                &Domain::Untyped,
                &d,
                &self.cat.tables[lt].columns[c].name,
            )?;
            conds.push((p, lt, c, text, literal::sql_type(&d)));
        }
        let flow = lookup_flow(target, conds, text_fields(target, &fk.target_columns));
        let p = fetch(tx, self.cat, &flow)?;
        let ids = match p.rows().first() {
            Some(r) => texts(r),
            None => return Err(missing()),
        };
        self.links.insert(key, ids.clone());
        Ok(ids)
    }

    /// Fast path for plain inserts: one `COPY ... FROM STDIN` fed while the feed's
    /// batches arrive, identities taken from the input. Only when every identity
    /// column is given (non-null), the identity is made of plain columns, there are
    /// no links to resolve and no user trigger can rewrite rows. Returns `None` when
    /// not eligible or when the COPY failed; `records`/`rows` then hold what was
    /// consumed so far and the caller inserts in batches, reporting the failing record
    /// with its own error.
    #[allow(clippy::too_many_arguments)]
    fn copy_stream(
        &self,
        tx: &mut impl postgres::GenericClient,
        cols: &[usize],
        maps: &[Mapping],
        batches: &mut dyn Iterator<Item = Result<Vec<Value>>>,
        records: &mut Vec<Value>,
        rows: &mut Vec<Vec<(usize, Option<String>)>>,
        wrap: &dyn Fn(Error, usize, &Value) -> Error,
    ) -> Result<Option<Vec<Value>>> {
        let table = &self.cat.tables[self.t];
        let leaves = identity_leaves(self.cat, self.t);
        let Some(key) = table.key() else {
            return Ok(None);
        };
        let positions: Option<Vec<usize>> = leaves
            .iter()
            .map(|(p, _, c)| {
                if p.is_empty() {
                    cols.iter().position(|x| x == c)
                } else {
                    None
                }
            })
            .collect();
        let Some(positions) = positions else {
            return Ok(None);
        };
        let plain =
            leaves.len() == key.len() && leaves.iter().zip(&key).all(|((_, _, c), k)| c == k);
        let links = maps.iter().any(|m| matches!(m.target, Target::Link(_)));
        if table.has_triggers || !plain || links || cols.is_empty() {
            return Ok(None);
        }
        let names: Vec<String> = cols
            .iter()
            .map(|c| quote_ident(&table.columns[*c].name))
            .collect();
        let sql = format!(
            "COPY {} ({}) FROM STDIN",
            table_sql(self.cat, self.t),
            names.join(", ")
        );
        let mut sp = tx.transaction()?;
        let completed = {
            use std::io::Write;
            let mut writer = sp.copy_in(sql.as_str())?;
            let mut buf = String::with_capacity(1 << 17);
            let mut ok = true;
            'feed: for batch in &mut *batches {
                for rec in batch? {
                    let n = records.len();
                    let row = plain_columns(self.cat, self.t, maps, &rec)
                        .map_err(|e| wrap(e, n, &rec))?;
                    records.push(rec);
                    let complete = positions.iter().all(|&i| row[i].1.is_some());
                    for (i, (_, v)) in row.iter().enumerate() {
                        if i > 0 {
                            buf.push('\t');
                        }
                        copy_escape(&mut buf, v.as_deref());
                    }
                    buf.push('\n');
                    rows.push(row);
                    if !complete {
                        ok = false;
                        break 'feed;
                    }
                    if buf.len() >= 1 << 16 {
                        if writer.write_all(buf.as_bytes()).is_err() {
                            ok = false;
                            break 'feed;
                        }
                        buf.clear();
                    }
                }
            }
            ok = ok && writer.write_all(buf.as_bytes()).is_ok();
            // Dropping an unfinished writer aborts the COPY.
            ok && writer.finish().is_ok()
        };
        if !completed {
            return Ok(None);
        }
        sp.commit()?;
        let id_domain = super::bind::identity_domain(self.cat, self.t);
        let leaf_doms = leaf_domains(&id_domain);
        let ids = rows
            .iter()
            .map(|r| {
                let mut vals = positions.iter().zip(&leaf_doms).map(|(&i, d)| {
                    let text = r[i].1.clone().unwrap_or_default();
                    literal::parse(d, &text).unwrap_or(Value::Text(text))
                });
                build_identity(&mut vals, &id_domain)
            })
            .collect();
        Ok(Some(ids))
    }

    fn insert_chunk(
        &self,
        tx: &mut impl postgres::GenericClient,
        cols: &[usize],
        rows: &[Vec<(usize, Option<String>)>],
    ) -> Result<Vec<Vec<Option<String>>>> {
        let table = &self.cat.tables[self.t];
        let key = table
            .key()
            .ok_or_else(|| error("Table does not have a primary key", None))?;
        let returning: Vec<String> = key
            .iter()
            .map(|c| format!("CAST({} AS text)", quote_ident(&table.columns[*c].name)))
            .collect();
        let mut sp = tx.transaction()?;
        let mut out = Vec::with_capacity(rows.len());
        if cols.is_empty() {
            let sql = format!(
                "INSERT INTO {} DEFAULT VALUES RETURNING {}",
                table_sql(self.cat, self.t),
                returning.join(", ")
            );
            for _ in rows {
                let r = sp
                    .query(sql.as_str(), &[])
                    .map_err(|e| translate_write(self.cat, self.t, e))?;
                out.extend(r.iter().map(|row| {
                    (0..key.len())
                        .map(|i| row.get(i))
                        .collect::<Vec<Option<String>>>()
                }));
            }
        } else {
            let names: Vec<String> = cols
                .iter()
                .map(|c| quote_ident(&table.columns[*c].name))
                .collect();
            let casts: Vec<String> = (0..cols.len())
                .map(|i| format!("CAST(u.v{i} AS {})", table.columns[cols[i]].sql_type))
                .collect();
            let arrays: Vec<String> = (0..cols.len())
                .map(|i| format!("${}::text[]", i + 1))
                .collect();
            let aliases: Vec<String> = (0..cols.len()).map(|i| format!("v{i}")).collect();
            let sql = format!(
                "INSERT INTO {} ({}) SELECT {} FROM unnest({}) WITH ORDINALITY AS u({}, n) ORDER BY u.n RETURNING {}",
                table_sql(self.cat, self.t),
                names.join(", "),
                casts.join(", "),
                arrays.join(", "),
                aliases.join(", "),
                returning.join(", ")
            );
            let columns: Vec<Vec<Option<String>>> = (0..cols.len())
                .map(|i| rows.iter().map(|r| r[i].1.clone()).collect())
                .collect();
            let params: Vec<&(dyn postgres::types::ToSql + Sync)> = columns
                .iter()
                .map(|c| c as &(dyn postgres::types::ToSql + Sync))
                .collect();
            let r = sp
                .query(sql.as_str(), &params)
                .map_err(|e| translate_write(self.cat, self.t, e))?;
            for row in &r {
                out.push((0..key.len()).map(|i| row.get(i)).collect());
            }
            if r.len() != rows.len() {
                return Err(error("Failed to insert a record", None));
            }
        }
        sp.commit()?;
        Ok(out)
    }

    /// The identity of the row with key values `key` (text).
    fn identity(
        &self,
        tx: &mut impl postgres::GenericClient,
        key: &[Option<String>],
    ) -> Result<Value> {
        let table = &self.cat.tables[self.t];
        let key_cols = table.key().unwrap_or_default();
        let leaves = identity_leaves(self.cat, self.t);
        let plain = leaves.len() == key_cols.len()
            && leaves
                .iter()
                .zip(&key_cols)
                .all(|((p, _, c), k)| p.is_empty() && c == k);
        let id_domain = super::bind::identity_domain(self.cat, self.t);
        if plain {
            let mut vals = Vec::new();
            for (text, (_, lt, c)) in key.iter().zip(&leaves) {
                let d = &self.cat.tables[*lt].columns[*c].domain;
                vals.push(match text {
                    Some(s) => literal::parse(d, s).unwrap_or(Value::Text(s.clone())),
                    None => Value::Null,
                });
            }
            return Ok(build_identity(&mut vals.into_iter(), &id_domain));
        }
        let conds = key_cols
            .iter()
            .zip(key)
            .map(|(c, v)| {
                (
                    vec![],
                    self.t,
                    *c,
                    v.clone(),
                    table.columns[*c].sql_type.clone(),
                )
            })
            .collect();
        let out = vec![Field {
            tag: None,
            header: String::new(),
            out: Out::Identity(vec![], self.t),
        }];
        let p = fetch(tx, self.cat, &lookup_flow(self.t, conds, out))?;
        match p
            .rows()
            .first()
            .and_then(|r| r.as_record())
            .and_then(|r| r.at(0))
        {
            Some(v) => Ok(v.clone()),
            None => Err(error("Unable to locate the inserted record", None)),
        }
    }

    /// Key values of the row with this identity value, if any.
    fn locate(
        &self,
        tx: &mut impl postgres::GenericClient,
        id: &Value,
    ) -> Result<Option<Vec<Option<String>>>> {
        let leaves = identity_leaves(self.cat, self.t);
        let values = flat_leaves(id);
        if values.len() != leaves.len() {
            return Ok(None);
        }
        let mut conds = Vec::new();
        for ((p, lt, c), val) in leaves.into_iter().zip(values) {
            let col = &self.cat.tables[lt].columns[c];
            let text = adapt(&val, &Domain::Untyped, &col.domain, &col.name)?;
            conds.push((p, lt, c, text, literal::sql_type(&col.domain)));
        }
        let key = self.cat.tables[self.t].key().unwrap_or_default();
        let p = fetch(
            tx,
            self.cat,
            &lookup_flow(self.t, conds, text_fields(self.t, &key)),
        )?;
        Ok(p.rows().first().map(texts))
    }

    fn one(
        &mut self,
        tx: &mut impl postgres::GenericClient,
        cmd: Command,
        maps: &[Mapping],
        rec: &Value,
    ) -> Result<Option<Value>> {
        let table = &self.cat.tables[self.t];
        let key_cols = table
            .key()
            .ok_or_else(|| error("Table does not have a primary key", None))?;
        let cols = self.columns(tx, maps, rec)?;
        let existing = match cmd {
            Command::Update | Command::Delete => {
                let id = rec
                    .as_record()
                    .and_then(|r| r.at(0))
                    .cloned()
                    .unwrap_or(Value::Null);
                match self.locate(tx, &id)? {
                    Some(k) => Some(k),
                    None => {
                        return Err(error(
                            "Unable to find an entity",
                            Some(&format!(
                                "{}[{}]",
                                table.name,
                                quote_value(&id).trim_matches('\'')
                            )),
                        ))
                    }
                }
            }
            _ => {
                // :merge: the identity columns must all be given.
                let pk = table.primary_key.clone().unwrap_or_default();
                let mut conds = Vec::new();
                for c in &pk {
                    match cols.iter().find(|(x, _)| x == c) {
                        Some((_, v)) => conds.push((
                            vec![],
                            self.t,
                            *c,
                            v.clone(),
                            table.columns[*c].sql_type.clone(),
                        )),
                        None => {
                            let name = &table.columns[*c].name;
                            let label = name
                                .strip_suffix("_id")
                                .unwrap_or(name)
                                .trim_end_matches('_');
                            return Err(error(&format!("Missing identity field {label}"), None));
                        }
                    }
                }
                let p = fetch(
                    tx,
                    self.cat,
                    &lookup_flow(self.t, conds, text_fields(self.t, &key_cols)),
                )?;
                p.rows().first().map(texts)
            }
        };
        let Some(key) = existing else {
            let all: Vec<usize> = cols.iter().map(|(c, _)| *c).collect();
            let keys = self.insert_chunk(tx, &all, &[cols])?;
            return self.identity(tx, &keys[0]).map(Some);
        };
        let mut params: Vec<Option<String>> = Vec::new();
        let mut where_ = Vec::new();
        for (c, v) in key_cols.iter().zip(&key) {
            params.push(v.clone());
            where_.push(format!(
                "{} = CAST(${}::text AS {})",
                quote_ident(&table.columns[*c].name),
                params.len(),
                table.columns[*c].sql_type
            ));
        }
        let bind = |params: &Vec<Option<String>>| -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
            params
                .iter()
                .map(|p| Box::new(p.clone()) as Box<dyn postgres::types::ToSql + Sync>)
                .collect()
        };
        if cmd == Command::Delete {
            let sql = format!(
                "DELETE FROM {} WHERE {}",
                table_sql(self.cat, self.t),
                where_.join(" AND ")
            );
            let boxed = bind(&params);
            let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                boxed.iter().map(|b| b.as_ref()).collect();
            tx.execute(sql.as_str(), &refs)
                .map_err(|e| translate_write(self.cat, self.t, e))?;
            return Ok(None);
        }
        let mut key = key;
        if !cols.is_empty() {
            let mut sets = Vec::new();
            for (c, v) in &cols {
                params.push(v.clone());
                sets.push(format!(
                    "{} = CAST(${}::text AS {})",
                    quote_ident(&table.columns[*c].name),
                    params.len(),
                    table.columns[*c].sql_type
                ));
            }
            let returning: Vec<String> = key_cols
                .iter()
                .map(|c| format!("CAST({} AS text)", quote_ident(&table.columns[*c].name)))
                .collect();
            let sql = format!(
                "UPDATE {} SET {} WHERE {} RETURNING {}",
                table_sql(self.cat, self.t),
                sets.join(", "),
                where_.join(" AND "),
                returning.join(", ")
            );
            let boxed = bind(&params);
            let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                boxed.iter().map(|b| b.as_ref()).collect();
            let rows = tx
                .query(sql.as_str(), &refs)
                .map_err(|e| translate_write(self.cat, self.t, e))?;
            if let Some(row) = rows.first() {
                key = (0..key_cols.len()).map(|i| row.get(i)).collect();
            }
        }
        self.identity(tx, &key).map(Some)
    }
}

/// Column values (text) of a record whose fields are all columns (no links).
fn plain_columns(
    cat: &Catalog,
    t: usize,
    maps: &[Mapping],
    rec: &Value,
) -> Result<Vec<(usize, Option<String>)>> {
    let Some(rec) = rec.as_record() else {
        return Ok(vec![]);
    };
    let mut out = Vec::with_capacity(maps.len());
    for m in maps {
        if let Target::Column(c) = m.target {
            let col = &cat.tables[t].columns[c];
            let v = rec.at(m.field).unwrap_or(&Value::Null);
            out.push((c, adapt(v, &m.domain, &col.domain, &m.label)?));
        }
    }
    out.sort_by_key(|(c, _)| *c);
    Ok(out)
}

/// Appends a value in COPY's text format (`\N` for NULL, escapes for `\`, tab, CR, LF).
fn copy_escape(buf: &mut String, v: Option<&str>) {
    let Some(v) = v else {
        buf.push_str("\\N");
        return;
    };
    for c in v.chars() {
        match c {
            '\\' => buf.push_str("\\\\"),
            '\t' => buf.push_str("\\t"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            c => buf.push(c),
        }
    }
}

/// The leaves of an identity value (or a plain value as one leaf).
fn flat_leaves(v: &Value) -> Vec<Value> {
    match v {
        Value::Identity(Identity(parts)) => parts.iter().flat_map(flat_leaves).collect(),
        other => vec![other.clone()],
    }
}

/// Adapts a feed value to a column's domain, as text for a bind parameter.
fn adapt(v: &Value, from: &Domain, to: &Domain, label: &str) -> Result<Option<String>> {
    if v.is_null() {
        return Ok(None);
    }
    let needs_parse = matches!(
        (from, to),
        (Domain::Untyped, _) | (_, Domain::Enum(..)) | (Domain::Text, Domain::Json)
    );
    if !needs_parse {
        return Ok(literal::sql_text(v));
    }
    let text = match v {
        Value::Text(s) => s.clone(),
        other => other.literal().unwrap_or_default(),
    };
    match literal::parse(to, &text) {
        Ok(parsed) => Ok(literal::sql_text(&parsed)),
        Err(_) => Err(error(
            &format!("Failed to adapt value of {label} to {to}"),
            Some(&format!("'{}'", text.replace('\'', "''"))),
        )),
    }
}
