//! `rex.mart.MartAccessPermissions` and `rex.mart.MartQuota`: script classes whose
//! class methods are rex's defaults (the domain's `mart::permissions` and
//! `mart::quota`), written to be subclassed. Every default calls the other rules
//! through the class it was called on, so a subclass overriding one rule changes
//! the lookups built on it. A creation asks the application's quota class (`top()`)
//! through [`ScriptQuota`], the domain's `QuotaRules` implemented by script calls.

use super::rex_mart::{
    active, classmethod, definition_value, definitions, mart_value, MartClasses, MartObj,
};
use super::Session;
use crate::core::app::App;
use crate::mart::cluster::Cluster;
use crate::mart::definition::Definition;
use crate::mart::inventory::Mart;
use crate::mart::permissions::{self, MartAccess};
use crate::mart::quota::{self, QuotaRules};
use crate::mart::settings::MartSettings;
use crate::script::native::{arg_int, arg_str, call_method, state, with_interpreter, ClassBuilder};
use crate::script::value::{Args, Class, Dict, Exception, Module, Value};
use crate::script::Interpreter;
use postgres::Client;
use std::rc::Rc;

pub fn install(
    interp: &mut Interpreter,
    m: &Module,
    session: &Rc<Session>,
    classes: &Rc<MartClasses>,
) {
    let permissions = permissions_class(interp, session, classes);
    let quota = quota_class(interp, session, classes);
    session.set_extension_base("MartAccessPermissions", &permissions);
    session.set_extension_base("MartQuota", &quota);
    m.set("MartAccessPermissions", Value::Class(permissions));
    m.set("MartQuota", Value::Class(quota));
}

/// Runs a domain lookup whose rule is script code: the script's exception, if one
/// was raised inside, wins over the domain error that carried it out.
fn with_script_rule<T>(
    session: &Session,
    f: impl FnOnce(&mut dyn FnMut(R) -> crate::core::Result<bool>) -> crate::core::Result<T>,
) -> Result<T, Exception> {
    let mut error: Option<Exception> = None;
    let result = f(&mut |r: R| match r {
        Ok(b) => Ok(b),
        Err(e) => {
            let text = e.plain_message();
            error = Some(e);
            Err(crate::core::Error::new(text))
        }
    });
    if let Some(e) = error {
        return Err(e);
    }
    result.map_err(|e| session.raise(e))
}

type R = Result<bool, Exception>;

fn call(
    it: &mut Interpreter,
    cls: &Value,
    name: &str,
    args: Vec<Value>,
) -> Result<Value, Exception> {
    call_method(it, cls, name, Args::new(args))
}

fn call_bool(it: &mut Interpreter, cls: &Value, name: &str, args: Vec<Value>) -> R {
    let v = call(it, cls, name, args)?;
    it.truthy(&v)
}

fn class_arg(v: &Value) -> Result<Rc<Class>, Exception> {
    match v {
        Value::Class(c) => Ok(c.clone()),
        other => Err(Exception::type_error(format!(
            "top() needs a class, got '{}'",
            other.type_name()
        ))),
    }
}

fn management_db(s: &Session, app: &App) -> Result<Client, Exception> {
    app.db.connect().map_err(|e| s.raise(e))
}

