//! The binary called `rex` (a symlink, as users install it) is rex's command line:
//! usage lines name `rex`, failures are `FATAL ERROR:` with exit status 1; `harness
//! ctl` is the same command line under the harness's own name.

use std::process::Command;

fn rex() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("rex");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_harness"), &link).unwrap();
    (dir, link)
}

#[test]
fn symlink_named_rex_runs_tasks() {
    let (_dir, rex) = rex();
    let out = Command::new(&rex)
        .args(["help", "mart-purge"])
        .env_remove("REX_PROJECT")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("MART-PURGE - purge Mart database(s)\nUsage: rex mart-purge\n"),
        "{text}"
    );

    let out = Command::new(&rex).arg("mart-explode").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "FATAL ERROR: unknown task mart-explode\n\n"
    );

    let out = Command::new(&rex)
        .arg("mart-purge")
        .env_remove("REX_PROJECT")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "FATAL ERROR: application is not specified\n\n"
    );
}

#[test]
fn harness_ctl_is_the_same_command_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["ctl", "help", "mart-shell"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(
            "MART-SHELL - open HTSQL shell to Mart database\nUsage: harness ctl mart-shell <code-name-owner>\n"
        ),
        "{text}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["ctl", "--help"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\nAvailable tasks:\n"), "{text}");
}
