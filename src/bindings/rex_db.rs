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
}

/// The class of `get_db()` objects; `rex.mart` makes mart databases with it too.
pub(super) fn db_object(class: &Rc<Class>, db: crate::core::app::Database) -> Value {
    new_object(class, DbState { db })
}

pub fn install(interp: &mut Interpreter, session: &Rc<Session>) -> Rc<Class> {
    let classes = Rc::new(Classes {
        product: product_class(interp),
        record: record_class(interp),
        identity: identity_class(interp),
    });
    let s = session.clone();
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
            let product = st
                .db
                .connect()
                .and_then(|mut client| htsql::produce(&mut client, &text, &refs))
                .map_err(|e| s.raise(e))?;
            Ok(product_value(it, &classes, product))
        })
        .build();
    let m = Module::new("rex.db");
    let s = session.clone();
    let db_class2 = db_class.clone();
    m.add_fn("get_db", move |_, _| {
        let handle = s.active()?;
        Ok(db_object(&db_class2, handle.app.db.clone()))
    });
    interp.register_module("rex.db", m);
    db_class
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
        .method("__repr__", |it, this, _| {
            let st = state_of::<ProductState>(this, "Product")?;
            let data = product_data(it, &st)?;
            Ok(Value::str(&format!("<Product {}>", it.repr(&data)?)))
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
