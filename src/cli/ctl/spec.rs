//! rex.ctl's tasks, options and global settings as data, its argv parser (long and
//! short options, `--name=value` or `--name value`, toggles, plural options, `--`,
//! `@instance`), its settings sources (command line, then `REX_*` variables, then
//! `rex.yaml`), and the `help` task.

use super::{log, Fatal, TaskResult};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A task option.
pub struct OptSpec {
    pub name: &'static str,
    pub key: Option<char>,
    /// `None`: a toggle.
    pub value_name: Option<&'static str>,
    pub plural: bool,
    pub hint: &'static str,
}

/// A task argument.
pub struct ArgSpec {
    pub name: &'static str,
    pub optional: bool,
}

/// A task: its name, one-line hint, description and parameters.
pub struct TaskSpec {
    pub name: &'static str,
    pub hint: &'static str,
    pub help: &'static str,
    pub args: Vec<ArgSpec>,
    pub opts: Vec<OptSpec>,
    pub run: fn(&Invocation) -> TaskResult,
}

/// A global setting (`--debug`, `--project=NAME`, `REX_PROJECT`...).
struct SettingSpec {
    name: &'static str,
    /// `None`: a toggle.
    value_name: Option<&'static str>,
    hint: &'static str,
    help: &'static str,
}

const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: "config",
        value_name: Some("CONFIG"),
        hint: "config file to retrieve settings from",
        help: "",
    },
    SettingSpec {
        name: "debug",
        value_name: None,
        hint: "print debug information",
        help: "",
    },
    SettingSpec {
        name: "parameters",
        value_name: Some("{NAME:VALUE}"),
        hint: "application configuration",
        help: "A dictionary with application parameters.",
    },
    SettingSpec {
        name: "project",
        value_name: Some("NAME"),
        hint: "primary package",
        help: "The primary package of the application.",
    },
    SettingSpec {
        name: "quiet",
        value_name: None,
        hint: "suppress non-error console output",
        help: "",
    },
    SettingSpec {
        name: "requirements",
        value_name: Some("[NAME]"),
        hint: "additional application components",
        help: "Additional packages to include with the application.",
    },
    SettingSpec {
        name: "sentry",
        value_name: Some("DSN"),
        hint: "configuration for the Sentry client",
        help: "This parameter configures the client for the Sentry error tracker.\n\
It should contain the key dsn with the address of the Sentry server.\n\
It may contain other keys, which are submitted to Sentry as tags.",
    },
];

/// The global settings in effect.
#[derive(Debug, Default)]
pub struct Globals {
    pub project: Option<String>,
    pub parameters: Map<String, Value>,
    pub requirements: Vec<String>,
    pub quiet: bool,
    pub debug: bool,
    pub config: Option<String>,
}

/// A parsed command line.
pub struct Invocation {
    /// How the program was called (`rex`, `harness ctl`), for usage lines.
    pub executable: String,
    pub task: &'static TaskSpec,
    /// Positional arguments by argument name.
    pub args: BTreeMap<&'static str, String>,
    /// Option values by option name (toggles: one `"true"`).
    pub opts: BTreeMap<&'static str, Vec<String>>,
    pub globals: Globals,
    /// rex.ctl's `WARNING:` lines about the settings sources, for stderr.
    pub warnings: Vec<String>,
}

impl Invocation {
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.args.get(name).map(String::as_str)
    }
    pub fn values(&self, name: &str) -> &[String] {
        self.opts.get(name).map(Vec::as_slice).unwrap_or_default()
    }
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values(name).first().map(String::as_str)
    }
    pub fn flag(&self, name: &str) -> bool {
        self.opts.contains_key(name)
    }
}

/// `--require` and `--set`, which every application task takes.
fn rex_task_opts(mut own: Vec<OptSpec>) -> Vec<OptSpec> {
    let mut opts = vec![
        OptSpec {
            name: "require",
            key: None,
            value_name: Some("PACKAGE"),
            plural: true,
            hint: "include an additional package",
        },
        OptSpec {
            name: "set",
            key: None,
            value_name: Some("PARAM=VALUE"),
            plural: true,
            hint: "set a configuration parameter",
        },
    ];
    opts.append(&mut own);
    opts
}

pub(super) fn opt(
    name: &'static str,
    key: Option<char>,
    value_name: Option<&'static str>,
    plural: bool,
    hint: &'static str,
) -> OptSpec {
    OptSpec {
        name,
        key,
        value_name,
        plural,
        hint,
    }
}

