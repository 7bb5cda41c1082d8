//! What a creator or purge that dies half-way leaves, and who repairs it: the
//! mart's lock is held from the inventory insert until the database is complete,
//! the sweep deletes a record whose database is missing only when that lock is
//! free, and `harness worker` sweeps when it starts and after recovering stale jobs.
//! The window between the insert and `CREATE DATABASE` is held open for real: a
//! `copy` mart waits (up to 5 s, PostgreSQL's rule) while its template has a session.

mod mart;
#[path = "job/procs.rs"]
mod procs;

use harness::mart::cluster::{Cluster, MartLock};
use harness::mart::inventory;
use harness::mart::sweep::sweep;
use harness::mart::{CreateOptions, MartCreator};
use harness::pg::testing::{server, ScratchDb};
use mart::{db_exists, TestApp};
use procs::{wait_until, Worker};
use std::time::Duration;

#[test]
fn child_worker_entry() {
    procs::child_entry();
}

/// An application with one definition, `copy_held`: a copy of `template`. (Its
/// `db` setting is for `harness worker`, which is given the database by URL.)
fn app_copying(template: &str) -> TestApp {
    TestApp::with_definitions(
        &format!("definitions:\n  - id: copy_held\n    base: {{type: copy, target: {template}}}\n"),
        &[("settings.yaml", "db: pgsql:unused\n")],
    )
}

/// Whether a session is running `CREATE DATABASE` from `template`.
fn creating_from(template: &str) -> bool {
    let n: i64 = server()
        .connect("postgres")
        .unwrap()
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' \
             AND query LIKE 'CREATE DATABASE %' AND query LIKE '%' || $1 || '%'",
            &[&template],
        )
        .unwrap()
        .get(0);
    n > 0
}

/// `harness worker` on `t`'s application and database, with `extra` flags.
fn start_worker(t: &TestApp, extra: &[&str]) -> Worker {
    let url = server().url(&t.app.db.name);
    let apps = t.app.dir.parent().unwrap().to_str().unwrap();
    let app_name = t.app.dir.file_name().unwrap().to_str().unwrap();
    let prefix = format!("mart_name_prefix=\"{}\"", t.prefix);
    let mut args = vec![
        "--apps", apps, "--app", app_name, "--pg-url", &url, "--set", &prefix,
    ];
    args.extend_from_slice(extra);
    Worker::start(&args)
}

/// The worker's log line for a swept record.
fn swept_line(code: i64, name: &str) -> String {
    format!(
        "WARNING:MartCreateExecutor:Inventory record #{code} deleted: its database \"{name}\" does not exist and no creator or purge holds it\n"
    )
}

fn lock_is_free(t: &TestApp, code: i64) -> bool {
    let mut cluster = Cluster::connect(&t.app.hosting).unwrap();
    let free = cluster.try_lock(MartLock::new(&t.app, code)).unwrap();
    if free {
        cluster.unlock(MartLock::new(&t.app, code)).unwrap();
    }
    free
}

#[test]
fn the_creator_holds_its_lock_while_the_database_does_not_exist_yet() {
    let template = ScratchDb::new("held_tmpl");
    let t = app_copying(&template.name);
    let holder = template.connect();
    let app = t.app.clone();
    let creation = std::thread::spawn(move || {
        MartCreator::new(&app, "owner", "copy_held")?.create(
            CreateOptions::default(),
            &[],
            &mut |_| {},
        )
    });
    wait_until(Duration::from_secs(20), "CREATE DATABASE to wait", || {
        creating_from(&template.name)
    });
    // The record is committed and names a database that does not exist yet.
    let inv = t.inventory();
    assert_eq!(inv.len(), 1, "{inv:?}");
    let (code, name) = (inv[0].0, inv[0].3.clone());
    assert!(!db_exists(&t.app.hosting, &name));
    assert!(!lock_is_free(&t, code));
    assert_eq!(sweep(&t.app).unwrap(), []);
    assert_eq!(t.inventory().len(), 1);

    drop(holder);
    let mart = creation.join().unwrap().unwrap();
    assert_eq!((mart.code, mart.name.as_str()), (code, name.as_str()));
    assert!(db_exists(&t.app.hosting, &name));
    // Complete: the lock is released, and the sweep leaves a mart with its database.
    assert!(lock_is_free(&t, code));
    assert_eq!(sweep(&t.app).unwrap(), []);
    assert_eq!(t.inventory().len(), 1);
}

