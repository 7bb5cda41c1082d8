//! HTSQL's shell (`htsql-ctl shell`), which rex's `mart-shell` opens on a mart: its
//! commands (`help`, `exit`, `user`, `describe`, `headers`, `pager`, `get`, `post`,
//! `run`), their messages (`** ...`), the `<database>$ ` prompt on a terminal, and
//! queries answered as HTSQL's web gateway answers them (a text table, or the
//! error text of a `400`), the status line and headers shown after `headers on`.
//! `version` is left out: it prints HTSQL's own version and license, which this
//! program is not.

use crate::core::repr::py_str_repr;
use std::io::{BufRead, Write};

/// A shell command: name, aliases, signature, hint, help (HTSQL's texts).
struct Cmd {
    name: &'static str,
    aliases: &'static [&'static str],
    signature: &'static str,
    hint: &'static str,
    help: &'static str,
}

const QUERY_OUTPUT_HELP: &str =
    "The output of the query is dumped to the console.  When the pager is
enabled and the number of lines in the response body exceeds the height
of the terminal, the output is displayed via the pager.  Use `pager off`
to disable the pager.

By default, the command does not dump the response status line and the
headers.  To enable displaying the status line and the headers along
with the response body, use `headers on`.";

const COMMANDS: &[Cmd] = &[
    Cmd {
        name: "help",
        aliases: &["?"],
        signature: "help [command]",
        hint: "describe the shell or a shell command",
        help: "Type `help` to learn how to use the shell and to get a list of available
commands.

Type `help <command>` to learn how to use the specified command.",
    },
    Cmd {
        name: "exit",
        aliases: &["quit", "q"],
        signature: "exit",
        hint: "quit the shell",
        help: "Type `exit` or Ctrl-D to quit the shell.",
    },
    Cmd {
        name: "user",
        aliases: &[],
        signature: "user [remote_user]",
        hint: "set the remote user for HTTP requests",
        help: "To set the remote user for HTTP requests, type `user <name>`.

To unset the remote user for HTTP requests, type `user`.",
    },
    Cmd {
        name: "describe",
        aliases: &[],
        signature: "describe [name]",
        hint: "describe a database entity",
        help: "Type `describe` to list the content of the database.

Type `describe <table>` to describe a table and list table
attributes.

Typ `describe <table>.<column>` or `describe <table>.<link>`
to describe a table attribute.",
    },
    Cmd {
        name: "headers",
        aliases: &[],
        signature: "headers on|off",
        hint: "display HTTP status line and headers",
        help: "Type `headers on` to enable output of HTTP status line and headers along
with any HTTP response body.

Type `headers off` to disable output of HTTP status line and headers.
Only HTTP response body will be displayed.",
    },
    Cmd {
        name: "pager",
        aliases: &[],
        signature: "pager on|off",
        hint: "pipe long output to a pager",
        help: "Type `pager on` or `pager off` to enable or disable the pager
respectively.

If the pager is enabled, and the number of lines in the HTTP response
exceeds the height of the terminal, the response is displayed via the
pager.

The pager is a command which allows you to scroll and search in the
output.  The pager application is determined by the environment variable
$PAGER.  When $PAGER is not set, one of the common pagers such as
`/usr/bin/more` is used if available.  The pager could only be enabled
when the shell is running in a terminal.",
    },
    Cmd {
        name: "get",
        aliases: &[""],
        signature: "[get] /query",
        hint: "execute an HTSQL query",
        help: "Type `get /query` or just `/query` to execute an HTSQL query.\n\n",
    },
    Cmd {
        name: "post",
        aliases: &[],
        signature: "post filename /query",
        hint: "execute an HTSQL query with POST data",
        help: "Type `post filename /query` or `post filename content-type /query` to
execute an HTSQL query with POST data.

The content of the POST request is read from the file `filename`.  You
can optionally specify the content type of the POST data as a second
parameter.  If content type is not specified, it is deduced from the
file extension.\n\n",
    },
    Cmd {
        name: "run",
        aliases: &[],
        signature: "run filename.htsql",
        hint: "run an HTSQL query from a file",
        help: "Type `run filename.htsql` to load and execute an HTSQL query from a file.

The command reads an HTSQL query from the given file and executes it as
a GET request.\n\n",
    },
];

const USAGE: &str = "To execute an HTSQL query, type

    /query

To execute a shell command, type

    command [arguments...]";

const INTRO: &str = "Type 'help' for more information, 'exit' to quit the shell.";

