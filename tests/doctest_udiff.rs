//! REPORT_UDIFF / REPORT_CDIFF texts against CPython's `OutputChecker
//! .output_difference` on many inputs. (With `similar`'s own Myers matching only
//! about half of random inputs gave CPython's text, which is why the line matching
//! is difflib's SequenceMatcher, ported in `doctest::difflib`.)

use std::io::Write;
use std::process::{Command, Stdio};

use harness::doctest::{report::output_difference, Flags};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn difflib(pairs: &[(String, String)], flag: &str) -> Vec<String> {
    let script = r#"
import sys, json, doctest
flag = getattr(doctest, sys.argv[1])
pairs = json.load(sys.stdin)
c = doctest.OutputChecker()
class E: pass
out = []
for want, got in pairs:
    e = E(); e.want = want
    out.append(c.output_difference(e, got, flag))
json.dump(out, sys.stdout)
"#;
    let mut child = Command::new("python3")
        .args(["-c", script, flag])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = serde_json::to_string(pairs).unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn lines(rng: &mut Rng, n: usize, alphabet: &[&str]) -> String {
    (0..n)
        .map(|_| {
            format!(
                "{}\n",
                alphabet[(rng.next() % alphabet.len() as u64) as usize]
            )
        })
        .collect()
}

#[test]
fn single_edits_agree_with_difflib() {
    let base: Vec<String> = (0..12).map(|i| format!("line {i}\n")).collect();
    let mut pairs = Vec::new();
    for k in 0..12 {
        let mut changed = base.clone();
        changed[k] = format!("LINE {k}\n");
        pairs.push((base.concat(), changed.concat()));
        let mut deleted = base.clone();
        deleted.remove(k);
        pairs.push((base.concat(), deleted.concat()));
        let mut inserted = base.clone();
        inserted.insert(k, "new\n".to_string());
        pairs.push((base.concat(), inserted.concat()));
    }
    compare(&pairs);
}

fn compare(pairs: &[(String, String)]) {
    for (name, flag) in [
        ("REPORT_UDIFF", Flags::REPORT_UDIFF),
        ("REPORT_CDIFF", Flags::REPORT_CDIFF),
        ("REPORT_NDIFF", Flags::REPORT_NDIFF),
    ] {
        let expected = difflib(pairs, name);
        for ((want, got), exp) in pairs.iter().zip(expected) {
            assert_eq!(
                output_difference(want, got, flag),
                exp,
                "{name}: {want:?} {got:?}"
            );
        }
    }
}

#[test]
fn random_diffs_agree_with_difflib() {
    let mut rng = Rng(7);
    let alphabet = ["a", "b", "c", "d", "e", "f", "g", "h"];
    let pairs: Vec<(String, String)> = (0..400)
        .map(|_| {
            let n = 3 + (rng.next() % 8) as usize;
            let m = 3 + (rng.next() % 8) as usize;
            (lines(&mut rng, n, &alphabet), lines(&mut rng, m, &alphabet))
        })
        .collect();
    compare(&pairs);
}

#[test]
fn similar_lines_agree_with_difflib() {
    // Lines that differ by a few characters make ndiff pair them up and print `?`
    // guide lines (and exercise SequenceMatcher's junk handling of spaces and tabs).
    let mut rng = Rng(99);
    let chars = ['a', 'b', 'c', ' ', '\t', 'x'];
    let word = |rng: &mut Rng| -> String {
        let n = 1 + (rng.next() % 9) as usize;
        (0..n)
            .map(|_| chars[(rng.next() % chars.len() as u64) as usize])
            .collect()
    };
    let pairs: Vec<(String, String)> = (0..300)
        .map(|_| {
            let n = 1 + (rng.next() % 5) as usize;
            let want: Vec<String> = (0..n).map(|_| word(&mut rng)).collect();
            let got: Vec<String> = want
                .iter()
                .map(|w| {
                    if rng.next().is_multiple_of(2) {
                        w.clone()
                    } else {
                        format!("{w}{}", word(&mut rng))
                    }
                })
                .collect();
            (
                want.iter().map(|l| format!("{l}\n")).collect(),
                got.iter().map(|l| format!("{l}\n")).collect(),
            )
        })
        .collect();
    compare(&pairs);
}
