//! The job side of `harness worker`: a dispatcher that promotes (`new -> queued`) and
//! claims jobs, a pool of executor threads that run and finish them (fenced), and a
//! heartbeat thread that keeps this worker's claims alive, recovers stale jobs of dead
//! workers and purges old ones. Any number of runners, in any number of processes on
//! any number of hosts, can share one database (see [`super::claim`]).
//!
//! Wake-ups: `LISTEN harness_job` (a trigger notifies on insert, the queuer on
//! promotion, a finishing job of a limited type on completion), with polling every
//! `poll_interval` as the fallback.

use super::claim::{self, Claimed, CHANNEL};
use super::executor_worker::{run_job, Outcome, LOGGER as EXECUTOR_LOGGER};
use super::settings::{JobSettings, StalePolicy};
use super::{cleanup, queuer, Registry};
use crate::asynctask::worker_loop::{Backoff, Outage};
use crate::core::app::App;
use crate::core::work_tx::Unit;
use crate::core::{Error, Result};
use postgres::fallible_iterator::FallibleIterator;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Logger name of the runner's own lines.
pub const LOGGER: &str = "JobWorker";

/// How a runner is asked to stop: level 1 = stop claiming and let running jobs
/// finish within the grace period; level 2 = stop at once.
#[derive(Clone, Debug, Default)]
pub struct StopSignal(Arc<AtomicUsize>);

impl StopSignal {
    pub fn new() -> StopSignal {
        StopSignal::default()
    }
    /// One more stop request (a signal); returns the new level.
    pub fn request(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
    pub fn level(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Clone, Debug)]
pub struct RunnerOptions {
    /// Unique among live workers: written to `claimed_by`.
    pub worker_id: String,
    /// Jobs run at once by this runner.
    pub concurrency: usize,
    /// Fallback polling period when no notification arrives.
    pub poll_interval: Duration,
    /// How long running jobs may take to finish after a stop request.
    pub grace: Duration,
    /// Most jobs promoted to `queued` per statement.
    pub promote_batch: i64,
    /// How often finished jobs older than `job_max_age` are purged.
    pub cleanup_interval: Duration,
    /// How many executor threads are inside a job right now (kept by the runner;
    /// after it gave jobs up, its caller can wait for their threads to be done).
    pub busy: Arc<AtomicUsize>,
    /// Whether the database server is out of reach, shared by every loop of the
    /// process (one line when it goes, one when it is back).
    pub outage: Arc<Outage>,
}

impl RunnerOptions {
    pub fn new(worker_id: &str) -> RunnerOptions {
        RunnerOptions {
            worker_id: worker_id.to_string(),
            concurrency: 4,
            poll_interval: Duration::from_millis(500),
            grace: Duration::from_secs(30),
            promote_batch: 1000,
            cleanup_interval: Duration::from_secs(300),
            busy: Arc::new(AtomicUsize::new(0)),
            outage: Arc::new(Outage::new(LOGGER, None)),
        }
    }
}

/// What a runner did, returned when it stops.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Jobs run to the end (whatever their outcome) with the result recorded.
    pub finished: u64,
    /// Jobs whose result was not recorded because the claim had been lost.
    pub lost: u64,
    /// Jobs given up at shutdown (failed or re-queued with the reason).
    pub abandoned: Vec<i64>,
}

/// A worker id for this process: `host:pid`.
pub fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let host = if host.is_empty() {
        "localhost".to_string()
    } else {
        host
    };
    format!("{host}:{}", std::process::id())
}

struct Shared {
    app: App,
    registry: Registry,
    settings: JobSettings,
    opts: RunnerOptions,
    running: Mutex<HashMap<i64, Claimed>>,
    finished: AtomicU64,
    lost: AtomicU64,
    /// Set when the runner returns: the heartbeat thread exits.
    done: AtomicBool,
    /// Set by the heartbeat when executors should repair what dead workers left.
    repair: AtomicBool,
}

