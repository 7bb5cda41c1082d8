//! Mart creation end to end on a real PostgreSQL: every base type, SQL ETL with
//! parameters, processors, fixed names, quotas, the hosting cluster, and each failure
//! path with and without purging.

mod mart;

use harness::core::yaml::Node;
use harness::mart::{purge_mart, CreateOptions, MartCreator};
use harness::pg::testing::{server, ScratchDb};
use mart::{capture, db_exists, mask, rows, TestApp};
use serde_json::json;

/// Definitions that need neither rex.deploy nor HTSQL: SQL scripts make the tables.
const SQL_DEFS: &str = r#"
definitions:
  - id: empty

  - id: sql_data
    post_deploy_scripts:
      - script: |
          create table foo (col1 text primary key, col2 text);
          insert into foo (col1) values ('foo');
        type: sql
      - script: insert into foo (col1) values ('bar'), ('baz');
        type: sql
    post_assessment_scripts:
      - script: insert into foo (col1) values ('after');
        type: sql

  - id: with_params
    parameters:
      - name: foo
        type: text
        default: somefoo
      - name: bar
        type: integer
      - name: when
        type: date
        default: null
    post_deploy_scripts:
      - script: |
          create table foo (col1 text);
          insert into foo values (%(prefix)s || %(OWNER)s);
          insert into foo values (%(prefix)s || %(DEFINITION)s);
          insert into foo values (%(prefix)s || %(foo)s);
          insert into foo values (%(prefix)s || %(bar)s);
          insert into foo values (%(prefix)s || coalesce(%(when)s::text, 'none'));
          insert into foo values ('100%%');
        type: sql
        parameters:
          prefix: s1
          foo: overridden by the definition parameter

  - id: processors
    post_deploy_scripts:
      - script: create table foo (col1 text, col2 text);
        type: sql
    processors:
      - id: index
        options:
          indexes:
            - table: foo
              columns: col2
            - table: foo
              columns: [col1, col2]
              unique: true
            - table: foo
              columns: (upper(col1))
              partial: col2 = 'foo'
      - id: analyze

  - id: broken_sql
    post_deploy_scripts:
      - script: !include/str broken_simple_etl.sql
        type: sql

  - id: broken_index
    processors:
      - id: index
        options:
          indexes:
            - table: nope
              columns: col1

  - id: just_copy_missing
    base:
      type: copy
      target: does_not_exist

  - id: existing_missing
    base:
      type: existing
      target: a_db_that_doesnt_exist

  - id: just_copy_application
    base:
      type: application
    post_deploy_scripts:
      - script: insert into people (code, firstname, lastname) values (6, %(OWNER)s, 'Mart');
        type: sql

  - id: small_quota
    quota:
      per_owner: 2
"#;

fn sql_app() -> TestApp {
    TestApp::with_definitions(
        SQL_DEFS,
        &[(
            "broken_simple_etl.sql",
            "insert into blah (col1) values('stuff');\n",
        )],
    )
}

fn params(pairs: &[(&str, serde_json::Value)]) -> Vec<(String, Node)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Node::from_json(v)))
        .collect()
}

fn create(
    t: &TestApp,
    owner: &str,
    def: &str,
    opts: CreateOptions,
    p: &[(String, Node)],
) -> (harness::core::Result<harness::mart::Mart>, Vec<String>) {
    capture(|log| MartCreator::new(&t.app, owner, def)?.create(opts, p, log))
}

