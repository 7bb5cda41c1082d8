//! Tracebacks against CPython's `traceback.format_exception` (3.11), with the
//! driver's own frame and the `^~~` position markers removed (documented
//! differences): layout, frames, source lines and exception chaining match.

use harness::script::Interpreter;
use std::io::Write;
use std::process::{Command, Stdio};

const DRIVER: &str = r#"
import sys, json, linecache, traceback, re, io, contextlib
examples = json.loads(sys.stdin.read())
g = {'__name__': '__main__'}
out = []
for i, src in enumerate(examples):
    name = '<doctest t[%d]>' % i
    linecache.cache[name] = (len(src), None, src.splitlines(True), name)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(src, name, 'single'), g)
        out.append('')
    except BaseException as e:
        text = ''.join(traceback.format_exception(e))
        lines = []
        for line in text.splitlines(True):
            # the driver's own frame (it has no source line)
            if line.startswith('  File "<string>"'):
                continue
            if re.fullmatch(r'\s*[\^~]+\s*', line):
                continue
            lines.append(line)
        out.append(''.join(lines))
print(json.dumps(out))
"#;

fn python(examples: &[String]) -> Option<Vec<String>> {
    let mut child = Command::new("python3")
        .args(["-c", DRIVER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    child
        .stdin
        .take()?
        .write_all(serde_json::to_string(examples).ok()?.as_bytes())
        .ok()?;
    let out = child.wait_with_output().ok()?;
    serde_json::from_slice(&out.stdout).ok()
}

#[test]
fn tracebacks_match_cpython() {
    if Command::new("python3").arg("-V").output().is_err() {
        eprintln!("python3 unavailable: skipping");
        return;
    }
    let examples: Vec<String> = [
        "1 / 0\n",
        "def f(x):\n    return g(x) + 1\n",
        "def g(x):\n    if x:\n        raise ValueError('bad %d' % x)\n    return 0\n",
        "f(3)\n",
        "try:\n    f(1)\nexcept ValueError as e:\n    raise RuntimeError('wrapped') from e\n",
        "try:\n    {}['k']\nexcept KeyError:\n    undefined_name\n",
        "try:\n    f(2)\nexcept ValueError:\n    raise TypeError('no context') from None\n",
        "raise ValueError('x') from KeyError('y')\n",
        "class E(Exception):\n    pass\n",
        "def h():\n    try:\n        raise E('inner')\n    finally:\n        print('cleanup')\n",
        "h()\n",
        "[f(i) for i in range(3)]\n",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let expected = python(&examples).expect("the CPython driver must produce JSON");
    let mut it = Interpreter::new();
    let mut failures = Vec::new();
    for (i, src) in examples.iter().enumerate() {
        let o = it.run_example(src, &format!("<doctest t[{i}]>")).unwrap();
        let got = o.exception.map(|r| r.traceback).unwrap_or_default();
        if got != expected[i] {
            failures.push(format!(
                "--- {src}--- CPython:\n{}--- ours:\n{got}",
                expected[i]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