#[test]
fn the_sweep_deletes_a_record_without_database_once_its_holder_is_gone() {
    let t = app_copying("unused");
    let mut db = t.client();
    let started = inventory::now();
    // A "creator" whose session holds the lock, then dies before CREATE DATABASE.
    let mut dying = Cluster::connect(&t.app.hosting).unwrap();
    let code = inventory::insert(&mut db, "copy_held", "owner", started, |code| {
        dying.lock(MartLock::new(&t.app, code))
    })
    .unwrap();
    let missing = format!("{}never_created", t.prefix);
    inventory::set_name(&mut db, code, &missing).unwrap();
    // And a record whose database exists (an `existing` mart of the app database).
    let kept = inventory::insert(&mut db, "copy_held", "owner", started, |_| Ok(())).unwrap();
    inventory::set_name(&mut db, kept, &t.app.db.name).unwrap();
    inventory::set_completion(&mut db, kept, started, None).unwrap();

    assert_eq!(sweep(&t.app).unwrap(), [], "the holder is alive");
    drop(dying);
    let swept = sweep(&t.app).unwrap();
    assert_eq!(
        swept
            .iter()
            .map(|s| (s.mart.code, s.mart.name.as_str()))
            .collect::<Vec<_>>(),
        [(code, missing.as_str())]
    );
    let left: Vec<i64> = t.inventory().iter().map(|r| r.0).collect();
    assert_eq!(left, [kept]);
    assert_eq!(sweep(&t.app).unwrap(), []);
    inventory::delete(&mut db, kept).unwrap(); // not a mart database to drop
}

#[test]
fn a_worker_killed_before_create_database_leaves_a_record_the_next_worker_sweeps() {
    let template = ScratchDb::new("held_tmpl");
    let t = app_copying(&template.name);
    let holder = template.connect();
    let worker = |id: &str| {
        start_worker(
            &t,
            &[
                "--poll-interval",
                "100",
                "--concurrency",
                "1",
                "--worker-id",
                id,
                "--set",
                "job_heartbeat_interval=1",
                "--set",
                "job_stale_after=2",
            ],
        )
    };
    let job: i64 = t
        .client()
        .query_one(
            "INSERT INTO job (owner, type, payload) VALUES ('test', 'rexmart_create', \
             '{\"owner\": \"owner\", \"definition\": \"copy_held\"}') RETURNING code",
            &[],
        )
        .unwrap()
        .get(0);
    let mut a = worker("A");
    wait_until(
        Duration::from_secs(30),
        "A's CREATE DATABASE to wait",
        || {
            assert!(a.child.try_wait().unwrap().is_none(), "{}", a.log_text());
            creating_from(&template.name)
        },
    );
    a.signal(libc::SIGKILL);
    assert_eq!(a.wait(Duration::from_secs(5)), None);
    // The server gives up the copy after 5 s (the template is still in use), then
    // ends the dead client's session: the lock goes with it.
    let inv = t.inventory();
    assert_eq!(inv.len(), 1, "{inv:?}");
    let (code, name) = (inv[0].0, inv[0].3.clone());
    wait_until(Duration::from_secs(20), "A's session to end", || {
        !creating_from(&template.name) && lock_is_free(&t, code)
    });
    assert!(!db_exists(&t.app.hosting, &name));
    assert_eq!(t.inventory().len(), 1, "the orphan is there");

    drop(holder);
    let mut b = worker("B");
    wait_until(Duration::from_secs(30), "B to sweep and recover", || {
        let status: String = t
            .client()
            .query_one("SELECT status::text FROM job WHERE code = $1", &[&job])
            .unwrap()
            .get(0);
        t.inventory().is_empty() && status == "failed"
    });
    b.signal(libc::SIGTERM);
    assert_eq!(b.wait(Duration::from_secs(10)), Some(0), "{}", b.log_text());
    let log = b.log_text();
    assert!(log.contains(&swept_line(code, &name)), "{log}");
    assert!(
        log.contains(&format!(
            "WARNING:JobWorker:Job #{job} failed: its worker stopped sending heartbeats\n"
        )),
        "{log}"
    );
}

#[test]
fn a_worker_serving_only_task_queues_sweeps_when_it_starts() {
    let t = app_copying("unused");
    let mut db = t.client();
    let code =
        inventory::insert(&mut db, "copy_held", "owner", inventory::now(), |_| Ok(())).unwrap();
    let missing = format!("{}never_created", t.prefix);
    inventory::set_name(&mut db, code, &missing).unwrap();
    let mut w = start_worker(&t, &["--no-jobs"]);
    wait_until(Duration::from_secs(30), "the sweep", || {
        t.inventory().is_empty()
    });
    w.signal(libc::SIGTERM);
    assert_eq!(w.wait(Duration::from_secs(10)), Some(0), "{}", w.log_text());
    let log = w.log_text();
    assert!(log.contains(&swept_line(code, &missing)), "{log}");
}
