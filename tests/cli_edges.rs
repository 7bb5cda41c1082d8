//! The application commands at their edges, run as a user would run them (the real
//! `harness` binary against the test's real PostgreSQL): exit codes as documented,
//! work that can never run refused before anything is written, and the help's
//! examples working as written.

mod edges;
mod mart;

use edges::{app_flags, harness, text, Worker, BIN};
use harness::pg::testing::server;
use mart::TestApp;
use serde_json::json;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// An application with one definition taking typed parameters.
fn app_with_params() -> TestApp {
    TestApp::with_definitions(
        "definitions:\n  - id: with_params\n    parameters:\n      - name: year\n        type: integer\n      - name: label\n        type: text\n        default: x\n",
        &[("settings.yaml", "db: pgsql:unused\n")],
    )
}

fn count(t: &TestApp, sql: &str) -> i64 {
    t.client().query_one(sql, &[]).unwrap().get(0)
}

/// Asserts exit status 2 and a stderr of exactly `expected` (a prefix when it ends
/// with `...`).
fn refused(out: &Output, expected: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    match expected.strip_suffix("...") {
        Some(prefix) => assert!(err.starts_with(prefix), "{err}"),
        None => assert_eq!(err, expected),
    }
}

#[test]
fn bad_parameters_are_unusable_input_and_nothing_is_created() {
    let t = app_with_params();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--param", "year=2024", "--param", "foo=bar"],
            "harness create: error: Unknown parameters: foo\n",
        ),
        (&[], "harness create: error: Missing required parameter \"year\"\n"),
        (
            &["--param", "year=soon"],
            "harness create: error: Expected an integer\nGot:\n    'soon'\nWhile validating parameter:\n    year\n",
        ),
        (
            &["--param", "year"],
            "harness create: error: Expected a parameter as NAME=VALUE:\n    year\n",
        ),
    ];
    for (params, expected) in cases {
        let mut args = vec!["create", "with_params", "--owner", "me"];
        args.extend_from_slice(params);
        let out = harness(&t, &args);
        assert_eq!(text(&out.stdout), "", "{params:?}");
        refused(&out, expected);
    }
    assert_eq!(t.inventory(), []);
    assert_eq!(mart::db_names_with_prefix(&t.prefix), Vec::<String>::new());

    // Good parameters: created (status 0), the database name printed last.
    let out = harness(
        &t,
        &[
            "create",
            "with_params",
            "--owner",
            "me",
            "--param",
            "year=2024",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(" Parameters: year=2024, label='x'\n"),
        "{stdout}"
    );
    assert_eq!(t.inventory().len(), 1);
}

