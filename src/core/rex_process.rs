//! Running `rex TASK ...` as a child process, as rex.ctl's `Ctl` does: this
//! executable called `rex`, standard input from a text, standard output and error
//! gathered in one file, the exit status checked against an expected one. Used by
//! the transcripts' `rex.ctl` binding, by rex.asynctask's `ctl_executor` worker and
//! by `asynctask-workers` (the children it supervises die with it).

use crate::core::{Error, Result};
use std::io::{Read, Seek, Write};
use std::process::{Child, Command, Stdio};

/// A started `rex` process.
pub struct RexProcess {
    /// The arguments after `rex`.
    pub cmd: Vec<String>,
    child: Child,
    out: std::fs::File,
}

impl RexProcess {
    /// Starts `rex CMD...` with `input` on standard input, `env` added to and
    /// `remove` taken from the environment.
    pub fn start(
        cmd: &[String],
        input: &str,
        env: &[(&str, String)],
        remove: &[&str],
    ) -> std::io::Result<RexProcess> {
        let exe = std::env::current_exe()?;
        let mut stdin = tempfile::tempfile()?;
        stdin.write_all(input.as_bytes())?;
        stdin.rewind()?;
        let out = tempfile::tempfile()?;
        let mut command = Command::new(exe);
        std::os::unix::process::CommandExt::arg0(&mut command, "rex");
        command
            .args(cmd)
            .stdin(Stdio::from(stdin))
            .stdout(Stdio::from(out.try_clone()?))
            .stderr(Stdio::from(out.try_clone()?));
        // What the starting thread's transcript set in `os.environ` (core::env).
        crate::core::env::apply(&mut command);
        for (k, v) in env {
            command.env(k, v);
        }
        for k in remove {
            command.env_remove(k);
        }
        die_with_parent(&mut command);
        Ok(RexProcess {
            cmd: cmd.to_vec(),
            child: command.spawn()?,
            out,
        })
    }

    /// Sends SIGINT (rex.ctl's `Ctl.stop()`).
    pub fn interrupt(&self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGINT);
        }
    }

    /// Waits for the exit and returns the output; an exit status other than
    /// `expect` is rex.ctl's "Received unexpected exit code:" error.
    pub fn wait(mut self, expect: Option<i64>) -> Result<String> {
        let status = self
            .child
            .wait()
            .map_err(|e| Error::with("Cannot wait for the process:", e))?;
        let mut bytes = Vec::new();
        let _ = self.out.rewind();
        let _ = self.out.read_to_end(&mut bytes);
        let output = String::from_utf8_lossy(&bytes).into_owned();
        // os.waitpid's status >> 8: a death by signal reads as 0.
        let code = i64::from(status.code().unwrap_or(0));
        match expect {
            Some(expect) if code != expect => {
                let mut cmdline = vec!["rex".to_string()];
                cmdline.extend(self.cmd.iter().cloned());
                Err(Error::with(
                    "Received unexpected exit code:",
                    format!("expected {expect}; got {code}"),
                )
                .wrap_with("With output:", &output)
                .wrap_with("From:", list2cmdline(&cmdline)))
            }
            _ => Ok(output),
        }
    }
}

/// The child gets SIGTERM when the thread that started it ends (a transcript that
/// never waited for a `Ctl`, an `asynctask-workers` killed with SIGKILL): no
/// process outlives its caller.
pub fn die_with_parent(command: &mut Command) {
    // SAFETY: prctl(2) is async-signal-safe; the closure touches no other state.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(command, || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
}

/// `shlex.split` (POSIX mode): whitespace-separated words, quotes and backslashes.
pub fn shlex_split(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => cur.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('\\' | '"' | '$' | '`' | '\n') => cur.push(c),
                            c => {
                                cur.push('\\');
                                cur.push(c);
                            }
                        },
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.push(chars.next()?);
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

/// `subprocess.list2cmdline`.
pub fn list2cmdline(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            let needs = a.is_empty() || a.contains([' ', '\t']);
            let mut out = String::new();
            if needs {
                out.push('"');
            }
            let mut backslashes = 0;
            for c in a.chars() {
                match c {
                    '\\' => backslashes += 1,
                    '"' => {
                        out.push_str(&"\\".repeat(backslashes * 2 + 1));
                        out.push('"');
                        backslashes = 0;
                    }
                    c => {
                        out.push_str(&"\\".repeat(backslashes));
                        backslashes = 0;
                        out.push(c);
                    }
                }
            }
            out.push_str(&"\\".repeat(if needs { backslashes * 2 } else { backslashes }));
            if needs {
                out.push('"');
            }
            out
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shlex_and_list2cmdline_as_python() {
        assert_eq!(
            shlex_split(r#"a --set='x={"a": 1}' "b c" d\ e"#).unwrap(),
            vec!["a", r#"--set=x={"a": 1}"#, "b c", "d e"]
        );
        assert_eq!(shlex_split("'open"), None);
        assert_eq!(
            list2cmdline(&["rex".into(), "a b".into(), "x\"y".into(), "".into()]),
            r#"rex "a b" x\"y """#
        );
    }
}