/// Pagers tried when `$PAGER` is not set, as HTSQL tries them.
const DEFAULT_PAGERS: &[&str] = &[
    "/bin/less -S",
    "/usr/bin/less -S",
    "/usr/local/bin/less -S",
    "/bin/more",
];

fn find(name: &str) -> Option<&'static Cmd> {
    COMMANDS
        .iter()
        .find(|c| c.name == name || c.aliases.contains(&name))
}

/// A response as HTSQL's WSGI application gives it.
struct Response {
    status: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
}

/// The shell on one database.
pub struct Shell<'a> {
    client: &'a mut postgres::Client,
    /// HTSQL's name of the database (`PGSQL:///mart_x`), for `describe`.
    db_title: String,
    /// The prompt's name.
    database: String,
    interactive: bool,
    with_headers: bool,
    with_pager: bool,
    pager: Option<String>,
    remote_user: Option<String>,
}

impl<'a> Shell<'a> {
    /// A shell on `client`'s database; `db_title` is how `describe` names it.
    pub fn new(client: &'a mut postgres::Client, database: &str, db_title: String) -> Shell<'a> {
        // SAFETY: isatty(3) on the standard streams.
        let interactive = unsafe { libc::isatty(0) == 1 && libc::isatty(1) == 1 };
        let pager = std::env::var("PAGER").ok().or_else(|| {
            DEFAULT_PAGERS
                .iter()
                .find(|p| {
                    std::path::Path::new(p.split_whitespace().next().unwrap_or_default()).exists()
                })
                .map(|p| p.to_string())
        });
        Shell {
            client,
            db_title,
            database: database.to_string(),
            with_pager: interactive && pager.is_some(),
            interactive,
            with_headers: false,
            pager,
            remote_user: None,
        }
    }

    /// Reads commands from standard input: one per line with a prompt on a terminal,
    /// else blocks of the whole stream.
    pub fn start(&mut self) {
        if self.interactive {
            self.run_interactive();
        } else {
            let mut bytes = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes);
            let input = String::from_utf8_lossy(&bytes).into_owned();
            self.run_noninteractive(&input);
        }
    }

    fn run_interactive(&mut self) {
        out(INTRO);
        let stdin = std::io::stdin();
        loop {
            print!("{}$ ", self.database);
            let _ = std::io::stdout().flush();
            let mut line = String::new();
            if matches!(stdin.lock().read_line(&mut line), Ok(0) | Err(_)) {
                out("");
                return;
            }
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if self.execute(line) {
                return;
            }
        }
    }

    /// Commands from a stream: a command is a line starting in column 1 with its
    /// indented continuation lines; blank and `#` lines inside a block are kept.
    pub fn run_noninteractive(&mut self, input: &str) {
        let mut blocks: Vec<Vec<&str>> = Vec::new();
        let mut lines: Vec<&str> = Vec::new();
        for line in input.split_inclusive('\n') {
            if line.trim().is_empty() || line.starts_with('#') {
                if !lines.is_empty() {
                    lines.push(line);
                }
            } else if line == line.trim_start() {
                if !lines.is_empty() {
                    blocks.push(std::mem::take(&mut lines));
                }
                lines.push(line);
            } else if lines.is_empty() {
                out(&format!("** unexpected indentation {}", py_str_repr(line)));
            } else {
                lines.push(line);
            }
        }
        if !lines.is_empty() {
            blocks.push(lines);
        }
        for mut block in blocks {
            // HTSQL drops trailing empty strings only; its lines keep their ends.
            while block.last().is_some_and(|l| l.is_empty()) {
                block.pop();
            }
            if self.execute(&block.join("\n")) {
                return;
            }
        }
    }

