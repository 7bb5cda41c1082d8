//! Running the examples of one file: CPython's `DocTestRunner.__run`, outcome by
//! outcome (success, failure, unexpected exception), with its option handling
//! (directives merged per example, SKIP, REPORT_ONLY_FIRST_FAILURE, FAIL_FAST).

use std::io::Write;
use std::path::Path;

use super::check::{check_output, strip_exception_details};
use super::flags::{merge, Flags};
use super::parse::{parse, Example, ParseError};
use super::report::{self, Paint, Tally};
use super::Executor;

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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileResult {
    pub tally: Tally,
    /// FAIL_FAST stopped the file after a failure: the run stops too.
    pub stopped: bool,
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

/// Read, parse and run one transcript. `display` is the path as the user gave it;
/// reports say `File "<display>"` and the test name is its base name.
pub fn run_file(
    path: &Path,
    display: &str,
    exec: &mut dyn Executor,
    opts: &RunOptions,
    out: &mut dyn Write,
) -> Result<FileResult, FileError> {
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
    let examples = parse(&text).map_err(|ParseError { line, message }| FileError::Malformed {
        path: display.to_string(),
        line,
        message,
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| display.to_string());
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
    let mut tally = Tally::default();
    let mut stopped = false;
    // CPython decides `quiet` from the flags left by the previous example.
    let mut current = opts.flags;
    let write = |out: &mut dyn Write, s: &str| {
        // A closed stdout must not turn into a panic; the exit status still tells.
        let _ = out.write_all(s.as_bytes());
    };
    for (num, example) in examples.iter().enumerate() {
        let quiet = current.has(Flags::REPORT_ONLY_FIRST_FAILURE) && tally.failed > 0;
        current = merge(opts.flags, &example.options);
        if current.has(Flags::SKIP) {
            tally.skipped += 1;
            continue;
        }
        if opts.verbose && !quiet {
            write(out, &report::start(example));
        }
        let compile_name = format!("<doctest {name}[{num}]>");
        let outcome =
            exec.run(&example.source, &compile_name)
                .map_err(|inv| FileError::Malformed {
                    path: display.to_string(),
                    line: example.lineno + inv.line.max(1),
                    message: inv.message,
                })?;
        let mut got = outcome.output;
        if !got.is_empty() && !got.ends_with('\n') {
            got.push('\n');
        }
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
                if opts.verbose && !quiet {
                    write(out, "ok\n");
                }
            }
            Verdict::Failure | Verdict::Boom => {
                tally.failed += 1;
                if !quiet {
                    let header = report::failure_header(display, name, example);
                    let block = match (&verdict, &outcome.exception) {
                        (Verdict::Boom, Some(raised)) => {
                            report::unexpected_exception(&header, &raised.traceback)
                        }
                        _ => format!(
                            "{header}{}",
                            report::output_difference(&example.want, &got, current)
                        ),
                    };
                    write(out, &opts.paint.failure(&block));
                }
            }
        }
        if tally.failed > 0 && current.has(Flags::FAIL_FAST) {
            stopped = true;
            break;
        }
    }
    let _ = out.flush();
    Ok(FileResult { tally, stopped })
}

enum Verdict {
    Success,
    Failure,
    Boom,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctest::{Invalid, Outcome};

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
    fn invalid_example_reports_file_line() {
        let text = "prose\n\n>>> x = 1\n>>> if x:\n...     y = 'open\n";
        let examples = parse(text).unwrap();
        let mut out = Vec::new();
        let err = run_examples(
            "t.txt",
            "t.txt",
            &examples,
            &mut Strict,
            &RunOptions::default(),
            &mut out,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.txt:5: SyntaxError: unterminated string literal"
        );
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
