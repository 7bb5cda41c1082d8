//! Owning everything the embedded backend starts, to the end: private run
//! directories under one per-user work root, each held by a `flock` for the life of
//! the harness process that made it; a registry of live servers shut down on normal
//! exit (`atexit`), on panic (Drop) and on SIGINT/SIGTERM/SIGHUP; and a sweep that
//! finds the directories and servers of runs that were killed (kill -9) and removes
//! them. A held lock is the liveness test: the kernel releases it when its owner
//! dies, however it dies, and process ids are never trusted (they are reused).

use crate::core::{Error, Result};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, Once, OnceLock, Weak};
use std::time::{Duration, Instant};

/// The per-user directory that holds run directories: `$TMPDIR/harness-pg-<uid>`,
/// or, when `TMPDIR` is not set, `/dev/shm/harness-pg-<uid>` if `/dev/shm` is a
/// memory file system with room (see [`scratch_dir`]), else `/tmp/harness-pg-<uid>`.
/// Mode 0711 so that a server running as another user (root's case) can reach its
/// own subdirectories without listing anyone else's.
pub fn work_root() -> Result<PathBuf> {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    let root = scratch_dir().join(format!("harness-pg-{uid}"));
    match std::fs::DirBuilder::new().mode(0o711).create(&root) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_error("Cannot create the work directory:", &root, e)),
    }
    let meta = std::fs::symlink_metadata(&root).map_err(|e| io_error("Cannot read:", &root, e))?;
    if meta.file_type().is_symlink() || meta.uid() != uid {
        return Err(Error::with(
            "Refusing to use a work directory owned by someone else:",
            root.display(),
        ));
    }
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o711))
        .map_err(|e| io_error("Cannot set permissions:", &root, e))?;
    Ok(root)
}

/// Where the clusters' files go. A cluster creates hundreds of files per database
/// (a start copies ~1,700, a `CREATE DATABASE` ~300); on a busy or virtual disk a
/// file creation can cost a millisecond, in memory ten microseconds. `/dev/shm`
/// only with 4 GB free: a container's default 64 MB would fill at once.
fn scratch_dir() -> PathBuf {
    const ROOM: u64 = 4 << 30;
    if std::env::var_os("TMPDIR").is_some_and(|v| !v.is_empty()) {
        return std::env::temp_dir();
    }
    let shm = Path::new("/dev/shm");
    // SAFETY: statvfs fills the zeroed struct; the path is a NUL-terminated literal.
    let free = unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(c"/dev/shm".as_ptr(), &mut st) != 0 {
            0
        } else {
            st.f_bavail as u64 * st.f_frsize as u64
        }
    };
    if free >= ROOM && shm.is_dir() {
        return shm.to_path_buf();
    }
    std::env::temp_dir()
}

pub fn io_error(message: &str, path: &Path, e: std::io::Error) -> Error {
    Error::with(message, format!("{}: {e}", path.display()))
}

/// A private directory for one server (or one staging copy), locked while its owner lives.
#[derive(Debug)]
pub struct RunDir {
    pub path: PathBuf,
    _lock: File,
}

