//! rex.mart's tasks: `mart-create` (owners x definitions, or a RunList file),
//! `mart-shell` (an HTSQL shell on a mart), `mart-purge` (by owner, definition,
//! name, code or all, after a `y/N` question unless forced). The domain calls are
//! the ones `harness create|purge` make.

use super::app::{open, project};
use super::spec::{ArgSpec, OptSpec, TaskSpec};
use super::{log, stamped, Fatal, Invocation, TaskResult};
use crate::bindings::app_rules::with_app_rules;
use crate::core::app::App;
use crate::core::repr::py_str_repr;
use crate::core::yaml::{Node, NodeValue};
use crate::core::{Error, Result};
use crate::mart::cluster::Cluster;
use crate::mart::inventory::{self, Mart};
use crate::mart::permissions;
use crate::mart::rules::MartRules;
use crate::mart::runlist::RunListEntry;
use crate::mart::{CreateOptions, Definitions, MartCreator};
use std::io::{BufRead, Write};

/// An option; one with a value may be repeated.
fn opt(
    name: &'static str,
    key: Option<char>,
    value_name: Option<&'static str>,
    hint: &'static str,
) -> OptSpec {
    super::spec::opt(name, key, value_name, value_name.is_some(), hint)
}

pub fn tasks() -> Vec<TaskSpec> {
    vec![
        TaskSpec {
            name: "mart-create",
            hint: "create Mart database(s)",
            help: "The mart-create task will create the specified Mart databases. You specify\n\
the Marts to create by either using a combination of the --owner and\n\
--definition options, or by using the --runlist option in combination with\n\
a RunList file.\n\n\
When using the --owner/--definition option combination, this task will\n\
create a Mart for every unique combination of owners and definitions that\n\
were specified.",
            args: vec![],
            opts: vec![
                opt("owner", Some('o'), Some("OWNER"), "The owner to assign to the Mart. This option may be repeated to create Marts for multiple owners."),
                opt("definition", Some('d'), Some("DEFINITION"), "The ID of the Definition to use when creating the Mart. This option may be repeated to create multiple types of Marts."),
                OptSpec {
                    plural: false,
                    ..opt("runlist", Some('r'), Some("RUNLIST"), "The Mart RunList that details the batch creation of multiple Mart databases. If this option is specified, the --owner and --definition options cannot be used. To reference a runlist file that is embedded in a RexDB package, use the notation \"some.package:/path/to/runlist.yaml\"")
                },
                opt("halt-on-failure", None, None, "Indicates whether or not the failure to create a single Mart will cause the task to immediately stop. If not specified, the task will attempt to create all specified Marts, regardless of failures."),
                opt("keep-on-failure", None, None, "Indicates whether or not the databases of failed Mart creations should be kept. If not specified, failed Marts will automatically have their databases deleted."),
                opt("leave-incomplete", None, None, "Indicates whether or not to leave the status of Marts open. If not specified, Marts will automatically be marked as \"complete\", meaning they can be accessed by front-end users."),
                opt("param", Some('p'), Some("PARAM=VALUE"), "Sets a Mart creation parameter value."),
            ],
            run: mart_create,
        },
        TaskSpec {
            name: "mart-shell",
            hint: "open HTSQL shell to Mart database",
            help: "The mart-shell task opens an HTSQL shell to the specified Mart database.\n\n\
If the first argument to this task is an integer, then a connection is\n\
opened to the Mart whose ID/code is that integer.\n\n\
If the first argument to this task is a string, then a connection is opened\n\
to the Mart whose database name is that string.\n\n\
If you use the --reference option, the first argument will be treated as\n\
the owner, and the reference will specify which of their Marts to open.",
            args: vec![ArgSpec {
                name: "code-name-owner",
                optional: false,
            }],
            opts: vec![OptSpec {
                plural: false,
                ..opt("reference", Some('r'), Some("REFERENCE"), "Specifies which of the owner's Mart databases to connect to. It must be in the form <DEFINITION_ID>@latest or <DEFINITION_ID>@<NUMBER>, where <NUMBER> is the index of the Marts of that Definition for the user (foo@1 would be the most recent foo Mart created, etc).")
            }],
            run: mart_shell,
        },
        TaskSpec {
            name: "mart-purge",
            hint: "purge Mart database(s)",
            help: "The mart-purge task will delete the specified Mart databases from the\n\
system.\n\n\
You can specify the Mart(s) to purge using the --owner, --definition,\n\
--name, --code, and --all options. Using more than one option type will\n\
act as a logical AND operation when filtering the list of Marts. Using an\n\
option more than once will act as a logical OR operation between all values\n\
specified for that option.",
            args: vec![],
            opts: vec![
                opt("owner", Some('o'), Some("OWNER"), "The owner of the Mart(s) to purge. This option may be repeated to specify multiple owners."),
                opt("definition", Some('d'), Some("DEFINITION"), "The Definition ID of the Mart(s) to purge. This option may be repeated to specify multiple Definitions."),
                opt("name", Some('n'), Some("NAME"), "The name of the Mart database(s) to purge. This option may be repeated to specify multiple databases."),
                opt("code", Some('c'), Some("CODE"), "The unique Code/ID of the Mart(s) to purge. This option may be repeated to specify multiple Marts."),
                opt("all", Some('a'), None, "Indicates that ALL Marts in the system should be purged (regardless of any other criteria specified)."),
                opt("force-accept", Some('f'), None, "Indicates that the Marts should be purged immediately without prompting the user for confirmation."),
            ],
            run: mart_purge,
        },
    ]
}

