//! The demo application's own definitions (`definitions/rex.mart_demo/mart.yaml`)
//! created end to end. The ones that deploy tables or run HTSQL need rex.deploy and
//! HTSQL, which reach mart through `src/mart/ext.rs` once merged.

mod mart;

use harness::mart::{CreateOptions, MartCreator};
use mart::{capture, db_exists, mask, rows, TestApp};

fn create(t: &TestApp, def: &str) -> (harness::core::Result<harness::mart::Mart>, Vec<String>) {
    capture(|log| MartCreator::new(&t.app, "test", def)?.create(CreateOptions::default(), &[], log))
}

#[test]
fn demo_empty_and_sql_free_definitions() {
    let t = TestApp::demo();
    let (mart, log) = create(&t, "empty");
    let mart = mart.unwrap();
    assert_eq!(
        mask(&log)[1],
        format!("Creating database: {}empty_1_…", t.prefix)
    );
    assert!(db_exists(&t.app.hosting, &mart.name));
    let (r, _) = create(&t, "just_copy_missing");
    assert_eq!(
        r.unwrap_err().to_string(),
        "Database \"does_not_exist\" does not exist\nWhile creating Mart database:\n    just_copy_missing"
    );
    let (mart, _) = create(&t, "just_copy_application");
    let people = rows(
        &t.app.hosting,
        &mart.unwrap().name,
        "select lastname from people order by code",
    );
    assert_eq!(people, ["Smith", "Rogers", "Brady", "Cooper", "Body"]);
}

/// Creates each definition and counts the rows of its `foo` table.
fn counts(t: &TestApp, cases: &[(&str, i64)]) {
    for (def, count) in cases {
        let (mart, log) = create(t, def);
        let mart = mart.unwrap_or_else(|e| panic!("{def}: {e}"));
        assert_eq!(log[2], "Deploying structures...");
        let n = rows(&t.app.hosting, &mart.name, "select count(*)::text from foo");
        assert_eq!(n, [count.to_string()], "{def}");
    }
}

#[test]
fn demo_deploy_and_sql_definitions() {
    let t = TestApp::demo();
    counts(
        &t,
        &[
            ("just_deploy", 0),
            ("just_deploy_includes", 0),
            ("some_sql_data", 1),
            ("some_more_sql_data", 4),
            ("index_processor", 0),
            ("analyze_processor", 0),
        ],
    );
    let title = rows(
        &t.app.hosting,
        &t.inventory()[0].3,
        "select obj_description('foo'::regclass, 'pg_class')",
    );
    assert!(title[0].contains("Foo Bars"), "{title:?}");
    let (r, log) = create(&t, "broken_sql");
    assert_eq!(
        r.unwrap_err().to_string(),
        "Got an error from the database driver:\n    relation \"blah\" does not exist\n    LINE 1: insert into blah (col1) values('stuff');\n                        ^\nWhile executing SQL script:\n    #1\nWhile executing Post-Deployment Scripts\nWhile creating Mart database:\n    broken_sql"
    );
    assert_eq!(
        mask(&log)[2..],
        [
            "Deploying structures...",
            "Executing Post-Deployment ETL...",
            "SQL script #1..."
        ]
    );
    assert_eq!(t.inventory().len(), 6);
}

#[test]
#[ignore = "needs htsql merge"]
fn demo_htsql_definitions() {
    let t = TestApp::demo();
    counts(
        &t,
        &[
            ("some_data", 5),
            ("some_more_data", 21),
            ("both_etl_phases", 25),
        ],
    );
    let (mart, _) = create(&t, "some_data_with_params");
    let got = rows(
        &t.app.hosting,
        &mart.unwrap().name,
        "select col1 from foo order by col1",
    );
    assert_eq!(
        got,
        ["bar", "baz", "blah", "foo", "some_data_with_params", "test"]
    );
}

#[test]
#[ignore = "needs htsql merge"]
fn demo_broken_htsql_chain_and_purge() {
    let t = TestApp::demo();
    let (r, log) = create(&t, "broken_htsql");
    assert_eq!(
        r.unwrap_err().to_string(),
        "Found unknown attribute:\n    people.first_name\nPerhaps you had in mind:\n    firstname\nWhile translating:\n            first_name :as col1\n            ^^^^^^^^^^\nWhile executing statement:\n    /people{\n            first_name :as col1\n        } :as foo\n        /:rexdb\n        /:insert\nWhile executing HTSQL script:\n    #1\nWhile executing Post-Deployment Scripts\nWhile creating Mart database:\n    broken_htsql"
    );
    assert_eq!(
        mask(&log)[2..],
        [
            "Deploying structures...",
            "Executing Post-Deployment ETL...",
            "HTSQL script #1..."
        ]
    );
    assert!(t.inventory().is_empty());
    assert!(mart::db_names_with_prefix(&t.prefix).is_empty());
}

#[test]
fn demo_datadictionary_describes_the_mart() {
    let t = TestApp::demo();
    let (mart, log) = create(&t, "datadictionary_deployment");
    let mart = mart.unwrap();
    assert_eq!(
        log[7..9],
        ["Executing Processor datadictionary...", "...complete"]
    );
    let q = |sql: &str| rows(&t.app.hosting, &mart.name, sql);
    assert_eq!(
        q("select concat_ws('|', name, title, description) from datadictionary_table order by name"),
        ["foo|Foo Bars|A Description"]
    );
    assert_eq!(
        q("select concat_ws('|', t.name, c.name, c.title, c.description, c.datatype) \
           from datadictionary_column c join datadictionary_table t on t.id = c.table_id order by c.name"),
        ["foo|col1|The First Column|text", "foo|col2|Test Description|enumeration"]
    );
    assert_eq!(
        q("select concat_ws('|', e.name, e.description) from datadictionary_enumeration e order by e.id"),
        ["foo|The FOO", "bar", "baz|Bazzerific Description"]
    );
}
