//! Every fact kind against a real database: create, redeploy (nothing written),
//! change (the database follows), drop; the mart deploy files of deploy.md §7.2.

mod deploy_support;

use deploy_support::{fixture, snapshot, txid, written_since, yaml};
use harness::deploy::deploy;
use harness::pg::testing::ScratchDb;
use std::path::Path;

fn rows(client: &mut postgres::Client, sql: &str) -> Vec<String> {
    client
        .query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| {
            r.get::<_, Option<String>>(0)
                .unwrap_or_else(|| "NULL".into())
        })
        .collect()
}

fn run(client: &mut postgres::Client, text: &str, dir: &Path) {
    if let Err(e) = deploy(client, &yaml(text), dir) {
        panic!("deploy failed:\n{e}");
    }
}

/// Deploys `text` again and checks that nothing at all was written.
fn assert_idempotent(client: &mut postgres::Client, text: &str, dir: &Path, tables: &[&str]) {
    let before = snapshot(client);
    let since = txid(client);
    run(client, text, dir);
    assert_eq!(written_since(client, since, tables), Vec::<String>::new());
    assert_eq!(snapshot(client), before);
}

const KINDS: &str = r#"
- table: family
  with:
  - column: code
    type: text
  - identity: [code: offset]
  - column: name
    type: text
    required: false
- table: individual
  reliable: false
  title: People
  with:
  - link: family
  - column: code
    type: integer
  - identity: [family, code: offset]
  - column: sex
    type: [male, female]
    default: female
  - column: born
    type: date
    required: false
  - column: seen
    type: datetime
    required: false
  - column: at
    type: time
    required: false
  - column: score
    type: float
    required: false
  - column: price
    type: decimal
    required: false
  - column: small
    type: integer-int4
    required: false
  - column: raw
    type: json-json
    required: false
  - column: info
    type: json
    default: {}
  - column: email
    type: text
    unique: true
    required: false
  - column: joined
    type: date
    default: today()
  - link: mother
    to: individual
    required: false
  - alias: full
    expression: string(code)
- data: |
    code,name
    001,Smiths
    "002","Jones, ""the"" family"
  of: family
- data:
  - code: '003'
    name: null
  of: family
- data: individual.csv
- table: settings
  with:
  - column: key
    type: text
  - identity: [key]
  - link: home
    to: family
    default: '002'
    required: false
"#;

const INDIVIDUAL_CSV: &str = "family,code,sex,born,seen,at,score,price,small,raw,info,email,mother\n\
001,1,male,2010-12-03,2010-12-03 20:37,22:30,1.5,175.050,7,\"[1, 2]\",\"{\"\"b\"\": 1, \"\"a\"\": [true]}\",a@x,\n\
001,2,,,,,,,,,,,001.1\n\
002,1,female,,,,,,,,,,\n";