#[test]
fn empty_mart_logs_records_and_purges() {
    let t = sql_app();
    let (mart, log) = create(&t, "test", "empty", CreateOptions::default(), &[]);
    let mart = mart.unwrap();
    let name = format!("{}empty_1_", t.prefix);
    assert!(
        mart.name.starts_with(&name) && mart.name.len() == name.len() + 14,
        "{}",
        mart.name
    );
    assert_eq!(
        mask(&log),
        vec![
            "Mart creation began: …".to_string(),
            format!("Creating database: {name}…"),
            "Executing Post-Deployment ETL...".into(),
            "...ETL complete".into(),
            "Executing Post-Assessment ETL...".into(),
            "...ETL complete".into(),
            "Mart creation complete: …".into(),
            "Mart creation duration: …".into(),
            "Mart database size: …".into(),
        ]
    );
    assert_eq!(
        log[8],
        format!("Mart database size: {}", mart.size.unwrap())
    );
    assert!(mart.size.unwrap() > 1_000_000);
    assert_eq!(
        (mart.code, mart.status.as_str(), mart.pinned),
        (1, "complete", false)
    );
    assert!(mart.date_creation_completed.unwrap() >= mart.date_creation_started);
    assert_eq!(
        mart.py_repr(),
        "Mart(code=1, definition='empty', owner='test')"
    );
    // The name's timestamp is the start time's, to the second.
    assert!(mart.name.ends_with(
        &mart
            .date_creation_started
            .format("%Y%m%d%H%M%S")
            .to_string()
    ));
    assert!(db_exists(&t.app.hosting, &mart.name));
    let encoding = rows(
        &t.app.hosting,
        "postgres",
        &format!(
            "SELECT pg_encoding_to_char(encoding)::text FROM pg_database WHERE datname = '{}'",
            mart.name
        ),
    );
    assert_eq!(encoding, vec!["UTF8"]);

    purge_mart(&t.app, mart.code).unwrap();
    assert!(!db_exists(&t.app.hosting, &mart.name));
    assert!(t.inventory().is_empty());
    purge_mart(&t.app, mart.code).unwrap(); // purging again does nothing
}

#[test]
fn sql_etl_in_both_phases() {
    let t = sql_app();
    let (mart, log) = create(&t, "test", "sql_data", CreateOptions::default(), &[]);
    let mart = mart.unwrap();
    assert_eq!(
        mask(&log)[2..8],
        [
            "Executing Post-Deployment ETL...",
            "SQL script #1...",
            "SQL script #2...",
            "...ETL complete",
            "Executing Post-Assessment ETL...",
            "SQL script #1...",
        ]
    );
    assert_eq!(
        rows(
            &t.app.hosting,
            &mart.name,
            "select col1 from foo order by col1"
        ),
        ["after", "bar", "baz", "foo"]
    );
}

#[test]
fn parameters_reach_sql_scripts_with_owner_and_definition() {
    let t = sql_app();
    let p = params(&[("bar", json!(42)), ("foo", json!("hello"))]);
    let (mart, log) = create(&t, "o'brien", "with_params", CreateOptions::default(), &p);
    let mart = mart.unwrap();
    assert_eq!(log[1], "Parameters: foo='hello', bar=42, when=None");
    let got = rows(&t.app.hosting, &mart.name, "select col1 from foo");
    assert_eq!(
        got,
        [
            "s1o'brien",
            "s1with_params",
            "s1hello",
            "s142",
            "s1none",
            "100%"
        ]
    );

    let p = params(&[("bar", json!(1)), ("when", json!("2020-01-02"))]);
    let (mart, log) = create(&t, "test", "with_params", CreateOptions::default(), &p);
    assert_eq!(
        log[1],
        "Parameters: foo='somefoo', bar=1, when=datetime.date(2020, 1, 2)"
    );
    let got = rows(&t.app.hosting, &mart.unwrap().name, "select col1 from foo");
    assert_eq!(got[2..5], ["s1somefoo", "s11", "s12020-01-02"]);
    let _ = mart;

    // Parameter errors come before anything is logged or recorded.
    for (p, text) in [
        (params(&[]), "Missing required parameter \"bar\""),
        (
            params(&[("bar", json!("blah"))]),
            "Expected an integer\nGot:\n    'blah'\nWhile validating parameter:\n    bar",
        ),
        (
            params(&[("bar", json!(1)), ("zap", json!(1))]),
            "Unknown parameters: zap",
        ),
    ] {
        let (r, log) = create(&t, "test", "with_params", CreateOptions::default(), &p);
        assert_eq!(r.unwrap_err().to_string(), text);
        assert!(log.is_empty());
    }
    assert_eq!(t.inventory().len(), 2);
}

