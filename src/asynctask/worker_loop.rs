//! The loop a worker runs on its queue (rex's `AsyncTaskWorker.__call__`), with the
//! reference's log lines. Tasks are taken at-least-once ([`Transport::with_task`]).

use super::transport::Transport;
use super::Worker;
use crate::core::app::App;
use crate::core::repr::py_json_repr;
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
    let logger = worker.logger_name();
    log::info!(target: logger, "Starting; queue={queue}");
    let mut limiter = opts.rate.map(|(max_calls, period)| Limiter {
        max_calls: max_calls.max(1),
        period: Duration::from_secs_f64(period.max(0.0)),
        calls: Default::default(),
    });
    let mut exited = None;
    let result = (|| -> Result<()> {
        while !opts.stop.load(Ordering::SeqCst) {
            if let Some(limiter) = limiter.as_mut() {
                limiter.wait(logger, queue, &opts.stop);
            }
            let taken = transport.with_task(queue, &mut |payload| {
                log::debug!(target: logger, "Got payload: {}", py_json_repr(payload));
                match worker.process_on(app, payload, Some(queue)) {
                    Ok(()) => log::debug!(target: logger, "Processing complete"),
                    // The task is consumed, as rex's (taken before processing).
                    Err(err) if super::is_worker_exit(&err) => exited = Some(err),
                    Err(err) => log::error!(
                        target: logger,
                        "An unhandled exception occurred while processing the payload\n{}",
                        err.traceback("process")
                    ),
                }
                Ok(())
            })?;
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
