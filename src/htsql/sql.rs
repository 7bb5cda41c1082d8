//! SQL generation and fetching: a bound [`Flow`] becomes one SELECT with LEFT JOINs for
//! every link path, bind parameters for every value (`CAST($n::text AS type)`), quoted
//! identifiers, and ORDER BY the table identity. Rows are decoded into [`Value`]s.

use super::bind::{identity_domain, identity_leaves, Expr, Field, Flow, Out, Path, Step};
use super::catalog::Catalog;
use super::value::{Domain, FieldMeta, Identity, Product, Record, Value};
use crate::core::Result;
use crate::pg::quote_ident;
use std::collections::HashMap;

/// SQL text with its parameters (all sent as text).
pub struct Sql {
    pub text: String,
    pub params: Vec<Option<String>>,
}

pub struct Gen<'a> {
    cat: &'a Catalog,
    params: Vec<Option<String>>,
    aliases: usize,
}

type Joins = HashMap<Path, String>;

/// The alias of the join reached by `path`. A path bound in another flow (possible
/// only through a leaked `define` reference) gets an alias PostgreSQL rejects,
/// which surfaces as a database error instead of a panic.
fn alias(joins: &Joins, path: &[Step]) -> String {
    joins
        .get(path)
        .cloned()
        .unwrap_or_else(|| "\"<unbound>\"".to_string())
}

/// A qualified, quoted table name.
pub fn table_sql(cat: &Catalog, t: usize) -> String {
    format!(
        "{}.{}",
        quote_ident(cat.schema.as_deref().unwrap_or("public")),
        quote_ident(&cat.tables[t].name)
    )
}

fn output_cast(d: &Domain) -> &'static str {
    match d {
        Domain::Boolean => "boolean",
        Domain::Integer => "int8",
        Domain::Float => "float8",
        Domain::Date => "date",
        Domain::Time => "time",
        Domain::DateTime => "timestamp",
        Domain::Json => "jsonb",
        _ => "text",
    }
}

