//! One module per subcommand of the `harness` binary. Each exposes its clap
//! arguments and a `run(args) -> exit status` function; `main.rs` only dispatches.

pub mod pg;
pub mod run;
