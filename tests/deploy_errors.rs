//! Every error text of deploy.md §3 and §5, with rex's `While ...` context, and the
//! guarantee that a failed deploy changes nothing.

mod deploy_support;

use deploy_support::{snapshot, yaml};
use harness::deploy::{deploy, deploy_application};
use harness::pg::testing::ScratchDb;
use std::path::Path;

const LOC: &str = "\"<unicode string>\"";

/// The error of deploying `text`; the database must be unchanged afterwards.
fn err(client: &mut postgres::Client, text: &str) -> String {
    let before = snapshot(client);
    let node = match harness::core::yaml::load_str(text, "<unicode string>") {
        Ok(node) => node,
        Err(e) => return e.to_string(),
    };
    let e = deploy(client, &node, Path::new("/nonexistent")).expect_err(text);
    assert_eq!(
        snapshot(client),
        before,
        "a failed deploy changed the database"
    );
    e.to_string()
}

fn line(n: usize) -> String {
    format!("{LOC}, line {n}")
}

const BASE: &str = r#"
- table: family
  with:
  - column: code
    type: text
  - identity: [code]
- table: individual
  with:
  - link: family
  - column: code
    type: integer
  - identity: [family, code]
  - column: note
    type: text
    required: false
- table: loose
  with:
  - column: name
    type: text
"#;

fn base() -> (ScratchDb, postgres::Client) {
    let db = ScratchDb::new("deploy_errors");
    let mut c = db.connect();
    deploy(&mut c, &yaml(BASE), Path::new(".")).unwrap();
    (db, c)
}

#[test]
fn structural_errors_use_rex_validator_texts() {
    let (_db, mut c) = base();
    assert_eq!(
        err(&mut c, "- tabel: x"),
        format!("Expected one of:\n    alias record\n    column record\n    data record\n    identity record\n    include record\n    link record\n    sql record\n    table record\nGot:\n    a mapping\nWhile parsing:\n    {}", line(1))
    );
    assert_eq!(
        err(&mut c, "- table: x\n  with:\n  - column: c\n    type: varchar\n"),
        format!("Expected one of:\n    boolean, date, datetime, decimal, float, integer, integer-int4, json, json-json, text, time\nGot:\n    'varchar'\nWhile parsing:\n    {}\nWhile validating field:\n    type\nWhile validating field:\n    with", line(4))
    );
    assert_eq!(
        err(&mut c, "- table: x\n  color: red\n"),
        format!(
            "Got unexpected field:\n    color\nWhile parsing:\n    {}",
            line(2)
        )
    );
    assert_eq!(
        err(&mut c, "- sql: SELECT 1\n"),
        format!(
            "Missing mandatory field:\n    unless\nWhile parsing:\n    {}",
            line(1)
        )
    );
    assert_eq!(
        err(&mut c, "- table: X\n"),
        format!("Expected a string matching:\n    /[a-z_][0-9a-z_]*/\nGot:\n    'X'\nWhile parsing:\n    {}\nWhile validating field:\n    table", line(1))
    );
    assert_eq!(
        err(&mut c, "- column: c\n  of: t\n  type: text\n  required: maybe\n"),
        format!("Expected a Boolean value\nGot:\n    'maybe'\nWhile parsing:\n    {}\nWhile validating field:\n    required", line(4))
    );
    assert_eq!(
        err(&mut c, "- identity: [[a]]\n  of: t\n"),
        format!("Expected a pair\nGot:\n    a sequence\nWhile parsing:\n    {}\nWhile validating sequence item\n    #1\nWhile validating field:\n    identity", line(1))
    );
    assert!(err(&mut c, "- table: [").starts_with("Failed to parse a YAML document:"));
}