impl<'a> Gen<'a> {
    pub fn new(cat: &'a Catalog) -> Gen<'a> {
        Gen {
            cat,
            params: Vec::new(),
            aliases: 0,
        }
    }

    fn alias(&mut self) -> String {
        self.aliases += 1;
        format!("\"t{}\"", self.aliases)
    }

    /// Adds a parameter; returns its SQL reference cast to `ty`.
    fn param(&mut self, v: Option<String>, ty: &str) -> String {
        self.params.push(v);
        let n = self.params.len();
        if ty == "text" {
            format!("${n}::text")
        } else {
            format!("CAST(${n}::text AS {ty})")
        }
    }

    fn collect_paths(e: &Expr, out: &mut Vec<Path>) {
        match e {
            Expr::Col(p, ..) | Expr::Present(p) => out.push(p.clone()),
            Expr::Tpl(_, args) => args.iter().for_each(|a| Self::collect_paths(a, out)),
            Expr::Count(flow) => {
                if let Some((p, _)) = &flow.correlate {
                    out.push(p.clone());
                }
            }
            Expr::Param(..) => {}
        }
    }

    fn expr(&mut self, e: &Expr, joins: &Joins) -> String {
        match e {
            Expr::Col(p, t, c) => format!(
                "{}.{}",
                alias(joins, p),
                quote_ident(&self.cat.tables[*t].columns[*c].name)
            ),
            Expr::Param(v, ty) => self.param(v.clone(), ty),
            Expr::Tpl(tpl, args) => {
                let mut out = String::new();
                let mut parts = tpl.split("{}");
                out.push_str(parts.next().unwrap_or(""));
                for (part, arg) in parts.zip(args) {
                    let a = self.expr(arg, joins);
                    out.push_str(&a);
                    out.push_str(part);
                }
                out
            }
            Expr::Count(flow) => {
                let (from, wh) = self.flow_sql(flow, Some(joins));
                format!("(SELECT COUNT(*) {from}{wh})")
            }
            Expr::Present(p) => {
                let col = match p.last() {
                    Some(Step::Direct(t, f)) => {
                        let fk = &self.cat.tables[*t].fks[*f];
                        &self.cat.tables[fk.target].columns[fk.target_columns[0]].name
                    }
                    Some(Step::Reverse(c, f)) => {
                        let fk = &self.cat.tables[*c].fks[*f];
                        &self.cat.tables[*c].columns[fk.columns[0]].name
                    }
                    None => return "TRUE".into(),
                };
                format!("({}.{} IS NOT NULL)", alias(joins, p), quote_ident(col))
            }
        }
    }

    /// `FROM ... LEFT OUTER JOIN ...` and ` WHERE ...` for a flow; `joins` gets filled.
    fn flow_sql_with(
        &mut self,
        flow: &Flow,
        outer: Option<&Joins>,
        extra: &[&Expr],
        joins: &mut Joins,
    ) -> (String, String) {
        let mut paths = Vec::new();
        for e in flow
            .filters
            .iter()
            .chain(flow.order.iter().map(|(e, _)| e))
            .chain(extra.iter().copied())
        {
            Self::collect_paths(e, &mut paths);
        }
        let Some(t) = flow.table else {
            joins.insert(Vec::new(), String::new());
            let mut conds = Vec::new();
            for f in &flow.filters {
                conds.push(self.expr(f, joins));
            }
            let wh = if conds.is_empty() {
                String::new()
            } else {
                format!(" WHERE {}", conds.join(" AND "))
            };
            return (String::new(), wh);
        };
        let base = self.alias();
        let mut from = format!("FROM {} AS {base}", table_sql(self.cat, t));
        joins.insert(Vec::new(), base);
        // Every prefix of every path, shortest first.
        let mut prefixes: Vec<Path> = Vec::new();
        for p in &paths {
            for i in 1..=p.len() {
                let pre = p[..i].to_vec();
                if !prefixes.contains(&pre) {
                    prefixes.push(pre);
                }
            }
        }
        prefixes.sort_by_key(|p| p.len());
        for p in prefixes {
            if joins.contains_key(&p) {
                continue;
            }
            let parent = alias(joins, &p[..p.len() - 1]);
            let a = self.alias();
            let (table, conds) = match p.last().expect("non-empty path") {
                Step::Direct(t, f) => {
                    let fk = &self.cat.tables[*t].fks[*f];
                    let conds: Vec<String> = fk
                        .columns
                        .iter()
                        .zip(&fk.target_columns)
                        .map(|(c, tc)| {
                            format!(
                                "{parent}.{} = {a}.{}",
                                quote_ident(&self.cat.tables[*t].columns[*c].name),
                                quote_ident(&self.cat.tables[fk.target].columns[*tc].name)
                            )
                        })
                        .collect();
                    (fk.target, conds)
                }
                Step::Reverse(c, f) => {
                    let fk = &self.cat.tables[*c].fks[*f];
                    let conds: Vec<String> = fk
                        .columns
                        .iter()
                        .zip(&fk.target_columns)
                        .map(|(cc, tc)| {
                            format!(
                                "{a}.{} = {parent}.{}",
                                quote_ident(&self.cat.tables[*c].columns[*cc].name),
                                quote_ident(&self.cat.tables[fk.target].columns[*tc].name)
                            )
                        })
                        .collect();
                    (*c, conds)
                }
            };
            from.push_str(&format!(
                " LEFT OUTER JOIN {} AS {a} ON ({})",
                table_sql(self.cat, table),
                conds.join(" AND ")
            ));
            joins.insert(p, a);
        }
        let mut conds = Vec::new();
        if let (Some((outer_path, f)), Some(outer)) = (&flow.correlate, outer) {
            let fk = &self.cat.tables[t].fks[*f];
            for (c, tc) in fk.columns.iter().zip(&fk.target_columns) {
                conds.push(format!(
                    "{}.{} = {}.{}",
                    alias(joins, &[]),
                    quote_ident(&self.cat.tables[t].columns[*c].name),
                    alias(outer, outer_path),
                    quote_ident(&self.cat.tables[fk.target].columns[*tc].name)
                ));
            }
        }
        for f in &flow.filters {
            conds.push(self.expr(f, joins));
        }
        let wh = if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        };
        (from, wh)
    }

