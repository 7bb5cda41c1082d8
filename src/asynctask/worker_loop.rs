//! The loop a worker runs on its queue (rex's `AsyncTaskWorker.__call__`), with the
//! reference's log lines. Tasks are taken at-least-once ([`Transport::with_task`]).

use super::transport::Transport;
use super::Worker;
use crate::core::app::App;
use crate::core::repr::{excerpt, py_json_repr};
use crate::core::Result;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct LoopOptions {
    /// How long to wait when the queue is empty (`asynctask_workers_poll_interval`).
    pub poll_interval: Duration,
    /// Stop when the queue is found empty (`--halt-when-empty`).
    pub halt_when_empty: bool,
    /// Set from outside (signal handler, supervisor) to stop after the current task.
    pub stop: Arc<AtomicBool>,
    /// `rate_max_calls` per `rate_period` seconds, when the queue's config has both.
    pub rate: Option<(usize, f64)>,
}

/// rex's `RateLimiter(max_calls, period)`: before a call that would exceed the rate,
/// sleep until the oldest call in the window has aged out.
struct Limiter {
    max_calls: usize,
    period: Duration,
    calls: std::collections::VecDeque<Instant>,
}

impl Limiter {
    fn wait(&mut self, logger: &str, queue: &str, stop: &AtomicBool) {
        while self.calls.len() >= self.max_calls {
            let oldest = self.calls[0];
            let age = oldest.elapsed();
            if age >= self.period {
                self.calls.pop_front();
                continue;
            }
            let pause = self.period - age;
            log::debug!(
                target: logger,
                "Rate limited on queue {queue}, sleeping for {:.6} seconds",
                pause.as_secs_f64()
            );
            sleep_unless_stopped(pause, stop);
            if stop.load(Ordering::SeqCst) {
                return;
            }
        }
        self.calls.push_back(Instant::now());
    }
}

/// Processes `queue` until stopped (or empty, with `halt_when_empty`). A failing
/// `process` is logged and the loop carries on; transport errors end the loop.
pub fn run(
    app: &App,
    worker: &dyn Worker,
    transport: &dyn Transport,
    queue: &str,
    opts: &LoopOptions,
) -> Result<()> {
    run_with(app, worker, transport, queue, opts, None)
}

/// [`run`] for a long-lived worker: a transport error does not end the loop. When
/// the server is out of reach, `outage` says so (once) and the loop retries with
/// backoff until it is back; another error is logged and retried the same way.
pub fn run_resilient(
    app: &App,
    worker: &dyn Worker,
    transport: &dyn Transport,
    queue: &str,
    opts: &LoopOptions,
    outage: &Outage,
) -> Result<()> {
    run_with(app, worker, transport, queue, opts, Some(outage))
}

fn run_with(
    app: &App,
    worker: &dyn Worker,
    transport: &dyn Transport,
    queue: &str,
    opts: &LoopOptions,
    outage: Option<&Outage>,
) -> Result<()> {
    let logger = worker.logger_name();
    log::info!(target: logger, "Starting; queue={queue}");
    let mut limiter = opts.rate.map(|(max_calls, period)| Limiter {
        max_calls: max_calls.max(1),
        period: Duration::from_secs_f64(period.max(0.0)),
        calls: Default::default(),
    });
    let mut backoff = Backoff::new(opts.poll_interval);
    let mut failing = false;
    let mut exited = None;
    let result = (|| -> Result<()> {
        while !opts.stop.load(Ordering::SeqCst) {
            if let Some(limiter) = limiter.as_mut() {
                limiter.wait(logger, queue, &opts.stop);
            }
            // A long-lived worker quotes long input in part (rex: whole).
            let bounded = outage.is_some();
            let taken = transport.with_task(queue, &mut |payload| {
                let quoted = py_json_repr(payload);
                let quoted = if bounded { excerpt(&quoted) } else { quoted };
                log::debug!(target: logger, "Got payload: {quoted}");
                match worker.process_on(app, payload, Some(queue)) {
                    Ok(()) => log::debug!(target: logger, "Processing complete"),
                    // The task is consumed, as rex's (taken before processing).
                    Err(err) if super::is_worker_exit(&err) => exited = Some(err),
                    Err(err) => log::error!(
                        target: logger,
                        "An unhandled exception occurred while processing the payload\n{}",
                        if bounded { err.bounded() } else { err }.traceback("process")
                    ),
                }
                Ok(())
            });
            let taken = match (taken, outage) {
                (Ok(taken), Some(outage)) => {
                    // Only a loop that failed (its connection reopened since) may
                    // say the server is back.
                    if std::mem::take(&mut failing) {
                        outage.ok();
                        backoff.reset();
                    }
                    taken
                }
                (Ok(taken), None) => taken,
                (Err(e), Some(outage)) => {
                    failing = true;
                    if outage.reachable(app) {
                        log::error!(target: logger, "Failed to take a task from queue {queue}:\n{e}");
                    } else {
                        outage.failed(&e);
                    }
                    sleep_unless_stopped(backoff.pause(), &opts.stop);
                    continue;
                }
                (Err(e), None) => return Err(e),
            };
            if let Some(err) = exited.take() {
                // The worker ended itself (`sys.exit()`): no "Terminating"; the
                // supervisor restarts it.
                return Err(err);
            }
            if taken.is_some() {
                continue;
            }
            if opts.halt_when_empty {
                log::info!(target: logger, "No tasks found in queue");
                break;
            }
            sleep_unless_stopped(opts.poll_interval, &opts.stop);
        }
        Ok(())
    })();
    if !matches!(&result, Err(e) if super::is_worker_exit(e)) {
        log::info!(target: logger, "Terminating");
    }
    result
}