#[test]
fn fact_construction_errors() {
    let (_db, mut c) = base();
    let cases = [
        (
            "- column: c\n  type: text\n",
            "Got missing table name",
            "column",
        ),
        (
            "- column: t.c\n  of: u\n  type: text\n",
            "Got mismatched table names:\n    t, u",
            "column",
        ),
        ("- column: t.c\n", "Got missing clause:\n    type", "column"),
        (
            "- column: t.c\n  present: false\n  type: text\n",
            "Got unexpected clause:\n    type",
            "column",
        ),
        (
            "- column: t.c\n  type: []\n",
            "Got missing enum labels",
            "column",
        ),
        (
            "- column: t.c\n  type: [male, female, male]\n",
            "Got duplicate enum labels:\n    male, female, male",
            "column",
        ),
        (
            "- column: t.c\n  type: integer\n  default: abc\n",
            "Got ill-typed default value:\n    'abc'",
            "column",
        ),
        (
            "- column: t.c\n  type: boolean\n  default: 1.5\n",
            "Got ill-typed default value:\n    1.5",
            "column",
        ),
        (
            "- identity: []\n  of: t\n",
            "Got missing identity fields",
            "identity",
        ),
        (
            "- link: t.x\n  present: false\n  to: y\n",
            "Got unexpected clause:\n    to",
            "link",
        ),
        (
            "- table: t\n  present: false\n  title: T\n",
            "Got unexpected clause:\n    title",
            "table",
        ),
        ("- data: |\n    a,b\n", "Got missing table name", "data"),
    ];
    for (text, message, kind) in cases {
        assert_eq!(
            err(&mut c, text),
            format!("{message}\nWhile parsing {kind} fact:\n    {}", line(1)),
            "{text}"
        );
    }
    assert_eq!(
        err(
            &mut c,
            "- table: t\n  with:\n  - column: u.c\n    type: text\n"
        ),
        format!(
            "Got unrelated fact:\n    {}\nWhile parsing table fact:\n    {}",
            line(3),
            line(1)
        )
    );
}

