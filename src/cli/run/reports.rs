//! Machine-readable reports of a run: JUnit XML (`--junit FILE`, a test case per
//! example) and JSON (`--json FILE`, one record per example).

use crate::doctest::Status;

/// One file's outcome as the reports need it.
pub struct FileReport {
    pub display: String,
    pub seconds: f64,
    pub outcome: FileOutcome,
}

pub enum FileOutcome {
    /// Examples ran: one entry per example (first source line, record).
    Ran(Vec<(String, crate::doctest::Record)>),
    /// The file could not be used: `file:line: message`.
    Unusable(String),
}

/// XML attribute / text escaping (newlines kept as character references in
/// attributes so that they survive attribute-value normalisation).
fn xml(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// The JUnit XML document: a `<testsuite>` per file, a `<testcase>` per example
/// (`name` = `line N: first source line`, `file`, `line`, `time`), the failure report
/// as the `<failure>` message and text; an unusable file is one `<error>` case.
pub fn junit(files: &[FileReport], seconds: f64) -> String {
    let mut body = String::new();
    let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    for f in files {
        let file = xml(&f.display, true);
        let mut cases = String::new();
        let (mut t, mut fl, mut er, mut sk) = (0, 0, 0, 0);
        match &f.outcome {
            FileOutcome::Unusable(message) => {
                t += 1;
                er += 1;
                cases.push_str(&format!(
                    "    <testcase classname=\"{file}\" name=\"{file}\" file=\"{file}\" time=\"0.000\">\n      <error message=\"{}\">{}</error>\n    </testcase>\n",
                    xml(message, true),
                    xml(message, false)
                ));
            }
            FileOutcome::Ran(records) => {
                for (source, r) in records {
                    t += 1;
                    let name = xml(&format!("line {}: {source}", r.line), true);
                    let head = format!(
                        "    <testcase classname=\"{file}\" name=\"{name}\" file=\"{file}\" line=\"{}\" time=\"{:.3}\"",
                        r.line, r.seconds
                    );
                    match r.status {
                        Status::Passed => cases.push_str(&format!("{head}/>\n")),
                        Status::Failed | Status::TimedOut => {
                            fl += 1;
                            cases.push_str(&format!(
                                "{head}>\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                                xml(&r.report, true),
                                xml(&r.report, false)
                            ));
                        }
                        Status::Skipped | Status::NotRun => {
                            sk += 1;
                            let why = if r.status == Status::Skipped {
                                "SKIP"
                            } else {
                                "not run: an earlier example timed out"
                            };
                            cases.push_str(&format!(
                                "{head}>\n      <skipped message=\"{why}\"/>\n    </testcase>\n"
                            ));
                        }
                    }
                }
            }
        }
        body.push_str(&format!(
            "  <testsuite name=\"{file}\" tests=\"{t}\" failures=\"{fl}\" errors=\"{er}\" skipped=\"{sk}\" time=\"{:.3}\">\n{cases}  </testsuite>\n",
            f.seconds
        ));
        tests += t;
        failures += fl;
        errors += er;
        skipped += sk;
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"harness run\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{seconds:.3}\">\n{body}</testsuites>\n"
    )
}

/// The JSON report: an array with one object per example (`file`, `line`, `source`,
/// `status`: passed/failed/skipped/not run, `seconds`, `report`), and one per
/// unusable file (`status`: `error`, `report`: the message).
pub fn json(files: &[FileReport]) -> String {
    let mut records = Vec::new();
    for f in files {
        match &f.outcome {
            FileOutcome::Unusable(message) => records.push(serde_json::json!({
                "file": f.display,
                "line": null,
                "source": null,
                "status": "error",
                "seconds": f.seconds,
                "report": message,
            })),
            FileOutcome::Ran(examples) => {
                for (source, r) in examples {
                    records.push(serde_json::json!({
                        "file": f.display,
                        "line": r.line,
                        "source": source,
                        "status": r.status.name(),
                        "seconds": r.seconds,
                        "report": r.report,
                    }));
                }
            }
        }
    }
    let mut text =
        serde_json::to_string_pretty(&serde_json::Value::Array(records)).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            xml("a<b>&\"c\"\n", true),
            "a&lt;b&gt;&amp;&quot;c&quot;&#10;"
        );
        assert_eq!(xml("a\"\n\x01", false), "a\"\n\\x01");
    }
}
