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
}

fn main() {
    // clap exits with status 2 on a bad command line and 0 for --help/--version.
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Run(args) => harness::cli::run::run(&args),
    };
    std::process::exit(status);
}
