//! Report texts, character for character CPython's `DocTestRunner` /
//! `OutputChecker.output_difference`, plus the harness's own summary lines.

use similar::udiff::UnifiedHunkHeader;
use similar::DiffOp;

use super::flags::Flags;
use super::parse::Example;

/// The divider that opens each failure block: 70 `*`.
pub const DIVIDER: &str = "**********************************************************************";

/// `_indent`: four spaces before every non-empty line.
pub fn indent(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for (k, line) in s.split('\n').enumerate() {
        if k > 0 {
            out.push('\n');
        }
        if !line.is_empty() {
            out.push_str("    ");
        }
        out.push_str(line);
    }
    out
}

/// `Trying:` / `Expecting:` lines of verbose mode.
pub fn start(example: &Example) -> String {
    if example.want.is_empty() {
        format!("Trying:\n{}Expecting nothing\n", indent(&example.source))
    } else {
        format!(
            "Trying:\n{}Expecting:\n{}",
            indent(&example.source),
            indent(&example.want)
        )
    }
}

/// `_failure_header`: divider, location, `Failed example:` and the source.
pub fn failure_header(filename: &str, name: &str, example: &Example) -> String {
    format!(
        "{DIVIDER}\nFile \"{filename}\", line {}, in {name}\nFailed example:\n{}",
        example.lineno + 1,
        indent(&example.source)
    )
}

/// The block for an unexpected exception.
pub fn unexpected_exception(header: &str, traceback: &str) -> String {
    format!("{header}Exception raised:\n{}", indent(traceback))
}