impl RunDir {
    /// Makes `<work root>/<kind>-<pid>-<n>`. It is built under a hidden name and renamed
    /// once locked, so a concurrent sweep never mistakes a new directory for a dead one.
    pub fn create(kind: &str) -> Result<RunDir> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let root = work_root()?;
        let pid = std::process::id();
        let n = N.fetch_add(1, Ordering::SeqCst);
        let name = format!("{kind}-{pid}-{n}");
        let hidden = root.join(format!(".new-{name}"));
        let path = root.join(&name);
        let _ = std::fs::remove_dir_all(&hidden);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::DirBuilder::new()
            .mode(0o711)
            .create(&hidden)
            .map_err(|e| io_error("Cannot create a run directory:", &hidden, e))?;
        let lock_path = hidden.join("lock");
        let lock =
            File::create(&lock_path).map_err(|e| io_error("Cannot create:", &lock_path, e))?;
        if !flock(&lock, libc::LOCK_EX | libc::LOCK_NB) {
            return Err(Error::with("Cannot lock:", lock_path.display()));
        }
        std::fs::rename(&hidden, &path).map_err(|e| io_error("Cannot rename:", &hidden, e))?;
        Ok(RunDir { path, _lock: lock })
    }

    pub fn remove(&self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// `flock(2)`; false when the lock is held elsewhere (with `LOCK_NB`) or fails.
pub fn flock(file: &File, op: i32) -> bool {
    // SAFETY: a valid open descriptor.
    unsafe { libc::flock(file.as_raw_fd(), op) == 0 }
}

/// Removes run directories whose owner is gone, stopping any server still running in
/// them. Called before every embedded start, so a killed run is cleaned by the next.
pub fn sweep_stale() {
    let Ok(root) = work_root() else { return };
    let Ok(entries) = std::fs::read_dir(&root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with("run-") || name.starts_with("stage-")) {
            continue;
        }
        let dir = entry.path();
        let lock = match File::open(dir.join("lock")) {
            Ok(f) => f,
            Err(_) => {
                // A lock file is created before the rename: without one, the directory
                // is the half-removed remains of a run; finish the job.
                stop_servers_in(&dir);
                let _ = std::fs::remove_dir_all(&dir);
                continue;
            }
        };
        if flock(&lock, libc::LOCK_EX | libc::LOCK_NB) {
            log::info!(target: "harness.pg", "removing the leftovers of a dead run: {}", dir.display());
            stop_servers_in(&dir);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// Stops a postmaster found in `dir/*/postmaster.pid`, if it is still a postgres process.
fn stop_servers_in(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let pidfile = entry.path().join("postmaster.pid");
        let Some(pid) = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<i32>().ok()))
        else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() != "postgres" && comm.trim() != "postmaster" {
            continue;
        }
        super::proc::signal(pid, libc::SIGQUIT);
        let deadline = Instant::now() + Duration::from_secs(3);
        while super::proc::alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if super::proc::alive(pid) {
            super::proc::signal(pid, libc::SIGKILL);
        }
    }
}

/// Something to shut down when the process ends.
pub trait Cleanup: Send + Sync {
    fn cleanup(&self);
}

fn registry() -> &'static Mutex<Vec<Weak<dyn Cleanup>>> {
    static REGISTRY: Mutex<Vec<Weak<dyn Cleanup>>> = Mutex::new(Vec::new());
    &REGISTRY
}

/// Registers a live server; also arms the exit and signal hooks (once).
pub fn register(item: &Arc<dyn Cleanup>) {
    install_hooks();
    let mut list = registry().lock().unwrap_or_else(|e| e.into_inner());
    list.retain(|w| w.strong_count() > 0);
    list.push(Arc::downgrade(item));
}

/// Shuts down every registered server that is still alive.
pub fn cleanup_all() {
    // A second caller (exit racing a signal) waits until the first one is done, so
    // the process never ends while a server is half stopped.
    static CLEANING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = CLEANING.lock().unwrap_or_else(|e| e.into_inner());
    // At exit another thread may hold the lock forever; never hang the exit on it.
    let mut tries = 0;
    let items: Vec<Arc<dyn Cleanup>> = loop {
        match registry().try_lock() {
            Ok(mut list) => break list.drain(..).filter_map(|w| w.upgrade()).collect(),
            Err(std::sync::TryLockError::Poisoned(p)) => {
                break p
                    .into_inner()
                    .drain(..)
                    .filter_map(|w| w.upgrade())
                    .collect()
            }
            Err(std::sync::TryLockError::WouldBlock) if tries < 100 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(_) => return,
        }
    };
    for item in items {
        item.cleanup();
    }
}

/// Set when the process ends on a signal: it neither saves to nor waits for the cache then.
static SIGNALLED: AtomicBool = AtomicBool::new(false);

/// Whether the process is ending on a signal.
pub fn signalled() -> bool {
    SIGNALLED.load(Ordering::SeqCst)
}

extern "C" fn at_exit() {
    cleanup_all();
    if !SIGNALLED.load(Ordering::SeqCst) {
        super::embedded::spares::wait_for_copy(Duration::from_secs(3));
    }
}

static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(sig: libc::c_int) {
    let fd = SIGNAL_PIPE.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = sig as u8;
        // SAFETY: write(2) is async-signal-safe.
        unsafe {
            libc::write(fd, &byte as *const u8 as *const libc::c_void, 1);
        }
    }
}

