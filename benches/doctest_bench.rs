//! Benchmark: a generated 2,000-example pure-Python transcript, run by
//! `harness run` and by `python3 -m doctest`; prints both wall times and the ratio
//! (goal: harness / CPython <= 0.3). Also times the engine alone (parse, check,
//! report) with a replaying executor, which needs no interpreter.
//!
//! Run with `cargo bench --bench doctest_bench` (release build of the binary).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use harness::doctest::{parse, run_examples, Executor, Invalid, Outcome, RunOptions};

const EXAMPLES: usize = 2000;

/// A transcript of `EXAMPLES` examples cycling through the common shapes: names,
/// arithmetic, strings, containers, calls, loops, expected exceptions, ELLIPSIS.
fn transcript() -> String {
    let mut t = String::from("Generated benchmark transcript.\n\n");
    t.push_str("    >>> def f(x, y=2):\n    ...     return x * y + 1\n");
    let mut n = 1;
    let mut i = 0;
    while n < EXAMPLES {
        let (src, want) = match i % 10 {
            0 => (format!("v{i} = {i} * 3"), String::new()),
            1 => (format!("v{} + 7", i - 1), format!("{}", (i - 1) * 3 + 7)),
            2 => (format!("print('line', {i})"), format!("line {i}")),
            3 => (format!("'s{i}'.upper()"), format!("'S{i}'")),
            4 => (
                format!("{{'k': {i}, 'l': [1, 2]}}"),
                format!("{{'k': {i}, 'l': [1, 2]}}"),
            ),
            5 => (format!("f({i})"), format!("{}", i * 2 + 1)),
            6 => (
                format!("for j in range(3):\n    ...     print(j + {i})"),
                format!("{}\n    {}\n    {}", i, i + 1, i + 2),
            ),
            7 => (
                format!("{{}}['x{i}']"),
                format!("Traceback (most recent call last):\n      ...\n    KeyError: 'x{i}'"),
            ),
            8 => (
                "list(range(50))  # doctest: +ELLIPSIS".to_string(),
                "[0, 1, 2, ..., 49]".to_string(),
            ),
            _ => (format!("'%s-%d' % ('a', {i})"), format!("'a-{i}'")),
        };
        t.push_str(&format!("    >>> {src}\n"));
        if !want.is_empty() {
            t.push_str(&format!("    {want}\n"));
        }
        n += 1;
        i += 1;
    }
    t
}

fn time(cmd: &mut Command) -> (Duration, i32, String) {
    let start = Instant::now();
    let out = cmd.output().expect("command runs");
    let elapsed = start.elapsed();
    let tail = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    (elapsed, out.status.code().unwrap_or(-1), tail)
}

/// Replays the expected output of each example (the engine's own cost only).
struct Replay {
    wants: Vec<String>,
    next: usize,
}

impl Executor for Replay {
    fn run(&mut self, _source: &str, _name: &str) -> Result<Outcome, Invalid> {
        let output = self.wants.get(self.next).cloned().unwrap_or_default();
        self.next += 1;
        Ok(Outcome {
            output,
            exception: None,
        })
    }
}

fn engine_only(text: &str) -> Duration {
    let start = Instant::now();
    let examples = parse(text).expect("generated transcript parses");
    let wants = examples
        .iter()
        .map(|e| {
            if e.exc_msg.is_some() {
                String::new()
            } else {
                e.want.clone()
            }
        })
        .collect();
    let mut exec = Replay { wants, next: 0 };
    let mut sink = Vec::new();
    run_examples(
        "bench.txt",
        "bench.txt",
        &examples,
        &mut exec,
        &RunOptions::default(),
        &mut sink,
    )
    .expect("runs");
    start.elapsed()
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bench.txt");
    let text = transcript();
    std::fs::write(&file, &text).expect("write transcript");
    assert_eq!(parse(&text).unwrap().len(), EXAMPLES);

    let (py, py_status, py_tail) = time(Command::new("python3").args(["-m", "doctest"]).arg(&file));
    let exe = Path::new(env!("CARGO_BIN_EXE_harness"));
    let (ours, status, tail) = time(Command::new(exe).arg("run").arg(&file).env("NO_COLOR", "1"));
    let engine = engine_only(&text);

    println!("doctest_bench: {EXAMPLES} examples");
    println!(
        "  python3 -m doctest : {:>9.3} ms (exit {py_status}) {py_tail}",
        py.as_secs_f64() * 1e3
    );
    println!(
        "  harness run        : {:>9.3} ms (exit {status}) {tail}",
        ours.as_secs_f64() * 1e3
    );
    println!(
        "  engine only        : {:>9.3} ms (parse + check + report, replayed output)",
        engine.as_secs_f64() * 1e3
    );
    println!(
        "  ratio harness/python = {:.3} (goal <= 0.3)",
        ours.as_secs_f64() / py.as_secs_f64()
    );
    if status == 2 {
        println!("  note: harness exited 2 — this build has no interpreter yet, so the ratio is not meaningful");
    }
}
