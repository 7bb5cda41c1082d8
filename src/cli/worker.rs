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
use crate::asynctask::worker_loop::{self, LoopOptions};
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
    /// Jobs run at once by this process.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub concurrency: usize,
    /// Async task queues to serve (default: every queue in asynctask_workers).
    #[arg(long, num_args = 1.., value_delimiter = ',', value_name = "QUEUE")]
    pub queues: Vec<String>,
    /// Run no job executors, only task workers.
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
}

/// The logger name of the worker process's own lines.
const LOGGER: &str = "HarnessWorker";

/// The executors and task workers this build knows: rex.mart's `rexmart_create`
/// (job and task) and the test executors of [`Registry::builtin`]; an application's
/// Python ones are added when it is opened.
pub fn builtin() -> Result<(Registry, WorkerRegistry)> {
    use crate::mart::tasks::{MartCreateExecutor, MartCreateWorker};
    let jobs = Registry::builtin().with(Arc::new(MartCreateExecutor))?;
    let tasks = WorkerRegistry::new().with(Arc::new(MartCreateWorker))?;
    Ok((jobs, tasks))
}

/// `harness worker` with the executors and workers this build knows.
pub fn run(args: &WorkerArgs) -> i32 {
    match builtin() {
        Ok((jobs, tasks)) => run_with(args, jobs, tasks),
        Err(e) => {
            eprintln!("harness worker: error: {e}");
            2
        }
    }
}

/// `harness worker` with the given executors and task workers.
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
        // rex's JobInitialize: one job executor queue per `job_queues`.
        crate::job::workers::initialize(&mut app.settings)?;
        let mut queues = configured_workers(&app.settings)?;
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
    // The application's own executors and task workers (Python), beside ours.
    let (registry, workers) =
        match crate::bindings::app_code::extend_registries(&app, registry, workers) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("harness worker: error: {e}");
                return 2;
            }
        };
    let stop = StopSignal::new();
    install_signal_handlers(stop.clone());
    let tasks_stop = Arc::new(AtomicBool::new(false));
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
        let name = config.worker.clone();
        task_threads.push(std::thread::spawn(move || loop {
            match worker_loop::run(&app, worker.as_ref(), transport.as_ref(), &queue, &opts) {
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
    let mut status = 0;
    if args.no_jobs {
        // No job runner (whose heartbeat does this): repair once, at start.
        if let Err(e) = runner::recover_executors(&app, &registry) {
            log::error!(target: LOGGER, "Recovery failed:\n{e}");
        }
        while stop.level() == 0 {
            std::thread::sleep(Duration::from_millis(20));
        }
    } else {
        let mut opts = RunnerOptions::new(
            &args
                .worker_id
                .clone()
                .unwrap_or_else(runner::default_worker_id),
        );
        opts.concurrency = args.concurrency.max(1);
        opts.grace = Duration::from_secs(args.grace);
        opts.poll_interval = Duration::from_millis(args.poll_interval.max(1));
        match runner::run(&app, &registry, &settings, &opts, &stop) {
            Ok(report) if report.abandoned.is_empty() => {}
            Ok(_) => status = 1,
            Err(e) => {
                log::error!(target: LOGGER, "{e}");
                status = 1;
            }
        }
    }
    tasks_stop.store(true, Ordering::SeqCst);
    if stop.level() < 2 {
        for t in task_threads {
            let _ = t.join();
        }
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

/// SIGTERM and SIGINT raise the stop level of `stop` (1: graceful, 2: at once).
fn install_signal_handlers(stop: StopSignal) {
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
                match stop.request() {
                    1 => {
                        log::info!(target: LOGGER, "Termination received; stopping (again to stop at once)")
                    }
                    _ => {
                        log::warn!(target: LOGGER, "Second termination received; stopping at once")
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
}