#[test]
fn schema_errors_name_the_fact() {
    let (_db, mut c) = base();
    let deploying = |kind: &str, n: usize| format!("While deploying {kind} fact:\n    {}", line(n));
    let cases: Vec<(&str, String)> = vec![
        (
            "- column: nowhere.c\n  type: text\n",
            format!(
                "Discovered missing table:\n    nowhere\n{}",
                deploying("column", 1)
            ),
        ),
        (
            "- column: individual.family\n  type: text\n",
            format!(
                "Discovered link with the same name:\n    family\n{}",
                deploying("column", 1)
            ),
        ),
        (
            "- link: individual.note\n  to: family\n",
            format!(
                "Discovered column with the same name:\n    note\n{}",
                deploying("link", 1)
            ),
        ),
        (
            "- link: individual.parent\n  to: individual\n",
            format!(
                "Detected self-referential mandatory link:\n    parent\n{}",
                deploying("link", 1)
            ),
        ),
        (
            "- link: individual.family\n  to: loose\n",
            format!(
                "Discovered link with mismatched target:\n    family\n{}",
                deploying("link", 1)
            ),
        ),
        (
            "- link: individual.x\n  to: nowhere\n",
            format!(
                "Discovered missing table:\n    nowhere\n{}",
                deploying("link", 1)
            ),
        ),
        (
            "- identity: [zzz]\n  of: loose\n",
            format!(
                "Discovered missing field:\n    zzz\n{}",
                deploying("identity", 1)
            ),
        ),
        (
            "- identity: [note]\n  of: individual\n",
            format!(
                "Discovered nullable field:\n    note\n{}",
                deploying("identity", 1)
            ),
        ),
        (
            "- identity: [family: offset]\n  of: individual\n",
            format!(
                "Expected an integer or text column:\n    family_id\n{}",
                deploying("identity", 1)
            ),
        ),
        (
            "- identity: [code: uuid]\n  of: individual\n",
            format!(
                "Expected a text column:\n    code\n{}",
                deploying("identity", 1)
            ),
        ),
        (
            "- column: individual.code\n  type: text\n",
            format!(
                "Cannot convert column of type int8 to text:\n    code\n{}",
                deploying("column", 1)
            ),
        ),
        (
            "- table: family\n  reliable: false\n",
            format!(
                "Discovered table with mismatched reliability mode:\n    family\n{}",
                deploying("table", 1)
            ),
        ),
        (
            "- link: individual.home\n  to: family\n  default: zzz\n",
            format!(
                "Cannot find link:\n    family[zzz]\n{}",
                deploying("link", 1)
            ),
        ),
        (
            "- link: individual.home\n  to: family\n  default: a.b\n",
            format!(
                "Got ill-formed link value:\n    family[a.b]\n{}",
                deploying("link", 1)
            ),
        ),
        (
            "- table: loose\n  with:\n  - column: name\n    type: integer\n",
            format!(
                "Cannot convert column of type text to int8:\n    name\n{}\n{}",
                deploying("column", 3),
                deploying("table", 1)
            ),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(err(&mut c, text), want, "{text}");
    }
    let looped = "- table: a\n  with:\n  - column: n\n    type: text\n  - identity: [n]\n- table: b\n  with:\n  - link: a\n  - identity: [a]\n- link: a.b\n- identity: [b]\n  of: a\n";
    assert_eq!(
        err(&mut c, looped),
        format!(
            "Discovered identity loop:\n    a.b\n{}",
            deploying("identity", 11)
        )
    );
    c.batch_execute("CREATE TABLE handmade (a int); ALTER TABLE loose ADD COLUMN odd varchar")
        .unwrap();
    assert_eq!(
        err(&mut c, "- table: handmade\n"),
        format!(
            "Discovered table without surrogate key:\n    handmade\n{}",
            deploying("table", 1)
        )
    );
    assert_eq!(
        err(&mut c, "- column: loose.odd\n  type: text\n"),
        format!(
            "Discovered column of unrecognized type:\n    odd\n{}",
            deploying("column", 1)
        )
    );
}

#[test]
fn data_errors_name_the_row() {
    let (_db, mut c) = base();
    let deploying = |n: usize| format!("While deploying data fact:\n    {}", line(n));
    let cases: Vec<(&str, String)> = vec![
        ("- data: |\n    name\n    x\n  of: loose\n", format!("Discovered table without identity:\n    loose\n{}", deploying(1))),
        ("- data: |\n    zzz\n    x\n  of: family\n", format!("Discovered missing field:\n    zzz\n{}", deploying(1))),
        ("- data: |\n    code,code\n    x,y\n  of: family\n", format!("Discovered duplicate field:\n    code\n{}", deploying(1))),
        ("- data: |\n    family,code\n    a\n  of: individual\n", format!("Discovered too few entries:\n    1 < 2\nWhile parsing row #1:\n    a\n{}", deploying(1))),
        ("- data: |\n    code\n    a,b\n  of: family\n", format!("Discovered too many entries:\n    2 > 1\nWhile parsing row #1:\n    a,b\n{}", deploying(1))),
        ("- data: |\n    family,code,note\n    x,,n\n  of: individual\n", format!("Discovered missing value for identity field:\n    code\nWhile parsing row #1:\n    x,,n\n{}", deploying(1))),
        ("- data: |\n    code\n    x\n  of: family\n  present: false\n- data: |\n    family,code,note\n    x,1,n\n  of: individual\n  present: false\n", format!("Discovered unexpected field:\n    note\nWhile parsing row #1:\n    x,1,n\n{}", deploying(6))),
        ("- data: |\n    code\n    f1\n  of: family\n- data: |\n    family,code\n    f1,x\n  of: individual\n", format!("Discovered invalid input:\n    invalid integer literal: expected an integer in a decimal format; got 'x'\nWhile converting field:\n    code\nWhile processing row #1:\n    {{'f1', 'x'}}\n{}", deploying(5))),
        ("- data: |\n    family,code\n    f9,1\n  of: individual\n", format!("Discovered missing record:\n    family[f9]\nWhile converting field:\n    family\nWhile processing row #1:\n    {{'f9', '1'}}\n{}", deploying(1))),
        ("- data: |\n    family,code\n    a.b,1\n  of: individual\n", format!("Discovered invalid input:\n    too many labels: expected 1, got 2\nWhile converting field:\n    family\nWhile processing row #1:\n    {{'a.b', '1'}}\n{}", deploying(1))),
        ("- data:\n    code: [1]\n  of: family\n", format!("Discovered invalid input:\n    [1]\nWhile converting field:\n    code\nWhile processing row #1:\n    {{'1'}}\n{}", deploying(1))),
        ("- data: x.txt\n  of: family\n", format!("Failed to recognize file format:\n    /nonexistent/x.txt\n{}", deploying(1))),
    ];
    for (text, want) in cases {
        assert_eq!(err(&mut c, text), want, "{text}");
    }
}

#[test]
fn database_errors_keep_the_driver_text() {
    let db = ScratchDb::new("deploy_dberr");
    let mut c = db.connect();
    let text = "- table: people\n  with:\n    - column: code\n      type: integer\n    - identity:\n      - code\n    - column: firstname\n      type: text\n    - column: lastname\n      type: text\n    - data: |\n        code,firstname,lastname\n        1,John,Smith\n        2,Bob,Rogers\n        3,Tom,Brady\n        4,Mary,Cooper\n        5,Some,Body\n        6,,Foo\n";
    let before = snapshot(&mut c);
    let e = deploy(&mut c, &yaml(text), Path::new("."))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "Got an error from the database driver:\n    null value in column \"firstname\" of relation \"people\" violates not-null constraint\n    DETAIL:  Failing row contains (6, 6, null, Foo).\nWhile executing SQL:\n    INSERT INTO \"people\" (\"code\", \"lastname\")\n        VALUES (6, 'Foo')\n        RETURNING \"id\", \"code\", \"firstname\", \"lastname\";\nWhile processing row #6:\n    {{'6', 'Foo'}}\nWhile deploying data fact:\n    {}\nWhile deploying table fact:\n    {}",
            line(11),
            line(1)
        )
    );
    assert_eq!(snapshot(&mut c), before, "nothing is half-applied");
}

