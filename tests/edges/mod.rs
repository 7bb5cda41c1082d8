//! Running the real `harness` binary on a test application, as a user would: one
//! command to its end, or a long-lived `harness worker` to send signals to.

#![allow(dead_code)]

#[path = "../job/procs.rs"]
mod procs;

use super::mart::TestApp;
use harness::pg::testing::server;
pub use procs::{wait_until, Process};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_harness");

/// `harness ARGS --apps .. --app .. --pg-url ..` on `t`'s application and database.
pub fn command(t: &TestApp, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .args(app_flags(t))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("HARNESS_APPS")
        .env_remove("HARNESS_PG_URL")
        .env_remove("DATABASE_URL");
    cmd
}

pub fn app_flags(t: &TestApp) -> Vec<String> {
    let apps = t.app.dir.parent().unwrap().to_str().unwrap().to_string();
    let name = t.app.dir.file_name().unwrap().to_str().unwrap().to_string();
    vec![
        "--apps".into(),
        apps,
        "--app".into(),
        name,
        "--pg-url".into(),
        server().url(&t.app.db.name),
        "--set".into(),
        format!("mart_name_prefix=\"{}\"", t.prefix),
    ]
}

pub fn harness(t: &TestApp, args: &[&str]) -> Output {
    command(t, args).output().unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Kind: the `harness` binary on a test application.
pub struct HarnessBin;

/// A running `harness` process of `t` (a worker, or a `create` to interrupt), its
/// stdout and stderr kept in one log file.
pub type Worker = procs::Spawned<HarnessBin>;

impl Worker {
    /// `harness worker EXTRA...`.
    pub fn start(t: &TestApp, extra: &[&str]) -> Worker {
        let mut args = vec!["worker"];
        args.extend_from_slice(extra);
        Worker::spawn(t, &args)
    }

    /// `harness ARGS...`.
    pub fn spawn(t: &TestApp, args: &[&str]) -> Worker {
        Worker::spawn_command(command(t, args))
    }

    /// `cmd` as a process whose output goes to the log file.
    pub fn spawn_command(cmd: Command) -> Worker {
        procs::Spawned::new(Process::spawn(cmd, true))
    }
}