/// Every task, the usage task (`""`) first.
fn tasks() -> &'static [TaskSpec] {
    static TASKS: std::sync::OnceLock<Vec<TaskSpec>> = std::sync::OnceLock::new();
    TASKS.get_or_init(|| {
        let mut tasks = vec![
            TaskSpec {
                name: "",
                hint: "run when no task is supplied",
                help: "",
                args: vec![],
                opts: vec![opt("help", None, None, false, "")],
                run: usage_task,
            },
            TaskSpec {
                name: "help",
                hint: "display help on tasks and settings",
                help: "When started without arguments, displays a list of available tasks,\n\
settings and toggles.\n\n\
When <topic> is given, describes the usage of the specified task\n\
or setting.",
                args: vec![ArgSpec {
                    name: "topic",
                    optional: true,
                }],
                opts: vec![],
                run: help_task,
            },
        ];
        for mut task in super::mart::tasks()
            .into_iter()
            .chain(super::workers::tasks())
        {
            task.opts = rex_task_opts(std::mem::take(&mut task.opts));
            tasks.push(task);
        }
        tasks
    })
}

fn find_task(name: &str) -> Option<&'static TaskSpec> {
    tasks().iter().find(|t| t.name == name)
}

/// rex.ctl's `_to_name`: lower case, `_` and spaces to `-`.
fn to_name(s: &str) -> String {
    s.to_lowercase().replace([' ', '_'], "-")
}

fn setting(name: &str) -> Option<&'static SettingSpec> {
    SETTINGS.iter().find(|s| s.name == name)
}

/// Sets a global setting from a text value (command line, environment) or a YAML
/// value (rex.yaml); the first source to set a setting wins.
fn init_setting(
    globals: &mut Globals,
    seen: &mut Vec<&'static str>,
    spec: &'static SettingSpec,
    value: Value,
) -> TaskResult {
    if seen.contains(&spec.name) {
        return Ok(());
    }
    seen.push(spec.name);
    let invalid = |why: &str| {
        Fatal(format!(
            "invalid value for setting --{}: \n{why}",
            spec.name
        ))
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let structured = |v: Value| -> Value {
        match v {
            Value::String(s) => super::app::yaml_value(&s),
            other => other,
        }
    };
    match spec.name {
        "project" => globals.project = Some(text(&value)).filter(|s| !s.is_empty()),
        "config" => globals.config = Some(text(&value)),
        "debug" => {
            globals.debug = truthy(&value).ok_or_else(|| invalid("Expected a Boolean value"))?
        }
        "quiet" => {
            globals.quiet = truthy(&value).ok_or_else(|| invalid("Expected a Boolean value"))?
        }
        "parameters" => match structured(value) {
            Value::Object(map) => globals.parameters = map,
            Value::Null => {}
            other => {
                return Err(invalid(&format!(
                    "Expected a JSON object\nGot:\n    {}",
                    crate::core::repr::py_json_repr(&other)
                )))
            }
        },
        "requirements" => match structured(value) {
            Value::Array(items) => globals.requirements = items.iter().map(text).collect(),
            Value::Null => {}
            Value::String(s) => globals.requirements = vec![s],
            other => {
                return Err(invalid(&format!(
                    "Expected a sequence\nGot:\n    {}",
                    crate::core::repr::py_json_repr(&other)
                )))
            }
        },
        _ => {}
    }
    Ok(())
}

/// rex's `BoolVal` on a setting value.
fn truthy(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(s) => match s.as_str() {
            "" | "0" | "false" => Some(false),
            "1" | "true" => Some(true),
            _ => None,
        },
        Value::Null => Some(false),
        _ => None,
    }
}

