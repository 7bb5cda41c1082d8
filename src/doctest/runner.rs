//! Running the examples of one file: CPython's `DocTestRunner.__run`, outcome by
//! outcome (success, failure, unexpected exception), with its option handling
//! (directives merged per example, SKIP, REPORT_ONLY_FIRST_FAILURE, FAIL_FAST).

use std::io::Write;
use std::path::Path;

use super::check::{check_output, strip_exception_details};
use super::flags::{merge, Flags};
use super::parse::{markdown_code, parse, Example, ParseError};
use super::report::{self, Paint, Tally};
use super::{Executor, Outcome, Raised};

/// Run-wide options.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Default flags (`-o FLAG`, `--fail-fast`, `--diff`).
    pub flags: Flags,
    /// `-v`: print `Trying:` / `Expecting:` / `ok` for every example.
    pub verbose: bool,
    pub paint: Paint,
}

/// The result of one file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileResult {
    pub tally: Tally,
    /// FAIL_FAST stopped the file after a failure: the run stops too.
    pub stopped: bool,
    /// Examples left unrun because the executor could not go on (a timeout).
    pub not_run: usize,
    /// One record per example, in file order (skipped ones included).
    pub records: Vec<Record>,
}

/// What happened to one example (for reports and `--update`).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Index of the example in the file.
    pub index: usize,
    /// 1-based line of its `>>>` prompt.
    pub line: usize,
    pub status: Status,
    pub seconds: f64,
    /// The failure block as printed (no colour); empty unless it failed.
    pub report: String,
    /// What it printed (without a traceback).
    pub output: String,
    pub exception: Option<Raised>,
}

/// The verdict on one example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Passed,
    Failed,
    Skipped,
    /// Failed: the executor gave up on it (a timeout) and could not go on.
    TimedOut,
    /// Not run: the executor could not go on after a timeout.
    NotRun,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::TimedOut => "timed out",
            Status::NotRun => "not run",
        }
    }
}

/// Why a file could not be used (exit status 2); `Display` gives `file:line: ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    Unreadable {
        path: String,
        message: String,
    },
    Malformed {
        path: String,
        line: usize,
        message: String,
    },
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileError::Unreadable { path, message } => write!(f, "{path}: {message}"),
            FileError::Malformed {
                path,
                line,
                message,
            } => write!(f, "{path}:{line}: {message}"),
        }
    }
}

/// Read and parse one transcript: its text (as read, line endings normalised) and
/// its examples. A `.md` file's examples are those inside fenced code blocks.
pub fn load(path: &Path, display: &str) -> Result<(String, Vec<Example>), FileError> {
    let bytes = std::fs::read(path).map_err(|e| FileError::Unreadable {
        path: display.to_string(),
        message: e.to_string(),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..offset]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        FileError::Malformed {
            path: display.to_string(),
            line,
            message: "transcript is not valid UTF-8".to_string(),
        }
    })?;
    let is_markdown = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"));
    let parsed = if is_markdown {
        parse(&markdown_code(&text))
    } else {
        parse(&text)
    };
    let examples = parsed.map_err(|ParseError { line, message }| FileError::Malformed {
        path: display.to_string(),
        line,
        message,
    })?;
    Ok((text, examples))
}

/// The test name of a file: its base name.
pub fn test_name(path: &Path, display: &str) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| display.to_string())
}

/// Read, parse and run one transcript. `display` is the path as the user gave it;
/// reports say `File "<display>"` and the test name is its base name.
pub fn run_file(
    path: &Path,
    display: &str,
    exec: &mut dyn Executor,
    opts: &RunOptions,
    out: &mut dyn Write,
) -> Result<FileResult, FileError> {
    let (_, examples) = load(path, display)?;
    let name = test_name(path, display);
    run_examples(display, &name, &examples, exec, opts, out)
}

