//! rex.asynctask's `asynctask-workers`: one supervised process per queue of the
//! `asynctask_workers` setting (and per `asynctask_scheduled_workers` entry), each a
//! copy of this command running the queue's worker; a worker process that exits
//! (or crashes: it prints its own traceback) is started again, unless it ended
//! cleanly under `--halt-when-empty`. `--scheduler` puts the scheduled workers'
//! tasks on their queues on their cron schedules; one scheduler per application
//! database runs at a time (it holds an advisory lock; the others wait for it).
//! SIGTERM/SIGINT: the children are told to stop (SIGTERM: they finish their task),
//! then waited for.

use super::app::{self, open, project, Project};
use super::spec::{ArgSpec, OptSpec, TaskSpec};
use super::{Fatal, Invocation, TaskResult};
use crate::asynctask::ctl_executor::ENV_WORKER;
use crate::asynctask::settings::{poll_interval, workers as configured_workers};
use crate::asynctask::worker_loop::{self, LoopOptions};
use crate::asynctask::WorkerRegistry;
use crate::core::app::App;
use crate::core::settings::Settings;
use crate::core::{Error, Result};
use serde_json::Value;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LOGGER: &str = "AsyncTaskWorkerTask";

pub fn tasks() -> Vec<TaskSpec> {
    vec![TaskSpec {
        name: "asynctask-workers",
        hint: "Launches processes for the rex.asynctask workers that are configured.",
        help: "Starts worker processes according to the asynctask_workers setting that\n\
will continually watch the queues and process tasks as they come across.",
        args: vec![ArgSpec {
            name: "project",
            optional: true,
        }],
        opts: vec![
            OptSpec {
                name: "scheduler",
                key: None,
                value_name: None,
                plural: false,
                hint: "if specified, this process will act as the initiator for any ScheduledAsyncTaskWorkers that are configured. This should only be enabled for one process in cluster of workers.",
            },
            OptSpec {
                name: "quiet",
                key: Some('q'),
                value_name: None,
                plural: false,
                hint: "if specified, no logging output will be produced",
            },
            OptSpec {
                name: "halt-when-empty",
                key: None,
                value_name: None,
                plural: false,
                hint: "if specified, workers will automatically stop running when they detect no more tasks are found in their queue.",
            },
        ],
        run: asynctask_workers,
    }]
}

/// The workers `app` can run: those of its packages (rex.asynctask's
/// `ctl_executor` among them) and the application's own (Python) workers.
pub fn registry(app: &App) -> Result<WorkerRegistry> {
    Ok(crate::cli::worker::registries(app)?.1)
}

/// Set by SIGTERM/SIGINT.
static TERMINATED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_term(_: libc::c_int) {
    TERMINATED.store(true, Ordering::SeqCst);
}

fn catch_termination() {
    let handler: extern "C" fn(libc::c_int) = on_term;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGTERM, handler as libc::sighandler_t);
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
}

fn asynctask_workers(inv: &Invocation) -> TaskResult {
    let quiet = inv.flag("quiet") || inv.globals.quiet;
    let project = project(inv, inv.arg("project"))?;
    if let Ok(spec) = std::env::var(ENV_WORKER) {
        return worker_process(inv, &project, &spec, quiet);
    }
    let (_, settings) = app::settings(&project)?;
    if quiet {
        log::set_max_level(log::LevelFilter::Off);
    }
    let queues = queues(&settings)?;
    if queues.is_empty() {
        log::info!(target: LOGGER, "No workers configured; terminating.");
        return Ok(());
    }
    let app = open(&project)?;
    if quiet {
        log::set_max_level(log::LevelFilter::Off);
    }
    check_workers(&queues, &registry(&app)?)?;
    catch_termination();
    let env = child_env(&app);
    let halt = inv.flag("halt-when-empty");
    let mut children: Vec<(String, String, Option<Child>)> = Vec::new();
    for (queue, worker) in queues {
        let child = launch(&queue, &worker, &env)?;
        children.push((queue, worker, Some(child)));
    }
    let scheduler = if inv.flag("scheduler") {
        start_scheduler(&app)?
    } else {
        None
    };
    let interval = Duration::from_millis(
        settings
            .get("asynctask_workers_check_child_interval")
            .and_then(Value::as_u64)
            .filter(|ms| *ms >= 1)
            .unwrap_or(1000),
    );
    loop {
        for (queue, worker, slot) in children.iter_mut() {
            let Some(child) = slot else { continue };
            let Ok(Some(status)) = child.try_wait() else {
                continue;
            };
            if TERMINATED.load(Ordering::SeqCst) {
                break;
            }
            if status.success() && halt {
                *slot = None;
            } else {
                log::error!(target: LOGGER, "Worker for queue {queue} died; restarting...");
                *slot = Some(launch(queue, worker, &env)?);
            }
        }
        if TERMINATED.load(Ordering::SeqCst) {
            break;
        }
        if children.iter().all(|(_, _, c)| c.is_none()) {
            log::info!(target: LOGGER, "All workers halted; closing down...");
            break;
        }
        worker_loop::sleep_unless_stopped(interval, &TERMINATED);
    }
    if let Some((stop, thread)) = scheduler {
        log::debug!(target: LOGGER, "Termination received; shutting down scheduler");
        stop.store(true, Ordering::SeqCst);
        let _ = thread.join();
        log::debug!(target: LOGGER, "Scheduler dead");
    }
    if TERMINATED.load(Ordering::SeqCst) {
        log::debug!(target: LOGGER, "Termination received; shutting down children");
        stop_children(&mut children);
        log::debug!(target: LOGGER, "Children dead");
    }
    log::info!(target: LOGGER, "Complete");
    Ok(())
}