/// Parses `argv` (argv[0] first) into an invocation and loads the global settings.
pub fn parse(executable: &str, argv: &[String]) -> Result<Invocation, Fatal> {
    let mut globals = Globals::default();
    let mut seen = Vec::new();
    let mut task: Option<&'static TaskSpec> = None;
    let mut opts: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut positional: Vec<String> = Vec::new();
    let mut no_more_opts = false;
    let mut params: std::collections::VecDeque<String> = argv.iter().skip(1).cloned().collect();
    let usage = || find_task("").expect("the usage task");
    let add = |opts: &mut BTreeMap<&'static str, Vec<String>>,
               spec: &'static OptSpec,
               shown: &str,
               value: String|
     -> TaskResult {
        let values = opts.entry(spec.name).or_default();
        if !spec.plural && !values.is_empty() {
            return Err(Fatal(format!("duplicate option {shown}")));
        }
        values.push(value);
        Ok(())
    };
    while let Some(param) = params.pop_front() {
        if param.starts_with('@') && param != "@" && task.is_none() && !no_more_opts {
            // An instance name (selects `<instance>.yaml`); nothing else uses it here.
        } else if param == "--" && !no_more_opts {
            no_more_opts = true;
        } else if param.starts_with("--") && !no_more_opts {
            let (key, value) = match param.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (param.clone(), None),
            };
            let name = to_name(&key[2..]);
            if let Some(spec) = setting(&name) {
                let value = match (spec.value_name, value) {
                    (Some(_), Some(v)) => v,
                    (Some(_), None) => params
                        .pop_front()
                        .ok_or_else(|| Fatal(format!("missing value for setting {key}")))?,
                    (None, Some(_)) => {
                        return Err(Fatal(format!("unexpected value for toggle setting {key}")))
                    }
                    (None, None) => "true".to_string(),
                };
                init_setting(&mut globals, &mut seen, spec, Value::String(value))?;
            } else {
                let t = *task.get_or_insert_with(usage);
                let spec = t
                    .opts
                    .iter()
                    .find(|o| o.name == name)
                    .ok_or_else(|| Fatal(format!("unknown option or setting {key}")))?;
                let value = match (spec.value_name, value) {
                    (Some(_), Some(v)) => v,
                    (Some(_), None) => params
                        .pop_front()
                        .ok_or_else(|| Fatal(format!("missing value for option {key}")))?,
                    (None, Some(_)) => {
                        return Err(Fatal(format!("unexpected value for a toggle option {key}")))
                    }
                    (None, None) => "true".to_string(),
                };
                add(&mut opts, spec, &key, value)?;
            }
        } else if param.starts_with('-') && param != "-" && !no_more_opts {
            let t = *task.get_or_insert_with(usage);
            let mut keys: Vec<char> = param[1..].chars().collect();
            while !keys.is_empty() {
                let key = keys.remove(0);
                let spec = t
                    .opts
                    .iter()
                    .find(|o| o.key == Some(key))
                    .ok_or_else(|| Fatal(format!("unknown option -{key}")))?;
                let value = if spec.value_name.is_some() {
                    if keys.is_empty() {
                        params
                            .pop_front()
                            .ok_or_else(|| Fatal(format!("missing value for option -{key}")))?
                    } else {
                        std::mem::take(&mut keys).into_iter().collect()
                    }
                } else {
                    "true".to_string()
                };
                add(&mut opts, spec, &format!("-{key}"), value)?;
            }
        } else if task.is_none() {
            if param == "-" && !no_more_opts {
                task = Some(usage());
            } else {
                task = Some(
                    find_task(&to_name(&param))
                        .filter(|t| !t.name.is_empty())
                        .ok_or_else(|| Fatal(format!("unknown task {param}")))?,
                );
            }
        } else {
            positional.push(param);
        }
    }
    let task = task.unwrap_or_else(usage);
    let max_args = task.args.len();
    let min_args = task.args.iter().filter(|a| !a.optional).count();
    if positional.len() > max_args {
        return Err(Fatal(if task.name.is_empty() {
            "too many arguments".into()
        } else {
            format!("too many arguments for task {}", task.name)
        }));
    }
    if positional.len() < min_args {
        let missing: Vec<String> = task
            .args
            .iter()
            .filter(|a| !a.optional)
            .skip(positional.len())
            .map(|a| format!("<{}>", a.name))
            .collect();
        return Err(Fatal(format!(
            "too few arguments for task {}: missing {}",
            task.name,
            missing.join(" ")
        )));
    }
    let args = task
        .args
        .iter()
        .zip(positional)
        .map(|(a, v)| (a.name, v))
        .collect();
    let set_pattern = regex::Regex::new(r"^[0-9A-Za-z_-]+(=(?s:.*))?$").ok();
    for v in opts.get("set").map(Vec::as_slice).unwrap_or_default() {
        if !set_pattern.as_ref().is_some_and(|re| re.is_match(v)) {
            return Err(Fatal(format!(
                "invalid value for option --set: \nExpected a string matching:\n    /[0-9A-Za-z_-]+(=.*)?/\nGot:\n    {}",
                crate::core::repr::py_str_repr(v)
            )));
        }
    }
    let mut warnings = Vec::new();
    configure(&mut globals, &mut seen, executable, &mut warnings)?;
    Ok(Invocation {
        executable: executable.to_string(),
        task,
        args,
        opts,
        globals,
        warnings,
    })
}

