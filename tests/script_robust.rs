//! Robustness: the lexer, parser and evaluator never panic or overflow the stack,
//! whatever the input (random bytes, token soups, deep nesting, runaway recursion).

use harness::script::{parser, Interpreter};

/// A small deterministic PRNG (xorshift) so failures reproduce.
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

const TOKENS: &[&str] = &[
    "x",
    "y",
    "f",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    ".",
    "=",
    "==",
    "+",
    "-",
    "*",
    "**",
    "/",
    "//",
    "%",
    "<",
    ">",
    "not",
    "and",
    "or",
    "if",
    "else",
    "elif",
    "for",
    "in",
    "while",
    "def",
    "class",
    "return",
    "lambda",
    "yield",
    "try",
    "except",
    "finally",
    "with",
    "as",
    "import",
    "from",
    "pass",
    "break",
    "continue",
    "del",
    "global",
    "raise",
    "assert",
    "1",
    "2.5",
    "'s'",
    "\"t\"",
    "f'{x}'",
    "b'b'",
    "None",
    "True",
    "\n",
    "\n    ",
    "\n        ",
    ";",
    "\\\n",
    "#c\n",
    "@",
    "...",
    "*args",
    "**kw",
    "'''",
    "async",
    "await",
    ":=",
    "->",
];

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    for _ in 0..3000 {
        let len = (rng.next() % 60) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| (rng.next() % 128) as u8).collect();
        let text = String::from_utf8_lossy(&bytes);
        let _ = parser::parse(&text);
    }
}

