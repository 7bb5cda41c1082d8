//! `harness create DEFINITION --owner O [--param K=V]... [APP FLAGS]`: creates one
//! mart, printing each log line as it comes (timestamped like `rex mart-create`) and
//! the mart's database name at the end. The application's rules apply: its quota
//! (refusal, reaping) and its processors, written in Python.

use super::app::{fail, AppArgs};
use super::worker::on_signals;
use crate::core::app::App;
use crate::core::yaml::Node;
use crate::core::Result;
use crate::mart::rules::{with_rules, MartRules};
use crate::mart::{CreateOptions, MartCreator};
use clap::Args;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

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
    // The application's quota and processors (its Python code) for the whole
    // creation, definitions included: they may name its processors.
    let rules = crate::bindings::app_rules::ScriptRules;
    match with_rules(&rules, &app, |rules| {
        Ok(create(&args, &app, &params, rules))
    }) {
        Ok(status) => status,
        Err(e) => fail("create", &e),
    }
}

/// The creation itself, under the application's rules; the exit status.
fn create(args: &CreateArgs, app: &App, params: &[(String, Node)], rules: &mut MartRules) -> i32 {
    // Unusable input (unknown definition, bad, missing or mistyped parameters) is
    // refused before anything is created.
    let creator = match MartCreator::new(app, &args.owner, &args.definition)
        .and_then(|c| c.validate_parameters(params).map(|_| c))
    {
        Ok(c) => c,
        Err(e) => return fail("create", &e),
    };
    // What earlier creations stopped half-way left (see `mart::sweep`).
    sweep_and_say("create", app);
    let options = CreateOptions {
        purge_on_failure: !args.keep_on_failure,
        leave_incomplete: args.leave_incomplete,
    };
    // SIGINT/SIGTERM (Ctrl-C): end this process's sessions, so that the creation
    // fails where it stands and purges its mart (unless --keep-on-failure); a
    // second signal quits at once (the next command sweeps).
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let interrupted = interrupted.clone();
        let servers = app_servers(app);
        on_signals(move |n| {
            if n > 1 {
                eprintln!("harness create: stopped at once");
                std::process::exit(1);
            }
            eprintln!("harness create: interrupted; stopping the creation (again to quit at once)");
            interrupted.store(true, Ordering::SeqCst);
            for server in &servers {
                let _ = server.end_own_sessions(Duration::from_secs(5));
            }
        });
    }
    match creator.create_with(options, params, &mut print_line, rules.quota) {
        // (Also when complete before an interruption took effect.)
        Ok(mart) => {
            println!("{}", mart.name);
            0
        }
        Err(_) if interrupted.load(Ordering::SeqCst) => {
            sweep_and_say("create", app);
            eprintln!("harness create: error: Mart creation interrupted");
            1
        }
        Err(e) => {
            eprintln!("harness create: error: {e}");
            1
        }
    }
}

/// Sweeps `app`'s inventory, saying on stderr what went (a failed sweep is said too,
/// and does not stop the command).
pub fn sweep_and_say(command: &str, app: &App) {
    match crate::mart::sweep::sweep(app) {
        Ok(swept) => {
            for s in swept {
                eprintln!("harness {command}: {}", s.message());
            }
        }
        Err(e) => eprintln!("harness {command}: sweep failed: {e}"),
    }
}

/// The servers `app` works on: its database's, and the hosting cluster when that is
/// another one.
pub fn app_servers(app: &App) -> Vec<crate::pg::Server> {
    let mut servers = vec![app.db.server.clone()];
    if !crate::mart::cluster::hosts_management_db(app) {
        servers.push(app.hosting.clone());
    }
    servers
}
