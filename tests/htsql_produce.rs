//! HTSQL against a real PostgreSQL: the query forms rex.mart and the demo use, with
//! their results, the ETL form between two databases, and the commands.

#[path = "support/deployed.rs"]
mod deployed;

use harness::htsql::{analyze, invalidate_catalog, produce, produce_etl, Identity, Value};
use harness::pg::testing::ScratchDb;

fn app_db() -> (ScratchDb, postgres::Client) {
    let db = ScratchDb::new("htsql_app");
    let mut c = db.connect();
    deployed::deploy_app(&mut c, None, &["htsql/app.yaml"]);
    (db, c)
}

fn mart_db() -> (ScratchDb, postgres::Client) {
    let db = ScratchDb::new("htsql_mart");
    let mut c = db.connect();
    deployed::deploy_file(&mut c, "htsql/mart.yaml");
    (db, c)
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn id1(v: Value) -> Value {
    Value::Identity(Identity(vec![v]))
}

#[test]
fn job_insert_query_update_and_facet_merge() {
    let (_db, mut c) = app_db();
    let payload: serde_json::Value = serde_json::json!({"definition": "empty", "owner": "async"});
    let p = produce(
        &mut c,
        "/{'test' :as owner, $job_type :as type, $payload :as payload} :as job/:insert",
        &[
            ("job_type", text("rexmart_create")),
            ("payload", Value::Json(payload.clone())),
        ],
    )
    .unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p.get(0).unwrap(), &id1(Value::Int(1)));
    assert_eq!(p.domain.to_string(), "list(identity(integer))");
    if let Value::Identity(id) = p.get(0).unwrap() {
        assert_eq!(id.to_string(), "1");
    }

    let q = "/job{*, job_rexmart_create{*} :as facet}.filter(code=$code)";
    let p = produce(&mut c, q, &[("code", Value::Int(1))]).unwrap();
    assert_eq!(p.len(), 1);
    let job = p.get(0).unwrap().as_record().unwrap();
    assert_eq!(job.name.as_deref(), Some("job"));
    let tags: Vec<&str> = job.fields.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        tags,
        [
            "code",
            "owner",
            "title",
            "status",
            "status_detail",
            "type",
            "payload",
            "date_submitted",
            "date_started",
            "date_completed",
            // harness's queue columns, deployed with rex.job's facts.
            "claim_attempt",
            "claimed_by",
            "heartbeat_at",
            "facet"
        ]
    );
    assert_eq!(job.get("owner"), Some(&text("test")));
    assert_eq!(job.get("status"), Some(&text("new")));
    assert_eq!(job.get("payload"), Some(&Value::Json(payload)));
    assert_eq!(job.get("facet"), Some(&Value::Null));
    assert_eq!(
        p.domain.to_string(),
        "list(record(integer, text, text, enum('new', 'queued', 'started', 'completed', 'failed'), text, text, json, datetime, datetime, datetime, integer, text, datetime, record(identity(integer), text)))"
    );

    // The string parameter is untyped: parsed as an integer by its context.
    let p = produce(&mut c, q, &[("code", text("1"))]).unwrap();
    assert_eq!(p.len(), 1);
    let e = produce(&mut c, q, &[("code", text("abc"))]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid integer literal: expected an integer in a decimal format; got 'abc'\nWhile translating:\n    /job{*, job_rexmart_create{*} :as facet}.filter(code=$code)\n                                                         ^^^^^"
    );

    // rex.job's facet helper.
    let p = produce(
        &mut c,
        "/merge(job_rexmart_create := {id($job) :as job, $log :as log})",
        &[
            ("job", Value::Int(1)),
            ("log", text("Mart creation began: x\nline2")),
        ],
    )
    .unwrap();
    assert_eq!(p.data, id1(id1(Value::Int(1))));
    if let Value::Identity(id) = &p.data {
        assert_eq!(id.to_string(), "1");
    }
    let p = produce(&mut c, q, &[("code", Value::Int(1))]).unwrap();
    let job = p.get(0).unwrap().as_record().unwrap();
    let facet = job.get("facet").unwrap().as_record().unwrap();
    assert_eq!(facet.name.as_deref(), Some("facet"));
    assert_eq!(facet.get("job"), Some(&id1(Value::Int(1))));
    assert_eq!(
        facet.get("log"),
        Some(&text("Mart creation began: x\nline2"))
    );
    // Merge again updates the same row.
    produce(
        &mut c,
        "/merge(job_rexmart_create := {id($job) :as job, $log :as log})",
        &[("job", Value::Int(1)), ("log", text("second"))],
    )
    .unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM job_rexmart_create", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1);

    // rex.job worker updates.
    produce(
        &mut c,
        "/job[$job]{id(), 'started' :as status, now() :as date_started,}/:update",
        &[("job", Value::Int(1))],
    )
    .unwrap();
    produce(
        &mut c,
        "/job[$job]{id(), 'failed' :as status, $detail :as status_detail}/:update",
        &[("job", Value::Int(1)), ("detail", text("boom"))],
    )
    .unwrap();
    let p = produce(
        &mut c,
        "/job{code, owner, type, payload,}.filter(code=$job)",
        &[("job", Value::Int(1))],
    )
    .unwrap();
    let row = p.get(0).unwrap().as_record().unwrap();
    assert_eq!(row.get("type"), Some(&text("rexmart_create")));
    let r = c
        .query_one(
            "SELECT status::text, status_detail, date_started IS NOT NULL FROM job",
            &[],
        )
        .unwrap();
    assert_eq!(r.get::<_, String>(0), "failed");
    assert_eq!(r.get::<_, Option<String>>(1).as_deref(), Some("boom"));
    assert!(r.get::<_, bool>(2));

    // A bad enum value is a clear error, not a database failure.
    let e = produce(
        &mut c,
        "/job[$job]{id(), 'bogus' :as status}/:update",
        &[("job", Value::Int(1))],
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("Failed to adapt value of status to enum('new', 'queued', 'started', 'completed', 'failed'):\n    'bogus'\nWhile updating record #1:"), "{e}");

    // The second insert gets the next code from the identity trigger.
    let p = produce(
        &mut c,
        "/{'test' :as owner, $job_type :as type} :as job/:insert",
        &[("job_type", text("x"))],
    )
    .unwrap();
    assert_eq!(p.get(0), Some(&id1(Value::Int(2))));
    // Deleting the job cascades to the facet.
    produce(
        &mut c,
        "/job[$job]{id()}/:delete",
        &[("job", Value::Int(1))],
    )
    .unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM job_rexmart_create", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[test]
