//! `harness run PATH...`: replay transcripts with the doctest engine and turn the
//! results into the summary lines, the reports and the exit status (0 passed,
//! 1 failed, 2 unusable, 130 interrupted).
//!
//! Files run on `-j N` slots (threads), each slot with its own servers (the embedded
//! and docker backends; a `--pg-url` server is shared), each file with its own
//! interpreter on its own thread (so an example that hangs can be timed out; with
//! `--timeout`, the connections that thread opens are in a [`crate::pg::cancel`]
//! scope, so a timed-out example's database call is cancelled) and its own
//! application database. A file's output is kept together and files are printed
//! in argument order (with one slot, as they run).

mod durations;
mod reports;
mod select;
mod update;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;

use crate::doctest::{self, Executor, Flags, Paint, RunOptions, Tally};
use reports::{FileOutcome, FileReport};
use select::Target;

/// Arguments of `harness run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Transcripts: files (.txt, .rst, .md), FILE:LINE (the example at LINE and
    /// the ones before it, which set its state), directories (searched recursively)
    /// and glob patterns (`transcripts/mart_*.txt`, `**/*.md`).
    #[arg(required = true, value_name = "PATH")]
    pub files: Vec<String>,
    /// Only the transcripts whose path contains TEXT (repeatable: any of them).
    #[arg(short = 'k', value_name = "TEXT")]
    pub keyword: Vec<String>,
    /// Files replayed at once, each with its own application database (and its own
    /// servers, except a --pg-url server, where files creating marts may collide)
    /// [default: the number of cores; 1 with --pg-url].
    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    /// Write a JUnit XML report (a test case per example) to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a JSON report (one record per example) to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Fail an example that runs longer than SECS ("Timed out after SECS s"). It is
    /// stopped (KeyboardInterrupt at its next loop, call or sleep; the database call
    /// it is blocked in is cancelled) and the file goes on; if it does not stop
    /// within 2 s (inside one long builtin), the rest of its file is not run.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Rewrite the expected output of failing examples in place with what they
    /// printed (expected output that still matches is kept as written).
    #[arg(long)]
    pub update: bool,
    /// With --update: show the changes as a diff, write nothing.
    #[arg(long, requires = "update")]
    pub dry_run: bool,
    /// Default doctest option flag for the run (repeatable), as `python -m doctest -o`.
    #[arg(short = 'o', long = "option", value_name = "FLAG", value_parser = flag_names())]
    pub options: Vec<String>,
    /// Print every example as it is tried (Trying:/Expecting:/ok).
    #[arg(short, long)]
    pub verbose: bool,
    /// Stop at the first failing example (FAIL_FAST).
    #[arg(short = 'f', long)]
    pub fail_fast: bool,
    /// Show failures as unified diffs (REPORT_UDIFF).
    #[arg(long)]
    pub diff: bool,
    /// Directory to search for applications before $HARNESS_APPS (repeatable).
    #[arg(long = "apps", value_name = "DIR")]
    pub apps: Vec<PathBuf>,
    /// After the summary, print to stderr where the time went (cluster start,
    /// application deploy and clone, examples, teardown, total) in milliseconds.
    #[arg(long)]
    pub timings: bool,
    #[command(flatten)]
    pub database: crate::cli::pg::PgOptions,
}

fn flag_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(Flags::NAMES.iter().map(|(n, _)| *n))
}

impl RunArgs {
    /// The run's default flags from `-o`, `--fail-fast` and `--diff`.
    pub fn flags(&self) -> Flags {
        let mut flags = Flags::NONE;
        for name in &self.options {
            flags |= Flags::by_name(name).unwrap_or(Flags::NONE);
        }
        if self.fail_fast {
            flags |= Flags::FAIL_FAST;
        }
        if self.diff {
            flags |= Flags::REPORT_UDIFF;
        }
        flags
    }
}

/// Colour only on a terminal, and never when `NO_COLOR` is set (non-empty).
fn colour_wanted() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}