impl Shared {
    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Claimed>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs jobs until `stop` is requested. Returns when every running job has finished,
/// or, after the grace period (or a second request), once the unfinished ones have
/// been given up and recorded; their threads are left behind (a process exits).
pub fn run(
    app: &App,
    registry: &Registry,
    settings: &JobSettings,
    opts: &RunnerOptions,
    stop: &StopSignal,
) -> Result<RunReport> {
    let mut conn = app.db.connect()?;
    claim::check_queue_schema(&mut conn)
        .map_err(|e| e.wrap_with("While checking the job table of:", &app.db.name))?;
    let shared = Arc::new(Shared {
        app: app.clone(),
        registry: registry.clone(),
        settings: settings.clone(),
        opts: opts.clone(),
        running: Mutex::new(HashMap::new()),
        finished: AtomicU64::new(0),
        lost: AtomicU64::new(0),
        done: AtomicBool::new(false),
        repair: AtomicBool::new(false),
    });
    let (job_tx, job_rx) = mpsc::channel::<Claimed>();
    let job_rx = Arc::new(Mutex::new(job_rx));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let (finish_tx, finish_rx) = mpsc::channel::<FinishRequest>();
    let mut pool = Vec::new();
    for _ in 0..opts.concurrency.max(1) {
        let (shared, job_rx, done_tx) = (shared.clone(), job_rx.clone(), done_tx.clone());
        let finish_tx = finish_tx.clone();
        pool.push(std::thread::spawn(move || {
            executor_thread(&shared, &job_rx, &finish_tx, &done_tx)
        }));
    }
    drop((done_tx, finish_tx));
    {
        let shared = shared.clone();
        // Ends when the last executor thread has gone.
        std::thread::spawn(move || finisher_thread(&shared, &finish_rx));
    }
    let heart = {
        let shared = shared.clone();
        std::thread::spawn(move || heartbeat_thread(&shared))
    };
    {
        let shared = shared.clone();
        // Not joined: a repair under way when the runner stops is left to finish
        // or to die with the process (the next sweep redoes it).
        std::thread::spawn(move || repair_thread(&shared));
    }
    // Listening before saying so: a job submitted after this line wakes the worker.
    conn.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    log::info!(
        target: LOGGER,
        "Worker {} started; concurrency={}",
        opts.worker_id,
        opts.concurrency.max(1)
    );
    dispatch(&shared, &mut conn, &job_tx, &done_rx, stop);
    drop(job_tx);
    let (abandoned, left_running) = drain(&shared, &mut conn, &done_rx, stop);
    shared.done.store(true, Ordering::SeqCst);
    // Executor threads still inside a job cannot be interrupted: leave them.
    if left_running == 0 {
        for t in pool {
            let _ = t.join();
        }
    }
    let _ = heart.join();
    log::info!(target: LOGGER, "Worker {} stopped", opts.worker_id);
    Ok(RunReport {
        finished: shared.finished.load(Ordering::SeqCst),
        lost: shared.lost.load(Ordering::SeqCst),
        abandoned,
    })
}

/// Promote, claim, hand out, wait; until a stop is requested.
fn dispatch(
    shared: &Shared,
    conn: &mut postgres::Client,
    job_tx: &mpsc::Sender<Claimed>,
    done_rx: &mpsc::Receiver<()>,
    stop: &StopSignal,
) {
    let opts = &shared.opts;
    let step = opts.poll_interval.min(Duration::from_millis(50));
    while stop.level() == 0 {
        let free = opts
            .concurrency
            .max(1)
            .saturating_sub(shared.running().len());
        if free == 0 {
            let _ = done_rx.recv_timeout(step);
            continue;
        }
        let claimed = queuer::promote(conn, &shared.settings, opts.promote_batch).and_then(|n| {
            let claimed = claim::claim(conn, &opts.worker_id, free as i64)?;
            if n as usize > claimed.len() {
                // More queued than this worker takes: wake the others.
                queuer::notify(conn, "queued")?;
            }
            Ok(claimed)
        });
        let claimed = match claimed {
            Ok(c) => c,
            Err(e) => {
                if conn.is_closed() || !opts.outage.reachable(&shared.app) {
                    opts.outage.failed(&e);
                    reconnect(shared, conn, stop);
                } else {
                    log::error!(target: LOGGER, "Failed to claim jobs:\n{e}");
                    std::thread::sleep(opts.poll_interval);
                }
                continue;
            }
        };
        let full = claimed.len() == free;
        for c in claimed {
            shared.running().insert(c.job.code, c.clone());
            let _ = job_tx.send(c);
        }
        if full {
            continue;
        }
        // Nothing more to claim now: wait for a notification, a poll, or a stop.
        let deadline = Instant::now() + opts.poll_interval;
        let mut woken = false;
        while !woken && stop.level() == 0 && Instant::now() < deadline {
            let mut notes = conn.notifications();
            let mut it = notes.timeout_iter(step);
            woken = matches!(it.next(), Ok(Some(_)));
        }
        // Drop the notifications that piled up: one round of claiming serves them all.
        let mut notes = conn.notifications();
        let mut it = notes.iter();
        while let Ok(Some(_)) = it.next() {}
    }
}

/// Reconnects the dispatcher's session (and its LISTEN), with backoff, until it
/// succeeds or a stop is requested. Jobs claimed meanwhile by this worker that died
/// with the connection are recovered as a dead worker's are (see the heartbeat).
fn reconnect(shared: &Shared, conn: &mut postgres::Client, stop: &StopSignal) {
    let mut backoff = Backoff::new(shared.opts.poll_interval);
    while stop.level() == 0 {
        let pause = backoff.pause();
        let until = Instant::now() + pause;
        while stop.level() == 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        let fresh = shared.app.db.connect().and_then(|mut c| {
            c.batch_execute(&format!("LISTEN {CHANNEL}"))?;
            Ok(c)
        });
        match fresh {
            Ok(c) => {
                *conn = c;
                shared.opts.outage.ok();
                return;
            }
            Err(e) => shared.opts.outage.failed(&e),
        }
    }
}

/// After a stop request: wait for running jobs up to the grace period (or a second
/// request), then give up the rest. Returns the codes given up and how many jobs
/// were still running.
fn drain(
    shared: &Shared,
    conn: &mut postgres::Client,
    done_rx: &mpsc::Receiver<()>,
    stop: &StopSignal,
) -> (Vec<i64>, usize) {
    let opts = &shared.opts;
    let running = shared.running().len();
    if running > 0 && stop.level() == 1 {
        log::info!(
            target: LOGGER,
            "Stopping: claiming no more jobs; waiting up to {} s for {running} running job(s)",
            seconds(opts.grace)
        );
    }
    let deadline = Instant::now() + opts.grace;
    while !shared.running().is_empty() && stop.level() < 2 && Instant::now() < deadline {
        let _ = done_rx.recv_timeout(Duration::from_millis(20));
    }
    let reason = if stop.level() >= 2 {
        format!(
            "Worker {} stopped at once by a second signal",
            opts.worker_id
        )
    } else {
        format!(
            "Worker {} stopped: the job did not finish within the {} s grace period",
            opts.worker_id,
            seconds(opts.grace)
        )
    };
    let left: Vec<Claimed> = shared.running().drain().map(|(_, c)| c).collect();
    let left_running = left.len();
    let mut abandoned = Vec::new();
    for c in left {
        match claim::abandon(conn, &c, shared.settings.stale_policy, &reason) {
            Ok(true) => {
                let what = match shared.settings.stale_policy {
                    StalePolicy::Fail => "failed",
                    StalePolicy::Requeue => "re-queued",
                };
                log::warn!(target: LOGGER, "Job #{} {what}: {reason}", c.job.code);
                abandoned.push(c.job.code);
            }
            Ok(false) => {
                log::warn!(target: LOGGER, "Job #{} was no longer ours to give up", c.job.code)
            }
            Err(e) => log::error!(target: LOGGER, "Failed to give up job #{}:\n{e}", c.job.code),
        }
    }
    (abandoned, left_running)
}

/// An outcome on its way to the finisher, and where to send whether it was recorded.
struct FinishRequest {
    claim: Claimed,
    outcome: Outcome,
    reply: mpsc::Sender<Result<bool>>,
}

/// Runs claimed jobs one at a time. An outcome is written by the finisher, or, when
/// the executor worked on the application database in the job's unit of work
/// ([`crate::core::work_tx`]), in that unit's transaction by this thread.
fn executor_thread(
    shared: &Shared,
    jobs: &Mutex<mpsc::Receiver<Claimed>>,
    finisher: &mpsc::Sender<FinishRequest>,
    done: &mpsc::Sender<()>,
) {
    // The units' connection, kept between jobs.
    let mut idle: Option<postgres::Client> = None;
    loop {
        let next = jobs.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(claimed) = next else { break };
        let code = claimed.job.code;
        shared.opts.busy.fetch_add(1, Ordering::SeqCst);
        if let Err(e) = run_claimed(shared, finisher, &claimed, &mut idle) {
            // The job stays `started`; with no heartbeat it is recovered as stale.
            log::error!(target: LOGGER, "Failed to record job #{code}:\n{e}");
        }
        shared.opts.busy.fetch_sub(1, Ordering::SeqCst);
        shared.running().remove(&code);
        let _ = done.send(());
    }
}

fn run_claimed(
    shared: &Shared,
    finisher: &mpsc::Sender<FinishRequest>,
    c: &Claimed,
    idle: &mut Option<postgres::Client>,
) -> Result<()> {
    log::info!(target: EXECUTOR_LOGGER, "Processing Job #{}", c.job.code);
    let joins = shared
        .registry
        .get(&c.job.job_type)
        .is_some_and(|e| e.joins_job_transaction());
    let mut unit = joins.then(|| Unit::enter(&shared.app.db, idle.take()));
    run_job(
        &shared.app,
        &shared.registry,
        &c.job,
        true,
        |outcome: &Outcome| {
            let recorded = match unit.take().and_then(Unit::close) {
                Some((mut client, true)) => {
                    let recorded = finish_in_unit(shared, &mut client, c, outcome);
                    *idle = Some(client).filter(|c| !c.is_closed());
                    recorded?
                }
                left => {
                    *idle = left.map(|(client, _)| client);
                    finish_by_finisher(finisher, c, outcome)?
                }
            };
            count(shared, c, recorded);
            Ok(())
        },
    )
}

/// Writes the outcome in the unit's transaction, with the executor's work, and
/// commits both; a lost claim rolls both back (the job's other run is its effect).
fn finish_in_unit(
    shared: &Shared,
    db: &mut postgres::Client,
    c: &Claimed,
    outcome: &Outcome,
) -> Result<bool> {
    let result = (|| -> Result<bool> {
        let recorded = claim::finish(db, c, outcome)?;
        if recorded && is_limited(shared, &c.job.job_type) {
            queuer::notify(db, "finished")?;
        }
        db.batch_execute(if recorded { "COMMIT" } else { "ROLLBACK" })?;
        Ok(recorded)
    })();
    if result.is_err() && !db.is_closed() {
        let _ = db.batch_execute("ROLLBACK");
    }
    result
}

/// Hands the outcome to the finisher (group commit) and waits until it is written.
fn finish_by_finisher(
    finisher: &mpsc::Sender<FinishRequest>,
    c: &Claimed,
    outcome: &Outcome,
) -> Result<bool> {
    let (reply, recorded) = mpsc::channel();
    let request = FinishRequest {
        claim: c.clone(),
        outcome: outcome.clone(),
        reply,
    };
    let lost = || Error::new("The worker's finisher is gone");
    finisher.send(request).map_err(|_| lost())?;
    recorded.recv().map_err(|_| lost())?
}

/// Counts a job finished, or lost when its outcome was not recorded.
fn count(shared: &Shared, c: &Claimed, recorded: bool) {
    if recorded {
        shared.finished.fetch_add(1, Ordering::SeqCst);
    } else {
        shared.lost.fetch_add(1, Ordering::SeqCst);
        log::warn!(
            target: LOGGER,
            "Job #{} lost its claim (attempt {}); its result was not recorded",
            c.job.code,
            c.attempt
        );
    }
}

/// Whether jobs of this type are limited (`job_limits`): finishing one frees a slot.
fn is_limited(shared: &Shared, job_type: &str) -> bool {
    matches!(shared.settings.limits.get(job_type), Some(Some(_)))
}

/// Writes outcomes for all executor threads: whatever has piled up while the previous
/// statement ran goes into the next one (group commit), so a busy worker commits
/// once per batch rather than once per job.
fn finisher_thread(shared: &Shared, requests: &mpsc::Receiver<FinishRequest>) {
    let mut conn: Option<postgres::Client> = None;
    while let Ok(first) = requests.recv() {
        let mut batch = vec![first];
        while batch.len() < 512 {
            match requests.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        let result = (|| -> Result<Vec<bool>> {
            if conn.as_ref().is_none_or(postgres::Client::is_closed) {
                conn = Some(shared.app.db.connect()?);
            }
            let Some(db) = conn.as_mut() else {
                return Err(Error::new("No database connection"));
            };
            let pairs: Vec<(&Claimed, &Outcome)> =
                batch.iter().map(|r| (&r.claim, &r.outcome)).collect();
            let flags = claim::finish_many(db, &pairs)?;
            // A slot of a limited type is free: let the queuers run again.
            let limited = batch
                .iter()
                .zip(&flags)
                .any(|(r, ok)| *ok && is_limited(shared, &r.claim.job.job_type));
            if limited {
                queuer::notify(db, "finished")?;
            }
            Ok(flags)
        })();
        match result {
            Ok(flags) => {
                for (r, ok) in batch.into_iter().zip(flags) {
                    let _ = r.reply.send(Ok(ok));
                }
            }
            Err(e) => {
                conn = None;
                for r in batch {
                    let _ = r.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// Every `job_heartbeat_interval`: touch our claims, recover stale jobs, and now and
/// then purge old finished jobs. Executors repair what dead workers left (see
/// [`super::Executor::recover`]) on the first beat and after stale jobs were recovered.
fn heartbeat_thread(shared: &Shared) {
    let interval = shared.settings.heartbeat_interval;
    let mut conn: Option<postgres::Client> = None;
    let mut last_cleanup: Option<Instant> = None;
    let mut repair = true;
    let mut backoff = Backoff::new(shared.opts.poll_interval);
    // Whether this loop found the server out of reach: only a loop that did (and so
    // reconnected since) may say it is back.
    let mut failing = false;
    while !shared.done.load(Ordering::SeqCst) {
        let step = (|| -> Result<()> {
            if conn.as_ref().is_none_or(postgres::Client::is_closed) {
                conn = Some(shared.app.db.connect()?);
            }
            let Some(db) = conn.as_mut() else {
                return Ok(());
            };
            let mine: Vec<(i64, i32)> = shared
                .running()
                .values()
                .map(|c| (c.job.code, c.attempt))
                .collect();
            claim::heartbeat(db, &shared.opts.worker_id, &mine)?;
            // Reached again on a new session: said before what recovery does.
            if failing {
                shared.opts.outage.ok();
            }
            let policy = shared.settings.stale_policy;
            for code in claim::recover_stale(db, shared.settings.stale_after, policy)? {
                let what = match policy {
                    StalePolicy::Fail => "failed",
                    StalePolicy::Requeue => "re-queued",
                };
                log::warn!(target: LOGGER, "Job #{code} {what}: its worker stopped sending heartbeats");
                repair = true;
            }
            // Repairs (dropping a dead creator's database can take seconds) run
            // in their own thread: heartbeats must not wait for them.
            if repair {
                shared.repair.store(true, Ordering::SeqCst);
                repair = false;
            }
            if last_cleanup.is_none_or(|t| t.elapsed() >= shared.opts.cleanup_interval) {
                last_cleanup = Some(Instant::now());
                let n = cleanup::purge(db, shared.settings.max_age)?;
                if n > 0 {
                    log::info!(target: LOGGER, "Purged {n} finished job(s) older than {} s", shared.settings.max_age);
                }
            }
            Ok(())
        })();
        let mut pause = interval;
        match step {
            Ok(()) => {
                backoff.reset();
                failing = false;
            }
            Err(e) => {
                if conn.as_ref().is_none_or(postgres::Client::is_closed)
                    || !shared.opts.outage.reachable(&shared.app)
                {
                    // Back from an outage: recover what it broke, as after a kill.
                    shared.opts.outage.failed(&e);
                    failing = true;
                    repair = true;
                    pause = pause.min(backoff.pause());
                } else {
                    log::error!(target: LOGGER, "Heartbeat failed:\n{e}");
                }
                conn = None;
            }
        }
        let until = Instant::now() + pause;
        while !shared.done.load(Ordering::SeqCst) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Runs the repairs the heartbeat asks for (see [`recover_executors`]); a failed
/// one (a hosting cluster out of reach...) is retried a beat later.
fn repair_thread(shared: &Shared) {
    let interval = shared.settings.heartbeat_interval;
    while !shared.done.load(Ordering::SeqCst) {
        if shared.repair.swap(false, Ordering::SeqCst) {
            if let Err(e) = recover_executors(&shared.app, &shared.registry) {
                log::error!(target: LOGGER, "Recovery failed:\n{e}");
                shared.repair.store(true, Ordering::SeqCst);
                let until = Instant::now() + interval;
                while !shared.done.load(Ordering::SeqCst) && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Lets every executor repair what dead workers left (see
/// [`super::Executor::recover`]).
pub fn recover_executors(app: &App, registry: &Registry) -> Result<()> {
    for job_type in registry.types() {
        if let Some(executor) = registry.get(job_type) {
            executor.recover(app)?;
        }
    }
    Ok(())
}

/// A duration in seconds for messages: `30`, or `0.3` when not whole.
fn seconds(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        d.as_secs().to_string()
    } else {
        d.as_secs_f64().to_string()
    }
}
