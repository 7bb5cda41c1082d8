//! The parser against CPython's `DocTestParser` on thousands of generated
//! transcripts: same examples (source, want, expected exception message, line,
//! directives) or the same refusal on the same line. Deliberate differences, made
//! on the CPython side before comparing: a badly indented `...` line and an option
//! directive on a comment-only example are reported on their own line (CPython is
//! one line short for both).

use std::io::Write;
use std::process::{Command, Stdio};

use harness::doctest::{parse, Flags};

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

const INDENTS: &[&str] = &["", "", "    ", "    ", "  ", "\t", "     ", "   "];
const PROMPTS: &[&str] = &[">>> ", ">>> ", "... ", "", "", "", ">>>", "...", ">>>  "];
const BODIES: &[&str] = &[
    "x = 1",
    "print(x)",
    "",
    "# comment",
    "f()  # doctest: +ELLIPSIS",
    "g()  # doctest: +NORMALIZE_WHITESPACE, -ELLIPSIS",
    "h()  # doctest: +SKIP +REPORT_NDIFF",
    "# doctest: +ELLIPSIS",
    "'# doctest: +ELLIPSIS'",
    "k()  # doctest: +BOGUS",
    "Traceback (most recent call last):",
    "Traceback (innermost last):  ",
    "ValueError: message",
    "  File \"x\", line 1",
    "rex.core.Error: a",
    "<BLANKLINE>",
    "...",
    "prose text",
    "é☃",
    "  ",
];

fn transcript(rng: &mut Rng) -> String {
    let n = 1 + (rng.next() % 12) as usize;
    let mut t = String::new();
    for _ in 0..n {
        t.push_str(rng.pick(INDENTS));
        t.push_str(rng.pick(PROMPTS));
        t.push_str(rng.pick(BODIES));
        t.push_str(if rng.next().is_multiple_of(7) {
            "\r\n"
        } else {
            "\n"
        });
    }
    t
}

/// One line per transcript from CPython: JSON of examples or of the error line.
fn cpython(texts: &[String]) -> Vec<serde_json::Value> {
    let script = r#"
import sys, json, re, doctest
names = {v: k for k, v in doctest.OPTIONFLAGS_BY_NAME.items()}
class Parser(doctest.DocTestParser):
    # CPython numbers a badly indented `...` line from the `>>>` line (one too
    # low); the harness names the offending line itself.
    def _check_prefix(self, lines, prefix, name, lineno):
        if prefix.endswith('.'):
            lineno += 1
        return super()._check_prefix(lines, prefix, name, lineno)
p = Parser()
out = []
for text in json.load(sys.stdin):
    text = text.replace('\r\n', '\n').replace('\r', '\n')
    try:
        exs = p.get_examples(text)
        out.append({'ok': [[e.source, e.want, e.exc_msg, e.lineno,
                            sorted([names[f], v] for f, v in e.options.items())] for e in exs]})
    except ValueError as err:
        m = str(err)
        line = int(re.match(r"line (\d+) of", m).group(1))
        if 'option directive on a line with no example' in m:
            line += 1   # CPython reports this one 0-based
        out.append({'err': line})
json.dump(out, sys.stdout)
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = serde_json::to_string(texts).unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ours(text: &str) -> serde_json::Value {
    match parse(text) {
        Ok(examples) => {
            let exs: Vec<serde_json::Value> = examples
                .iter()
                .map(|e| {
                    // CPython keeps one entry per flag: the last directive wins.
                    let mut opts: Vec<(String, bool)> = Vec::new();
                    for d in &e.options {
                        let name = Flags::NAMES.iter().find(|(_, f)| *f == d.flag).unwrap().0;
                        opts.retain(|(n, _)| n != name);
                        opts.push((name.to_string(), d.on));
                    }
                    opts.sort();
                    serde_json::json!([e.source, e.want, e.exc_msg, e.lineno, opts])
                })
                .collect();
            serde_json::json!({ "ok": exs })
        }
        Err(e) => serde_json::json!({ "err": e.line }),
    }
}

#[test]
fn parser_agrees_with_cpython() {
    let mut rng = Rng(2024);
    let texts: Vec<String> = (0..20000).map(|_| transcript(&mut rng)).collect();
    let expected = cpython(&texts);
    let mut errors = 0;
    for (text, exp) in texts.iter().zip(&expected) {
        let got = ours(text);
        assert_eq!(&got, exp, "transcript:\n{text}");
        errors += usize::from(exp.get("err").is_some());
    }
    // Both kinds of input were exercised.
    assert!(errors > 500 && errors < 19500, "{errors} refusals");
}