#[test]
fn token_soups_never_panic_and_run_safely() {
    let mut rng = Rng(12345);
    let mut it = Interpreter::new();
    for i in 0..4000 {
        let n = (rng.next() % 25) as usize;
        let src: String = (0..n).map(|_| format!("{} ", rng.pick(TOKENS))).collect();
        if parser::parse(&src).is_ok() {
            // parsed programs must run without panicking (errors are fine)
            let _ = it.run_example(&src, &format!("<fuzz[{i}]>"));
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
    assert!(parser::parse(&deep).is_err());
    let deep = format!("{}1", "-".repeat(5000));
    assert!(parser::parse(&deep).is_err());
    let deep = format!("{}1", "not ".repeat(5000));
    assert!(parser::parse(&deep).is_err());
    let mut nested = String::new();
    for i in 0..300 {
        nested.push_str(&" ".repeat(i));
        nested.push_str("if x:\n");
    }
    assert!(parser::parse(&nested).is_err());
}

#[test]
fn runaway_recursion_is_a_recursion_error() {
    let mut it = Interpreter::new();
    it.run_example("def f(n):\n    return f(n + 1)\n", "<t[0]>")
        .unwrap();
    let o = it.run_example("f(0)\n", "<t[1]>").unwrap();
    assert_eq!(o.exception.unwrap().type_name, "RecursionError");
    it.run_example("def g(n):\n    return g(n - 1) + 1 if n else 0\n", "<t[2]>")
        .unwrap();
    // Depth available depends on the thread's stack (2 MiB for test threads).
    let o = it.run_example("g(50)\n", "<t[3]>").unwrap();
    assert_eq!(o.output, "50\n");
    let o = it
        .run_example("l = []\nfor i in range(100000): l = [l]\n", "<t[4]>")
        .unwrap_err();
    assert!(o.message.contains("multiple statements"));
    it.run_example("l = []\n", "<t[5]>").unwrap();
    it.run_example("for i in range(100000): l = [l]\n", "<t[6]>")
        .unwrap();
    let o = it.run_example("repr(l)\n", "<t[7]>").unwrap();
    assert_eq!(o.exception.unwrap().type_name, "RecursionError");
    let o = it.run_example("l == l[0]\n", "<t[8]>").unwrap();
    assert!(o.exception.is_some() || o.output == "False\n");
    let o = it
        .run_example("m = [1]; m.append(m); m\n", "<t[9]>")
        .unwrap();
    assert_eq!(o.output, "[1, [...]]\n");
}

#[test]
fn recursion_depth_is_usable_on_small_stacks() {
    let mut it = Interpreter::new();
    it.run_example("n = 0\n", "<t>").unwrap();
    it.run_example("def d():\n    global n\n    n += 1\n    d()\n", "<t>")
        .unwrap();
    let o = it.run_example("d()\n", "<t>").unwrap();
    assert_eq!(o.exception.unwrap().type_name, "RecursionError");
    let o = it.run_example("n\n", "<t>").unwrap();
    // a 2 MiB test thread reaches a few hundred levels in a debug build
    let depth: usize = o.output.trim().parse().unwrap();
    assert!(depth >= 200, "depth {depth}");
}

const ATOMS: &[&str] = &[
    "0",
    "1",
    "-1",
    "4611686018427387904",
    "-9223372036854775807",
    "1.5",
    "-0.0",
    "float('nan')",
    "float('inf')",
    "'ab'",
    "''",
    "'é€'",
    "b'x'",
    "[]",
    "[1, 'a']",
    "()",
    "(1,)",
    "{}",
    "{'a': 1}",
    "{1, 2}",
    "None",
    "True",
    "range(3)",
    "len",
    "str",
    "int",
    "Exception('e')",
    "object()",
    "slice(1)",
    "iter([1])",
    "10 ** 9",
    "'%s'",
    "'{}'",
    "'{0[",
    "'%(x)s'",
    "99999999999",
    "-5",
];

const CALLS: &[&str] = &[
    "len",
    "str",
    "repr",
    "int",
    "float",
    "bool",
    "list",
    "tuple",
    "dict",
    "set",
    "sorted",
    "reversed",
    "enumerate",
    "zip",
    "range",
    "min",
    "max",
    "sum",
    "any",
    "all",
    "abs",
    "round",
    "divmod",
    "pow",
    "isinstance",
    "hasattr",
    "getattr",
    "setattr",
    "type",
    "iter",
    "next",
    "map",
    "filter",
    "hash",
    "chr",
    "ord",
    "hex",
    "oct",
    "bin",
    "callable",
    "format",
    "vars",
    "dir",
    "bytes",
    "print",
    "open",
];

const METHODS: &[&str] = &[
    "join",
    "split",
    "rsplit",
    "splitlines",
    "strip",
    "startswith",
    "endswith",
    "replace",
    "upper",
    "format",
    "find",
    "index",
    "count",
    "center",
    "ljust",
    "zfill",
    "partition",
    "encode",
    "decode",
    "append",
    "extend",
    "insert",
    "pop",
    "remove",
    "sort",
    "reverse",
    "copy",
    "clear",
    "keys",
    "values",
    "items",
    "get",
    "setdefault",
    "update",
    "popitem",
    "add",
    "discard",
    "union",
    "intersection",
    "difference",
    "issubset",
    "isdisjoint",
    "expandtabs",
    "bit_length",
    "is_integer",
    "__add__",
    "__getitem__",
    "__init__",
    "__repr__",
    "__str__",
    "__eq__",
    "__len__",
    "fromkeys",
    "title",
];

const OPS: &[&str] = &[
    "+", "-", "*", "/", "//", "%", "**", "<<", ">>", "&", "|", "^", "<", "==", "in", "is", "and",
    "or",
];

#[test]
fn random_builtin_calls_never_panic() {
    let mut rng = Rng(777);
    let mut it = Interpreter::new();
    for i in 0..6000 {
        let a = rng.pick(ATOMS);
        let b = rng.pick(ATOMS);
        let c = rng.pick(ATOMS);
        let src = match rng.next() % 4 {
            0 => format!("{}({a}, {b})\n", rng.pick(CALLS)),
            1 => format!("({a}).{}({b}, {c})\n", rng.pick(METHODS)),
            2 => format!("({a}) {} ({b})\n", rng.pick(OPS)),
            _ => format!("{}({a})[{b}:{c}]\n", rng.pick(CALLS)),
        };
        let _ = it.run_example(&src, &format!("<gen[{i}]>"));
        let src = format!("({a}).{}()\n", rng.pick(METHODS));
        let _ = it.run_example(&src, &format!("<gen0[{i}]>"));
        let src = format!("'%s %d %r %5.2f %(k)s %*d' % ({a}, {b})\n");
        let _ = it.run_example(&src, &format!("<fmt[{i}]>"));
        let src = format!(
            "'{{}} {{:>{}}} {{0!r:{}}}'.format({a}, {b})\n",
            rng.next() % 12,
            rng.pick(&["", "x", ">5", ".2f", ",", "#x", "+08.3"])
        );
        let _ = it.run_example(&src, &format!("<sfmt[{i}]>"));
    }
    // huge allocations are MemoryError, not an abort
    for src in [
        "[0] * (10 ** 12)\n",
        "'x' * (10 ** 12)\n",
        "list(range(10 ** 12))\n",
        "'{:999999999999}'.format(1)\n",
        "'x'.center(10 ** 12)\n",
    ] {
        let o = it.run_example(src, "<big>").unwrap();
        assert!(o.exception.is_some(), "{src}");
    }
}

#[test]
fn cyclic_data_is_an_error_not_a_crash() {
    let mut it = Interpreter::new();
    it.run_example("l = [1]\n", "<t>").unwrap();
    it.run_example("l.append(l)\n", "<t>").unwrap();
    it.run_example("m = [1]\n", "<t>").unwrap();
    it.run_example("m.append(m)\n", "<t>").unwrap();
    it.run_example("import json, pprint\n", "<t>").unwrap();
    for src in [
        "json.dumps(l)\n",
        "pprint.pprint(l)\n",
        "l < m\n",
        "l == m\n",
    ] {
        let o = it.run_example(src, "<t>").unwrap();
        assert!(o.exception.is_some(), "{src}");
    }
    let o = it.run_example("l\n", "<t>").unwrap();
    assert_eq!(o.output, "[1, [...]]\n");
}

/// Pieces random JSON-ish documents are built from: valid tokens, near misses
/// and the characters the decoder treats specially.
const JSON_PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\",
    "\\u",
    "\\ud83d",
    "\\ude00",
    "\\x",
    "a",
    "0",
    "1",
    "-",
    "+",
    ".",
    "e",
    "E",
    "9223372036854775808",
    "1e400",
    "null",
    "true",
    "false",
    "NaN",
    "Infinity",
    "-Infinity",
    " ",
    "\n",
    "\t",
    "\r",
    "\u{1}",
    "\u{feff}",
    "é",
    "😀",
    "\"k\":",
    "[1,",
    "{\"a\":",
    "nul",
    "tru",
];

/// `json.loads` never panics, whatever the text: it returns a value or raises.
#[test]
fn random_json_never_panics() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut it = Interpreter::new();
    it.run_example("import json\n", "<t>").unwrap();
    for i in 0..3000 {
        let doc: String = if i % 2 == 0 {
            let n = (rng.next() % 20) as usize;
            (0..n).map(|_| rng.pick(JSON_PIECES)).collect()
        } else {
            let len = (rng.next() % 40) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| (rng.next() % 128) as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        // hand the text over as a Python string literal of code points
        let lit: String = doc
            .chars()
            .map(|c| format!("\\U{:08x}", c as u32))
            .collect();
        let src = format!("json.loads('{lit}')\n");
        let o = it
            .run_example(&src, &format!("<json[{i}]>"))
            .unwrap_or_else(|e| panic!("{src}: {}", e.message));
        if let Some(e) = &o.exception {
            assert!(
                [
                    "json.decoder.JSONDecodeError",
                    "ValueError",
                    "OverflowError",
                    "RecursionError"
                ]
                .contains(&e.type_name.as_str()),
                "{src}: {}",
                e.type_name
            );
        }
        // bytes go through the UTF-8 decoding first
        let bytes: String = doc.bytes().map(|b| format!("\\x{b:02x}")).collect();
        let src = format!("json.loads(b'{bytes}')\n");
        let _ = it.run_example(&src, &format!("<jsonb[{i}]>"));
    }
    // deep nesting is a RecursionError, not a crash
    for open in ["[", "{\"a\":"] {
        let src = format!("json.loads('{}')\n", open.repeat(5000));
        let o = it.run_example(&src, "<deep>").unwrap();
        assert_eq!(o.exception.unwrap().type_name, "RecursionError", "{open}");
    }
}
