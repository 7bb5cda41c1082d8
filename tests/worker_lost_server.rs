//! A `harness worker` whose PostgreSQL goes away: the embedded cluster is stopped
//! under the running worker (a real fast shutdown of the real postmaster) and
//! started again on the same data and port. The worker says once that the server
//! is gone and once that it is back, keeps its job loop and its task workers alive,
//! recovers the job it lost with the server (as after a kill, its mart swept), and
//! serves new jobs and tasks; with --give-up-after it exits 1 instead.

use harness::pg::embedded::Cluster;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "job/procs.rs"]
mod procs;

use procs::{wait_until, Process};

const BIN: &str = env!("CARGO_BIN_EXE_harness");

/// An embedded cluster that can be stopped and started again under its clients:
/// the postmaster's own command line, user and data directory are reused.
struct Restartable {
    cluster: Arc<Cluster>,
    argv: Vec<String>,
    uid: u32,
    gid: u32,
    data: PathBuf,
    again: Option<Child>,
}

impl Restartable {
    fn start() -> Restartable {
        let cluster = Cluster::start("lost").unwrap();
        let pid = cluster.pid().unwrap();
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
        let argv: Vec<String> = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let id = |key: &str| -> u32 {
            let line = status.lines().find(|l| l.starts_with(key)).unwrap();
            line.split_whitespace().nth(1).unwrap().parse().unwrap()
        };
        let d = argv.iter().position(|a| a == "-D").unwrap();
        let data = PathBuf::from(&argv[d + 1]);
        Restartable {
            uid: id("Uid:"),
            gid: id("Gid:"),
            cluster,
            argv,
            data,
            again: None,
        }
    }

    fn url(&self, db: &str) -> String {
        format!(
            "postgresql://postgres@127.0.0.1:{}/{db}",
            self.cluster.port()
        )
    }

    fn running(&self) -> bool {
        self.data.join("postmaster.pid").exists()
    }

    fn connect(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(db), postgres::NoTls).unwrap()
    }

    /// A fast shutdown (SIGINT): clients are disconnected, the data kept.
    fn stop(&mut self) {
        let pid = match self.again.as_ref() {
            Some(child) => child.id(),
            None => self.cluster.pid().unwrap(),
        };
        // SAFETY: kill(2) on the postmaster this test started.
        unsafe { libc::kill(pid as i32, libc::SIGINT) };
        wait_until(Duration::from_secs(30), "the server to stop", || {
            !self.running()
        });
        if let Some(mut child) = self.again.take() {
            let _ = child.wait();
        }
    }

    fn restart(&mut self) {
        let log = std::fs::File::create(self.data.parent().unwrap().join("again.log")).unwrap();
        let child = Command::new(&self.argv[0])
            .args(&self.argv[1..])
            .uid(self.uid)
            .gid(self.gid)
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        self.again = Some(child);
        wait_until(
            Duration::from_secs(30),
            "the server to accept connections",
            || postgres::Client::connect(&self.url("postgres"), postgres::NoTls).is_ok(),
        );
    }
}

impl Drop for Restartable {
    fn drop(&mut self) {
        if self.again.is_some() {
            self.stop();
        }
    }
}

/// An application with a `slow` mart (its ETL sleeps) and the rexmart_create task
/// queue served.
fn app_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("lost_apps")
        .tempdir()
        .unwrap();
    let app = dir.path().join("lostapp");
    std::fs::create_dir_all(&app).unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("definitions/rex.mart_demo");
    std::fs::copy(demo.join("deploy.yaml"), app.join("deploy.yaml")).unwrap();
    // The data files deploy.yaml reads (the demo's RIOS tables).
    std::fs::create_dir(app.join("deploy")).unwrap();
    for entry in std::fs::read_dir(demo.join("deploy")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, app.join("deploy").join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        app.join("settings.yaml"),
        "db: pgsql:lost_app\nasynctask_workers:\n  rexmart_create: rexmart_create\n",
    )
    .unwrap();
    std::fs::write(
        app.join("mart.yaml"),
        "definitions:\n  - id: empty\n  - id: slow\n    post_deploy_scripts:\n      - script: select pg_sleep(30)\n        type: sql\n",
    )
    .unwrap();
    dir
}

/// `harness worker` on the restartable server's `lostapp`.
fn start_worker(pg: &Restartable, apps: &Path, extra: &[&str]) -> Process {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "worker",
        "--apps",
        apps.to_str().unwrap(),
        "--app",
        "lostapp",
    ])
    .args(["--pg-url", &pg.url("postgres"), "--poll-interval", "100"])
    .args([
        "--set",
        "job_heartbeat_interval=1",
        "--set",
        "job_stale_after=3",
    ])
    .args(extra);
    Process::spawn(cmd, false)
}

fn job_status(db: &mut postgres::Client, code: i64) -> String {
    db.query_one("SELECT status::text FROM job WHERE code = $1", &[&code])
        .map(|r| r.get(0))
        .unwrap_or_default()
}