/// `re.sub('(?m)^[ ]*(?=\n)', '<BLANKLINE>', got)`: space-only lines followed by a
/// newline are shown as `<BLANKLINE>`.
fn mark_blanklines(got: &str) -> String {
    let parts: Vec<&str> = got.split('\n').collect();
    let last = parts.len() - 1;
    parts
        .iter()
        .enumerate()
        .map(|(k, line)| {
            if k < last && line.bytes().all(|b| b == b' ') {
                "<BLANKLINE>"
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `str.splitlines(keepends=True)` for `\n`-terminated text.
fn lines_keepends(s: &str) -> Vec<&str> {
    s.split_inclusive('\n').collect()
}

fn fancy_diff(want: &str, got: &str, flags: Flags) -> bool {
    if !flags.has(Flags::REPORT_UDIFF | Flags::REPORT_CDIFF | Flags::REPORT_NDIFF) {
        return false;
    }
    if flags.has(Flags::REPORT_NDIFF) {
        return true;
    }
    want.matches('\n').count() > 2 && got.matches('\n').count() > 2
}

/// `output_difference`: Expected/Got (or nothing), or a diff when a diff flag asks.
pub fn output_difference(want: &str, got: &str, flags: Flags) -> String {
    let got = if flags.has(Flags::DONT_ACCEPT_BLANKLINE) {
        got.to_string()
    } else {
        mark_blanklines(got)
    };
    if fancy_diff(want, &got, flags) {
        let (kind, body) = if flags.has(Flags::REPORT_UDIFF) {
            (
                "unified diff with -expected +actual",
                unified_diff(want, &got),
            )
        } else if flags.has(Flags::REPORT_CDIFF) {
            (
                "context diff with expected followed by actual",
                context_diff(want, &got),
            )
        } else {
            let (w, g) = (lines_keepends(want), lines_keepends(&got));
            (
                "ndiff with -expected +actual",
                super::difflib::ndiff(&w, &g).concat(),
            )
        };
        return format!("Differences ({kind}):\n{}", indent(&body));
    }
    match (want.is_empty(), got.is_empty()) {
        (false, false) => format!("Expected:\n{}Got:\n{}", indent(want), indent(&got)),
        (false, true) => format!("Expected:\n{}Got nothing\n", indent(want)),
        (true, false) => format!("Expected nothing\nGot:\n{}", indent(&got)),
        (true, true) => "Expected nothing\nGot nothing\n".to_string(),
    }
}

/// Hunks of `difflib.SequenceMatcher` opcodes with two lines of context, grouped
/// by `similar` (the same rule as `get_grouped_opcodes(2)`).
fn hunks(want: &[&str], got: &[&str]) -> Vec<Vec<DiffOp>> {
    similar::group_diff_ops(super::difflib::line_ops(want, got), 2)
}

/// `difflib.unified_diff(want, got, n=2)` without its two file header lines.
fn unified_diff(want: &str, got: &str) -> String {
    let (w, g) = (lines_keepends(want), lines_keepends(got));
    let mut out = String::new();
    for group in hunks(&w, &g) {
        out.push_str(&format!("{}\n", UnifiedHunkHeader::new(&group)));
        for op in &group {
            let (old, new) = (op.old_range(), op.new_range());
            match op {
                DiffOp::Equal { .. } => push_lines(&mut out, " ", &w[old]),
                _ => {
                    push_lines(&mut out, "-", &w[old]);
                    push_lines(&mut out, "+", &g[new]);
                }
            }
        }
    }
    out
}

/// `difflib.context_diff(want, got, n=2)` without its two file header lines.
fn context_diff(want: &str, got: &str) -> String {
    let (w, g) = (lines_keepends(want), lines_keepends(got));
    let mut out = String::new();
    for group in hunks(&w, &g) {
        let (first, last) = (group[0], group[group.len() - 1]);
        out.push_str("***************\n");
        let old = first.old_range().start..last.old_range().end;
        let new = first.new_range().start..last.new_range().end;
        out.push_str(&format!("*** {} ****\n", context_range(old.start, old.end)));
        let changes_old = group
            .iter()
            .any(|op| matches!(op, DiffOp::Replace { .. } | DiffOp::Delete { .. }));
        if changes_old {
            for op in &group {
                let prefix = match op {
                    DiffOp::Equal { .. } => "  ",
                    DiffOp::Replace { .. } => "! ",
                    DiffOp::Delete { .. } => "- ",
                    DiffOp::Insert { .. } => continue,
                };
                push_lines(&mut out, prefix, &w[op.old_range()]);
            }
        }
        out.push_str(&format!("--- {} ----\n", context_range(new.start, new.end)));
        let changes_new = group
            .iter()
            .any(|op| matches!(op, DiffOp::Replace { .. } | DiffOp::Insert { .. }));
        if changes_new {
            for op in &group {
                let prefix = match op {
                    DiffOp::Equal { .. } => "  ",
                    DiffOp::Replace { .. } => "! ",
                    DiffOp::Insert { .. } => "+ ",
                    DiffOp::Delete { .. } => continue,
                };
                push_lines(&mut out, prefix, &g[op.new_range()]);
            }
        }
    }
    out
}

fn push_lines(out: &mut String, prefix: &str, lines: &[&str]) {
    for line in lines {
        out.push_str(prefix);
        out.push_str(line);
    }
}

fn context_range(start: usize, stop: usize) -> String {
    let mut beginning = start + 1;
    let length = stop - start;
    if length == 0 {
        beginning -= 1;
    }
    if length <= 1 {
        format!("{beginning}")
    } else {
        format!("{},{}", beginning, beginning + length - 1)
    }
}

/// Counts of one file or of the whole run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Tally {
    pub fn add(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }
}

impl std::fmt::Display for Tally {
    /// `N passed, N failed` plus `, N skipped` when examples were skipped.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} passed, {} failed", self.passed, self.failed)?;
        if self.skipped > 0 {
            write!(f, ", {} skipped", self.skipped)?;
        }
        Ok(())
    }
}

/// ANSI colouring, applied only when the caller decided colour is wanted (a
/// terminal, and no `NO_COLOR`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Paint {
    pub enabled: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.enabled && !s.is_empty() {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    pub fn red(&self, s: &str) -> String {
        self.wrap("31", s)
    }

    pub fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }

    pub fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }

    /// Colour a failure block: the divider red, diff `-`/`+` lines red/green.
    pub fn failure(&self, block: &str) -> String {
        if !self.enabled {
            return block.to_string();
        }
        let mut in_diff = false;
        block
            .split_inclusive('\n')
            .map(|line| {
                if line.starts_with("Differences (") {
                    in_diff = true;
                }
                let body = line.strip_suffix('\n').unwrap_or(line);
                let nl = if line.ends_with('\n') { "\n" } else { "" };
                let removed = in_diff && body.starts_with("    -");
                let painted = if line.starts_with(DIVIDER) || removed {
                    self.red(body)
                } else if in_diff && body.starts_with("    +") {
                    self.green(body)
                } else {
                    body.to_string()
                };
                painted + nl
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indent_skips_empty_lines() {
        assert_eq!(indent("a\n\nb\n"), "    a\n\n    b\n");
    }

    #[test]
    fn difference_texts() {
        assert_eq!(
            output_difference("1\n", "2\n", Flags::NONE),
            "Expected:\n    1\nGot:\n    2\n"
        );
        assert_eq!(
            output_difference("", "a\n\nb\n", Flags::NONE),
            "Expected nothing\nGot:\n    a\n    <BLANKLINE>\n    b\n"
        );
        assert_eq!(
            output_difference("", "", Flags::NONE),
            "Expected nothing\nGot nothing\n"
        );
    }

    #[test]
    fn udiff_like_difflib() {
        let d = output_difference("a\nb\nc\nd\n", "a\nB\nc\nd\n", Flags::REPORT_UDIFF);
        assert_eq!(
            d,
            "Differences (unified diff with -expected +actual):\n    @@ -1,4 +1,4 @@\n     a\n    -b\n    +B\n     c\n     d\n"
        );
    }

    #[test]
    fn tally_line() {
        let t = Tally {
            passed: 3,
            failed: 1,
            skipped: 0,
        };
        assert_eq!(t.to_string(), "3 passed, 1 failed");
        let t = Tally {
            passed: 3,
            failed: 0,
            skipped: 2,
        };
        assert_eq!(t.to_string(), "3 passed, 0 failed, 2 skipped");
    }
}

#[cfg(test)]
mod paint_tests {
    use super::*;

    #[test]
    fn colour_only_when_enabled() {
        let block = format!("{DIVIDER}\nDifferences (unified diff):\n    -a\n    +b\n");
        assert_eq!(Paint { enabled: false }.failure(&block), block);
        let painted = Paint { enabled: true }.failure(&block);
        assert!(painted.contains("\x1b[31m    -a\x1b[0m\n"));
        assert!(painted.contains("\x1b[32m    +b\x1b[0m\n"));
        assert!(painted.starts_with("\x1b[31m*"));
    }
}
