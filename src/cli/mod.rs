//! One module per subcommand of the `harness` binary. Each exposes its clap
//! arguments and a `run(args) -> exit status` function; `main.rs` only dispatches.
//! The application subcommands share [`app::AppArgs`] (`--app`, `--pg-url`, ...).

pub mod app;
pub mod cache;
pub mod create;
pub mod ctl;
pub mod jobs;
pub mod marts;
pub mod pg;
pub mod purge;
pub mod run;
pub mod serve;
pub mod submit;
pub mod task;
pub mod worker;
