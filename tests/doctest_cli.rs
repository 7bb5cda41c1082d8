//! `harness run` as a command: help texts, bad command lines, malformed transcripts
//! (exit 2 with `file:line:`), summary lines and exit statuses that do not need the
//! Python interpreter (files without examples to run).

#[path = "doctest/support.rs"]
mod support;

use std::process::{Command, Output};

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .current_dir(support::root())
        .env("NO_COLOR", "1")
        .output()
        .expect("harness runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn help_texts_have_a_description_and_an_example() {
    let top = harness(&["--help"]);
    assert_eq!(top.status.code(), Some(0));
    let s = text(&top.stdout);
    assert!(s.contains("doctest transcript runner"), "{s}");
    assert!(s.contains("Example:\n  harness run"), "{s}");
    let run = harness(&["run", "--help"]);
    assert_eq!(run.status.code(), Some(0));
    let s = text(&run.stdout);
    for needle in [
        "Replay doctest transcripts",
        "Example:",
        "--option",
        "--fail-fast",
        "--diff",
        "--apps",
        "--backend",
        "--pg-url",
        "--image",
        "--multicluster",
        "--verbose",
    ] {
        assert!(s.contains(needle), "missing {needle} in\n{s}");
    }
}

#[test]
fn bad_command_lines_exit_2() {
    for args in [
        &["run", "--no-such-flag", "tests/doctest/prose_only.txt"][..],
        &["run"][..],
        &["run", "-o", "ELIPSIS", "tests/doctest/prose_only.txt"][..],
        &["run", "--backend", "podman", "tests/doctest/prose_only.txt"][..],
        &["run", "-j", "0", "tests/doctest/prose_only.txt"][..],
        &["run", "--timeout", "0", "tests/doctest/prose_only.txt"][..],
        &["frobnicate"][..],
    ] {
        let out = harness(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}: no message");
    }
}

#[test]
fn missing_file_exits_2_and_names_it() {
    let out = harness(&["run", "tests/doctest/prose_only.txt", "no/such/file.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no/such/file.txt"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "nothing runs when a file is missing");
}

#[test]
fn malformed_transcripts_exit_2_with_file_and_line() {
    let dir = support::root().join("tests/doctest/malformed");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 8);
    for name in names {
        let rel = format!("tests/doctest/malformed/{name}");
        let raw = std::fs::read(dir.join(&name)).unwrap();
        let first = text(&raw).lines().next().unwrap().to_string();
        let line: usize = first
            .strip_prefix(".. error at line: ")
            .expect("malformed files say where the error is")
            .parse()
            .unwrap();
        let out = harness(&["run", &rel]);
        assert_eq!(out.status.code(), Some(2), "{rel}");
        let err = text(&out.stderr);
        assert!(err.starts_with(&format!("{rel}:{line}: ")), "{rel}: {err}");
        // CPython refuses the same files (ValueError / UnicodeDecodeError).
        let (_, status) = support::cpython(&rel, &[]);
        assert_ne!(status, 0, "{rel}: CPython accepted it");
    }
}

#[test]
fn malformed_file_does_not_stop_the_others() {
    let out = harness(&[
        "run",
        "tests/doctest/malformed/prompt_no_space.txt",
        "tests/doctest/prose_only.txt",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stdout),
        "tests/doctest/prose_only.txt: 0 passed, 0 failed\n0 passed, 0 failed\n"
    );
}

#[test]
fn summary_counts_skipped_examples() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("skips.txt");
    std::fs::write(
        &f,
        ">>> 1  # doctest: +SKIP\n2\n>>> raise ValueError  # doctest: +SKIP\n",
    )
    .unwrap();
    let p = f.to_str().unwrap();
    let out = harness(&["run", p]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("{p}: 0 passed, 0 failed, 2 skipped\n0 passed, 0 failed, 2 skipped\n")
    );
    let out = harness(&["run", "-o", "SKIP", "tests/doctest/basic_pass.txt"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).ends_with("\n0 passed, 0 failed, 8 skipped\n"));
}

#[test]
fn no_colour_when_not_a_terminal() {
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["run", "tests/doctest/prose_only.txt"])
        .current_dir(support::root())
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(!text(&out.stdout).contains('\x1b'));
}