#[test]
fn processors_index_and_analyze() {
    let t = sql_app();
    let (mart, log) = create(&t, "test", "processors", CreateOptions::default(), &[]);
    let mart = mart.unwrap();
    assert_eq!(
        log[7..12],
        [
            "Executing Processor index...",
            "Created 3 indexes",
            "...complete",
            "Executing Processor analyze...",
            "...complete"
        ]
    );
    let defs = rows(
        &t.app.hosting,
        &mart.name,
        "select indexdef from pg_indexes where tablename = 'foo' order by indexdef",
    );
    assert_eq!(defs.len(), 3);
    assert!(
        defs.iter()
            .any(|d| d.starts_with("CREATE UNIQUE INDEX") && d.ends_with("(col1, col2)")),
        "{defs:?}"
    );
    assert!(
        defs.iter()
            .any(|d| d.ends_with("(upper(col1)) WHERE (col2 = 'foo'::text)")),
        "{defs:?}"
    );
}

#[test]
fn copy_application_and_existing_bases() {
    let t = sql_app();
    let source = ScratchDb::new("mart_src");
    source
        .connect()
        .batch_execute("create table src (x int); insert into src values (7);")
        .unwrap();
    let existing = ScratchDb::new("mart_existing");
    let yaml = format!(
        "definitions:\n  - id: copy_it\n    base: {{type: copy, target: {}}}\n  - id: into_existing\n    base: {{type: existing, target: {}}}\n    post_deploy_scripts:\n      - {{script: 'create table t (owner text); insert into t values (%(OWNER)s)', type: sql}}\n",
        source.name, existing.name
    );
    let t2 = TestApp::with_definitions(&yaml, &[]);

    let (mart, log) = create(&t2, "test", "copy_it", CreateOptions::default(), &[]);
    let mart = mart.unwrap();
    assert_eq!(log[2], format!("Cloning: {}", source.name));
    assert_eq!(
        rows(&t2.app.hosting, &mart.name, "select x::text from src"),
        ["7"]
    );

    let (mart, log) = create(&t2, "test", "into_existing", CreateOptions::default(), &[]);
    let mart = mart.unwrap();
    assert_eq!(mart.name, existing.name);
    assert_eq!(
        log[1],
        format!("Using existing database: {}", existing.name)
    );
    assert_eq!(
        rows(&t2.app.hosting, &existing.name, "select owner from t"),
        ["test"]
    );

    // `application` clones the application database itself.
    let (mart, log) = create(
        &t,
        "clone",
        "just_copy_application",
        CreateOptions::default(),
        &[],
    );
    let mart = mart.unwrap();
    assert_eq!(log[2], format!("Cloning: {}", t.app.db.name));
    let people = rows(
        &t.app.hosting,
        &mart.name,
        "select firstname from people order by code",
    );
    assert_eq!(people, ["John", "Bob", "Tom", "Mary", "Some", "clone"]);
    let in_mart = rows(
        &t.app.hosting,
        &mart.name,
        "select code::text from rexmart_inventory",
    );
    assert_eq!(in_mart, ["1"]); // the clone was taken while creating mart #1
    assert_eq!(
        rows(
            &t.app.hosting,
            &t.app.db.name,
            "select count(*)::text from people"
        ),
        ["5"]
    );

    // `copy` of the application database by name (the demo's `just_copy`).
    let yaml = format!(
        "definitions:\n  - id: just_copy\n    base: {{type: copy, target: {}}}\n",
        t.app.db.name
    );
    std::fs::write(t.app.dir.join("mart.yaml"), yaml).unwrap();
    let (mart, _) = create(&t, "test", "just_copy", CreateOptions::default(), &[]);
    let people = rows(
        &t.app.hosting,
        &mart.unwrap().name,
        "select count(*)::text from people",
    );
    assert_eq!(people, ["5"]);
}

