//! `harness worker --app NAME [--pg-url URL] [--concurrency N] [--queues Q...]`: runs
//! the queuer, the job executors and the async task workers of an application until
//! stopped. Any number of these processes, on any number of hosts, may share one
//! database (claims, heartbeats and fencing live in `job::claim`).
//!
//! SIGTERM/SIGINT: stop claiming, let running jobs finish within `--grace`, then give
//! them up and record why. A second signal stops at once. Exit status: 0 stopped
//! cleanly, 1 jobs were given up at shutdown or the runner failed, 2 unusable input.
//!
//! Also home of [`app_transport`], shared with `task`.

use super::app::AppArgs;
use crate::asynctask::settings::{poll_interval, workers as configured_workers, WorkerConfig};
use crate::asynctask::worker_loop::{self, LoopOptions, Outage};
use crate::asynctask::{get_transport, Transport, Worker, WorkerRegistry};
use crate::core::app::App;
use crate::core::logging::{self, Format};
use crate::core::{Error, Result};
use crate::job::executor_worker::{self, validate_payload};
use crate::job::runner::{self, RunnerOptions, StopSignal};
use crate::job::settings::JobSettings;
use crate::job::Registry;
use clap::{Args, ValueEnum};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The app's task transport; without a transport (or `db`) setting, tasks live in
/// the application database.
pub fn app_transport(app: &App) -> Result<Arc<dyn Transport>> {
    let configured = app
        .settings
        .get_str("asynctask_transport")
        .or(app.settings.get_str("db"));
    match configured {
        Some(_) => get_transport(app, None),
        None => get_transport(app, Some(&format!("pgsql:{}", app.db.name))),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// `LEVEL:Name:message` (rex's basic format).
    #[default]
    Basic,
    /// Time stamp, level, logger, message.
    Timestamped,
    /// One JSON object per line.
    Json,
}

/// Arguments of `harness worker`.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub app: AppArgs,
    /// Jobs run at once by this process (at least 1).
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = at_least_one)]
    pub concurrency: usize,
    /// Async task queues to serve (default: every queue in asynctask_workers).
    #[arg(long, num_args = 1.., value_delimiter = ',', value_name = "QUEUE")]
    pub queues: Vec<String>,
    /// Run no job executors (neither the job runner nor the job_executor queues),
    /// only the other task workers.
    #[arg(long)]
    pub no_jobs: bool,
    /// Seconds running jobs get to finish after SIGTERM/SIGINT.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub grace: u64,
    /// Milliseconds between polls when no notification arrives.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    pub poll_interval: u64,
    /// Written to claimed jobs (default HOST:PID).
    #[arg(long, value_name = "ID")]
    pub worker_id: Option<String>,
    #[arg(long, value_enum, default_value_t = LogFormat::Basic)]
    pub log_format: LogFormat,
    /// Root log level: DEBUG, INFO, WARNING, ERROR.
    #[arg(long, default_value = "INFO", value_name = "LEVEL")]
    pub log_level: String,
    /// Exit (status 1) once the database server has been out of reach this long,
    /// e.g. 90s, 5m, 1h (default: never; the worker reconnects with backoff).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub give_up_after: Option<Duration>,
}

