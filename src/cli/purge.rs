//! `harness purge CODE...`: drops marts (database and inventory record) by code.

use super::app::{fail, AppArgs};
use crate::core::Result;
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

/// Exit status: 0 all purged, 1 a code names no mart or a purge failed, 2 unusable
/// input (the application could not be opened).
pub fn run(args: PurgeArgs) -> i32 {
    let app = match args.app.open() {
        Ok(app) => app,
        Err(e) => return fail("purge", &e),
    };
    let result = (|| -> Result<i32> {
        let mut db = app.db.connect()?;
        let mut cluster = Cluster::connect(&app.hosting)?;
        let mut status = 0;
        for code in &args.codes {
            match inventory::get(&mut db, *code)? {
                Some(m) => {
                    println!(
                        "Purging #{}: {} (owner={}, definition={})...",
                        m.code, m.name, m.owner, m.definition
                    );
                    purge::purge_with(&app, &mut db, &mut cluster, m.code)?;
                }
                None => {
                    eprintln!("No Mart exists with code/name \"{code}\"");
                    status = 1;
                }
            }
        }
        println!("Purge complete.");
        Ok(status)
    })();
    result.unwrap_or_else(|e| {
        eprintln!("harness purge: error: {e}");
        1
    })
}
