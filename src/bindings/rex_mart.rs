//! `rex.mart`: `MartCreateWorker` (the `rexmart_create` async task worker),
//! `MartCreateExecutor` (the `rexmart_create` job executor), `MartCreator`, `Mart`,
//! and the module functions (configuration, connections, purging, reference
//! counting, utilities). `MartAccessPermissions` and `MartQuota` are in
//! [`super::rex_mart_rules`].

use super::rex_db::{app_db_uri, datetime_value, db_object, uri_object, DbClasses};
use super::{AppHandle, Session};
use crate::core::app::{App, Database};
use crate::core::yaml::Node;
use crate::mart::cluster::physical_name;
use crate::mart::definition::{Definition, Definitions, EtlScript};
use crate::mart::params::ParamValue;
use crate::mart::settings::MartSettings;
use crate::mart::tasks::MartCreateWorker;
use crate::mart::{CreateOptions, Mart, MartCreator};
use crate::script::native::{
    arg_int, arg_str, from_json, new_object, reentrant, state, state_of, to_json, with_interpreter,
    ClassBuilder,
};
use crate::script::value::{Args, Class, DescKind, Exception, Module, NativeFunction, Value};
use crate::script::Interpreter;
use serde_json::json;
use std::cell::RefCell;
use std::rc::Rc;

/// The classes the module's functions make objects of.
pub(super) struct MartClasses {
    pub mart: Rc<Class>,
    pub db: Rc<DbClasses>,
    pub cluster: Rc<Class>,
}

pub fn install(interp: &mut Interpreter, session: &Rc<Session>, db: &Rc<DbClasses>) {
    let classes = Rc::new(MartClasses {
        mart: mart_class(interp, session, db),
        db: db.clone(),
        cluster: cluster_class(interp, session),
    });
    let s = session.clone();
    let worker = ClassBuilder::new(interp, "MartCreateWorker", "rex.mart")
        .attr("name", Value::str("rexmart_create"))
        .method("process", move |it, _, a| {
            let payload = to_json(it, a.arg(0)?)?;
            let handle = s.active()?;
            let quota = super::rex_mart_rules::quota_top(it, &s)?;
            let mut rules = super::rex_mart_rules::ScriptQuota::new(quota);
            // The interpreter is lent to the creation: Python processors and quota
            // rules run on it.
            let result = reentrant(it, || {
                MartCreateWorker::process_with(&handle.app, &payload, &mut rules)
            });
            if let Some(e) = rules.take_error() {
                return Err(e);
            }
            result.map_err(|e| s.raise(e))?;
            Ok(Value::None)
        })
        .build();
    let executor = ClassBuilder::new(interp, "MartCreateExecutor", "rex.mart")
        .attr("name", Value::str("rexmart_create"))
        .build();
    let m = Module::new("rex.mart");
    m.set(
        "MartCreator",
        Value::Class(creator_class(interp, session, &classes)),
    );
    m.set("Mart", Value::Class(classes.mart.clone()));
    m.set("MartCreateWorker", Value::Class(worker));
    m.set("MartCreateExecutor", Value::Class(executor));
    functions(&m, session, &classes);
    super::rex_mart_rules::install(interp, &m, session, &classes);
    interp.register_module("rex.mart", m);
}

/// The active application, or `rex.core.Error`.
pub(super) fn active(s: &Session) -> Result<Rc<AppHandle>, Exception> {
    s.active()
}

/// The application's definitions.
pub(super) fn definitions(s: &Session, app: &App) -> Result<Definitions, Exception> {
    Definitions::for_app(app).map_err(|e| s.raise(e))
}

/// A definition as rex's dict.
pub(super) fn definition_value(d: &Definition) -> Value {
    from_json(&definition_json(d))
}