fn mart_create(inv: &Invocation) -> TaskResult {
    let app = open(&project(inv, None)?)?;
    // The application's MartAccessPermissions and MartQuota decide, as rex's
    // `.top()` classes do; its code is loaded first (its definers and processors
    // serve the definitions and the creations).
    with_app_rules(&app, None, |rules| {
        let definitions = Definitions::for_app(&app)?;
        let runlist = determine_runlist(inv, &definitions)?;
        for entry in &runlist {
            if let Err(e) = execute(&app, entry, rules) {
                let msg = format!(
                    "Mart creation for {} failed:\n{}",
                    entry.py_repr(),
                    e.uncaught_traceback()
                );
                flush_printed();
                eprint!("{}", stamped(&msg));
                if entry.halt_on_failure {
                    return Err(Fatal("Halting RunList due to creation error".into()));
                }
            }
        }
        flush_printed();
        Ok(())
    })?
}

fn determine_runlist(inv: &Invocation, defs: &Definitions) -> Result<Vec<RunListEntry>, Fatal> {
    let owners = inv.values("owner");
    let definitions = inv.values("definition");
    let runlist = inv.value("runlist");
    if runlist.is_some() && (!owners.is_empty() || !definitions.is_empty()) {
        return Err(Fatal(
            "Cannot specify both a runlist and owner/definition combinations".into(),
        ));
    }
    let ids = defs.ids();
    let entries = match runlist {
        Some(path) => {
            let text = read_runlist(path)
                .map_err(|why| Fatal(format!("Could not open \"{path}\": {why}")))?;
            // Read as rex reads a string: PyYAML names it `<unicode string>`.
            let node = crate::core::yaml::load_str(&text, "<unicode string>")?;
            let items = node.as_seq().ok_or_else(|| {
                Error::with("Expected a sequence", "").wrap_with("Got:", node.py_repr())
            })?;
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    RunListEntry::validate(item).map_err(|e| {
                        e.wrap_with("While validating sequence item", format!("#{}", i + 1))
                    })
                })
                .collect::<Result<Vec<_>>>()?
        }
        None => {
            if definitions.is_empty() {
                return Err(Fatal(format!(
                    "You must specify at least one definition ({})",
                    ids.join(", ")
                )));
            }
            if owners.is_empty() {
                return Err(Fatal("You must specify at least one owner".into()));
            }
            let mut params = Vec::new();
            for p in inv.values("param") {
                let (k, v) = match p.split_once('=') {
                    Some((k, v)) => (k, NodeValue::Str(v.to_string())),
                    None => (p.as_str(), NodeValue::Bool(true)),
                };
                params.retain(|(name, _): &(String, Node)| name != k);
                params.push((k.to_string(), Node::new(v)));
            }
            let mut entries = Vec::new();
            for owner in owners {
                for definition in definitions {
                    entries.push(RunListEntry {
                        owner: owner.clone(),
                        definition: definition.clone(),
                        halt_on_failure: inv.flag("halt-on-failure"),
                        purge_on_failure: !inv.flag("keep-on-failure"),
                        leave_incomplete: inv.flag("leave-incomplete"),
                        parameters: params.clone(),
                    });
                }
            }
            entries
        }
    };
    if let Some(bad) = entries
        .iter()
        .find(|e| !ids.contains(&e.definition.as_str()))
    {
        return Err(Fatal(format!(
            "\"{}\" is not a valid definition",
            bad.definition
        )));
    }
    Ok(entries)
}

