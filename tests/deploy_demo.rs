//! The demo application database (rex.job + rex.mart + the demo's `people` and
//! dynamic-assessment data) deploys to exactly the schema of deploy.md §7.1, and
//! deploying it again writes nothing.

mod deploy_support;

use deploy_support::{demo_app, snapshot, txid, written_since};
use harness::deploy::{application_hash, deploy_application};
use harness::pg::testing::ScratchDb;

/// deploy.md §7.1 as `pg_catalog` renders it (see `deploy_support::snapshot`), plus
/// harness's job queue in rex.job's facts: `job.claim_attempt`, `claimed_by`,
/// `heartbeat_at`, the `job_harness_*` indexes and the `job_harness_notify` trigger.
const EXPECTED: &str = r#"
column job.1 id integer NOT NULL DEFAULT nextval('job_seq'::regclass)
column job.10 date_started timestamp without time zone
column job.11 date_completed timestamp without time zone
column job.12 claim_attempt integer NOT NULL DEFAULT 0
column job.13 claimed_by text
column job.14 heartbeat_at timestamp without time zone
column job.2 code bigint NOT NULL
column job.3 owner text NOT NULL
column job.4 title text
column job.5 status job_status_enum NOT NULL DEFAULT 'new'::job_status_enum
column job.6 status_detail text
column job.7 type text NOT NULL
column job.8 payload jsonb NOT NULL DEFAULT '{}'::jsonb
column job.9 date_submitted timestamp without time zone NOT NULL DEFAULT ('now'::text)::timestamp without time zone
column job_rexmart_create.1 id integer NOT NULL DEFAULT nextval('job_rexmart_create__seq'::regclass)
column job_rexmart_create.2 job_id integer NOT NULL
column job_rexmart_create.3 log text
column people.1 id integer NOT NULL DEFAULT nextval('people_seq'::regclass)
column people.2 code bigint NOT NULL
column people.3 firstname text NOT NULL
column people.4 lastname text NOT NULL
column rexmart_dynamic_assessment.1 id integer NOT NULL DEFAULT nextval('rexmart_dynamic_assessment__seq'::regclass)
column rexmart_dynamic_assessment.10 include_calculations boolean NOT NULL DEFAULT true
column rexmart_dynamic_assessment.2 definition text NOT NULL
column rexmart_dynamic_assessment.3 sequence bigint NOT NULL
column rexmart_dynamic_assessment.4 status rexmart_dynamic_assessment__status__enum NOT NULL DEFAULT 'enabled'::rexmart_dynamic_assessment__status__enum
column rexmart_dynamic_assessment.5 name text NOT NULL
column rexmart_dynamic_assessment.6 selector text NOT NULL
column rexmart_dynamic_assessment.7 parental_relationship rexmart_dynamic_assessment__parental_relationship__enum NOT NULL DEFAULT 'trunk'::rexmart_dynamic_assessment__parental_relationship__enum
column rexmart_dynamic_assessment.8 identifiable rexmart_dynamic_assessment__identifiable__enum NOT NULL DEFAULT 'any'::rexmart_dynamic_assessment__identifiable__enum
column rexmart_dynamic_assessment.9 include_fields boolean NOT NULL DEFAULT true
column rexmart_dynamic_assessment_calculation.1 id integer NOT NULL DEFAULT nextval('rexmart_dynamic_assessment_calculation__seq'::regclass)
column rexmart_dynamic_assessment_calculation.2 rexmart_dynamic_assessment__id integer NOT NULL
column rexmart_dynamic_assessment_calculation.3 name text NOT NULL
column rexmart_dynamic_assessment_calculation.4 type rexmart_dynamic_assessment_calculation__type__enum NOT NULL
column rexmart_dynamic_assessment_calculation.5 expression text NOT NULL
column rexmart_dynamic_assessment_calculation_field.1 id integer NOT NULL DEFAULT nextval('rexmart_dynamic_assessment_calculation_field__seq'::regclass)
column rexmart_dynamic_assessment_calculation_field.2 rexmart_dynamic_assessment__id integer NOT NULL
column rexmart_dynamic_assessment_calculation_field.3 name text NOT NULL
column rexmart_dynamic_assessment_instrument.1 id integer NOT NULL DEFAULT nextval('rexmart_dynamic_assessment_instrument__seq'::regclass)
column rexmart_dynamic_assessment_instrument.2 rexmart_dynamic_assessment__id integer NOT NULL
column rexmart_dynamic_assessment_instrument.3 name text NOT NULL
column rexmart_dynamic_assessment_instrument_field.1 id integer NOT NULL DEFAULT nextval('rexmart_dynamic_assessment_instrument_field__seq'::regclass)
column rexmart_dynamic_assessment_instrument_field.2 rexmart_dynamic_assessment__id integer NOT NULL
column rexmart_dynamic_assessment_instrument_field.3 name text NOT NULL
column rexmart_dynamic_assessment_meta_field.1 id integer NOT NULL DEFAULT nextval('rexmart_dynamic_assessment_meta_field__seq'::regclass)
column rexmart_dynamic_assessment_meta_field.2 rexmart_dynamic_assessment__id integer NOT NULL
column rexmart_dynamic_assessment_meta_field.3 name text NOT NULL
column rexmart_dynamic_assessment_meta_field.4 type rexmart_dynamic_assessment_meta_field__type__enum NOT NULL
column rexmart_dynamic_assessment_parent.1 id integer NOT NULL DEFAULT nextval('rexmart_dynamic_assessment_parent__seq'::regclass)
column rexmart_dynamic_assessment_parent.2 rexmart_dynamic_assessment__id integer NOT NULL
column rexmart_dynamic_assessment_parent.3 name text NOT NULL
column rexmart_inventory.1 id integer NOT NULL DEFAULT nextval('rexmart_inventory__seq'::regclass)
column rexmart_inventory.10 pinned boolean NOT NULL DEFAULT false
column rexmart_inventory.2 code bigint NOT NULL
column rexmart_inventory.3 definition text NOT NULL
column rexmart_inventory.4 owner text NOT NULL
column rexmart_inventory.5 name text NOT NULL
column rexmart_inventory.6 status rexmart_inventory__status__enum NOT NULL DEFAULT 'creation'::rexmart_inventory__status__enum
column rexmart_inventory.7 date_creation_started timestamp without time zone NOT NULL
column rexmart_inventory.8 date_creation_completed timestamp without time zone
column rexmart_inventory.9 size bigint
comment job 0 ---|aliases:|- __title__ := if_null(title,string(code))|
comment job 12 ---|default: '0'|
comment job 5 ---|default: new|
comment job 8 ---|default: '{}'|
comment job 9 ---|default: now()|
comment job_pk 0 ---|generators:|- offset|
comment rexmart_dynamic_assessment 10 ---|default: 'true'|
comment rexmart_dynamic_assessment 4 ---|default: enabled|
comment rexmart_dynamic_assessment 7 ---|default: trunk|
comment rexmart_dynamic_assessment 8 ---|default: any|
comment rexmart_dynamic_assessment 9 ---|default: 'true'|
comment rexmart_inventory 10 ---|default: 'false'|
comment rexmart_inventory 6 ---|default: creation|
comment rexmart_inventory__pk 0 ---|generators:|- offset|
constraint job job_pk PRIMARY KEY (code)
constraint job job_uk UNIQUE (id)
constraint job_rexmart_create job_rexmart_create__job__fk FOREIGN KEY (job_id) REFERENCES job(id) ON DELETE CASCADE
constraint job_rexmart_create job_rexmart_create__pk PRIMARY KEY (job_id)
constraint job_rexmart_create job_rexmart_create__uk UNIQUE (id)
constraint people people_pk PRIMARY KEY (code)
constraint people people_uk UNIQUE (id)
constraint rexmart_dynamic_assessment rexmart_dynamic_assessment__pk PRIMARY KEY (definition, sequence)
constraint rexmart_dynamic_assessment rexmart_dynamic_assessment__uk UNIQUE (id)
constraint rexmart_dynamic_assessment rexmart_dynamic_assessment_defname UNIQUE (definition, name)
constraint rexmart_dynamic_assessment_calculation rexmart_dynamic__lation__rexmart_dynamic_assessment__fk__5b1d7a FOREIGN KEY (rexmart_dynamic_assessment__id) REFERENCES rexmart_dynamic_assessment(id) ON DELETE CASCADE
constraint rexmart_dynamic_assessment_calculation rexmart_dynamic_assessment_calculation__pk PRIMARY KEY (rexmart_dynamic_assessment__id, name)
constraint rexmart_dynamic_assessment_calculation rexmart_dynamic_assessment_calculation__uk UNIQUE (id)
constraint rexmart_dynamic_assessment_calculation_field rexmart_dynamic___field__rexmart_dynamic_assessment__fk__208286 FOREIGN KEY (rexmart_dynamic_assessment__id) REFERENCES rexmart_dynamic_assessment(id) ON DELETE CASCADE
constraint rexmart_dynamic_assessment_calculation_field rexmart_dynamic_assessment_calculation_field__pk PRIMARY KEY (rexmart_dynamic_assessment__id, name)
constraint rexmart_dynamic_assessment_calculation_field rexmart_dynamic_assessment_calculation_field__uk UNIQUE (id)
constraint rexmart_dynamic_assessment_instrument rexmart_dynamic__rument__rexmart_dynamic_assessment__fk__2a31f6 FOREIGN KEY (rexmart_dynamic_assessment__id) REFERENCES rexmart_dynamic_assessment(id) ON DELETE CASCADE
constraint rexmart_dynamic_assessment_instrument rexmart_dynamic_assessment_instrument__pk PRIMARY KEY (rexmart_dynamic_assessment__id, name)
constraint rexmart_dynamic_assessment_instrument rexmart_dynamic_assessment_instrument__uk UNIQUE (id)
constraint rexmart_dynamic_assessment_instrument_field rexmart_dynamic___field__rexmart_dynamic_assessment__fk__d87d1e FOREIGN KEY (rexmart_dynamic_assessment__id) REFERENCES rexmart_dynamic_assessment(id) ON DELETE CASCADE
constraint rexmart_dynamic_assessment_instrument_field rexmart_dynamic_assessment_instrument_field__pk PRIMARY KEY (rexmart_dynamic_assessment__id, name)
constraint rexmart_dynamic_assessment_instrument_field rexmart_dynamic_assessment_instrument_field__uk UNIQUE (id)
constraint rexmart_dynamic_assessment_meta_field rexmart_dynamic___field__rexmart_dynamic_assessment__fk__702207 FOREIGN KEY (rexmart_dynamic_assessment__id) REFERENCES rexmart_dynamic_assessment(id) ON DELETE CASCADE
constraint rexmart_dynamic_assessment_meta_field rexmart_dynamic_assessment_meta_field__pk PRIMARY KEY (rexmart_dynamic_assessment__id, name)
constraint rexmart_dynamic_assessment_meta_field rexmart_dynamic_assessment_meta_field__uk UNIQUE (id)
constraint rexmart_dynamic_assessment_parent rexmart_dynamic__parent__rexmart_dynamic_assessment__fk__b62e15 FOREIGN KEY (rexmart_dynamic_assessment__id) REFERENCES rexmart_dynamic_assessment(id) ON DELETE CASCADE
constraint rexmart_dynamic_assessment_parent rexmart_dynamic_assessment_parent__pk PRIMARY KEY (rexmart_dynamic_assessment__id, name)
constraint rexmart_dynamic_assessment_parent rexmart_dynamic_assessment_parent__uk UNIQUE (id)
constraint rexmart_inventory rexmart_inventory__pk PRIMARY KEY (code)
constraint rexmart_inventory rexmart_inventory__uk UNIQUE (id)
enum job_status_enum new,queued,started,completed,failed
enum rexmart_dynamic_assessment__identifiable__enum none,only,any
enum rexmart_dynamic_assessment__parental_relationship__enum trunk,facet,branch,cross,ternary
enum rexmart_dynamic_assessment__status__enum enabled,disabled
enum rexmart_dynamic_assessment_calculation__type__enum text,integer,float,boolean,date,time,dateTime
enum rexmart_dynamic_assessment_meta_field__type__enum text,integer,float,boolean,date,time,dateTime
enum rexmart_inventory__status__enum creation,deployment,post_deployment,assessment,post_assessment,processing,complete
index CREATE INDEX job_harness_new_idx ON public.job USING btree (date_submitted, code) WHERE (status = 'new'::job_status_enum)
index CREATE INDEX job_harness_queued_idx ON public.job USING btree (date_submitted, code) WHERE (status = 'queued'::job_status_enum)
index CREATE INDEX job_harness_started_idx ON public.job USING btree (heartbeat_at) WHERE (status = 'started'::job_status_enum)
index CREATE INDEX job_rexmart_create__job__fk ON public.job_rexmart_create USING btree (job_id)
index CREATE INDEX rexmart_dynamic___field__rexmart_dynamic_assessment__fk__208286 ON public.rexmart_dynamic_assessment_calculation_field USING btree (rexmart_dynamic_assessment__id)
index CREATE INDEX rexmart_dynamic___field__rexmart_dynamic_assessment__fk__702207 ON public.rexmart_dynamic_assessment_meta_field USING btree (rexmart_dynamic_assessment__id)
index CREATE INDEX rexmart_dynamic___field__rexmart_dynamic_assessment__fk__d87d1e ON public.rexmart_dynamic_assessment_instrument_field USING btree (rexmart_dynamic_assessment__id)
index CREATE INDEX rexmart_dynamic__lation__rexmart_dynamic_assessment__fk__5b1d7a ON public.rexmart_dynamic_assessment_calculation USING btree (rexmart_dynamic_assessment__id)
index CREATE INDEX rexmart_dynamic__parent__rexmart_dynamic_assessment__fk__b62e15 ON public.rexmart_dynamic_assessment_parent USING btree (rexmart_dynamic_assessment__id)
index CREATE INDEX rexmart_dynamic__rument__rexmart_dynamic_assessment__fk__2a31f6 ON public.rexmart_dynamic_assessment_instrument USING btree (rexmart_dynamic_assessment__id)
index CREATE UNIQUE INDEX job_pk ON public.job USING btree (code) CLUSTERED
index CREATE UNIQUE INDEX job_rexmart_create__pk ON public.job_rexmart_create USING btree (job_id) CLUSTERED
index CREATE UNIQUE INDEX job_rexmart_create__uk ON public.job_rexmart_create USING btree (id)
index CREATE UNIQUE INDEX job_uk ON public.job USING btree (id)
index CREATE UNIQUE INDEX people_pk ON public.people USING btree (code) CLUSTERED
index CREATE UNIQUE INDEX people_uk ON public.people USING btree (id)
index CREATE UNIQUE INDEX rexmart_dynamic_assessment__pk ON public.rexmart_dynamic_assessment USING btree (definition, sequence) CLUSTERED
index CREATE UNIQUE INDEX rexmart_dynamic_assessment__uk ON public.rexmart_dynamic_assessment USING btree (id)
index CREATE UNIQUE INDEX rexmart_dynamic_assessment_calculation__pk ON public.rexmart_dynamic_assessment_calculation USING btree (rexmart_dynamic_assessment__id, name) CLUSTERED
index CREATE UNIQUE INDEX rexmart_dynamic_assessment_calculation__uk ON public.rexmart_dynamic_assessment_calculation USING btree (id)
index CREATE UNIQUE INDEX rexmart_dynamic_assessment_calculation_field__pk ON public.rexmart_dynamic_assessment_calculation_field USING btree (rexmart_dynamic_assessment__id, name) CLUSTERED
index CREATE UNIQUE INDEX rexmart_dynamic_assessment_calculation_field__uk ON public.rexmart_dynamic_assessment_calculation_field USING btree (id)
index CREATE UNIQUE INDEX rexmart_dynamic_assessment_defname ON public.rexmart_dynamic_assessment USING btree (definition, name)
index CREATE UNIQUE INDEX rexmart_dynamic_assessment_instrument__pk ON public.rexmart_dynamic_assessment_instrument USING btree (rexmart_dynamic_assessment__id, name) CLUSTERED
index CREATE UNIQUE INDEX rexmart_dynamic_assessment_instrument__uk ON public.rexmart_dynamic_assessment_instrument USING btree (id)
index CREATE UNIQUE INDEX rexmart_dynamic_assessment_instrument_field__pk ON public.rexmart_dynamic_assessment_instrument_field USING btree (rexmart_dynamic_assessment__id, name) CLUSTERED
index CREATE UNIQUE INDEX rexmart_dynamic_assessment_instrument_field__uk ON public.rexmart_dynamic_assessment_instrument_field USING btree (id)
index CREATE UNIQUE INDEX rexmart_dynamic_assessment_meta_field__pk ON public.rexmart_dynamic_assessment_meta_field USING btree (rexmart_dynamic_assessment__id, name) CLUSTERED
index CREATE UNIQUE INDEX rexmart_dynamic_assessment_meta_field__uk ON public.rexmart_dynamic_assessment_meta_field USING btree (id)
index CREATE UNIQUE INDEX rexmart_dynamic_assessment_parent__pk ON public.rexmart_dynamic_assessment_parent USING btree (rexmart_dynamic_assessment__id, name) CLUSTERED
index CREATE UNIQUE INDEX rexmart_dynamic_assessment_parent__uk ON public.rexmart_dynamic_assessment_parent USING btree (id)
index CREATE UNIQUE INDEX rexmart_inventory__pk ON public.rexmart_inventory USING btree (code) CLUSTERED
index CREATE UNIQUE INDEX rexmart_inventory__uk ON public.rexmart_inventory USING btree (id)
sequence job_rexmart_create__seq owned by job_rexmart_create.id
sequence job_seq owned by job.id
sequence people_seq owned by people.id
sequence rexmart_dynamic_assessment__seq owned by rexmart_dynamic_assessment.id
sequence rexmart_dynamic_assessment_calculation__seq owned by rexmart_dynamic_assessment_calculation.id
sequence rexmart_dynamic_assessment_calculation_field__seq owned by rexmart_dynamic_assessment_calculation_field.id
sequence rexmart_dynamic_assessment_instrument__seq owned by rexmart_dynamic_assessment_instrument.id
sequence rexmart_dynamic_assessment_instrument_field__seq owned by rexmart_dynamic_assessment_instrument_field.id
sequence rexmart_dynamic_assessment_meta_field__seq owned by rexmart_dynamic_assessment_meta_field.id
sequence rexmart_dynamic_assessment_parent__seq owned by rexmart_dynamic_assessment_parent.id
sequence rexmart_inventory__seq owned by rexmart_inventory.id
table job p
table job_rexmart_create p
table people p
table rexmart_dynamic_assessment p
table rexmart_dynamic_assessment_calculation p
table rexmart_dynamic_assessment_calculation_field p
table rexmart_dynamic_assessment_instrument p
table rexmart_dynamic_assessment_instrument_field p
table rexmart_dynamic_assessment_meta_field p
table rexmart_dynamic_assessment_parent p
table rexmart_inventory p
trigger CREATE TRIGGER job_harness_notify AFTER INSERT ON public.job FOR EACH STATEMENT EXECUTE FUNCTION job_harness_notify()
trigger CREATE TRIGGER job_pk BEFORE INSERT ON public.job FOR EACH ROW EXECUTE FUNCTION job_pk()
trigger CREATE TRIGGER rexmart_inventory__pk BEFORE INSERT ON public.rexmart_inventory FOR EACH ROW EXECUTE FUNCTION rexmart_inventory__pk()
"#;

