//! One module per subcommand of the `harness` binary. Each exposes its clap
//! arguments and a `run(args) -> exit status` function; `main.rs` only dispatches.

pub mod jobs;
pub mod run;
pub mod submit;
pub mod task;
pub mod worker;