fn rexmart_inventory_forms() {
    let (_db, mut c) = app_db();
    let when = chrono::NaiveDate::from_ymd_opt(2024, 1, 2)
        .unwrap()
        .and_hms_opt(3, 4, 5)
        .unwrap();
    let insert = "{definition:=$definition, owner:=$owner, name:='TBD', status:='creation', date_creation_started:=$date_creation_started} :as rexmart_inventory\n/:insert";
    let mut codes = Vec::new();
    for def in ["empty", "some_data", "empty"] {
        let p = produce(
            &mut c,
            insert,
            &[
                ("definition", text(def)),
                ("owner", text("test")),
                ("date_creation_started", Value::DateTime(when)),
            ],
        )
        .unwrap();
        let Value::Identity(id) = &p.data else {
            panic!("{p:?}")
        };
        codes.push(id.to_string().parse::<i64>().unwrap());
    }
    assert_eq!(codes, [1, 2, 3]);
    produce(
        &mut c,
        "/rexmart_inventory{id(), status:=$status}.filter(code=$code)/:update",
        &[("status", text("complete")), ("code", Value::Int(1))],
    )
    .unwrap();
    produce(
        &mut c,
        "/rexmart_inventory{id(), date_creation_completed:=$date_completed, size:=$size}.filter(code=$code)/:update",
        &[("date_completed", Value::DateTime(when)), ("size", Value::Int(1234)), ("code", Value::Int(1))],
    )
    .unwrap();
    produce(
        &mut c,
        "/rexmart_inventory{id(), status:=$status}.filter(code=$code)/:update",
        &[("status", text("complete")), ("code", Value::Int(3))],
    )
    .unwrap();
    let p = produce(
        &mut c,
        "/rexmart_inventory[$code]{name}",
        &[("code", Value::Int(1))],
    )
    .unwrap();
    // A located segment is a list of one record, as every top-level segment.
    assert_eq!(p.len(), 1);
    assert_eq!(
        p.get(0).unwrap().as_record().unwrap().get("name"),
        Some(&text("TBD"))
    );
    let p = produce(
        &mut c,
        "/rexmart_inventory[$code]",
        &[("code", Value::Int(1))],
    )
    .unwrap();
    let r = p.get(0).unwrap().as_record().unwrap();
    assert_eq!(r.get("size"), Some(&Value::Int(1234)));
    assert_eq!(r.get("pinned"), Some(&Value::Bool(false)));
    let p = produce(
        &mut c,
        "/rexmart_inventory{code, owner}?name=$name",
        &[("name", text("TBD"))],
    )
    .unwrap();
    assert_eq!(p.len(), 3);
    let p = produce(
        &mut c,
        "/rexmart_inventory.filter(owner=$user&status='complete').filter(definition=$definition).sort(date_creation_completed-)",
        &[("user", text("test")), ("definition", text("empty"))],
    )
    .unwrap();
    let codes: Vec<&Value> = p
        .rows()
        .iter()
        .map(|r| r.as_record().unwrap().get("code").unwrap())
        .collect();
    assert_eq!(codes, [&Value::Int(1), &Value::Int(3)]);
    let p = produce(
        &mut c,
        "/top(rexmart_inventory.filter(owner=$user&status='complete').sort(date_creation_completed-))",
        &[("user", text("test"))],
    )
    .unwrap();
    assert_eq!(
        p.get(0).unwrap().as_record().unwrap().get("code"),
        Some(&Value::Int(1))
    );
    let p = produce(
        &mut c,
        "/{count(rexmart_inventory.filter(owner=$owner&status='complete')), count(rexmart_inventory.filter(owner=$owner&pinned)), count(rexmart_inventory.filter(owner=$owner)), count(rexmart_inventory.filter(owner='nobody'))}",
        &[("owner", text("test"))],
    )
    .unwrap();
    let row = p.get(0).unwrap().as_record().unwrap();
    let counts: Vec<&Value> = row.fields.iter().map(|(_, v)| v).collect();
    assert_eq!(
        counts,
        [
            &Value::Int(2),
            &Value::Int(0),
            &Value::Int(3),
            &Value::Int(0)
        ]
    );
    produce(
        &mut c,
        "/rexmart_inventory[$code]{id()}/:delete",
        &[("code", Value::Int(2))],
    )
    .unwrap();
    let p = produce(
        &mut c,
        "/rexmart_inventory.filter(code=$code)",
        &[("code", Value::Int(2))],
    )
    .unwrap();
    assert!(p.is_empty());
    // A missing locator row deletes nothing; an explicit missing identity is an error.
    let p = produce(
        &mut c,
        "/rexmart_inventory[$code]{id()}/:delete",
        &[("code", Value::Int(2))],
    )
    .unwrap();
    assert!(!p.truthy());
    let e = produce(
        &mut c,
        "{id($code)} :as rexmart_inventory/:delete",
        &[("code", Value::Int(2))],
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Unable to find an entity:\n    rexmart_inventory[2]\nWhile deleting a record:\n    {[2]}\nWhile processing:\n    {id($code)} :as rexmart_inventory/:delete\n                                       ^^^^^^"
    );
}