/// The `job_pk` body of deploy.md §3.5, character for character.
const JOB_PK_SOURCE: &str = "\nBEGIN\n    IF NEW.\"code\" IS NULL THEN\n        DECLARE\n            _offset int8;\n        BEGIN\n            SELECT max(\"code\") INTO _offset\n                FROM \"job\";\n            NEW.\"code\" := coalesce(_offset, 0) + 1;\n        END;\n    END IF;\n    RETURN NEW;\nEND;\n";

fn rows(client: &mut postgres::Client, sql: &str) -> Vec<String> {
    client
        .query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect()
}

#[test]
fn demo_application_deploys_to_the_reference_schema() {
    let db = ScratchDb::new("deploy_demo");
    let mut c = db.connect();
    let app = demo_app();
    deploy_application(&mut c, app.path()).unwrap();
    let got: Vec<String> = snapshot(&mut c)
        .into_iter()
        .filter(|l| !l.starts_with("function "))
        .map(|l| l.replace('\n', "|"))
        .collect();
    let want: Vec<&str> = EXPECTED.trim().lines().collect();
    assert_eq!(got, want);

    let source: String = c
        .query_one("SELECT prosrc FROM pg_proc WHERE proname = 'job_pk'", &[])
        .unwrap()
        .get(0);
    assert_eq!(source, JOB_PK_SOURCE);

    assert_eq!(
        rows(&mut c, "SELECT id || ',' || code || ',' || firstname || ',' || lastname FROM people ORDER BY id"),
        ["1,1,John,Smith", "2,2,Bob,Rogers", "3,3,Tom,Brady", "4,4,Mary,Cooper", "5,5,Some,Body"]
    );
    assert_eq!(
        rows(
            &mut c,
            "SELECT d.definition || '.' || d.sequence || ':' || i.name FROM rexmart_dynamic_assessment_instrument i \
             JOIN rexmart_dynamic_assessment d ON d.id = i.rexmart_dynamic_assessment__id ORDER BY 1"
        ),
        ["dynamic_complex.10:mart1", "dynamic_complex.20:mart2", "dynamic_simple.10:mart1"]
    );
    assert_eq!(
        rows(&mut c, "SELECT definition || sequence || status || include_fields FROM rexmart_dynamic_assessment ORDER BY 1"),
        ["broken10enabledtrue", "dynamic_complex10enabledtrue", "dynamic_complex20enabledfalse", "dynamic_simple10enabledtrue"]
    );
    assert_eq!(
        rows(&mut c, "SELECT d.definition || d.sequence || m.name || m.type FROM rexmart_dynamic_assessment_meta_field m JOIN rexmart_dynamic_assessment d ON d.id = m.rexmart_dynamic_assessment__id"),
        ["dynamic_complex20dateCompleteddateTime"]
    );

    // The offset generator numbers jobs 1, 2, ... and the facet cascades.
    c.batch_execute("INSERT INTO job (owner, type) VALUES ('a', 't'), ('b', 't')")
        .unwrap();
    assert_eq!(
        rows(
            &mut c,
            "SELECT code || status::text || payload::text FROM job ORDER BY code"
        ),
        ["1new{}", "2new{}"]
    );
    c.batch_execute("INSERT INTO job_rexmart_create (job_id) SELECT id FROM job WHERE code = 1; DELETE FROM job WHERE code = 1")
        .unwrap();
    assert_eq!(
        rows(&mut c, "SELECT count(*)::text FROM job_rexmart_create"),
        ["0"]
    );
}