/// Everything printed to stdout goes through this lock; an interrupt takes it for
/// good, so nothing is printed after `interrupted`.
static PRINT: Mutex<()> = Mutex::new(());

fn print_lock() -> std::sync::MutexGuard<'static, ()> {
    PRINT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where a file's report goes: straight to stdout (one slot) or a buffer printed
/// when the file's turn comes.
enum Sink {
    Stdout,
    Buffer(Vec<u8>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Stdout => {
                let _lock = print_lock();
                progress::clear();
                std::io::stdout().write_all(buf)?;
                Ok(buf.len())
            }
            Sink::Buffer(v) => v.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stdout => std::io::stdout().flush(),
            Sink::Buffer(_) => Ok(()),
        }
    }
}

/// A file done, as a slot hands it to the printer.
struct Done {
    index: usize,
    output: Vec<u8>,
    /// Printed to stderr at the file's turn (an unusable file).
    error: Option<String>,
    tally: Tally,
    stopped: bool,
    report: FileReport,
}

impl Done {
    /// A file that could not be replayed: nothing counted, `message` reported.
    fn unusable(
        index: usize,
        output: Vec<u8>,
        display: String,
        clock: Instant,
        message: &str,
    ) -> Done {
        Done {
            index,
            output,
            error: Some(message.to_string()),
            tally: Tally::default(),
            stopped: false,
            report: FileReport {
                display,
                seconds: clock.elapsed().as_secs_f64(),
                outcome: FileOutcome::Unusable(message.to_string()),
            },
        }
    }
}