fn permissions_class(
    interp: &Interpreter,
    session: &Rc<Session>,
    classes: &Rc<MartClasses>,
) -> Rc<Class> {
    let (s1, s2, s3, s4) = (
        session.clone(),
        session.clone(),
        session.clone(),
        session.clone(),
    );
    let (c1, c2) = (classes.clone(), classes.clone());
    ClassBuilder::new(interp, "MartAccessPermissions", "rex.mart")
        .attr(
            "top",
            classmethod("MartAccessPermissions.top", move |it, a| {
                Ok(Value::Class(s1.extension_top(it, &class_arg(a.arg(0)?)?)?))
            }),
        )
        .attr(
            "user_can_access_definition",
            classmethod(
                "MartAccessPermissions.user_can_access_definition",
                |_, a| {
                    a.arg(2)?;
                    Ok(Value::Bool(true))
                },
            ),
        )
        .attr(
            "user_can_access_mart",
            classmethod("MartAccessPermissions.user_can_access_mart", |it, a| {
                let (cls, user, given) = (a.arg(0)?, a.arg(1)?, a.arg(2)?);
                let mart = if state::<MartObj>(given).is_some() {
                    given.clone()
                } else {
                    let found = call(it, cls, "get_mart", vec![given.clone(), user.clone()])?;
                    if !it.truthy(&found)? {
                        return Ok(Value::Bool(false));
                    }
                    found
                };
                let owner = it.get_attr(&mart, "owner")?;
                if !it.eq(&owner, user)? {
                    return Ok(Value::Bool(false));
                }
                let definition = it.get_attr(&mart, "definition")?;
                let ok = call_bool(
                    it,
                    cls,
                    "user_can_access_definition",
                    vec![user.clone(), definition],
                )?;
                Ok(Value::Bool(ok))
            }),
        )
        .attr(
            "user_can_manage_mart",
            classmethod("MartAccessPermissions.user_can_manage_mart", |it, a| {
                let (cls, user, given) = (a.arg(0)?, a.arg(1)?, a.arg(2)?);
                let ok = call_bool(
                    it,
                    cls,
                    "user_can_access_mart",
                    vec![user.clone(), given.clone()],
                )?;
                Ok(Value::Bool(ok))
            }),
        )
        .attr(
            "get_definitions_for_user",
            classmethod(
                "MartAccessPermissions.get_definitions_for_user",
                move |it, a| {
                    let (cls, user) = (a.arg(0)?, a.arg(1)?);
                    let handle = active(&s2)?;
                    let defs = definitions(&s2, &handle.app)?;
                    let mut out = Vec::new();
                    for d in &defs.items {
                        let value = definition_value(d);
                        let args = vec![user.clone(), value.clone()];
                        if call_bool(it, cls, "user_can_access_definition", args)? {
                            out.push(value);
                        }
                    }
                    Ok(Value::list(out))
                },
            ),
        )
        .attr(
            "get_mart",
            classmethod("MartAccessPermissions.get_mart", move |it, a| {
                let (cls, code, user) = (a.arg(0)?, a.arg(1)?, a.arg(2)?);
                let code = arg_int(code, "mart_id")?;
                let handle = active(&s3)?;
                let mut db = management_db(&s3, &handle.app)?;
                let mut granted = None;
                let found = with_script_rule(&s3, |rule| {
                    permissions::get_mart(&mut db, code, &mut |m: &Mart| {
                        let r = mart_value(it, &c1.mart, m).and_then(|mv| {
                            granted = Some(mv.clone());
                            call_bool(it, cls, "user_can_access_mart", vec![user.clone(), mv])
                        });
                        rule(r)
                    })
                })?;
                Ok(match found {
                    MartAccess::Missing => Value::None,
                    MartAccess::Denied => Value::Bool(false),
                    MartAccess::Granted(_) => granted.unwrap_or(Value::None),
                })
            }),
        )
        .attr(
            "get_marts_for_user",
            classmethod("MartAccessPermissions.get_marts_for_user", move |it, a| {
                let p = a.bind("get_marts_for_user", &["cls", "user", "definition_id"], 2)?;
                let cls = p[0].clone().unwrap_or(Value::None);
                let user = p[1].clone().unwrap_or(Value::None);
                let definition = p[2].clone().filter(|v| !v.is_none());
                let definition = match &definition {
                    Some(d) if it.truthy(d)? => {
                        let args = vec![user.clone(), d.clone()];
                        if !call_bool(it, &cls, "user_can_access_definition", args)? {
                            return Ok(Value::Bool(false));
                        }
                        Some(arg_str(d, "definition_id")?.to_string())
                    }
                    _ => None,
                };
                let user_name = arg_str(&user, "user")?.to_string();
                let handle = active(&s4)?;
                let mut db = management_db(&s4, &handle.app)?;
                let mut values = Vec::new();
                with_script_rule(&s4, |rule| {
                    permissions::get_marts_for_user(
                        &mut db,
                        &user_name,
                        definition.as_deref(),
                        &mut |m: &Mart| {
                            let r = mart_value(it, &c2.mart, m).and_then(|mv| {
                                let args = vec![user.clone(), mv.clone()];
                                let ok = call_bool(it, &cls, "user_can_access_mart", args)?;
                                if ok {
                                    values.push(mv);
                                }
                                Ok(ok)
                            });
                            rule(r)
                        },
                    )
                })?;
                Ok(Value::list(values))
            }),
        )
        .build()
}

/// The definition a script passes (a dict with `id`, or the id itself).
fn definition_arg(
    it: &mut Interpreter,
    s: &Session,
    app: &App,
    v: &Value,
) -> Result<Definition, Exception> {
    let id = match v {
        Value::Str(id) => id.to_string(),
        other => {
            let id = it.get_item(other, &Value::str("id"))?;
            arg_str(&id, "definition id")?.to_string()
        }
    };
    definitions(s, app)?
        .get(&id)
        .cloned()
        .ok_or_else(|| s.error(&format!("Unknown definition \"{id}\"")))
}

fn settings(s: &Session, app: &App) -> Result<MartSettings, Exception> {
    MartSettings::from_settings(&app.settings).map_err(|e| s.raise(e))
}

