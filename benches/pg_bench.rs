//! Embedded backend timings next to the same steps done by plain `initdb`,
//! `pg_ctl` and `createdb`/`dropdb` in the same run. Prints figures, asserts nothing.
//!
//!     cargo bench --bench pg_bench            (runs N=7 by default; PG_BENCH_RUNS=n)
//!
//! Goals (from the issue): warm start within 1.2x of plain `pg_ctl start`; clone of
//! a small template under 60 ms median; warm start + clone under 1 s.

use harness::pg::bins;
use harness::pg::embedded::Cluster;
use harness::pg::proc::{self, RunAs};
use harness::pg::Server;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let runs: usize = std::env::var("PG_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let bins = match bins::find() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("pg_bench: {e}");
            return;
        }
    };
    let user = proc::server_user().expect("server user");
    println!(
        "PostgreSQL {} from {}; {runs} runs per step; clusters in {}\n",
        bins.version,
        bins.dir.display(),
        harness::pg::cleanup::work_root().unwrap().display()
    );
    let mut table = Vec::new();

    // --- embedded ---
    let cold_cache = tempfile::tempdir().unwrap();
    std::env::set_var("HARNESS_PG_NO_SPARE", "1");
    let mut cold = Vec::new();
    for i in 0..runs.min(3) {
        let dir = cold_cache.path().join(i.to_string());
        std::env::set_var("HARNESS_PG_CACHE", &dir);
        let t = Instant::now();
        let cluster = Cluster::start("bench").unwrap();
        cold.push(t.elapsed());
        drop(cluster);
    }
    table.push(("embedded cold start (empty cache: initdb + start)", cold));

    std::env::remove_var("HARNESS_PG_NO_SPARE");
    let warm_cache = tempfile::tempdir().unwrap();
    std::env::set_var("HARNESS_PG_CACHE", warm_cache.path());
    drop(Cluster::start("bench").unwrap()); // fills the cache
    let mut warm = Vec::new();
    let mut stop = Vec::new();
    for _ in 0..runs {
        wait_for_spare();
        let t = Instant::now();
        let cluster = Cluster::start("bench").unwrap();
        warm.push(t.elapsed());
        let t = Instant::now();
        drop(cluster);
        stop.push(t.elapsed());
    }
    table.push((
        "embedded warm start (spare ready: rename + start)",
        warm.clone(),
    ));
    table.push(("embedded stop (immediate + remove dir)", stop));
    std::env::set_var("HARNESS_PG_NO_SPARE", "1");
    let mut copied = Vec::new();
    for _ in 0..runs {
        remove_spares();
        let t = Instant::now();
        let cluster = Cluster::start("bench").unwrap();
        copied.push(t.elapsed());
        drop(cluster);
    }
    std::env::remove_var("HARNESS_PG_NO_SPARE");
    table.push(("embedded warm start (no spare: copy cache + start)", copied));

    let cluster = Cluster::start("bench").unwrap();
    let server = Server::backed(cluster.config(), cluster.clone());
    let t = Instant::now();
    let template = server
        .ensure_template("bench_small", |s, db| {
            s.connect(db)?.batch_execute(
                "CREATE TABLE person (id int PRIMARY KEY, name text); \
                 INSERT INTO person SELECT g, 'person ' || g FROM generate_series(1, 1000) g;",
            )?;
            Ok(())
        })
        .unwrap();
    let template_build = t.elapsed();
    let (mut clone, mut dropping) = (Vec::new(), Vec::new());
    for i in 0..runs {
        let name = format!("harness_bench_{i}");
        let t = Instant::now();
        server.clone_database(&template, &name).unwrap();
        clone.push(t.elapsed());
        let t = Instant::now();
        server.drop_database(&name).unwrap();
        dropping.push(t.elapsed());
    }
    table.push(("embedded template clone (1000-row table)", clone.clone()));
    table.push(("embedded drop database", dropping));
    drop(server);
    drop(cluster);

    // Warm start of a cache that holds the template, then one clone: a transcript's setup.
    let mut replay = Vec::new();
    let mut replay_clone = Vec::new();
    for i in 0..runs {
        wait_for_spare();
        let t = Instant::now();
        let cluster = Cluster::start("bench").unwrap();
        let up = t.elapsed();
        let server = Server::backed(cluster.config(), cluster.clone());
        let template = server
            .ensure_template("bench_small", |_, _| {
                panic!("the template should be cached")
            })
            .unwrap();
        server
            .clone_database(&template, &format!("harness_replay_{i}"))
            .unwrap();
        replay.push(t.elapsed());
        replay_clone.push(t.elapsed() - up);
    }
    table.push(("  of which: cached template + first clone", replay_clone));
    table.push(("embedded warm start + cached template clone", replay));

    // --- plain tools, same settings ---
    let (mut initdb, mut start, mut createdb, mut dropdb, mut pgstop) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut plain_cold = Vec::new();
    // Next to the embedded clusters' run directories (/dev/shm or $TMPDIR), so that
    // both sides create their files on the same file system.
    let scratch = harness::pg::cleanup::work_root().unwrap();
    let work = tempfile::Builder::new()
        .prefix("plain-")
        .tempdir_in(&scratch)
        .unwrap();
    std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let data = work.path().join("data");
    let sock = work.path().join("sock");
    for i in 0..runs {
        let _ = std::fs::remove_dir_all(&data);
        for d in [&data, &sock] {
            std::fs::create_dir_all(d).unwrap();
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700)).unwrap();
            proc::chown_tree(d, user).unwrap();
        }
        let t = Instant::now();
        tool(
            &bins.tool("initdb"),
            user,
            &[
                "-D",
                s(&data),
                "-N",
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
        );
        let initdb_took = t.elapsed();
        if i < 3 {
            initdb.push(initdb_took);
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let opts = format!(
            "-p {port} -k {} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off",
            s(&sock)
        );
        let log = s(&sock).to_string() + "/log";
        let t = Instant::now();
        tool(
            &bins.tool("pg_ctl"),
            user,
            &["-D", s(&data), "-w", "-s", "-l", &log, "-o", &opts, "start"],
        );
        start.push(t.elapsed());
        if i < 3 {
            plain_cold.push(initdb_took + t.elapsed());
        }
        let p = port.to_string();
        let conn = ["-h", "127.0.0.1", "-p", p.as_str(), "-U", "postgres"];
        let mut psql = Command::new(bins.tool("psql"));
        psql.args(conn)
            .args(["-qc", "CREATE DATABASE tpl; ", "postgres"]);
        proc::run(psql, "psql").unwrap();
        let mut psql = Command::new(bins.tool("psql"));
        psql.args(conn).args([
            "-qc",
            "CREATE TABLE person (id int PRIMARY KEY, name text); \
             INSERT INTO person SELECT g, 'person ' || g FROM generate_series(1, 1000) g;",
            "tpl",
        ]);
        proc::run(psql, "psql").unwrap();
        let t = Instant::now();
        tool(
            &bins.tool("createdb"),
            None,
            &[&conn[..], &["-T", "tpl", "copy"]].concat(),
        );
        createdb.push(t.elapsed());
        let t = Instant::now();
        tool(&bins.tool("dropdb"), None, &[&conn[..], &["copy"]].concat());
        dropdb.push(t.elapsed());
        let t = Instant::now();
        tool(
            &bins.tool("pg_ctl"),
            user,
            &["-D", s(&data), "-w", "-s", "-m", "fast", "stop"],
        );
        pgstop.push(t.elapsed());
    }
    table.push((
        "plain cold start (initdb -N + pg_ctl -w start)",
        plain_cold.clone(),
    ));
    table.push(("plain initdb -N", initdb));
    table.push(("plain pg_ctl -w start", start.clone()));
    table.push(("plain createdb -T (1000-row table)", createdb));
    table.push(("plain dropdb", dropdb));
    table.push(("plain pg_ctl -m fast stop", pgstop));

    println!("{:<52} {:>9} {:>9} {:>9}", "step", "min", "median", "max");
    for (name, times) in &table {
        let (min, med, max) = stats(times);
        println!("{name:<52} {:>9} {:>9} {:>9}", ms(min), ms(med), ms(max));
    }
    remove_spares(); // they are copies of this run's throwaway caches
    println!(
        "\ntemplate build + save to cache (once): {}",
        ms(template_build)
    );
    let (_, cold_med, _) = stats(&table[0].1);
    let (_, plain_cold_med, _) = stats(&plain_cold);
    println!(
        "cold start / plain initdb + pg_ctl start (medians): {:.2}x",
        cold_med.as_secs_f64() / plain_cold_med.as_secs_f64()
    );
    let (_, warm_med, _) = stats(&warm);
    let (_, start_med, _) = stats(&start);
    let (_, clone_med, _) = stats(&clone);
    println!(
        "warm start / plain pg_ctl start (medians): {:.2}x (goal <= 1.2x): {}",
        warm_med.as_secs_f64() / start_med.as_secs_f64(),
        if warm_med.as_secs_f64() <= 1.2 * start_med.as_secs_f64() {
            "meets"
        } else {
            "misses"
        }
    );
    println!(
        "template clone median: {} (goal < 60 ms): {}",
        ms(clone_med),
        if clone_med < Duration::from_millis(60) {
            "meets"
        } else {
            "misses"
        }
    );
}

fn spares() -> Vec<std::path::PathBuf> {
    let root = harness::pg::cleanup::work_root().unwrap();
    std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("spare-"))
        .map(|e| e.path())
        .collect()
}

/// A real run lasts seconds, long enough for the background copy: wait for it.
fn wait_for_spare() {
    harness::pg::embedded::spares::wait_for_copy(Duration::from_secs(30));
}

fn remove_spares() {
    for p in spares() {
        let _ = std::fs::remove_dir_all(p);
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn tool(program: &Path, user: Option<RunAs>, args: &[&str]) {
    let mut cmd = proc::command(program, user);
    cmd.args(args);
    if let Err(e) = proc::run(cmd, &program.display().to_string()) {
        panic!("{e}");
    }
}

#[path = "support/stats.rs"]
mod stats;
use stats::stats;

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
