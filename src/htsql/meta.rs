//! `meta(/...)`: HTSQL's `tweak.meta` addon, as far as rex.mart's users query it. The
//! inner query runs against a small meta database describing the real one: `table`
//! (`name`) and `column` (`table`, `name`, `domain`, `is_mandatory`), linked. They are
//! temporary tables of the session, filled from the catalog, bound like any schema
//! and dropped afterwards, so the query runs on the server with every HTSQL feature.

use super::catalog::{catalog, Catalog};
use super::syntax::{CallStyle, Kind, Syn};
use super::{bind, normalize, sql, Product, Value};
use crate::core::Result;

/// The argument of a `meta(...)` call at the top of a statement (`/meta(...)` or
/// `meta(...)`), if the statement is one.
pub fn meta_argument(syn: &Syn) -> Option<&Syn> {
    let call = match &syn.kind {
        Kind::Collect(Some(inner)) => inner,
        _ => syn,
    };
    match &call.kind {
        Kind::Apply {
            name, args, style, ..
        } if *style == CallStyle::Function && args.len() == 1 && normalize(name) == "meta" => {
            Some(&args[0])
        }
        _ => None,
    }
}

const DROP: &str = "DROP TABLE IF EXISTS pg_temp.\"column\", pg_temp.\"table\"";

/// Runs `inner` against the meta database of `client`'s database.
pub fn produce_meta(
    client: &mut impl postgres::GenericClient,
    inner: &Syn,
    params: &[(&str, Value)],
    analyze: bool,
) -> Result<Product> {
    let real = catalog(client)?;
    client.batch_execute(DROP)?;
    let result = fill(client, &real).and_then(|schema| {
        let meta = Catalog::load_schema(client, &schema)?;
        let flow = bind::Binder::new(&meta, params).bind_segment(inner)?;
        if analyze {
            return Ok(sql::header(&meta, &flow));
        }
        sql::fetch(client, &meta, &flow)
    });
    let dropped = client.batch_execute(DROP);
    let product = result?;
    dropped?;
    Ok(product)
}

/// Creates and fills the meta tables; returns the session's temporary schema.
fn fill(client: &mut impl postgres::GenericClient, real: &Catalog) -> Result<String> {
    client.batch_execute(
        "CREATE TEMP TABLE \"table\" (name text PRIMARY KEY); \
         CREATE TEMP TABLE \"column\" (\
             \"table\" text NOT NULL REFERENCES pg_temp.\"table\", \
             name text NOT NULL, domain text NOT NULL, is_mandatory boolean NOT NULL, \
             PRIMARY KEY (\"table\", name))",
    )?;
    let tables: Vec<&str> = real.tables.iter().map(|t| t.name.as_str()).collect();
    let mut c_table = Vec::new();
    let mut c_name = Vec::new();
    let mut c_domain = Vec::new();
    let mut c_mandatory = Vec::new();
    for t in &real.tables {
        for c in &t.columns {
            c_table.push(t.name.as_str());
            c_name.push(c.name.as_str());
            c_domain.push(c.domain.to_string());
            c_mandatory.push(c.not_null);
        }
    }
    client.execute(
        "INSERT INTO pg_temp.\"table\" SELECT unnest($1::text[])",
        &[&tables],
    )?;
    client.execute(
        "INSERT INTO pg_temp.\"column\" \
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[])",
        &[&c_table, &c_name, &c_domain, &c_mandatory],
    )?;
    let row = client.query_one(
        "SELECT nspname::text FROM pg_catalog.pg_namespace WHERE oid = pg_my_temp_schema()",
        &[],
    )?;
    Ok(row.get(0))
}
