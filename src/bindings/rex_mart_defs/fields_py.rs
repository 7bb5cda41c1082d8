//! `rex.mart.fields`: the field classes (`TextField` ... `JsonField`) over the
//! domain's `mart::fields::Field`, `make_field` and `merge_field_into`.

use super::{datetime_object, mart_settings, Temporal};
use crate::bindings::Session;
use crate::mart::fields::{make_field, ColumnType, Field, FieldType, FieldValue};
use crate::script::native::{arg_str, state_of, ClassBuilder};
use crate::script::value::{Args, Class, Dict, Exception, Instance, Module, Value};
use crate::script::Interpreter;
use std::cell::RefCell;
use std::rc::Rc;

/// A field object's state.
struct FieldS(RefCell<Field>);

/// The field classes by type, to make the object of a merged or made field.
type Classes = Rc<RefCell<Vec<(FieldType, Rc<Class>)>>>;

fn field_of(v: &Value) -> Result<Rc<FieldS>, Exception> {
    state_of::<FieldS>(v, "SimpleField")
}

/// A script value as a field value.
fn field_value(it: &mut Interpreter, v: &Value) -> Result<FieldValue, Exception> {
    Ok(match v {
        Value::None => FieldValue::Null,
        Value::Bool(b) => FieldValue::Bool(*b),
        Value::Int(i) => FieldValue::Int(*i),
        Value::Float(f) => FieldValue::Float(*f),
        Value::Str(s) => FieldValue::Text(s.to_string()),
        Value::List(l) => {
            let items = l.borrow().clone();
            FieldValue::List(
                items
                    .iter()
                    .map(|x| field_value(it, x))
                    .collect::<Result<_, _>>()?,
            )
        }
        Value::Tuple(t) => FieldValue::Tuple(
            t.iter()
                .map(|x| field_value(it, x))
                .collect::<Result<_, _>>()?,
        ),
        Value::Dict(d) => {
            let items = d.borrow().items();
            let mut out = Vec::new();
            for (k, x) in items {
                let key = it.str(&k)?;
                out.push((key, field_value(it, &x)?));
            }
            FieldValue::Map(out)
        }
        Value::Instance(inst) => {
            let (module, name) = (inst.class.module.as_str(), inst.class.name.as_str());
            let mut num = |attr: &str| -> Result<u32, Exception> {
                match it.get_attr(v, attr)? {
                    Value::Int(i) => Ok(i as u32),
                    _ => Ok(0),
                }
            };
            match (module, name) {
                ("decimal", "Decimal") => FieldValue::Decimal(it.str(v)?),
                ("datetime", "date") => {
                    let (y, m, d) = (num("year")?, num("month")?, num("day")?);
                    chrono::NaiveDate::from_ymd_opt(y as i32, m, d)
                        .map_or(FieldValue::Other, FieldValue::Date)
                }
                ("datetime", "time") => {
                    let (h, mi, s, us) = (
                        num("hour")?,
                        num("minute")?,
                        num("second")?,
                        num("microsecond")?,
                    );
                    chrono::NaiveTime::from_hms_micro_opt(h, mi, s, us)
                        .map_or(FieldValue::Other, FieldValue::Time)
                }
                ("datetime", "datetime") => {
                    let (y, m, d) = (num("year")?, num("month")?, num("day")?);
                    let (h, mi, s, us) = (
                        num("hour")?,
                        num("minute")?,
                        num("second")?,
                        num("microsecond")?,
                    );
                    chrono::NaiveDate::from_ymd_opt(y as i32, m, d)
                        .and_then(|date| {
                            chrono::NaiveTime::from_hms_micro_opt(h, mi, s, us)
                                .map(|t| date.and_time(t))
                        })
                        .map_or(FieldValue::Other, FieldValue::DateTime)
                }
                _ => FieldValue::Other,
            }
        }
        _ => FieldValue::Other,
    })
}

