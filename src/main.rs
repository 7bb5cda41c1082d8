//! The `harness` command line. Parsing and dispatch only; each subcommand lives in
//! `cli/`.

use clap::{Parser, Subcommand};

/// RexDB's mart creation system re-implemented in Rust, with a doctest transcript
/// runner that replays RexDB's transcripts against a real PostgreSQL.
#[derive(Parser)]
#[command(
    name = "harness",
    version,
    long_about = "RexDB's mart creation system re-implemented in Rust, with a\n\
doctest transcript runner that replays RexDB's transcripts against a real PostgreSQL.\n\n\
`run` replays transcripts; the application commands (worker, submit, jobs, task,\n\
create, marts, purge) work on one application (--app, default rex.mart_demo) and\n\
its database, deployed on first use; `pg up` keeps a throwaway server for you.\n\
Without --pg-url, $HARNESS_PG_URL or $DATABASE_URL, a command starts its own\n\
throwaway PostgreSQL and removes it when it ends.",
    after_help = "Example:\n  harness run transcripts/async.txt\n\nExample, a mart by hand:\n  harness pg up                      # prints URL; in another shell:\n  harness create empty --owner me --pg-url URL\n  harness marts --pg-url URL\n\nExit status: 0 success, 1 a failure (failed example, failed mart creation),\n2 unusable input (bad command line, unknown application, bad URL...)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// What `--app`, `--pg-url` and friends mean, shown under every application command.
macro_rules! app_flags {
    () => {
        "The application is --app NAME (default rex.mart_demo), found under --apps DIR,\n\
$HARNESS_APPS or definitions/. Its database is on --pg-url URL (default\n\
$HARNESS_PG_URL, then $DATABASE_URL): the URL's database unless it is `postgres`,\n\
else the app's `db` setting; it is created and deployed if missing. With no URL,\n\
a throwaway embedded PostgreSQL lives as long as the command (--backend)."
    };
}