/// Run parsed examples in order in one executor (one namespace), writing reports
/// to `out`.
pub fn run_examples(
    display: &str,
    name: &str,
    examples: &[Example],
    exec: &mut dyn Executor,
    opts: &RunOptions,
    out: &mut dyn Write,
) -> Result<FileResult, FileError> {
    let mut result = FileResult::default();
    // CPython decides `quiet` from the flags left by the previous example.
    let mut current = opts.flags;
    let write = |out: &mut dyn Write, s: &str| {
        // A closed stdout must not turn into a panic; the exit status still tells.
        let _ = out.write_all(s.as_bytes());
    };
    for (num, example) in examples.iter().enumerate() {
        let tally = &mut result.tally;
        let quiet = current.has(Flags::REPORT_ONLY_FIRST_FAILURE) && tally.failed > 0;
        current = merge(opts.flags, &example.options);
        let mut record = Record {
            index: num,
            line: example.lineno + 1,
            status: Status::Skipped,
            seconds: 0.0,
            report: String::new(),
            output: String::new(),
            exception: None,
        };
        if current.has(Flags::SKIP) {
            tally.skipped += 1;
            result.records.push(record);
            continue;
        }
        if opts.verbose && !quiet {
            write(out, &report::start(example));
        }
        let compile_name = format!("<doctest {name}[{num}]>");
        let clock = std::time::Instant::now();
        let outcome = exec
            .run(&example.source, &compile_name)
            .unwrap_or_else(|inv| Outcome {
                output: String::new(),
                exception: Some(inv.raised(&example.source, &compile_name)),
            });
        record.seconds = clock.elapsed().as_secs_f64();
        // Timed out: this one fails. Stopped, the rest of the file runs on in the
        // state it left; still running (the executor cannot go on), it is not run.
        let broken = exec.broken();
        if let Some(why) = broken.clone().or_else(|| exec.stopped()) {
            tally.failed += 1;
            record.status = Status::TimedOut;
            record.report = format!("{}{why}\n", report::failure_header(display, name, example));
            write(out, &opts.paint.failure(&record.report));
            result.records.push(record);
            if broken.is_none() {
                continue;
            }
            for (k, later) in examples.iter().enumerate().skip(num + 1) {
                result.records.push(Record {
                    index: k,
                    line: later.lineno + 1,
                    status: Status::NotRun,
                    seconds: 0.0,
                    report: String::new(),
                    output: String::new(),
                    exception: None,
                });
            }
            result.not_run = examples.len() - num - 1;
            if result.not_run > 0 {
                write(
                    out,
                    &format!(
                        "{display}: {} example(s) after line {} not run: \
                         the interpreter is still busy with the one that timed out\n",
                        result.not_run,
                        example.lineno + 1
                    ),
                );
            }
            break;
        }
        let mut got = outcome.output;
        if !got.is_empty() && !got.ends_with('\n') {
            got.push('\n');
        }
        record.output = got.clone();
        record.exception = outcome.exception.clone();
        let verdict = match &outcome.exception {
            None => {
                if check_output(&example.want, &got, current) {
                    Verdict::Success
                } else {
                    Verdict::Failure
                }
            }
            Some(raised) => {
                let exc_msg = raised.exception_only();
                if !quiet {
                    got.push_str(&raised.traceback);
                }
                match &example.exc_msg {
                    None => Verdict::Boom,
                    Some(want_msg) if check_output(want_msg, &exc_msg, current) => Verdict::Success,
                    Some(want_msg)
                        if current.has(Flags::IGNORE_EXCEPTION_DETAIL)
                            && check_output(
                                strip_exception_details(want_msg),
                                strip_exception_details(&exc_msg),
                                current,
                            ) =>
                    {
                        Verdict::Success
                    }
                    Some(_) => Verdict::Failure,
                }
            }
        };
        match verdict {
            Verdict::Success => {
                tally.passed += 1;
                record.status = Status::Passed;
                if opts.verbose && !quiet {
                    write(out, "ok\n");
                }
            }
            Verdict::Failure | Verdict::Boom => {
                tally.failed += 1;
                record.status = Status::Failed;
                let header = report::failure_header(display, name, example);
                record.report = match (&verdict, &outcome.exception) {
                    (Verdict::Boom, Some(raised)) => {
                        report::unexpected_exception(&header, &raised.traceback)
                    }
                    _ => format!(
                        "{header}{}",
                        report::output_difference(&example.want, &got, current)
                    ),
                };
                if !quiet {
                    write(out, &opts.paint.failure(&record.report));
                }
            }
        }
        result.records.push(record);
        if result.tally.failed > 0 && current.has(Flags::FAIL_FAST) {
            result.stopped = true;
            break;
        }
    }
    let _ = out.flush();
    Ok(result)
}

enum Verdict {
    Success,
    Failure,
    Boom,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctest::Invalid;

    /// Refuses sources with an odd number of quotes, as an interpreter refuses an
    /// unterminated string, on the line where it starts.
    struct Strict;

    impl Executor for Strict {
        fn run(&mut self, source: &str, _name: &str) -> Result<Outcome, Invalid> {
            for (k, line) in source.lines().enumerate() {
                if line.matches('\'').count() % 2 == 1 {
                    return Err(Invalid {
                        line: k + 1,
                        message: "SyntaxError: unterminated string literal".into(),
                        span: line.find('\'').map(|c| (c + 1, c + 1)),
                    });
                }
            }
            Ok(Outcome {
                output: String::new(),
                exception: None,
            })
        }
    }

    #[test]
    fn invalid_example_fails_as_a_syntax_error_and_the_file_goes_on() {
        let text = "prose\n\n>>> x = 1\n>>> if x:\n...     y = 'open\n>>> 'ok'\n";
        let examples = parse(text).unwrap();
        let mut out = Vec::new();
        let r = run_examples(
            "t.txt",
            "t.txt",
            &examples,
            &mut Strict,
            &RunOptions::default(),
            &mut out,
        )
        .unwrap();
        assert_eq!((r.tally.passed, r.tally.failed), (2, 1));
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(concat!(
            "Exception raised:\n",
            "    Traceback (most recent call last):\n",
            "      File \"<doctest t.txt[1]>\", line 2\n",
            "        y = 'open\n",
            "            ^\n",
            "    SyntaxError: unterminated string literal\n",
        )));
    }

    #[test]
    fn skipped_and_failed_are_counted() {
        let text = ">>> 1  # doctest: +SKIP\n2\n>>> 3\n4\n>>> 5\n";
        let examples = parse(text).unwrap();
        let mut out = Vec::new();
        let r = run_examples(
            "t",
            "t",
            &examples,
            &mut Strict,
            &RunOptions::default(),
            &mut out,
        )
        .unwrap();
        assert_eq!(
            r.tally,
            Tally {
                passed: 1,
                failed: 1,
                skipped: 1
            }
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(&format!("{}\nFile \"t\", line 3, in t\n", report::DIVIDER)));
    }
}
