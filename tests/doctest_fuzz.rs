//! Robustness: random bytes (and random mixtures of doctest syntax) never make the
//! parser, checker or report code panic.

use harness::doctest::{
    check_output, ellipsis_match, parse, report, run_examples, Executor, Flags, Invalid, Outcome,
    Raised, RunOptions,
};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    ">>> ",
    ">>>",
    "... ",
    "...",
    "\n",
    "\n\n",
    "    ",
    "  ",
    "\t",
    "\r\n",
    "\r",
    "x = 1",
    "print(1)",
    "# doctest: +ELLIPSIS",
    "# doctest: -SKIP, +NORMALIZE_WHITESPACE",
    "#doctest:+BOGUS",
    "Traceback (most recent call last):",
    "ValueError: x",
    "<BLANKLINE>",
    "é",
    "☃",
    "\u{1F600}",
    "'",
    "\"",
    "#",
    ":",
    ".",
    "a",
    "1",
    " ",
    "...é",
    "    >>> x\n...é",
    ">>>☃",
    "  ...\u{1F600}",
];

/// Echoes the source back as output, and raises when it says so.
struct Echo;

impl Executor for Echo {
    fn run(&mut self, source: &str, _name: &str) -> Result<Outcome, Invalid> {
        let exception = source.contains('a').then(|| Raised {
            type_name: "ValueError".into(),
            message: source.trim().into(),
            traceback: format!("Traceback (most recent call last):\nValueError: {source}"),
        });
        Ok(Outcome {
            output: source.to_string(),
            exception,
        })
    }
}

fn exercise(text: &str, rng: &mut Rng) {
    if let Ok(examples) = parse(text) {
        let flags = Flags((rng.next() & 0x7ff) as u32);
        let opts = RunOptions {
            flags,
            verbose: rng.below(2) == 0,
            ..Default::default()
        };
        let mut out = Vec::new();
        run_examples(
            "fuzz.txt", "fuzz.txt", &examples, &mut Echo, &opts, &mut out,
        )
        .unwrap();
        for ex in &examples {
            let _ = report::output_difference(&ex.want, &ex.source, flags);
        }
    }
    let (a, b) = text.split_at(
        text.char_indices()
            .nth(text.chars().count() / 2)
            .map_or(0, |(i, _)| i),
    );
    let _ = check_output(a, b, Flags((rng.next() & 0x3f) as u32));
    let _ = ellipsis_match(a, b);
}

#[test]
fn random_bytes_do_not_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        exercise(&text, &mut rng);
    }
}

#[test]
fn random_doctest_syntax_does_not_panic() {
    let mut rng = Rng(42);
    for _ in 0..20000 {
        let n = rng.below(40);
        let text: String = (0..n).map(|_| PIECES[rng.below(PIECES.len())]).collect();
        exercise(&text, &mut rng);
    }
}
