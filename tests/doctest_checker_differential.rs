//! The output checker against CPython's `OutputChecker.check_output` and
//! `_strip_exception_details` on generated want/got pairs under random flags:
//! ELLIPSIS edge cases (leading/trailing/consecutive `...`, overlapping prefix and
//! suffix), <BLANKLINE>, white space, True/1, non-ASCII.

use std::io::Write;
use std::process::{Command, Stdio};

use harness::doctest::{check::strip_exception_details, check_output, Flags};

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

const WANT: &[&str] = &[
    "a",
    "b",
    "ab",
    "...",
    "...",
    " ",
    "  ",
    "\n",
    "\n",
    "<BLANKLINE>",
    "\t",
    "é",
    "\\xe9",
    "True",
    "1",
    "0",
    "False",
    ".",
    "..",
    "x.y",
    ":",
    "Error",
    "rex.core.Error: m",
];
const GOT: &[&str] = &[
    "a", "b", "ab", " ", "  ", "\n", "\n", "\t", "é", "True", "1", "False", "0", ".", "..", "...",
    "x.y", ":", "Error", "\u{2603}", "\x0c",
];

fn piece_string(rng: &mut Rng, pieces: &[&str]) -> String {
    let n = (rng.next() % 7) as usize;
    let mut s: String = (0..n).map(|_| rng.pick(pieces)).collect();
    if !rng.next().is_multiple_of(3) && !s.is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

#[test]
fn checker_agrees_with_cpython() {
    let mut rng = Rng(77);
    let cases: Vec<(String, String, u32)> = (0..20000)
        .map(|_| {
            let want = piece_string(&mut rng, WANT);
            // Half the time, derive got from want so that matches are common.
            let got = if rng.next().is_multiple_of(2) {
                want.replace("...", rng.pick(GOT))
                    .replace("<BLANKLINE>", "")
            } else {
                piece_string(&mut rng, GOT)
            };
            (want, got, (rng.next() & 0x3f) as u32)
        })
        .collect();
    let script = r#"
import sys, json, doctest
c = doctest.OutputChecker()
out = []
for want, got, flags in json.load(sys.stdin):
    out.append([c.check_output(want, got, flags), doctest._strip_exception_details(want)])
json.dump(out, sys.stdout)
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = serde_json::to_string(&cases).unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let expected: Vec<(bool, String)> = serde_json::from_slice(&out.stdout).unwrap();
    let mut matches = 0;
    for ((want, got, flags), (exp, stripped)) in cases.iter().zip(expected) {
        let ours = check_output(want, got, Flags(*flags));
        assert_eq!(ours, exp, "want={want:?} got={got:?} flags={flags:#x}");
        assert_eq!(strip_exception_details(want), stripped, "{want:?}");
        matches += usize::from(ours);
    }
    assert!(matches > 2000 && matches < 18000, "{matches} matches");
}
