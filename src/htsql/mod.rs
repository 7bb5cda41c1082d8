//! rex.db's HTSQL, the subset rex.mart, rex.job and the demo ETL scripts use
//! (docs/htsql.md lists it). Pipeline: split → decode + scan → parse → bind against a
//! cached pg_catalog view → one SELECT with bind parameters → rows → [`Product`];
//! write commands (`:insert`, `:update`, `:merge`, `:delete`) consume a feed product,
//! and `/:rexdb` evaluates its feed on the application database.
//!
//! `feed /:rexdb /:insert` streams: a reader thread fetches batches from the
//! application database while the mart side writes them with `COPY ... FROM STDIN`
//! (identities taken from the input when they are plain key columns), falling back to
//! batched `INSERT ... SELECT FROM unnest(...) RETURNING` and then row by row to name
//! the failing record. Values never enter SQL text: every value is a text bind
//! parameter cast to its type, every identifier is quoted.
//!
//! Not implemented (unused by rex.mart, rex.job and the demo; htsql.md §9.3):
//! nested plural segments in selectors (`/link{...}` inside `{...}`), projection `^`
//! beyond a top-level `flow ^ kernel` selecting the kernel and `count(^)`,
//! attachment `@`/`->`, formats, `:sql`/`:copy`/`:clone`/`:do`, the "Valid types"
//! list under operator type errors, choices under "Found ambiguous name".

pub mod describe;
pub mod render;

mod bind;
mod catalog;
mod cmd;
mod dberror;
mod error;
mod literal;
mod meta;
mod scan;
mod split;
mod sql;
mod syntax;
mod value;

pub use catalog::{invalidate_all_catalogs, invalidate_catalog, normalize};
pub use split::split_statements;
pub use value::{Domain, FieldMeta, Identity, Product, Record, Value};

use crate::core::Result;
use postgres::GenericClient;
use std::rc::Rc;
use syntax::{CallStyle, Kind, Syn};

/// Runs one HTSQL statement (query or command) against `client`'s database. On a
/// transaction (a job's or a task's unit of work, [`crate::core::work_tx`]) a write
/// command runs in a savepoint of it and commits with it.
pub fn produce<C: GenericClient + Send>(
    client: &mut C,
    text: &str,
    params: &[(&str, Value)],
) -> Result<Product> {
    run_statement(client, None, text, params)
}

/// Runs one ETL statement in a mart: `/:rexdb` feeds are read from `rexdb` (the
/// application database), everything else runs on `mart`.
pub fn produce_etl(
    mart: &mut postgres::Client,
    rexdb: &mut postgres::Client,
    text: &str,
    params: &[(&str, Value)],
) -> Result<Product> {
    run_statement(mart, Some(rexdb), text, params)
}

/// Binds a statement without running it (rex.db's `analyze()`, used for selector
/// metadata): the product's tag, field metadata and domain, with no rows. Write
/// commands are not run (their feed is analyzed); `/:rexdb` feeds bind against
/// `rexdb` when given.
pub fn analyze(
    client: &mut postgres::Client,
    rexdb: Option<&mut postgres::Client>,
    text: &str,
    params: &[(&str, Value)],
) -> Result<Product> {
    let decoded: Rc<str> = scan::decode(text)?.into();
    let syn = syntax::parse(&decoded)?;
    let mut runner = Runner {
        main: client,
        rexdb,
        params,
        analyze: true,
    };
    runner.eval(&syn, false)
}

/// A table's title and its columns' names and titles.
pub type Titles = (Option<String>, Vec<(String, Option<String>)>);

/// The titles rex.deploy gave table `table` and its columns (`title:` in their meta
/// comments), from the cached catalog; `None` for an unknown table.
pub fn titles(client: &mut postgres::Client, table: &str) -> Result<Option<Titles>> {
    let cat = catalog::catalog(client)?;
    Ok(cat.tables.iter().find(|t| t.name == table).map(|t| {
        let columns = t.columns.iter();
        let columns = columns.map(|c| (c.name.clone(), c.title.clone())).collect();
        (t.title.clone(), columns)
    }))
}

/// Parses a statement without running it (syntax errors only); for validation.
pub fn check_syntax(text: &str) -> Result<()> {
    let decoded: Rc<str> = scan::decode(text)?.into();
    syntax::parse(&decoded).map(|_| ())
}

fn run_statement<C: GenericClient + Send>(
    main: &mut C,
    rexdb: Option<&mut C>,
    text: &str,
    params: &[(&str, Value)],
) -> Result<Product> {
    let decoded: Rc<str> = scan::decode(text)?.into();
    let syn = syntax::parse(&decoded)?;
    let mut runner = Runner {
        main,
        rexdb,
        params,
        analyze: false,
    };
    runner.eval(&syn, false)
}

