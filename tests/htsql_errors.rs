//! HTSQL error texts, character for character as rex.db's HTSQL words them, the demo
//! fixture scripts, and random/malformed input (errors, never panics).

#[path = "support/deployed.rs"]
mod deployed;

use harness::htsql::{check_syntax, produce, produce_etl, split_statements, Value};
use harness::pg::testing::ScratchDb;
use std::path::Path;

fn app_db() -> (ScratchDb, postgres::Client) {
    let db = ScratchDb::new("htsql_err_app");
    let mut c = db.connect();
    deployed::deploy_app(&mut c, None, &["htsql/app.yaml"]);
    (db, c)
}

fn mart_db() -> (ScratchDb, postgres::Client) {
    let db = ScratchDb::new("htsql_err_mart");
    let mut c = db.connect();
    deployed::deploy_file(&mut c, "htsql/mart.yaml");
    (db, c)
}

fn err(c: &mut postgres::Client, q: &str) -> String {
    produce(c, q, &[]).unwrap_err().to_string()
}

#[test]
fn job_3_text_is_exact() {
    let (_a, mut app) = app_db();
    let (_m, mut mart) = mart_db();
    let stmt = "/people{\n        first_name :as col1\n    } :as foo\n    /:rexdb\n    /:insert";
    let e = produce_etl(&mut mart, &mut app, stmt, &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Found unknown attribute:\n    people.first_name\nPerhaps you had in mind:\n    firstname\nWhile translating:\n            first_name :as col1\n            ^^^^^^^^^^"
    );
    // How rex.mart wraps it (rex.core paragraphs).
    let wrapped = harness::core::Error::new(e.to_string())
        .wrap_with("While executing statement:", stmt)
        .wrap_with("While executing HTSQL script:", "#1")
        .wrap("While executing Post-Deployment Scripts")
        .wrap_with("While creating Mart database:", "broken_htsql");
    assert_eq!(
        wrapped.to_string(),
        "Found unknown attribute:\n    people.first_name\nPerhaps you had in mind:\n    firstname\nWhile translating:\n            first_name :as col1\n            ^^^^^^^^^^\nWhile executing statement:\n    /people{\n            first_name :as col1\n        } :as foo\n        /:rexdb\n        /:insert\nWhile executing HTSQL script:\n    #1\nWhile executing Post-Deployment Scripts\nWhile creating Mart database:\n    broken_htsql"
    );
    // Without the gateway, `people` is unknown on the mart (root scope has no tag).
    let e = produce(
        &mut mart,
        "/people{firstname :as col1} :as foo /:insert",
        &[],
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Found unknown attribute:\n    people\nWhile translating:\n    /people{firstname :as col1} :as foo /:insert\n     ^^^^^^"
    );
}

