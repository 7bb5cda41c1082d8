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
    // The app keeps the server alive (an embedded cluster stops with its last user).
    let result = args.app.open().and_then(|app| {
        // What creations stopped half-way left is not listed: it is swept.
        super::create::sweep_and_say("marts", &app);
        let mut db = app.db.connect()?;
        inventory::list(&mut db, args.owner.as_deref())
    });
    match result {
        Ok(marts) => {
            print!("{}", inventory::table(&marts));
            0
        }
        Err(e) => fail("marts", &e),
    }
}
