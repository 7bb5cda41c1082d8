//! Random and mutated deploy YAML: every input ends in Ok or a rex error, never a
//! panic, and a failed deploy leaves the database as it was.

mod deploy_support;

use deploy_support::{fixture, snapshot};
use harness::deploy::deploy;
use harness::pg::testing::ScratchDb;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "- ",
    ": ",
    "\n",
    "  ",
    "table",
    "column",
    "link",
    "identity",
    "data",
    "include",
    "sql",
    "alias",
    "with",
    "type",
    "of",
    "to",
    "default",
    "required",
    "present",
    "unique",
    "title",
    "reliable",
    "text",
    "integer",
    "json",
    "[a, b]",
    "{}",
    "[]",
    "false",
    "true",
    "null",
    "~",
    "x",
    "y.z",
    "offset",
    "random",
    "uuid",
    "|\n    a,b\n    1,2",
    "'",
    "\"",
    ",",
    ".",
    "now()",
    "today()",
    "-1",
    "1.5",
    "!include",
    "&a",
    "*a",
    "?",
    "#",
    "%",
    "\t",
    "é",
    "\\",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..=rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(4) {
            0 if !chars.is_empty() => {
                let end = (at + rng.below(12)).min(chars.len());
                chars.drain(at.min(end)..end);
            }
            1 => {
                let piece = PIECES[rng.below(PIECES.len())];
                for (i, c) in piece.chars().enumerate() {
                    chars.insert((at + i).min(chars.len()), c);
                }
            }
            2 if !chars.is_empty() => {
                let from = rng.below(chars.len());
                let len = rng.below(20).min(chars.len() - from);
                let copy: Vec<char> = chars[from..from + len].to_vec();
                for (i, c) in copy.into_iter().enumerate() {
                    chars.insert((at + i).min(chars.len()), c);
                }
            }
            _ => {
                if at < chars.len() {
                    chars[at] = PIECES[rng.below(PIECES.len())]
                        .chars()
                        .next()
                        .unwrap_or(' ');
                }
            }
        }
    }
    chars.into_iter().collect()
}

fn random_document(rng: &mut Rng) -> String {
    (0..rng.below(40))
        .map(|_| PIECES[rng.below(PIECES.len())])
        .collect()
}

#[test]
fn mutated_and_random_yaml_never_panics() {
    let db = ScratchDb::new("deploy_fuzz");
    let mut c = db.connect();
    let demo = fixture("rex.mart_demo");
    let seeds: Vec<String> = [
        "rex.job/deploy.yaml",
        "rex.mart/deploy.yaml",
        "rex.mart_demo/simple_deploy.yaml",
        "rex.mart_demo/simple_subject.yaml",
        "rex.mart_demo/deploy.yaml",
    ]
    .iter()
    .map(|p| std::fs::read_to_string(fixture(p)).unwrap())
    .collect();
    // DEPLOY_FUZZ_ROUNDS / DEPLOY_FUZZ_SEED run longer or different campaigns.
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let mut rng = Rng(env("DEPLOY_FUZZ_SEED", 0x9E3779B97F4A7C15) | 1);
    let (mut ok, mut failed) = (0, 0);
    for round in 0..env("DEPLOY_FUZZ_ROUNDS", 300) {
        let text = if round % 4 == 3 {
            random_document(&mut rng)
        } else {
            let seed = rng.below(seeds.len());
            mutate(&mut rng, &seeds[seed])
        };
        let Ok(node) = harness::core::yaml::load_str(&text, "<fuzz>") else {
            failed += 1;
            continue;
        };
        let before = snapshot(&mut c);
        match deploy(&mut c, &node, &demo) {
            Ok(()) => ok += 1,
            Err(e) => {
                failed += 1;
                assert!(!e.to_string().is_empty());
                assert_eq!(
                    snapshot(&mut c),
                    before,
                    "half-applied deploy of:\n{text}\n{e}"
                );
            }
        }
    }
    assert!(ok > 0 && failed > 0, "ok={ok} failed={failed}");
}