#[test]
fn every_fact_kind_deploys_and_redeploys_silently() {
    let db = ScratchDb::new("deploy_kinds");
    let mut c = db.connect();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("individual.csv"), INDIVIDUAL_CSV).unwrap();
    run(&mut c, KINDS, dir.path());

    let snap = snapshot(&mut c);
    let has = |line: &str| {
        assert!(
            snap.iter().any(|l| l == line),
            "missing {line:?} in\n{}",
            snap.join("\n")
        )
    };
    has("table individual u");
    has("table family p");
    has("column individual.2 family_id integer NOT NULL");
    has("column individual.4 sex individual_sex_enum NOT NULL DEFAULT 'female'::individual_sex_enum");
    has("column individual.7 at time without time zone");
    has("column individual.9 price numeric");
    has("column individual.10 small integer");
    has("column individual.11 raw json");
    has("column individual.14 joined date NOT NULL DEFAULT ('now'::text)::date");
    has("column individual.15 mother_id integer");
    has("constraint individual individual_email_uk UNIQUE (email)");
    has("constraint individual individual_pk PRIMARY KEY (family_id, code)");
    has("constraint individual individual_family_fk FOREIGN KEY (family_id) REFERENCES family(id) ON DELETE CASCADE");
    has("constraint individual individual_mother_fk FOREIGN KEY (mother_id) REFERENCES individual(id) ON DELETE SET DEFAULT");
    has("index CREATE INDEX individual_mother_fk ON public.individual USING btree (mother_id)");
    has("comment individual 0 ---\naliases:\n- full := string(code)\ntitle: People\n");
    has("comment individual_pk 0 ---\ngenerators:\n- null\n- offset\n");
    has("comment family_pk 0 ---\ngenerators:\n- offset\n");
    has("column settings.3 home_id integer DEFAULT 2");
    has("comment settings 3 ---\ndefault: '002'\n");

    assert_eq!(
        rows(
            &mut c,
            "SELECT code || ':' || coalesce(name, 'NULL') FROM family ORDER BY id"
        ),
        ["001:Smiths", "002:Jones, \"the\" family", "003:NULL"]
    );
    assert_eq!(
        rows(
            &mut c,
            "SELECT concat_ws('|', f.code, i.code, i.sex, i.born, i.seen, i.at, i.score, i.price, i.small, i.raw, i.info, i.email, m.code) \
             FROM individual i JOIN family f ON f.id = i.family_id LEFT JOIN individual m ON m.id = i.mother_id ORDER BY i.id"
        ),
        [
            "001|1|male|2010-12-03|2010-12-03 20:37:00|22:30:00|1.5|175.050|7|[1, 2]|{\"a\": [true], \"b\": 1}|a@x",
            "001|2|female|{}|1",
            "002|1|female|{}",
        ]
    );

    // The generators: a text offset per table, an integer offset per family.
    c.batch_execute(
        "INSERT INTO family (name) VALUES ('new'); \
         INSERT INTO individual (family_id) SELECT id FROM family WHERE code = '001'; \
         INSERT INTO individual (family_id) SELECT id FROM family WHERE code = '003';",
    )
    .unwrap();
    assert_eq!(
        rows(&mut c, "SELECT code FROM family WHERE name = 'new'"),
        ["004"]
    );
    assert_eq!(
        rows(&mut c, "SELECT f.code || '.' || i.code FROM individual i JOIN family f ON f.id = i.family_id ORDER BY i.id DESC LIMIT 2"),
        ["003.1", "001.3"]
    );

    assert_idempotent(
        &mut c,
        KINDS,
        dir.path(),
        &["family", "individual", "settings"],
    );
}

const V1: &str = r#"
- table: thing
  with:
  - column: code
    type: text
  - identity: [code]
  - column: size
    type: integer
    required: false
  - column: color
    type: [red, green]
    default: red
  - column: note
    type: text
    required: false
  - data: |
      code,size
      a,1
      b,2
- table: gone
- table: other
  with:
  - link: gone
    required: false
"#;

const V2: &str = r#"
- table: thing
  title: Things
  with:
  - column: code
    type: text
  - identity: [code]
  - column: size
    type: integer
    default: 0
    unique: true
  - column: color
    type: [red, green]
    required: false
  - column: note
    present: false
  - column: extra
    type: boolean
    default: true
  - data: |
      code,size
      a,10
      c,3
  - data: |
      code
      b
    present: false
- table: gone
  present: false
"#;

#[test]
fn a_changed_fact_set_alters_the_database() {
    let db = ScratchDb::new("deploy_change");
    let mut c = db.connect();
    let dir = Path::new(".");
    run(&mut c, V1, dir);
    run(&mut c, V2, dir);
    let snap = snapshot(&mut c);
    let has = |line: &str| {
        assert!(
            snap.iter().any(|l| l == line),
            "missing {line:?} in\n{}",
            snap.join("\n")
        )
    };
    has("column thing.3 size bigint NOT NULL DEFAULT 0");
    has("column thing.4 color thing_color_enum");
    has("column thing.6 extra boolean NOT NULL DEFAULT true");
    has("constraint thing thing_size_uk UNIQUE (size)");
    has("comment thing 0 ---\ntitle: Things\n");
    has("comment thing 3 ---\ndefault: '0'\n");
    assert!(!snap
        .iter()
        .any(|l| l.contains("note") || l.contains("gone") || l.contains("comment thing 4")));
    assert!(snap.iter().any(|l| l == "table other p"));
    assert!(
        !snap.iter().any(|l| l.starts_with("column other.2")),
        "the link into gone is dropped"
    );
    assert_eq!(
        rows(
            &mut c,
            "SELECT code || size || coalesce(color::text, '-') || extra FROM thing ORDER BY code"
        ),
        ["a10redtrue", "c3-true"]
    );
    assert_idempotent(&mut c, V2, dir, &["thing"]);

    // Making `color` required again fails while a row has none, and changes nothing.
    let before = snapshot(&mut c);
    let err = deploy(&mut c, &yaml(V1), dir).unwrap_err().to_string();
    assert!(err.starts_with("Got an error from the database driver:\n    column \"color\" of relation \"thing\" contains null values\nWhile executing SQL:\n    ALTER TABLE \"thing\" ALTER COLUMN \"color\" SET NOT NULL;\nWhile deploying column fact:\n    \"<unicode string>\", line 10\nWhile deploying table fact:\n    \"<unicode string>\", line 2"), "{err}");
    assert_eq!(snapshot(&mut c), before);

    // And back: the first fact set restores what it says (the dropped table too).
    c.batch_execute("UPDATE thing SET color = 'green' WHERE color IS NULL")
        .unwrap();
    run(&mut c, V1, dir);
    let snap = snapshot(&mut c);
    assert!(snap.iter().any(|l| l == "column thing.3 size bigint"));
    assert!(snap
        .iter()
        .any(|l| l
            == "column thing.4 color thing_color_enum NOT NULL DEFAULT 'red'::thing_color_enum"));
    assert!(snap.iter().any(|l| l == "table gone p"));
    assert!(!snap.iter().any(|l| l.contains("thing_size_uk")));
}

