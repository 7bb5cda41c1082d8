//! Differential test: every corpus transcript is run by `python3 -m doctest` and by
//! the `harness` binary; the verdict of every example (seen through the `-v`
//! stream: `ok` or a failure block after each `Trying:`), the failure report text
//! and the exit status must be the same.
//!
//! Differences from CPython that are part of the design and are removed before
//! comparing:
//! - traceback stack frames (CPython shows its own `doctest.py` frame and CPython
//!   source lines; ours shows the interpreter's frames) — see `strip_stack_frames`;
//! - the summary: CPython prints `summarize()` ("1 items had failures: ...",
//!   `***Test Failed*** N failures.`), the harness prints one line per file and the
//!   final `N passed, N failed` line (docs/transcripts.md). The counts are compared.
//!
//!
//! Syntax errors (`tests/doctest/syntax_error*.txt`) are compared byte for byte
//! apart from CPython's `doctest.py` frame: line, source text, caret line, message.
//!
//! `tests/doctest_engine.rs` runs the same comparison on the engine with a
//! CPython-backed executor, so the engine is covered while this waits for the
//! interpreter.

#[path = "doctest/support.rs"]
mod support;

use std::process::Command;

use support::*;

/// Run the binary; returns (example stream, passed, failed, exit status).
fn harness(path: &str, args: &[String]) -> (String, usize, usize, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("run")
        .args(args)
        .arg(path)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("harness runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let status = out.status.code().unwrap_or(-1);
    // The last two lines: `<path>: P passed, F failed` and the run total.
    let mut lines: Vec<&str> = stdout.split_inclusive('\n').collect();
    let total = lines.pop().unwrap_or_default().trim_end().to_string();
    let file_line = lines.pop().unwrap_or_default().trim_end().to_string();
    assert_eq!(
        file_line,
        format!("{path}: {total}"),
        "{path}: per-file line"
    );
    let re = regex::Regex::new(r"^(\d+) passed, (\d+) failed(, \d+ skipped)?$").unwrap();
    let c = re.captures(&total).unwrap_or_else(|| {
        panic!(
            "{path}: bad final line {total:?}; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        lines.concat(),
        c[1].parse().unwrap(),
        c[2].parse().unwrap(),
        status,
    )
}

#[test]
fn corpus_matches_cpython_through_the_binary() {
    let mut mismatches = Vec::new();
    for file in corpus() {
        let args = run_with(&file);
        for verbose in [false, true] {
            let mut a = args.clone();
            if verbose {
                a.push("-v".into());
            }
            let (py_out, py_status) = cpython(&file, &a);
            let (py_stream, py_counts) = split_cpython_summary(&py_out);
            let (ours, passed, failed, status) = harness(&file, &a);
            let (left, right) = (strip_stack_frames(&py_stream), strip_stack_frames(&ours));
            if left != right {
                mismatches.push(format!(
                    "{file} (verbose={verbose}):\n--- cpython\n{left}\n--- harness\n{right}"
                ));
                continue;
            }
            if py_status != status {
                mismatches.push(format!("{file}: exit status {py_status} vs {status}"));
            }
            if verbose && py_counts != Some((passed + failed, failed)) {
                mismatches.push(format!(
                    "{file}: counts {py_counts:?} vs {:?}",
                    (passed + failed, failed)
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
}

#[test]
fn syntax_error_reports_match_cpython_byte_for_byte() {
    let mut mismatches = Vec::new();
    let files: Vec<String> = corpus()
        .into_iter()
        .filter(|f| f.starts_with("tests/doctest/syntax_error"))
        .collect();
    assert!(files.len() >= 3, "the syntax error corpus: {files:?}");
    for file in files {
        let (py_out, py_status) = cpython(&file, &[]);
        let (py_stream, _) = split_cpython_summary(&py_out);
        let (ours, _, failed, status) = harness(&file, &[]);
        let cpython = strip_doctest_frame(&py_stream);
        if cpython != ours {
            mismatches.push(format!(
                "{file}:\n--- cpython\n{cpython}\n--- harness\n{ours}"
            ));
        }
        assert!(failed > 0, "{file}: examples fail");
        assert_eq!(py_status, status, "{file}: exit status");
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
}
