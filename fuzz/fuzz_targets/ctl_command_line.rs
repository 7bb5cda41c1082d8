//! rex's command line: a text split as `shlex.split` does, then rex.ctl's argv parser
//! (tasks, options, settings); and the same text as an `asynctask_scheduled_workers`
//! JSON value (cron fields). Ok or a `FATAL ERROR`/rex error, never a panic.
#![no_main]

use harness::cli::ctl::{parse, process::shlex_split, workers::schedules};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    // `--config=FILE` reads a file: keep away from device files.
    if text.contains("/dev") || text.contains("/proc") || text.contains("/sys") {
        return;
    }
    if let Some(words) = shlex_split(text) {
        let argv: Vec<String> = std::iter::once("rex".to_string()).chain(words).collect();
        if let Ok(inv) = parse("rex", &argv) {
            let _ = inv.task.name;
        }
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        let mut settings = harness::core::settings::Settings::new();
        settings.set("asynctask_scheduled_workers", value);
        if let Ok(list) = schedules(&settings) {
            for s in list {
                let _ = s.queue();
            }
        }
    }
});
