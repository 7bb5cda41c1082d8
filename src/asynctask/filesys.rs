//! `filesys:PATH`: queues as directories of numbered files (rex's
//! `FileSysAsyncTransport`, same layout so both can share a directory): `PATH/QUEUE/`
//! holds `.index` (`first,last`; `0,0` when empty), one file per task named by its
//! number holding `{"payload": ...}`, and `.lock`, locked (`flock`) around every
//! change. Options: `?lock_timeout=SECONDS` (-1: wait forever), `file_mode=0600`.

use super::queue_name;
use super::transport::{encode_payload, Taken, Transport};
use crate::core::{Error, Result};
use serde_json::{json, Value};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const LOCK: &str = ".lock";
const INDEX: &str = ".index";

pub struct FileSysTransport {
    path: PathBuf,
    lock_timeout: Option<Duration>,
    file_mode: u32,
}

/// An exclusive `flock` on a queue's lock file, released when dropped.
struct Locked(File);

impl Drop for Locked {
    fn drop(&mut self) {
        // SAFETY: flock(2) on a descriptor this guard owns.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::with(
        format!("Failed to {what}:"),
        format!("{}: {e}", path.display()),
    )
}

impl FileSysTransport {
    /// `rest` is what follows `filesys:` in the URI.
    pub fn new(rest: &str) -> Result<FileSysTransport> {
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let path = path.strip_prefix("//").unwrap_or(path);
        let mut t = FileSysTransport {
            path: PathBuf::from(path),
            lock_timeout: None,
            file_mode: 0o600,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("lock_timeout", v)) => {
                    let secs: i64 = v.parse().map_err(|_| {
                        Error::with("Expected an integer", v)
                            .wrap_with("While parsing:", "lock_timeout")
                    })?;
                    t.lock_timeout = (secs >= 0).then(|| Duration::from_secs(secs as u64));
                }
                Some(("file_mode", v)) => {
                    t.file_mode = u32::from_str_radix(v, 8).map_err(|_| {
                        Error::with("Expected an octal file mode", v)
                            .wrap_with("While parsing:", "file_mode")
                    })?;
                }
                _ => {}
            }
        }
        t.make_dir(&t.path)?;
        Ok(t)
    }

    fn make_dir(&self, path: &Path) -> Result<()> {
        if !path.is_dir() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(self.file_mode | 0o100)
                .create(path)
                .map_err(|e| io("create the queue directory", path, e))?;
        }
        Ok(())
    }

    fn queue_dir(&self, queue: &str) -> PathBuf {
        self.path.join(queue)
    }

    /// Checks the name, makes the queue's directory and index, and locks it.
    fn lock(&self, queue: &str) -> Result<Locked> {
        queue_name::check(queue)?;
        let dir = self.queue_dir(queue);
        self.make_dir(&dir)?;
        let path = dir.join(LOCK);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(self.file_mode)
            .open(&path)
            .map_err(|e| io("open the queue lock", &path, e))?;
        let start = Instant::now();
        loop {
            // SAFETY: flock(2) on a descriptor we own.
            let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if r == 0 {
                break;
            }
            if self.lock_timeout.is_some_and(|t| start.elapsed() >= t) {
                return Err(Error::with(
                    "Timed out waiting for the queue lock:",
                    path.display(),
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let locked = Locked(file);
        if !dir.join(INDEX).is_file() {
            self.write_file(&dir.join(INDEX), "0,0")?;
        }
        Ok(locked)
    }

    fn index(&self, queue: &str) -> Result<(u64, u64)> {
        let path = self.queue_dir(queue).join(INDEX);
        let text =
            std::fs::read_to_string(&path).map_err(|e| io("read the queue index", &path, e))?;
        let mut parts = text.trim().split(',').map(|p| p.trim().parse::<u64>());
        match (parts.next(), parts.next()) {
            (Some(Ok(a)), Some(Ok(b))) => Ok((a, b)),
            _ => Err(Error::with("Unreadable queue index:", path.display())),
        }
    }

    fn write_file(&self, path: &Path, text: &str) -> Result<()> {
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(self.file_mode)
            .open(path)
            .map_err(|e| io("write", path, e))?;
        f.write_all(text.as_bytes())
            .map_err(|e| io("write", path, e))
    }

    fn set_index(&self, queue: &str, first: u64, last: u64) -> Result<()> {
        self.write_file(
            &self.queue_dir(queue).join(INDEX),
            &format!("{first},{last}"),
        )
    }

    /// The oldest task's number and payload, without removing it.
    fn peek(&self, queue: &str) -> Result<Option<(u64, Value)>> {
        let (first, last) = self.index(queue)?;
        if last == 0 {
            return Ok(None);
        }
        let path = self.queue_dir(queue).join(first.to_string());
        let text = std::fs::read_to_string(&path).map_err(|e| io("read the task", &path, e))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| Error::with("Unreadable task:", format!("{}: {e}", path.display())))?;
        Ok(Some((
            first,
            v.get("payload").cloned().unwrap_or(Value::Null),
        )))
    }

    /// Removes task `n`, the oldest.
    fn remove(&self, queue: &str, n: u64) -> Result<()> {
        let path = self.queue_dir(queue).join(n.to_string());
        std::fs::remove_file(&path).map_err(|e| io("remove the task", &path, e))?;
        let (_, last) = self.index(queue)?;
        if n + 1 > last {
            self.set_index(queue, 0, 0)
        } else {
            self.set_index(queue, n + 1, last)
        }
    }
}

impl Transport for FileSysTransport {
    fn submit_task(&self, queue: &str, payload: &Value) -> Result<()> {
        let _lock = self.lock(queue)?;
        let payload = encode_payload(payload)?;
        let (first, last) = self.index(queue)?;
        let n = last + 1;
        let path = self.queue_dir(queue).join(n.to_string());
        self.write_file(&path, &json!({ "payload": payload }).to_string())?;
        self.set_index(queue, if first == 0 { 1 } else { first }, n)
    }

    fn get_task(&self, queue: &str) -> Result<Option<Value>> {
        let _lock = self.lock(queue)?;
        match self.peek(queue)? {
            Some((n, payload)) => {
                self.remove(queue, n)?;
                Ok(Some(payload))
            }
            None => Ok(None),
        }
    }

    fn poll_queue(&self, queue: &str) -> Result<i64> {
        let _lock = self.lock(queue)?;
        let (first, last) = self.index(queue)?;
        Ok(if last == 0 {
            0
        } else {
            (last - first + 1) as i64
        })
    }

    /// Taken before it runs, as rex does: holding the queue's lock meanwhile would
    /// block the task's own `requeue`.
    fn with_task(&self, queue: &str, f: &mut dyn FnMut(&Value) -> Result<()>) -> Result<Taken> {
        Ok(self.get_task(queue)?.map(|payload| f(&payload)))
    }

    fn repr(&self) -> String {
        "FileSysAsyncTransport".to_string()
    }
}
