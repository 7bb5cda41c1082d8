//! `harness purge CODE...`: drops marts (database and inventory record) by code.

use super::app::{fail, AppArgs};
use crate::core::{Error, Result};
use crate::mart::cluster::Cluster;
use crate::mart::{inventory, purge};
use clap::Args;

#[derive(Args, Debug)]
pub struct PurgeArgs {
    /// Inventory codes of the marts to purge.
    #[arg(required = true)]
    pub codes: Vec<i64>,
    #[command(flatten)]
    pub app: AppArgs,
}

/// Exit status: 0 all purged, 1 a purge failed, 2 unusable input (the application
/// could not be opened, or a code names no mart: then nothing is purged).
pub fn run(args: PurgeArgs) -> i32 {
    let setup = (|| -> Result<_> {
        let app = args.app.open()?;
        let mut db = app.db.connect()?;
        let mut marts = Vec::new();
        for code in &args.codes {
            match inventory::get(&mut db, *code)? {
                Some(m) => marts.push(m),
                None => {
                    return Err(Error::new(format!(
                        "No Mart exists with code/name \"{code}\""
                    )))
                }
            }
        }
        Ok((app, db, marts))
    })();
    let (app, mut db, marts) = match setup {
        Ok(ok) => ok,
        Err(e) => return fail("purge", &e),
    };
    let result = (|| -> Result<()> {
        let mut cluster = Cluster::connect(&app.hosting)?;
        for m in marts {
            println!(
                "Purging #{}: {} (owner={}, definition={})...",
                m.code, m.name, m.owner, m.definition
            );
            purge::purge_with(&app, &mut db, &mut cluster, m.code)?;
        }
        println!("Purge complete.");
        Ok(())
    })();
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("harness purge: error: {e}");
            1
        }
    }
}
