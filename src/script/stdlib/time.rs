//! `time`: sleep, time, monotonic, perf_counter.

use super::*;

pub(super) fn time() -> Module {
    let m = Module::new("time");
    m.add_fn("sleep", |_, a| {
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
        std::thread::sleep(std::time::Duration::from_secs_f64(secs));
        Ok(Value::None)
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
