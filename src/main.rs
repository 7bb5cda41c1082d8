//! The `harness` command line. Parsing and dispatch only; each subcommand lives in
//! `cli/`.

use clap::{Parser, Subcommand};

/// RexDB's mart creation system re-implemented in Rust, with a doctest transcript
/// runner that replays RexDB's transcripts against a real PostgreSQL.
#[derive(Parser)]
#[command(
    name = "harness",
    version,
    after_help = "Example:\n  harness run transcripts/async.txt\n\nExit status: 0 all passed, 1 an example failed, 2 unusable input."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay doctest transcripts and check their output as CPython's doctest does.
    #[command(
        after_help = "Example:\n  harness run -o ELLIPSIS --diff transcripts/async.txt\n\nExit status: 0 all examples passed, 1 an example failed, 2 a transcript or the\ncommand line could not be used (the message says file:line)."
    )]
    Run(harness::cli::run::RunArgs),
    /// Run the job queuer, job executors and async task workers until stopped.
    #[command(after_help = "Example:\n  harness worker --app rex.mart_demo --pg-url postgresql://postgres@localhost/postgres --concurrency 4")]
    Worker(harness::cli::worker::WorkerArgs),
    /// Submit a job and print its code.
    #[command(after_help = "Example:\n  harness submit rexmart_create '{\"owner\": \"alice\", \"definition\": \"empty\"}' --app rex.mart_demo")]
    Submit(harness::cli::submit::SubmitArgs),
    /// List jobs as a table.
    #[command(after_help = "Example:\n  harness jobs --status failed --app rex.mart_demo")]
    Jobs(harness::cli::jobs::JobsArgs),
    /// Put a payload on an async task queue.
    #[command(after_help = "Example:\n  harness task rexmart_create '{\"owner\": \"alice\", \"definition\": \"empty\"}' --app rex.mart_demo")]
    Task(harness::cli::task::TaskArgs),
    /// Create one mart, printing its log as it goes and its database name at the end.
    #[command(after_help = "Example:\n  harness create some_data --owner alice --param foo=bar --app rex.mart_demo")]
    Create(harness::cli::create::CreateArgs),
    /// List marts as a table.
    #[command(after_help = "Example:\n  harness marts --owner alice")]
    Marts(harness::cli::marts::MartsArgs),
    /// Purge marts (their databases and inventory records) by code.
    #[command(after_help = "Example:\n  harness purge 3 4")]
    Purge(harness::cli::purge::PurgeArgs),
    /// PostgreSQL for people: `harness pg up` keeps a throwaway server until Ctrl-C.
    #[command(after_help = "Example:\n  harness pg up")]
    Pg(harness::cli::pg::Args),
}

fn main() {
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
        Command::Pg(args) => harness::cli::pg::run(args),
    };
    std::process::exit(status);
}
