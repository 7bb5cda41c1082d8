//! rex.db's HTSQL, the subset rex.mart, rex.job and the demo ETL scripts use
//! (reference/htsql.md). Pipeline: split → decode + scan → parse → bind against a
//! cached pg_catalog view → one SELECT with bind parameters → rows → [`Product`];
//! write commands (`:insert`, `:update`, `:merge`, `:delete`) consume a feed product,
//! and `/:rexdb` evaluates its feed on the application database.

mod bind;
mod catalog;
mod cmd;
mod dberror;
mod error;
mod literal;
mod scan;
mod split;
mod sql;
mod syntax;
mod value;

pub use catalog::{invalidate_all_catalogs, invalidate_catalog, normalize};
pub use split::split_statements;
pub use value::{Domain, FieldMeta, Identity, Product, Record, Value};

use crate::core::Result;
use std::rc::Rc;
use syntax::{CallStyle, Kind, Syn};

/// Runs one HTSQL statement (query or command) against `client`'s database.
pub fn produce(client: &mut postgres::Client, text: &str, params: &[(&str, Value)]) -> Result<Product> {
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

/// Parses a statement without running it (syntax errors only); for validation.
pub fn check_syntax(text: &str) -> Result<()> {
    let decoded: Rc<str> = scan::decode(text)?.into();
    syntax::parse(&decoded).map(|_| ())
}

fn run_statement(
    main: &mut postgres::Client,
    rexdb: Option<&mut postgres::Client>,
    text: &str,
    params: &[(&str, Value)],
) -> Result<Product> {
    let decoded: Rc<str> = scan::decode(text)?.into();
    let syn = syntax::parse(&decoded)?;
    let mut runner = Runner {
        main,
        rexdb,
        params,
    };
    runner.eval(&syn, false)
}

struct Runner<'a, 'p> {
    main: &'a mut postgres::Client,
    rexdb: Option<&'a mut postgres::Client>,
    params: &'p [(&'p str, Value)],
}

impl Runner<'_, '_> {
    fn client(&mut self, on_rexdb: bool) -> &mut postgres::Client {
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

    fn eval(&mut self, syn: &Syn, on_rexdb: bool) -> Result<Product> {
        if let Some((name, feed, mark)) = self.command(syn) {
            if name == "rexdb" && self.rexdb.is_some() {
                return self.eval(feed, true);
            }
            if let Some(c) = cmd::Command::from_name(&name) {
                let product = self.eval(feed, on_rexdb)?;
                let client = self.client(on_rexdb);
                let cat = catalog::catalog(client)?;
                return cmd::run(client, &cat, c, product)
                    .map_err(|e| error::with_mark(e, "While processing", mark));
            }
        }
        let params = self.params;
        let client = self.client(on_rexdb);
        let cat = catalog::catalog(client)?;
        let mut binder = bind::Binder::new(&cat, params);
        let flow = binder.bind_segment(syn)?;
        sql::fetch(client, &cat, &flow)
    }
}