#[test]
fn sql_failure_purges_by_default_and_keeps_with_purge_off() {
    let t = sql_app();
    let expected = "Got an error from the database driver:\n    relation \"blah\" does not exist\n    LINE 1: insert into blah (col1) values('stuff');\n                        ^\nWhile executing SQL script:\n    #1\nWhile executing Post-Deployment Scripts\nWhile creating Mart database:\n    broken_sql";
    let (r, log) = create(&t, "test", "broken_sql", CreateOptions::default(), &[]);
    assert_eq!(r.unwrap_err().to_string(), expected);
    assert_eq!(
        mask(&log)[2..],
        ["Executing Post-Deployment ETL...", "SQL script #1..."]
    );
    assert!(t.inventory().is_empty());
    assert!(mart::db_names_with_prefix(&t.prefix).is_empty());

    let keep = CreateOptions {
        purge_on_failure: false,
        ..Default::default()
    };
    let (r, _) = create(&t, "test", "broken_sql", keep, &[]);
    assert_eq!(r.unwrap_err().to_string(), expected);
    let inv = t.inventory();
    assert_eq!(inv.len(), 1);
    assert_eq!(inv[0].4, "post_deployment");
    assert!(db_exists(&t.app.hosting, &inv[0].3));
}

#[test]
fn processor_failure_keeps_processing_status() {
    let t = sql_app();
    let keep = CreateOptions {
        purge_on_failure: false,
        ..Default::default()
    };
    let (r, _) = create(&t, "test", "broken_index", keep, &[]);
    assert_eq!(
        r.unwrap_err().to_string(),
        "relation \"nope\" does not exist\nWhile creating index:\n    #1\nWhile executing Processor:\n    index\nWhile creating Mart database:\n    broken_index"
    );
    assert_eq!(t.inventory()[0].4, "processing");
}

#[test]
fn missing_template_and_existing_target() {
    let t = sql_app();
    let (r, log) = create(
        &t,
        "test",
        "just_copy_missing",
        CreateOptions::default(),
        &[],
    );
    assert_eq!(
        r.unwrap_err().to_string(),
        "Database \"does_not_exist\" does not exist\nWhile creating Mart database:\n    just_copy_missing"
    );
    assert_eq!(
        mask(&log)[1],
        format!("Creating database: {}just_copy_missing_1_…", t.prefix)
    );
    assert!(t.inventory().is_empty());

    let keep = CreateOptions {
        purge_on_failure: false,
        ..Default::default()
    };
    let (r, log) = create(&t, "test", "existing_missing", keep, &[]);
    assert_eq!(
        r.unwrap_err().to_string(),
        "Database \"a_db_that_doesnt_exist\" does not exist\nWhile creating Mart database:\n    existing_missing"
    );
    assert_eq!(log[1], "Using existing database: a_db_that_doesnt_exist");
    let inv = t.inventory();
    assert_eq!(
        (inv[0].3.as_str(), inv[0].4.as_str()),
        ("a_db_that_doesnt_exist", "creation")
    );
}

#[test]
fn create_database_failure_chain() {
    // A template with another session cannot be cloned.
    let source = ScratchDb::new("mart_busy");
    let _session = source.connect();
    let yaml = format!(
        "definitions:\n  - id: busy\n    base: {{type: copy, target: {}}}\n",
        source.name
    );
    let t = TestApp::with_definitions(&yaml, &[]);
    let keep = CreateOptions {
        purge_on_failure: false,
        ..Default::default()
    };
    let (r, _) = create(&t, "test", "busy", keep, &[]);
    let text = r.unwrap_err().to_string();
    let inv = t.inventory();
    let expected_start = format!(
        "Got an error from the database server:\n    source database \"{}\" is being accessed by other users\n    DETAIL:  There is 1 other session using the database.\nWhile creating database:\n    {}\nWhile creating Mart database:\n    busy",
        source.name, inv[0].3
    );
    assert_eq!(text, expected_start);
    assert_eq!(inv[0].4, "creation");
    assert!(!db_exists(&t.app.hosting, &inv[0].3));
}