/// A RunList file: a path, or `package:/path` inside an application's directory
/// (rex's package static directory: a leading `/` is its root, the path may not
/// leave it). Errors read as rex's: Python's `OSError`, or the assertion of rex's
/// package lookup.
fn read_runlist(path: &str) -> std::result::Result<String, String> {
    let file = match path.split_once(':') {
        Some((package, inner)) => {
            let dir = crate::core::app::SearchPath::new(&[], None)
                .find(package)
                .map_err(|_| format!("unknown package name in path: {}", py_str_repr(path)))?;
            let root = lexical_absolute(&dir);
            let file = lexical_absolute(&root.join(inner.strip_prefix('/').unwrap_or(inner)));
            if !file.starts_with(&root) {
                // rex: `assert real_path is not None, local_path`.
                return Err(inner.to_string());
            }
            file
        }
        None => std::path::PathBuf::from(path),
    };
    std::fs::read_to_string(&file).map_err(|e| {
        let errno = e.raw_os_error().unwrap_or(0);
        let text = match e.kind() {
            std::io::ErrorKind::NotFound => "No such file or directory".to_string(),
            std::io::ErrorKind::PermissionDenied => "Permission denied".to_string(),
            _ if errno == libc::EISDIR => "Is a directory".to_string(),
            _ => e.to_string(),
        };
        format!(
            "[Errno {errno}] {text}: {}",
            py_str_repr(&file.display().to_string())
        )
    })
}

/// Python's `os.path.abspath`: absolute, `.` and `..` resolved without the file
/// system.
fn lexical_absolute(path: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let joined = match path.is_absolute() {
        true => path.to_path_buf(),
        false => std::env::current_dir().unwrap_or_default().join(path),
    };
    let mut out = std::path::PathBuf::from("/");
    for part in joined.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(p) => out.push(p),
            _ => {}
        }
    }
    out
}

/// One RunList entry under the application's rules: skipped when the owner may not
/// use the definition, refused over their quota.
fn execute(app: &App, entry: &RunListEntry, rules: &mut MartRules) -> Result<()> {
    if !rules
        .access
        .user_can_access_definition(&entry.owner, &entry.definition)?
    {
        say(&format!(
                "Skipping Mart creation for owner={}, definition={} (owner not allowed to access definition)",
            entry.owner, entry.definition
        ));
        return Ok(());
    }
    say(&format!(
        "Starting Mart creation for owner={}, definition={}",
        entry.owner, entry.definition
    ));
    let creator = MartCreator::new(app, &entry.owner, &entry.definition)?;
    let options = CreateOptions {
        purge_on_failure: entry.purge_on_failure,
        leave_incomplete: entry.leave_incomplete,
    };
    creator
        .create_with(options, &entry.parameters, &mut |m| say(m), rules.quota)
        .map(|_| ())
}

/// rex's `execution_log`: a stamped line on standard output, after what the
/// application's code printed before it (its interpreter keeps `print` output until
/// asked), so that both read in program order as rex's one Python process writes them.
fn say(line: &str) {
    flush_printed();
    print!("{}", stamped(line));
}

/// Writes out what the application's code has printed so far.
fn flush_printed() {
    let printed = crate::script::output::take();
    if !printed.is_empty() {
        print!("{printed}");
        let _ = std::io::stdout().flush();
    }
}

const BAD_REFERENCE: &str =
    "The reference must be in the form <DEFINITION>@latest or <DEFINITION>@<NUMBER>";

fn mart_shell(inv: &Invocation) -> TaskResult {
    let app = open(&project(inv, None)?)?;
    let target = inv.arg("code-name-owner").unwrap_or_default();
    let mut db = app.db.connect()?;
    let mart = match inv.value("reference") {
        Some(reference) => {
            let (definition, which) = reference
                .split_once('@')
                .ok_or_else(|| Fatal(BAD_REFERENCE.into()))?;
            let index = match which.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) if which == "latest" => None,
                Err(_) => return Err(Fatal(BAD_REFERENCE.into())),
            };
            // The owner's marts they may access (the application's rules), newest
            // first, as rex's `get_marts_for_user` lists them.
            let marts = with_app_rules(&app, None, |rules| {
                permissions::get_marts_for_user(&mut db, target, Some(definition), &mut |m| {
                    rules.access.user_can_access_mart(target, m)
                })
            })??;
            // `marts[n - 1]` in Python: 0 and negative numbers count from the end.
            let position = match index {
                None => Some(0),
                Some(n) if n >= 1 => Some(n as usize - 1),
                Some(n) => marts.len().checked_sub((1 - n) as usize),
            };
            position
                .and_then(|i| marts.into_iter().nth(i))
                .ok_or_else(|| Fatal("No matching Marts found".into()))?
        }
        None => {
            let found = match target.parse::<i64>() {
                Ok(code) => inventory::get(&mut db, code)?,
                Err(_) => inventory::with_name(&mut db, target)?.into_iter().next(),
            };
            found.ok_or_else(|| Fatal(format!("No Mart exists with code/name \"{target}\"")))?
        }
    };
    let mut client = app.hosting.connect(&mart.name)?;
    let title = db_title(&app, &mart.name);
    super::shell::Shell::new(&mut client, &mart.name, title).start();
    Ok(())
}

