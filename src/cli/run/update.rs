//! `harness run --update`: bless the expected output of failing examples with what
//! they printed. Examples that passed keep their expected output as written (with
//! its `...`, `<BLANKLINE>` and spacing); an example that raised gets the shape
//! doctest matches: the traceback header, an indented `...`, and the exception line.
//! Examples that timed out or did not run are left alone.

use std::path::Path;

use crate::doctest::parse::universal_newlines;
use crate::doctest::{Example, Record, Status};

/// The expected output that would make `record` pass, unindented.
fn blessed_want(record: &Record) -> String {
    if let Some(raised) = &record.exception {
        return format!(
            "Traceback (most recent call last):\n  ...\n{}",
            raised.exception_only()
        );
    }
    let mut want = String::new();
    for line in record.output.lines() {
        if line.trim().is_empty() {
            want.push_str("<BLANKLINE>\n");
        } else {
            want.push_str(line);
            want.push('\n');
        }
    }
    want
}

/// The file's text with the failing examples' expected output replaced, and the
/// lines (1-based) of the examples that changed.
pub fn blessed(text: &str, examples: &[Example], records: &[Record]) -> (String, Vec<usize>) {
    let text = universal_newlines(text);
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let mut changed = Vec::new();
    // From the end, so that earlier line numbers stay valid.
    for record in records.iter().rev() {
        if record.status != Status::Failed {
            continue;
        }
        let example = &examples[record.index];
        let start = example.lineno + example.source.lines().count();
        let old = example.want.lines().count();
        let indent = " ".repeat(example.indent);
        let new: Vec<String> = blessed_want(record)
            .lines()
            .map(|l| format!("{indent}{l}"))
            .collect();
        if start + old > lines.len() {
            continue;
        }
        lines.splice(start..start + old, new);
        changed.push(record.line);
    }
    changed.reverse();
    (lines.join("\n"), changed)
}

/// Rewrites `path` (or, with `dry_run`, shows the diff); returns what to print.
pub fn update(
    path: &Path,
    display: &str,
    text: &str,
    examples: &[Example],
    records: &[Record],
    dry_run: bool,
) -> String {
    let (new, changed) = blessed(text, examples, records);
    if changed.is_empty() {
        return String::new();
    }
    let word = if changed.len() == 1 { "line" } else { "lines" };
    let lines = changed
        .iter()
        .map(|l| l.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if dry_run {
        let old = universal_newlines(text);
        let diff = similar::TextDiff::from_lines(&old, &new);
        let mut out = diff
            .unified_diff()
            .header(display, &format!("{display} (updated)"))
            .to_string();
        out.push_str(&format!(
            "{display}: would update the expected output of the examples at {word} {lines} (--dry-run: nothing written)\n"
        ));
        return out;
    }
    match std::fs::write(path, new) {
        Ok(()) => {
            format!("{display}: updated the expected output of the examples at {word} {lines}\n")
        }
        Err(e) => format!("{display}: cannot update: {e}\n"),
    }
}