#[test]
fn the_validation_pass_catches_inconsistent_facts() {
    let db = ScratchDb::new("deploy_validate");
    let mut c = db.connect();
    let app = tempfile::tempdir().unwrap();
    let file = app.path().join("deploy.yaml");
    let shown = format!("\"{}\"", file.display());
    std::fs::write(
        &file,
        "- table: t\n  with:\n  - column: c\n    type: text\n- column: t.c\n  present: false\n",
    )
    .unwrap();
    let e = deploy_application(&mut c, app.path())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!("Detected inconsistent data model:\n    ALTER TABLE \"t\" ADD COLUMN \"c\" \"text\" NOT NULL;\nWhile validating column fact:\n    {shown}, line 3\nWhile validating table fact:\n    {shown}, line 1")
    );
    std::fs::write(&file, "- sql: SELECT 1\n  unless: SELECT false\n").unwrap();
    let e = deploy_application(&mut c, app.path())
        .unwrap_err()
        .to_string();
    assert_eq!(e, format!("Discovered failed assertion:\n    SELECT false\nWhile validating sql fact:\n    {shown}, line 1"));
    let tables: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 0, "the failed application deploy was rolled back");
}

#[test]
fn facts_without_location_are_shown_as_yaml() {
    let db = ScratchDb::new("deploy_nomark");
    let mut c = db.connect();
    let facts = serde_json::json!([{"table": "foo", "title": "Foo Bars", "with": [{"column": "col1", "type": "text"}, {"identity": ["zzz"]}]}]);
    let node = harness::core::yaml::Node::from_json(&facts);
    let e = deploy(&mut c, &node, Path::new("."))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "Discovered missing field:\n    zzz\nWhile deploying identity fact:\n    identity:\n    - zzz\nWhile deploying table fact:\n    table: foo\n    title: Foo Bars\n    with:\n    - column: col1\n      type: text\n    - identity:\n      - zzz"
    );
}