    /// Runs one command; true to leave the shell.
    fn execute(&mut self, line: &str) -> bool {
        let first = line.split_whitespace().next().unwrap_or_default();
        let is_name = first
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '.' || c == '?');
        let (name, argument) = if is_name {
            (first, line[first.len()..].trim())
        } else {
            ("", line)
        };
        let Some(cmd) = find(name) else {
            out(&format!("** unknown command {}", py_str_repr(name)));
            return false;
        };
        match cmd.name {
            "help" => help(argument),
            "exit" => return true,
            "user" => self.user(argument),
            "describe" => {
                match crate::htsql::describe::describe(self.client, &self.db_title, argument) {
                    Ok(lines) => lines.iter().for_each(|l| out(l)),
                    Err(e) => eprintln!("{e}"),
                }
            }
            "headers" => {
                if let Some(on) = on_off(argument) {
                    self.with_headers = on;
                    out(if on {
                        "** headers are turned on"
                    } else {
                        "** headers are turned off"
                    });
                }
            }
            "pager" => self.pager_cmd(argument),
            "get" => self.get(argument),
            "post" => self.post(argument),
            _ => self.run(argument),
        }
        false
    }

    fn user(&mut self, argument: &str) {
        if argument.is_empty() {
            self.remote_user = None;
            out("** remote user is unset");
        } else {
            self.remote_user = Some(argument.to_string());
            out(&format!(
                "** remote user is set to {}",
                py_str_repr(argument)
            ));
        }
    }

    fn pager_cmd(&mut self, argument: &str) {
        match on_off(argument) {
            Some(true) if !self.interactive => {
                out("** pager cannot be enabled in the non-interactive mode")
            }
            Some(true) => match &self.pager {
                None => out("** no pager is found"),
                Some(p) => {
                    self.with_pager = true;
                    out(&format!("** pager {} is enabled", py_str_repr(p)));
                }
            },
            Some(false) => {
                self.with_pager = false;
                out("** pager is disabled");
            }
            None => {}
        }
    }

    fn get(&mut self, query: &str) {
        if query.is_empty() {
            out("** a query is expected");
            return;
        }
        if !query.starts_with('/') {
            out(&format!(
                "** a query is expected; got {}",
                py_str_repr(query)
            ));
            return;
        }
        let response = match crate::htsql::produce(self.client, query, &[]) {
            Ok(product) => Response {
                status: "200 OK",
                headers: vec![
                    ("Content-Type", "text/plain; charset=UTF-8"),
                    ("Vary", "Accept"),
                ],
                body: crate::htsql::render::render_on(self.client, &product),
            },
            Err(e) => Response {
                status: "400 Bad Request",
                headers: vec![("Content-Type", "text/plain; charset=UTF-8")],
                body: format!("{e}\n"),
            },
        };
        self.dump(&response);
    }

    /// `post FILE [CONTENT-TYPE] /query`: HTSQL's gateway takes GET requests only.
    fn post(&mut self, argument: &str) {
        if argument.is_empty() {
            out("** a query is expected");
            return;
        }
        let mut chunks = split_once_ws(argument);
        let Some(mut query) = chunks.pop() else {
            return;
        };
        let Some(path) = chunks.pop() else {
            out("** a file name is expected");
            return;
        };
        let parts = split_once_ws(query);
        if parts.len() == 2 && !parts[0].starts_with('/') {
            query = parts[1];
        }
        if !query.starts_with('/') {
            out(&format!(
                "** a query is expected; got {}",
                py_str_repr(query)
            ));
            return;
        }
        if !std::path::Path::new(path).exists() {
            out(&format!("** file {} does not exist", py_str_repr(path)));
            return;
        }
        self.dump(&Response {
            status: "400 Bad Request",
            headers: vec![("Content-Type", "text/plain")],
            body: "POST requests are not permitted.\n".into(),
        });
    }

    /// `run FILE...`: each file's commands, as from a stream.
    fn run(&mut self, argument: &str) {
        if argument.is_empty() {
            out("** a file name is expected");
            return;
        }
        let mut files = Vec::new();
        for pattern in argument.split_whitespace() {
            let matched = glob(&expand_user(pattern));
            if matched.is_empty() {
                out(&format!("** file {} does not exist", py_str_repr(pattern)));
                return;
            }
            files.extend(matched);
        }
        for file in files {
            match std::fs::read_to_string(&file) {
                Ok(text) if std::path::Path::new(&file).is_file() => self.run_noninteractive(&text),
                _ => out(&format!("** {} is not a file", py_str_repr(&file))),
            }
        }
    }

    fn dump(&mut self, response: &Response) {
        let mut text = String::new();
        if self.with_headers {
            text.push_str(&format!("{}\r\n", response.status));
            for (k, v) in &response.headers {
                text.push_str(&format!("{k}: {v}\r\n"));
            }
            text.push_str("\r\n");
        }
        text.push_str(&response.body);
        if self.with_pager && self.exceeds_screen(response) {
            if let Some(pager) = &self.pager {
                if page(pager, &text) {
                    return;
                }
            }
        }
        print!("{text}");
        let _ = std::io::stdout().flush();
    }

    /// Whether the response (with its headers when shown) does not fit the terminal.
    fn exceeds_screen(&self, response: &Response) -> bool {
        let mut length = response.body.lines().count();
        if self.with_headers {
            length += response.headers.len() + 2;
        }
        let width = response
            .body
            .lines()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        let (rows, columns) = screen_size();
        length >= rows || width >= columns
    }
}

