//! `rex.db`: `get_db()` and its `produce(htsql, **params)`, whose results are
//! records with attribute access by tag (`job.facet.log`) and identities that print
//! as rex prints them.

use super::Session;
use crate::htsql::{self, Identity, Product, Record};
use crate::script::native::{arg_str, new_object, state_of, to_json, ClassBuilder};
use crate::script::value::{Class, Exception, Module, Value};
use crate::script::Interpreter;
use std::rc::Rc;

/// The classes results are made of.
struct Classes {
    product: Rc<Class>,
    record: Rc<Class>,
    identity: Rc<Class>,
}

struct DbState {
    db: crate::core::app::Database,
    /// The database's URL as rex names it (`pgsql:mart_demo`), when it differs from
    /// the physical database (the transcript's copy).
    uri: String,
}

/// The classes of `get_db()` objects and of database URLs (`<DB pgsql:///x>`).
pub(super) struct DbClasses {
    pub db: Rc<Class>,
    pub uri: Rc<Class>,
}

/// A `get_db()` object; `rex.mart` makes mart databases with it too. `uri` is the
/// URL rex would show for it.
pub(super) fn db_object(classes: &DbClasses, db: crate::core::app::Database, uri: &str) -> Value {
    new_object(
        &classes.db,
        DbState {
            db,
            uri: uri.to_string(),
        },
    )
}

/// The database a `get_db()` object (or a mart database) stands for.
pub(super) fn database_of(v: &Value) -> Option<crate::core::app::Database> {
    crate::script::native::state::<DbState>(v).map(|s| s.db.clone())
}

/// htsql's `DB` object for a rex database URL.
pub(super) fn uri_object(class: &Rc<Class>, url: &str) -> Value {
    new_object(class, DbUri::parse(url))
}

/// htsql.core.util.DB: a parsed database URL, printed `engine://user:pass@host:port/db`.
struct DbUri {
    engine: String,
    username: Option<String>,
    password: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    database: Option<String>,
    options: Vec<(String, String)>,
}

impl DbUri {
    fn parse(url: &str) -> DbUri {
        let (engine, rest) = url.split_once(':').unwrap_or(("pgsql", url));
        match crate::pg::RexUrl::parse(&format!("pgsql:{rest}")) {
            Ok(u) => DbUri {
                engine: engine.to_string(),
                username: u.user,
                password: u.password,
                host: u.host,
                port: u.port,
                database: u.database,
                options: u.options,
            },
            Err(_) => DbUri {
                engine: engine.to_string(),
                username: None,
                password: None,
                host: None,
                port: None,
                database: Some(rest.to_string()),
                options: Vec::new(),
            },
        }
    }

    fn text(&self) -> String {
        let mut out = format!("{}://", self.engine);
        if let Some(user) = &self.username {
            out.push_str(user);
            if let Some(pw) = &self.password {
                out.push(':');
                out.push_str(pw);
            }
            out.push('@');
        }
        out.push_str(self.host.as_deref().unwrap_or(""));
        if let Some(port) = self.port {
            out.push_str(&format!(":{port}"));
        }
        out.push('/');
        out.push_str(self.database.as_deref().unwrap_or(""));
        let opts: Vec<String> = self
            .options
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !opts.is_empty() {
            out.push('?');
            out.push_str(&opts.join("&"));
        }
        out
    }
}

fn uri_class(interp: &Interpreter) -> Rc<Class> {
    let opt = |v: &Option<String>| v.as_deref().map_or(Value::None, Value::str);
    ClassBuilder::new(interp, "DB", "htsql.core.util")
        .method("__str__", |_, this, _| {
            Ok(Value::str(&state_of::<DbUri>(this, "DB")?.text()))
        })
        .method("__repr__", |_, this, _| {
            Ok(Value::str(&format!(
                "<DB {}>",
                state_of::<DbUri>(this, "DB")?.text()
            )))
        })
        .method("__getattr__", move |_, this, a| {
            let u = state_of::<DbUri>(this, "DB")?;
            let name = arg_str(a.arg(0)?, "attribute")?;
            Ok(match &*name {
                "engine" => Value::str(&u.engine),
                "username" => opt(&u.username),
                "password" => opt(&u.password),
                "host" => opt(&u.host),
                "port" => u.port.map_or(Value::None, |p| Value::Int(p as i64)),
                "database" => opt(&u.database),
                _ => {
                    return Err(Exception::new(
                        "AttributeError",
                        format!("'DB' object has no attribute '{name}'"),
                    ))
                }
            })
        })
        .build()
}