/// Run `harness run`; returns the process exit status.
pub fn run(args: &RunArgs) -> i32 {
    let started = Instant::now();
    let targets = match select::expand(&args.files, &args.keyword) {
        Ok(t) => t,
        Err(errors) => {
            for e in errors {
                eprintln!("harness run: error: {e}");
            }
            return 2;
        }
    };
    if let Some(t) = args.timeout.filter(|t| !(t.is_finite() && *t > 0.0)) {
        eprintln!("harness run: error: --timeout must be a positive number of seconds, not {t}");
        return 2;
    }
    // A report that cannot be written is said before the run, not after it.
    for path in args.junit.iter().chain(&args.json) {
        if let Err(e) = writable(path) {
            eprintln!("harness run: error: cannot write {}: {e}", path.display());
            return 2;
        }
    }
    let opts = RunOptions {
        flags: args.flags(),
        verbose: args.verbose,
        paint: Paint {
            enabled: colour_wanted(),
        },
    };
    crate::core::logging::install(crate::core::logging::Format::Basic);
    crate::core::logging::set_sink(Some(Box::new(|line: &str| {
        crate::script::output::write(line)
    })));
    crate::pg::cleanup::exit_on_signal(on_interrupt);

    let options = args.database.options();
    // Files on one shared server run one at a time unless -j says otherwise: marts
    // are named by definition, code and second, and would collide.
    let shared = options.kind() == crate::pg::BackendKind::Url;
    let jobs = args
        .jobs
        .map(|n| n as usize)
        .unwrap_or_else(|| {
            if shared {
                1
            } else {
                std::thread::available_parallelism().map_or(1, |n| n.get())
            }
        })
        .clamp(1, targets.len().max(1));
    let slots: Vec<Arc<crate::pg::Clusters>> = if shared {
        vec![Arc::new(args.database.clusters())]
    } else {
        (0..jobs)
            .map(|_| Arc::new(args.database.clusters()))
            .collect()
    };
    if shared {
        // A bad or unreachable server is one error before any example, not one
        // failure per example.
        match slots[0].primary() {
            Err(e) => {
                eprintln!(
                    "harness run: error: {}",
                    e.to_string().replace('\n', "\n    ")
                );
                return 2;
            }
            Ok(server) => match crate::provision::sweep_leftovers(&server) {
                Ok(dropped) if !dropped.is_empty() => eprintln!(
                    "harness run: dropped what killed runs left on the server: {}",
                    dropped.join(", ")
                ),
                Ok(_) => {}
                Err(e) => eprintln!("harness run: warning: cannot sweep the server: {e}"),
            },
        }
    }
    progress::start(
        targets.len(),
        !args.verbose && std::io::stderr().is_terminal(),
    );

    // Longest first (by the last run's times), so that no slot is left with a
    // long file at the end; printing stays in argument order.
    let durations = durations::Durations::load();
    let order: Vec<usize> = if jobs > 1 {
        let paths: Vec<&Path> = targets.iter().map(|t| t.path.as_path()).collect();
        durations.longest_first(&paths)
    } else {
        (0..targets.len()).collect()
    };
    // Whole files replayed to the end, with their times, for the next run's order.
    let mut timed: Vec<(&Path, f64)> = Vec::new();
    let next = AtomicUsize::new(0);
    // FAIL_FAST: the first (in argument order) file that stopped; later ones do not run.
    let stop_at = AtomicUsize::new(usize::MAX);
    let (tx, rx) = mpsc::channel::<Done>();
    let mut total = Tally::default();
    let mut unusable = false;
    let mut files: Vec<FileReport> = Vec::new();
    let server_logs = Mutex::new(String::new());
    std::thread::scope(|scope| {
        for slot in 0..jobs {
            let clusters = slots[if shared { 0 } else { slot }].clone();
            let (tx, next, stop_at, targets, opts, order, server_logs) = (
                tx.clone(),
                &next,
                &stop_at,
                &targets,
                &opts,
                &order,
                &server_logs,
            );
            scope.spawn(move || {
                // A slot out of work stops its own servers while the others
                // still replay: teardown overlaps with work instead of following it.
                let _teardown = (!shared).then(|| SlotTeardown {
                    clusters: &clusters,
                    logs: server_logs,
                });
                while let Some(&index) = order.get(next.fetch_add(1, Ordering::SeqCst)) {
                    if index > stop_at.load(Ordering::SeqCst) {
                        continue;
                    }
                    let sink = if jobs == 1 {
                        Sink::Stdout
                    } else {
                        Sink::Buffer(Vec::new())
                    };
                    let done = run_target(index, &targets[index], args, opts, &clusters, sink);
                    if done.stopped {
                        stop_at.fetch_min(index, Ordering::SeqCst);
                    }
                    if tx.send(done).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Print in argument order as files finish.
        let mut waiting: std::collections::BTreeMap<usize, Done> = Default::default();
        let mut printed = 0;
        let mut stopped = false;
        for done in rx.iter() {
            waiting.insert(done.index, done);
            while let Some(done) = waiting.remove(&printed) {
                printed += 1;
                if stopped {
                    continue;
                }
                {
                    let _lock = print_lock();
                    progress::clear();
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(&done.output);
                    let _ = out.flush();
                    if let Some(e) = &done.error {
                        eprintln!("{e}");
                    }
                }
                unusable |= done.error.is_some();
                if done.error.is_none() && !done.stopped && targets[done.index].line.is_none() {
                    timed.push((&targets[done.index].path, done.report.seconds));
                }
                total.add(done.tally);
                files.push(done.report);
                progress::file_done(total.failed);
                stopped |= done.stopped;
            }
        }
    });
    {
        let _lock = print_lock();
        progress::clear();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", paint_tally(&opts.paint, total));
        let _ = out.flush();
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut report_failed = false;
    if let Some(path) = &args.junit {
        report_failed |= write_report(path, &reports::junit(&files, seconds));
    }
    if let Some(path) = &args.json {
        report_failed |= write_report(path, &reports::json(&files));
    }
    durations.record(&timed);
    // Databases of interpreters abandoned by a timeout (with their marts).
    crate::provision::drop_live_databases();
    if shared {
        for clusters in &slots {
            // Only a server that failed itself gets its log shown.
            let tails = clusters.failed_log_tails(20);
            if !tails.is_empty() {
                eprint!("{tails}");
            }
            let _timing = crate::timings::span("teardown");
            clusters.shutdown();
        }
    }
    {
        let logs = server_logs.lock().unwrap_or_else(|e| e.into_inner());
        if !logs.is_empty() {
            eprint!("{logs}");
        }
    }
    {
        // What the exit would wait for anyway (a spare cluster copy for the next run).
        let _timing = crate::timings::span("spare copy wait");
        crate::pg::embedded::spares::wait_for_copy(Duration::from_secs(3));
    }
    if args.timings {
        eprint!("{}", crate::timings::report(started.elapsed()));
    }
    if unusable || report_failed {
        2
    } else if total.failed > 0 {
        1
    } else {
        0
    }
}

/// Stops a slot's own servers when the slot ends (out of work, or unwinding),
/// keeping the log tail of a server that failed for the end of the run.
struct SlotTeardown<'a> {
    clusters: &'a crate::pg::Clusters,
    logs: &'a Mutex<String>,
}

impl Drop for SlotTeardown<'_> {
    fn drop(&mut self) {
        let tails = self.clusters.failed_log_tails(20);
        if !tails.is_empty() {
            self.logs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_str(&tails);
        }
        let _timing = crate::timings::span("teardown");
        self.clusters.shutdown();
    }
}

/// Whether `path` can be written (its directory exists and takes it), without
/// creating or truncating it.
fn writable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if path.is_dir() {
        return Err(std::io::Error::other("it is a directory"));
    }
    let check = if path.exists() { path } else { dir };
    let c = std::ffi::CString::new(check.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other("the path holds a NUL byte"))?;
    // SAFETY: a valid NUL-terminated path.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Writes a report file; true when it could not be written (said on stderr).
fn write_report(path: &Path, text: &str) -> bool {
    match std::fs::write(path, text) {
        Ok(()) => false,
        Err(e) => {
            eprintln!("harness run: error: cannot write {}: {e}", path.display());
            true
        }
    }
}

/// Ctrl-C (or SIGTERM/SIGHUP): nothing more is printed, `interrupted` is, and the
/// databases this run made on a server it does not own are dropped; then the servers
/// stop and the process exits with 128 + the signal (130 for Ctrl-C).
fn on_interrupt(_signal: i32) {
    std::mem::forget(print_lock());
    progress::clear();
    let _ = std::io::stdout().flush();
    eprintln!("interrupted");
    crate::provision::drop_live_databases();
}

/// Replays one target on the current slot.
fn run_target(
    index: usize,
    target: &Target,
    args: &RunArgs,
    opts: &RunOptions,
    clusters: &Arc<crate::pg::Clusters>,
    mut sink: Sink,
) -> Done {
    let clock = Instant::now();
    let display = target.display.clone();
    let loaded = doctest::load(&target.path, &display).and_then(|(text, examples)| {
        select_examples(target, examples).map(|examples| (text, examples))
    });
    let (text, examples) = match loaded {
        Ok(x) => x,
        Err(err) => return Done::unusable(index, take(sink), display, clock, &err.to_string()),
    };
    let name = doctest::test_name(&target.path, &display);
    let mut exec = interpreter::spawn(&target.path, args, clusters);
    let ran = {
        let _timing = crate::timings::span("examples");
        doctest::run_examples(&display, &name, &examples, &mut exec, opts, &mut sink)
    };
    {
        let _timing = crate::timings::span("teardown");
        drop(exec);
    }
    let result = match ran {
        Ok(r) => r,
        // run_examples itself reports no file errors once the file parsed.
        Err(err) => return Done::unusable(index, take(sink), display, clock, &err.to_string()),
    };
    if args.update {
        let _ = sink.write_all(
            update::update(
                &target.path,
                &display,
                &text,
                &examples,
                &result.records,
                args.dry_run,
            )
            .as_bytes(),
        );
    }
    let _ = writeln!(
        sink,
        "{display}: {}",
        paint_tally(&opts.paint, result.tally)
    );
    let records = result
        .records
        .iter()
        .map(|r| {
            let first = examples[r.index].source.lines().next().unwrap_or("");
            (first.to_string(), r.clone())
        })
        .collect();
    Done {
        index,
        output: take(sink),
        error: None,
        tally: result.tally,
        stopped: result.stopped,
        report: FileReport {
            display,
            seconds: clock.elapsed().as_secs_f64(),
            outcome: FileOutcome::Ran(records),
        },
    }
}

fn take(sink: Sink) -> Vec<u8> {
    match sink {
        Sink::Stdout => Vec::new(),
        Sink::Buffer(v) => v,
    }
}

/// `FILE:LINE`: the examples up to the one whose prompt, source or expected output
/// is on LINE.
fn select_examples(
    target: &Target,
    mut examples: Vec<doctest::Example>,
) -> Result<Vec<doctest::Example>, doctest::FileError> {
    let Some(line) = target.line else {
        return Ok(examples);
    };
    let at = examples.iter().position(|e| {
        let first = e.lineno + 1;
        let last = e.lineno + e.source.lines().count() + e.want.lines().count();
        (first..=last).contains(&line)
    });
    match at {
        Some(k) => {
            examples.truncate(k + 1);
            Ok(examples)
        }
        None => Err(doctest::FileError::Malformed {
            path: target.display.clone(),
            line,
            message: "no example at this line".into(),
        }),
    }
}

fn paint_tally(paint: &Paint, tally: Tally) -> String {
    let text = tally.to_string();
    if tally.failed > 0 {
        paint.red(&text)
    } else if tally.skipped > 0 {
        paint.yellow(&text)
    } else {
        paint.green(&text)
    }
}

mod progress {
    //! `done/total files, N failed` on stderr when it is a terminal, rewritten in
    //! place and cleared before anything else is printed.
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    static ON: AtomicBool = AtomicBool::new(false);
    static SHOWN: AtomicBool = AtomicBool::new(false);
    static TOTAL: AtomicUsize = AtomicUsize::new(0);
    static DONE: AtomicUsize = AtomicUsize::new(0);

    pub fn start(total: usize, on: bool) {
        TOTAL.store(total, Ordering::SeqCst);
        ON.store(on && total > 1, Ordering::SeqCst);
    }

    /// Call with the print lock held.
    pub fn clear() {
        if SHOWN.swap(false, Ordering::SeqCst) {
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }

    /// Call with the print lock released.
    pub fn file_done(failed: usize) {
        let done = DONE.fetch_add(1, Ordering::SeqCst) + 1;
        if !ON.load(Ordering::SeqCst) {
            return;
        }
        let total = TOTAL.load(Ordering::SeqCst);
        if done >= total {
            return;
        }
        let _lock = super::print_lock();
        let mut err = std::io::stderr();
        let _ = write!(err, "\r\x1b[K{done}/{total} files, {failed} failed");
        let _ = err.flush();
        SHOWN.store(true, Ordering::SeqCst);
    }
}

mod interpreter {
    //! The interpreter of one file, on its own thread: the doctest engine talks to it
    //! through [`Remote`], which can give up on an example after `--timeout`.
    use super::*;
    use crate::bindings;
    use crate::core::app::SearchPath;
    use crate::provision::Provisioner;
    use crate::script;
    use std::rc::Rc;

    /// Stack of an interpreter thread (deep recursion raises RecursionError first).
    const STACK: usize = 64 << 20;

    /// How long a timed-out example has to stop once told to.
    const STOP_GRACE: Duration = Duration::from_secs(2);

    /// When, within [`STOP_GRACE`], the database calls of an example that has not
    /// stopped yet are cancelled: first after a moment (an example the flag stops
    /// touches no connection), then once more (it may have begun another call; its
    /// cleanup after the first, if still running then, is cancelled too).
    const DB_CANCELS: [Duration; 2] = [Duration::from_millis(200), Duration::from_millis(1000)];

    /// How long to let cancel requests land (the server acts on them a moment after
    /// they are sent) before the next example may use a connection they were for.
    const CANCEL_SETTLE: Duration = Duration::from_millis(100);

    struct ScriptExecutor {
        interp: script::Interpreter,
        session: Rc<bindings::Session>,
    }

    impl Drop for ScriptExecutor {
        /// Drops the marts and application databases the transcript made.
        fn drop(&mut self) {
            self.session.finish();
        }
    }

    impl Executor for ScriptExecutor {
        fn run(&mut self, source: &str, name: &str) -> Result<doctest::Outcome, doctest::Invalid> {
            match self.interp.run_example(source, name) {
                Ok(o) => Ok(doctest::Outcome {
                    output: o.output,
                    exception: o.exception.map(|r| doctest::Raised {
                        type_name: r.type_name,
                        message: r.message,
                        traceback: r.traceback,
                    }),
                }),
                Err(e) => Err(doctest::Invalid {
                    line: e.line,
                    message: e.message,
                    span: e.span,
                }),
            }
        }
    }

    type Reply = Result<doctest::Outcome, doctest::Invalid>;

    /// The engine's end of an interpreter thread.
    pub struct Remote {
        requests: Option<mpsc::Sender<(String, String)>>,
        replies: mpsc::Receiver<Reply>,
        timeout: Option<f64>,
        broken: Option<String>,
        /// The example just run timed out and was stopped.
        stopped: Option<String>,
        /// The interpreter's cancel flag (see `script::Interpreter::cancel_flag`).
        cancel: Arc<std::sync::OnceLock<Arc<std::sync::atomic::AtomicBool>>>,
        /// With --timeout: the connections the interpreter thread opens, to cancel the
        /// database call a timed-out example is blocked in.
        db_calls: Option<Arc<crate::pg::cancel::Scope>>,
        thread: Option<std::thread::JoinHandle<()>>,
        /// The interpreter thread's id, to lower its priority once abandoned.
        tid: Arc<std::sync::atomic::AtomicI32>,
    }

    impl Executor for Remote {
        fn run(&mut self, source: &str, name: &str) -> Reply {
            let gone = || doctest::Outcome::default();
            let Some(requests) = &self.requests else {
                return Ok(gone());
            };
            if requests
                .send((source.to_string(), name.to_string()))
                .is_err()
            {
                self.broken = Some("The interpreter ended unexpectedly".into());
                return Ok(gone());
            }
            let reply = match self.timeout {
                Some(secs) => self.replies.recv_timeout(Duration::from_secs_f64(secs)),
                None => self
                    .replies
                    .recv()
                    .map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            };
            match reply {
                Ok(r) => r,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let secs = self.timeout.unwrap_or_default();
                    if let Some(flag) = self.cancel.get() {
                        flag.store(true, Ordering::SeqCst);
                        if self.wait_for_stop() {
                            self.stopped = Some(format!(
                                "Timed out after {secs} s (stopped; the examples after it run on \
                                 in the state it left)"
                            ));
                            return Ok(gone());
                        }
                    }
                    // Stuck where the flag is not looked at (a long builtin, a call
                    // the server did not cancel): it may run until the process ends,
                    // so leave the cores to the rest.
                    let tid = self.tid.load(Ordering::SeqCst);
                    if tid > 0 {
                        // SAFETY: setpriority on a thread id of this process.
                        unsafe {
                            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19);
                        }
                    }
                    self.broken = Some(format!("Timed out after {secs} s"));
                    Ok(gone())
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.broken = Some("The interpreter ended unexpectedly".into());
                    Ok(gone())
                }
            }
        }

        fn broken(&self) -> Option<String> {
            self.broken.clone()
        }

        fn stopped(&mut self) -> Option<String> {
            self.stopped.take()
        }
    }

    impl Remote {
        /// Waits up to [`STOP_GRACE`] for the example told to stop to reply,
        /// cancelling its database calls on the way ([`DB_CANCELS`]). True when it
        /// stopped.
        fn wait_for_stop(&self) -> bool {
            let told = Instant::now();
            let mut cancelled = false;
            for at in DB_CANCELS.iter().copied().chain([STOP_GRACE]) {
                match self.replies.recv_timeout(at.saturating_sub(told.elapsed())) {
                    Ok(_) => {
                        if cancelled {
                            std::thread::sleep(CANCEL_SETTLE);
                        }
                        return true;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => return false,
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                }
                if let (Some(scope), true) = (&self.db_calls, at < STOP_GRACE) {
                    scope.cancel();
                    cancelled = true;
                }
            }
            false
        }
    }

    impl Drop for Remote {
        /// Ends the interpreter and waits for its teardown, unless it is stuck in a
        /// timed-out example (then it is left to the process exit).
        fn drop(&mut self) {
            self.requests.take();
            if self.broken.is_none() {
                if let Some(t) = self.thread.take() {
                    let _ = t.join();
                }
            }
        }
    }

    /// A fresh interpreter per transcript, rooted at the transcript's directory,
    /// on a thread of its own.
    pub fn spawn(file: &Path, args: &RunArgs, clusters: &Arc<crate::pg::Clusters>) -> Remote {
        let (req_tx, req_rx) = mpsc::channel::<(String, String)>();
        let (rep_tx, rep_rx) = mpsc::channel::<Reply>();
        let file = file.to_path_buf();
        let apps = args.apps.clone();
        let multicluster = args.database.multicluster;
        let clusters = clusters.clone();
        let tid = Arc::new(std::sync::atomic::AtomicI32::new(0));
        let tid_of_thread = tid.clone();
        let cancel = Arc::new(std::sync::OnceLock::new());
        let cancel_of_thread = cancel.clone();
        let db_calls = args.timeout.map(|_| crate::pg::cancel::Scope::new());
        let db_calls_of_thread = db_calls.clone();
        let thread = std::thread::Builder::new()
            .name("harness-interpreter".into())
            .stack_size(STACK)
            .spawn(move || {
                // SAFETY: gettid has no preconditions.
                tid_of_thread.store(unsafe { libc::gettid() }, Ordering::SeqCst);
                // Every connection of the file's work, the application's deploy included.
                let _scope = db_calls_of_thread.as_ref().map(|s| s.enter());
                let mut exec = make_executor(&file, &apps, multicluster, clusters);
                let _ = cancel_of_thread.set(exec.interp.cancel_flag());
                for (source, name) in req_rx {
                    let reply = exec.run(&source, &name);
                    if rep_tx.send(reply).is_err() {
                        break;
                    }
                }
            });
        let (thread, broken) = match thread {
            Ok(t) => (Some(t), None),
            Err(e) => (
                None,
                Some(format!("Cannot start an interpreter thread: {e}")),
            ),
        };
        Remote {
            requests: Some(req_tx),
            replies: rep_rx,
            timeout: args.timeout,
            broken,
            stopped: None,
            cancel,
            db_calls,
            thread,
            tid,
        }
    }

    fn make_executor(
        file: &Path,
        apps: &[PathBuf],
        multicluster: bool,
        clusters: Arc<crate::pg::Clusters>,
    ) -> ScriptExecutor {
        let mut interp = script::Interpreter::new();
        let search = SearchPath::new(apps, file.parent());
        let session = bindings::Session::new(Provisioner::new(clusters, search));
        bindings::install(&mut interp, &session);
        let base = file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        interp.set_base_dir(base);
        if multicluster {
            interp.set_sys_attr("MART_MULTICLUSTER_TEST", script::Value::Bool(true));
        }
        ScriptExecutor { interp, session }
    }
}