/// `help` and `help COMMAND`.
fn help(argument: &str) {
    if argument.is_empty() {
        out(USAGE);
        out("");
        out("Available commands:");
        for cmd in COMMANDS {
            out(&format!("  {:<24} : {}", cmd.signature, cmd.hint));
        }
        out("");
        return;
    }
    let Some(cmd) = find(argument) else {
        out(&format!("** unknown command {}", py_str_repr(argument)));
        return;
    };
    out(&format!("{} - {}", cmd.name.to_uppercase(), cmd.hint));
    out(&format!("Usage: {}", cmd.signature));
    out("");
    if cmd.help.ends_with("\n\n") {
        // The query commands share their closing paragraphs.
        out(&format!("{}{QUERY_OUTPUT_HELP}", cmd.help));
    } else {
        out(cmd.help);
    }
    out("");
}

/// `on`/`off`, or the complaint about anything else.
fn on_off(argument: &str) -> Option<bool> {
    match argument {
        "on" => Some(true),
        "off" => Some(false),
        "" => {
            out("** expected 'on' or 'off'");
            None
        }
        other => {
            out(&format!(
                "** expected 'on' or 'off'; got {}",
                py_str_repr(other)
            ));
            None
        }
    }
}

/// Python's `text.split(None, 1)`.
fn split_once_ws(text: &str) -> Vec<&str> {
    let text = text.trim_start();
    if text.is_empty() {
        return Vec::new();
    }
    match text.find(char::is_whitespace) {
        Some(i) => {
            let rest = text[i..].trim_start();
            if rest.is_empty() {
                vec![&text[..i]]
            } else {
                vec![&text[..i], rest]
            }
        }
        None => vec![text],
    }
}

fn expand_user(path: &str) -> String {
    match (path.strip_prefix('~'), std::env::var("HOME")) {
        (Some(rest), Ok(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{home}{rest}")
        }
        _ => path.to_string(),
    }
}

/// Python's `sorted(glob.glob(pattern))` for patterns whose wildcards (`*`, `?`)
/// are in the last path component.
fn glob(pattern: &str) -> Vec<String> {
    let path = std::path::Path::new(pattern);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if !name.contains(['*', '?']) {
        return if path.exists() {
            vec![pattern.to_string()]
        } else {
            Vec::new()
        };
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let prefix = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => format!("{}/", d.display()),
        _ => String::new(),
    };
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| (!n.starts_with('.') || name.starts_with('.')) && wildcard(name, n))
        .map(|n| format!("{prefix}{n}"))
        .collect();
    out.sort();
    out
}

/// `*` and `?` matching of a whole name.
fn wildcard(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The terminal's rows and columns (`$LINES`/`$COLUMNS`, else 25 x 80).
fn screen_size() -> (usize, usize) {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ fills the winsize we pass.
    if unsafe { libc::ioctl(1, libc::TIOCGWINSZ, &mut ws) } == 0 {
        return (ws.ws_row as usize, ws.ws_col as usize);
    }
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    (env("LINES", 25), env("COLUMNS", 80))
}

/// Pipes `text` to the pager; false when it could not be started.
fn page(pager: &str, text: &str) -> bool {
    let mut words = pager.split_whitespace();
    let Some(program) = words.next() else {
        return false;
    };
    let child = std::process::Command::new(program)
        .args(words)
        .stdin(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        return false;
    };
    if let Some(mut stdin) = child.stdin.take() {
        if let Err(e) = stdin.write_all(text.as_bytes()) {
            out(&e.to_string());
        }
    }
    let _ = child.wait();
    true
}

fn out(line: &str) {
    println!("{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_split_once() {
        assert_eq!(split_once_ws("  a  b c "), vec!["a", "b c "]);
        assert_eq!(split_once_ws("a "), vec!["a"]);
        assert!(split_once_ws("  ").is_empty());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("*.htsql", "q.htsql"));
        assert!(wildcard("q?.htsql", "q1.htsql"));
        assert!(!wildcard("*.htsql", "q.sql"));
        assert!(wildcard("*", ""));
    }

    #[test]
    fn every_command_is_found_by_its_names() {
        for cmd in COMMANDS {
            assert_eq!(find(cmd.name).map(|c| c.name), Some(cmd.name));
            for alias in cmd.aliases {
                assert_eq!(find(alias).map(|c| c.name), Some(cmd.name));
            }
        }
    }
}