fn quota_class(
    interp: &Interpreter,
    session: &Rc<Session>,
    classes: &Rc<MartClasses>,
) -> Rc<Class> {
    let (s1, s2, s3, s4) = (
        session.clone(),
        session.clone(),
        session.clone(),
        session.clone(),
    );
    let c = classes.clone();
    ClassBuilder::new(interp, "MartQuota", "rex.mart")
        .attr(
            "top",
            classmethod("MartQuota.top", move |it, a| {
                Ok(Value::Class(s1.extension_top(it, &class_arg(a.arg(0)?)?)?))
            }),
        )
        .attr(
            "get_mart_counts",
            classmethod("MartQuota.get_mart_counts", move |_, a| {
                let p = a.bind("get_mart_counts", &["cls", "owner", "definition_id"], 2)?;
                let owner = arg_str(p[1].as_ref().unwrap_or(&Value::None), "owner")?;
                let definition = match &p[2] {
                    Some(Value::Str(d)) => Some(d.to_string()),
                    _ => None,
                };
                let handle = active(&s2)?;
                let mut db = management_db(&s2, &handle.app)?;
                let counts = quota::mart_counts(&mut db, &owner, definition.as_deref())
                    .map_err(|e| s2.raise(e))?;
                let mut d = Dict::new();
                for (k, v) in ["total", "total_pinned", "definition", "definition_pinned"]
                    .iter()
                    .zip(counts)
                {
                    d.set_str(k, Value::Int(v));
                }
                Ok(Value::dict(d))
            }),
        )
        .attr(
            "can_create_mart",
            classmethod("MartQuota.can_create_mart", move |it, a| {
                let owner = arg_str(a.arg(1)?, "owner")?;
                let handle = active(&s3)?;
                let def = definition_arg(it, &s3, &handle.app, a.arg(2)?)?;
                let settings = settings(&s3, &handle.app)?;
                let mut db = management_db(&s3, &handle.app)?;
                quota::can_create_mart(&mut db, &owner, &def, &settings)
                    .map(Value::Bool)
                    .map_err(|e| s3.raise(e))
            }),
        )
        .attr(
            "reap_marts",
            classmethod("MartQuota.reap_marts", move |it, a| {
                let owner = arg_str(a.arg(1)?, "owner")?;
                let handle = active(&s4)?;
                let app = &handle.app;
                let def = definition_arg(it, &s4, app, a.arg(2)?)?;
                let settings = settings(&s4, app)?;
                let purged = app
                    .db
                    .connect()
                    .and_then(|mut db| {
                        let mut cluster = Cluster::connect(&app.hosting)?;
                        quota::reap_marts(app, &mut db, &mut cluster, &owner, &def, &settings)
                    })
                    .map_err(|e| s4.raise(e))?;
                let mut out = Vec::new();
                for m in &purged {
                    out.push(mart_value(it, &c.mart, m)?);
                }
                Ok(Value::list(out))
            }),
        )
        .build()
}

/// The application's quota class when it is not rex's own (`None`: the defaults
/// run on the creation's sessions).
pub(super) fn quota_top(
    it: &mut Interpreter,
    session: &Session,
) -> Result<Option<Value>, Exception> {
    let Some(base) = session.extension_base("MartQuota") else {
        return Ok(None);
    };
    let top = session.extension_top(it, &base)?;
    Ok((!Rc::ptr_eq(&top, &base)).then_some(Value::Class(top)))
}

/// The domain's quota rules answered by a script class, on the interpreter the
/// binding lends to the creation (`reentrant`).
pub(super) struct ScriptQuota {
    class: Option<Value>,
    error: Option<Exception>,
}

impl ScriptQuota {
    pub fn new(class: Option<Value>) -> Self {
        ScriptQuota { class, error: None }
    }

    /// The script exception a rule raised, if any.
    pub fn take_error(&mut self) -> Option<Exception> {
        self.error.take()
    }

    /// Calls `cls.name(owner, definition)` and `then` on its result.
    fn ask<T>(
        &mut self,
        name: &str,
        owner: &str,
        definition: &Definition,
        then: impl FnOnce(&mut Interpreter, Value) -> Result<T, Exception>,
    ) -> crate::core::Result<T> {
        let Some(cls) = &self.class else {
            unreachable!("asked only with a class")
        };
        let args = vec![Value::str(owner), definition_value(definition)];
        let answer = with_interpreter(|it| call(it, cls, name, args).and_then(|v| then(it, v)))
            .unwrap_or_else(|| {
                Err(Exception::new(
                    "RuntimeError",
                    format!("{name}() needs the transcript's interpreter"),
                ))
            });
        answer.map_err(|e| {
            let text = e.plain_message();
            self.error = Some(e);
            crate::core::Error::new(text)
        })
    }
}

impl QuotaRules for ScriptQuota {
    fn can_create_mart(
        &mut self,
        db: &mut Client,
        owner: &str,
        definition: &Definition,
        settings: &MartSettings,
    ) -> crate::core::Result<bool> {
        if self.class.is_none() {
            return quota::can_create_mart(db, owner, definition, settings);
        }
        self.ask("can_create_mart", owner, definition, |it, v| it.truthy(&v))
    }

    fn reap_marts(
        &mut self,
        app: &App,
        db: &mut Client,
        cluster: &mut Cluster,
        owner: &str,
        definition: &Definition,
        settings: &MartSettings,
    ) -> crate::core::Result<()> {
        if self.class.is_none() {
            return quota::reap_marts(app, db, cluster, owner, definition, settings).map(|_| ());
        }
        self.ask("reap_marts", owner, definition, |_, _| Ok(()))
    }
}
