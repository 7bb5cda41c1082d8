//! `harness run` for people who write transcripts and run them in CI: syntax errors
//! as example failures, Markdown, selection (FILE:LINE, -k, directories, globs),
//! parallel files, JUnit/JSON reports, timeouts and Ctrl-C. Few of these
//! transcripts touch a database (db_*.txt, mart_*.txt).

#[path = "doctest/support.rs"]
mod support;

use std::process::{Command, Output, Stdio};

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("run")
        .args(args)
        .current_dir(support::root())
        .env("NO_COLOR", "1")
        .output()
        .expect("harness runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const RUN: &str = "tests/doctest/run";

#[test]
fn unsupported_syntax_fails_its_example_and_says_so() {
    let out = harness(&[&format!("{RUN}/unsupported.txt")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(concat!(
            "Exception raised:\n",
            "    Traceback (most recent call last):\n",
            "      File \"<doctest unsupported.txt[0]>\", line 1\n",
            "        async def f():\n",
            "        ^^^^^\n",
            "    SyntaxError: unsupported syntax: 'async' statements are not supported\n",
        )),
        "{stdout}"
    );
    assert!(stdout.ends_with("1 passed, 1 failed\n"), "{stdout}");
}

#[test]
fn markdown_examples_live_in_fenced_blocks() {
    let out = harness(&[&format!("{RUN}/markdown.md")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(
        text(&out.stdout),
        format!("{RUN}/markdown.md: 3 passed, 0 failed\n3 passed, 0 failed\n")
    );
}

#[test]
fn file_line_runs_that_example_and_the_ones_before_it() {
    let file = format!("{RUN}/lines.txt");
    // Line 5 is the expected output of `x + 2`, which needs `x = 40` before it.
    let out = harness(&[&format!("{file}:5")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(
        text(&out.stdout),
        format!("{file}: 2 passed, 0 failed\n2 passed, 0 failed\n")
    );
    let out = harness(&[&format!("{file}:6")]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!("{file}:6: no example at this line\n")
    );
    let out = harness(&[&format!("{file}:7")]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn directories_globs_and_keywords_select_files() {
    let out = harness(&[RUN, "-k", "order_"]);
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().filter(|l| l.contains(" passed, ")).collect();
    assert_eq!(
        lines,
        [
            "tests/doctest/run/order_a.txt: 2 passed, 1 failed",
            "tests/doctest/run/order_b.txt: 1 passed, 0 failed",
            "3 passed, 1 failed"
        ]
    );
    let out = harness(&[&format!("{RUN}/order_?.txt"), "-k", "_b"]);
    assert_eq!(
        text(&out.stdout),
        format!("{RUN}/order_b.txt: 1 passed, 0 failed\n1 passed, 0 failed\n")
    );
    let out = harness(&[&format!("{RUN}/nothing*.txt")]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!("harness run: error: no transcript matches: {RUN}/nothing*.txt\n")
    );
    let out = harness(&[RUN, "-k", "no such"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn parallel_files_print_together_in_argument_order() {
    // order_a sleeps, so order_b finishes first on the other slot.
    let a = format!("{RUN}/order_a.txt");
    let b = format!("{RUN}/order_b.txt");
    let serial = harness(&["-j", "1", &a, &b, &a]);
    let parallel = harness(&["-j", "2", &a, &b, &a]);
    assert_eq!(parallel.status.code(), Some(1));
    assert_eq!(text(&parallel.stdout), text(&serial.stdout));
    let stdout = text(&parallel.stdout);
    let first = stdout.find("order_a.txt: 2 passed").unwrap();
    assert!(stdout[..first].contains("Failed example:\n    print('a')"));
    assert!(stdout[first..].starts_with(&format!("order_a.txt: 2 passed, 1 failed\n{b}: 1 passed")));
    // --fail-fast stops the run after the first file that failed, in argument order.
    for j in ["1", "2"] {
        let out = harness(&["-j", j, "-f", &a, &b]);
        assert!(
            text(&out.stdout).ends_with(&format!("{a}: 2 passed, 1 failed\n2 passed, 1 failed\n"))
        );
    }
}

#[test]
fn junit_and_json_reports_have_a_record_per_example() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let json = dir.path().join("report.json");
    let out = harness(&[
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        &format!("{RUN}/order_a.txt"),
        "tests/doctest/malformed/prompt_no_space.txt",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"harness run\" tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"0\""), "{xml}");
    assert!(
        xml.contains(&format!(
            "<testcase classname=\"{RUN}/order_a.txt\" name=\"line 3: print('a')\" file=\"{RUN}/order_a.txt\" line=\"3\" time=\""
        )),
        "{xml}"
    );
    assert!(xml.contains("<failure message=\"*****"), "{xml}");
    assert!(
        xml.contains("Expected:\n    b\nGot:\n    a\n</failure>"),
        "{xml}"
    );
    assert!(
        xml.contains("<error message=\"tests/doctest/malformed/prompt_no_space.txt:"),
        "{xml}"
    );
    let records: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let statuses: Vec<(&str, Option<u64>)> = records
        .iter()
        .map(|r| (r["status"].as_str().unwrap(), r["line"].as_u64()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("passed", Some(1)),
            ("passed", Some(2)),
            ("failed", Some(3)),
            ("error", None)
        ]
    );
    assert_eq!(records[2]["source"], "print('a')");
    assert!(records[2]["report"]
        .as_str()
        .unwrap()
        .contains("Got:\n    a\n"));

    // A report that cannot be written is an error before any example runs.
    let nowhere = dir.path().join("missing/report.xml");
    let out = harness(&[
        "--junit",
        nowhere.to_str().unwrap(),
        &format!("{RUN}/order_b.txt"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        format!(
            "harness run: error: cannot write {}: No such file or directory (os error 2)\n",
            nowhere.display()
        )
    );
    let out = harness(&[
        "--json",
        dir.path().to_str().unwrap(),
        &format!("{RUN}/order_b.txt"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).ends_with(": it is a directory\n"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_hung_example_is_stopped_and_the_file_goes_on() {
    let hang = format!("{RUN}/hang.txt");
    let stop = format!("{RUN}/stop.txt");
    let b = format!("{RUN}/order_b.txt");
    let started = std::time::Instant::now();
    // Two seconds leave room for the quick examples on a loaded machine.
    let out = harness(&["--timeout", "2", &hang, &stop, &b]);
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(1));
    let stopped =
        "Timed out after 2 s (stopped; the examples after it run on in the state it left)";
    assert_eq!(
        text(&out.stdout),
        format!(
            "**********************************************************************\n\
             File \"{hang}\", line 5, in hang.txt\n\
             Failed example:\n    while True:\n        pass\n\
             {stopped}\n\
             {hang}: 2 passed, 1 failed\n\
             **********************************************************************\n\
             File \"{stop}\", line 6, in stop.txt\n\
             Failed example:\n    time.sleep(100)\n\
             {stopped}\n\
             **********************************************************************\n\
             File \"{stop}\", line 14, in stop.txt\n\
             Failed example:\n    spin()\n\
             {stopped}\n\
             {stop}: 4 passed, 2 failed\n\
             {b}: 1 passed, 0 failed\n\
             7 passed, 3 failed\n"
        )
    );
}

#[test]
fn an_example_that_cannot_be_stopped_leaves_the_rest_of_its_file() {
    let busy = format!("{RUN}/busy.txt");
    let b = format!("{RUN}/order_b.txt");
    let out = harness(&["--timeout", "0.5", &busy, &b]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        format!(
            "**********************************************************************\n\
             File \"{busy}\", line 3, in busy.txt\n\
             Failed example:\n    max(range(2 ** 28)) + max(range(2 ** 28)) + max(range(2 ** 28))\n\
             Timed out after 0.5 s\n\
             {busy}: 1 example(s) after line 3 not run: the interpreter is still busy with the one that timed out\n\
             {busy}: 0 passed, 1 failed\n\
             {b}: 1 passed, 0 failed\n\
             1 passed, 1 failed\n"
        )
    );
}

#[test]
fn an_example_blocked_in_a_database_call_is_stopped_and_the_file_goes_on() {
    // Its call is cancelled on the server; the database serves the examples after it,
    // and a mart creation so stopped purges what it made. The timeout leaves room for
    // the examples that set up the database on a loaded machine (every example is
    // timed); the blocked calls sleep 100 s, so a run that ends well before two of them
    // did cancel them.
    let wait = format!("{RUN}/db_wait.txt");
    let mart = format!("{RUN}/db_wait_mart.txt");
    let b = format!("{RUN}/order_b.txt");
    let started = std::time::Instant::now();
    let out = harness(&["--timeout", "20", &wait, &mart, &b]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(150),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stopped =
        "Timed out after 20 s (stopped; the examples after it run on in the state it left)";
    assert_eq!(
        text(&out.stdout),
        format!(
            "**********************************************************************\n\
             File \"{wait}\", line 8, in db_wait.txt\n\
             Failed example:\n    get_db().produce('/sleepy')\n\
             {stopped}\n\
             {wait}: 6 passed, 1 failed\n\
             **********************************************************************\n\
             File \"{mart}\", line 9, in db_wait_mart.txt\n\
             Failed example:\n    mart = MartCreator('test', 'slow')()\n\
             {stopped}\n\
             {mart}: 8 passed, 1 failed\n\
             {b}: 1 passed, 0 failed\n\
             15 passed, 2 failed\n"
        )
    );
}

#[test]
fn ctrl_c_prints_interrupted_and_exits_130() {
    let child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "run",
            &format!("{RUN}/order_b.txt"),
            &format!("{RUN}/hang.txt"),
        ])
        .current_dir(support::root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // SAFETY: signalling the child we started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "interrupted\n");
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("Failed example"), "{stdout}");
    assert!(!stdout.contains("hang.txt"), "{stdout}");
}

#[test]
fn update_blesses_failing_examples_and_cpython_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stale.txt");
    let original = std::fs::read_to_string(support::root().join(RUN).join("stale.txt")).unwrap();
    std::fs::write(&file, &original).unwrap();
    let path = file.to_str().unwrap();

    let dry = harness(&["--update", "--dry-run", path]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
    let stdout = text(&dry.stdout);
    assert!(
        stdout.contains(&format!("--- {path}\n+++ {path} (updated)\n")),
        "{stdout}"
    );
    assert!(stdout.contains("-    41\n+    42\n"), "{stdout}");
    assert!(stdout.contains(&format!(
        "{path}: would update the expected output of the examples at lines 5, 7, 11, 12, 17, 19 (--dry-run: nothing written)\n"
    )));

    let bless = harness(&["--update", path]);
    assert!(text(&bless.stdout).contains(&format!(
        "{path}: updated the expected output of the examples at lines 5, 7, 11, 12, 17, 19\n"
    )));
    let blessed = std::fs::read_to_string(&file).unwrap();
    // A want that still matched is kept as written.
    assert!(blessed.contains(
        "    >>> print('kept ... as written')  # doctest: +ELLIPSIS\n    kept ... written\n"
    ));
    // An exception gets the shape doctest matches.
    assert!(blessed.contains("    >>> boom()\n    Traceback (most recent call last):\n      ...\n    ValueError: bad\n    value\n"));
    let again = harness(&[path]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stdout));
    let py = Command::new("python3")
        .args(["-m", "doctest", path])
        .output()
        .unwrap();
    assert_eq!(py.status.code(), Some(0), "{}", text(&py.stdout));
}

/// A throwaway server from `harness pg up`, stopped when dropped.
struct PgUp {
    child: std::process::Child,
    url: String,
}

impl PgUp {
    fn start() -> PgUp {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["pg", "up"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        PgUp {
            child,
            url: line.trim().to_string(),
        }
    }

    /// Databases other than PostgreSQL's own, with their comments.
    fn databases(&self) -> Vec<String> {
        let mut client = postgres::Client::connect(&self.url, postgres::NoTls).unwrap();
        client
            .query(
                "SELECT datname || coalesce(' (' || shobj_description(oid, 'pg_database') || ')', '') \
                 FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1') ORDER BY 1",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    }
}

impl Drop for PgUp {
    fn drop(&mut self) {
        // SAFETY: signalling the child we started.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

#[test]
fn a_pg_url_server_is_left_as_found() {
    let bad = harness(&[
        "--pg-url",
        "postgresql://nobody@127.0.0.1:1/x",
        "transcripts/async.txt",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stdout).is_empty(), "{}", text(&bad.stdout));
    assert!(
        text(&bad.stderr).starts_with("harness run: error: Failed to connect"),
        "{}",
        text(&bad.stderr)
    );

    let pg = PgUp::start();
    // Other suites' templates are not handed out.
    assert_eq!(pg.databases(), Vec::<String>::new());
    let out = harness(&["--pg-url", &pg.url, "transcripts/mart_creation.txt"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(pg.databases(), Vec::<String>::new());

    // Killed with -9 after making a mart: the databases are marked...
    let hang = format!("{RUN}/mart_then_hang.txt");
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["run", "--pg-url", &pg.url, &hang])
        .current_dir(support::root())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !pg
        .databases()
        .iter()
        .any(|d| d.starts_with("mart_empty_1_"))
    {
        assert!(std::time::Instant::now() < deadline, "no mart made");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let left = pg.databases();
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(
        left.iter()
            .filter(|d| d.ends_with(" (harness run)"))
            .count()
            == 2,
        "{left:?}"
    );
    // The template's name says harness_tpl_ once.
    assert!(
        left.iter().any(|d| d.starts_with("harness_tpl_mart_demo_")),
        "{left:?}"
    );
    // ...and the next run on that server sweeps them, marts included.
    let next = harness(&["--pg-url", &pg.url, &format!("{RUN}/order_b.txt")]);
    assert_eq!(next.status.code(), Some(0));
    assert!(text(&next.stderr)
        .starts_with("harness run: dropped what killed runs left on the server: harness_"));
    assert_eq!(pg.databases(), Vec::<String>::new());

    // Ctrl-C while a mart exists: dropped too.
    let child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["run", "--pg-url", &pg.url, &hang])
        .current_dir(support::root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while !pg
        .databases()
        .iter()
        .any(|d| d.starts_with("mart_empty_1_"))
    {
        assert!(std::time::Instant::now() < deadline + std::time::Duration::from_secs(60));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // SAFETY: signalling the child we started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert_eq!(text(&out.stderr), "interrupted\n");
    assert_eq!(pg.databases(), Vec::<String>::new());

    // A timed-out example is stopped; the file's databases go at its end as ever.
    let out = harness(&["--pg-url", &pg.url, "--timeout", "3", &hang]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("Timed out after 3 s (stopped;"));
    assert_eq!(pg.databases(), Vec::<String>::new());
}

#[test]
fn the_server_log_is_shown_only_when_the_server_failed() {
    let out = harness(&[&format!("{RUN}/db_mismatch.txt")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("Got:\n    <Product 5>\n"));
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn applications_are_found_the_same_way_by_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t");
    std::fs::create_dir_all(t.join("definitions/mini")).unwrap();
    std::fs::create_dir_all(t.join("sub")).unwrap();
    std::fs::write(t.join("definitions/mini/settings.yaml"), "title: mini\n").unwrap();
    // Found in the transcript's nearest definitions/ (it has no `db`, so it stops
    // there); a path out of the search directories is no application.
    let transcript = t.join("sub/apps.txt");
    std::fs::write(
        &transcript,
        ">>> from rex.core import Rex\n\
         >>> Rex('mini')\n\
         Traceback (most recent call last):\n\
         rex.core.Error: Missing mandatory setting:\n    db\n\
         While initializing RexDB application:\n    mini\n\
         >>> Rex('../sub')  # doctest: +ELLIPSIS\n\
         Traceback (most recent call last):\n\
         rex.core.Error: Unknown application:\n    ../sub\nLooked in:\n...\n",
    )
    .unwrap();
    let out = harness(&[transcript.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    // The same for an application command.
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["marts", "--app", "../definitions/rex.mart_demo"])
        .current_dir(support::root().join("definitions"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with(
            "harness marts: error: Unknown application:\n    ../definitions/rex.mart_demo\n"
        ),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn cache_clean_empties_the_cluster_cache() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("pg");
    let run = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["run", &format!("{RUN}/db_mismatch.txt")])
        .current_dir(support::root())
        .env("HARNESS_PG_CACHE", &dir)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    // The cache is written while the examples run and complete when the run ends.
    let version = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .unwrap();
    assert!(version.join("data/PG_VERSION").is_file());
    let clean = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["cache", "clean"])
        .env("HARNESS_PG_CACHE", &dir)
        .output()
        .unwrap();
    assert_eq!(clean.status.code(), Some(0));
    assert!(text(&clean.stdout).starts_with(&format!("removed {}\n", dir.display())));
    assert!(!dir.exists());
}

#[test]
fn the_cache_keeps_the_newest_templates_within_its_limits() {
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("pg");
    let app = work.path().join("apps/rex.tiny");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("settings.yaml"), "db: pgsql:tiny\n").unwrap();
    let transcript = work.path().join("tiny.txt");
    std::fs::write(
        &transcript,
        ">>> from rex.core import Rex\n>>> Rex('rex.tiny').on()\n\
         >>> from rex.db import get_db\n>>> get_db().produce('/count(t1)')\n<Product 0>\n",
    )
    .unwrap();
    // The cached cluster, in the cache's one version directory.
    let cached = || {
        std::fs::read_dir(&cache)
            .unwrap()
            .flatten()
            .find(|e| e.path().is_dir())
            .unwrap()
            .path()
            .join("data")
    };
    // Each run deploys one more table: a new template, saved to the cache at the end.
    let run = |tables: usize, limit: Option<(&str, &str)>| {
        let deploy: String = (1..=tables)
            .map(|n| format!("- table: t{n}\n  with:\n    - column: x\n      type: text\n"))
            .collect();
        std::fs::write(app.join("deploy.yaml"), deploy).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_harness"));
        cmd.args(["run", "--apps"])
            .arg(work.path().join("apps"))
            .arg(&transcript)
            .env("HARNESS_PG_CACHE", &cache)
            // Every start copies the cache itself, the damaged one included.
            .env("HARNESS_PG_NO_SPARE", "1")
            .env_remove("HARNESS_PG_CACHE_TEMPLATES")
            .env_remove("HARNESS_PG_CACHE_MAX_MB");
        if let Some((var, value)) = limit {
            cmd.env(var, value);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
        // PostgreSQL keeps a directory per database: template0, template1, postgres
        // and the saved templates.
        std::fs::read_dir(cached().join("base")).unwrap().count() - 3
    };
    assert_eq!(run(1, None), 1);
    assert_eq!(run(2, None), 2);
    assert_eq!(run(3, None), 3);
    assert_eq!(run(4, Some(("HARNESS_PG_CACHE_TEMPLATES", "2"))), 2);
    assert_eq!(run(5, Some(("HARNESS_PG_CACHE_MAX_MB", "1"))), 1);
    // A damaged cache is rebuilt, not a failure of every later run.
    std::fs::remove_file(cached().join("global/pg_control")).unwrap();
    assert_eq!(run(5, None), 1);
    assert!(cached().join("global/pg_control").is_file());
}

#[test]
fn progress_shows_on_a_terminal_only() {
    let files = format!("{RUN}/order_a.txt {RUN}/order_b.txt {RUN}/lines.txt");
    let plain = harness(&[
        "-j",
        "2",
        &format!("{RUN}/order_a.txt"),
        &format!("{RUN}/order_b.txt"),
    ]);
    assert!(!text(&plain.stderr).contains("files, "));
    // `script` gives the run a terminal (util-linux; skipped where it is missing).
    let Ok(out) = Command::new("script")
        .args([
            "-qec",
            &format!("{} run -j 2 {files}", env!("CARGO_BIN_EXE_harness")),
            "/dev/null",
        ])
        .current_dir(support::root())
        .env("NO_COLOR", "1")
        .output()
    else {
        return;
    };
    let shown = text(&out.stdout);
    assert!(
        shown.contains("\r\x1b[K1/3 files, 1 failed\r\x1b[K"),
        "{shown:?}"
    );
    assert!(
        shown.contains("\r\x1b[K2/3 files, 1 failed\r\x1b[K"),
        "{shown:?}"
    );
    assert!(shown.ends_with("5 passed, 2 failed\r\n"), "{shown:?}");
}
