//! The `harness` binary's application commands end to end: `create`, `marts` and
//! `purge` against a real PostgreSQL (the test server: an embedded cluster started
//! for this test process, or `HARNESS_PG_URL`), their error cases, and the help
//! text of every subcommand.

use harness::pg::testing::server;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_harness");

fn harness(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("HARNESS_APPS")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_help_has_an_example() {
    let commands: [&[&str]; 11] = [
        &[],
        &["run"],
        &["worker"],
        &["submit"],
        &["jobs"],
        &["task"],
        &["create"],
        &["marts"],
        &["purge"],
        &["pg"],
        &["pg", "up"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let out = harness(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let help = stdout(&out);
        assert!(help.contains("Example"), "harness {args:?}:\n{help}");
    }
    // The shared application flags, with their defaults, on every application command.
    for command in [
        "worker", "submit", "jobs", "task", "create", "marts", "purge",
    ] {
        let help = stdout(&harness(&[command, "--help"]));
        for flag in [
            "--app <NAME>",
            "[default: rex.mart_demo]",
            "--apps <DIR>",
            "--set <KEY=JSON>",
            "--pg-url <URL>",
            "--hosting-url <URL>",
            "--backend <BACKEND>",
        ] {
            assert!(
                help.contains(flag),
                "harness {command} --help: {flag}\n{help}"
            );
        }
    }
}

/// The URL to give `--pg-url`: on the test's own cluster, its maintenance database
/// (so the app's `db` setting, `mart_demo`, names the application database); on a
/// shared server, a database of this process's own (created by the first command).
fn app_url() -> (String, String) {
    let server = server();
    if server.backing().is_some() {
        (server.url("postgres"), "mart_demo".to_string())
    } else {
        let name = format!("harness_mart_cli_{}", std::process::id());
        (server.url(&name), name)
    }
}

fn database_exists(name: &str) -> bool {
    !server()
        .connect("postgres")
        .unwrap()
        .query("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .unwrap()
        .is_empty()
}

#[test]
fn create_list_and_purge_a_mart() {
    let (url, app_db) = app_url();
    let out = harness(&["create", "empty", "--owner", "me", "--pg-url", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let name = lines.last().unwrap().to_string();
    assert!(name.starts_with("mart_empty_"), "{text}");
    for message in [
        " Mart creation began: ",
        &format!(" Creating database: {name}"),
        " Mart creation complete: ",
    ] {
        assert!(
            lines[..lines.len() - 1].iter().any(|l| l.contains(message)),
            "{message}\n{text}"
        );
    }
    assert!(database_exists(&app_db));
    assert!(database_exists(&name));

    let out = harness(&["marts", "--pg-url", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = stdout(&out);
    let row = table
        .lines()
        .find(|l| l.contains(&name))
        .unwrap_or_else(|| panic!("{name} not listed:\n{table}"));
    assert!(
        table.starts_with("code  definition  owner  name"),
        "{table}"
    );
    let code = row.split_whitespace().next().unwrap().to_string();
    assert!(row.contains(" empty ") && row.contains(" me ") && row.contains(" complete "));

    let out = harness(&["purge", &code, "--pg-url", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("Purging #{code}: {name} (owner=me, definition=empty)...\nPurge complete.\n")
    );
    assert!(!database_exists(&name));
    let left: i64 = server()
        .connect(&app_db)
        .unwrap()
        .query_one(
            "SELECT count(*) FROM rexmart_inventory WHERE name = $1",
            &[&name],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
    assert!(!stdout(&harness(&["marts", "--pg-url", &url])).contains(&name));

    // Purging it again: nothing to purge, said so (and only that), status 2.
    let out = harness(&["purge", &code, "--pg-url", &url]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        format!("harness purge: error: No Mart exists with code/name \"{code}\"\n")
    );

    // Input errors: a clear message, status 2, no panic.
    let cases: [(&[&str], &str); 5] = [
        (
            &["marts", "--app", "rex.nope"],
            "harness marts: error: Unknown application:\n    rex.nope\nLooked in:\n",
        ),
        (
            &["marts", "--set", "mart_max_marts_per_owner"],
            "harness marts: error: Expected KEY=JSON:\n    mart_max_marts_per_owner\nWhile parsing --set\n",
        ),
        (
            &["create", "empty", "--owner", "me", "--set", "x=not json"],
            "harness create: error: Expected a JSON value:\n    x=not json\n    expected ident at line 1 column 2\nWhile parsing --set\n",
        ),
        (
            &["create", "no_such_definition", "--owner", "me"],
            "harness create: error: Unknown definition \"no_such_definition\"\n",
        ),
        (&["purge", "1", "--pg-url", "postgresql://u@h:port/db"], ""),
    ];
    for (args, expected) in cases {
        let mut args = args.to_vec();
        if !args.contains(&"--pg-url") {
            args.extend(["--pg-url", &url]);
        }
        let out = harness(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        if expected.is_empty() {
            assert!(
                err.starts_with(
                    "harness purge: error: Failed to parse database URL:\n    postgresql://u@h:port/db: "
                ),
                "{err}"
            );
        } else {
            assert!(err.starts_with(expected), "{args:?}:\n{err}");
        }
    }
    // A server that does not answer.
    let out = harness(&[
        "marts",
        "--pg-url",
        "postgresql://postgres@127.0.0.1:1/postgres",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .starts_with("harness marts: error: Failed to connect to the database server:\n"),
        "{}",
        stderr(&out)
    );

    if app_db.starts_with("harness_") {
        server().drop_database(&app_db).unwrap();
    }
}

/// Two commands opening a missing application database at once: one creates and
/// deploys it, the other waits (advisory lock) and finds it ready.
#[test]
fn concurrent_first_opens_take_turns() {
    let name = format!("harness_mart_cli_race_{}", std::process::id());
    let url = server().url(&name);
    let spawned: Vec<_> = (0..3)
        .map(|_| {
            Command::new(BIN)
                .args(["marts", "--pg-url", &url])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in spawned {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    server().drop_database(&name).unwrap();
}

/// No URL anywhere: a throwaway embedded cluster lives as long as the command.
#[test]
fn embedded_backend_without_a_url() {
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("HARNESS_PG_URL")
            .env_remove("DATABASE_URL")
            .output()
            .unwrap()
    };
    let out = run(&["marts"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "code  definition  owner  name  status  started  completed  size  pinned\n"
    );
    let out = run(&["create", "empty", "--owner", "me", "--backend", "embedded"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(" Mart creation complete: "), "{text}");
    assert!(
        text.lines().last().unwrap().starts_with("mart_empty_1_"),
        "{text}"
    );
}
