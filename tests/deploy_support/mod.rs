//! Helpers shared by the deploy integration tests: a `pg_catalog` snapshot of schema
//! `public`, a check that a deploy wrote nothing, and demo application directories.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub const FIXTURES: &str = "/work/shared/fixtures";

/// One line per schema object of `public`: tables, columns (type, NOT NULL, default),
/// constraints, indexes, triggers, enum types, sequences and comments.
pub fn snapshot(client: &mut postgres::Client) -> Vec<String> {
    let queries = [
        "SELECT 'table ' || c.relname || ' ' || c.relpersistence::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'",
        "SELECT 'column ' || c.relname || '.' || a.attnum || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) \
         || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END \
         || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
        "SELECT 'constraint ' || c.relname || ' ' || con.conname || ' ' || pg_get_constraintdef(con.oid) \
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public'",
        "SELECT 'index ' || pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisclustered THEN ' CLUSTERED' ELSE '' END \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public'",
        "SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE NOT t.tgisinternal",
        "SELECT 'function ' || p.proname || ' ' || md5(p.prosrc) FROM pg_proc p \
         JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'",
        "SELECT 'enum ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) \
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname",
        "SELECT 'sequence ' || c.relname || ' owned by ' || coalesce(( \
           SELECT r.relname || '.' || a.attname FROM pg_depend d JOIN pg_class r ON r.oid = d.refobjid \
           JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum = d.refobjsubid \
           WHERE d.objid = c.oid AND d.deptype = 'a'), '-') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'S'",
        "SELECT 'comment ' || coalesce(c.relname, con.conname, '?') || ' ' || d.objsubid || ' ' || d.description \
         FROM pg_description d LEFT JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND c.oid = d.objoid \
         LEFT JOIN pg_constraint con ON d.classoid = 'pg_constraint'::regclass AND con.oid = d.objoid \
         WHERE (c.oid IS NOT NULL AND c.relnamespace = 'public'::regnamespace) OR con.connamespace = 'public'::regnamespace",
    ];
    let mut lines = vec![];
    for q in queries {
        for row in client.query(q, &[]).expect(q) {
            lines.push(row.get::<_, String>(0));
        }
    }
    lines.sort();
    lines
}

/// The current transaction id; every catalog or data row written after it has a
/// larger `xmin`.
pub fn txid(client: &mut postgres::Client) -> i64 {
    client
        .query_one("SELECT txid_current()", &[])
        .unwrap()
        .get(0)
}

/// Catalog rows (and rows of `tables`) written by transactions after `since`.
pub fn written_since(client: &mut postgres::Client, since: i64, tables: &[&str]) -> Vec<String> {
    let mut out = vec![];
    for catalog in [
        "pg_class",
        "pg_attribute",
        "pg_attrdef",
        "pg_constraint",
        "pg_type",
        "pg_enum",
        "pg_trigger",
        "pg_proc",
        "pg_description",
        "pg_index",
        "pg_depend",
    ] {
        let sql =
            format!("SELECT count(*) FROM pg_catalog.{catalog} WHERE xmin::text::int8 > {since}");
        let n: i64 = client.query_one(&sql, &[]).unwrap().get(0);
        if n > 0 {
            out.push(format!("{catalog}: {n}"));
        }
    }
    for table in tables {
        let sql = format!("SELECT count(*) FROM \"{table}\" WHERE xmin::text::int8 > {since}");
        let n: i64 = client.query_one(&sql, &[]).unwrap().get(0);
        if n > 0 {
            out.push(format!("{table}: {n}"));
        }
    }
    out
}

/// An application directory with the parts of the demo's `deploy.yaml` that need no
/// RIOS tables: `people` and the seven `rexmart_dynamic_assessment*` CSV files.
pub fn demo_app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(FIXTURES).join("rex.mart_demo");
    let text = std::fs::read_to_string(src.join("deploy.yaml")).unwrap();
    let people_end = text.find("\n- data: ./deploy/subject.csv").unwrap();
    let mut deploy = text[..people_end + 1].to_string();
    for line in text
        .lines()
        .filter(|l| l.starts_with("- data: ./deploy/rexmart_dynamic"))
    {
        deploy.push_str(line);
        deploy.push('\n');
    }
    std::fs::write(dir.path().join("deploy.yaml"), deploy).unwrap();
    std::fs::create_dir(dir.path().join("deploy")).unwrap();
    for entry in std::fs::read_dir(src.join("deploy")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(
            entry.path(),
            dir.path().join("deploy").join(entry.file_name()),
        )
        .unwrap();
    }
    dir
}

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(FIXTURES).join(rel)
}

/// Loads a YAML document from text (origin `<unicode string>`).
pub fn yaml(text: &str) -> harness::deploy::yaml::Node {
    harness::deploy::yaml::load_str(text, "<unicode string>").unwrap()
}
