//! ETL throughput: `/narrow{code, name} :as narrow_copy /:rexdb /:insert` moving
//! narrow rows from an application database into a mart, next to `COPY ... TO STDOUT`
//! piped into `COPY ... FROM STDIN` between the same two databases in the same run.
//!
//! Stable Rust has no `#[bench]`, so the measurement is an ignored test of this bench
//! target. Run it (release build, real PostgreSQL in `HARNESS_PG_URL`):
//! `cargo test --release --bench htsql_etl -- --ignored --nocapture`
//! Rows: `HTSQL_BENCH_ROWS` (default 1,000,000).

use harness::htsql::produce_etl;

use harness::pg::testing::ScratchDb;
use std::io::{Read, Write};
use std::time::Instant;

const NARROW: &str =
    "CREATE TABLE {t} (id serial UNIQUE, code int8 PRIMARY KEY, name text NOT NULL)";

#[test]
#[ignore]
fn etl_insert_vs_copy_pipe() {
    let rows: i64 = std::env::var("HTSQL_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let app_db = ScratchDb::new("htsql_bench_app");
    let mart_db = ScratchDb::new("htsql_bench_mart");
    let mut app = app_db.connect();
    let mut mart = mart_db.connect();
    app.batch_execute(&NARROW.replace("{t}", "narrow")).unwrap();
    app.execute(
        "INSERT INTO narrow (code, name) SELECT g, 'name-' || g FROM generate_series(1, $1::int8) g",
        &[&rows],
    )
    .unwrap();
    app.batch_execute("ANALYZE narrow").unwrap();
    for t in ["narrow_copy", "narrow_pipe"] {
        mart.batch_execute(&NARROW.replace("{t}", t)).unwrap();
    }

    // COPY pipe: stream the text format from one connection into the other.
    let start = Instant::now();
    {
        let mut reader = app.copy_out("COPY narrow (code, name) TO STDOUT").unwrap();
        let mut writer = mart
            .copy_in("COPY narrow_pipe (code, name) FROM STDIN")
            .unwrap();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            writer.write_all(&buf[..n]).unwrap();
        }
        writer.finish().unwrap();
    }
    let copy_secs = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let p = produce_etl(
        &mut mart,
        &mut app,
        "/narrow{code, name} :as narrow_copy /:rexdb /:insert",
        &[],
    )
    .unwrap();
    let htsql_secs = start.elapsed().as_secs_f64();
    assert_eq!(p.len() as i64, rows);
    let n: i64 = mart
        .query_one("SELECT count(*) FROM narrow_copy", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, rows);

    // The read half alone, to see where the time goes.
    let start = Instant::now();
    let p = harness::htsql::produce(&mut app, "/narrow{code, name}", &[]).unwrap();
    let fetch_secs = start.elapsed().as_secs_f64();
    assert_eq!(p.len() as i64, rows);
    drop(p);
    println!("HTSQL fetch alone: {fetch_secs:.2} s");

    let copy_rate = rows as f64 / copy_secs;
    let htsql_rate = rows as f64 / htsql_secs;
    println!("rows: {rows}");
    println!("COPY pipe:    {copy_secs:8.2} s  {copy_rate:12.0} rows/s");
    println!("HTSQL ETL:    {htsql_secs:8.2} s  {htsql_rate:12.0} rows/s");
    println!("ratio HTSQL/COPY: {:.2}x", htsql_rate / copy_rate);
}