/// Sleeps up to `d`, waking early when `stop` is set.
pub fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) {
    let end = Instant::now() + d;
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= end {
            break;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(20)));
    }
}

/// Waits between retries while something fails: from `base`, doubling, at most 5 s
/// (never less than `base`).
#[derive(Clone, Debug)]
pub struct Backoff {
    base: Duration,
    next: Duration,
}

impl Backoff {
    pub const MAX: Duration = Duration::from_secs(5);

    pub fn new(base: Duration) -> Backoff {
        let base = base.clamp(Duration::from_millis(50), Backoff::MAX);
        Backoff { base, next: base }
    }

    /// The next pause (and doubles the one after).
    pub fn pause(&mut self) -> Duration {
        let pause = self.next;
        self.next = (self.next * 2).min(Backoff::MAX.max(self.base));
        pause
    }

    pub fn reset(&mut self) {
        self.next = self.base;
    }
}

/// The database server as a long-lived worker's loops see it: when one finds it out
/// of reach, one line says so; when one reaches it again, one line says that. The
/// worker gives up when it has been out of reach for `give_up_after`.
#[derive(Debug)]
pub struct Outage {
    logger: &'static str,
    since: std::sync::Mutex<Option<Instant>>,
    give_up_after: Option<Duration>,
}

impl Outage {
    pub fn new(logger: &'static str, give_up_after: Option<Duration>) -> Outage {
        Outage {
            logger,
            since: std::sync::Mutex::new(None),
            give_up_after,
        }
    }

    fn since(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.since.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the application database answers (a fresh connection and a query).
    pub fn reachable(&self, app: &App) -> bool {
        app.db
            .connect()
            .and_then(|mut c| c.batch_execute("SELECT 1").map_err(Into::into))
            .is_ok()
    }

    /// The server was found out of reach (`e` says how): said once per outage.
    pub fn failed(&self, e: &crate::core::Error) {
        let mut since = self.since();
        if since.is_none() {
            *since = Some(Instant::now());
            let what = e.to_string();
            let last = what.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
            log::warn!(
                target: self.logger,
                "Lost the database server ({}); reconnecting with backoff",
                last.trim()
            );
        }
    }

    /// The server answered: if it had been out of reach, say it is back.
    pub fn ok(&self) {
        let mut since = self.since();
        if let Some(at) = since.take() {
            log::info!(
                target: self.logger,
                "Database server reachable again after {:.1} s",
                at.elapsed().as_secs_f64()
            );
        }
    }

    /// Whether the server is out of reach right now.
    pub fn is_down(&self) -> bool {
        self.since().is_some()
    }

    /// How long the server has been out of reach when that is past `give_up_after`.
    pub fn given_up(&self) -> Option<Duration> {
        let down = self.since().map(|at| at.elapsed())?;
        self.give_up_after
            .filter(|limit| down >= *limit)
            .map(|_| down)
    }
}
