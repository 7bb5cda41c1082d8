//! The doctest engine: parse transcripts, run each example through an [`Executor`],
//! check the output with CPython's rules and report failures as CPython does.
//!
//! The engine knows nothing of the interpreter: anything that can run a piece of
//! Python source and say what it printed or raised is an [`Executor`]. CPython's
//! `Lib/doctest.py` (3.11) is the oracle for every rule and every text here.

pub mod check;
pub mod difflib;
pub mod flags;
pub mod parse;
pub mod report;
mod runner;

pub use check::{check_output, ellipsis_match};
pub use flags::{Directive, Flags};
pub use parse::{parse, Example, ParseError};
pub use report::{Paint, Tally};
pub use runner::{
    load, run_examples, run_file, test_name, FileError, FileResult, Record, RunOptions, Status,
};

/// Runs the source of one example in the namespace shared by the whole file.
pub trait Executor {
    /// Run `source` (one example, ends with `\n`); `name` is CPython's compile name
    /// `<doctest file.txt[N]>`, used in tracebacks.
    fn run(&mut self, source: &str, name: &str) -> Result<Outcome, Invalid>;

    /// After `run`: why the executor cannot run anything more (an example that
    /// timed out and still holds the interpreter), or `None` when it can. The
    /// example just run then fails with this text and the rest of the file is not run.
    fn broken(&self) -> Option<String> {
        None
    }

    /// After `run`: the example ran past its time and was stopped (the executor
    /// can go on); the example fails with this text and the file goes on.
    fn stopped(&mut self) -> Option<String> {
        None
    }
}

/// What an example did: everything it wrote to stdout, and the exception it raised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub output: String,
    pub exception: Option<Raised>,
}

/// An exception that escaped an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raised {
    /// Qualified type name as `traceback` prints it: `ValueError`, `rex.core.Error`.
    pub type_name: String,
    /// `str(exc)`; may span several lines; empty when the exception has no message.
    pub message: String,
    /// The full traceback text, ending with `\n`.
    pub traceback: String,
}

impl Raised {
    /// `traceback.format_exception_only(...)` joined: `Type: message\n`, or `Type\n`
    /// when the message is empty.
    pub fn exception_only(&self) -> String {
        if self.message.is_empty() {
            format!("{}\n", self.type_name)
        } else {
            format!("{}: {}\n", self.type_name, self.message)
        }
    }
}

/// An example the executor cannot compile (syntax it cannot read, an unsupported
/// construct). As in CPython, where `compile()` raises before anything runs, the
/// example fails with a `SyntaxError` (or `IndentationError`) and the file goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// 1-based line within the example's source.
    pub line: usize,
    /// The message after `SyntaxError: ` (a leading `SyntaxError: ` or
    /// `IndentationError: ` is taken as the exception's type).
    pub message: String,
    /// CPython's `offset` and `end_offset` (1-based columns on `line`, end
    /// exclusive): what the caret line under the source line marks. None: no caret.
    pub span: Option<(usize, usize)>,
}

/// The source line and caret line of a SyntaxError, as `traceback` prints them
/// (`TracebackException._format_syntax_error`): the text without its leading
/// spaces, the carets shifted to match; tabs before the caret kept for alignment.
fn caret_lines(text: &str, span: Option<(usize, usize)>) -> String {
    let ltext = text.trim_start_matches([' ', '\n', '\x0c']);
    let spaces = text.chars().count() - ltext.chars().count();
    let mut out = format!("    {ltext}\n");
    if let Some((offset, end)) = span {
        let end = if end <= offset { offset + 1 } else { end };
        if offset > spaces {
            let colno = offset - 1 - spaces;
            let end_colno = end - 1 - spaces;
            let pad: String = ltext
                .chars()
                .take(colno)
                .map(|c| if c.is_whitespace() { c } else { ' ' })
                .collect();
            out.push_str(&format!("    {pad}{}\n", "^".repeat(end_colno - colno)));
        }
    }
    out
}

impl Invalid {
    /// The exception CPython raises: type and message.
    fn split(&self) -> (&str, &str) {
        for kind in ["IndentationError", "TabError", "SyntaxError"] {
            if let Some(rest) = self
                .message
                .strip_prefix(kind)
                .and_then(|r| r.strip_prefix(": "))
            {
                return (kind, rest);
            }
        }
        let m = self.message.as_str();
        let indentation = m.starts_with("unexpected indent")
            || m.starts_with("expected an indented block")
            || m.starts_with("unindent does not match")
            || m.starts_with("unexpected unindent");
        (
            if indentation {
                "IndentationError"
            } else {
                "SyntaxError"
            },
            m,
        )
    }

    /// The exception as CPython's traceback shows a failed `compile()` of the example
    /// `name`: the line, its text without indentation, the caret line.
    pub fn raised(&self, source: &str, name: &str) -> Raised {
        let (type_name, message) = self.split();
        let mut traceback = format!(
            "Traceback (most recent call last):\n  File \"{name}\", line {}\n",
            self.line.max(1)
        );
        if let Some(text) = source.split('\n').nth(self.line.max(1) - 1) {
            traceback.push_str(&caret_lines(text, self.span));
        }
        let raised = Raised {
            type_name: type_name.to_string(),
            message: message.to_string(),
            traceback: String::new(),
        };
        traceback.push_str(&raised.exception_only());
        Raised {
            traceback,
            ..raised
        }
    }
}
