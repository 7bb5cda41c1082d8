//! `rex.core.Error`: a list of paragraphs, the original message first and each
//! "While ..." context after it. `Display` is exactly rex's `str(error)`, because
//! users see it in logs, job `status_detail` columns and doctest transcripts.

use std::fmt;

/// One paragraph: a message and an optional payload printed below it, indented.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paragraph {
    pub message: String,
    pub payload: Option<String>,
}

impl fmt::Display for Paragraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        let Some(payload) = &self.payload else {
            return Ok(());
        };
        f.write_str("\n")?;
        let lines = python_splitlines(payload);
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            if !line.is_empty() {
                write!(f, "    {line}")?;
            }
        }
        Ok(())
    }
}

/// The error every domain function returns. Build it with [`Error::new`] or
/// [`Error::with`], add context with [`Error::wrap`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub paragraphs: Vec<Paragraph>,
    /// The traceback of the script exception this error stands for (application
    /// code), printed by [`Error::traceback`] instead of the one-line stand-in.
    pub script_traceback: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with a message and no payload.
    pub fn new(message: impl Into<String>) -> Error {
        Error {
            paragraphs: vec![Paragraph {
                message: message.into(),
                payload: None,
            }],
            script_traceback: None,
        }
    }

    /// An error with a message and a payload (printed indented by 4 spaces).
    pub fn with(message: impl Into<String>, payload: impl fmt::Display) -> Error {
        Error {
            paragraphs: vec![Paragraph {
                message: message.into(),
                payload: Some(payload.to_string()),
            }],
            script_traceback: None,
        }
    }

    /// The same error, raised in script code with this traceback (ending in "\n").
    pub fn with_script_traceback(mut self, traceback: impl Into<String>) -> Error {
        self.script_traceback = Some(traceback.into());
        self
    }

    /// Appends a context paragraph without a payload.
    pub fn wrap(mut self, message: impl Into<String>) -> Error {
        self.paragraphs.push(Paragraph {
            message: message.into(),
            payload: None,
        });
        self
    }

    /// Appends a context paragraph with a payload, e.g. `While creating Mart database:`.
    pub fn wrap_with(mut self, message: impl Into<String>, payload: impl fmt::Display) -> Error {
        self.paragraphs.push(Paragraph {
            message: message.into(),
            payload: Some(payload.to_string()),
        });
        self
    }

    /// The first paragraph's message.
    pub fn message(&self) -> &str {
        &self.paragraphs[0].message
    }

    /// The text Python's `traceback.print_exception` gives for this error raised in
    /// `function`: what `logger.exception(...)` appends below its message. One stack
    /// line stands for the Rust call stack, which users cannot act on.
    pub fn traceback(&self, function: &str) -> String {
        if let Some(tb) = &self.script_traceback {
            return tb.trim_end_matches('\n').to_string();
        }
        format!(
            "Traceback (most recent call last):\n  File \"harness\", line 1, in {function}\nrex.core.Error: {self}"
        )
    }

    /// What Python prints for this error uncaught in a `rex` task (frames left out);
    /// a database error surfaces as the HTSQL engine error it was raised from.
    pub fn uncaught_traceback(&self) -> String {
        const HEAD: &str = "Traceback (most recent call last):\n";
        let mut out = String::new();
        if self.message() == "Got an error from the database driver:" {
            out.push_str(HEAD);
            out.push_str(&format!(
                "htsql.core.error.EngineError: {}\n\n\
The above exception was the direct cause of the following exception:\n\n",
                self.paragraphs[0]
            ));
        }
        out.push_str(HEAD);
        out.push_str(&format!("rex.core.Error: {self}\n"));
        out
    }

    /// The error as a long-lived worker records and logs it: every line of its
    /// messages, payloads and traceback longer than a few hundred characters is cut
    /// to its start and its length (a rejected 120 KB payload is not quoted whole).
    pub fn bounded(&self) -> Error {
        let lines = super::repr::excerpt_lines;
        Error {
            paragraphs: self
                .paragraphs
                .iter()
                .map(|p| Paragraph {
                    message: lines(&p.message),
                    payload: p.payload.as_deref().map(lines),
                })
                .collect(),
            script_traceback: self.script_traceback.as_deref().map(lines),
        }
    }

    /// rex's `repr(error)`: `Error('m', 'p').wrap('m2', 'p2')`.
    pub fn repr(&self) -> String {
        let mut out = String::new();
        for (i, p) in self.paragraphs.iter().enumerate() {
            out.push_str(if i == 0 { "Error(" } else { ".wrap(" });
            out.push_str(&super::repr::py_str_repr(&p.message));
            if let Some(payload) = &p.payload {
                out.push_str(", ");
                out.push_str(&super::repr::py_str_repr(payload));
            }
            out.push(')');
        }
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.paragraphs.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            p.fmt(f)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Error {
        Error::new(pg_text(&e))
    }
}

/// The text of a client error: a server error keeps the server's text, the way
/// psycopg's `str(exc)` reads; any other error carries its causes ("error connecting
/// to server: Connection refused (os error 111)"), which the client's own `Display`
/// leaves out.
pub fn pg_text(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.message().to_string();
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::new(e.to_string())
    }
}

/// Runs `f` and wraps an escaping error with context, like rex's `guard(...)`.
pub fn guard<T>(message: &str, payload: Option<&str>, f: impl FnOnce() -> Result<T>) -> Result<T> {
    f().map_err(|e| match payload {
        Some(p) => e.wrap_with(message, p),
        None => e.wrap(message),
    })
}

/// Python's `str.splitlines()`: splits on every line boundary Python knows and drops
/// one trailing line break (no empty last line).
pub fn python_splitlines(s: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let is_break = matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if is_break {
            lines.push(&s[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r' {
                if let Some(&(j, '\n')) = chars.peek() {
                    chars.next();
                    end = j + 1;
                }
            }
            start = end;
        }
    }
    if start < s.len() {
        lines.push(&s[start..]);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_paragraphs_like_rex() {
        let e = Error::with("Found no product:", "beer")
            .wrap_with("While looking in:", "refrigerator #3");
        assert_eq!(
            e.to_string(),
            "Found no product:\n    beer\nWhile looking in:\n    refrigerator #3"
        );
        assert_eq!(
            e.repr(),
            "Error('Found no product:', 'beer').wrap('While looking in:', 'refrigerator #3')"
        );
    }

    #[test]
    fn payload_blank_lines_stay_empty_and_context_without_payload() {
        let e = Error::with("m:", "a\n\nb\n").wrap("While executing Post-Deployment Scripts");
        assert_eq!(
            e.to_string(),
            "m:\n    a\n\n    b\nWhile executing Post-Deployment Scripts"
        );
        assert_eq!(Error::with("m:", "").to_string(), "m:\n");
    }

    #[test]
    fn splitlines_matches_python() {
        assert_eq!(python_splitlines("a\r\nb\rc\n"), vec!["a", "b", "c"]);
        assert_eq!(python_splitlines(""), Vec::<&str>::new());
        assert_eq!(python_splitlines("\n"), vec![""]);
    }
}
