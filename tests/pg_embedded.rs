//! The embedded backend, end to end: a real cluster from the machine's binaries,
//! queried, templated, cloned. Two harness processes at once and a run killed with
//! kill -9 cleaned up by the next are in `pg_processes.rs`.

use harness::pg::{embedded::Cluster, Server};
use std::path::Path;

/// Serialises the tests of this file: they count processes and share the work root.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
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

fn owner_uid(pid: u32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn starts_queries_and_cleans_up_on_drop() {
    let _s = serial();
    let cluster = Cluster::start("primary").expect("embedded cluster");
    let pid = cluster.pid().unwrap();
    let dir = cluster.dir().to_path_buf();
    let server = Server::backed(cluster.config(), cluster.clone());
    let mut client = server.connect("postgres").unwrap();
    let row = client
        .query_one(
            "SELECT current_setting('fsync'), current_setting('synchronous_commit'), \
             current_setting('full_page_writes'), current_setting('listen_addresses'), \
             current_setting('unix_socket_directories')",
            &[],
        )
        .unwrap();
    let settings: Vec<String> = (0..5).map(|i| row.get(i)).collect();
    assert_eq!(&settings[..4], ["off", "off", "off", "127.0.0.1"]);
    assert_eq!(Path::new(&settings[4]), cluster.socket_dir());
    assert!(server
        .url("x")
        .starts_with("postgresql://postgres@127.0.0.1:"));
    // Never as root.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        assert_ne!(owner_uid(pid), 0, "the postmaster runs as root");
    }
    assert!(server.log_path().unwrap().is_file());
    assert!(server
        .log_tail(50)
        .unwrap()
        .contains("ready to accept connections"));
    drop(client);
    drop(server);
    drop(cluster);
    assert!(!alive(pid), "postmaster {pid} survived its cluster");
    assert!(!dir.exists(), "{} survived its cluster", dir.display());
}

#[test]
fn templates_are_built_once_and_cloned() {
    let _s = serial();
    let server = Server::embedded("primary").unwrap();
    let mut built = 0;
    let build = |s: &Server, db: &str| {
        s.connect(db)?
            .batch_execute("CREATE TABLE t (x int); INSERT INTO t VALUES (42);")?;
        Ok(())
    };
    let key = format!("it_{}", std::process::id());
    let t1 = server
        .ensure_template(&key, |s, db| {
            built += 1;
            build(s, db)
        })
        .unwrap();
    let t2 = server
        .ensure_template(&key, |_, _| panic!("built twice"))
        .unwrap();
    assert_eq!((t1.as_str(), built), (t2.as_str(), 1));
    for name in ["harness_it_clone_a", "harness_it_clone_b"] {
        server.clone_database(&t1, name).unwrap();
        let x: i32 = server
            .connect(name)
            .unwrap()
            .query_one("SELECT x FROM t", &[])
            .unwrap()
            .get(0);
        assert_eq!(x, 42);
        server.drop_database(name).unwrap();
    }
    // A failed build leaves no template behind and reports the builder's error.
    let e = server
        .ensure_template("it_broken", |_, _| {
            Err(harness::core::Error::new("deploy failed"))
        })
        .unwrap_err();
    assert_eq!(e.to_string(), "deploy failed");
    let left: i64 = server
        .connect("postgres")
        .unwrap()
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'harness_t%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 1, "only the good template remains");
}