#[test]
fn leave_incomplete_stays_processing_with_completion_details() {
    let t = sql_app();
    let opts = CreateOptions {
        leave_incomplete: true,
        ..Default::default()
    };
    let (mart, log) = create(&t, "test", "empty", opts, &[]);
    let mart = mart.unwrap();
    assert_eq!(mart.status, "processing");
    assert!(mart.date_creation_completed.is_some() && mart.size.is_some());
    assert_eq!(log.len(), 9);
}

#[test]
fn owners_and_definitions_are_checked_and_quoted_safely() {
    let t = sql_app();
    let (r, _) = create(&t, "", "empty", CreateOptions::default(), &[]);
    assert_eq!(r.unwrap_err().to_string(), "No owner specified");
    let (r, _) = create(
        &t,
        "test",
        "x\"; DROP TABLE people; --",
        CreateOptions::default(),
        &[],
    );
    assert_eq!(
        r.unwrap_err().to_string(),
        "Unknown definition \"x\"; DROP TABLE people; --\""
    );
    let owner = "o'brien \"the\" tester'); DROP TABLE people; --";
    let (mart, _) = create(&t, owner, "empty", CreateOptions::default(), &[]);
    assert_eq!(mart.unwrap().owner, owner);
    assert_eq!(t.inventory()[0].2, owner);
    assert_eq!(
        rows(
            &t.app.hosting,
            &t.app.db.name,
            "select count(*)::text from people"
        ),
        ["5"]
    );
}

#[test]
fn fixed_name_renames_and_replaces_the_owners_previous_mart() {
    let fixed = mart::unique("fixed_");
    let yaml = format!(
        "definitions:\n  - id: fixed_name\n    base: {{type: fresh, fixed_name: {fixed}}}\n    post_deploy_scripts:\n      - {{script: 'create table foo (col1 text)', type: sql}}\n"
    );
    let mut t = TestApp::with_definitions(&yaml, &[]);
    t.extra_dbs.push(fixed.clone());
    let (first, log) = create(&t, "test", "fixed_name", CreateOptions::default(), &[]);
    let first = first.unwrap();
    assert_eq!(first.name, fixed);
    assert_eq!(log[7], format!("Renaming database to: {fixed}"));
    assert!(db_exists(&t.app.hosting, &fixed));

    let (second, log) = create(&t, "test", "fixed_name", CreateOptions::default(), &[]);
    let second = second.unwrap();
    assert_eq!((second.code, second.name.as_str()), (2, fixed.as_str()));
    assert_eq!(
        log[7..9],
        [
            format!("Purging previous database named \"{fixed}\"..."),
            format!("Renaming database to: {fixed}")
        ]
    );
    let inv = t.inventory();
    assert_eq!(inv.len(), 1);
    assert_eq!(inv[0].0, 2);

    let (r, _) = create(&t, "other", "fixed_name", CreateOptions::default(), &[]);
    assert_eq!(
        r.unwrap_err().to_string(),
        format!("Cannot set name of Mart to \"{fixed}\" because a Mart with that name already exists owned by \"test\"\nWhile purging previous fixed-name database\nWhile creating Mart database:\n    fixed_name")
    );
    assert_eq!(t.inventory().len(), 1);
    assert!(mart::db_names_with_prefix(&t.prefix).is_empty());
}

#[test]
fn quotas_refuse_pinned_and_reap_unpinned() {
    let mut t = sql_app();
    t.set("mart_max_marts_per_owner", json!(3));
    let mut db = t.client();
    let mk = |t: &TestApp, def: &str| create(t, "quotaguy", def, CreateOptions::default(), &[]).0;
    let a = mk(&t, "small_quota").unwrap();
    harness::mart::quota::set_pinned(&mut db, a.code, true).unwrap();
    let b = mk(&t, "small_quota").unwrap();
    // A third of the definition reaps the oldest unpinned one (b), keeping 2.
    let c = mk(&t, "small_quota").unwrap();
    let codes: Vec<i64> = t.inventory().iter().map(|r| r.0).collect();
    assert_eq!(codes, [a.code, c.code]);
    assert!(!db_exists(&t.app.hosting, &b.name));
    harness::mart::quota::set_pinned(&mut db, c.code, true).unwrap();
    let err = mk(&t, "small_quota").unwrap_err().to_string();
    assert_eq!(
        err,
        "Creating a \"small_quota\" Mart for \"quotaguy\" would exceed their quota"
    );
    // The owner's total (3): a third pinned mart of another definition is allowed,
    // then nothing more.
    let e = mk(&t, "empty").unwrap();
    harness::mart::quota::set_pinned(&mut db, e.code, true).unwrap();
    let err = mk(&t, "empty").unwrap_err().to_string();
    assert_eq!(
        err,
        "Creating a \"empty\" Mart for \"quotaguy\" would exceed their quota"
    );
    // Other owners are not affected.
    assert!(
        create(&t, "someone", "empty", CreateOptions::default(), &[])
            .0
            .is_ok()
    );
}

