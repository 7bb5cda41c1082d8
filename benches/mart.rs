//! Mart creation benchmark, next to what PostgreSQL alone needs on the same server
//! in the same run:
//! - an `empty` mart end to end (definition load, inventory, CREATE DATABASE, ETL
//!   phases, completion, quota) against a bare `CREATE DATABASE`;
//!   goal: p50 ≤ 2 × bare + 20 ms;
//! - a `copy` mart of a ~100 MB application database against
//!   `CREATE DATABASE ... TEMPLATE`; goal: p50 ≤ 1.2 × the clone.
//!
//! Run: `cargo test --bench mart -- --ignored --nocapture` (or `cargo bench --bench
//! mart` once the target has `harness = false`). `HARNESS_BENCH_N` sets the number of
//! rounds (default 11; the copy benchmark uses half, at least 3).

#[path = "../tests/mart/mod.rs"]
mod mart;

use harness::mart::{purge_mart, CreateOptions, MartCreator};
use harness::pg::quote_ident;
use harness::pg::testing::{server, ScratchDb};
use std::time::Instant;

fn p50(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// Times `CREATE DATABASE <name> [TEMPLATE t]` on an open maintenance session.
fn bare_create(admin: &mut postgres::Client, name: &str, template: Option<&str>) -> f64 {
    let mut sql = format!(
        "CREATE DATABASE {} WITH ENCODING = 'UTF-8'",
        quote_ident(name)
    );
    if let Some(t) = template {
        sql.push_str(&format!(" TEMPLATE = {}", quote_ident(t)));
    }
    let start = Instant::now();
    admin.batch_execute(&sql).expect("bare create");
    let took = ms(start);
    admin
        .batch_execute(&format!("DROP DATABASE {}", quote_ident(name)))
        .unwrap();
    took
}

/// Times one mart creation end to end, then purges it (untimed).
fn mart_create(t: &mart::TestApp, definition: &str) -> f64 {
    let start = Instant::now();
    let m = MartCreator::new(&t.app, "bench", definition)
        .and_then(|c| c.create(CreateOptions::default(), &[], &mut |_| {}))
        .expect("mart creation");
    let took = ms(start);
    purge_mart(&t.app, m.code).unwrap();
    took
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

#[allow(dead_code)]
fn main() {
    let n: usize = std::env::var("HARNESS_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(11);
    let mut admin = server().connect("postgres").unwrap();
    let bare_name = mart::unique("bench_bare_");

    // Empty mart vs bare CREATE DATABASE, interleaved so drift hits both alike.
    let source = ScratchDb::new("mart_bench_src");
    let yaml = format!(
        "definitions:\n  - id: empty\n    quota: {{per_owner: 100}}\n  - id: copy_big\n    quota: {{per_owner: 100}}\n    base: {{type: copy, target: {}}}\n",
        source.name
    );
    let mut t = mart::TestApp::with_definitions(&yaml, &[]);
    t.set("mart_max_marts_per_owner", serde_json::json!(1000));
    let (mut bare, mut empty) = (Vec::new(), Vec::new());
    mart_create(&t, "empty"); // warm-up
    for _ in 0..n {
        bare.push(bare_create(&mut admin, &bare_name, None));
        empty.push(mart_create(&t, "empty"));
    }
    let (b, e) = (p50(bare), p50(empty));
    println!(
        "empty mart: p50 {e:.1} ms; bare CREATE DATABASE: p50 {b:.1} ms (n={n}); goal ≤ 2×bare+20 = {:.1} ms: {}",
        2.0 * b + 20.0,
        verdict(e <= 2.0 * b + 20.0)
    );

    // Copy mart of a ~100 MB database vs CREATE DATABASE ... TEMPLATE.
    source
        .connect()
        .batch_execute(
            "CREATE TABLE big AS SELECT g AS id, md5(g::text) || repeat('x', 60) AS pad \
             FROM generate_series(1, 750000) AS g; CHECKPOINT;",
        )
        .unwrap();
    let size: i64 = admin
        .query_one("SELECT pg_database_size($1)", &[&source.name])
        .unwrap()
        .get(0);
    let rounds = n.max(3);
    let (mut clone, mut copy) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        clone.push(bare_create(&mut admin, &bare_name, Some(&source.name)));
        copy.push(mart_create(&t, "copy_big"));
    }
    let (cl, cp) = (p50(clone), p50(copy));
    println!(
        "copy mart of {} MB: p50 {cp:.1} ms; CREATE DATABASE TEMPLATE: p50 {cl:.1} ms (n={rounds}); goal ≤ 1.2×clone = {:.1} ms: {}",
        size / 1_000_000,
        1.2 * cl,
        verdict(cp <= 1.2 * cl)
    );
}

#[test]
#[ignore = "benchmark: run with --ignored --nocapture"]
fn benchmark() {
    main();
}