/// A field value as the script sees it.
pub(super) fn script_value(it: &mut Interpreter, v: &FieldValue) -> Result<Value, Exception> {
    Ok(match v {
        FieldValue::Null | FieldValue::Other => Value::None,
        FieldValue::Bool(b) => Value::Bool(*b),
        FieldValue::Int(i) => Value::Int(*i),
        FieldValue::Float(f) => Value::Float(*f),
        FieldValue::Decimal(d) | FieldValue::Text(d) => Value::str(d),
        FieldValue::Date(d) => datetime_object(it, Temporal::Date(*d))?,
        FieldValue::Time(t) => datetime_object(it, Temporal::Time(*t))?,
        FieldValue::DateTime(dt) => datetime_object(it, Temporal::DateTime(*dt))?,
        FieldValue::List(items) | FieldValue::Tuple(items) => {
            let mut out = Vec::new();
            for i in items {
                out.push(script_value(it, i)?);
            }
            Value::list(out)
        }
        FieldValue::Map(entries) => {
            let mut d = Dict::new();
            for (k, x) in entries {
                let x = script_value(it, x)?;
                d.set_str(k, x);
            }
            Value::dict(d)
        }
    })
}

fn opt_str(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::None, |s| Value::str(s))
}

fn str_list(items: &[String]) -> Value {
    Value::list(items.iter().map(|s| Value::str(s)).collect())
}

fn new_field(classes: &Classes, field: Field) -> Value {
    let class = classes
        .borrow()
        .iter()
        .find(|(t, _)| *t == field.field_type)
        .map(|(_, c)| c.clone());
    let inst = Instance::new(class.unwrap_or_else(|| classes.borrow()[0].1.clone()));
    inst.set_native(FieldS(RefCell::new(field)));
    Value::Instance(inst)
}

/// The instrument version argument (`None` and `''` mean none).
fn version_arg(it: &mut Interpreter, v: Option<&Value>) -> Result<Option<String>, Exception> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.to_string())),
        Some(other) => Ok(Some(it.str(other)?)),
    }
}

