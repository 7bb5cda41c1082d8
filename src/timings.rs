//! Where a run's time goes, for `harness run --timings` and the seed benchmark.
//!
//! A [`span`] guard measures a named phase until it is dropped. Spans nest on a
//! thread: a phase is charged its own time only, without the spans opened inside
//! it (a cluster started lazily by the first example counts as `cluster start`,
//! not `examples`). Totals accumulate process-wide; [`report`] lists them in the
//! order phases first finished.

use std::cell::RefCell;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Per phase: name, total own time, number of spans.
static TOTALS: Mutex<Vec<(&'static str, Duration, u32)>> = Mutex::new(Vec::new());

thread_local! {
    /// Time spent in the child spans of each open span on this thread.
    static OPEN: RefCell<Vec<Duration>> = const { RefCell::new(Vec::new()) };
}

/// A phase being measured; records on drop.
#[must_use = "a span measures until it is dropped"]
pub struct Span {
    phase: &'static str,
    started: Instant,
}

/// Starts measuring `phase`. Also at process exit, when this thread's span stack is
/// gone: the phase then counts its whole time.
pub fn span(phase: &'static str) -> Span {
    let _ = OPEN.try_with(|open| open.borrow_mut().push(Duration::ZERO));
    Span {
        phase,
        started: Instant::now(),
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        let total = self.started.elapsed();
        let children = OPEN
            .try_with(|open| {
                let mut open = open.borrow_mut();
                let children = open.pop().unwrap_or_default();
                if let Some(parent) = open.last_mut() {
                    *parent += total;
                }
                children
            })
            .unwrap_or_default();
        record(self.phase, total.saturating_sub(children));
    }
}

/// Adds `spent` to `phase`.
pub fn record(phase: &'static str, spent: Duration) {
    let mut totals = TOTALS.lock().unwrap_or_else(|e| e.into_inner());
    match totals.iter_mut().find(|(p, _, _)| *p == phase) {
        Some((_, total, n)) => {
            *total += spent;
            *n += 1;
        }
        None => totals.push((phase, spent, 1)),
    }
}

/// The phases so far: name, total own time, number of spans.
pub fn totals() -> Vec<(&'static str, Duration, u32)> {
    TOTALS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// `timings:` then one `  <phase>: <ms> ms (<n>x)` line per phase, then
/// `  total: <ms> ms` for `total` (the caller's wall time since it started).
pub fn report(total: Duration) -> String {
    let mut text = String::from("timings:\n");
    let mut accounted = Duration::ZERO;
    for (phase, spent, n) in totals() {
        accounted += spent;
        text += &format!("  {phase}: {:.1} ms ({n}x)\n", ms(spent));
    }
    text += &format!("  other: {:.1} ms\n", ms(total.saturating_sub(accounted)));
    text += &format!("  total: {:.1} ms\n", ms(total));
    text
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_spans_charge_their_own_time() {
        let wall = Instant::now();
        {
            let _outer = span("test outer");
            std::thread::sleep(Duration::from_millis(20));
            {
                let _inner = span("test inner");
                std::thread::sleep(Duration::from_millis(30));
            }
        }
        let wall = wall.elapsed();
        let totals = totals();
        let get = |p: &str| totals.iter().find(|t| t.0 == p).unwrap().1;
        assert!(get("test inner") >= Duration::from_millis(30));
        assert!(get("test outer") >= Duration::from_millis(20));
        // Not charged twice: the inner span's time is not the outer one's.
        assert!(get("test outer") + get("test inner") <= wall, "{totals:?}");
        let text = report(Duration::from_secs(1));
        assert!(text.starts_with("timings:\n"), "{text}");
        assert!(text.contains("  test inner: "), "{text}");
        assert!(text.ends_with("  total: 1000.0 ms\n"), "{text}");
    }
}
