//! rex's command line (`rex.ctl`): `rex TASK [ARGS] [OPTIONS]` when the binary is
//! called `rex` (a symlink), `harness ctl TASK ...` otherwise. Tasks, options, help
//! texts, messages and exit statuses are rex.ctl's: `FATAL ERROR: ...` and status 1
//! on a failure, global settings from `--SETTING`, `REX_SETTING` variables and
//! `rex.yaml`, the application from the `project` setting (`REX_PROJECT`) or a task's
//! `<project>` argument, its configuration from `parameters` (`REX_PARAMETERS`) and
//! `--set PARAM=VALUE`.
//!
//! - `spec`: tasks, options and settings as data; the argv parser; `help`.
//! - `app`: the application a task works on.
//! - `mart`: `mart-create`, `mart-shell`, `mart-purge`.
//! - `shell`: HTSQL's shell, which `mart-shell` opens.
//! - `workers`: `asynctask-workers`.

pub mod app;
mod mart;
mod shell;
mod spec;
pub mod workers;

pub use spec::{parse, Invocation};

use crate::core::Error;
use std::io::Write;

/// Why a task stopped: rex.ctl's `Failure` (printed as `FATAL ERROR: message`).
#[derive(Debug)]
pub struct Fatal(pub String);

impl From<Error> for Fatal {
    fn from(e: Error) -> Fatal {
        Fatal(e.to_string())
    }
}

pub type TaskResult = std::result::Result<(), Fatal>;

/// Whether the program was invoked as `rex` (argv[0]'s file name).
pub fn invoked_as_rex(argv0: &str) -> bool {
    std::path::Path::new(argv0)
        .file_name()
        .is_some_and(|n| n == "rex")
}

/// Runs `argv` (argv[0] = how the user called us, for usage lines) and returns the
/// exit status: 0, or 1 after `FATAL ERROR: ...` and an empty line on stderr.
pub fn main(executable: &str, argv: &[String]) -> i32 {
    crate::core::logging::install(crate::core::logging::Format::Basic);
    // A bug (a panic: its message is printed) ends the task as an uncaught Python
    // exception ends rex's: exit status 1.
    let result = std::panic::catch_unwind(|| {
        spec::parse(executable, argv).and_then(|inv| {
            for warning in &inv.warnings {
                eprintln!("{warning}");
            }
            (inv.task.run)(&inv)
        })
    });
    let _ = std::io::stdout().flush();
    match result {
        Ok(Ok(())) => 0,
        Ok(Err(Fatal(message))) => {
            // rex.ctl prints the message, then `str(Failure())`, an empty line.
            eprintln!("FATAL ERROR: {message}\n");
            1
        }
        Err(_) => 1,
    }
}

/// `rex.ctl.log`: a line on stdout unless the `quiet` setting is on.
fn log(inv: &Invocation, line: &str) {
    if !inv.globals.quiet {
        println!("{line}");
    }
}

/// Lines as rex's mart-create writes them: `str(datetime.now())`, a space, the line;
/// later lines of a multi-line message indented to match.
pub fn stamped(msg: &str) -> String {
    let stamp = format!(
        "{:<26}",
        crate::mart::inventory::py_datetime(&crate::mart::inventory::now())
    );
    let mut out = String::new();
    for (i, line) in crate::core::error::python_splitlines(msg)
        .into_iter()
        .enumerate()
    {
        if i == 0 {
            out.push_str(&format!("{stamp} {line}\n"));
        } else {
            out.push_str(&format!("{:27}{line}\n", ""));
        }
    }
    out
}
