//! The doctest engine against CPython's doctest, example by example: every corpus
//! file is run by `python3 -m doctest` and by `harness::doctest::run_file` with a
//! CPython-backed executor (tests/doctest/support.rs). The per-example stream —
//! failure blocks, and with `-v` every Trying:/Expecting:/ok — must be identical
//! (stack frames of tracebacks aside), and so must the counts.
//!
//! This checks the parser, checker, runner and report texts before the Python
//! subset interpreter is merged; `doctest_differential.rs` does the same through
//! the binary once it is.

#[path = "doctest/support.rs"]
mod support;

use harness::doctest::{run_file, Flags, RunOptions};
use support::*;

fn engine(path: &str, args: &[String], verbose: bool) -> (String, usize, usize) {
    let mut flags = Flags::NONE;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-o" => flags |= Flags::by_name(it.next().unwrap()).unwrap(),
            "-f" => flags |= Flags::FAIL_FAST,
            other => panic!("unknown run-with argument {other}"),
        }
    }
    let opts = RunOptions {
        flags,
        verbose,
        ..Default::default()
    };
    let mut exec = PyExec::new();
    let mut out = Vec::new();
    let r = run_file(&support::path(path), path, &mut exec, &opts, &mut out)
        .unwrap_or_else(|e| panic!("{e}"));
    (
        String::from_utf8(out).unwrap(),
        r.tally.passed + r.tally.failed,
        r.tally.failed,
    )
}

#[test]
fn corpus_matches_cpython() {
    let files = corpus();
    let mut mismatches = Vec::new();
    for file in &files {
        let args = run_with(file);
        for verbose in [false, true] {
            let mut cargs = args.clone();
            if verbose {
                cargs.push("-v".into());
            }
            let (py_out, py_status) = cpython(file, &cargs);
            let (py_stream, py_counts) = split_cpython_summary(&py_out);
            let (ours, tried, failed) = engine(file, &args, verbose);
            if strip_stack_frames(&py_stream) != strip_stack_frames(&ours) {
                mismatches.push(format!(
                    "{file} (verbose={verbose}):\n--- cpython\n{}\n--- harness\n{}",
                    strip_stack_frames(&py_stream),
                    strip_stack_frames(&ours)
                ));
                continue;
            }
            assert_eq!(py_status, i32::from(failed > 0), "{file}: exit status");
            if verbose {
                assert_eq!(py_counts, Some((tried, failed)), "{file}: counts");
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
    assert!(files.len() >= 60, "corpus has {} files", files.len());
}