#[test]
fn etl_statements_move_rows_between_databases() {
    let (_app, mut app) = app_db();
    let (_mart, mut mart) = mart_db();
    let simple = "/people{\n        firstname :as col1\n    } :as foo\n    /:rexdb\n    /:insert";
    let p = produce_etl(&mut mart, &mut app, simple, &[]).unwrap();
    assert_eq!(p.len(), 5);
    assert_eq!(p.get(0), Some(&id1(text("John"))));
    let rows: Vec<String> = mart
        .query("SELECT col1 FROM foo ORDER BY col1", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(rows, ["Bob", "John", "Mary", "Some", "Tom"]);

    // multiple_etl.htsql
    let upper =
        "/people{\n        upper(firstname) :as col1\n    } :as foo\n    /:rexdb\n    /:insert";
    produce_etl(&mut mart, &mut app, upper, &[]).unwrap();
    let local = "/{\n        string(random()) :as col1\n    } :as foo\n    /:insert";
    let p = produce_etl(&mut mart, &mut app, local, &[]).unwrap();
    assert_eq!(p.len(), 1);
    let n: i64 = mart
        .query_one("SELECT count(*) FROM foo", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 11);

    // A duplicate identity is a rex-style error.
    let e = produce_etl(&mut mart, &mut app, simple, &[]).unwrap_err();
    let text_ = e.to_string();
    assert!(
        text_.starts_with("Got a duplicate identity:\n    Foo Bars . The First Column\nWhich triggered an error from the database driver:\n    duplicate key value violates unique constraint \"foo_pk\"\n    DETAIL:  Key (col1)=(John) already exists.\nWhile inserting record #1:\n    {'John'}\nWhile processing:\n        /:insert\n          ^^^^^^"),
        "{text_}"
    );

    // params_etl / params2_etl
    produce_etl(
        &mut mart,
        &mut app,
        "/{$OWNER :as col1} :as foo/:insert",
        &[("OWNER", text("owner1"))],
    )
    .unwrap();
    produce_etl(
        &mut mart,
        &mut app,
        "/{$prefix + string($bar) :as col1} :as foo/:insert",
        &[("prefix", text("h1")), ("bar", Value::Int(123))],
    )
    .unwrap();
    produce_etl(
        &mut mart,
        &mut app,
        "/{$prefix + $OWNER :as col1, 'bar' :as col2} :as foo/:insert",
        &[("prefix", text("h1")), ("owner", text("test"))],
    )
    .unwrap();
    let got: Vec<(String, Option<String>)> = mart
        .query("SELECT col1, col2::text FROM foo WHERE col1 IN ('owner1', 'h1123', 'h1test') ORDER BY col1", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        got,
        [
            ("h1123".to_string(), None),
            ("h1test".to_string(), Some("bar".to_string())),
            ("owner1".to_string(), None)
        ]
    );
    let e = produce_etl(
        &mut mart,
        &mut app,
        "/{'x' :as col1, 'x' :as col2} :as foo/:insert",
        &[],
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Failed to adapt value of col2 to enum('foo', 'bar', 'baz'):\n    'x'\nWhile inserting record #1:\n    {'x', 'x'}\nWhile processing:\n    /{'x' :as col1, 'x' :as col2} :as foo/:insert\n                                           ^^^^^^"
    );

    // Errors found while rows stream from the application database roll back.
    let e = produce_etl(
        &mut mart,
        &mut app,
        "/people{lastname :as col1, 'zzz' :as col2} :as foo /:rexdb /:insert",
        &[],
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Failed to adapt value of col2 to enum('foo', 'bar', 'baz'):\n    'zzz'\nWhile inserting record #1:\n    {'Smith', 'zzz'}\nWhile processing:\n    /people{lastname :as col1, 'zzz' :as col2} :as foo /:rexdb /:insert\n                                                                 ^^^^^^"
    );
    let n: i64 = mart
        .query_one("SELECT count(*) FROM foo WHERE col1 = 'Smith'", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0);

    // subject.htsql: no `:as`, the table tag is the source table's name.
    let p = produce_etl(
        &mut mart,
        &mut app,
        "/subject{\n        uid,\n        mobile_tn\n    }\n    /:rexdb\n    /:insert",
        &[],
    )
    .unwrap();
    assert_eq!(p.len(), 7);
    // select_json: text into a json column.
    let sj = "/assessment{\n    uid :as assessment_uid,\n    string(calculation) :as a_json_field,\n    data :as a_fake_json_field\n  }.filter(\n    instrumentversion.instrument='mart8'\n  ) :as driver\n  /:rexdb\n  /:insert";
    let p = produce_etl(&mut mart, &mut app, sj, &[]).unwrap();
    assert_eq!(p.len(), 1);
    let j: serde_json::Value = mart
        .query_one("SELECT a_json_field FROM driver", &[])
        .unwrap()
        .get(0);
    assert_eq!(j, serde_json::json!({"calc1": 6, "calc2": 15}));
    // schema_modification: update with a trailing comma.
    mart.batch_execute("ALTER TABLE foo ADD COLUMN new_column text")
        .unwrap();
    invalidate_catalog(&mut mart).unwrap();
    let p = produce(&mut mart, "/foo{id(), 'bar' :as new_column,} /:update", &[]).unwrap();
    assert_eq!(p.len(), 14);
    let n: i64 = mart
        .query_one("SELECT count(*) FROM foo WHERE new_column = 'bar'", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 14);
}

#[test]
fn selectors_through_links() {
    let (_app, mut app) = app_db();
    let (_mart, mut mart) = mart_db();
    let sel = "/assessment{\n  id() :as assessment_uid,\n  subject.id() :as subject,\n  evaluation_date,\n  is_null(evaluation_date) :as has_evaluation_date,\n  subject.id() :as 'My Cool Field',\n  $foo :as param_foo,\n  age_at_evaluation,\n  id() :as id_,\n}.filter(instrumentversion.instrument=$INSTRUMENT)/:rexdb";
    let p = produce_etl(
        &mut mart,
        &mut app,
        sel,
        &[("foo", text("somefoo")), ("instrument", text("mart1"))],
    )
    .unwrap();
    assert_eq!(p.len(), 9);
    let tags: Vec<Option<&str>> = p.fields.iter().map(|f| f.tag.as_deref()).collect();
    assert_eq!(
        tags,
        [
            Some("assessment_uid"),
            Some("subject"),
            Some("evaluation_date"),
            Some("has_evaluation_date"),
            None,
            Some("param_foo"),
            Some("age_at_evaluation"),
            Some("id_")
        ]
    );
    // analyze(): the same metadata, no rows.
    let a = analyze(
        &mut mart,
        Some(&mut app),
        sel,
        &[("foo", text("somefoo")), ("instrument", text("mart1"))],
    )
    .unwrap();
    assert_eq!(a.fields, p.fields);
    assert_eq!(a.domain, p.domain);
    assert!(a.is_empty());
    let headers: Vec<&str> = p.fields.iter().map(|f| f.header.as_str()).collect();
    assert_eq!(headers[2], "Evaluation Date");
    assert_eq!(headers[4], "My Cool Field");
    assert_eq!(p.fields[5].domain.to_string(), "untyped");
    let r = p.get(0).unwrap().as_record().unwrap();
    assert_eq!(r.get("assessment_uid"), Some(&id1(text("martassessment1"))));
    assert_eq!(r.get("subject"), Some(&id1(text("martsubject1"))));
    assert_eq!(r.get("evaluation_date"), Some(&Value::Null));
    assert_eq!(r.get("has_evaluation_date"), Some(&Value::Bool(true)));
    assert_eq!(r.get("param_foo"), Some(&text("somefoo")));
    assert_eq!(r.get("age_at_evaluation"), Some(&Value::Int(12)));
    let r = p.get(1).unwrap().as_record().unwrap();
    assert_eq!(r.get("subject"), Some(&id1(text("martsubject2"))));
    // A bare direct link is the target's identity; `*` lists direct links.
    let p = produce(
        &mut app,
        "/assessment{*}.filter(uid='martassessment14')",
        &[],
    )
    .unwrap();
    let tags: Vec<&str> = p.fields.iter().map(|f| f.tag.as_deref().unwrap()).collect();
    assert_eq!(
        tags,
        [
            "uid",
            "subject",
            "instrumentversion",
            "data",
            "evaluation_date",
            "status",
            "calculation",
            "age_at_evaluation"
        ]
    );
    let r = p.get(0).unwrap().as_record().unwrap();
    assert_eq!(r.get("instrumentversion"), Some(&id1(text("mart81"))));
    if let Some(Value::Identity(id)) = r.get("instrumentversion") {
        assert_eq!(id.to_string(), "mart81");
    }
    // sort / limit / contains.
    let p = produce(&mut app, "/people.sort(lastname).limit(2)", &[]).unwrap();
    let names: Vec<&Value> = p
        .rows()
        .iter()
        .map(|r| r.as_record().unwrap().get("firstname").unwrap())
        .collect();
    assert_eq!(names, [&text("Some"), &text("Tom")]);
    // John, Bob and Some (Tom is code 3); case-insensitive.
    let p = produce(&mut app, "/people?firstname~'O'&code!=3", &[]).unwrap();
    assert_eq!(p.len(), 3);
    let p = produce(&mut app, "/count(people?code>=2&code<4)", &[]).unwrap();
    assert_eq!(p.data, Value::Int(2));
    // A plural reverse link counts; `subject.assessment` is plural in a selector.
    let p = produce(&mut app, "/subject{uid, count(assessment) :as n}", &[]).unwrap();
    let ns: Vec<&Value> = p
        .rows()
        .iter()
        .map(|r| r.as_record().unwrap().get("n").unwrap())
        .collect();
    let counts = [6, 4, 3, 3, 1, 9, 0].map(Value::Int);
    assert_eq!(ns, counts.iter().collect::<Vec<_>>());
    let e = produce(&mut app, "/subject{uid, assessment{uid} :as a}", &[]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("Expected a singular expression\nWhile translating:"),
        "{e}"
    );
    // Post-load calculations.
    mart.batch_execute(
        "CREATE TABLE mart1 (id serial UNIQUE, assessment_uid text PRIMARY KEY, postcalc1 text); INSERT INTO mart1 (assessment_uid) VALUES ('martassessment1');",
    )
    .unwrap();
    produce(
        &mut mart,
        "/mart1.define($postcalc1 := upper(assessment_uid) + '-' + $foo){id(), $postcalc1 :as postcalc1}/:update",
        &[("foo", text("blah"))],
    )
    .unwrap();
    let v: String = mart
        .query_one("SELECT postcalc1 FROM mart1", &[])
        .unwrap()
        .get(0);
    assert_eq!(v, "MARTASSESSMENT1-blah");
}

#[test]
fn multi_column_identities_and_links() {
    let (_db, mut c) = app_db();
    let p = produce(
        &mut c,
        "{id($def, $seq) :as rexmart_dynamic_assessment, 'subject' :as name} :as rexmart_dynamic_assessment_instrument /:insert",
        &[("def", text("dynamic_complex")), ("seq", Value::Int(10))],
    )
    .unwrap();
    let Value::Identity(id) = &p.data else {
        panic!("{p:?}")
    };
    assert_eq!(id.to_string(), "dynamic_complex.10.subject");
    assert_eq!(id.repr(), "ID(ID('dynamic_complex', 10), 'subject')");
    let p = produce(
        &mut c,
        "/rexmart_dynamic_assessment_instrument{*, id()}",
        &[],
    )
    .unwrap();
    let tags: Vec<Option<&str>> = p.fields.iter().map(|f| f.tag.as_deref()).collect();
    assert_eq!(
        tags,
        [Some("rexmart_dynamic_assessment"), Some("name"), None]
    );
    assert_eq!(p.fields[2].header, "id()");
    let r = p.get(0).unwrap().as_record().unwrap();
    let Some(Value::Identity(link)) = r.get("rexmart_dynamic_assessment") else {
        panic!("{r:?}")
    };
    assert_eq!(link.to_string(), "dynamic_complex.10");
    // A locator with labels.
    let p = produce(
        &mut c,
        "/rexmart_dynamic_assessment[dynamic_simple.10]{name}",
        &[],
    )
    .unwrap();
    assert_eq!(
        p.get(0).unwrap().as_record().unwrap().get("name"),
        Some(&text("mart1"))
    );
    // A link to a missing row.
    let e = produce(
        &mut c,
        "{id('nothing', 1) :as rexmart_dynamic_assessment, 'x' :as name} :as rexmart_dynamic_assessment_instrument /:insert",
        &[],
    )
    .unwrap_err();
    assert!(
        e.to_string().starts_with("Unable to resolve a link:\n    rexmart_dynamic_assessment[nothing.1]\nWhile inserting a record:\n    {[nothing.1], 'x'}\nWhile processing:"),
        "{e}"
    );
    // Reverse plural link counted from the parent.
    let p = produce(
        &mut c,
        "/rexmart_dynamic_assessment{name, count(rexmart_dynamic_assessment_instrument) :as n}",
        &[],
    )
    .unwrap();
    let ns: Vec<&Value> = p
        .rows()
        .iter()
        .map(|r| r.as_record().unwrap().get("n").unwrap())
        .collect();
    // The demo's four configurations, in identity order, with their instrument rows.
    assert_eq!(
        ns,
        [
            &Value::Int(0),
            &Value::Int(2),
            &Value::Int(1),
            &Value::Int(1)
        ]
    );
}
