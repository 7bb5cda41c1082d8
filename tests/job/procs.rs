//! Worker processes for the multi-process tests: this test binary re-runs itself as
//! `harness worker` (the test `child_worker_entry` does that when
//! `HARNESS_JOB_CHILD_ARGS` is set), so the tests need no wiring in main.rs.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHILD_ENV: &str = "HARNESS_JOB_CHILD_ARGS";

/// Runs `harness worker` from the arguments in [`CHILD_ENV`] and exits with its status.
/// Call it from a test named `child_worker_entry`.
pub fn child_entry() {
    let Ok(args) = std::env::var(CHILD_ENV) else {
        return;
    };
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        worker: harness::cli::worker::WorkerArgs,
    }
    let argv: Vec<String> = serde_json::from_str(&args).expect("child args");
    let cli = <Cli as clap::Parser>::parse_from(std::iter::once("worker".to_string()).chain(argv));
    std::process::exit(harness::cli::worker::run(&cli.worker));
}

/// A child process whose output goes to a log file; killed (SIGKILL) when dropped
/// if still running. The tests' worker types deref to it.
pub struct Process {
    pub child: Child,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Process {
    /// Spawns `cmd` with its stderr (and its stdout when `stdout_too`) in the log.
    pub fn spawn(mut cmd: Command, stdout_too: bool) -> Process {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("worker.log");
        let file = std::fs::File::create(&log).unwrap();
        let stdout = if stdout_too {
            Stdio::from(file.try_clone().unwrap())
        } else {
            Stdio::null()
        };
        let child = cmd
            .stdout(stdout)
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap();
        Process {
            child,
            log,
            _dir: dir,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.pid(), sig);
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for the process to exit; its status code (None: killed by a signal).
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

    /// SIGTERM, then its exit status within 20 s.
    pub fn stop(&mut self) -> Option<i32> {
        self.signal(libc::SIGTERM);
        self.wait(Duration::from_secs(20))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A [`Process`] of kind `K`, the kind saying how it is started (its own
/// constructors); every kind derefs to the process.
pub struct Spawned<K>(Process, std::marker::PhantomData<K>);

impl<K> Spawned<K> {
    pub fn new(process: Process) -> Spawned<K> {
        Spawned(process, std::marker::PhantomData)
    }
}

impl<K> std::ops::Deref for Spawned<K> {
    type Target = Process;
    fn deref(&self) -> &Process {
        &self.0
    }
}

impl<K> std::ops::DerefMut for Spawned<K> {
    fn deref_mut(&mut self) -> &mut Process {
        &mut self.0
    }
}

/// Kind: this test binary re-run as `harness worker` (see [`child_entry`]).
pub struct TestBinary;

/// `harness worker` as this test binary re-run.
pub type Worker = Spawned<TestBinary>;

impl Worker {
    pub fn start(args: &[&str]) -> Worker {
        let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "--exact",
            "child_worker_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, serde_json::to_string(&argv).unwrap());
        Spawned::new(Process::spawn(cmd, false))
    }
}

/// Polls `f` until it returns true; panics with `what` after `timeout`.
pub fn wait_until(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}
