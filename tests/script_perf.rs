//! Speed check against CPython's doctest on a generated 2,000-example transcript.
//! Ignored by default (timing-sensitive); run with `cargo test --release --test
//! script_perf -- --ignored --nocapture`.

use harness::script::Interpreter;
use std::time::Instant;

fn examples() -> Vec<(String, String)> {
    let mut out = Vec::new();
    out.push((
        "def fmt(rows):\n    return ', '.join('%s=%r' % (k, v) for k, v in sorted(rows.items()))\n"
            .to_string(),
        String::new(),
    ));
    out.push(("class Rec:\n    def __init__(self, **kw):\n        self.__dict__.update(kw) if False else [setattr(self, k, v) for k, v in kw.items()]\n    def total(self):\n        return sum(v for v in [self.a, self.b] if v)\n".to_string(), String::new()));
    for i in 0..1998 {
        let src = match i % 6 {
            0 => format!("d{i} = {{'a': {i}, 'b': [1, 2, 3], 'c': 'x{i}'}}\n"),
            1 => format!("fmt(d{})\n", i - 1),
            2 => format!("r = Rec(a={i}, b={})\n", i * 2),
            3 => "r.total()\n".to_string(),
            4 => format!("print('Job #%s: status=%s, dates=%s' % ({i}, 'ok', ','.join([x for x in ['S', None, 'C'] if x])))\n"),
            _ => format!("[x * x for x in range(20) if x % 3 == {}][:3]\n", i % 3),
        };
        out.push((src, String::new()));
    }
    out
}

#[test]
#[ignore]
fn faster_than_cpython_doctest() {
    let ex = examples();
    // our side (expected outputs are not checked here; script_diff covers correctness)
    let start = Instant::now();
    let mut it = Interpreter::new();
    for (i, (src, _)) in ex.iter().enumerate() {
        let o = it
            .run_example(src, &format!("<doctest perf[{i}]>"))
            .unwrap();
        assert!(o.exception.is_none(), "{src}: {:?}", o.exception);
    }
    let ours = start.elapsed();
    // CPython doctest on the same examples, output taken from our run as "want"
    let mut it = Interpreter::new();
    let mut text = String::new();
    for (i, (src, _)) in ex.iter().enumerate() {
        let o = it
            .run_example(src, &format!("<doctest perf[{i}]>"))
            .unwrap();
        for (j, line) in src.lines().enumerate() {
            text.push_str(if j == 0 { ">>> " } else { "... " });
            text.push_str(line);
            text.push('\n');
        }
        text.push_str(&o.output);
        text.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("perf.txt");
    std::fs::write(&path, &text).unwrap();
    let start = Instant::now();
    let status = std::process::Command::new("python3")
        .args(["-m", "doctest"])
        .arg(&path)
        .status()
        .unwrap();
    let cpython = start.elapsed();
    assert!(
        status.success(),
        "CPython doctest disagrees with our outputs"
    );
    eprintln!(
        "ours: {ours:?}, CPython doctest: {cpython:?}, ratio {:.3}",
        ours.as_secs_f64() / cpython.as_secs_f64()
    );
}
