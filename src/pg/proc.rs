//! Processes the embedded backend runs: PostgreSQL tools and the postmaster, as an
//! unprivileged user when the harness runs as root (PostgreSQL refuses to run as
//! root), the postmaster tied to the harness's life by `PR_SET_PDEATHSIG`.

use crate::core::{Error, Result};
use std::ffi::CString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

/// The account PostgreSQL runs as, when it is not the harness's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
}

/// `None` when the harness is not root (the server runs as the harness's user);
/// otherwise the `postgres` system user, or `nobody` when there is none.
pub fn server_user() -> Result<Option<RunAs>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    for name in ["postgres", "nobody"] {
        if let Some(user) = lookup_user(name) {
            return Ok(Some(user));
        }
    }
    Err(Error::with(
        "Cannot run PostgreSQL as root:",
        "found neither a `postgres` nor a `nobody` user to run the server as",
    ))
}

fn lookup_user(name: &str) -> Option<RunAs> {
    let cname = CString::new(name).ok()?;
    // SAFETY: getpwnam returns NULL or a pointer to static storage; we copy out at once.
    // Called before any fork, from one thread at a time (guarded by a mutex).
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let pw = unsafe { libc::getpwnam(cname.as_ptr()) };
    if pw.is_null() {
        return None;
    }
    let pw = unsafe { &*pw };
    Some(RunAs {
        uid: pw.pw_uid,
        gid: pw.pw_gid,
    })
}

/// A command for a PostgreSQL program that drops privileges to `user` in the child.
pub fn command(program: &Path, user: Option<RunAs>) -> Command {
    let mut cmd = Command::new(program);
    if let Some(user) = user {
        // Run from a directory the server user can read: root's cwd often is not.
        cmd.current_dir("/");
        // SAFETY: only async-signal-safe system calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || drop_privileges(user));
        }
    }
    cmd
}

fn drop_privileges(user: RunAs) -> std::io::Result<()> {
    // SAFETY: plain system calls on values computed before fork.
    unsafe {
        let groups = [user.gid];
        if libc::setgroups(1, groups.as_ptr()) != 0
            || libc::setgid(user.gid) != 0
            || libc::setuid(user.uid) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Starts the postmaster from a thread that lives as long as the process.
///
/// `PR_SET_PDEATHSIG` fires when the *thread* that forked the child ends, so spawning
/// from whichever thread first needs a cluster (a test thread, a transcript worker)
/// would kill the server when that thread finishes. The child also gets its own process
/// group so a terminal's Ctrl-C reaches the harness, which then shuts the server down
/// in order, instead of both racing. The death signal is set after dropping
/// privileges: the kernel clears it when the user changes.
pub fn spawn_postmaster(mut cmd: Command) -> Result<Child> {
    type Request = (Command, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();
    let sender = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("harness-pg-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("spawn the postmaster spawner thread");
        Mutex::new(tx)
    });
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: only async-signal-safe system calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setpgid(0, 0) != 0
                || libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT as libc::c_ulong) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                // The harness died before the death signal was armed.
                libc::_exit(1);
            }
            Ok(())
        });
    }
    let (tx, rx) = mpsc::channel();
    let send = sender
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((cmd, tx));
    let spawned = match send {
        Ok(()) => rx
            .recv()
            .map_err(|_| Error::new("postmaster spawner thread is gone"))?,
        Err(_) => return Err(Error::new("postmaster spawner thread is gone")),
    };
    spawned.map_err(|e| Error::with("Cannot start the PostgreSQL server:", e))
}

/// Runs a PostgreSQL tool to completion; its output becomes the error payload on failure.
pub fn run(mut cmd: Command, what: &str) -> Result<String> {
    let out = cmd
        .output()
        .map_err(|e| Error::with(format!("Cannot run {what}:"), e))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(Error::with(
            format!("{what} failed ({}):", out.status),
            format!("{stdout}{stderr}").trim_end(),
        ));
    }
    Ok(stdout)
}

/// Gives `path` and everything under it to `user` (no-op when `user` is `None`).
pub fn chown_tree(path: &Path, user: Option<RunAs>) -> Result<()> {
    let Some(user) = user else { return Ok(()) };
    std::os::unix::fs::lchown(path, Some(user.uid), Some(user.gid))
        .map_err(|e| Error::with("Cannot change owner:", format!("{}: {e}", path.display())))?;
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path)? {
            chown_tree(&entry?.path(), Some(user))?;
        }
    }
    Ok(())
}

/// Whether process `pid` exists (a zombie counts as gone).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !matches!(
            stat.rsplit(')')
                .next()
                .and_then(|s| s.split_whitespace().next()),
            Some("Z") | Some("X")
        ),
        Err(_) => false,
    }
}

/// Sends `signal` to `pid`; errors (already gone) are of no interest to callers.
pub fn signal(pid: i32, signal: i32) {
    if pid > 0 {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}
