//! `time`: sleep, time, monotonic, perf_counter.

use super::*;

pub(super) fn time() -> Module {
    let m = Module::new("time");
    m.add_fn("sleep", |it, a| {
        let p = a.positional("sleep", 1, 1)?;
        let secs = match &p[0] {
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            o => {
                return Err(Exception::type_error(format!(
                    "'{}' object cannot be interpreted as an integer",
                    o.type_name()
                )))
            }
        };
        if secs < 0.0 {
            return Err(Exception::value_error("sleep length must be non-negative"));
        }
        // In ticks, so that a timed-out example stops sleeping.
        let length =
            std::time::Duration::try_from_secs_f64(secs).unwrap_or(std::time::Duration::MAX);
        let until = std::time::Instant::now().checked_add(length);
        loop {
            it.check_cancel()?;
            let left = until.map_or(std::time::Duration::MAX, |u| {
                u.saturating_duration_since(std::time::Instant::now())
            });
            if left.is_zero() {
                return Ok(Value::None);
            }
            std::thread::sleep(left.min(std::time::Duration::from_millis(20)));
        }
    });
    m.add_fn("time", |_, _| {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Ok(Value::Float(d.as_secs_f64()))
    });
    thread_local! {
        static START: std::time::Instant = std::time::Instant::now();
    }
    m.add_fn("monotonic", |_, _| {
        Ok(Value::Float(START.with(|s| s.elapsed().as_secs_f64())))
    });
    m.add_fn("perf_counter", |_, _| {
        Ok(Value::Float(START.with(|s| s.elapsed().as_secs_f64())))
    });
    m
}