/// Settings from `REX_*` variables, then from the configuration file (`--config`,
/// else `rex.yaml` in the current directory).
fn configure(
    globals: &mut Globals,
    seen: &mut Vec<&'static str>,
    executable: &str,
    warnings: &mut Vec<String>,
) -> TaskResult {
    let mut vars: Vec<(String, String)> = crate::core::env::vars()
        .into_iter()
        .filter(|(k, _)| k.starts_with("REX_"))
        .collect();
    vars.sort();
    for (key, value) in vars {
        let name = to_name(&key[4..]);
        match setting(&name) {
            Some(spec) => init_setting(globals, seen, spec, Value::String(value))?,
            None => warnings.push(format!("WARNING: unknown setting {key} in the environment")),
        }
    }
    let path = match &globals.config {
        Some(path) => {
            if !std::path::Path::new(path).is_file() {
                return Err(Fatal(format!(
                    "specified configuration file {path} does not exist"
                )));
            }
            Some(std::path::PathBuf::from(path))
        }
        None => {
            let instance = executable.rsplit(' ').next().unwrap_or("rex");
            let instance = if instance == "ctl" { "rex" } else { instance };
            Some(std::path::PathBuf::from(format!("{instance}.yaml"))).filter(|p| p.is_file())
        }
    };
    if let Some(path) = path {
        let node = crate::core::yaml::load_file(&path)?;
        if let Value::Object(map) = node.to_json() {
            for (key, value) in map {
                match setting(&to_name(&key)) {
                    Some(spec) => init_setting(globals, seen, spec, value)?,
                    None => warnings.push(format!(
                        "WARNING: unknown setting {key} in configuration file {}",
                        path.display()
                    )),
                }
            }
        }
    }
    Ok(())
}

/// The first lines of `rex` and `rex help`: the shell's name and its usage.
fn banner(inv: &Invocation) {
    log(
        inv,
        "Rex - Command-line administration utility for the RexDB platform",
    );
    log(
        inv,
        &format!(
            "Usage: {} [@instance] [<settings>...] <task> [<arguments>...]",
            inv.executable
        ),
    );
    log(inv, "");
}

fn usage_task(inv: &Invocation) -> TaskResult {
    if inv.flag("help") {
        return describe_all(inv);
    }
    let exe = &inv.executable;
    banner(inv);
    log(
        inv,
        &format!("Run {exe} help for general usage and a list of tasks and settings."),
    );
    log(
        inv,
        &format!("Run {exe} help <topic> for help on a specific task or setting."),
    );
    Ok(())
}

fn help_task(inv: &Invocation) -> TaskResult {
    let Some(topic) = inv.arg("topic") else {
        return describe_all(inv);
    };
    if let Some(task) = find_task(topic).filter(|t| !t.name.is_empty()) {
        describe_task(inv, task);
        Ok(())
    } else if let Some(spec) = setting(topic) {
        describe_setting(inv, spec);
        Ok(())
    } else {
        Err(Fatal(format!("unknown help topic {topic}")))
    }
}

fn describe_all(inv: &Invocation) -> TaskResult {
    let exe = &inv.executable;
    banner(inv);
    log(
        inv,
        &format!("Run {exe} help for general usage and a list of tasks,"),
    );
    log(inv, "settings and other help topics.");
    log(inv, "");
    log(
        inv,
        &format!("Run {exe} help <topic> for help on a specific topic."),
    );
    log(inv, "");
    log(inv, "Available tasks:");
    let mut sorted: Vec<&TaskSpec> = tasks().iter().filter(|t| !t.name.is_empty()).collect();
    sorted.sort_by_key(|t| t.name);
    for t in sorted {
        let mut usage = t.name.to_string();
        for a in t.args.iter().filter(|a| !a.optional) {
            usage.push_str(&format!(" <{}>", a.name));
        }
        log(inv, &format!("  {usage:<24} : {}", t.hint));
    }
    log(inv, "");
    log(inv, "Settings:");
    for s in SETTINGS {
        let usage = match s.value_name {
            Some(v) => format!("--{}={}", s.name, v.to_uppercase()),
            None => format!("--{}", s.name),
        };
        log(inv, &format!("  {usage:<24} : {}", s.hint));
    }
    log(inv, "");
    Ok(())
}

