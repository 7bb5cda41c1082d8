//! The backends other than a single embedded cluster: an existing server by URL,
//! the embedded primary + hosting pair behind rex URLs, the docker backend (which
//! says plainly when and why it cannot run here), and `harness pg up`.

use harness::cli::pg::{Args, PgCommand, PgOptions, UpArgs};
use harness::pg::{docker, BackendKind, Clusters, Options};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ROLE: &str = "HARNESS_PG_CHILD";

fn dev_url() -> Option<String> {
    std::env::var("HARNESS_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

#[test]
fn url_backend_uses_the_server_and_only_its_own_databases() {
    let Some(url) = dev_url() else {
        eprintln!("SKIPPED url_backend: HARNESS_PG_URL is not set (no existing server to use)");
        return;
    };
    let clusters = Clusters::new(Options {
        backend: Some(BackendKind::Url),
        pg_url: Some(url),
        multicluster: true,
        ..Options::default()
    });
    let (primary, db) = clusters.resolve_rex_url("pgsql:mart_demo").unwrap();
    assert_eq!(db.as_deref(), Some("mart_demo"));
    // The url backend has one server: the hosting name means it too.
    let (hosting, _) = clusters.resolve_rex_url("pgsql://:5433/mart").unwrap();
    assert_eq!(primary.url("x"), hosting.url("x"));
    assert!(
        primary.log_tail(10).is_none(),
        "no log of a server we do not run"
    );

    let key = format!("it_url_{}", std::process::id());
    let template = primary
        .ensure_template(&key, |s, db| {
            s.connect(db)?
                .batch_execute("CREATE TABLE t AS SELECT 7 AS x")?;
            Ok(())
        })
        .unwrap();
    assert!(template.starts_with("harness_tpl_"));
    let clone = format!("harness_it_url_clone_{}", std::process::id());
    primary.clone_database(&template, &clone).unwrap();
    let x: i32 = primary
        .connect(&clone)
        .unwrap()
        .query_one("SELECT x FROM t", &[])
        .unwrap()
        .get(0);
    assert_eq!(x, 7);
    primary.drop_database(&clone).unwrap();
    primary.drop_template(&template).unwrap();
    let left: i64 = primary
        .connect("postgres")
        .unwrap()
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname IN ($1, $2)",
            &[&template, &clone],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
}

#[test]
fn url_backend_without_a_reachable_server_fails_in_rex_style() {
    let clusters = Clusters::new(Options {
        backend: Some(BackendKind::Url),
        pg_url: Some("postgresql://postgres@127.0.0.1:1/postgres".into()),
        ..Options::default()
    });
    let e = clusters.primary().unwrap_err();
    assert_eq!(
        e.message(),
        "Failed to connect to the database server:",
        "{e}"
    );
}

#[test]
fn embedded_primary_and_hosting_answer_rex_urls() {
    let clusters = Clusters::new(Options {
        backend: Some(BackendKind::Embedded),
        multicluster: true,
        ..Options::default()
    });
    assert!(
        clusters.started().is_empty(),
        "nothing starts before first use"
    );
    let (primary, db) = clusters.resolve_rex_url("pgsql:mart_demo").unwrap();
    assert_eq!(db.as_deref(), Some("mart_demo"));
    let (same, _) = clusters.resolve_rex_url("pgsql://:5432/other").unwrap();
    assert_eq!(primary.url("x"), same.url("x"));
    let (hosting, db) = clusters.resolve_rex_url("pgsql://:5433/mart").unwrap();
    assert_eq!(db.as_deref(), Some("mart"));
    assert_ne!(
        primary.url("x"),
        hosting.url("x"),
        "two clusters, two ports"
    );
    for server in [&primary, &hosting] {
        let one: i32 = server
            .connect("postgres")
            .unwrap()
            .query_one("SELECT 1", &[])
            .unwrap()
            .get(0);
        assert_eq!(one, 1);
    }
    // Real ports are private: nothing claims 5432/5433 on this machine for us.
    assert!(!primary.url("x").contains(":5432/") && !hosting.url("x").contains(":5433/"));
    assert!(clusters
        .log_tails(5)
        .contains("server log of the embedded hosting cluster"));
    let port = hosting.config().get_ports()[0];
    drop((primary, same, hosting));
    clusters.shutdown();
    let gone = std::net::TcpStream::connect(("127.0.0.1", port)).is_err();
    assert!(gone, "the hosting cluster still listens on {port}");
}

#[test]
fn docker_backend_runs_or_says_why_not() {
    let clusters = Clusters::new(Options {
        backend: Some(BackendKind::Docker),
        ..Options::default()
    });
    match docker::available() {
        Err(why) => {
            eprintln!("SKIPPED docker backend: {why}");
            // Whatever the reason, asking for it is a clear error, not a panic.
            let e = clusters.primary().unwrap_err();
            let text = e.to_string();
            assert_eq!(e.message(), "Failed to connect to the database server:");
            if cfg!(feature = "docker") {
                assert!(text.contains("Docker daemon"), "{text}");
            } else {
                assert!(
                    text.contains("built without the `docker` cargo feature"),
                    "{text}"
                );
            }
        }
        Ok(()) => match clusters.primary() {
            Ok(server) => {
                let one: i32 = server
                    .connect("postgres")
                    .unwrap()
                    .query_one("SELECT 1", &[])
                    .unwrap()
                    .get(0);
                assert_eq!(one, 1);
            }
            // A daemon without the image and no registry to pull it from: the error
            // must say so in rex style; there is nothing else to test here.
            Err(e) => {
                let text = e.to_string();
                eprintln!("SKIPPED docker backend: the daemon answers but the container did not start:\n{text}");
                assert_eq!(e.message(), "Failed to connect to the database server:");
                assert!(
                    text.contains("Cannot start a PostgreSQL container:"),
                    "{text}"
                );
            }
        },
    }
}

/// The child side of `pg_up_*`: runs `harness pg up` with the args in `HARNESS_PG_UP_ARGS`.
#[test]
fn child_entry() {
    if std::env::var(ROLE).as_deref() != Ok("up") {
        return;
    }
    let extra = std::env::var("HARNESS_PG_UP_ARGS").unwrap_or_default();
    let mut pg = PgOptions::default();
    for arg in extra.split_whitespace() {
        match arg {
            "--multicluster" => pg.multicluster = true,
            "--url" => {
                pg.backend = Some(BackendKind::Url);
                pg.pg_url = std::env::var("HARNESS_PG_UP_URL").ok();
            }
            other => panic!("unknown {other}"),
        }
    }
    let code = harness::cli::pg::run(Args {
        command: PgCommand::Up(UpArgs { pg }),
    });
    println!("\nEXIT={code}");
}

/// Runs `harness pg up` in a child, connects to every URL it prints, Ctrl-C's it.
fn pg_up(args: &str) -> Vec<String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child_entry", "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, "up")
        .env("HARNESS_PG_UP_ARGS", args)
        .env("HARNESS_PG_UP_URL", dev_url().unwrap_or_default())
        .env_remove("HARNESS_PG_URL")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let want = if args.contains("--multicluster") {
        2
    } else {
        1
    };
    let mut urls = Vec::new();
    for line in out.by_ref() {
        let line = line.unwrap();
        if let Some(i) = line.find("postgresql://") {
            urls.push(line[i..].to_string());
            if urls.len() == want {
                break;
            }
        }
    }
    assert_eq!(urls.len(), want, "pg up printed no URL");
    for url in &urls {
        let server = harness::pg::Server::from_url(url).unwrap();
        let db = url.rsplit('/').next().unwrap();
        let one: i32 = server
            .connect(db)
            .unwrap()
            .query_one("SELECT 1", &[])
            .unwrap()
            .get(0);
        assert_eq!(one, 1);
    }
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let rest: Vec<String> = out.map(|l| l.unwrap()).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "pg up did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(rest.iter().any(|l| l == "EXIT=0"), "{rest:?}");
    urls
}

#[test]
fn pg_up_prints_urls_and_stops_on_ctrl_c() {
    if std::env::var(ROLE).is_ok() {
        return;
    }
    let urls = pg_up("--multicluster");
    for url in urls {
        let server = harness::pg::Server::from_url(&url).unwrap();
        assert!(server.connect("postgres").is_err(), "{url} still answers");
    }
}

#[test]
fn pg_up_on_an_existing_server_makes_and_drops_its_own_database() {
    if std::env::var(ROLE).is_ok() {
        return;
    }
    if dev_url().is_none() {
        eprintln!("SKIPPED pg up --backend url: HARNESS_PG_URL is not set");
        return;
    }
    let urls = pg_up("--url");
    let db = urls[0].rsplit('/').next().unwrap().to_string();
    assert!(db.starts_with("harness_up_"), "{db}");
    let server = harness::pg::Server::from_url(&dev_url().unwrap()).unwrap();
    let left: i64 = server
        .connect("postgres")
        .unwrap()
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&db],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "{db} was not dropped");
}