#[test]
fn purge_of_an_unknown_code_says_only_that_and_purges_nothing() {
    let t = app_with_params();
    let out = harness(
        &t,
        &[
            "create",
            "with_params",
            "--owner",
            "me",
            "--param",
            "year=1",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let code = t.inventory()[0].0;
    let out = harness(&t, &["purge", &code.to_string(), "99"]);
    assert_eq!(text(&out.stdout), "");
    refused(
        &out,
        "harness purge: error: No Mart exists with code/name \"99\"\n",
    );
    assert_eq!(t.inventory().len(), 1, "nothing purged");
    let out = harness(&t, &["purge", &code.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).ends_with("...\nPurge complete.\n"));
    assert_eq!(t.inventory(), []);
}

#[test]
fn work_that_can_never_run_is_refused() {
    let t = app_with_params();
    let jobs = || count(&t, "SELECT count(*) FROM job");
    let tasks = || {
        count(
            &t,
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'asynctask%'",
        )
    };
    let tables_before = tasks();
    refused(
        &harness(&t, &["submit", "no_such_type", "{}"]),
        "harness submit: error: Unknown job type:\n    no_such_type\nKnown job types:\n...",
    );
    assert_eq!(jobs(), 0);
    refused(
        &harness(&t, &["task", "no_such_queue", "{}"]),
        "harness task: error: No worker is configured for queue:\n    no_such_queue\nConfigure one with setting asynctask_workers, e.g.:\n    --set 'asynctask_workers={\"no_such_queue\": \"WORKER\"}'\n",
    );
    refused(
        &harness(
            &t,
            &[
                "task",
                "q",
                "{}",
                "--set",
                "asynctask_workers={\"q\": \"no_such_worker\"}",
            ],
        ),
        "harness task: error: Worker does not exist:\n    no_such_worker\nWhile checking the worker of queue:\n    q\n",
    );
    assert_eq!(tasks(), tables_before, "no queue was made");
    refused(
        &harness(&t, &["jobs", "--set", "job_max_agee=10"]),
        "harness jobs: error: Got unknown setting:\n    job_max_agee\nWhile parsing --set\n",
    );
    refused(
        &harness(&t, &["worker", "--concurrency", "0"]),
        "error: invalid value '0' for '--concurrency <N>': a worker runs at least 1 job at once\n...",
    );
    // A setting the application's own settings.yaml declares may be overridden.
    let out = harness(&t, &["jobs", "--set", "db=\"pgsql:unused\""]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn the_help_examples_work_as_written() {
    let t = TestApp::demo();
    // Each example's own words, with this test's server in place of the example's.
    let examples = [
        ("submit", "harness submit rexmart_create '{\"owner\": \"alice\", \"definition\": \"empty\"}' --app rex.mart_demo"),
        ("jobs", "harness jobs --status failed --app rex.mart_demo"),
        ("task", "harness task rexmart_create '{\"owner\": \"alice\", \"definition\": \"empty\"}' --app rex.mart_demo \\\n      --set 'asynctask_workers={\"rexmart_create\": \"rexmart_create\"}'"),
        ("create", "harness create empty --owner me"),
        ("marts", "harness marts --owner alice"),
    ];
    for (command, example) in examples {
        let help = text(
            &Command::new(BIN)
                .args([command, "--help"])
                .output()
                .unwrap()
                .stdout,
        );
        assert!(
            help.contains(example),
            "{command} --help lacks:\n{example}\n{help}"
        );
        let words = shell_words(example);
        // --app rex.mart_demo is given by the flags (the demo's directory).
        let words: Vec<&str> = words[1..]
            .iter()
            .map(String::as_str)
            .filter(|w| *w != "--app" && *w != "rex.mart_demo")
            .collect();
        let mut full: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        full.extend(app_flags(&t));
        let out = Command::new(BIN)
            .args(&full)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("HARNESS_APPS")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{example}:\n{}",
            text(&out.stderr)
        );
    }
    assert_eq!(count(&t, "SELECT count(*) FROM job"), 1);
}

/// The words of a one-line shell example: '...' quoting and `\` line joins only.
fn shell_words(example: &str) -> Vec<String> {
    let joined = example.replace("\\\n", " ");
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in joined.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

#[test]
fn no_jobs_starts_no_job_executor() {
    let t = app_with_params();
    let job: i64 = t
        .client()
        .query_one(
            "INSERT INTO job (owner, type, payload) VALUES ('t', 'demo_fast', '{}') RETURNING code",
            &[],
        )
        .unwrap()
        .get(0);
    let mut w = Worker::start(
        &t,
        &[
            "--no-jobs",
            "--set",
            "asynctask_workers={\"rexmart_create\": \"rexmart_create\"}",
        ],
    );
    let end = Instant::now() + Duration::from_secs(20);
    while !w.log_text().contains("Starting; queue=rexmart_create") {
        assert!(Instant::now() < end, "{}", w.log_text());
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(w.stop(), Some(0));
    let log = w.log_text();
    assert!(
        !log.contains("job_executor") && !log.contains("JobWorker"),
        "{log}"
    );
    let status: String = t
        .client()
        .query_one("SELECT status::text FROM job WHERE code = $1", &[&job])
        .unwrap()
        .get(0);
    assert_eq!(status, "new", "{log}");
}

#[test]
fn one_job_in_full_with_its_title_detail_and_facet() {
    let t = TestApp::with_definitions(
        "definitions:\n  - id: broken\n    post_deploy_scripts:\n      - script: select nonsense_fn()\n        type: sql\n",
        &[("settings.yaml", "db: pgsql:unused\n")],
    );
    let out = harness(
        &t,
        &[
            "submit",
            "rexmart_create",
            "{\"owner\": \"bob\", \"definition\": \"broken\"}",
            "--title",
            "A\tbroken\nmart 日本",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let code = text(&out.stdout).trim().to_string();
    let mut w = Worker::start(&t, &["--poll-interval", "50"]);
    let end = Instant::now() + Duration::from_secs(30);
    while count(&t, "SELECT count(*) FROM job WHERE status = 'failed'") == 0 {
        assert!(Instant::now() < end, "{}", w.log_text());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(w.stop(), Some(0), "{}", w.log_text());

    let out = harness(&t, &["jobs", &code]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    let detail: String = t
        .client()
        .query_one(
            "SELECT status_detail FROM job WHERE code = $1",
            &[&code.parse::<i64>().unwrap()],
        )
        .unwrap()
        .get(0);
    assert!(detail.lines().count() > 3, "{detail}");
    let indented: String = detail.lines().map(|l| format!("    {l}\n")).collect();
    let head = format!(
        "code: {code}\nstatus: failed\ntype: rexmart_create\nowner: {}\ntitle:\n    A\tbroken\n    mart 日本\n",
        std::env::var("USER").unwrap_or_else(|_| "harness".into())
    );
    assert!(shown.starts_with(&head), "{shown}");
    assert!(
        shown.contains("\npayload: {\"owner\": \"bob\", \"definition\": \"broken\"}\n"),
        "{shown}"
    );
    assert!(shown.contains(&format!("\ndetail:\n{indented}")), "{shown}");
    assert!(
        shown.contains(
            "\nfacet job_rexmart_create:\n    id: 1\n    log:\n        Mart creation began: "
        ),
        "{shown}"
    );
    assert!(shown.contains("Mart creation began: "), "{shown}");

    refused(
        &harness(&t, &["jobs", "999"]),
        "harness jobs: error: No job exists with code:\n    999\n",
    );
}

#[test]
fn tables_escape_control_characters_and_align_wide_ones() {
    let t = app_with_params();
    for (owner, title) in [("日本語", "x"), ("tab\there", "y"), ("a", "z")] {
        let out = harness(
            &t,
            &[
                "submit",
                "harness_noop",
                "{}",
                "--owner",
                owner,
                "--title",
                title,
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    t.client()
        .execute(
            "UPDATE job SET status = 'failed', status_detail = E'first\\tline\\nsecond' WHERE code = 3",
            &[],
        )
        .unwrap();
    let out = harness(&t, &["jobs"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(lines[1].contains("日本語"), "{table}");
    assert!(lines[2].contains("tab\\there"), "{table}");
    assert!(lines[3].ends_with("first\\tline"), "{table}");
    let owner_at: Vec<usize> = lines
        .iter()
        .map(|l| {
            let start = l.find("  ").unwrap();
            let rest = &l[start..];
            let at = start + rest.find(|c: char| c != ' ').unwrap();
            harness::core::table::width(&l[..at])
        })
        .collect();
    assert!(owner_at.windows(2).all(|w| w[0] == w[1]), "{table}");
    // The column after the owner is aligned too, whatever the owner's width.
    let submitted_at: Vec<usize> = lines[1..]
        .iter()
        .map(|l| {
            let at = l.find("20").unwrap();
            harness::core::table::width(&l[..at])
        })
        .collect();
    assert!(submitted_at.windows(2).all(|w| w[0] == w[1]), "{table}");
}

#[test]
fn a_long_rejected_payload_is_quoted_in_part() {
    let t = app_with_params();
    let payload = format!("{{\"x\": \"{}\"", "a".repeat(120_000));
    let out = harness(&t, &["submit", "harness_noop", &payload]);
    let err = text(&out.stderr);
    refused(
        &out,
        "harness submit: error: Expected a JSON payload:\n    {\"x\": \"aaa...",
    );
    assert!(err.len() < 600, "{} bytes", err.len());
    assert!(err.contains("a... (120008 characters in all)\n"), "{err}");
    let out = harness(&t, &["task", "q", &payload]);
    assert!(text(&out.stderr).len() < 600);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_settings_yaml_that_does_not_parse_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("badapp");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("settings.yaml"), "db: pgsql:x\nmount: [unclosed\n").unwrap();
    let out = Command::new(BIN)
        .args([
            "jobs",
            "--apps",
            dir.path().to_str().unwrap(),
            "--app",
            "badapp",
        ])
        .args(["--pg-url", &server().url("postgres")])
        .output()
        .unwrap();
    let expected = format!(
        "harness jobs: error: Failed to parse a YAML document:\n    while parsing a flow sequence, expected ',' or ']' at byte 29 line 3 column 1\n      in \"{}\", line 3, column 1\nWhile initializing RexDB application:\n    badapp\n",
        app.join("settings.yaml").display()
    );
    refused(&out, &expected);
}

/// Valid JSON that the work rejects, 120 KB of it: a job's recorded failure, the
/// worker's log and a task's error quote a few hundred characters of it at most.
#[test]
fn a_long_payload_rejected_by_the_work_is_quoted_in_part() {
    let t = app_with_params();
    let long = "a".repeat(120_000);
    let job = json!({"definition": "with_params", "owner": "me",
        "parameters": {"year": long}});
    let out = harness(&t, &["submit", "rexmart_create", &job.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let task = json!({"definition": "with_params", "owner": "me",
        "parameters": {"year": long}});
    let workers = "asynctask_workers={\"rexmart_create\": \"rexmart_create\"}";
    let out = harness(
        &t,
        &[
            "task",
            "rexmart_create",
            &task.to_string(),
            "--set",
            workers,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Valid JSON, but not a mapping: `harness task` refuses it.
    let list = json!([long]).to_string();
    let out = harness(&t, &["task", "rexmart_create", &list, "--set", workers]);
    refused(
        &out,
        "harness task: error: Expected a mapping\nGot:\n    ['aaa...",
    );
    assert!(text(&out.stderr).len() < 600, "{}", text(&out.stderr).len());
    let mut w = Worker::start(&t, &["--poll-interval", "50", "--set", workers]);
    let end = Instant::now() + Duration::from_secs(30);
    while count(&t, "SELECT count(*) FROM job WHERE status = 'failed'") == 0
        || count(&t, "SELECT count(*) FROM asynctask.asynctask_queue") > 0
        || !w
            .log_text()
            .contains("MartCreateWorker:An unhandled exception")
    {
        assert!(Instant::now() < end, "{}", w.log_text());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(w.stop(), Some(0));
    let log = w.log_text();
    let detail: String = t
        .client()
        .query_one("SELECT status_detail FROM job", &[])
        .unwrap()
        .get(0);
    assert!(
        detail.starts_with("Expected an integer\nGot:\n    'aaaa"),
        "{detail}"
    );
    assert!(
        detail.contains("a... (120002 characters in all)\n"),
        "{detail}"
    );
    assert!(detail.len() < 600, "{} bytes", detail.len());
    assert!(
        log.len() < 6000,
        "{} bytes of log:\n{}",
        log.len(),
        &log[..6000]
    );
    assert_eq!(
        log.matches("(120002 characters in all)").count(),
        2,
        "{log}"
    );
}

/// `harness worker --help`'s examples, run as written (the test's server in place
/// of the example's `localhost`): each worker says it started with the concurrency
/// asked for, runs a job submitted to the application the example names, and stops
/// cleanly on SIGTERM, all within a minute.
#[test]
fn the_worker_help_examples_run_as_written() {
    let help = text(
        &Command::new(BIN)
            .args(["worker", "--help"])
            .output()
            .unwrap()
            .stdout,
    );
    let section = help.split("\nExample:\n").nth(1).unwrap_or_default();
    let examples: Vec<&str> = section
        .lines()
        .take_while(|l| l.starts_with("  harness worker "))
        .map(str::trim)
        .collect();
    assert!(!examples.is_empty(), "no example in:\n{help}");
    // The example's URL names `postgres`: the app's `db` setting then names the
    // application database. On a shared server, a database of this test's own.
    let own = format!("harness_test_worker_help_{}", std::process::id());
    let (url, app_db) = match server().backing() {
        Some(_) => (server().url("postgres"), "mart_demo".to_string()),
        None => (server().url(&own), own.clone()),
    };
    for example in examples {
        let started = Instant::now();
        let words: Vec<String> = shell_words(example)
            .into_iter()
            .map(|w| match w.strip_prefix("postgresql://") {
                Some(rest) if rest.ends_with("/postgres") => url.clone(),
                _ => w,
            })
            .collect();
        assert_eq!(words[..2], ["harness", "worker"], "{example}");
        let mut cmd = Command::new(BIN);
        cmd.args(&words[1..])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("HARNESS_APPS")
            .env_remove("HARNESS_PG_URL")
            .env_remove("DATABASE_URL");
        let mut w = Worker::spawn_command(cmd);
        let concurrency = words
            .iter()
            .position(|x| x == "--concurrency")
            .map_or("4", |i| words[i + 1].as_str());
        let said = format!(" started; concurrency={concurrency}\n");
        edges::wait_until(Duration::from_secs(60), "the worker's start", || {
            w.log_text().contains(&said)
        });
        let mut db = server().connect(&app_db).unwrap();
        let code = harness::job::submit::submit(&mut db, "harness_noop", "help", None, &json!({}))
            .unwrap();
        edges::wait_until(Duration::from_secs(30), "the job done", || {
            let status: String = db
                .query_one("SELECT status::text FROM job WHERE code = $1", &[&code])
                .unwrap()
                .get(0);
            status == "completed"
        });
        drop(db);
        w.signal(libc::SIGTERM);
        assert_eq!(w.wait(Duration::from_secs(30)), Some(0), "{}", w.log_text());
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{example}: {:?}",
            started.elapsed()
        );
    }
    server().drop_database(&app_db).unwrap();
}