/// `help TASK`: header, usage, description, options.
fn describe_task(inv: &Invocation, task: &TaskSpec) {
    log(
        inv,
        &format!("{} - {}", task.name.to_uppercase(), task.hint),
    );
    let mut usage = task.name.to_string();
    let mut optionals = 0;
    for a in &task.args {
        if a.optional {
            usage.push_str(&format!(" [<{}>", a.name));
            optionals += 1;
        } else {
            usage.push_str(&"]".repeat(optionals));
            optionals = 0;
            usage.push_str(&format!(" <{}>", a.name));
        }
    }
    usage.push_str(&"]".repeat(optionals));
    log(inv, &format!("Usage: {} {usage}", inv.executable));
    log(inv, "");
    if !task.help.is_empty() {
        log(inv, task.help);
        log(inv, "");
    }
    if !task.opts.is_empty() {
        log(inv, "Options:");
        for o in &task.opts {
            let mut usage = format!("--{}", o.name);
            if let Some(k) = o.key {
                usage = format!("-{k}/{usage}");
            }
            if let Some(v) = o.value_name {
                usage = format!("{usage}={v}");
            }
            log(inv, &format!("  {usage:<24} : {}", o.hint));
        }
        log(inv, "");
    }
}

fn describe_setting(inv: &Invocation, spec: &SettingSpec) {
    log(
        inv,
        &format!("{} - {}", spec.name.to_uppercase(), spec.hint),
    );
    let env = format!("REX_{}", spec.name.to_uppercase().replace(['-', '.'], "_"));
    let (usage, conf, environ) = match spec.value_name {
        Some(v) => (
            format!("--{}={v}", spec.name),
            format!("{}: {v}", spec.name),
            format!("{env}={v}"),
        ),
        None => (
            format!("--{}", spec.name),
            format!("{}: true", spec.name),
            format!("{env}=1"),
        ),
    };
    log(inv, &format!("Usage: {} {usage}", inv.executable));
    log(inv, &format!("       {conf} (rex.yaml)"));
    log(inv, &format!("       {environ} (environment)"));
    log(inv, "");
    if !spec.help.is_empty() {
        log(inv, spec.help);
        log(inv, "");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<String, String> {
        let argv: Vec<String> = std::iter::once("rex")
            .chain(words.iter().copied())
            .map(str::to_string)
            .collect();
        parse("rex", &argv)
            .map(|inv| format!("{} {:?} {:?}", inv.task.name, inv.args, inv.opts))
            .map_err(|Fatal(m)| m)
    }

    #[test]
    fn parses_as_rex_ctl() {
        assert_eq!(
            parse_words(&["mart_create", "-o", "a", "-oB", "--definition", "d", "--halt_on_failure"])
                .unwrap(),
            "mart-create {} {\"definition\": [\"d\"], \"halt-on-failure\": [\"true\"], \"owner\": [\"a\", \"B\"]}"
        );
        assert_eq!(
            parse_words(&["mart-shell", "--", "-r"]).unwrap(),
            "mart-shell {\"code-name-owner\": \"-r\"} {}"
        );
        assert_eq!(parse_words(&["@inst", "help"]).unwrap(), "help {} {}");
        assert_eq!(
            parse_words(&["mart-create", "--set", "bad value"]).unwrap_err(),
            "invalid value for option --set: \nExpected a string matching:\n    /[0-9A-Za-z_-]+(=.*)?/\nGot:\n    'bad value'"
        );
        assert_eq!(
            parse_words(&["--debug=1", "help"]).unwrap_err(),
            "unexpected value for toggle setting --debug"
        );
        assert_eq!(
            parse_words(&["--project"]).unwrap_err(),
            "missing value for setting --project"
        );
    }

    #[test]
    fn odd_command_lines_fail_cleanly() {
        for words in [
            &["-"][..],
            &["--"],
            &["@"],
            &["--="],
            &["-="],
            &["---x"],
            &["--set"],
            &["mart-shell", "-r"],
            &["help", "help", "help"],
            &["–é", "ü"],
            &["mart-create", "-ooo"],
            &[""],
        ] {
            let _ = parse_words(words);
        }
    }
}