#[derive(Subcommand)]
enum Command {
    /// Replay doctest transcripts and check their output as CPython's doctest does.
    #[command(
        after_help = "Example:\n  harness run -o ELLIPSIS --diff transcripts/async.txt\n  harness run --junit report.xml transcripts/\n\nExit status: 0 all examples passed, 1 an example failed, 2 a transcript or the\ncommand line could not be used (the message says file:line), 130 interrupted."
    )]
    Run(harness::cli::run::RunArgs),
    /// Run the job queuer, job executors and async task workers until stopped.
    #[command(
        long_about = "Run the job queuer, job executors and async task workers of an application\n\
until SIGTERM/SIGINT. Any number of workers may share one database: a job whose\n\
worker stops sending heartbeats is failed (or re-queued) by another, which also\n\
purges what a dead worker's unfinished marts left. A server that goes away is\n\
waited for (reconnecting with backoff) unless --give-up-after says how long.",
        after_help = concat!("Example:\n  harness worker --app rex.mart_demo --pg-url postgresql://postgres@localhost/postgres --concurrency 4\n\n", app_flags!(), "\n\nExit status: 0 stopped cleanly, 1 jobs were given up, the runner failed or the server\nstayed out of reach past --give-up-after, 2 unusable input.")
    )]
    Worker(harness::cli::worker::WorkerArgs),
    /// Submit a job and print its code.
    #[command(
        long_about = "Submit a job (status `new`) to the application's job table and print its code;\na running `harness worker` picks it up.",
        after_help = concat!("Example:\n  harness submit rexmart_create '{\"owner\": \"alice\", \"definition\": \"empty\"}' --app rex.mart_demo\n\n", app_flags!(), "\n\nExit status: 0 submitted, 2 unusable input (bad payload, unknown job type).")
    )]
    Submit(harness::cli::submit::SubmitArgs),
    /// List jobs as a table.
    #[command(
        long_about = "List the application's jobs as a table, oldest first (the newest --limit),\nor show one job in full.",
        after_help = concat!("Examples:\n  harness jobs --status failed --app rex.mart_demo\n  harness jobs 3 --app rex.mart_demo    # job #3 in full: title, payload, detail, facets\n\n", app_flags!(), "\n\nExit status: 0 listed, 2 unusable input.")
    )]
    Jobs(harness::cli::jobs::JobsArgs),
    /// Put a payload on an async task queue.
    #[command(
        long_about = "Put a payload on one of the application's async task queues (its\nasynctask_transport; the application database when none is set).",
        after_help = concat!("Example:\n  harness task rexmart_create '{\"owner\": \"alice\", \"definition\": \"empty\"}' --app rex.mart_demo \\\n      --set 'asynctask_workers={\"rexmart_create\": \"rexmart_create\"}'\n\nA queue must have a worker in the asynctask_workers setting (as above, given to\nthe `harness worker` that serves it too), or be a job_queues queue.\n\n", app_flags!(), "\n\nExit status: 0 queued, 2 unusable input (bad payload, no worker for the queue).")
    )]
    Task(harness::cli::task::TaskArgs),
    /// Create one mart, printing its log as it goes and its database name at the end.
    #[command(
        long_about = "Create one mart of a definition of the application's mart.yaml, printing its\nlog as it goes (timestamped like `rex mart-create`) and its database name at\nthe end.",
        after_help = concat!("Examples:\n  harness create empty --owner me\n  harness create some_data --owner alice --pg-url postgresql://postgres@localhost:5432/postgres\n\n--param NAME=VALUE gives a value to one of the definition's `parameters` (those of\nrex.mart_demo have none); a parameter it does not declare is refused.\n\n", app_flags!(), "\n\nExit status: 0 created, 1 the creation failed, 2 unusable input (unknown\napplication or definition, bad parameter or flag).")
    )]
    Create(harness::cli::create::CreateArgs),
    /// List marts as a table.
    #[command(
        long_about = "List the application's marts (its inventory) as a table.",
        after_help = concat!("Examples:\n  harness marts --owner alice\n  harness marts --pg-url postgresql://postgres@localhost:5432/postgres\n\n", app_flags!(), "\n\nExit status: 0 listed, 2 unusable input.")
    )]
    Marts(harness::cli::marts::MartsArgs),
    /// Purge marts (their databases and inventory records) by code.
    #[command(
        long_about = "Purge marts by inventory code: drop each one's database (unless still shared)\nand delete its inventory record. A mart still being created is purged once its\ncreation has ended.",
        after_help = concat!("Example:\n  harness purge 3 4 --pg-url postgresql://postgres@localhost:5432/postgres\n\n", app_flags!(), "\n\nExit status: 0 purged, 1 a purge failed, 2 unusable input (a code names no mart:\nnothing is purged).")
    )]
    Purge(harness::cli::purge::PurgeArgs),
    /// Serve rex.mart's web API and a page of marts and jobs over HTTP.
    #[command(
        long_about = "Serve rex.mart's web API (/mart, /definition, the HTSQL gateway over each mart)\n\
and a page at / with the user's marts and jobs and a form to request a mart. The\n\
user is named by --user-header, a header a trusted reverse proxy sets after\n\
authenticating; without it every request is refused 401.",
        after_help = concat!("Example:\n  harness serve --app rex.mart_demo --listen 127.0.0.1:8080 --user-header X-Remote-User\n\n", app_flags!(), "\n\nExit status: 1 the server failed, 2 unusable input (bad address, application).")
    )]
    Serve(harness::cli::serve::ServeArgs),
    /// rex's command line: `harness ctl TASK ...` is `rex TASK ...` (also reached by
    /// calling this binary `rex`); `harness ctl help` lists the tasks.
    #[command(disable_help_flag = true)]
    Ctl {
        /// The task and its arguments and options, as rex takes them.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// PostgreSQL for people: `harness pg up` keeps a throwaway server until Ctrl-C.
    #[command(
        after_help = "Example:\n  harness pg up                # prints the URL to give to --pg-url"
    )]
    Pg(harness::cli::pg::Args),
    /// Manage the embedded clusters' cache (`harness cache clean` empties it).
    Cache(harness::cli::cache::Args),
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv
        .first()
        .is_some_and(|a| harness::cli::ctl::invoked_as_rex(a))
    {
        std::process::exit(harness::cli::ctl::main("rex", &argv));
    }
    // clap exits with status 2 on a bad command line and 0 for --help/--version.
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Run(args) => harness::cli::run::run(&args),
        Command::Worker(args) => harness::cli::worker::run(&args),
        Command::Submit(args) => harness::cli::submit::run(&args),
        Command::Jobs(args) => harness::cli::jobs::run(&args),
        Command::Task(args) => harness::cli::task::run(&args),
        Command::Create(args) => harness::cli::create::run(args),
        Command::Marts(args) => harness::cli::marts::run(args),
        Command::Purge(args) => harness::cli::purge::run(args),
        Command::Ctl { args } => {
            let argv: Vec<String> = std::iter::once("harness ctl".to_string())
                .chain(args)
                .collect();
            harness::cli::ctl::main("harness ctl", &argv)
        }
        Command::Pg(args) => harness::cli::pg::run(args),
        Command::Serve(args) => harness::cli::serve::run(&args),
        Command::Cache(args) => harness::cli::cache::run(args),
    };
    std::process::exit(status);
}