#[test]
fn mart_deploy_files_of_the_demo() {
    let db = ScratchDb::new("deploy_mart");
    let mut c = db.connect();
    let demo = fixture("rex.mart_demo");
    let simple = harness::core::yaml::load_file(&demo.join("simple_deploy.yaml")).unwrap();
    deploy(&mut c, &simple, &demo).unwrap();
    let snap = snapshot(&mut c);
    for line in [
        "column foo.2 col1 text NOT NULL",
        "column foo.3 col2 foo_col2_enum",
        "comment foo 0 ---\ntitle: Foo Bars\n",
        "comment foo 2 ---\ntitle: The First Column\n",
        "constraint foo foo_pk PRIMARY KEY (col1)",
        "constraint foo foo_uk UNIQUE (id)",
        "enum foo_col2_enum foo,bar,baz",
        "sequence foo_seq owned by foo.id",
    ] {
        assert!(snap.contains(&line.to_string()), "missing {line:?}");
    }
    // `existing`: deploying it into a database that has it is a no-op.
    let since = txid(&mut c);
    deploy(&mut c, &simple, &demo).unwrap();
    let indirect =
        harness::core::yaml::load_file(&demo.join("indirect_simple_deploy.yaml")).unwrap();
    deploy(&mut c, &indirect, &demo).unwrap();
    assert_eq!(written_since(&mut c, since, &["foo"]), Vec::<String>::new());

    // The include, into a fresh database, gives the same schema.
    let db2 = ScratchDb::new("deploy_mart_include");
    let mut c2 = db2.connect();
    deploy(&mut c2, &indirect, &demo).unwrap();
    assert_eq!(snapshot(&mut c2), snap);

    let subject = harness::core::yaml::load_file(&demo.join("simple_subject.yaml")).unwrap();
    deploy(&mut c2, &subject, &demo).unwrap();
    let snap = snapshot(&mut c2);
    assert!(snap.contains(&"column subject.2 uid text NOT NULL".to_string()));
    assert!(snap.contains(&"column subject.3 mobile_tn text".to_string()));
    assert!(snap.contains(&"constraint subject subject_pk PRIMARY KEY (uid)".to_string()));
}

#[test]
fn facts_without_marks_deploy_like_yaml_ones() {
    let db = ScratchDb::new("deploy_json");
    let mut c = db.connect();
    let facts = serde_json::json!([{
        "table": "driver",
        "with": [
            {"column": "assessment_uid", "type": "text"},
            {"identity": ["assessment_uid"]},
            {"column": "a_json_field", "type": "json"},
            {"column": "a_fake_json_field", "type": "text"},
            {"data": [{"assessment_uid": "x", "a_json_field": {"k": [1]}, "a_fake_json_field": "{}"}]}
        ]
    }]);
    let node = harness::core::yaml::Node::from_json(&facts);
    deploy(&mut c, &node, Path::new(".")).unwrap();
    assert_eq!(
        rows(
            &mut c,
            "SELECT a_json_field::text || a_fake_json_field FROM driver"
        ),
        ["{\"k\": [1]}{}"]
    );
    let since = txid(&mut c);
    deploy(&mut c, &node, Path::new(".")).unwrap();
    assert_eq!(
        written_since(&mut c, since, &["driver"]),
        Vec::<String>::new()
    );
}

