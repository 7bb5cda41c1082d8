//! `harness create DEFINITION --owner O [--param K=V]... [--app NAME]`: creates one
//! mart, printing each log line as it comes (timestamped like `rex mart-create`) and
//! the mart's database name at the end.

use crate::core::app::App;
use crate::core::Result;
use crate::mart::{CreateOptions, MartCreator};
use clap::Args;
use std::path::PathBuf;

/// Which application and servers a mart command works on.
#[derive(Args, Debug, Clone)]
pub struct AppArgs {
    /// The application (a directory under `definitions/`, or a path).
    #[arg(long = "app", default_value = "rex.mart_demo")]
    pub app: String,
    /// More directories to look for applications in.
    #[arg(long = "apps")]
    pub apps: Vec<PathBuf>,
    /// The PostgreSQL server of the application database (default: `$HARNESS_PG_URL`).
    #[arg(long = "pg-url")]
    pub pg_url: Option<String>,
    /// The server marts are created on (default: `mart_hosting_cluster` when it is a
    /// `postgresql://` URL, else the application's server).
    #[arg(long = "hosting-url")]
    pub hosting_url: Option<String>,
}

impl AppArgs {
    /// Opens the application these arguments name.
    pub(crate) fn open(&self) -> Result<App> {
        crate::mart::open::open_app(
            &self.app,
            &self.apps,
            self.pg_url.as_deref(),
            self.hosting_url.as_deref(),
        )
    }
}

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

/// One log line as `rex mart-create` prints it: `str(datetime.now())`, a space, the
/// message; continuation lines indented to match.
fn print_line(msg: &str) {
    let stamp = format!(
        "{:<26}",
        crate::mart::inventory::py_datetime(&crate::mart::inventory::now())
    );
    for (i, line) in msg.split('\n').enumerate() {
        if i == 0 {
            println!("{stamp} {line}");
        } else {
            println!("{:27}{line}", "");
        }
    }
}

pub fn run(args: CreateArgs) -> i32 {
    let result = (|| {
        let params = crate::mart::params::parse_assignments(&args.params)?;
        let app = args.app.open()?;
        let creator = MartCreator::new(&app, &args.owner, &args.definition)?;
        let options = CreateOptions {
            purge_on_failure: !args.keep_on_failure,
            leave_incomplete: args.leave_incomplete,
        };
        creator.create(options, &params, &mut print_line)
    })();
    match result {
        Ok(mart) => {
            println!("{}", mart.name);
            0
        }
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}