/// Queue -> worker name: the configured queues, then one per scheduled worker.
fn queues(settings: &Settings) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (queue, config) in configured_workers(settings)? {
        out.push((queue, config.worker));
    }
    for schedule in schedules(settings)? {
        out.push((schedule.queue(), schedule.worker_name().to_string()));
    }
    Ok(out)
}

/// Every queue's worker exists (rex validates the setting against the known names).
fn check_workers(queues: &[(String, String)], registry: &WorkerRegistry) -> Result<()> {
    let names = registry.names();
    for (queue, worker) in queues {
        if registry.get(worker).is_none() {
            return Err(Error::with("Expected one of:", names.join(", "))
                .wrap_with("Got:", crate::core::repr::py_str_repr(worker))
                .wrap_with(
                    "While validating mapping value for key:",
                    crate::core::repr::py_str_repr(queue),
                )
                .wrap_with("While validating setting:", "asynctask_workers"));
        }
    }
    Ok(())
}

/// What worker processes need to find the same servers and database as this one.
fn child_env(app: &App) -> Vec<(&'static str, String)> {
    let mut env = vec![
        (app::ENV_PRIMARY, app.db.server.url("postgres")),
        (app::ENV_DB, app.db.name.clone()),
        (app::ENV_HOSTING, app.hosting.url("postgres")),
    ];
    if let Some(parent) = app.dir.parent() {
        let mut apps = parent.display().to_string();
        if let Ok(more) = std::env::var("HARNESS_APPS") {
            apps = format!("{apps}:{more}");
        }
        env.push(("HARNESS_APPS", apps));
    }
    env
}

/// Starts a worker process: this same command line, told its queue and worker.
fn launch(queue: &str, worker: &str, env: &[(&str, String)]) -> Result<Child> {
    log::info!(target: LOGGER, "Launching {worker} to work on queue {queue}");
    let exe = std::env::current_exe().map_err(|e| Error::with("Cannot start a worker:", e))?;
    let mut command = Command::new(exe);
    let mut args = std::env::args_os();
    if let Some(argv0) = args.next() {
        std::os::unix::process::CommandExt::arg0(&mut command, argv0);
    }
    command
        .args(args)
        .env(ENV_WORKER, format!("{queue}\t{worker}"));
    for (k, v) in env {
        command.env(k, v);
    }
    crate::core::rex_process::die_with_parent(&mut command);
    command
        .spawn()
        .map_err(|e| Error::with("Cannot start a worker:", e))
}