#[test]
fn data_files_in_json_and_yaml_and_sql_facts() {
    let db = ScratchDb::new("deploy_files");
    let mut c = db.connect();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("color.json"),
        r#"[{"name": "red", "rank": 1}, {"name": "blue", "rank": 2}]"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("more.yaml"), "- name: green\n  rank: '3'\n").unwrap();
    std::fs::write(
        dir.path().join("check.sql"),
        "SELECT 1 FROM pg_constraint WHERE conname = 'color_rank_positive'",
    )
    .unwrap();
    let text = r#"
- table: color
  with:
  - column: name
    type: text
  - identity: [name]
  - column: rank
    type: integer
- data: color.json
- data: more.yaml
  of: color
- sql: ALTER TABLE color ADD CONSTRAINT color_rank_positive CHECK (rank > 0)
  unless: check.sql
"#;
    run(&mut c, text, dir.path());
    assert_eq!(
        rows(&mut c, "SELECT name || rank FROM color ORDER BY rank"),
        ["red1", "blue2", "green3"]
    );
    assert_idempotent(&mut c, text, dir.path(), &["color"]);
}

#[test]
fn random_and_uuid_generators_fill_identity_fields() {
    let db = ScratchDb::new("deploy_generators");
    let mut c = db.connect();
    let text = r#"
- table: ticket
  with:
  - column: number
    type: integer
  - column: tag
    type: text
  - column: token
    type: text
  - identity: [number: random, tag: random, token: uuid]
"#;
    run(&mut c, text, Path::new("."));
    c.batch_execute("INSERT INTO ticket DEFAULT VALUES; INSERT INTO ticket DEFAULT VALUES;")
        .unwrap();
    let got = rows(
        &mut c,
        "SELECT (number BETWEEN 1 AND 999999999)::text || ' ' || (tag ~ '^[A-Z][0-9]{2}[A-Z][0-9]{4}$')::text || ' ' || length(token) FROM ticket",
    );
    assert_eq!(got, ["true true 36", "true true 36"]);
    assert!(snapshot(&mut c).contains(
        &"comment ticket_pk 0 ---\ngenerators:\n- random\n- random\n- uuid\n".to_string()
    ));
    assert_idempotent(&mut c, text, Path::new("."), &["ticket"]);
    // Without generators the trigger and its function go away.
    run(
        &mut c,
        "- identity: [number, tag, token]\n  of: ticket\n",
        Path::new("."),
    );
    let snap = snapshot(&mut c);
    assert!(!snap.iter().any(|l| l.starts_with("trigger")
        || l.starts_with("function")
        || l.starts_with("comment ticket_pk")));
}

#[test]
fn identity_links_and_drops_follow_the_facts() {
    let db = ScratchDb::new("deploy_identity_change");
    let mut c = db.connect();
    let dir = Path::new(".");
    let v1 = r#"
- table: site
  with:
  - column: code
    type: text
  - identity: [code]
- table: visit
  with:
  - link: site
  - column: number
    type: integer
  - column: kind
    type: [first, later]
  - identity: [site, number: offset]
- table: note
  with:
  - link: visit
    unique: true
  - column: body
    type: text
"#;
    run(&mut c, v1, dir);
    let snap = snapshot(&mut c);
    assert!(snap.contains(&"constraint visit visit_site_fk FOREIGN KEY (site_id) REFERENCES site(id) ON DELETE CASCADE".to_string()));
    assert!(snap.contains(&"constraint note note_visit_uk UNIQUE (visit_id)".to_string()));
    assert!(!snap.iter().any(|l| l.contains("INDEX note_visit_fk")));

    // The identity moves off the link: its FK goes back to SET DEFAULT; the link on
    // `note` loses its UNIQUE and gets its index.
    let v2 = r#"
- identity: [number, kind]
  of: visit
- link: note.visit
  unique: false
"#;
    run(&mut c, v2, dir);
    let snap = snapshot(&mut c);
    for line in [
        "constraint visit visit_pk PRIMARY KEY (number, kind)",
        "constraint visit visit_site_fk FOREIGN KEY (site_id) REFERENCES site(id) ON DELETE SET DEFAULT",
        "index CREATE INDEX note_visit_fk ON public.note USING btree (visit_id)",
    ] {
        assert!(snap.contains(&line.to_string()), "missing {line:?}\n{}", snap.join("\n"));
    }
    assert!(!snap
        .iter()
        .any(|l| l.contains("note_visit_uk") || l.starts_with("trigger")));
    assert_idempotent(&mut c, v2, dir, &[]);

    // Dropping `visit` drops the link into it, its enum type and nothing else.
    run(&mut c, "- table: visit\n  present: false\n", dir);
    let snap = snapshot(&mut c);
    assert!(
        !snap.iter().any(|l| l.contains("visit")),
        "{}",
        snap.join("\n")
    );
    assert!(snap.contains(&"column note.3 body text NOT NULL".to_string()));
    assert!(snap.contains(&"table site p".to_string()));
    assert_idempotent(&mut c, "- table: visit\n  present: false\n", dir, &[]);
}
