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
    let result = (|| -> Result<()> {
        while !opts.stop.load(Ordering::SeqCst) {
            let taken = transport.with_task(queue, &mut |payload| {
                log::debug!(target: logger, "Got payload: {}", py_json_repr(payload));
                match worker.process(app, payload) {
                    Ok(()) => log::debug!(target: logger, "Processing complete"),
                    Err(err) => log::error!(
                        target: logger,
                        "An unhandled exception occurred while processing the payload\n{}",
                        err.traceback("process")
                    ),
                }
                Ok(())
            })?;
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
    log::info!(target: logger, "Terminating");
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