pub(super) fn install(interp: &mut Interpreter, session: &Rc<Session>) {
    let classes: Classes = Rc::new(RefCell::new(Vec::new()));
    let s = session.clone();
    let (s1, s2, s3) = (session.clone(), session.clone(), session.clone());
    let base = ClassBuilder::new(interp, "SimpleField", "rex.mart.fields")
        .attr("target_type", Value::None)
        .init(move |it, inst, a| {
            let p = a.bind(
                "SimpleField",
                &["name", "instrument_version", "enumerations"],
                1,
            )?;
            let kind = match inst.class.lookup("target_type") {
                Some(Value::Str(t)) => FieldType::from_name(&t),
                _ => None,
            }
            .ok_or_else(|| Exception::type_error("SimpleField cannot be made itself"))?;
            let name = match &p[0] {
                Some(Value::Str(n)) => n.to_string(),
                Some(other) => it.str(other)?,
                None => String::new(),
            };
            let version = version_arg(it, p[1].as_ref())?;
            let max = mart_settings(&s)?.max_name_length;
            let mut field =
                Field::new(kind, &name, version.as_deref(), max).map_err(|e| s.raise(e))?;
            if let Some(e) = p[2].as_ref().filter(|v| !v.is_none()) {
                for item in it.collect(e)? {
                    field.enumerations.push(it.str(&item)?);
                }
            }
            inst.set_native(FieldS(RefCell::new(field)));
            Ok(())
        })
        .method("__repr__", |it, this, _| {
            let f = field_of(this)?;
            let class = it.type_of(this).name.clone();
            let name = crate::core::repr::py_str_repr(&f.0.borrow().name);
            Ok(Value::str(&format!("{class}({name})")))
        })
        .method("__getattr__", |it, this, a| {
            let f = field_of(this)?;
            let f = f.0.borrow();
            Ok(match a.arg(0)?.as_str().unwrap_or_default() {
                "name" => Value::str(&f.name),
                "target_name" => Value::str(f.target_name()),
                "title" => opt_str(&f.title),
                "description" => opt_str(&f.description),
                "source" => opt_str(&f.source),
                "enumerations" => str_list(&f.enumerations),
                "version_mapping" => {
                    let mut d = Dict::new();
                    for (v, t) in &f.version_mapping {
                        d.set_str(v, Value::str(t.name()));
                    }
                    Value::dict(d)
                }
                "enumeration_descriptions" => {
                    let mut d = Dict::new();
                    for (k, v) in &f.enumeration_descriptions {
                        d.set_str(k, Value::str(v));
                    }
                    Value::dict(d)
                }
                other => {
                    let class = it.type_of(this).name.clone();
                    return Err(Exception::new(
                        "AttributeError",
                        format!("'{class}' object has no attribute '{other}'"),
                    ));
                }
            })
        })
        .method("__setattr__", |it, this, a| {
            let f = field_of(this)?;
            let name = arg_str(a.arg(0)?, "attribute name")?;
            let value = a.arg(1)?.clone();
            let text = |it: &mut Interpreter, v: &Value| -> Result<Option<String>, Exception> {
                match v {
                    Value::None => Ok(None),
                    Value::Str(s) => Ok(Some(s.to_string())),
                    other => Ok(Some(it.str(other)?)),
                }
            };
            match &*name {
                "title" => f.0.borrow_mut().title = text(it, &value)?,
                "description" => f.0.borrow_mut().description = text(it, &value)?,
                "source" => f.0.borrow_mut().source = text(it, &value)?,
                "enumerations" => {
                    let mut items = Vec::new();
                    if !value.is_none() {
                        for item in it.collect(&value)? {
                            items.push(it.str(&item)?);
                        }
                    }
                    f.0.borrow_mut().enumerations = items;
                }
                _ => {
                    if let Value::Instance(inst) = this {
                        inst.set(&name, value);
                    }
                }
            }
            Ok(Value::None)
        })
        .method("force_target_name", |_, this, a| {
            let name = arg_str(a.arg(0)?, "name")?;
            field_of(this)?.0.borrow_mut().force_target_name(&name);
            Ok(Value::None)
        })
        .method("get_enum_target_name", |_, this, a| {
            let name = arg_str(a.arg(0)?, "enum")?;
            Ok(Value::str(
                &field_of(this)?.0.borrow().enum_target_name(&name),
            ))
        })
        .method("get_deploy_facts", |_, this, a| {
            let table = arg_str(a.arg(0)?, "table_name")?;
            let facts = field_of(this)?.0.borrow().deploy_facts(&table);
            Ok(Value::list(
                facts
                    .into_iter()
                    .map(|fact| {
                        let mut d = Dict::new();
                        d.set_str("column", Value::str(&fact.column));
                        d.set_str("of", Value::str(&fact.of));
                        d.set_str(
                            "type",
                            match &fact.column_type {
                                ColumnType::Named(n) => Value::str(n),
                                ColumnType::Choices(c) => str_list(c),
                            },
                        );
                        if fact.default_false {
                            d.set_str("default", Value::Bool(false));
                        }
                        d.set_str("required", Value::Bool(false));
                        Value::dict(d)
                    })
                    .collect(),
            ))
        })
        .method("default_coercion", move |it, this, a| {
            let value = a.arg(0)?.clone();
            let repr = it.repr(&value)?;
            let fv = field_value(it, &value)?;
            let cast = field_of(this)?
                .0
                .borrow()
                .coerce(&fv, &repr)
                .map_err(|e| s1.raise(e))?;
            match cast {
                crate::mart::fields::Cast::Value(v) => script_value(it, &v),
                crate::mart::fields::Cast::Choices(c) => Ok(str_list(&c)),
            }
        })
        .method("map_assessment_value", move |it, this, a| {
            let p = a.bind("map_assessment_value", &["value", "instrument_version"], 2)?;
            let value = p[0].clone().unwrap_or(Value::None);
            let repr = it.repr(&value)?;
            let inner = it.get_item(&value, &Value::str("value"))?;
            let fv = field_value(it, &inner)?;
            let version = version_arg(it, p[1].as_ref())?.unwrap_or_default();
            let out = field_of(this)?
                .0
                .borrow()
                .map_assessment_value(&fv, &version, &repr)
                .map_err(|e| s2.raise(e))?;
            script_value(it, &out)
        })
        .method("get_value_mapping", move |it, this, a| {
            let p = a.bind("get_value_mapping", &["value", "instrument_version"], 1)?;
            let value = p[0].clone().unwrap_or(Value::None);
            let version = version_arg(it, p[1].as_ref())?;
            let (fv, repr) = match &version {
                Some(_) => {
                    let inner = it.get_item(&value, &Value::str("value"))?;
                    (field_value(it, &inner)?, it.repr(&value)?)
                }
                None => (field_value(it, &value)?, it.repr(&value)?),
            };
            let mapping = field_of(this)?
                .0
                .borrow()
                .value_mapping(&fv, version.as_deref(), &repr)
                .map_err(|e| s3.raise(e))?;
            let mut d = Dict::new();
            for (k, v) in mapping {
                let v = script_value(it, &v)?;
                d.set_str(&k, v);
            }
            Ok(Value::dict(d))
        })
        .build();
    classes.borrow_mut().push((FieldType::Text, base.clone()));
    let m = Module::new("rex.mart.fields");
    m.set("SimpleField", Value::Class(base.clone()));
    let mut made: Vec<(FieldType, Rc<Class>)> = Vec::new();
    for t in FieldType::ALL {
        let parent = match t {
            FieldType::Enumeration => made
                .iter()
                .find(|(k, _)| *k == FieldType::Text)
                .map(|(_, c)| c.clone()),
            FieldType::EnumerationSet => made
                .iter()
                .find(|(k, _)| *k == FieldType::Enumeration)
                .map(|(_, c)| c.clone()),
            _ => None,
        }
        .unwrap_or_else(|| base.clone());
        let c = ClassBuilder::with_bases(t.class_name(), "rex.mart.fields", vec![parent])
            .attr("target_type", Value::str(t.name()))
            .build();
        m.set(t.class_name(), Value::Class(c.clone()));
        made.push((t, c));
    }
    *classes.borrow_mut() = made;

    let (s, cl) = (session.clone(), classes.clone());
    m.add_fn("make_field", move |it, a| {
        let p = a.bind("make_field", &["field", "name", "instrument_version"], 1)?;
        let field = p[0].clone().unwrap_or(Value::None);
        let kind = it.get_item(&field, &Value::str("type"))?;
        let base = it.get_item(&kind, &Value::str("base"))?;
        let base = it.str(&base)?;
        let name = match p[1].as_ref().filter(|v| !v.is_none()) {
            Some(n) => it.str(n)?,
            None => {
                let id = it.get_item(&field, &Value::str("id"))?;
                it.str(&id)?
            }
        };
        let version = version_arg(it, p[2].as_ref())?;
        let mut enumerations = Vec::new();
        if matches!(base.as_str(), "enumeration" | "enumerationSet") {
            let e = it.get_item(&kind, &Value::str("enumerations"))?;
            for k in it.collect(&e)? {
                enumerations.push(it.str(&k)?);
            }
        }
        let max = mart_settings(&s)?.max_name_length;
        let f = make_field(&base, &name, enumerations, version.as_deref(), max)
            .map_err(|e| s.raise(e))?;
        Ok(new_field(&cl, f))
    });
    let (s, cl) = (session.clone(), classes);
    m.add_fn("merge_field_into", move |it, a| {
        let p = a.positional("merge_field_into", 2, 2)?;
        let (collection, field) = (&p[0], &p[1]);
        let incoming = field_of(field)?.0.borrow().clone();
        let key = Value::str(&incoming.name);
        let existing = match collection {
            Value::Dict(d) => d.borrow().get(&key)?,
            _ => return Err(Exception::type_error("collection must be a dict")),
        };
        let merged = match existing {
            Some(current) => {
                let current = field_of(&current)?.0.borrow().clone();
                let f = current.merge(&incoming).map_err(|e| s.raise(e))?;
                new_field(&cl, f)
            }
            None => field.clone(),
        };
        it.set_item(collection, key, merged)?;
        Ok(Value::None)
    });
    interp.register_module("rex.mart.fields", m);
    let _ = Args::default;
}