struct Runner<'a, 'p, C> {
    main: &'a mut C,
    rexdb: Option<&'a mut C>,
    params: &'p [(&'p str, Value)],
    /// Bind only: no SQL runs.
    analyze: bool,
}

impl<C: GenericClient + Send> Runner<'_, '_, C> {
    fn client(&mut self, on_rexdb: bool) -> &mut C {
        match (&mut self.rexdb, on_rexdb) {
            (Some(r), true) => r,
            _ => self.main,
        }
    }

    /// A command call: `feed /:cmd` or `/cmd(feed)`.
    fn command<'s>(&self, syn: &'s Syn) -> Option<(String, &'s Syn, &'s error::Mark)> {
        let call = match &syn.kind {
            Kind::Collect(Some(inner)) => inner,
            _ => syn,
        };
        match &call.kind {
            Kind::Apply {
                name,
                name_mark,
                args,
                style,
            } if args.len() == 1 => {
                let piped = *style == CallStyle::Pipe && std::ptr::eq(call, syn);
                let called = *style == CallStyle::Function && !std::ptr::eq(call, syn);
                (piped || called).then(|| (normalize(name), &args[0], name_mark))
            }
            _ => None,
        }
    }

    /// `feed /:rexdb /:insert` with a plain segment as feed: rows stream from the
    /// application database (a reader thread) straight into the mart's insert, so
    /// both servers work at once. `None` when the statement has another shape.
    fn stream_insert(&mut self, feed: &Syn) -> Result<Option<Result<Product>>> {
        let Some((name, inner, _)) = self.command(feed) else {
            return Ok(None);
        };
        if name != "rexdb" || self.command(inner).is_some() {
            return Ok(None);
        }
        let params = self.params;
        let Some(rexdb) = self.rexdb.as_deref_mut() else {
            return Ok(None);
        };
        let rcat = catalog::catalog(rexdb)?;
        let flow = bind::Binder::new(&rcat, params).bind_segment(inner)?;
        if !sql::is_plural_records(&flow) {
            return Ok(None);
        }
        let header = sql::header(&rcat, &flow);
        let main = &mut *self.main;
        let mcat = catalog::catalog(main)?;
        let result = std::thread::scope(|s| {
            let (send, receive) = std::sync::mpsc::sync_channel::<Result<Vec<Value>>>(4);
            let (rcat, flow) = (&rcat, &flow);
            s.spawn(move || {
                let r = sql::fetch_batches(rexdb, rcat, flow, &mut |batch| {
                    send.send(Ok(batch)).is_ok()
                });
                if let Err(e) = r {
                    let _ = send.send(Err(e));
                }
            });
            let mut batches = receive.into_iter();
            cmd::run_stream(
                main,
                &mcat,
                cmd::Command::Insert,
                header,
                false,
                &mut batches,
            )
        });
        Ok(Some(result))
    }

    fn eval(&mut self, syn: &Syn, on_rexdb: bool) -> Result<Product> {
        if let Some(inner) = meta::meta_argument(syn) {
            let (params, analyze) = (self.params, self.analyze);
            return meta::produce_meta(self.client(on_rexdb), inner, params, analyze);
        }
        if let Some((name, feed, mark)) = self.command(syn) {
            if name == "rexdb" && self.rexdb.is_some() {
                return self.eval(feed, true);
            }
            if cmd::Command::from_name(&name).is_some() && self.analyze {
                return self.eval(feed, on_rexdb);
            }
            if let Some(c) = cmd::Command::from_name(&name) {
                if c == cmd::Command::Insert {
                    if let Some(product) = self.stream_insert(feed)? {
                        return product.map_err(|e| error::with_mark(e, "While processing", mark));
                    }
                }
                let product = self.eval(feed, on_rexdb)?;
                let client = self.client(on_rexdb);
                let cat = catalog::catalog(client)?;
                return cmd::run(client, &cat, c, product)
                    .map_err(|e| error::with_mark(e, "While processing", mark));
            }
        }
        let (params, analyze) = (self.params, self.analyze);
        let client = self.client(on_rexdb);
        let cat = catalog::catalog(client)?;
        let mut binder = bind::Binder::new(&cat, params);
        let flow = binder.bind_segment(syn)?;
        if analyze {
            return Ok(sql::header(&cat, &flow));
        }
        sql::fetch(client, &cat, &flow)
    }
}