#[test]
fn suggestions_follow_the_similarity_rule() {
    let (_a, mut c) = app_db();
    let unknown = |c: &mut postgres::Client, q: &str| err(c, q);
    for (typed, quote) in [
        ("first_name", "people.first_name"),
        ("firstnam", "people.firstnam"),
        ("fristname", "people.fristname"),
        ("first", "people.first"),
    ] {
        let q = format!("/people{{{typed}}}");
        let carets = "^".repeat(typed.len());
        assert_eq!(
            unknown(&mut c, &q),
            format!("Found unknown attribute:\n    {quote}\nPerhaps you had in mind:\n    firstname\nWhile translating:\n    {q}\n            {carets}")
        );
    }
    assert_eq!(
        unknown(&mut c, "/PEOPLE{First_Name}"),
        "Found unknown attribute:\n    PEOPLE.First_Name\nPerhaps you had in mind:\n    firstname\nWhile translating:\n    /PEOPLE{First_Name}\n            ^^^^^^^^^^"
    );
    // Case-insensitive names resolve.
    let p = produce(&mut c, "/PEOPLE{FIRSTNAME}", &[]).unwrap();
    assert_eq!(p.fields[0].tag.as_deref(), Some("FIRSTNAME"));
    assert_eq!(
        unknown(&mut c, "/people{f}"),
        "Found unknown attribute:\n    people.f\nWhile translating:\n    /people{f}\n            ^"
    );
    assert_eq!(
        unknown(&mut c, "/people{count}"),
        "Found unknown attribute:\n    people.count\nPerhaps you had in mind:\n    a function 'count'\nWhile translating:\n    /people{count}\n            ^^^^^"
    );
    assert_eq!(
        unknown(&mut c, "/people{nul}"),
        "Found unknown attribute:\n    people.nul\nPerhaps you had in mind:\n    null\nWhile translating:\n    /people{nul}\n            ^^^"
    );
    assert_eq!(
        unknown(&mut c, "/peple{code}"),
        "Found unknown attribute:\n    peple\nPerhaps you had in mind:\n    people\nWhile translating:\n    /peple{code}\n     ^^^^^"
    );
    assert_eq!(
        unknown(&mut c, "/jb"),
        "Found unknown attribute:\n    jb\nPerhaps you had in mind:\n    job\nWhile translating:\n    /jb\n     ^^"
    );
    assert_eq!(
        unknown(&mut c, "/people{uper(firstname)}"),
        "Found unknown function:\n    uper\nPerhaps you had in mind:\n    upper\nWhile translating:\n    /people{uper(firstname)}\n            ^^^^"
    );
    assert_eq!(
        unknown(&mut c, "/people{upper(\n    firstname, 1)}"),
        "Function 'upper' expects 1 argument; got 2\nWhile translating:\n    /people{upper(\n            ^^^^^^"
    );
    let e = produce(&mut c, "/job.filter(code=$cod)", &[("code", Value::Int(1))]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Found unknown reference:\n    $cod\nPerhaps you had in mind:\n    $code\nWhile translating:\n    /job.filter(code=$cod)\n                     ^^^^"
    );
    let e = produce(
        &mut c,
        "/{$OWNR :as col1}",
        &[("OWNER", Value::Text("x".into()))],
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Found unknown reference:\n    $OWNR\nPerhaps you had in mind:\n    $owner\nWhile translating:\n    /{$OWNR :as col1}\n      ^^^^^"
    );
    let e = produce(
        &mut c,
        "/job.filter(status=$s)",
        &[("s", Value::Text("bogus".into()))],
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("invalid enum literal: expected one of 'new', 'queued', 'started', 'completed', 'failed'; got 'bogus'\nWhile translating:"), "{e}");
    // Ambiguous label: the facet's `via` name.
    let e = err(&mut c, "/job{job_rexmart_create_via_job}");
    assert!(e.starts_with("Found ambiguous name"), "{e}");
}

