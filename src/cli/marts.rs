//! `harness marts [--owner O]`: the application's marts as a table.

use super::app::{fail, AppArgs};
use crate::mart::inventory;
use clap::Args;

#[derive(Args, Debug)]
pub struct MartsArgs {
    /// Only this owner's marts.
    #[arg(long)]
    pub owner: Option<String>,
    #[command(flatten)]
    pub app: AppArgs,
}

pub fn run(args: MartsArgs) -> i32 {
    let result = args
        .app
        .open()
        .and_then(|app| app.db.connect())
        .and_then(|mut db| inventory::list(&mut db, args.owner.as_deref()));
    match result {
        Ok(marts) => {
            print!("{}", inventory::table(&marts));
            0
        }
        Err(e) => fail("marts", &e),
    }
}
