//! `harness create DEFINITION --owner O [--param K=V]... [APP FLAGS]`: creates one
//! mart, printing each log line as it comes (timestamped like `rex mart-create`) and
//! the mart's database name at the end.

use super::app::{fail, AppArgs};
use crate::core::Result;
use crate::mart::{CreateOptions, MartCreator};
use clap::Args;

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// The definition id.
    pub definition: String,
    /// The mart's owner.
    #[arg(long)]
    pub owner: String,
    /// A creation parameter, `NAME=VALUE` (repeatable).
    #[arg(long = "param", value_name = "K=V")]
    pub params: Vec<String>,
    /// Keep the database and inventory record when creation fails.
    #[arg(long = "keep-on-failure")]
    pub keep_on_failure: bool,
    /// Leave the mart's status at `processing`.
    #[arg(long = "leave-incomplete")]
    pub leave_incomplete: bool,
    #[command(flatten)]
    pub app: AppArgs,
}

/// One log line as `rex mart-create` prints it (timestamped).
fn print_line(msg: &str) {
    print!("{}", super::ctl::stamped(msg));
}

/// Exit status: 0 created, 1 the creation failed (its log says why), 2 unusable
/// input (unknown application or definition, bad parameter, no server).
pub fn run(args: CreateArgs) -> i32 {
    let setup = (|| -> Result<_> {
        let params = crate::mart::params::parse_assignments(&args.params)?;
        let app = args.app.open()?;
        Ok((params, app))
    })();
    let (params, app) = match setup {
        Ok(ok) => ok,
        Err(e) => return fail("create", &e),
    };
    let creator = match MartCreator::new(&app, &args.owner, &args.definition) {
        Ok(c) => c,
        Err(e) => return fail("create", &e),
    };
    let options = CreateOptions {
        purge_on_failure: !args.keep_on_failure,
        leave_incomplete: args.leave_incomplete,
    };
    match creator.create(options, &params, &mut print_line) {
        Ok(mart) => {
            println!("{}", mart.name);
            0
        }
        Err(e) => {
            eprintln!("harness create: error: {e}");
            1
        }
    }
}