#[test]
fn parse_and_command_errors() {
    let (_a, mut app) = app_db();
    let (_m, mut mart) = mart_db();
    assert_eq!(
        err(&mut app, "/people{firstname"),
        "Got unexpected end of input\nWhile parsing:\n    /people{firstname\n                     ^"
    );
    assert_eq!(
        err(&mut app, "/people{firstname}}"),
        "Got unexpected input\nWhile parsing:\n    /people{firstname}}\n                      ^"
    );
    assert_eq!(
        err(&mut app, "'%o'"),
        "Expected symbol `%` followed by two hexdecimal digits\nWhile parsing:\n    '%o'\n     ^"
    );
    let e = produce_etl(
        &mut mart,
        &mut app,
        "/people{\n    firstname :as col9\n} :as foo\n/:rexdb\n/:insert",
        &[],
    );
    assert!(e.is_err());
    let e = produce_etl(
        &mut mart,
        &mut app,
        "/people{\n        firstname :as col9\n    } :as foo\n    /:rexdb\n    /:insert",
        &[],
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Expected a column or a link name:\n    col9\nWhile processing:\n        /:insert\n          ^^^^^^"
    );
    assert_eq!(
        err(&mut mart, "/{'x' :as col1}/:insert"),
        "Missing table name\nWhile processing:\n    /{'x' :as col1}/:insert\n                     ^^^^^^"
    );
    let e = produce_etl(
        &mut mart,
        &mut app,
        "/people{code :as col1} :as foo /:rexdb /:insert",
        &[],
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Invalid type for column col1: expected text; got integer\nWhile processing:\n    /people{code :as col1} :as foo /:rexdb /:insert\n                                             ^^^^^^"
    );
    assert_eq!(
        err(&mut mart, "/{'x' :as col1} :as nothere/:insert"),
        "Got unknown table:\n    nothere\nWhile processing:\n    /{'x' :as col1} :as nothere/:insert\n                                 ^^^^^^"
    );
    assert_eq!(
        err(&mut app, "/job{code}/:update"),
        "Expected the first field to be the table identity; got integer\nWhile processing:\n    /job{code}/:update\n                ^^^^^^"
    );
    // NOT NULL violation: a rex-style message naming table and column titles.
    let e = err(&mut mart, "/{null :as col1} :as foo/:insert");
    assert!(
        e.starts_with("Got a blank field value:\n    Foo Bars . The First Column\nWhich triggered an error from the database driver:\n    null value in column \"col1\" of relation \"foo\" violates not-null constraint\n"),
        "{e}"
    );
    assert!(
        e.contains("While inserting record #1:\n    {null}\nWhile processing:"),
        "{e}"
    );
    // An unknown pipe marks the whole pipe; commands are suggested.
    let e = produce(&mut app, "/people{\n    firstname\n}/:insrt", &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Found unknown function:\n    insrt\nPerhaps you had in mind:\n    insert\nWhile translating:\n    /people{\n    ^^^^^^^^"
    );
    // Without a gateway, `/:rexdb` is unknown.
    let e = produce(&mut app, "/people/:rexdb", &[]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("Found unknown function:\n    rexdb\n"),
        "{e}"
    );
    // Bad operand types.
    let e = err(&mut app, "/people{firstname + code}");
    assert!(
        e.starts_with("Cannot apply operator '+' to values of types (text, integer)"),
        "{e}"
    );
}

fn fixtures() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rex.mart_demo"
    ))
}