/// Called by the signal thread before the servers stop, when set by [`exit_on_signal`].
static BEFORE_EXIT: OnceLock<fn(i32)> = OnceLock::new();

/// For a program that must end with a status of its own on SIGINT/SIGTERM/SIGHUP
/// (`harness run`: 130 on Ctrl-C): the signal thread calls `hook`, stops the servers
/// and exits with 128 + the signal. Signals the program ignores stay ignored.
pub fn exit_on_signal(hook: fn(i32)) {
    let _ = BEFORE_EXIT.set(hook);
    install_hooks();
}

/// Whether the signal thread re-raises a signal after cleaning up (the default),
/// or hands it to [`wait_for_signal`] (after [`take_signals`]).
static RAISE_AFTER_CLEANUP: AtomicBool = AtomicBool::new(true);

fn received() -> &'static (Mutex<Option<i32>>, Condvar) {
    static RECEIVED: (Mutex<Option<i32>>, Condvar) = (Mutex::new(None), Condvar::new());
    &RECEIVED
}

/// For a program whose job is to wait for Ctrl-C (`harness pg up`): SIGINT,
/// SIGTERM and SIGHUP are caught whatever their disposition was, servers are shut
/// down, and [`wait_for_signal`] returns instead of the process dying.
pub fn take_signals() {
    RAISE_AFTER_CLEANUP.store(false, Ordering::SeqCst);
    install_hooks();
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        catch(sig);
    }
}

/// Blocks until a signal taken by [`take_signals`] arrived and servers were
/// stopped; returns the signal number.
pub fn wait_for_signal() -> i32 {
    let (lock, cond) = received();
    let mut got = lock.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(sig) = *got {
            return sig;
        }
        got = cond.wait(got).unwrap_or_else(|e| e.into_inner());
    }
}

/// `atexit` for normal exits (including `std::process::exit` and a panicking main),
/// and handlers for SIGINT/SIGTERM/SIGHUP that clean up on a thread (nothing else is
/// safe inside a handler) and then die of the same signal. A signal whose handler
/// the program already set (or ignores) is left alone: the server's death signal
/// still stops it when the process dies.
fn install_hooks() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: registering a plain extern "C" function.
        unsafe {
            libc::atexit(at_exit);
        }
        let mut fds = [0; 2];
        // SAFETY: fds is a valid two-element array.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return;
        }
        let read_fd = fds[0];
        let spawned = std::thread::Builder::new()
            .name("harness-pg-signals".into())
            .spawn(move || loop {
                let mut byte = 0u8;
                // SAFETY: reading one byte into a valid buffer.
                let n =
                    unsafe { libc::read(read_fd, &mut byte as *mut u8 as *mut libc::c_void, 1) };
                if n == 1 {
                    let sig = byte as libc::c_int;
                    SIGNALLED.store(true, Ordering::SeqCst);
                    let hook = BEFORE_EXIT.get().copied();
                    if let Some(hook) = hook {
                        hook(sig);
                    }
                    cleanup_all();
                    if hook.is_some() {
                        std::process::exit(128 + sig);
                    }
                    if RAISE_AFTER_CLEANUP.load(Ordering::SeqCst) {
                        // SAFETY: restoring the default action and re-raising.
                        unsafe {
                            libc::signal(sig, libc::SIG_DFL);
                            libc::kill(libc::getpid(), sig);
                        }
                    } else {
                        let (lock, cond) = received();
                        *lock.lock().unwrap_or_else(|e| e.into_inner()) = Some(sig);
                        cond.notify_all();
                    }
                } else if n == 0 {
                    return;
                }
            });
        if spawned.is_err() {
            return;
        }
        SIGNAL_PIPE.store(fds[1], Ordering::SeqCst);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: reading the current action into a zeroed struct.
            let default = unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                libc::sigaction(sig, std::ptr::null(), &mut old) == 0
                    && old.sa_sigaction == libc::SIG_DFL
            };
            if default {
                catch(sig);
            }
        }
    });
}

fn catch(sig: i32) {
    // SAFETY: sigaction with a zeroed struct and a plain handler.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(sig, &action, std::ptr::null_mut());
    }
}