/// HTSQL's name of a mart's database: the hosting cluster's URL (the `db` setting's
/// without one) with the mart's name, engine in capitals, no password.
fn db_title(app: &App, database: &str) -> String {
    let setting = app
        .settings
        .get_str("mart_hosting_cluster")
        .or_else(|| app.settings.get_str("db"))
        .unwrap_or_default();
    let url = crate::pg::RexUrl::parse(setting).ok();
    let mut out = String::from("PGSQL://");
    if let Some(u) = &url {
        if u.user.is_some() || (u.host.is_none() && u.port.is_some()) {
            out.push_str(u.user.as_deref().unwrap_or_default());
            out.push('@');
        }
        out.push_str(u.host.as_deref().unwrap_or_default());
        if let Some(port) = u.port {
            out.push_str(&format!(":{port}"));
        }
    }
    out.push('/');
    out.push_str(database);
    out
}

fn mart_purge(inv: &Invocation) -> TaskResult {
    let app = open(&project(inv, None)?)?;
    let marts = find_eligible_marts(inv, &app)?;
    if marts.is_empty() {
        log(inv, "No Marts found matching the specified criteria.");
        return Ok(());
    }
    log(
        inv,
        &format!(
            "You are about to purge {} Marts from the system:",
            marts.len()
        ),
    );
    for mart in &marts {
        log(inv, &format!("  {}", format_mart(mart)));
    }
    if !should_proceed(inv)? {
        log(inv, "Purge aborted.");
        return Ok(());
    }
    let mut db = app.db.connect()?;
    let mut cluster = Cluster::connect(&app.hosting)?;
    for mart in &marts {
        log(inv, &format!("Purging {}...", format_mart(mart)));
        crate::mart::purge::purge_with(&app, &mut db, &mut cluster, mart.code)?;
    }
    log(inv, "Purge complete.");
    Ok(())
}

fn format_mart(mart: &Mart) -> String {
    format!(
        "#{}: {} (owner={}, definition={})",
        mart.code, mart.name, mart.owner, mart.definition
    )
}

fn find_eligible_marts(inv: &Invocation, app: &App) -> Result<Vec<Mart>, Fatal> {
    let (owners, definitions, names, codes) = (
        inv.values("owner"),
        inv.values("definition"),
        inv.values("name"),
        inv.values("code"),
    );
    let all = inv.flag("all");
    if owners.is_empty() && definitions.is_empty() && names.is_empty() && codes.is_empty() && !all {
        return Err(Fatal("You must specify some selection criteria".into()));
    }
    let codes = codes
        .iter()
        .map(|c| {
            c.trim().parse::<i64>().map_err(|_| {
                Fatal(format!(
                    "Cannot convert a value of type text to integer:\n    {c}"
                ))
            })
        })
        .collect::<Result<Vec<i64>, Fatal>>()?;
    let mut db = app.db.connect()?;
    let marts = inventory::list(&mut db, None)?;
    let keep = |m: &Mart| {
        all || ((owners.is_empty() || owners.contains(&m.owner))
            && (definitions.is_empty() || definitions.contains(&m.definition))
            && (names.is_empty() || names.contains(&m.name))
            && (codes.is_empty() || codes.contains(&m.code)))
    };
    Ok(marts.into_iter().filter(keep).collect())
}

/// `input('Are you sure you want to continue? (y/N): ')`, forced by --force-accept.
fn should_proceed(inv: &Invocation) -> Result<bool, Fatal> {
    if inv.flag("force-accept") {
        return Ok(true);
    }
    print!("Are you sure you want to continue? (y/N): ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    match std::io::stdin().lock().read_line(&mut answer) {
        Ok(0) | Err(_) => {
            // Python's input() at end of input.
            eprintln!("Traceback (most recent call last):\nEOFError: EOF when reading a line");
            std::process::exit(1);
        }
        Ok(_) => Ok(answer
            .trim_end_matches(['\n', '\r'])
            .to_lowercase()
            .starts_with('y')),
    }
}
