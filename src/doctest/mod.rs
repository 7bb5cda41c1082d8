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
pub use runner::{run_examples, run_file, FileError, FileResult, RunOptions};

/// Runs the source of one example in the namespace shared by the whole file.
pub trait Executor {
    /// Run `source` (one example, ends with `\n`); `name` is CPython's compile name
    /// `<doctest file.txt[N]>`, used in tracebacks.
    fn run(&mut self, source: &str, name: &str) -> Result<Outcome, Invalid>;
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

/// An example the executor refuses (syntax it cannot read, an unsupported
/// construct): the transcript cannot be used, the run ends with exit status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// 1-based line within the example's source.
    pub line: usize,
    pub message: String,
}