pub fn install(interp: &mut Interpreter, session: &Rc<Session>) -> Rc<DbClasses> {
    let classes = Rc::new(Classes {
        product: product_class(interp),
        record: record_class(interp),
        identity: identity_class(interp),
    });
    let s = session.clone();
    let uri = uri_class(interp);
    let uri_class2 = uri.clone();
    let db_class = ClassBuilder::new(interp, "RexHTSQL", "rex.db")
        .method("produce", move |it, this, a| {
            let st = state_of::<DbState>(this, "RexHTSQL")?;
            let text = arg_str(a.arg(0)?, "produce() query")?;
            let mut params = Vec::with_capacity(a.kw.len());
            for (k, v) in &a.kw {
                params.push((k.to_string(), param(it, v)?));
            }
            let refs: Vec<(&str, htsql::Value)> = params
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            // In the unit of work of the job or task running on this thread, if any.
            let product = crate::core::work_tx::with_client(&st.db, |client| {
                htsql::produce(client, &text, &refs)
            })
            .map_err(|e| s.raise(e))?;
            Ok(product_value(it, &classes, product))
        })
        .method("__getattr__", move |_, this, a| {
            let st = state_of::<DbState>(this, "RexHTSQL")?;
            let name = arg_str(a.arg(0)?, "attribute")?;
            match &*name {
                // `db.htsql.db.database`: the HTSQL instance and its URL.
                "htsql" => Ok(this.clone()),
                "db" => Ok(uri_object(&uri, &st.uri)),
                _ => Err(Exception::new(
                    "AttributeError",
                    format!("'RexHTSQL' object has no attribute '{name}'"),
                )),
            }
        })
        .build();
    let classes = Rc::new(DbClasses {
        db: db_class,
        uri: uri_class2,
    });
    let m = Module::new("rex.db");
    let s = session.clone();
    let c = classes.clone();
    m.add_fn("get_db", move |_, _| {
        let handle = s.active()?;
        Ok(db_object(
            &c,
            handle.app.db.clone(),
            &app_db_uri(&handle.app),
        ))
    });
    interp.register_module("rex.db", m);
    classes
}

/// The application database's URL as rex shows it: the `db` setting.
pub(super) fn app_db_uri(app: &crate::core::app::App) -> String {
    app.settings
        .get_str("db")
        .map_or_else(|| format!("pgsql:{}", app.db.name), str::to_string)
}

/// A script value as an HTSQL parameter.
fn param(it: &mut Interpreter, v: &Value) -> Result<htsql::Value, Exception> {
    Ok(match v {
        Value::None => htsql::Value::Null,
        Value::Bool(b) => htsql::Value::Bool(*b),
        Value::Int(i) => htsql::Value::Int(*i),
        Value::Float(f) => htsql::Value::Float(*f),
        Value::Str(s) => htsql::Value::Text(s.to_string()),
        other => htsql::Value::Json(to_json(it, other)?),
    })
}

fn product_value(it: &mut Interpreter, classes: &Rc<Classes>, product: Product) -> Value {
    let _ = it;
    new_object(
        &classes.product,
        ProductState {
            classes: classes.clone(),
            product,
        },
    )
}

struct ProductState {
    classes: Rc<Classes>,
    product: Product,
}

struct RecordState {
    classes: Rc<Classes>,
    record: Record,
}

struct IdentityState(Identity);

/// An HTSQL value as a script value.
fn value(
    it: &mut Interpreter,
    classes: &Rc<Classes>,
    v: &htsql::Value,
) -> Result<Value, Exception> {
    use htsql::Value as H;
    Ok(match v {
        H::Null => Value::None,
        H::Bool(b) => Value::Bool(*b),
        H::Int(i) => Value::Int(*i),
        H::Float(f) => Value::Float(*f),
        H::Text(s) => Value::str(s),
        H::Json(j) => crate::script::native::from_json(j),
        H::Decimal(d) => call_module(it, "decimal", "Decimal", vec![Value::str(d)])?,
        H::Date(d) => {
            use chrono::Datelike;
            call_module(
                it,
                "datetime",
                "date",
                vec![
                    Value::Int(d.year() as i64),
                    Value::Int(d.month() as i64),
                    Value::Int(d.day() as i64),
                ],
            )?
        }
        H::Time(t) => {
            use chrono::Timelike;
            call_module(
                it,
                "datetime",
                "time",
                vec![
                    Value::Int(t.hour() as i64),
                    Value::Int(t.minute() as i64),
                    Value::Int(t.second() as i64),
                    Value::Int((t.nanosecond() / 1000) as i64),
                ],
            )?
        }
        H::DateTime(t) => datetime_value(it, t)?,
        H::Identity(id) => new_object(&classes.identity, IdentityState(id.clone())),
        H::Record(r) => new_object(
            &classes.record,
            RecordState {
                classes: classes.clone(),
                record: r.clone(),
            },
        ),
        H::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(value(it, classes, item)?);
            }
            Value::list(out)
        }
    })
}

/// A `datetime.datetime` script value.
pub(super) fn datetime_value(
    it: &mut Interpreter,
    t: &chrono::NaiveDateTime,
) -> Result<Value, Exception> {
    use chrono::{Datelike, Timelike};
    call_module(
        it,
        "datetime",
        "datetime",
        vec![
            Value::Int(t.year() as i64),
            Value::Int(t.month() as i64),
            Value::Int(t.day() as i64),
            Value::Int(t.hour() as i64),
            Value::Int(t.minute() as i64),
            Value::Int(t.second() as i64),
            Value::Int((t.nanosecond() / 1000) as i64),
        ],
    )
}

