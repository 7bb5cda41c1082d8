//! The Python 3 subset that replays doctest transcripts (docs/python.md lists what
//! it supports). CPython 3.11 is the reference for reprs and error messages.
//!
//! Pipeline: [`lexer`] (tokens, INDENT/DEDENT) -> [`parser`] (AST with lines) ->
//! [`interp`] (tree-walking evaluator over [`value`]s: statements, expressions,
//! scopes; with `calls`, `attrs`, `imports` and [`ops`] for calls, attribute
//! access, the module registry and operators). Builtins live in
//! [`builtins`]/[`methods`], formatting in [`format`](mod@format), lazy generators in
//! [`generator`], CPython's set order in [`setorder`], standard modules in
//! [`stdlib`], the captured stdout in [`output`], and the extension API for the
//! rex bindings in [`native`].
//!
//! Known, deliberate differences from CPython (each is an explicit error, never a
//! silently different result, unless noted):
//! - `int` is 64-bit: results beyond it raise OverflowError.
//! - Generators whose `yield`s are whole statements in plain blocks, `if`,
//!   `for` and `while`, and all generator expressions, run lazily exactly like
//!   CPython's ([`generator`]). Others (a `yield` inside `try`/`with` or inside a
//!   larger expression) run eagerly when called: the output their body writes is
//!   replayed item by item and an exception raised after some items is delivered
//!   when the consumer reaches it, so printing behaves as in CPython, but other
//!   side effects (mutating shared state) happen up front, and more than
//!   1,000,000 items is a NotImplementedError.
//! - Unsupported syntax (`async`, `await`, `match`, `:=`, annotations, `yield
//!   from`, complex literals) is a [`ScriptError`] naming the
//!   construct; unsupported builtins and standard modules raise NotImplementedError.
//! - Instances of script classes are dict keys by identity (a user `__hash__`
//!   is not consulted); classes defining `__eq__` without `__hash__` are unhashable.
//! - Sets of ints, floats and tuples of them iterate in CPython's hash-table
//!   order for the common construction paths (see [`setorder`]); sets of other
//!   values (CPython randomizes string hashes) iterate in insertion order.
//! - Tracebacks match CPython 3.11's `traceback.format_exception` (frames,
//!   source lines, `<listcomp>` frames, explicit and implicit chaining) except
//!   for the `^^^~~~` position markers, which are not printed.
//! - Metaclasses: `class X(metaclass=M)` calls `M(name, bases, namespace, **kw)`;
//!   a class's namespace reaches a metaclass in sorted (not definition) order.
//! - Syntax errors are [`ScriptError`]s (the runner stops), not exceptions the
//!   example could expect.

pub mod ast;
mod attrs;
pub mod builtins;
mod calls;
pub mod format;
pub mod generator;
mod imports;
pub mod interp;
pub mod lexer;
pub mod methods;
pub mod native;
pub mod ops;
pub mod output;
pub mod parser;
pub mod setorder;
pub mod stdlib;
pub mod value;

pub use interp::Interpreter;
pub use value::{Args, Class, Dict, Exception, Instance, Module, NativeFunction, Value};

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

/// What running one example produced.
#[derive(Debug)]
pub struct Outcome {
    /// Everything written to the captured stdout during the example, including
    /// output written before an exception.
    pub output: String,
    pub exception: Option<Raised>,
}

/// An exception that escaped an example.
#[derive(Debug, Clone)]
pub struct Raised {
    /// As the last traceback line names it: `ValueError`, `rex.core.Error`.
    pub type_name: String,
    /// `str(exc)`; may be multi-line or empty.
    pub message: String,
    /// Full CPython-style traceback text ending in "\n".
    pub traceback: String,
}

/// The source could not be used: a syntax error or an unsupported construct.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptError {
    /// 1-based within the example's source.
    pub line: usize,
    pub message: String,
    /// The columns CPython's caret line marks on `line` (1-based, end exclusive).
    pub span: Option<(usize, usize)>,
}

impl From<lexer::SyntaxErr> for ScriptError {
    fn from(e: lexer::SyntaxErr) -> ScriptError {
        ScriptError {
            line: e.line,
            message: e.message,
            span: e.span.map(|s| (s.start, s.end)),
        }
    }
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl Default for Interpreter {
    fn default() -> Self {
        Interpreter::new()
    }
}

impl Interpreter {
    pub fn new() -> Interpreter {
        let types = builtins::make_types();
        let exc_classes = builtins::exception_classes(&types.object);
        let globals = interp::Scope::new(None);
        globals.set("__name__".into(), Value::str("__main__"));
        let mut it = Interpreter {
            builtins: value::FastMap::default(),
            globals,
            types,
            exc_classes,
            modules: HashMap::new(),
            frames: Vec::new(),
            base_dir: PathBuf::from("."),
            sources: HashMap::new(),
            view_classes: RefCell::new(HashMap::new()),
            interactive: false,
            repr_stack: Vec::new(),
            cancel: Default::default(),
        };
        builtins::install(&mut it);
        it
    }

