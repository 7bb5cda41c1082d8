//! `harness ctl asynctask-workers --scheduler` for 10 seconds on an application
//! (tests/ctl/apps/ticks) with a worker scheduled every second and a worker that
//! ends its own process every third task: the schedule fires every second (each
//! run within a second of its time), every crash is followed by a restart, and
//! SIGTERM stops the task and every worker process it started.

use harness::pg::testing::{server, ScratchDb};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const APPS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ctl/apps");

/// `asynctask-workers` processes whose command line contains `marker` (the scratch
/// database's name; the server's backends for that database are not counted).
fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = entry.file_name().to_string_lossy().to_string();
        if !pid.chars().all(|c| c.is_ascii_digit()) || pid == std::process::id().to_string() {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(marker) && cmdline.contains("asynctask-workers") {
                found.push(format!("{pid}: {cmdline}"));
            }
        }
    }
    found
}

#[test]
fn scheduler_restarts_and_sigterm() {
    let db = ScratchDb::new("ctl_ticks");
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["ctl", "asynctask-workers", "ticks", "--scheduler"])
        .arg(format!("--set=db=pgsql:{}", db.name))
        .env("HARNESS_APPS", APPS)
        .env("HARNESS_PG_URL", server().url("postgres"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start harness ctl");
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut readers = Vec::new();
    let out: Box<dyn std::io::Read + Send> = Box::new(child.stdout.take().unwrap());
    let err: Box<dyn std::io::Read + Send> = Box::new(child.stderr.take().unwrap());
    for stream in [out, err] {
        let lines = lines.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        }));
    }
    let has = |text: &str| lines.lock().unwrap().iter().any(|l| l.contains(text));
    let started = Instant::now();
    while !has("Scheduling \"tick\"") {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the scheduler did not start:\n{}",
            lines.lock().unwrap().join("\n")
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "harness ctl ended early"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(10));
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let stopping = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if stopping.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("harness ctl did not stop within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    for r in readers {
        r.join().unwrap();
    }
    let lines = lines.lock().unwrap().clone();
    let log = lines.join("\n");
    assert!(status.success(), "exit status {status:?}:\n{log}");
    assert_eq!(
        lines.last().map(String::as_str),
        Some("INFO:AsyncTaskWorkerTask:Complete"),
        "{log}"
    );
    assert!(
        processes_with(&db.name).is_empty(),
        "processes left: {:?}",
        processes_with(&db.name)
    );

    // The schedule: one run per second, each within a second of its time (the whole
    // second it was triggered at), none missed.
    let ticks: Vec<f64> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("TICK "))
        .map(|t| t.parse().unwrap())
        .collect();
    assert!(
        (9..=11).contains(&ticks.len()),
        "{} ticks in 10 s:\n{log}",
        ticks.len()
    );
    let seconds: Vec<i64> = ticks.iter().map(|t| t.floor() as i64).collect();
    let late = seconds.windows(2).filter(|w| w[1] - w[0] != 1).count();
    assert!(
        seconds
            .windows(2)
            .all(|w| w[1] - w[0] >= 1 && w[1] - w[0] <= 2)
            && late <= 1,
        "ticks not one per second: {ticks:?}"
    );
    let triggers = lines
        .iter()
        .filter(|l| {
            l.as_str() == "DEBUG:AsyncTaskWorkerTask:Triggering scheduled execution of tick"
        })
        .count();
    assert!(
        triggers >= ticks.len(),
        "{triggers} triggers, {} ticks",
        ticks.len()
    );

    // Every third task ends the worker's process; each death is followed by a restart.
    let count = |text: &str| lines.iter().filter(|l| l.as_str() == text).count();
    let crashes = count("CRASH");
    let deaths = count("ERROR:AsyncTaskWorkerTask:Worker for queue work died; restarting...");
    let launches = count("INFO:AsyncTaskWorkerTask:Launching crashy to work on queue work");
    assert!(crashes >= 2, "{crashes} crashes:\n{log}");
    assert_eq!(deaths, crashes, "{log}");
    assert_eq!(launches, deaths + 1, "{log}");
    assert!(count("WORK") >= 2 * crashes - 1, "{log}");
    // SIGTERM reached every worker: the last ones say so.
    assert_eq!(count("INFO:TickWorker:Terminating"), 1, "{log}");
    assert!(count("INFO:CrashWorker:Terminating") >= 1, "{log}");
}

/// A task killed outright (SIGKILL: no cleanup of its own) still leaves no worker
/// process behind: each one is told when its parent dies.
#[test]
fn killed_task_leaves_no_worker() {
    let db = ScratchDb::new("ctl_killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["ctl", "asynctask-workers", "ticks"])
        .arg(format!("--set=db=pgsql:{}", db.name))
        .env("HARNESS_APPS", APPS)
        .env("HARNESS_PG_URL", server().url("postgres"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start harness ctl");
    let err = child.stderr.take().unwrap();
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    // Both workers have started.
    let mut started = 0;
    while started < 2 {
        let line = receive
            .recv_timeout(Duration::from_secs(60))
            .expect("workers start");
        if line.contains(":Starting; queue=") {
            started += 1;
        }
    }
    assert_eq!(
        processes_with(&db.name).len(),
        3,
        "{:?}",
        processes_with(&db.name)
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = Instant::now();
    while !processes_with(&db.name).is_empty() {
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "processes left: {:?}",
            processes_with(&db.name)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
