//! HTSQL error texts: paragraphs with a quote (HTSQL adds the colon and indents every
//! quote line), mark excerpts with carets, and the "Perhaps you had in mind" similarity
//! rule. Everything is rendered into `crate::core::Error`, whose Display then equals
//! HTSQL's `str(error)` character for character.

use crate::core::error::Paragraph;
use crate::core::Error;
use std::rc::Rc;

/// A span `[start, end)` (byte offsets) of the decoded statement text.
#[derive(Clone, Debug)]
pub struct Mark {
    pub text: Rc<str>,
    pub start: usize,
    pub end: usize,
}

impl Mark {
    /// `Mark.excerpt`: the first line the mark touches and a caret line under it.
    pub fn excerpt(&self) -> String {
        let text = &*self.text;
        let start = self.start.min(text.len());
        let end = self.end.clamp(start, text.len());
        let line_start = text[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let line_end = text[line_start..]
            .find('\n')
            .map(|i| i + line_start)
            .unwrap_or(text.len());
        let p_start = start.max(line_start);
        let p_end = end.min(line_end).max(p_start);
        let indent = text[line_start..p_start].chars().count();
        let carets = text[p_start..p_end].chars().count().max(1);
        format!(
            "{}\n{}{}",
            &text[line_start..line_end],
            " ".repeat(indent),
            "^".repeat(carets)
        )
    }
}

/// An HTSQL paragraph: `message:` + quote lines indented by 4, or `message` alone.
pub fn paragraph(message: &str, quote: Option<&str>) -> Paragraph {
    match quote {
        Some(q) => Paragraph {
            message: format!("{message}:"),
            payload: Some(q.to_string()),
        },
        None => Paragraph {
            message: message.to_string(),
            payload: None,
        },
    }
}

/// A new HTSQL error with one paragraph.
pub fn error(message: &str, quote: Option<&str>) -> Error {
    Error {
        paragraphs: vec![paragraph(message, quote)],
        script_traceback: None,
    }
}

/// Appends an HTSQL paragraph.
pub fn push(mut e: Error, message: &str, quote: Option<&str>) -> Error {
    e.paragraphs.push(paragraph(message, quote));
    e
}

const MARK_GUARDS: [&str; 3] = ["While parsing:", "While translating:", "While processing:"];

/// `MarkErrorGuard`: adds `<context>` + excerpt unless a mark is already quoted.
pub fn with_mark(e: Error, context: &str, mark: &Mark) -> Error {
    if e.paragraphs
        .iter()
        .any(|p| MARK_GUARDS.contains(&p.message.as_str()))
    {
        return e;
    }
    push(e, context, Some(&mark.excerpt()))
}

/// An error raised at a syntax node while binding.
pub fn translate_error(message: &str, quote: Option<&str>, mark: &Mark) -> Error {
    with_mark(error(message, quote), "While translating", mark)
}

/// HTSQL's `similar(model, sample)`: prefix rule, then OSA distance under a threshold.
pub fn similar(model: &str, sample: &str) -> bool {
    if model.is_empty() || sample.is_empty() {
        return false;
    }
    let m: Vec<char> = model.chars().collect();
    let s: Vec<char> = sample.chars().collect();
    if m.len() > 1 && sample.starts_with(model) {
        return true;
    }
    let threshold = 1 + m.len() / 5;
    if m.len().abs_diff(s.len()) > threshold {
        return false;
    }
    osa_distance(&m, &s) <= threshold
}

/// Optimal string alignment distance (adjacent transpositions cost 1).
fn osa_distance(a: &[char], b: &[char]) -> usize {
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_matches_htsql() {
        for s in ["first_name", "firstnam", "fristname", "first"] {
            assert!(similar(s, "firstname"), "{s}");
        }
        assert!(!similar("first_name", "lastname"));
        assert!(similar("nul", "null"));
        assert!(similar("jb", "job"));
        assert!(!similar("f", "firstname"));
    }

    #[test]
    fn excerpt_first_line_only() {
        let text: Rc<str> = "/people{upper(\n    firstname, 1)}".into();
        let m = Mark {
            text,
            start: 8,
            end: 30,
        };
        assert_eq!(m.excerpt(), "/people{upper(\n        ^^^^^^");
    }
}