    fn flow_sql(&mut self, flow: &Flow, outer: Option<&Joins>) -> (String, String) {
        let mut joins = Joins::new();
        self.flow_sql_with(flow, outer, &[], &mut joins)
    }
}

/// Output layout: how fields map onto SELECT columns.
enum Slot {
    Scalar(usize, Domain),
    Identity(Vec<usize>, Domain),
    Record(Option<usize>, Vec<(Option<String>, Slot)>, Option<String>),
}

fn layout(
    cat: &Catalog,
    fields: &[Field],
    exprs: &mut Vec<(Expr, Domain)>,
) -> Vec<(Option<String>, Slot)> {
    fields
        .iter()
        .map(|f| {
            let slot = match &f.out {
                Out::Scalar(e, d) => {
                    exprs.push((e.clone(), d.clone()));
                    Slot::Scalar(exprs.len() - 1, d.clone())
                }
                Out::Identity(path, t) => {
                    let mut idx = Vec::new();
                    for (p, lt, c) in identity_leaves(cat, *t) {
                        let mut full = path.clone();
                        full.extend(p);
                        exprs.push((
                            Expr::Col(full, lt, c),
                            cat.tables[lt].columns[c].domain.clone(),
                        ));
                        idx.push(exprs.len() - 1);
                    }
                    Slot::Identity(idx, identity_domain(cat, *t))
                }
                Out::MakeIdentity(leaves) => {
                    let mut idx = Vec::new();
                    for (e, d) in leaves {
                        exprs.push((e.clone(), d.clone()));
                        idx.push(exprs.len() - 1);
                    }
                    Slot::Identity(
                        idx,
                        Domain::Identity(leaves.iter().map(|(_, d)| d.clone()).collect()),
                    )
                }
                Out::Record(marker, inner, name) => {
                    let m = marker.as_ref().map(|p| {
                        exprs.push((Expr::Present(p.clone()), Domain::Boolean));
                        exprs.len() - 1
                    });
                    Slot::Record(m, layout(cat, inner, exprs), name.clone())
                }
            };
            (f.tag.clone(), slot)
        })
        .collect()
}

/// The domain of a field.
pub fn field_domain(cat: &Catalog, f: &Field) -> Domain {
    match &f.out {
        Out::Scalar(_, d) => d.clone(),
        Out::Identity(_, t) => identity_domain(cat, *t),
        Out::MakeIdentity(leaves) => {
            Domain::Identity(leaves.iter().map(|(_, d)| d.clone()).collect())
        }
        Out::Record(_, inner, _) => {
            Domain::Record(inner.iter().map(|f| field_domain(cat, f)).collect())
        }
    }
}

fn decode_cell(row: &postgres::Row, i: usize, d: &Domain) -> Result<Value> {
    Ok(match d {
        Domain::Boolean => row.try_get::<_, Option<bool>>(i)?.map(Value::Bool),
        Domain::Integer => row.try_get::<_, Option<i64>>(i)?.map(Value::Int),
        Domain::Float => row.try_get::<_, Option<f64>>(i)?.map(Value::Float),
        Domain::Decimal => row.try_get::<_, Option<String>>(i)?.map(Value::Decimal),
        Domain::Date => row
            .try_get::<_, Option<chrono::NaiveDate>>(i)?
            .map(Value::Date),
        Domain::Time => row
            .try_get::<_, Option<chrono::NaiveTime>>(i)?
            .map(Value::Time),
        Domain::DateTime => row
            .try_get::<_, Option<chrono::NaiveDateTime>>(i)?
            .map(Value::DateTime),
        Domain::Json => row
            .try_get::<_, Option<serde_json::Value>>(i)?
            .map(Value::Json),
        _ => row.try_get::<_, Option<String>>(i)?.map(Value::Text),
    }
    .unwrap_or(Value::Null))
}

