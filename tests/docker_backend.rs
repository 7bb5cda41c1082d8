//! `harness run --backend docker`: the container is removed after the run, after a
//! failing run, and on Ctrl-C (during the container's start and during the run).
//!
//! Needs the `docker` cargo feature, a Docker daemon and the image (default
//! `harness-pg:15` from `ci/docker/build-images.sh`, or `$HARNESS_DOCKER_IMAGE`);
//! without them each test prints `SKIPPED: <reason>` and passes.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn image() -> String {
    std::env::var("HARNESS_DOCKER_IMAGE")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "harness-pg:15".into())
}

fn docker(args: &[&str]) -> Option<String> {
    let out = Command::new("docker").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Why these tests cannot run here, if they cannot.
fn skip_reason() -> Option<String> {
    if !cfg!(feature = "docker") {
        return Some(
            "built without the `docker` cargo feature (cargo test --features docker)".into(),
        );
    }
    if let Err(why) = harness::pg::docker::available() {
        return Some(why);
    }
    if docker(&["image", "inspect", "--format", "{{.Id}}", &image()]).is_none() {
        return Some(format!(
            "image {} is missing (build it with ci/docker/build-images.sh)",
            image()
        ));
    }
    None
}

macro_rules! skip_unless_docker {
    ($name:expr) => {
        if let Some(why) = skip_reason() {
            eprintln!("SKIPPED: {}: {why}", $name);
            return;
        }
    };
}

/// The docker backend's containers whose `harness.owner` label names process `pid`.
fn containers_of(pid: u32) -> Vec<String> {
    let list = docker(&[
        "ps",
        "-a",
        "--filter",
        "label=harness.backend=docker",
        "--format",
        "{{.ID}} {{.Label \"harness.owner\"}}",
    ])
    .unwrap_or_default();
    list.lines()
        .filter(|l| {
            let owner = l.split_once(' ').map_or("", |(_, o)| o);
            owner.rsplit(':').nth(1) == Some(pid.to_string().as_str())
        })
        .map(|l| l.split(' ').next().unwrap_or("").to_string())
        .collect()
}

fn harness_run(transcript: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "run",
            "--backend",
            "docker",
            "--image",
            &image(),
            transcript,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run harness")
}

fn wait(child: &mut Child, limit: Duration) -> i32 {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            use std::os::unix::process::ExitStatusExt;
            return status
                .code()
                .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
        }
        assert!(Instant::now() < deadline, "harness run did not end");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn output(child: Child) -> String {
    let out = child.wait_with_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_passing_and_a_failing_run_leave_no_container() {
    skip_unless_docker!("docker backend runs");
    let mut child = harness_run("transcripts/async.txt");
    let pid = child.id();
    let code = wait(&mut child, Duration::from_secs(300));
    let text = output(child);
    assert_eq!(code, 0, "{text}");
    assert_eq!(containers_of(pid), Vec::<String>::new());

    let mut bad = tempfile::Builder::new().suffix(".txt").tempfile().unwrap();
    writeln!(bad, "    >>> 1 + 1\n    3\n").unwrap();
    let mut child = harness_run(bad.path().to_str().unwrap());
    let pid = child.id();
    let code = wait(&mut child, Duration::from_secs(300));
    let text = output(child);
    assert_eq!(code, 1, "{text}");
    assert_eq!(containers_of(pid), Vec::<String>::new());
    eprintln!("docker backend: a passing and a failing run left 0 containers");
}

#[test]
fn ctrl_c_during_the_start_and_during_the_run_leaves_no_container() {
    skip_unless_docker!("docker backend Ctrl-C");
    for (when, settle) in [("during the start", 0u64), ("during the run", 2500)] {
        let mut child = harness_run("transcripts/async.txt");
        let pid = child.id();
        let deadline = Instant::now() + Duration::from_secs(120);
        while containers_of(pid).is_empty() {
            assert!(Instant::now() < deadline, "no container appeared");
            assert!(
                child.try_wait().unwrap().is_none(),
                "harness run ended early"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(settle));
        // SAFETY: signalling our own child.
        unsafe {
            libc::kill(pid as i32, libc::SIGINT);
        }
        let code = wait(&mut child, Duration::from_secs(60));
        let left = containers_of(pid);
        let text = output(child);
        assert_eq!(left, Vec::<String>::new(), "Ctrl-C {when}: {text}");
        eprintln!("docker backend: Ctrl-C {when}: exit {code}, 0 containers left");
    }
}

#[test]
fn the_containers_of_a_killed_run_are_swept_by_the_next_start() {
    skip_unless_docker!("docker backend sweep");
    let mut child = harness_run("transcripts/async.txt");
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(120);
    while containers_of(pid).is_empty() {
        assert!(Instant::now() < deadline, "no container appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no hook runs
    child.wait().unwrap();
    assert_eq!(containers_of(pid).len(), 1, "kill -9 left its container");
    harness::pg::docker::sweep_dead_owners();
    assert_eq!(containers_of(pid), Vec::<String>::new());
    eprintln!("docker backend: the container of a killed run was swept");
}