#[test]
fn hosting_cluster_gets_the_marts_while_the_inventory_stays_home() {
    // The hosting "cluster" is the test server reached as another role, so the
    // databases' owner shows which connection created them.
    let role = mart::unique("mart_host_");
    let mut admin = server().connect("postgres").unwrap();
    admin
        .batch_execute(&format!("CREATE ROLE {role} LOGIN CREATEDB"))
        .unwrap();
    let url =
        std::env::var("HARNESS_PG_URL")
            .unwrap()
            .replacen("postgres@", &format!("{role}@"), 1);
    let mut t = sql_app();
    t.app.hosting = harness::pg::Server::from_url(&url).unwrap();
    let (mart, _) = create(&t, "test", "sql_data", CreateOptions::default(), &[]);
    let mart = mart.unwrap();
    let owner = rows(
        server(),
        "postgres",
        &format!(
            "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = '{}'",
            mart.name
        ),
    );
    assert_eq!(owner, std::slice::from_ref(&role));
    assert_eq!(t.inventory().len(), 1);
    purge_mart(&t.app, mart.code).unwrap();
    assert!(!db_exists(server(), &mart.name));
    drop(t);
    admin.batch_execute(&format!("DROP ROLE {role}")).unwrap();
}

#[test]
fn listing_marts_as_a_table() {
    let t = sql_app();
    create(&t, "ann", "empty", CreateOptions::default(), &[])
        .0
        .unwrap();
    create(&t, "bob", "empty", CreateOptions::default(), &[])
        .0
        .unwrap();
    let mut db = t.client();
    let all = harness::mart::inventory::list(&mut db, None).unwrap();
    assert_eq!(
        all.iter().map(|m| m.owner.as_str()).collect::<Vec<_>>(),
        ["ann", "bob"]
    );
    let bobs = harness::mart::inventory::list(&mut db, Some("bob")).unwrap();
    let table = harness::mart::inventory::table(&bobs);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].starts_with("code  definition  owner  name"),
        "{table}"
    );
    assert!(lines[1].starts_with("2     empty       bob    "), "{table}");
    assert!(
        lines[1].contains(" complete ") && lines[1].ends_with("  no"),
        "{table}"
    );
}

#[test]
fn deploy_failure_chain_and_status() {
    let t = TestApp::with_definitions(
        "definitions:\n  - id: bad_deploy\n    deploy:\n      - table: foo\n      - data: \"nope\\n1\\n\"\n        of: foo\n",
        &[],
    );
    let keep = CreateOptions {
        purge_on_failure: false,
        ..Default::default()
    };
    let (r, log) = create(&t, "test", "bad_deploy", keep, &[]);
    let text = r.unwrap_err().to_string();
    assert!(
        text.ends_with(
            "\nWhile Deploying structures\nWhile creating Mart database:\n    bad_deploy"
        ),
        "{text}"
    );
    assert_eq!(log.last().unwrap(), "Deploying structures...");
    let inv = t.inventory();
    assert_eq!(inv[0].4, "deployment");
    // Nothing of the failed deploy is left half-applied (one transaction).
    let tables = rows(
        &t.app.hosting,
        &inv[0].3,
        "select count(*)::text from pg_tables where tablename = 'foo'",
    );
    assert_eq!(tables, ["0"]);
}