fn submit(db: &mut postgres::Client, job_type: &str, payload: &str) -> i64 {
    db.query_one(
        "INSERT INTO job (owner, type, payload) VALUES ('t', $1, $2::text::json) RETURNING code",
        &[&job_type, &payload],
    )
    .unwrap()
    .get(0)
}

fn count(w: &Process, text: &str) -> usize {
    w.log_text().matches(text).count()
}

#[test]
fn the_worker_rides_out_a_restart_of_its_server() {
    let mut pg = Restartable::start();
    let apps = app_dir();
    let mut w = start_worker(&pg, apps.path(), &[]);
    wait_until(Duration::from_secs(60), "the worker to start", || {
        w.log_text()
            .contains("INFO:MartCreateWorker:Starting; queue=rexmart_create")
            && w.log_text().contains(" started; concurrency=4")
    });
    let mut db = pg.connect("lost_app");
    let slow = submit(
        &mut db,
        "rexmart_create",
        r#"{"owner": "me", "definition": "slow"}"#,
    );
    wait_until(Duration::from_secs(30), "the slow mart's ETL", || {
        w.log_text()
            .contains("INFO:MartCreateExecutor:SQL script #1...")
    });
    drop(db);

    pg.stop();
    std::thread::sleep(Duration::from_secs(4));
    assert!(w.child.try_wait().unwrap().is_none(), "{}", w.log_text());
    let log = w.log_text();
    assert_eq!(count(&w, "Lost the database server"), 1, "{log}");
    // No line per poll: a few lines for the work that failed, not dozens.
    let errors = log.lines().filter(|l| l.starts_with("ERROR:")).count();
    assert!(errors <= 4, "{errors} error lines:\n{log}");

    pg.restart();
    wait_until(
        Duration::from_secs(30),
        "the worker to say the server is back",
        || {
            w.log_text()
                .contains("INFO:HarnessWorker:Database server reachable again after ")
        },
    );
    let mut db = pg.connect("lost_app");
    // The job lost with the server: recovered as a dead worker's, its mart swept.
    wait_until(Duration::from_secs(30), "the lost job's recovery", || {
        job_status(&mut db, slow) == "failed"
    });
    wait_until(Duration::from_secs(30), "the lost mart's sweep", || {
        let n: i64 = db
            .query_one("SELECT count(*) FROM rexmart_inventory", &[])
            .unwrap()
            .get(0);
        n == 0
    });
    // New work is served: a job, and a task (the task worker was restarted).
    let fast = submit(&mut db, "harness_noop", "{}");
    let out = Command::new(BIN)
        .args([
            "task",
            "rexmart_create",
            r#"{"owner": "me", "definition": "empty"}"#,
        ])
        .args(["--apps", apps.path().to_str().unwrap(), "--app", "lostapp"])
        .args(["--pg-url", &pg.url("postgres")])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_until(Duration::from_secs(30), "the new job and task", || {
        let marts: i64 = db
            .query_one(
                "SELECT count(*) FROM rexmart_inventory WHERE definition = 'empty' AND status = 'complete'",
                &[],
            )
            .unwrap()
            .get(0);
        job_status(&mut db, fast) == "completed" && marts == 1
    });
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(w.child.id() as i32, libc::SIGTERM) };
    assert_eq!(w.wait(Duration::from_secs(20)), Some(0), "{}", w.log_text());
    let log = w.log_text();
    assert_eq!(count(&w, "Lost the database server"), 1, "{log}");
    assert_eq!(count(&w, "reachable again"), 1, "{log}");
    let back = log.find("reachable again").unwrap();
    let recovered = log
        .find(&format!(
            "WARNING:JobWorker:Job #{slow} failed: its worker stopped sending heartbeats\n"
        ))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(back < recovered, "{log}");
}

#[test]
fn give_up_after_exits_non_zero_when_the_server_stays_away() {
    let mut pg = Restartable::start();
    let apps = app_dir();
    let mut w = start_worker(&pg, apps.path(), &["--give-up-after", "2s"]);
    wait_until(Duration::from_secs(60), "the worker to start", || {
        w.log_text().contains(" started; concurrency=4")
    });
    let stopped = Instant::now();
    pg.stop();
    assert_eq!(w.wait(Duration::from_secs(30)), Some(1), "{}", w.log_text());
    assert!(stopped.elapsed() >= Duration::from_secs(2));
    let log = w.log_text();
    assert_eq!(count(&w, "Lost the database server"), 1, "{log}");
    assert!(
        log.contains(
            "ERROR:HarnessWorker:Giving up: the database server has been out of reach for 2 s\n"
        ),
        "{log}"
    );
    pg.restart();
}

#[test]
fn give_up_after_takes_a_duration() {
    let out = Command::new(BIN)
        .args(["worker", "--give-up-after", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: invalid value 'soon' for '--give-up-after <DURATION>': expected a duration such as 90s, 5m or 1h"),
        "{err}"
    );
}
