//! Test support shared by the doctest tests: a CPython-backed `Executor` (one
//! `python3` process per transcript, so the namespace is shared like CPython's
//! doctest globs) and helpers that compare harness output with `python3 -m doctest`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use harness::doctest::{Executor, Invalid, Outcome, Raised};

const PY_SERVER: &str = r#"
import sys, json, traceback, io
globs = {'__name__': '__main__'}
real_out = sys.stdout
for line in sys.stdin:
    req = json.loads(line)
    buf = io.StringIO()
    sys.stdout = buf
    sys.displayhook = sys.__displayhook__
    exc = None
    try:
        exec(compile(req['source'], req['name'], 'single', 0, True), globs)
    except BaseException:
        et, ev, tb = sys.exc_info()
        fmt = traceback.format_exception_only(et, ev)
        if issubclass(et, SyntaxError):
            pre = (et.__qualname__ + ':', et.__module__ + '.' + et.__qualname__ + ':')
            fmt = fmt[next(i for i, l in enumerate(fmt) if l.startswith(pre)):]
        only = ''.join(fmt)
        name = et.__qualname__
        if et.__module__ not in ('__main__', 'builtins'):
            name = et.__module__ + '.' + name
        msg = only[len(name) + 2:-1] if only.startswith(name + ': ') else ''
        exc = {'type_name': name, 'message': msg,
               'traceback': ''.join(traceback.format_exception(et, ev, tb))}
    finally:
        sys.stdout = real_out
    real_out.write(json.dumps({'output': buf.getvalue(), 'exception': exc}) + '\n')
    real_out.flush()
"#;

/// Runs examples in a long-lived `python3` (test-only; production uses
/// `crate::script`).
pub struct PyExec {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl PyExec {
    pub fn new() -> PyExec {
        let mut child = Command::new("python3")
            .args(["-c", PY_SERVER])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        PyExec {
            child,
            stdin,
            stdout,
        }
    }
}

impl Drop for PyExec {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Executor for PyExec {
    fn run(&mut self, source: &str, name: &str) -> Result<Outcome, Invalid> {
        let req = serde_json::json!({"source": source, "name": name});
        writeln!(self.stdin, "{req}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).expect("python answered");
        let exception = v["exception"].as_object().map(|e| Raised {
            type_name: e["type_name"].as_str().unwrap().to_string(),
            message: e["message"].as_str().unwrap().to_string(),
            traceback: e["traceback"].as_str().unwrap().to_string(),
        });
        Ok(Outcome {
            output: v["output"].as_str().unwrap().to_string(),
            exception,
        })
    }
}

/// The crate root (tests run with it as the working directory).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The corpus: every `tests/doctest/*.txt`, sorted, as paths relative to the root.
pub fn corpus() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root().join("tests/doctest"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt"))
        .map(|n| format!("tests/doctest/{n}"))
        .collect();
    files.sort();
    files
}

/// A corpus file may say `.. run with: -o FLAG ...` in its prose: extra arguments
/// given to both runners.
pub fn run_with(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(".. run with:"))
        .map(|rest| rest.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// `python3 -m doctest [args] path`: (stdout, exit status).
pub fn cpython(path: &str, args: &[String]) -> (String, i32) {
    let out = Command::new("python3")
        .args(["-m", "doctest"])
        .args(args)
        .arg(path)
        .current_dir(root())
        .output()
        .expect("python3 runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// CPython's summary (printed by `summarize`) is not part of the per-example stream;
/// cut it off and return (stream, tried, failed) when the summary says.
pub fn split_cpython_summary(out: &str) -> (String, Option<(usize, usize)>) {
    let re = regex::Regex::new(
        r"(?m)^(1 items had no tests:|1 items passed all tests:|\*{70}\n1 items had failures:|\d+ tests in 1 items\.)$",
    )
    .unwrap();
    let (stream, summary) = match re.find(out) {
        Some(m) => (&out[..m.start()], &out[m.start()..]),
        None => (out, ""),
    };
    let counts = regex::Regex::new(r"(?m)^(\d+) passed and (\d+) failed\.$")
        .unwrap()
        .captures(summary)
        .map(|c| {
            let p: usize = c[1].parse().unwrap();
            let f: usize = c[2].parse().unwrap();
            (p + f, f)
        });
    (stream.to_string(), counts)
}

/// Remove traceback stack frames (they name different files and lines in CPython's
/// doctest, the test server and our interpreter): after each `Traceback (most recent
/// call last):` line, drop lines up to the exception line (the first line with a
/// word character at the header's indentation).
pub fn strip_stack_frames(text: &str) -> String {
    let mut out = Vec::new();
    let mut skipping: Option<usize> = None;
    for line in text.split('\n') {
        if let Some(ind) = skipping {
            let at = line.get(ind..).and_then(|r| r.chars().next());
            let starts_word = line.len() > ind
                && line[..ind].bytes().all(|b| b == b' ')
                && at.is_some_and(|c| c.is_alphanumeric() || c == '_');
            if starts_word {
                skipping = None;
            } else {
                continue;
            }
        }
        if line
            .trim_end()
            .ends_with("Traceback (most recent call last):")
        {
            skipping = Some(line.len() - line.trim_start().len());
            out.push(line);
            continue;
        }
        out.push(line);
    }
    out.join("\n")
}

pub fn path(p: &str) -> PathBuf {
    root().join(Path::new(p))
}

/// Remove the one frame CPython's report has that ours cannot: doctest's own
/// `exec(compile(...))` line in `doctest.py`, with its source and caret lines.
/// Everything else of a SyntaxError report (the example's line, its text, the
/// caret line, the message) is left to compare byte for byte.
pub fn strip_doctest_frame(text: &str) -> String {
    let mut out = Vec::new();
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("File \"")
            && t.contains("doctest.py\", line ")
            && t.ends_with(", in __run")
        {
            let indent = line.len() - t.len();
            // The frame's source line(s) and caret line are indented deeper.
            while lines
                .peek()
                .is_some_and(|l| l.len() - l.trim_start().len() > indent)
            {
                lines.next();
            }
            continue;
        }
        out.push(line);
    }
    out.join("\n")
}