fn param_json(v: &ParamValue) -> serde_json::Value {
    match v {
        ParamValue::Null => serde_json::Value::Null,
        ParamValue::Bool(b) => json!(b),
        ParamValue::Int(i) => json!(i),
        ParamValue::Float(f) => json!(f),
        ParamValue::Text(s) => json!(s),
        ParamValue::Date(d) => json!(d.to_string()),
        ParamValue::Time(t) => json!(t.to_string()),
        ParamValue::DateTime(t) => json!(t.to_string()),
        ParamValue::List(items) => items.iter().map(param_json).collect(),
        ParamValue::Map(entries) => entries
            .iter()
            .map(|(k, v)| (k.clone(), param_json(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    }
}

fn scripts_json(scripts: &[EtlScript]) -> serde_json::Value {
    scripts
        .iter()
        .map(|s| {
            json!({
                "script": s.script,
                "type": match s.script_type {
                    crate::mart::definition::ScriptType::Htsql => "htsql",
                    crate::mart::definition::ScriptType::Sql => "sql",
                },
                "parameters": s.parameters.iter()
                    .map(|(k, v)| (k.clone(), param_json(v)))
                    .collect::<serde_json::Map<_, _>>(),
            })
        })
        .collect()
}

fn definition_json(d: &Definition) -> serde_json::Value {
    json!({
        "id": d.id,
        "label": d.label,
        "description": d.description,
        "base": {
            "type": d.base.base_type.name(),
            "target": d.base.target,
            "name_token": d.base.name_token,
            "fixed_name": d.base.fixed_name,
        },
        "quota": {"per_owner": d.quota_per_owner},
        "deploy": d.deploy.as_ref().map(Node::to_json),
        "post_deploy_scripts": scripts_json(&d.post_deploy_scripts),
        "assessments": d.assessments.iter().map(Node::to_json).collect::<Vec<_>>(),
        "post_assessment_scripts": scripts_json(&d.post_assessment_scripts),
        "processors": d.processors.iter()
            .map(|p| json!({"id": p.id, "options": p.options.to_json()}))
            .collect::<Vec<_>>(),
        "parameters": d.parameters.iter()
            .map(|p| json!({
                "name": p.name,
                "type": crate::mart::params::DataType::NAMES[p.data_type as usize],
                "default": p.default.as_ref().map_or(serde_json::Value::Null, param_json),
            }))
            .collect::<Vec<_>>(),
        "base_path": d.base_path.as_ref().map(|p| p.display().to_string()),
    })
}

/// `MartCreator(owner, definition)`: checked when made, run when called.
struct CreatorState {
    owner: String,
    definition: Definition,
}

fn creator_class(
    interp: &Interpreter,
    session: &Rc<Session>,
    classes: &Rc<MartClasses>,
) -> Rc<Class> {
    let s = session.clone();
    let run = session.clone();
    let classes = classes.clone();
    ClassBuilder::new(interp, "MartCreator", "rex.mart")
        .init(move |_, inst, a| {
            let p = a.bind("MartCreator", &["owner", "definition"], 2)?;
            let owner = match &p[0] {
                Some(Value::None) | None => String::new(),
                Some(v) => arg_str(v, "owner")?.to_string(),
            };
            let definition =
                arg_str(p[1].as_ref().unwrap_or(&Value::None), "definition")?.to_string();
            let handle = s.active()?;
            let creator =
                MartCreator::new(&handle.app, &owner, &definition).map_err(|e| s.raise(e))?;
            let definition = creator.definition().clone();
            inst.set_native(CreatorState { owner, definition });
            Ok(())
        })
        .method("__getattr__", |_, this, a| {
            let st = state_of::<CreatorState>(this, "MartCreator")?;
            let name = arg_str(a.arg(0)?, "attribute")?;
            match &*name {
                "owner" => Ok(Value::str(&st.owner)),
                "definition" => Ok(definition_value(&st.definition)),
                _ => Err(Exception::new(
                    "AttributeError",
                    format!("'MartCreator' object has no attribute '{name}'"),
                )),
            }
        })
        .method("__call__", move |it, this, a| {
            let st = state_of::<CreatorState>(this, "MartCreator")?;
            let p = a.bind(
                "__call__",
                &[
                    "purge_on_failure",
                    "leave_incomplete",
                    "logger",
                    "parameters",
                ],
                0,
            )?;
            let flag = |i: usize, default: bool| match &p[i] {
                Some(v) => v.plain_truth().unwrap_or(default),
                None => default,
            };
            let options = CreateOptions {
                purge_on_failure: flag(0, true),
                leave_incomplete: flag(1, false),
            };
            let logger = p[2].clone().filter(|v| !v.is_none());
            let parameters: Vec<(String, Node)> = match &p[3] {
                Some(Value::None) | None => Vec::new(),
                Some(v) => match Node::from_json(&to_json(it, v)?).value {
                    crate::core::yaml::NodeValue::Map(entries) => entries,
                    _ => return Err(Exception::type_error("parameters must be a dict")),
                },
            };
            let handle = run.active()?;
            let creator = MartCreator::new(&handle.app, &st.owner, &st.definition.id)
                .map_err(|e| run.raise(e))?;
            let quota = super::rex_mart_rules::quota_top(it, &run)?;
            let mut rules = super::rex_mart_rules::ScriptQuota::new(quota);
            let mut callback_error = None;
            // The interpreter is lent to the creation: Python processors, quota
            // rules and the logger callback run on it.
            let result = reentrant(it, || {
                creator.create_with(
                    options,
                    &parameters,
                    &mut |line: &str| {
                        if let (Some(f), None) = (&logger, &callback_error) {
                            let call = |it: &mut Interpreter| {
                                it.call(f, Args::new(vec![Value::str(line)]))
                            };
                            if let Some(Err(e)) = with_interpreter(call) {
                                callback_error = Some(e);
                            }
                        }
                    },
                    &mut rules,
                )
            });
            if let Some(e) = rules.take_error() {
                return Err(e);
            }
            if let Some(e) = callback_error {
                return Err(e);
            }
            let mart = result.map_err(|e| run.raise(e))?;
            mart_value(it, &classes.mart, &mart)
        })
        .build()
}

/// The state of a `Mart` object: rex's nine fields as script values.
pub(super) struct MartObj {
    code: Value,
    definition_id: Value,
    owner: Value,
    name: Value,
    started: Value,
    completed: Value,
    pinned: RefCell<Value>,
    size: Value,
    status: Value,
}

/// An inventory record as a `Mart` object.
pub(super) fn mart_value(
    it: &mut Interpreter,
    class: &Rc<Class>,
    m: &Mart,
) -> Result<Value, Exception> {
    let completed = match &m.date_creation_completed {
        Some(d) => datetime_value(it, d)?,
        None => Value::None,
    };
    Ok(new_object(
        class,
        MartObj {
            code: Value::Int(m.code),
            definition_id: Value::str(&m.definition),
            owner: Value::str(&m.owner),
            name: Value::str(&m.name),
            started: datetime_value(it, &m.date_creation_started)?,
            completed,
            pinned: RefCell::new(Value::Bool(m.pinned)),
            size: m.size.map_or(Value::None, Value::Int),
            status: Value::str(&m.status),
        },
    ))
}

/// A class method of a native class.
pub(super) fn classmethod(
    name: &str,
    f: impl Fn(&mut Interpreter, Args) -> Result<Value, Exception> + 'static,
) -> Value {
    Value::Descriptor(Rc::new((
        DescKind::ClassMethod,
        NativeFunction::value(name, f),
    )))
}

const MART_FIELDS: [&str; 9] = [
    "code",
    "definition_id",
    "owner",
    "name",
    "date_creation_started",
    "date_creation_completed",
    "pinned",
    "size",
    "status",
];

fn mart_class(interp: &Interpreter, session: &Rc<Session>, db: &Rc<DbClasses>) -> Rc<Class> {
    let db = db.clone();
    let (s1, s2, s3, s4) = (
        session.clone(),
        session.clone(),
        session.clone(),
        session.clone(),
    );
    ClassBuilder::new(interp, "Mart", "rex.mart")
        .init(|_, inst, a| {
            let p = a.bind("Mart", &MART_FIELDS, 9)?;
            let v = |i: usize| p[i].clone().unwrap_or(Value::None);
            inst.set_native(MartObj {
                code: v(0),
                definition_id: v(1),
                owner: v(2),
                name: v(3),
                started: v(4),
                completed: v(5),
                pinned: RefCell::new(v(6)),
                size: v(7),
                status: v(8),
            });
            Ok(())
        })
        .attr(
            "from_record",
            classmethod("Mart.from_record", |it, a| {
                let cls = a.arg(0)?.clone();
                let record = a.arg(1)?.clone();
                let mut values = Vec::with_capacity(9);
                for field in MART_FIELDS {
                    let column = if field == "definition_id" {
                        "definition"
                    } else {
                        field
                    };
                    values.push(it.get_attr(&record, column)?);
                }
                it.call(&cls, Args::new(values))
            }),
        )
        .method("__repr__", |it, this, _| {
            let m = state_of::<MartObj>(this, "Mart")?;
            Ok(Value::str(&format!(
                "Mart(code={}, definition={}, owner={})",
                it.repr(&m.code)?,
                it.repr(&m.definition_id)?,
                it.repr(&m.owner)?
            )))
        })
        .method("__getattr__", move |_, this, a| {
            let m = state_of::<MartObj>(this, "Mart")?;
            let name = arg_str(a.arg(0)?, "attribute")?;
            Ok(match &*name {
                "code" => m.code.clone(),
                "definition_id" => m.definition_id.clone(),
                "definition" => {
                    let handle = active(&s1)?;
                    let defs = definitions(&s1, &handle.app)?;
                    let id = match &m.definition_id {
                        Value::Str(s) => s.to_string(),
                        _ => String::new(),
                    };
                    defs.get(&id).map_or(Value::None, definition_value)
                }
                "owner" => m.owner.clone(),
                "name" => m.name.clone(),
                "date_creation_started" => m.started.clone(),
                "date_creation_completed" => m.completed.clone(),
                "pinned" => m.pinned.borrow().clone(),
                "size" => m.size.clone(),
                "status" => m.status.clone(),
                "usable" => Value::Bool(matches!(&m.status, Value::Str(s) if &**s == "complete")),
                _ => {
                    return Err(Exception::new(
                        "AttributeError",
                        format!("'Mart' object has no attribute '{name}'"),
                    ))
                }
            })
        })
        .method("__setattr__", move |_, this, a| {
            let m = state_of::<MartObj>(this, "Mart")?;
            let name = arg_str(a.arg(0)?, "attribute")?;
            let value = a.arg(1)?.clone();
            if &*name != "pinned" {
                if MART_FIELDS.contains(&&*name) || &*name == "usable" || &*name == "definition" {
                    return Err(Exception::new(
                        "AttributeError",
                        format!("property '{name}' of 'Mart' object has no setter"),
                    ));
                }
                if let Value::Instance(inst) = this {
                    inst.set(&name, value);
                }
                return Ok(Value::None);
            }
            let Value::Bool(pinned) = value else {
                return Err(Exception::value_error(
                    "The value of pinned must be boolean",
                ));
            };
            let changed = !matches!(&*m.pinned.borrow(), Value::Bool(b) if *b == pinned);
            if changed {
                let code = arg_int(&m.code, "code")?;
                let handle = active(&s2)?;
                handle
                    .app
                    .db
                    .connect()
                    .and_then(|mut db| crate::mart::quota::set_pinned(&mut db, code, pinned))
                    .map_err(|e| s2.raise(e))?;
            }
            *m.pinned.borrow_mut() = Value::Bool(pinned);
            Ok(Value::None)
        })
        .method("purge", move |_, this, _| {
            let m = state_of::<MartObj>(this, "Mart")?;
            let code = arg_int(&m.code, "code")?;
            let handle = active(&s3)?;
            crate::mart::purge_mart(&handle.app, code).map_err(|e| s3.raise(e))?;
            Ok(Value::None)
        })
        .method("as_dict", |it, this, a| {
            let m = state_of::<MartObj>(this, "Mart")?;
            let p = a.bind("as_dict", &["json_safe"], 0)?;
            let json_safe = match &p[0] {
                Some(v) => it.truthy(v)?,
                None => false,
            };
            let mut d = crate::script::value::Dict::new();
            let date = |it: &mut Interpreter, v: &Value| -> Result<Value, Exception> {
                if json_safe {
                    let f = it.get_attr(v, "strftime")?;
                    it.call(&f, Args::new(vec![Value::str("%Y-%m-%dT%H:%M:%S")]))
                } else {
                    Ok(v.clone())
                }
            };
            d.set_str("code", m.code.clone());
            d.set_str("definition", m.definition_id.clone());
            d.set_str("owner", m.owner.clone());
            d.set_str("name", m.name.clone());
            d.set_str("date_creation_started", date(it, &m.started)?);
            d.set_str("date_creation_completed", date(it, &m.completed)?);
            d.set_str("pinned", m.pinned.borrow().clone());
            d.set_str("size", m.size.clone());
            d.set_str("status", m.status.clone());
            Ok(Value::dict(d))
        })
        .method("get_htsql", move |_, this, _| {
            let m = state_of::<MartObj>(this, "Mart")?;
            let name = arg_str(&m.name, "name")?;
            let handle = active(&s4)?;
            Ok(mart_db(&db, &handle.app, &name))
        })
        .build()
}

/// `get_mart_db(name)`: the mart database on the hosting cluster.
pub(super) fn mart_db(classes: &DbClasses, app: &App, name: &str) -> Value {
    let db = Database {
        server: app.hosting.clone(),
        name: physical_name(app, name),
    };
    let uri = hosting_uri(app).unwrap_or_else(|_| app_db_uri(app));
    let (engine, rest) = uri.split_once(':').unwrap_or(("pgsql", &uri));
    let base = match rest.strip_prefix("//") {
        Some(r) => format!("{engine}://{}", r.split('/').next().unwrap_or("")),
        None => format!("{engine}://"),
    };
    db_object(classes, db, &format!("{base}/{name}"))
}

/// `get_hosting_db_uri()`'s text: `mart_hosting_cluster`, else the `db` setting,
/// which must name a PostgreSQL server.
fn hosting_uri(app: &App) -> crate::core::Result<String> {
    if let Some(url) = app.settings.get_str("mart_hosting_cluster") {
        return Ok(url.to_string());
    }
    let db = app_db_uri(app);
    if !db.starts_with("pgsql:") {
        return Err(crate::core::Error::new(
            "Only PostgreSQL systems can host Marts",
        ));
    }
    Ok(db)
}

/// The hosting cluster (rex.deploy's `Cluster`): databases by name.
struct ClusterState {
    app: App,
}

fn cluster_class(interp: &Interpreter, session: &Rc<Session>) -> Rc<Class> {
    let (s1, s2, s3) = (session.clone(), session.clone(), session.clone());
    let cluster = |st: &ClusterState| crate::mart::cluster::Cluster::connect(&st.app.hosting);
    ClassBuilder::new(interp, "Cluster", "rex.deploy")
        .method("exists", move |_, this, a| {
            let st = state_of::<ClusterState>(this, "Cluster")?;
            let name = arg_str(a.arg(0)?, "name")?;
            let physical = physical_name(&st.app, &name);
            cluster(&st)
                .and_then(|mut c| c.exists(&physical))
                .map(Value::Bool)
                .map_err(|e| s1.raise(e))
        })
        .method("create", move |_, this, a| {
            let st = state_of::<ClusterState>(this, "Cluster")?;
            let p = a.bind("create", &["name", "template"], 1)?;
            let name = arg_str(p[0].as_ref().unwrap_or(&Value::None), "name")?;
            let template = match &p[1] {
                Some(Value::Str(t)) => Some(physical_name(&st.app, t)),
                _ => None,
            };
            cluster(&st)
                .and_then(|mut c| c.create(&name, template.as_deref()))
                .map_err(|e| s2.raise(e))?;
            Ok(Value::None)
        })
        .method("drop", move |_, this, a| {
            let st = state_of::<ClusterState>(this, "Cluster")?;
            let name = arg_str(a.arg(0)?, "name")?;
            let physical = physical_name(&st.app, &name);
            cluster(&st)
                .and_then(|mut c| c.drop(&physical))
                .map_err(|e| s3.raise(e))?;
            Ok(Value::None)
        })
        .build()
}

fn cluster_of(v: &Value) -> Result<Rc<ClusterState>, Exception> {
    state::<ClusterState>(v).ok_or_else(|| {
        Exception::type_error(format!("expected a Cluster, got '{}'", v.type_name()))
    })
}

/// The module's functions.
fn functions(m: &Module, session: &Rc<Session>, classes: &Rc<MartClasses>) {
    let s = session.clone();
    m.add_fn("purge_mart", move |_, a| {
        let code = arg_int(a.arg(0)?, "purge_mart() code")?;
        let handle = s.active()?;
        crate::mart::purge_mart(&handle.app, code).map_err(|e| s.raise(e))?;
        Ok(Value::None)
    });
    let (s, c) = (session.clone(), classes.clone());
    m.add_fn("get_mart_db", move |_, a| {
        let name = arg_str(a.arg(0)?, "get_mart_db() name")?;
        let handle = s.active()?;
        Ok(mart_db(&c.db, &handle.app, &name))
    });
    let (s, c) = (session.clone(), classes.clone());
    m.add_fn("get_latest_mart_db", move |_, a| {
        let definition = arg_str(a.arg(0)?, "get_latest_mart_db() definition")?;
        let handle = s.active()?;
        let latest = handle
            .app
            .db
            .connect()
            .and_then(|mut db| crate::mart::inventory::latest_complete(&mut db, &definition))
            .map_err(|e| s.raise(e))?;
        Ok(latest.map_or(Value::None, |m| mart_db(&c.db, &handle.app, &m.name)))
    });
    let (s, c) = (session.clone(), classes.clone());
    m.add_fn("get_management_db", move |_, _| {
        let handle = s.active()?;
        let app = &handle.app;
        Ok(db_object(&c.db, app.db.clone(), &app_db_uri(app)))
    });
    let (s, c) = (session.clone(), classes.clone());
    m.add_fn("get_management_db_uri", move |_, _| {
        let handle = s.active()?;
        Ok(uri_object(&c.db.uri, &app_db_uri(&handle.app)))
    });
    let (s, c) = (session.clone(), classes.clone());
    m.add_fn("get_hosting_db_uri", move |_, _| {
        let handle = s.active()?;
        let uri = hosting_uri(&handle.app).map_err(|e| s.raise(e))?;
        Ok(uri_object(&c.db.uri, &uri))
    });
    let (s, c) = (session.clone(), classes.clone());
    m.add_fn("get_hosting_cluster", move |_, _| {
        let handle = s.active()?;
        hosting_uri(&handle.app).map_err(|e| s.raise(e))?;
        Ok(new_object(
            &c.cluster,
            ClusterState {
                app: handle.app.clone(),
            },
        ))
    });
    let s = session.clone();
    m.add_fn("get_all_definitions", move |_, _| {
        let handle = s.active()?;
        let defs = definitions(&s, &handle.app)?;
        Ok(Value::list(
            defs.items.iter().map(definition_value).collect(),
        ))
    });
    let s = session.clone();
    m.add_fn("get_definition", move |_, a| {
        let id = arg_str(a.arg(0)?, "get_definition() identifier")?;
        let handle = s.active()?;
        let defs = definitions(&s, &handle.app)?;
        Ok(defs.get(&id).map_or(Value::None, definition_value))
    });
    type RcFn = fn(&crate::pg::Server, &str) -> crate::core::Result<i64>;
    for (fname, f) in [
        ("mart_getref", crate::mart::rc::getref as RcFn),
        ("mart_incref", crate::mart::rc::incref as RcFn),
        ("mart_decref", crate::mart::rc::decref as RcFn),
    ] {
        let s = session.clone();
        m.add_fn(fname, move |_, a| {
            let cluster = cluster_of(a.arg(0)?)?;
            let name = arg_str(a.arg(1)?, "name")?;
            let physical = physical_name(&cluster.app, &name);
            f(&cluster.app.hosting, &physical)
                .map(Value::Int)
                .map_err(|e| s.raise(e))
        });
    }
    let s = session.clone();
    m.add_fn("extract_htsql_statements", move |_, a| {
        let script = arg_str(a.arg(0)?, "script")?;
        let statements =
            crate::mart::etl::extract_htsql_statements(&script).map_err(|e| s.raise(e))?;
        Ok(Value::list(
            statements.iter().map(|t| Value::str(t)).collect(),
        ))
    });
    let s = session.clone();
    m.add_fn("make_safe_token", move |it, a| {
        let p = a.bind("make_safe_token", &["token", "trim"], 1)?;
        let token = match p[0].as_ref().unwrap_or(&Value::None) {
            Value::Str(t) => t.to_string(),
            other => it.str(other)?,
        };
        let trim = match &p[1] {
            Some(v) => it.truthy(v)?,
            None => true,
        };
        let handle = s.active()?;
        let settings = MartSettings::from_settings(&handle.app.settings).map_err(|e| s.raise(e))?;
        crate::mart::util::make_safe_token(&token, trim, settings.max_name_length)
            .map(|t| Value::str(&t))
            .map_err(|e| s.raise(e))
    });
    let s = session.clone();
    m.add_fn("guarded", move |_, a| {
        let p = a.bind("guarded", &["msg", "payload"], 1)?;
        let msg = arg_str(p[0].as_ref().unwrap_or(&Value::None), "msg")?.to_string();
        let payload = p[1].clone().filter(|v| !v.is_none());
        Ok(super::rex_core::guard_object(&s, msg, payload))
    });
}