/// Calls `module.name(*args)` of a script module (dates, decimals).
fn call_module(
    it: &mut Interpreter,
    module: &str,
    name: &str,
    args: Vec<Value>,
) -> Result<Value, Exception> {
    let m = it.import_module(module)?;
    let f = m.get(name).ok_or_else(|| {
        Exception::new(
            "AttributeError",
            format!("module '{module}' has no attribute '{name}'"),
        )
    })?;
    it.call(&f, crate::script::value::Args::new(args))
}

fn product_class(interp: &Interpreter) -> Rc<Class> {
    ClassBuilder::new(interp, "Product", "htsql.core.fmt.emit")
        .method("__len__", |_, this, _| {
            let st = state_of::<ProductState>(this, "Product")?;
            Ok(Value::Int(st.product.len() as i64))
        })
        .method("__bool__", |_, this, _| {
            let st = state_of::<ProductState>(this, "Product")?;
            Ok(Value::Bool(st.product.truthy()))
        })
        .method("__getitem__", |it, this, a| {
            let st = state_of::<ProductState>(this, "Product")?;
            let data = product_data(it, &st)?;
            it.get_item(&data, a.arg(0)?)
        })
        .method("__iter__", |it, this, _| {
            let st = state_of::<ProductState>(this, "Product")?;
            match product_data(it, &st)? {
                Value::List(items) => Ok(Value::Iter(Rc::new(std::cell::RefCell::new(
                    crate::script::value::Iter::List(items, 0),
                )))),
                other => Err(Exception::type_error(format!(
                    "'{}' object is not iterable",
                    other.type_name()
                ))),
            }
        })
        .method("__getattr__", |it, this, a| {
            let st = state_of::<ProductState>(this, "Product")?;
            let name = arg_str(a.arg(0)?, "attribute")?;
            match &*name {
                "data" => product_data(it, &st),
                _ => Err(Exception::new(
                    "AttributeError",
                    format!("'Product' object has no attribute '{name}'"),
                )),
            }
        })
        .method("__str__", |_, this, _| {
            let st = state_of::<ProductState>(this, "Product")?;
            Ok(Value::str(&st.product.dump()))
        })
        .method("__repr__", |_, this, _| {
            let st = state_of::<ProductState>(this, "Product")?;
            Ok(Value::str(&format!("<Product {}>", st.product.dump())))
        })
        .build()
}

fn product_data(it: &mut Interpreter, st: &ProductState) -> Result<Value, Exception> {
    value(it, &st.classes, &st.product.data)
}

fn record_class(interp: &Interpreter) -> Rc<Class> {
    ClassBuilder::new(interp, "Record", "htsql.core.domain")
        .method("__getattr__", |it, this, a| {
            let st = state_of::<RecordState>(this, "Record")?;
            let name = arg_str(a.arg(0)?, "attribute")?;
            match st.record.get(&name) {
                Some(v) => value(it, &st.classes, v),
                None => Err(Exception::new(
                    "AttributeError",
                    format!(
                        "'{}' object has no attribute '{name}'",
                        st.record.name.as_deref().unwrap_or("Record")
                    ),
                )),
            }
        })
        .method("__getitem__", |it, this, a| {
            let st = state_of::<RecordState>(this, "Record")?;
            let i = crate::script::native::arg_int(a.arg(0)?, "index")?;
            let n = st.record.fields.len() as i64;
            let idx = if i < 0 { i + n } else { i };
            match st.record.at(idx.max(0) as usize).filter(|_| idx >= 0) {
                Some(v) => value(it, &st.classes, v),
                None => Err(Exception::new(
                    "IndexError",
                    "tuple index out of range".to_string(),
                )),
            }
        })
        .method("__len__", |_, this, _| {
            let st = state_of::<RecordState>(this, "Record")?;
            Ok(Value::Int(st.record.fields.len() as i64))
        })
        .method("__repr__", |_, this, _| {
            let st = state_of::<RecordState>(this, "Record")?;
            Ok(Value::str(&st.record.repr()))
        })
        .build()
}

fn identity_class(interp: &Interpreter) -> Rc<Class> {
    ClassBuilder::new(interp, "ID", "htsql.core.domain")
        .method("__str__", |_, this, _| {
            let st = state_of::<IdentityState>(this, "ID")?;
            Ok(Value::str(&st.0.to_string()))
        })
        .method("__repr__", |_, this, _| {
            let st = state_of::<IdentityState>(this, "ID")?;
            Ok(Value::str(&st.0.repr()))
        })
        .method("__eq__", |_, this, a| {
            let me = state_of::<IdentityState>(this, "ID")?;
            Ok(
                match crate::script::native::state::<IdentityState>(a.arg(0)?) {
                    Some(other) => Value::Bool(other.0 == me.0),
                    None => Value::NotImplemented,
                },
            )
        })
        .build()
}