#[test]
fn redeploying_the_application_writes_nothing() {
    let db = ScratchDb::new("deploy_redeploy");
    let mut c = db.connect();
    let app = demo_app();
    deploy_application(&mut c, app.path()).unwrap();
    let before = snapshot(&mut c);
    let since = txid(&mut c);
    deploy_application(&mut c, app.path()).unwrap();
    let tables = [
        "people",
        "job",
        "rexmart_dynamic_assessment",
        "rexmart_dynamic_assessment_instrument",
    ];
    assert_eq!(written_since(&mut c, since, &tables), Vec::<String>::new());
    assert_eq!(snapshot(&mut c), before);
}

#[test]
fn application_hash_is_stable_and_sees_changes() {
    let app = demo_app();
    let first = application_hash(app.path()).unwrap();
    assert_eq!(first, application_hash(app.path()).unwrap());
    assert_eq!(first.len(), 32);
    std::fs::write(app.path().join("deploy/people_extra.csv"), "x\n").unwrap();
    assert_ne!(first, application_hash(app.path()).unwrap());
}

#[test]
fn an_application_without_deploy_yaml_gets_the_builtin_tables() {
    let db = ScratchDb::new("deploy_builtin");
    let mut c = db.connect();
    let empty = tempfile::tempdir().unwrap();
    deploy_application(&mut c, empty.path()).unwrap();
    let tables = rows(&mut c, "SELECT relname::text FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY 1");
    assert_eq!(tables.len(), 10);
    assert!(
        tables.contains(&"job".to_string()) && tables.contains(&"rexmart_inventory".to_string())
    );
}
