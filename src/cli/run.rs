//! `harness run FILE...`: replay transcripts with the doctest engine and turn the
//! results into the summary lines and the exit status (0 passed, 1 failed, 2 unusable).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use std::sync::Arc;

use crate::doctest::{self, Executor, Flags, Paint, RunOptions, Tally};

/// Arguments of `harness run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Transcript files (.txt, .rst, .md).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Default doctest option flag for the run (repeatable), as `python -m doctest -o`.
    #[arg(short = 'o', long = "option", value_name = "FLAG", value_parser = flag_names())]
    pub options: Vec<String>,
    /// Print every example as it is tried (Trying:/Expecting:/ok).
    #[arg(short, long)]
    pub verbose: bool,
    /// Stop at the first failing example (FAIL_FAST).
    #[arg(short = 'f', long)]
    pub fail_fast: bool,
    /// Show failures as unified diffs (REPORT_UDIFF).
    #[arg(long)]
    pub diff: bool,
    /// Directory to search for applications before $HARNESS_APPS (repeatable).
    #[arg(long = "apps", value_name = "DIR")]
    pub apps: Vec<PathBuf>,
    /// After the summary, print to stderr where the time went (cluster start,
    /// application deploy and clone, examples, teardown, total) in milliseconds.
    #[arg(long)]
    pub timings: bool,
    #[command(flatten)]
    pub database: crate::cli::pg::PgOptions,
}

fn flag_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(Flags::NAMES.iter().map(|(n, _)| *n))
}

impl RunArgs {
    /// The run's default flags from `-o`, `--fail-fast` and `--diff`.
    pub fn flags(&self) -> Flags {
        let mut flags = Flags::NONE;
        for name in &self.options {
            flags |= Flags::by_name(name).unwrap_or(Flags::NONE);
        }
        if self.fail_fast {
            flags |= Flags::FAIL_FAST;
        }
        if self.diff {
            flags |= Flags::REPORT_UDIFF;
        }
        flags
    }
}

/// Colour only on a terminal, and never when `NO_COLOR` is set (non-empty).
fn colour_wanted() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}

/// Run `harness run`; returns the process exit status.
pub fn run(args: &RunArgs) -> i32 {
    let started = std::time::Instant::now();
    let missing: Vec<&PathBuf> = args.files.iter().filter(|f| !f.is_file()).collect();
    if !missing.is_empty() {
        for f in missing {
            eprintln!(
                "harness run: error: no such transcript file: {}",
                f.display()
            );
        }
        return 2;
    }
    let opts = RunOptions {
        flags: args.flags(),
        verbose: args.verbose,
        paint: Paint {
            enabled: colour_wanted(),
        },
    };
    crate::core::logging::install(crate::core::logging::Format::Basic);
    crate::core::logging::set_sink(Some(Box::new(|line: &str| {
        crate::script::output::write(line)
    })));
    let clusters = Arc::new(args.database.clusters());
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut total = Tally::default();
    let mut unusable = false;
    for file in &args.files {
        let display = file.display().to_string();
        let mut exec = interpreter::make_executor(file, args, &clusters);
        let examples = crate::timings::span("examples");
        let ran = doctest::run_file(file, &display, exec.as_mut(), &opts, &mut out);
        drop(examples);
        let stopped = match ran {
            Ok(result) => {
                total.add(result.tally);
                let _ = writeln!(out, "{display}: {}", paint_tally(&opts.paint, result.tally));
                result.stopped
            }
            Err(err) => {
                unusable = true;
                let _ = out.flush();
                // The other files still run; the status says this one was unusable.
                eprintln!("{err}");
                false
            }
        };
        {
            let _timing = crate::timings::span("teardown");
            drop(exec);
        }
        if stopped {
            break;
        }
    }
    let _ = writeln!(out, "{}", paint_tally(&opts.paint, total));
    let _ = out.flush();
    if unusable || total.failed > 0 {
        let tails = clusters.log_tails(20);
        if !tails.is_empty() {
            eprint!("{tails}");
        }
    }
    {
        let _timing = crate::timings::span("teardown");
        clusters.shutdown();
    }
    {
        // What the exit would wait for anyway (a spare cluster copy for the next run).
        let _timing = crate::timings::span("spare copy wait");
        crate::pg::embedded::spares::wait_for_copy(std::time::Duration::from_secs(3));
    }
    if args.timings {
        eprint!("{}", crate::timings::report(started.elapsed()));
    }
    if unusable {
        2
    } else if total.failed > 0 {
        1
    } else {
        0
    }
}

fn paint_tally(paint: &Paint, tally: Tally) -> String {
    let text = tally.to_string();
    if tally.failed > 0 {
        paint.red(&text)
    } else if tally.skipped > 0 {
        paint.yellow(&text)
    } else {
        paint.green(&text)
    }
}

mod interpreter {
    //! Adapter from the doctest engine's `Executor` to `crate::script::Interpreter`.
    use super::*;
    use crate::bindings;
    use crate::core::app::SearchPath;
    use crate::provision::Provisioner;
    use crate::script;
    use std::rc::Rc;

    pub struct ScriptExecutor {
        interp: script::Interpreter,
        session: Rc<bindings::Session>,
    }

    impl Drop for ScriptExecutor {
        /// Drops the marts and application databases the transcript made.
        fn drop(&mut self) {
            self.session.finish();
        }
    }

    impl Executor for ScriptExecutor {
        fn run(&mut self, source: &str, name: &str) -> Result<doctest::Outcome, doctest::Invalid> {
            match self.interp.run_example(source, name) {
                Ok(o) => Ok(doctest::Outcome {
                    output: o.output,
                    exception: o.exception.map(|r| doctest::Raised {
                        type_name: r.type_name,
                        message: r.message,
                        traceback: r.traceback,
                    }),
                }),
                Err(e) => Err(doctest::Invalid {
                    line: e.line,
                    message: e.message,
                }),
            }
        }
    }

    /// A fresh interpreter per transcript, rooted at the transcript's directory.
    pub fn make_executor(
        file: &Path,
        args: &RunArgs,
        clusters: &Arc<crate::pg::Clusters>,
    ) -> Box<dyn Executor> {
        let mut interp = script::Interpreter::new();
        let search = SearchPath::new(&args.apps, file.parent());
        let session = bindings::Session::new(Provisioner::new(clusters.clone(), search));
        bindings::install(&mut interp, &session);
        let base = file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        interp.set_base_dir(base);
        if args.database.multicluster {
            interp.set_sys_attr("MART_MULTICLUSTER_TEST", script::Value::Bool(true));
        }
        Box::new(ScriptExecutor { interp, session })
    }
}