    /// A flag another thread sets to stop the running example: it raises
    /// KeyboardInterrupt at the next loop iteration, call or `time.sleep` tick.
    /// Cleared when the next example starts.
    pub fn cancel_flag(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        self.cancel.clone()
    }

    /// Directory `open()` resolves relative paths against.
    pub fn set_base_dir(&mut self, dir: PathBuf) {
        self.base_dir = dir;
    }

    /// Sets an attribute of the `sys` module (e.g. `MART_MULTICLUSTER_TEST = True`).
    pub fn set_sys_attr(&mut self, name: &str, value: Value) {
        if let Ok(sys) = self.import_module("sys") {
            sys.set(name, value);
        }
    }

    /// Runs one doctest example in CPython's "single" mode: a bare expression
    /// statement prints the repr of a non-None value.
    pub fn run_example(&mut self, source: &str, filename: &str) -> Result<Outcome, ScriptError> {
        self.cancel
            .store(false, std::sync::atomic::Ordering::SeqCst);
        let module = parser::parse_single(source)?;
        let filename: Rc<str> = filename.into();
        self.sources.insert(filename.clone(), source.into());
        output::take();
        self.interactive = true;
        let r = self.run_module_body(&module.body, filename, true);
        self.interactive = false;
        let exception = match r {
            Ok(()) => None,
            Err(e) => Some(self.raised(e)),
        };
        Ok(Outcome {
            output: output::take(),
            exception,
        })
    }

    /// Runs a whole source file-style program (statements print nothing by
    /// themselves). Used by tests and tools.
    pub fn run_source(
        &mut self,
        source: &str,
        filename: &str,
    ) -> Result<Result<(), Raised>, ScriptError> {
        let module = parser::parse(source)?;
        let filename: Rc<str> = filename.into();
        self.sources.insert(filename.clone(), source.into());
        match self.run_module_body(&module.body, filename, false) {
            Ok(()) => Ok(Ok(())),
            Err(e) => Ok(Err(self.raised(e))),
        }
    }

    /// Describes an escaped exception the way CPython's traceback module prints it.
    pub fn raised(&mut self, mut e: Exception) -> Raised {
        let inst = self.materialize(&mut e);
        let (type_name, message) = self.exception_line(&inst);
        let mut traceback = String::new();
        self.format_exception(&inst, Some(&e.0.frames), &mut traceback, 0);
        Raised {
            type_name,
            message,
            traceback,
        }
    }

    fn exception_line(&mut self, inst: &Rc<Instance>) -> (String, String) {
        let message = match self.str(&Value::Instance(inst.clone())) {
            Ok(m) => m,
            Err(_) => "<exception str() failed>".into(),
        };
        (inst.class.qualified_name(), message)
    }

    /// One exception as `traceback.print_exception` shows it, preceded by its
    /// cause or context (explicit / implicit chaining).
    fn format_exception(
        &mut self,
        inst: &Rc<Instance>,
        frames: Option<&[value::TraceFrame]>,
        out: &mut String,
        depth: usize,
    ) {
        let chained = |v: Option<Value>| match v {
            Some(Value::Instance(i)) => Some(i),
            _ => None,
        };
        if depth < 16 {
            let suppress = matches!(inst.get("__suppress_context__"), Some(Value::Bool(true)));
            if let Some(cause) = chained(inst.get("__cause__")) {
                let tb = cause.traceback.borrow().clone();
                self.format_exception(&cause, tb.as_deref(), out, depth + 1);
                out.push_str(
                    "\nThe above exception was the direct cause of the following exception:\n\n",
                );
            } else if let Some(context) = chained(inst.get("__context__")).filter(|_| !suppress) {
                let tb = context.traceback.borrow().clone();
                self.format_exception(&context, tb.as_deref(), out, depth + 1);
                out.push_str(
                    "\nDuring handling of the above exception, another exception occurred:\n\n",
                );
            }
        }
        if let Some(frames) = frames {
            out.push_str("Traceback (most recent call last):\n");
            for fr in frames.iter().rev() {
                out.push_str(&format!(
                    "  File \"{}\", line {}, in {}\n",
                    fr.filename, fr.line, fr.name
                ));
                if let Some(src) = self.sources.get(&fr.filename) {
                    if let Some(l) = src.lines().nth(fr.line.saturating_sub(1)) {
                        let l = l.trim();
                        if !l.is_empty() {
                            out.push_str(&format!("    {l}\n"));
                        }
                    }
                }
            }
        }
        let (type_name, message) = self.exception_line(inst);
        out.push_str(&type_name);
        if !message.is_empty() {
            out.push_str(": ");
            out.push_str(&message);
        }
        out.push('\n');
    }
}