/// Every HTSQL script of the demo: the `.htsql` files and the inline scripts and
/// selectors of mart.yaml (found by their `/:rexdb`, `/:insert` and `/:update` shapes).
fn fixture_statements() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "htsql"))
        .collect();
    names.sort();
    for p in names {
        let text = std::fs::read_to_string(&p).unwrap();
        for s in split_statements(&text).unwrap() {
            out.push((p.file_name().unwrap().to_string_lossy().into_owned(), s));
        }
    }
    // Inline blocks of mart.yaml: `selector: |`, `query: |`, `script: |`.
    let yaml = std::fs::read_to_string(fixtures().join("mart.yaml")).unwrap();
    let lines: Vec<&str> = yaml.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i].trim_end();
        if l.ends_with("selector: |") || l.ends_with("query: |") || l.ends_with("script: |") {
            let indent = lines[i + 1].len() - lines[i + 1].trim_start().len();
            let mut block = Vec::new();
            i += 1;
            while i < lines.len()
                && (lines[i].trim().is_empty()
                    || lines[i].len() - lines[i].trim_start().len() >= indent)
            {
                block.push(lines[i].get(indent..).unwrap_or(""));
                i += 1;
            }
            let text = block.join("\n");
            // The block's `type:` follows it; SQL scripts are not HTSQL.
            let is_sql = lines.get(i).is_some_and(|n| n.trim() == "type: sql");
            if is_sql {
                continue;
            }
            if l.ends_with("script: |") {
                for s in split_statements(&text).unwrap() {
                    out.push(("mart.yaml".into(), s));
                }
            } else {
                // Selectors are single queries, not split into statements.
                out.push(("mart.yaml".into(), text.trim_end().to_string()));
            }
        } else if let Some(rest) = l.trim_start().strip_prefix("selector: /") {
            out.push(("mart.yaml".into(), format!("/{rest}")));
            i += 1;
        } else if let Some(rest) = l.trim_start().strip_prefix("expression: ") {
            out.push(("mart.yaml expression".into(), rest.to_string()));
            i += 1;
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn demo_fixture_scripts_parse_and_bind() {
    let stmts = fixture_statements();
    assert!(stmts.len() >= 20, "{}", stmts.len());
    for (origin, s) in &stmts {
        check_syntax(s).unwrap_or_else(|e| panic!("{origin}: {s}\n{e}"));
    }
    // Run the ones whose tables exist in the test schemas.
    let (_a, mut app) = app_db();
    let (_m, mut mart) = mart_db();
    let params: Vec<(&str, Value)> = vec![
        ("OWNER", Value::Text("test".into())),
        ("DEFINITION", Value::Text("x".into())),
        ("var1", Value::Text("foo".into())),
        ("var2", Value::Text("bar".into())),
        ("prefix", Value::Text("h1".into())),
        ("foo", Value::Text("somefoo".into())),
        ("bar", Value::Int(123)),
        ("INSTRUMENT", Value::Text("mart1".into())),
    ];
    let mut ran = 0;
    for (origin, s) in &stmts {
        if origin.contains("expression") || s.contains("mart1{") || s.starts_with("/driver") {
            continue;
        }
        let r = produce_etl(&mut mart, &mut app, s, &params);
        if origin.starts_with("broken_") {
            let e = r.unwrap_err().to_string();
            assert!(e.starts_with("Found unknown attribute:\n    people.first_name\nPerhaps you had in mind:\n    firstname\n"), "{e}");
        } else if s.contains("{\n  id()\n}") || s.contains("{\n    id()\n  }") {
            // broken_selector: an untagged `id()` binds; rex.mart rejects it later.
            r.unwrap();
        } else if s.contains("age_at_evaluation") || s.contains("assessment") {
            r.unwrap_or_else(|e| panic!("{origin}: {s}\n{e}"));
        } else {
            r.unwrap_or_else(|e| panic!("{origin}: {s}\n{e}"));
        }
        ran += 1;
    }
    assert!(ran >= 15, "{ran}");
}

/// A tiny deterministic generator (no extra crates): xorshift.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn random_and_malformed_input_never_panics() {
    let (_a, mut app) = app_db();
    let (_m, mut mart) = mart_db();
    let pieces = [
        "/",
        "people",
        "job",
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        "$code",
        "code",
        "firstname",
        ":as",
        " ",
        "\n",
        ".",
        ",",
        "filter",
        "count",
        "id()",
        "=",
        "!=",
        "+",
        "-",
        "'x'",
        "'",
        "1",
        "2.5",
        "1e3",
        "&",
        "|",
        "!",
        "?",
        ":insert",
        "/:rexdb",
        "/:insert",
        "/:update",
        "/:delete",
        "/:merge",
        ":=",
        "*",
        "%",
        "%2",
        "%41",
        "#c\n",
        "~",
        "^",
        "@",
        "->",
        ";",
        "sort",
        "top",
        "upper",
        "é",
        "\0",
        "job_rexmart_create",
        "facet",
        "null",
        "true",
    ];
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let statements = [
        "/people{firstname :as col1} :as foo /:rexdb /:insert",
        "/job{*, job_rexmart_create{*} :as facet}.filter(code=$code)",
        "/rexmart_inventory[$code]{id()}/:delete",
    ];
    let mut cases: Vec<String> = Vec::new();
    for _ in 0..400 {
        let n = 1 + rng.next() % 12;
        let s: String = (0..n).map(|_| rng.pick(&pieces)).collect();
        cases.push(s);
    }
    // Truncations of valid statements.
    for s in statements {
        for i in 0..s.len() {
            cases.push(s[..i].to_string());
        }
    }
    for s in &cases {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = produce_etl(&mut mart, &mut app, s, &[("code", Value::Int(1))]);
        }));
        assert!(r.is_ok(), "panicked on {s:?}");
    }
    let deep = "(".repeat(5000);
    assert!(check_syntax(&deep).is_err());
    let deep = "{".repeat(5000);
    assert!(check_syntax(&deep).is_err());
}
