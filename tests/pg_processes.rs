//! Embedded clusters across harness processes: two at once never collide; a run
//! killed with kill -9 loses its server at once (death signal) and its directory to
//! the next run's sweep; SIGTERM and a panic clean up; a template built by one run
//! is in the next run's cache. Each child is this test binary re-run with
//! `HARNESS_PG_CHILD=<role>`: a separate process with its own exit path.

use harness::pg::{cleanup, embedded::Cluster, Server};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const ROLE: &str = "HARNESS_PG_CHILD";

/// The child side; a no-op in an ordinary test run.
#[test]
fn child_entry() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    match role.as_str() {
        "hold" | "panic" => {
            let cluster = Cluster::start("primary").unwrap();
            println!(
                "READY port={} pid={} dir={}",
                cluster.port(),
                cluster.pid().unwrap(),
                cluster.dir().display()
            );
            if role == "panic" {
                panic!("a harness run that panics");
            }
            // Hold the cluster until the parent closes our stdin.
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
            // Leaves through exit(): the exit hook stops the cluster.
            std::mem::forget(cluster);
        }
        "template" => {
            let server = Server::embedded("primary").unwrap();
            let name = server
                .ensure_template("persist", |s, db| {
                    println!("BUILT");
                    s.connect(db)?
                        .batch_execute("CREATE TABLE t (x int); INSERT INTO t VALUES (42);")?;
                    Ok(())
                })
                .unwrap();
            server.clone_database(&name, "harness_clone").unwrap();
            let x: i32 = server
                .connect("harness_clone")
                .unwrap()
                .query_one("SELECT x FROM t", &[])
                .unwrap()
                .get(0);
            println!("VALUE={x}");
        }
        other => panic!("unknown child role {other}"),
    }
}

struct Ready {
    port: u16,
    pid: u32,
    dir: PathBuf,
}

fn spawn(role: &str, envs: &[(&str, &str)]) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["child_entry", "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env_remove("HARNESS_PG_URL")
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn lines(child: &mut Child) -> std::io::Lines<BufReader<ChildStdout>> {
    BufReader::new(child.stdout.take().unwrap()).lines()
}

fn read_ready(child: &mut Child) -> (Ready, std::io::Lines<BufReader<ChildStdout>>) {
    let mut out = lines(child);
    for line in out.by_ref() {
        let line = line.unwrap();
        // libtest prints `test child_entry ... ` before our first line.
        if let Some(rest) = line.split_once("READY ").map(|(_, r)| r) {
            let field = |k: &str| {
                rest.split(' ')
                    .find_map(|f| f.strip_prefix(&format!("{k}=")))
                    .unwrap()
                    .to_string()
            };
            let ready = Ready {
                port: field("port").parse().unwrap(),
                pid: field("pid").parse().unwrap(),
                dir: PathBuf::from(field("dir")),
            };
            return (ready, out);
        }
    }
    panic!("child ended before its cluster was ready");
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

fn wait_until(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn query_one(port: u16) -> i32 {
    let url = format!("postgresql://postgres@127.0.0.1:{port}/postgres");
    let server = Server::from_url(&url).unwrap();
    server
        .connect("postgres")
        .unwrap()
        .query_one("SELECT 1", &[])
        .unwrap()
        .get(0)
}

#[test]
fn two_processes_at_once_never_collide() {
    if std::env::var(ROLE).is_ok() {
        return;
    }
    let mut a = spawn("hold", &[]);
    let mut b = spawn("hold", &[]);
    let (ra, _oa) = read_ready(&mut a);
    let (rb, _ob) = read_ready(&mut b);
    assert_ne!(ra.port, rb.port);
    assert_ne!(ra.dir, rb.dir);
    assert_eq!((query_one(ra.port), query_one(rb.port)), (1, 1));
    // Closing stdin lets each child exit normally; its exit hook cleans up.
    for (child, ready) in [(&mut a, &ra), (&mut b, &rb)] {
        drop(child.stdin.take());
        assert!(child.wait().unwrap().success());
        assert!(!alive(ready.pid), "postmaster outlived a normal exit");
        assert!(
            !ready.dir.exists(),
            "{} outlived a normal exit",
            ready.dir.display()
        );
    }
}

#[test]
fn a_killed_run_is_cleaned_up() {
    if std::env::var(ROLE).is_ok() {
        return;
    }
    let mut child = spawn("hold", &[]);
    let (ready, _out) = read_ready(&mut child);
    assert_eq!(query_one(ready.port), 1);
    child.kill().unwrap(); // SIGKILL: no hook of the child runs
    child.wait().unwrap();
    wait_until("the postmaster follows its parent", 10, || {
        !alive(ready.pid)
    });
    assert!(ready.dir.exists(), "nothing could have removed it yet");
    // The next run's sweep removes what the killed one left.
    cleanup::sweep_stale();
    assert!(
        !ready.dir.exists(),
        "{} survived the sweep",
        ready.dir.display()
    );
}

#[test]
fn sigterm_and_panic_clean_up() {
    if std::env::var(ROLE).is_ok() {
        return;
    }
    let mut child = spawn("hold", &[]);
    let (ready, _out) = read_ready(&mut child);
    // Keep stdin open: `wait` closes it, and EOF would end the child normally.
    let _stdin = child.stdin.take();
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    assert!(!alive(ready.pid));
    assert!(
        !ready.dir.exists(),
        "{} outlived SIGTERM",
        ready.dir.display()
    );

    let mut child = spawn("panic", &[]);
    let (ready, _out) = read_ready(&mut child);
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(!alive(ready.pid));
    assert!(
        !ready.dir.exists(),
        "{} outlived a panic",
        ready.dir.display()
    );
}

#[test]
fn a_template_survives_into_the_next_run() {
    if std::env::var(ROLE).is_ok() {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_str().unwrap();
    let run = |expect_build: bool| {
        let mut child = spawn("template", &[("HARNESS_PG_CACHE", cache_dir)]);
        let out: Vec<String> = lines(&mut child).map(|l| l.unwrap()).collect();
        assert!(child.wait().unwrap().success(), "{out:?}");
        assert_eq!(
            out.iter().any(|l| l.ends_with("BUILT")),
            expect_build,
            "{out:?}"
        );
        assert!(out.iter().any(|l| l.ends_with("VALUE=42")), "{out:?}");
    };
    run(true); // cold: initdb, build, save to the cache
    run(false); // warm: the template came with the cached cluster
}