/// Builds an identity value from flat leaves following the domain's nesting.
pub fn build_identity(leaves: &mut impl Iterator<Item = Value>, d: &Domain) -> Value {
    let Domain::Identity(parts) = d else {
        return leaves.next().unwrap_or(Value::Null);
    };
    let mut out = Vec::new();
    for p in parts {
        let v = match p {
            Domain::Identity(_) => build_identity(leaves, p),
            _ => leaves.next().unwrap_or(Value::Null),
        };
        out.push(v);
    }
    if out.iter().any(Value::is_null) {
        return Value::Null;
    }
    Value::Identity(Identity(out))
}

fn decode(
    row: &postgres::Row,
    slots: &[(Option<String>, Slot)],
    name: Option<String>,
) -> Result<Value> {
    let mut fields = Vec::new();
    for (tag, slot) in slots {
        let v = match slot {
            Slot::Scalar(i, d) => decode_cell(row, *i, d)?,
            Slot::Identity(idx, d) => {
                let flat = leaf_domains(d);
                let mut leaves = Vec::new();
                for (i, ld) in idx.iter().zip(flat.iter()) {
                    leaves.push(decode_cell(row, *i, ld)?);
                }
                build_identity(&mut leaves.into_iter(), d)
            }
            Slot::Record(marker, inner, rname) => {
                let present = match marker {
                    Some(i) => row.try_get::<_, Option<bool>>(*i)?.unwrap_or(false),
                    None => true,
                };
                if present {
                    decode(row, inner, rname.clone())?
                } else {
                    Value::Null
                }
            }
        };
        fields.push((tag.clone().unwrap_or_default(), v));
    }
    Ok(Value::Record(Record { name, fields }))
}

/// The leaf domains of an identity domain, flattened.
pub fn leaf_domains(d: &Domain) -> Vec<Domain> {
    match d {
        Domain::Identity(parts) => parts.iter().flat_map(leaf_domains).collect(),
        other => vec![other.clone()],
    }
}

/// Compiles a segment flow to SQL; returns the SQL and the output layout.
fn compile(cat: &Catalog, flow: &Flow) -> (Sql, Vec<(Option<String>, Slot)>) {
    let fields = flow.fields.clone().unwrap_or_default();
    let mut exprs = Vec::new();
    let slots = layout(cat, &fields, &mut exprs);
    let mut order: Vec<(Expr, bool)> = flow.order.clone();
    match (&flow.group, flow.table) {
        (Some(group), _) => order = group.iter().map(|e| (e.clone(), false)).collect(),
        (None, Some(t)) => {
            for (p, lt, c) in identity_leaves(cat, t) {
                order.push((Expr::Col(p, lt, c), false));
            }
        }
        (None, None) => {}
    }
    let mut g = Gen::new(cat);
    let mut joins = Joins::new();
    let extra: Vec<&Expr> = exprs
        .iter()
        .map(|(e, _)| e)
        .chain(order.iter().map(|(e, _)| e))
        .collect();
    let (from, wh) = g.flow_sql_with(flow, None, &extra, &mut joins);
    let mut cols = Vec::new();
    for (e, d) in &exprs {
        let s = g.expr(e, &joins);
        cols.push(format!("CAST({s} AS {})", output_cast(d)));
    }
    if cols.is_empty() {
        cols.push("TRUE".into());
    }
    let mut text = format!("SELECT {}", cols.join(", "));
    if !from.is_empty() {
        text.push(' ');
        text.push_str(&from);
    }
    text.push_str(&wh);
    if let Some(group) = &flow.group {
        let keys: Vec<String> = group.iter().map(|e| g.expr(e, &joins)).collect();
        text.push_str(&format!(" GROUP BY {}", keys.join(", ")));
    }
    if flow.table.is_some() && !order.is_empty() {
        let mut items = Vec::new();
        for (e, desc) in &order {
            let s = g.expr(e, &joins);
            // HTSQL sorts NULL as the smallest value; a NOT NULL column keeps the
            // plain form so PostgreSQL can walk the key's index.
            let not_null = matches!(e, Expr::Col(p, t, c) if p.is_empty() && cat.tables[*t].columns[*c].not_null);
            let dir = match (*desc, not_null) {
                (false, true) => "ASC",
                (true, true) => "DESC",
                (false, false) => "ASC NULLS FIRST",
                (true, false) => "DESC NULLS LAST",
            };
            items.push(format!("{s} {dir}"));
        }
        text.push_str(&format!(" ORDER BY {}", items.join(", ")));
    }
    if let Some(n) = flow.limit {
        let limit = g.param(Some(n.to_string()), "int8");
        text.push_str(&format!(" LIMIT {limit}"));
    }
    (
        Sql {
            text,
            params: g.params,
        },
        slots,
    )
}

