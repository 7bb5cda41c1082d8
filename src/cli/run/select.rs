//! Which transcripts a `harness run` command line names: files, `FILE:LINE`,
//! directories (searched recursively for `.txt`, `.rst` and `.md`), glob patterns
//! (`*`, `?`, `[...]`, `**` for any depth) and the `-k TEXT` filter.

use std::path::{Path, PathBuf};

/// One transcript to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub path: PathBuf,
    /// The path as reports show it (as given, or found under a given directory).
    pub display: String,
    /// `FILE:LINE`: run up to the example at this 1-based line.
    pub line: Option<usize>,
}

/// Extensions a directory or a glob picks up.
const EXTENSIONS: [&str; 3] = ["txt", "rst", "md"];

/// Expands the arguments in order; the errors name every argument that named nothing.
pub fn expand(args: &[String], keywords: &[String]) -> Result<Vec<Target>, Vec<String>> {
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    for arg in args {
        let path = Path::new(arg);
        if path.is_file() {
            targets.push(target(path.to_path_buf(), None));
        } else if path.is_dir() {
            let found = walk(path);
            if found.is_empty() {
                errors.push(format!("no transcripts (.txt, .rst, .md) under: {arg}"));
            }
            targets.extend(found.into_iter().map(|p| target(p, None)));
        } else if let Some((file, line)) = with_line(arg) {
            targets.push(target(file, Some(line)));
        } else if arg.contains(['*', '?', '[']) {
            let found = glob(arg);
            if found.is_empty() {
                errors.push(format!("no transcript matches: {arg}"));
            }
            targets.extend(found.into_iter().map(|p| target(p, None)));
        } else {
            errors.push(format!("no such transcript file: {arg}"));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if !keywords.is_empty() {
        targets.retain(|t| keywords.iter().any(|k| t.display.contains(k.as_str())));
        if targets.is_empty() {
            return Err(vec![format!(
                "no transcript path contains {}",
                keywords
                    .iter()
                    .map(|k| format!("{k:?}"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )]);
        }
    }
    Ok(targets)
}

fn target(path: PathBuf, line: Option<usize>) -> Target {
    let display = path.display().to_string();
    let display = display.strip_prefix("./").unwrap_or(&display).to_string();
    Target {
        path,
        display,
        line,
    }
}

/// `FILE:LINE` where FILE is a file and LINE a positive number.
fn with_line(arg: &str) -> Option<(PathBuf, usize)> {
    let (file, line) = arg.rsplit_once(':')?;
    let line: usize = line.parse().ok().filter(|n| *n > 0)?;
    let path = PathBuf::from(file);
    path.is_file().then_some((path, line))
}

fn is_transcript(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e))
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

/// Transcript files under `dir`, recursively, sorted; hidden entries skipped.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter(|e| !is_hidden(&e.file_name()))
            .map(|e| e.path())
            .collect(),
        Err(_) => return out,
    };
    entries.sort();
    for p in entries {
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.is_file() && is_transcript(&p) {
            out.push(p);
        }
    }
    out
}

/// Expands a glob pattern against the file system, sorted. A matched directory
/// stands for the transcripts under it.
fn glob(pattern: &str) -> Vec<PathBuf> {
    let absolute = pattern.starts_with('/');
    let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    let start = if absolute {
        PathBuf::from("/")
    } else {
        PathBuf::new()
    };
    let mut found = Vec::new();
    glob_from(&start, &parts, &mut found);
    found.sort();
    found.dedup();
    let mut out = Vec::new();
    for p in found {
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.is_file() {
            out.push(p);
        }
    }
    out
}

fn list(dir: &Path) -> Vec<(String, PathBuf)> {
    let at = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let mut v: Vec<(String, PathBuf)> = std::fs::read_dir(at)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let path = dir.join(&name);
                    (name, path)
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn glob_from(base: &Path, parts: &[&str], out: &mut Vec<PathBuf>) {
    let Some((first, rest)) = parts.split_first() else {
        out.push(base.to_path_buf());
        return;
    };
    if *first == "**" {
        // Zero or more directories.
        glob_from(base, rest, out);
        for (name, path) in list(base) {
            if !name.starts_with('.') && path.is_dir() {
                glob_from(&path, parts, out);
            }
        }
    } else if first.contains(['*', '?', '[']) {
        for (name, path) in list(base) {
            if name.starts_with('.') && !first.starts_with('.') {
                continue;
            }
            if wildcard(first, &name) && (rest.is_empty() || path.is_dir()) {
                glob_from(&path, rest, out);
            }
        }
    } else {
        let path = base.join(first);
        if path.exists() {
            glob_from(&path, rest, out);
        }
    }
}

/// fnmatch for one path component: `*`, `?`, `[abc]`, `[a-z]`, `[!abc]`.
pub fn wildcard(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        let step = if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' => Some(pi + 1),
                '[' => class(&p, pi, n[ni]),
                c if c == n[ni] => Some(pi + 1),
                _ => None,
            }
        } else {
            None
        };
        match step {
            Some(next) => {
                pi = next;
                ni += 1;
            }
            None => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A `[...]` class at `p[at]`: the index after it when `c` matches, else `None`. An
/// unclosed `[` is a literal.
fn class(p: &[char], at: usize, c: char) -> Option<usize> {
    let mut i = at + 1;
    let negate = p.get(i) == Some(&'!');
    if negate {
        i += 1;
    }
    let start = i;
    let mut hit = false;
    while i < p.len() && (p[i] != ']' || i == start) {
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            hit |= p[i] <= c && c <= p[i + 2];
            i += 3;
        } else {
            hit |= p[i] == c;
            i += 1;
        }
    }
    if i >= p.len() {
        return (c == '[').then_some(at + 1);
    }
    (hit != negate).then_some(i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("*.txt", "async.txt"));
        assert!(!wildcard("*.txt", "async.md"));
        assert!(wildcard("mart_*", "mart_creation.txt"));
        assert!(wildcard("a?c", "abc"));
        assert!(wildcard("[ab]*", "bee"));
        assert!(!wildcard("[!ab]*", "bee"));
        assert!(wildcard("[a-c]x", "bx"));
        assert!(wildcard("*", ""));
        assert!(!wildcard("?", ""));
    }

    #[test]
    fn directories_globs_lines_and_keywords() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("sub/deeper")).unwrap();
        std::fs::create_dir_all(d.join(".hidden")).unwrap();
        for f in [
            "a.txt",
            "b.md",
            "c.yaml",
            "sub/d.rst",
            "sub/deeper/e.txt",
            ".hidden/f.txt",
        ] {
            std::fs::write(d.join(f), ">>> 1\n1\n").unwrap();
        }
        let s = |p: &str| d.join(p).display().to_string();
        let names = |ts: Vec<Target>| -> Vec<String> {
            ts.into_iter()
                .map(|t| t.path.strip_prefix(d).unwrap().display().to_string())
                .collect()
        };
        let all = expand(&[s("")], &[]).unwrap();
        assert_eq!(
            names(all),
            ["a.txt", "b.md", "sub/d.rst", "sub/deeper/e.txt"]
        );
        let txt = expand(&[s("**/*.txt")], &[]).unwrap();
        assert_eq!(names(txt), ["a.txt", "sub/deeper/e.txt"]);
        let sub = expand(&[s("s*")], &[]).unwrap();
        assert_eq!(names(sub), ["sub/d.rst", "sub/deeper/e.txt"]);
        let one = expand(&[format!("{}:2", s("a.txt"))], &[]).unwrap();
        assert_eq!(one[0].line, Some(2));
        let k = expand(&[s("")], &["deeper".into()]).unwrap();
        assert_eq!(names(k), ["sub/deeper/e.txt"]);
        assert!(expand(&[s("")], &["nothing".into()]).is_err());
        let e = expand(&[s("none.txt"), s("*.none")], &[]).unwrap_err();
        assert_eq!(e.len(), 2);
        assert!(e[0].starts_with("no such transcript file: "));
    }
}
