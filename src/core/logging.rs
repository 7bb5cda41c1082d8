//! The harness's one `log` backend. Domain code logs with `target:` = rex's logger
//! name; this module decides where lines go and how they look:
//! - [`Format::Basic`] `LEVEL:Name:message`, rex's `basic` formatter, used by `run`
//!   (lines land in the running example's captured output through the sink);
//! - [`Format::Timestamped`] and [`Format::Json`] for `worker`, one line per event.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::cell::Cell;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, RwLock};

/// How a log record is rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `INFO:MartCreateWorker:Mart creation began: ...`
    Basic,
    /// `2026-11-28T12:00:00.123Z INFO MartCreateWorker: message`
    Timestamped,
    /// `{"ts": ..., "level": "INFO", "logger": "...", "message": "..."}`
    Json,
}

/// Where rendered lines go: a function that receives each line with its trailing
/// newline (e.g. the transcript runner's output capture), or stderr.
pub type Sink = Box<dyn Fn(&str) + Send + Sync>;

struct Backend {
    format: RwLock<Format>,
    sink: RwLock<Option<Sink>>,
    stderr: Mutex<()>,
}

fn backend() -> &'static Backend {
    static BACKEND: OnceLock<Backend> = OnceLock::new();
    BACKEND.get_or_init(|| Backend {
        format: RwLock::new(Format::Basic),
        sink: RwLock::new(None),
        stderr: Mutex::new(()),
    })
}

/// Installs the backend as the `log` logger (once per process; later calls only
/// change the format) at rex's default root level, INFO.
pub fn install(format: Format) {
    *backend().format.write().unwrap_or_else(|e| e.into_inner()) = format;
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = log::set_logger(&Logger);
        log::set_max_level(LevelFilter::Info);
    });
}

/// Sends lines to `sink` instead of stderr (`None`: back to stderr).
pub fn set_sink(sink: Option<Sink>) {
    *backend().sink.write().unwrap_or_else(|e| e.into_inner()) = sink;
}

fn filter_of(name: &str) -> Option<LevelFilter> {
    Some(match name.to_ascii_uppercase().as_str() {
        "DEBUG" | "NOTSET" => LevelFilter::Debug,
        "INFO" => LevelFilter::Info,
        "WARNING" | "WARN" => LevelFilter::Warn,
        "ERROR" | "CRITICAL" => LevelFilter::Error,
        _ => return None,
    })
}

/// The process's root level (a `LevelFilter` as usize); a thread may have its own.
static ROOT: AtomicUsize = AtomicUsize::new(LevelFilter::Info as usize);

thread_local! {
    /// This thread's own root level ([`set_thread_level`]).
    static THREAD_LEVEL: Cell<Option<LevelFilter>> = const { Cell::new(None) };
}

/// Sets the process's root level from a rex level name (`DEBUG`, `INFO`, `WARNING`,
/// `ERROR`, `CRITICAL`); unknown names leave it unchanged and return false.
pub fn set_level(name: &str) -> bool {
    let Some(filter) = filter_of(name) else {
        return false;
    };
    ROOT.store(filter as usize, Ordering::Relaxed);
    log::set_max_level(filter.max(log::max_level()));
    true
}

/// Sets the root level of the calling thread only: an application a transcript
/// activates sets its `logging` level for that transcript's thread, and files
/// replayed beside it (`harness run -j`) keep theirs. Unknown names return false.
pub fn set_thread_level(name: &str) -> bool {
    let Some(filter) = filter_of(name) else {
        return false;
    };
    THREAD_LEVEL.with(|t| t.set(Some(filter)));
    log::set_max_level(filter.max(log::max_level()));
    true
}

/// The level records on this thread pass at.
fn current_level() -> LevelFilter {
    THREAD_LEVEL
        .with(|t| t.get())
        .unwrap_or_else(|| match ROOT.load(Ordering::Relaxed) {
            0 => LevelFilter::Off,
            1 => LevelFilter::Error,
            2 => LevelFilter::Warn,
            3 => LevelFilter::Info,
            4 => LevelFilter::Debug,
            _ => LevelFilter::Trace,
        })
}

/// Python's level names: `.warn()` prints `WARNING`.
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::Error => "ERROR",
        Level::Warn => "WARNING",
        Level::Info => "INFO",
        Level::Debug | Level::Trace => "DEBUG",
    }
}

/// Renders one record as a line (with its trailing newline).
pub fn render(format: Format, level: Level, logger: &str, message: &str) -> String {
    match format {
        Format::Basic => format!("{}:{logger}:{message}\n", level_name(level)),
        Format::Timestamped => format!(
            "{} {} {logger}: {message}\n",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            level_name(level)
        ),
        Format::Json => format!(
            "{}\n",
            serde_json::json!({
                "ts": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
                "level": level_name(level),
                "logger": logger,
                "message": message,
            })
        ),
    }
}

/// Whether a record comes from a rex logger (`MartCreateWorker`, `rex.deploy`)
/// rather than a Rust library (`postgres::config`) or the harness itself
/// (`harness.pg`).
pub fn is_rex_logger(target: &str) -> bool {
    !target.contains("::") && !target.starts_with("harness")
}

struct Logger;

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= current_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let b = backend();
        if !is_rex_logger(record.target()) {
            // Libraries' and the harness's own diagnostics are not part of the
            // domain's log: warnings go to stderr, the rest is dropped.
            if record.level() <= Level::Warn {
                let line = render(
                    Format::Timestamped,
                    record.level(),
                    record.target(),
                    &record.args().to_string(),
                );
                let _guard = b.stderr.lock().unwrap_or_else(|e| e.into_inner());
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
            return;
        }
        let format = *b.format.read().unwrap_or_else(|e| e.into_inner());
        let line = render(
            format,
            record.level(),
            record.target(),
            &record.args().to_string(),
        );
        match &*b.sink.read().unwrap_or_else(|e| e.into_inner()) {
            Some(sink) => sink(&line),
            None => {
                let _guard = b.stderr.lock().unwrap_or_else(|e| e.into_inner());
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
        }
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_format_is_rex_basic() {
        assert_eq!(
            render(
                Format::Basic,
                Level::Warn,
                "JobExecutorWorker",
                "Job #6 not found; bailing"
            ),
            "WARNING:JobExecutorWorker:Job #6 not found; bailing\n"
        );
        let json = render(Format::Json, Level::Info, "X", "a \"b\"\nc");
        let v: serde_json::Value = serde_json::from_str(json.trim_end()).unwrap();
        assert_eq!(v["message"], "a \"b\"\nc");
        assert_eq!(v["level"], "INFO");
    }
}
