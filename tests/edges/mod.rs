//! Running the real `harness` binary on a test application, as a user would: one
//! command to its end, or a long-lived `harness worker` to send signals to.

#![allow(dead_code)]

use super::mart::TestApp;
use harness::pg::testing::server;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

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

/// A running `harness` process of `t` (a worker, or a `create` to interrupt), its
/// stdout and stderr kept in one log file.
pub struct Worker {
    pub child: Child,
    pub log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

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
    pub fn spawn_command(mut cmd: Command) -> Worker {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("worker.log");
        let file = std::fs::File::create(&log).unwrap();
        let child = cmd
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap();
        Worker {
            child,
            log,
            _dir: dir,
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn stop(&mut self) -> Option<i32> {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < end, "{}", self.log_text());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Worker {
    /// Sends `sig` to the process.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// Waits for the process to exit: its status (None: killed by a signal).
    pub fn wait(&mut self, timeout: Duration) -> Option<i32> {
        let end = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                Instant::now() < end,
                "did not exit in time:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Polls `f` until it returns true; panics with `what` after `timeout`.
pub fn wait_until(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