/// SIGTERM to every child, then wait (SIGKILL after 30 s).
fn stop_children(children: &mut [(String, String, Option<Child>)]) {
    for (_, _, child) in children.iter() {
        if let Some(child) = child {
            // SAFETY: kill(2) on our own child's pid.
            unsafe {
                libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    for (_, _, slot) in children.iter_mut() {
        let Some(child) = slot else { continue };
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        *slot = None;
    }
}

/// A worker process: runs `worker` on `queue` until told to stop (or, with
/// `--halt-when-empty`, until the queue is empty).
fn worker_process(inv: &Invocation, project: &Project, spec: &str, quiet: bool) -> TaskResult {
    let (queue, worker) = spec
        .split_once('\t')
        .ok_or_else(|| Fatal(format!("Bad {ENV_WORKER}: {spec}")))?;
    let app = open(project)?;
    if quiet {
        log::set_max_level(log::LevelFilter::Off);
    }
    // The worker's `print` output waits in its interpreter's buffer until the call
    // ends; a log line first writes what was printed before it, so both reach
    // stderr in program order, as one unbuffered Python process writes them.
    crate::core::logging::set_sink(Some(Box::new(|line: &str| {
        let printed = crate::script::output::take();
        eprint!("{printed}{line}");
    })));
    catch_termination();
    let registry = registry(&app)?;
    let worker = registry
        .get(worker)
        .ok_or_else(|| Fatal(format!("Worker \"{worker}\" does not exist")))?;
    let transport = crate::cli::worker::app_transport(&app)?;
    let rate = configured_workers(&app.settings)?
        .get(queue)
        .and_then(|c| Some((c.rate_max_calls? as usize, c.rate_period?)));
    let opts = LoopOptions {
        poll_interval: poll_interval(&app.settings),
        halt_when_empty: inv.flag("halt-when-empty"),
        stop: Arc::new(AtomicBool::new(false)),
        rate,
    };
    let stop = opts.stop.clone();
    std::thread::spawn(move || loop {
        if TERMINATED.load(Ordering::SeqCst) {
            stop.store(true, Ordering::SeqCst);
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    });
    match worker_loop::run(&app, worker.as_ref(), transport.as_ref(), queue, &opts) {
        Ok(()) => {}
        // The worker ended its own process (`sys.exit()`): the supervisor restarts it.
        Err(e) if crate::asynctask::is_worker_exit(&e) => std::process::exit(1),
        Err(e) => {
            eprint!("{}", e.uncaught_traceback());
            std::process::exit(1);
        }
    }
    Ok(())
}

/// One `asynctask_scheduled_workers` entry.
#[derive(Clone, Debug)]
pub struct Schedule {
    worker: Option<String>,
    ctl: Option<String>,
    /// The given cron fields, in APScheduler's order, as given (for the log line).
    fields: Vec<(&'static str, Value)>,
    /// `start_date`/`end_date` reprs (validated, not used by the scheduler, as in rex).
    dates: std::collections::BTreeMap<&'static str, String>,
    cron: Cron,
}

impl Schedule {
    fn worker_name(&self) -> &str {
        self.worker.as_deref().unwrap_or("ctl_executor")
    }

    /// `scheduled_0_<worker>`, or for a ctl entry `scheduled_0_ctl_<hash>`: the first
    /// 8 hex digits of the SHA-256 of the entry's record repr, as rex names it.
    pub fn queue(&self) -> String {
        let name = match &self.worker {
            Some(w) => w.clone(),
            None => {
                let digest = sha256(self.record_repr().as_bytes());
                let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
                format!("ctl_{hex}")
            }
        };
        format!("scheduled_0_{name}")
    }

    /// The validated setting's `Record(worker=..., ctl=..., year=..., ...)` repr.
    fn record_repr(&self) -> String {
        use crate::core::repr::{py_json_repr, py_str_repr};
        let opt = |v: &Option<String>| v.as_deref().map_or("None".to_string(), py_str_repr);
        let mut parts = vec![
            format!("worker={}", opt(&self.worker)),
            format!("ctl={}", opt(&self.ctl)),
        ];
        for &f in FIELDS {
            let v = self.fields.iter().find(|(k, _)| *k == f).map(|(_, v)| v);
            parts.push(format!(
                "{f}={}",
                v.map_or("None".to_string(), py_json_repr)
            ));
        }
        for f in ["start_date", "end_date"] {
            parts.push(format!(
                "{f}={}",
                self.dates.get(f).map_or("None", String::as_str)
            ));
        }
        format!("Record({})", parts.join(", "))
    }

    fn payload(&self) -> Value {
        match (&self.worker, &self.ctl) {
            (Some(_), _) => serde_json::json!({}),
            (None, ctl) => serde_json::json!({ "command": ctl }),
        }
    }

    /// rex's `%r` of the schedule's cron arguments.
    fn sched_repr(&self) -> String {
        let parts: Vec<String> = self
            .fields
            .iter()
            .map(|(k, v)| format!("'{k}': {}", crate::core::repr::py_json_repr(v)))
            .collect();
        format!("{{{}}}", parts.join(", "))
    }
}

/// The cron fields of a schedule (rex's record fields between `ctl` and the dates).
const FIELDS: &[&str] = {
    let (_, rest) = crate::asynctask::settings::SCHEDULE_FIELDS.split_at(2);
    rest.split_at(8).0
};
/// `asynctask_scheduled_workers`, validated.
pub fn schedules(settings: &Settings) -> Result<Vec<Schedule>> {
    let setting =
        |e: Error| e.wrap_with("While validating setting:", "asynctask_scheduled_workers");
    let Some(value) = settings.get("asynctask_scheduled_workers") else {
        return Ok(Vec::new());
    };
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        other => {
            return Err(setting(
                Error::new("Expected a sequence")
                    .wrap_with("Got:", crate::core::repr::py_json_repr(other)),
            ))
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = |e: Error| {
            setting(e.wrap_with("While validating sequence item", format!("#{}", i + 1)))
        };
        let Some(map) = item.as_object() else {
            return Err(at(Error::new("Expected a mapping")
                .wrap_with("Got:", crate::core::repr::py_json_repr(item))));
        };
        for key in map.keys() {
            let known = FIELDS.contains(&key.as_str())
                || matches!(key.as_str(), "worker" | "ctl" | "start_date" | "end_date");
            if !known {
                return Err(at(Error::with("Got unexpected field:", key)));
            }
        }
        let text = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_string);
        let (worker, ctl) = (text("worker"), text("ctl"));
        if worker.is_some() == ctl.is_some() {
            return Err(at(Error::new("Must specify one of 'worker' or 'ctl'")));
        }
        let fields: Vec<(&'static str, Value)> = FIELDS
            .iter()
            .filter_map(|f| {
                map.get(*f)
                    .filter(|v| !v.is_null())
                    .map(|v| (*f, v.clone()))
            })
            .collect();
        if fields.is_empty() {
            return Err(at(Error::new("Must specify some property of the schedule")));
        }
        let cron = Cron::new(&fields).map_err(at)?;
        let mut dates = std::collections::BTreeMap::new();
        for f in ["start_date", "end_date"] {
            if let Some(v) = map.get(f).filter(|v| !v.is_null()) {
                dates.insert(
                    f,
                    date_repr(v).map_err(|e| at(e.wrap_with("While validating field:", f)))?,
                );
            }
        }
        out.push(Schedule {
            worker,
            ctl,
            fields,
            dates,
            cron,
        });
    }
    Ok(out)
}

/// rex's `DateTimeVal` on a schedule date: the `datetime.datetime(...)` repr.
fn date_repr(v: &Value) -> Result<String> {
    let text = v.as_str().unwrap_or_default();
    let formats = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ];
    let parsed = formats
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .ok_or_else(|| {
            Error::new("Expected a valid date/time in the format YYYY-MM-DDTHH:MM:SS")
                .wrap_with("Got:", crate::core::repr::py_json_repr(v))
        })?;
    Ok(crate::htsql::Value::DateTime(parsed).repr())
}

/// SHA-256 (FIPS 180-4), for rex's names of ctl schedule queues.
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let mut v = h;
        for i in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7]
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [
                t1.wrapping_add(t2),
                v[0],
                v[1],
                v[2],
                v[3].wrapping_add(t1),
                v[4],
                v[5],
                v[6],
            ];
        }
        for (x, y) in h.iter_mut().zip(v) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

/// One cron field: its allowed values (`None`: any).
#[derive(Clone, Debug)]
struct CronField(Option<Vec<u32>>);

/// APScheduler's cron trigger: fields before the last given one default to `*`,
/// fields after it to their minimum (`second=0`...; `week`, `day_of_week` to `*`).
#[derive(Clone, Debug)]
struct Cron {
    fields: Vec<CronField>,
}

impl Cron {
    fn new(given: &[(&'static str, Value)]) -> Result<Cron> {
        let last = FIELDS
            .iter()
            .rposition(|f| given.iter().any(|(g, _)| g == f))
            .unwrap_or(0);
        let mut fields = Vec::new();
        for (i, name) in FIELDS.iter().enumerate() {
            let (lo, hi) = bounds(name);
            let expr = match given.iter().find(|(g, _)| g == name) {
                Some((_, Value::Number(n))) => n.to_string(),
                Some((_, Value::String(s))) => s.clone(),
                Some((_, other)) => other.to_string(),
                None if i < last => "*".into(),
                None => match *name {
                    "month" | "day" => "1".into(),
                    "hour" | "minute" | "second" => "0".into(),
                    _ => "*".into(),
                },
            };
            fields.push(
                parse_field(name, &expr, lo, hi)
                    .map_err(|e| e.wrap_with("While validating field:", name))?,
            );
        }
        Ok(Cron { fields })
    }

    fn matches(&self, t: &chrono::NaiveDateTime) -> bool {
        use chrono::{Datelike, Timelike};
        let values = [
            t.year() as u32,
            t.month(),
            t.day(),
            t.iso_week().week(),
            t.weekday().num_days_from_monday(),
            t.hour(),
            t.minute(),
            t.second(),
        ];
        self.fields
            .iter()
            .zip(values)
            .all(|(f, v)| f.0.as_ref().is_none_or(|allowed| allowed.contains(&v)))
    }
}

fn bounds(name: &str) -> (u32, u32) {
    match name {
        "year" => (1970, 9999),
        "month" => (1, 12),
        "day" => (1, 31),
        "week" => (1, 53),
        "day_of_week" => (0, 6),
        "hour" => (0, 23),
        "minute" | "second" => (0, 59),
        _ => (0, 0),
    }
}

/// `*`, `*/n`, `a`, `a-b`, `a-b/n`, lists of those; weekday names for day_of_week.
fn parse_field(name: &str, expr: &str, lo: u32, hi: u32) -> Result<CronField> {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let bad = || Error::with("Unrecognized expression:", expr);
    let num = |s: &str| -> Result<u32> {
        let s = s.trim().to_lowercase();
        if name == "day_of_week" {
            if let Some(i) = DAYS.iter().position(|d| *d == s) {
                return Ok(i as u32);
            }
        }
        let n: u32 = s.parse().map_err(|_| bad())?;
        if n < lo || n > hi {
            return Err(Error::with(
                "Value out of range:",
                format!("{n} (expected {lo}..{hi})"),
            ));
        }
        Ok(n)
    };
    let mut allowed = Vec::new();
    for part in expr.split(',') {
        let part = part.trim();
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(bad)?,
            ),
            None => (part, 1),
        };
        if range == "*" && step == 1 {
            return Ok(CronField(None));
        }
        let (a, b) = match range {
            "*" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (num(a)?, num(b)?),
                None if step > 1 => (num(r)?, hi),
                None => (num(r)?, num(r)?),
            },
        };
        if a > b {
            return Err(bad());
        }
        allowed.extend((a..=b).step_by(step as usize));
    }
    Ok(CronField(Some(allowed)))
}

/// Starts the scheduler thread: it waits for the scheduler lock of the application
/// database, then each second submits the tasks of the schedules that match it.
fn start_scheduler(app: &App) -> Result<Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>> {
    let schedules = schedules(&app.settings)?;
    if schedules.is_empty() {
        log::info!(target: LOGGER, "No schedules configured -- not starting scheduler");
        return Ok(None);
    }
    for s in &schedules {
        let what = s.worker.as_deref().or(s.ctl.as_deref()).unwrap_or_default();
        log::info!(target: LOGGER, "Scheduling \"{what}\" for {}", s.sched_repr());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (app, flag) = (app.clone(), stop.clone());
    let thread = std::thread::spawn(move || {
        if let Err(e) = run_scheduler(&app, &schedules, &flag) {
            log::error!(target: LOGGER, "The scheduler stopped:\n{e}");
        }
    });
    Ok(Some((stop, thread)))
}

/// The advisory lock key that makes one scheduler per application database.
fn scheduler_lock_key(app: &App) -> i64 {
    crate::pg::fnv1a(format!("harness asynctask scheduler: {}", app.db.name).as_bytes()) as i64
}

fn run_scheduler(app: &App, schedules: &[Schedule], stop: &AtomicBool) -> Result<()> {
    // The session holding the lock lives as long as this scheduler.
    let mut lock_session = app.db.connect()?;
    let key = scheduler_lock_key(app);
    let mut waiting_said = false;
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let row = lock_session.query_one("SELECT pg_try_advisory_lock($1)", &[&key])?;
        if row.get::<_, bool>(0) {
            break;
        }
        if !waiting_said {
            log::info!(target: LOGGER, "Another scheduler is running on this database; waiting to take over");
            waiting_said = true;
        }
        worker_loop::sleep_unless_stopped(Duration::from_secs(1), stop);
    }
    let transport = crate::cli::worker::app_transport(app)?;
    let now = || chrono::Local::now().naive_local();
    let mut last = now().with_nanosecond_zero();
    while !stop.load(Ordering::SeqCst) {
        // Sleep to just past the next second boundary.
        let current = now();
        let next = last + chrono::TimeDelta::seconds(1);
        if current < next {
            let wait = (next - current).to_std().unwrap_or_default() + Duration::from_millis(2);
            worker_loop::sleep_unless_stopped(wait, stop);
            continue;
        }
        // Every second since the last tick (late ticks catch up; each schedule fires
        // once per tick).
        let through = current.with_nanosecond_zero();
        for s in schedules {
            let mut t = next;
            let mut due = false;
            while t <= through {
                due |= s.cron.matches(&t);
                t += chrono::TimeDelta::seconds(1);
            }
            if due {
                log::debug!(target: LOGGER, "Triggering scheduled execution of {}", s.worker_name());
                transport.submit_task(&s.queue(), &s.payload())?;
            }
        }
        last = through;
    }
    Ok(())
}

trait NoNanos {
    fn with_nanosecond_zero(self) -> Self;
}

impl NoNanos for chrono::NaiveDateTime {
    fn with_nanosecond_zero(self) -> Self {
        chrono::Timelike::with_nanosecond(&self, 0).unwrap_or(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(v: Value) -> Settings {
        let mut s = Settings::new();
        s.set("asynctask_scheduled_workers", v);
        s
    }

    fn at(s: &str) -> chrono::NaiveDateTime {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn cron_defaults_follow_apscheduler() {
        let s = schedules(&settings(json!([{"worker": "w", "minute": "*/5"}]))).unwrap();
        let cron = &s[0].cron;
        assert!(cron.matches(&at("2026-12-02 10:05:00")));
        assert!(!cron.matches(&at("2026-12-02 10:05:01")));
        assert!(!cron.matches(&at("2026-12-02 10:06:00")));
        assert_eq!(s[0].sched_repr(), "{'minute': '*/5'}");
        assert_eq!(s[0].queue(), "scheduled_0_w");
        let s = schedules(&settings(
            json!([{"ctl": "help", "second": "*", "day_of_week": "mon-fri"}]),
        ))
        .unwrap();
        assert!(s[0].cron.matches(&at("2026-12-02 10:05:07")));
        assert!(!s[0].cron.matches(&at("2026-12-05 10:05:07")));
        assert_eq!(s[0].payload(), json!({"command": "help"}));
        // rex: sha256(repr(record)) of the validated entry, first 8 hex digits.
        let s = schedules(&settings(json!([{"ctl": "help project", "second": "*/2"}]))).unwrap();
        assert_eq!(s[0].queue(), "scheduled_0_ctl_9dfad5ba");
        assert_eq!(s[0].worker_name(), "ctl_executor");
    }

    #[test]
    fn sha256_known_answers() {
        let hex = |d: [u8; 32]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(sha256(&[b'a'; 1000])),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
        );
    }

    #[test]
    fn schedule_errors_read_as_rex() {
        let e = |v: Value| schedules(&settings(v)).unwrap_err().to_string();
        assert_eq!(
            e(json!([{"worker": "w", "ctl": "x", "second": 1}])),
            "Must specify one of 'worker' or 'ctl'\nWhile validating sequence item\n    #1\nWhile validating setting:\n    asynctask_scheduled_workers"
        );
        assert_eq!(
            e(json!([{"worker": "w"}])),
            "Must specify some property of the schedule\nWhile validating sequence item\n    #1\nWhile validating setting:\n    asynctask_scheduled_workers"
        );
        assert!(e(json!([{"worker": "w", "second": "61"}])).starts_with("Value out of range:"));
    }
}