/// Runs a bound segment and builds its product.
pub fn fetch(
    client: &mut impl postgres::GenericClient,
    cat: &Catalog,
    flow: &Flow,
) -> Result<Product> {
    let (sql, slots) = compile(cat, flow);
    let params: Vec<&(dyn postgres::types::ToSql + Sync)> = sql
        .params
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect();
    let rows = client
        .query(sql.text.as_str(), &params)
        .map_err(super::dberror::translate_fetch)?;
    let fields = flow.fields.clone().unwrap_or_default();
    let metas = field_metas(cat, flow);
    let record = Domain::Record(metas.iter().map(|m| m.domain.clone()).collect());
    let mut data = Vec::with_capacity(rows.len());
    for row in &rows {
        data.push(decode(row, &slots, flow.tag.clone())?);
    }
    let scalar_root = flow.scalar && fields.len() == 1;
    let (domain, data) = if scalar_root {
        let v = match data.into_iter().next() {
            Some(Value::Record(r)) => r
                .fields
                .into_iter()
                .next()
                .map(|(_, v)| v)
                .unwrap_or(Value::Null),
            _ => Value::Null,
        };
        (metas[0].domain.clone(), v)
    } else if flow.singular {
        (record, data.into_iter().next().unwrap_or(Value::Null))
    } else {
        (Domain::List(Box::new(record)), Value::List(data))
    };
    Ok(Product {
        tag: flow.tag.clone(),
        domain,
        fields: metas,
        data,
    })
}

/// Metadata of a segment's output fields.
pub fn field_metas(cat: &Catalog, flow: &Flow) -> Vec<FieldMeta> {
    flow.fields
        .iter()
        .flatten()
        .map(|f| FieldMeta {
            tag: f.tag.clone(),
            header: f.header.clone(),
            domain: field_domain(cat, f),
        })
        .collect()
}

/// Whether a segment yields a list of records (what streaming consumers take).
pub fn is_plural_records(flow: &Flow) -> bool {
    !flow.scalar && !flow.singular
}

/// The product of a segment without its rows: what a write command needs to plan
/// before rows arrive, and what `analyze()` reports.
pub fn header(cat: &Catalog, flow: &Flow) -> Product {
    let metas = field_metas(cat, flow);
    let record = Domain::Record(metas.iter().map(|m| m.domain.clone()).collect());
    let (domain, data) = if flow.scalar && metas.len() == 1 {
        (metas[0].domain.clone(), Value::Null)
    } else if flow.singular {
        (record, Value::Null)
    } else {
        (Domain::List(Box::new(record)), Value::List(Vec::new()))
    };
    Product {
        tag: flow.tag.clone(),
        domain,
        fields: metas,
        data,
    }
}

/// Runs a plural segment, handing decoded records to `each` in batches as they
/// arrive (no full result in memory); `each` returns false to stop early.
pub fn fetch_batches(
    client: &mut impl postgres::GenericClient,
    cat: &Catalog,
    flow: &Flow,
    each: &mut dyn FnMut(Vec<Value>) -> bool,
) -> Result<()> {
    use postgres::fallible_iterator::FallibleIterator;
    const BATCH: usize = 4096;
    let (sql, slots) = compile(cat, flow);
    let params = sql.params.iter().map(|p| p as &dyn postgres::types::ToSql);
    let mut rows = client
        .query_raw(sql.text.as_str(), params)
        .map_err(super::dberror::translate_fetch)?;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(row) = rows.next().map_err(super::dberror::translate_fetch)? {
        batch.push(decode(&row, &slots, flow.tag.clone())?);
        if batch.len() == BATCH && !each(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))) {
            return Ok(());
        }
    }
    if !batch.is_empty() {
        each(batch);
    }
    Ok(())
}