/// `--give-up-after`: a number with a unit (ms, s, m, h); a bare number is seconds.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("expected a duration such as 90s, 5m or 1h, got {text:?}"))?;
    let seconds = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        other => return Err(format!("unknown unit {other:?} (use ms, s, m or h)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| e.to_string())
}

/// `--concurrency`: a whole number, 1 or more.
fn at_least_one(text: &str) -> std::result::Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("a worker runs at least 1 job at once".to_string()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// The logger name of the worker process's own lines.
const LOGGER: &str = "HarnessWorker";

/// The executors and task workers serving `app`: those of its packages and its own
/// Python ones (what `submit` and `task` check their input against, and what
/// `worker` runs).
pub fn registries(app: &App) -> Result<(Registry, WorkerRegistry)> {
    crate::bindings::app_code::registries(app)
}

/// The task queues `app` configures (with rex.job, its `JobInitialize` adds one
/// `job_executor` queue per `job_queues`), with their workers.
pub fn configured_queues(app: &App) -> Result<BTreeMap<String, WorkerConfig>> {
    let mut settings = app.settings.clone();
    if app.packages.contains("rex.job") {
        crate::job::workers::initialize(&mut settings)?;
    }
    configured_workers(&settings)
}

/// `harness worker` with the executors and workers this build knows.
pub fn run(args: &WorkerArgs) -> i32 {
    run_with(args, Registry::new(), WorkerRegistry::new())
}

/// `harness worker` with extra executors and task workers beside the application's
/// (its packages' and its own).
pub fn run_with(args: &WorkerArgs, registry: Registry, workers: WorkerRegistry) -> i32 {
    logging::install(match args.log_format {
        LogFormat::Basic => Format::Basic,
        LogFormat::Timestamped => Format::Timestamped,
        LogFormat::Json => Format::Json,
    });
    if !logging::set_level(&args.log_level) {
        eprintln!(
            "harness worker: error: unknown log level: {}",
            args.log_level
        );
        return 2;
    }
    let setup = (|| -> Result<(App, JobSettings, BTreeMap<String, WorkerConfig>)> {
        let mut app = args.app.open()?;
        let settings = JobSettings::from_settings(&app.settings)?;
        // rex.job's JobInitialize: one job executor queue per `job_queues`.
        if app.packages.contains("rex.job") {
            crate::job::workers::initialize(&mut app.settings)?;
        }
        let mut queues = configured_workers(&app.settings)?;
        if args.no_jobs {
            queues.retain(|_, config| config.worker != executor_worker::NAME);
        }
        if !args.queues.is_empty() {
            for q in &args.queues {
                crate::asynctask::queue_name::check(q)?;
                if !queues.contains_key(q) {
                    return Err(Error::with("Cannot identify worker for queue:", q));
                }
            }
            queues.retain(|q, _| args.queues.contains(q));
        }
        Ok((app, settings, queues))
    })();
    let (app, settings, queues) = match setup {
        Ok(s) => s,
        Err(e) => {
            eprintln!("harness worker: error: {e}");
            return 2;
        }
    };
    // The executors and task workers of the application's packages and its own
    // (Python), with the extra ones given.
    let (registry, workers) = match registries(&app) {
        Ok((mut jobs, mut tasks)) => {
            for executor in registry.types().iter().filter_map(|t| registry.get(t)) {
                jobs.replace(executor.clone());
            }
            for worker in workers.in_order() {
                tasks.replace(worker.clone());
            }
            (jobs, tasks)
        }
        Err(e) => {
            eprintln!("harness worker: error: {e}");
            return 2;
        }
    };
    let stop = StopSignal::new();
    let tasks_stop = Arc::new(AtomicBool::new(false));
    let outage = Arc::new(Outage::new(LOGGER, args.give_up_after));
    install_signal_handlers(stop.clone(), tasks_stop.clone());
    let mut task_threads = Vec::new();
    for (queue, config) in queues {
        let worker: Arc<dyn Worker> = if config.worker == executor_worker::NAME {
            Arc::new(JobTaskDrain)
        } else {
            match workers.get(&config.worker) {
                Some(w) => w.clone(),
                None => {
                    log::error!(target: LOGGER, "Worker \"{}\" does not exist; queue {queue} not served", config.worker);
                    continue;
                }
            }
        };
        let transport = match app_transport(&app) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("harness worker: error: {e}");
                return 2;
            }
        };
        let opts = LoopOptions {
            poll_interval: poll_interval(&app.settings),
            halt_when_empty: false,
            stop: tasks_stop.clone(),
            rate: config
                .rate_max_calls
                .zip(config.rate_period)
                .map(|(calls, period)| (calls.max(1) as usize, period)),
        };
        let app = app.clone();
        log::info!(target: LOGGER, "Launching {} to work on queue {queue}", config.worker);
        let outage = outage.clone();
        let name = config.worker.clone();
        task_threads.push(std::thread::spawn(move || loop {
            let (worker, transport) = (worker.as_ref(), transport.as_ref());
            match worker_loop::run_resilient(&app, worker, transport, &queue, &opts, &outage) {
                // The worker ended itself (`sys.exit()`): start it again, as rex's
                // supervisor restarts a dead worker process.
                Err(e) if crate::asynctask::is_worker_exit(&e) => {
                    log::error!(target: LOGGER, "Worker for queue {queue} died; restarting...");
                    log::info!(target: LOGGER, "Launching {name} to work on queue {queue}");
                }
                Err(e) => {
                    log::error!(target: LOGGER, "Worker for queue {queue} failed:\n{e}");
                    break;
                }
                Ok(()) => break,
            }
        }));
    }
    // Out of reach for longer than --give-up-after: stop at once, status 1.
    let gave_up = Arc::new(AtomicBool::new(false));
    {
        let (outage, stop, tasks_stop, gave_up) = (
            outage.clone(),
            stop.clone(),
            tasks_stop.clone(),
            gave_up.clone(),
        );
        std::thread::spawn(move || loop {
            if let Some(down) = outage.given_up() {
                log::error!(
                    target: LOGGER,
                    "Giving up: the database server has been out of reach for {:.0} s",
                    down.as_secs_f64()
                );
                gave_up.store(true, Ordering::SeqCst);
                tasks_stop.store(true, Ordering::SeqCst);
                while stop.level() < 2 {
                    stop.request();
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        });
    }
    let mut status = 0;
    let mut given_up = false;
    let busy = Arc::new(AtomicUsize::new(0));
    // Without rex.job, the application has no jobs to run.
    if args.no_jobs || !app.packages.contains("rex.job") {
        // No job runner (whose heartbeat does this): repair at start, and when the
        // server is back after an outage.
        let mut was_down = true;
        while stop.level() == 0 {
            let down = outage.is_down();
            if was_down && !down {
                if let Err(e) = runner::recover_executors(&app, &registry) {
                    log::error!(target: LOGGER, "Recovery failed:\n{e}");
                }
            }
            was_down = down;
            std::thread::sleep(Duration::from_millis(20));
        }
    } else {
        let mut opts = RunnerOptions::new(
            &args
                .worker_id
                .clone()
                .unwrap_or_else(runner::default_worker_id),
        );
        opts.concurrency = args.concurrency;
        opts.busy = busy.clone();
        opts.outage = outage.clone();
        opts.grace = Duration::from_secs(args.grace);
        opts.poll_interval = Duration::from_millis(args.poll_interval.max(1));
        match runner::run(&app, &registry, &settings, &opts, &stop) {
            Ok(report) if report.abandoned.is_empty() => {}
            Ok(_) => {
                status = 1;
                given_up = true;
            }
            Err(e) => {
                log::error!(target: LOGGER, "{e}");
                status = 1;
            }
        }
    }
    tasks_stop.store(true, Ordering::SeqCst);
    // Task workers finish their current task within the grace period.
    let deadline = std::time::Instant::now() + Duration::from_secs(args.grace);
    let busy_threads =
        |threads: &[std::thread::JoinHandle<()>]| threads.iter().any(|t| !t.is_finished());
    while busy_threads(&task_threads) && stop.level() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if busy_threads(&task_threads) {
        log::warn!(target: LOGGER, "Task workers still busy given up; their tasks stay queued");
        status = 1;
        given_up = true;
    }
    if gave_up.load(Ordering::SeqCst) {
        return 1; // nothing to clean up on a server out of reach
    }
    if given_up {
        let done = || busy.load(Ordering::SeqCst) == 0 && !busy_threads(&task_threads);
        end_given_up_work(&app, &registry, &done);
    }
    status
}

/// In worker mode the job runner claims `queued` jobs from the job table itself, so a
/// `{'code': n}` task left by rex's queuer needs no action: it is taken and dropped.
struct JobTaskDrain;

impl Worker for JobTaskDrain {
    fn name(&self) -> &str {
        executor_worker::NAME
    }
    fn logger_name(&self) -> &str {
        executor_worker::LOGGER
    }
    fn process(&self, _app: &App, payload: &Value) -> Result<()> {
        let code = validate_payload(payload)?;
        log::debug!(target: executor_worker::LOGGER, "Job #{code} is claimed from the job table; task dropped");
        Ok(())
    }
}

/// Signals received; read by a watcher thread (the handler only counts).
static SIGNALS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_signal(_: libc::c_int) {
    SIGNALS.fetch_add(1, Ordering::SeqCst);
}

/// Calls `f(n)` (from a watcher thread) for the n-th SIGTERM or SIGINT received.
pub fn on_signals(mut f: impl FnMut(usize) + Send + 'static) {
    let handler: extern "C" fn(libc::c_int) = on_signal;
    // SAFETY: the handler only does an atomic add, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGTERM, handler as libc::sighandler_t);
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
    std::thread::spawn(move || {
        let mut seen = 0;
        loop {
            let n = SIGNALS.load(Ordering::SeqCst);
            while seen < n {
                seen += 1;
                f(seen);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
}

/// SIGTERM and SIGINT raise the stop level of `stop` (1: graceful, 2: at once) and
/// tell the task workers to stop after their current task.
fn install_signal_handlers(stop: StopSignal, tasks_stop: Arc<AtomicBool>) {
    on_signals(move |_| {
        tasks_stop.store(true, Ordering::SeqCst);
        match stop.request() {
            1 => {
                log::info!(target: LOGGER, "Termination received; stopping (again to stop at once)")
            }
            _ => log::warn!(target: LOGGER, "Second termination received; stopping at once"),
        }
    });
}

/// Work given up at shutdown is still running in this process: end its database
/// sessions (its statements fail, its transactions roll back, its locks are freed)
/// and sweep what it left, so that no unfinished mart outlives the worker.
fn end_given_up_work(app: &App, registry: &Registry, done: &dyn Fn() -> bool) {
    log::warn!(target: LOGGER, "Ending the database sessions of work given up");
    let servers = super::create::app_servers(app);
    for server in &servers {
        if let Err(e) = server.end_own_sessions(Duration::from_secs(5)) {
            log::error!(target: LOGGER, "Failed to end sessions:\n{e}");
        }
    }
    // The work's threads fail where they stand and clean up (a creation purges its
    // mart) with sessions of their own: give them a moment (a job busy outside the
    // database is not waited for: this is a stop at once), then sweep the rest.
    let until = std::time::Instant::now() + Duration::from_secs(2);
    while !done() && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    if let Err(e) = runner::recover_executors(app, registry) {
        log::error!(target: LOGGER, "Recovery failed:\n{e}");
    }
}
