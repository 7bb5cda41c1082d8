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
    println!("\nrunning {} tests", cases.len());
    let mut failures = Vec::new();
    for (name, file, multi) in &cases {
        match replay(file, *multi) {
            Ok(()) => println!("test {name} ... ok"),
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
        cases.len() - failed
    );
    std::process::exit(if failed == 0 { 0 } else { 101 });
}
