//! rex's definition language as transcripts see it: the rex.core validators
//! (`StrVal`, `RecordVal`, ... and the `Record` values they make), rex.mart's
//! definition validators (`DefinitionVal`, `ProcessorVal`, ...), and the `Processor`
//! extension base with the built-in processors. The validators themselves are the
//! domain's (`core::validate`, `mart::definition`); this file converts script values
//! to nodes and validated nodes back to `Record`s, dicts and lists ([`Shape`]).

mod definers_py;
mod fields_py;
mod processors_py;
mod tables_py;

use super::Session;
use crate::core::validate::{
    AnyVal, BoolVal, ChoiceVal, FloatVal, IntVal, MapVal, MaybeVal, OneOfVal, OneOrSeqVal,
    RecordVal, SeqVal, StrVal, Validator,
};
use crate::core::yaml::{load_str, Node, NodeValue};
use crate::mart::definition::{
    etl_script_val, AssessmentDefinitionVal, DefinitionVal, DynamicAssessmentVal, MartBaseVal,
    MartConfigurationVal, ParameterVal, ParentalRelationshipVal, ProcessorVal, QuotaVal,
};
use crate::mart::processors::{self, ExtensionProcessor, OptionSpec};
use crate::mart::settings::MartSettings;
use crate::script::native::{
    arg_str, call_method, new_object, reentrant, state, state_of, with_interpreter, ClassBuilder,
};
use crate::script::value::{
    Args, Class, DescKind, Dict, Exception, Instance, Iter, NativeFunction, Value,
};
use crate::script::Interpreter;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// How a validated node reads in Python: which mappings are `Record`s.
#[derive(Clone)]
pub(super) enum Shape {
    /// Mappings are dicts, sequences lists.
    Plain,
    /// A `Record` of these fields, in this order.
    Record(Rc<Vec<(String, Shape)>>),
    /// `ParameterVal`'s record: `default=REQUIRED` when no default was given.
    Param,
    /// A list of items of one shape.
    Seq(Rc<Shape>),
    /// One of several shapes: the first record shape whose first field is present.
    Union(Rc<Vec<Shape>>),
}

fn rec(fields: &[(&str, Shape)]) -> Shape {
    Shape::Record(Rc::new(
        fields
            .iter()
            .map(|(n, s)| (n.to_string(), s.clone()))
            .collect(),
    ))
}

fn plain_rec(fields: &[&str]) -> Shape {
    Shape::Record(Rc::new(
        fields
            .iter()
            .map(|n| (n.to_string(), Shape::Plain))
            .collect(),
    ))
}

fn seq(shape: Shape) -> Shape {
    Shape::Seq(Rc::new(shape))
}

/// What converting nodes to script values needs: the `Record` class and `REQUIRED`.
pub(super) struct Conv {
    record: Rc<Class>,
    required: Value,
}

/// A `Record`'s field names (the values are the instance's attributes).
struct RecordS {
    fields: Vec<String>,
}

impl Conv {
    fn record(&self, pairs: Vec<(String, Value)>) -> Value {
        let inst = Instance::new(self.record.clone());
        let fields = pairs.iter().map(|(k, _)| k.clone()).collect();
        for (k, v) in pairs {
            inst.set(&k, v);
        }
        inst.set_native(RecordS { fields });
        Value::Instance(inst)
    }

    /// A validated node as Python sees it.
    pub(super) fn value(
        &self,
        it: &mut Interpreter,
        node: &Node,
        shape: &Shape,
    ) -> Result<Value, Exception> {
        Ok(match (&node.value, shape) {
            (NodeValue::Null, _) => Value::None,
            (NodeValue::Map(_), Shape::Record(fields)) => {
                let mut pairs = Vec::with_capacity(fields.len());
                for (name, s) in fields.iter() {
                    let v = match node.get(name) {
                        Some(n) => self.value(it, n, s)?,
                        None => Value::None,
                    };
                    pairs.push((name.clone(), v));
                }
                self.record(pairs)
            }
            (NodeValue::Map(_), Shape::Param) => {
                let get = |it: &mut Interpreter, k: &str| match node.get(k) {
                    Some(n) => self.value(it, n, &Shape::Plain),
                    None => Ok(Value::None),
                };
                let required = node.get("required").and_then(Node::as_bool) == Some(true);
                let default = if required {
                    self.required.clone()
                } else {
                    match (node.get("type").and_then(Node::as_str), node.get("default")) {
                        (Some(t @ ("date" | "time" | "dateTime")), Some(d)) if !d.is_null() => {
                            temporal(it, t, d)?
                        }
                        _ => get(it, "default")?,
                    }
                };
                let (name, kind) = (get(it, "name")?, get(it, "type")?);
                self.record(vec![
                    ("name".into(), name),
                    ("type".into(), kind),
                    ("default".into(), default),
                ])
            }
            (NodeValue::Seq(items), Shape::Seq(inner)) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.value(it, i, inner)?);
                }
                Value::list(out)
            }
            (NodeValue::Map(_), Shape::Union(shapes)) => {
                let chosen = shapes.iter().find(|s| match s {
                    Shape::Record(f) => f.first().is_some_and(|(n, _)| node.get(n).is_some()),
                    _ => false,
                });
                self.value(it, node, chosen.unwrap_or(&Shape::Plain))?
            }
            (NodeValue::Bool(b), _) => Value::Bool(*b),
            (NodeValue::Int(i), _) => Value::Int(*i),
            (NodeValue::Float(f), _) => Value::Float(*f),
            (NodeValue::Str(s), _) => Value::str(s),
            (NodeValue::Seq(items), _) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.value(it, i, &Shape::Plain)?);
                }
                Value::list(out)
            }
            (NodeValue::Map(entries), _) => {
                let mut d = Dict::new();
                for (k, v) in entries {
                    let v = self.value(it, v, &Shape::Plain)?;
                    d.set_str(k, v);
                }
                Value::dict(d)
            }
        })
    }
}

/// A date, time or date/time parameter default as a `datetime` object.
fn temporal(it: &mut Interpreter, kind: &str, node: &Node) -> Result<Value, Exception> {
    use crate::mart::params::{DataType, ParamValue};
    match DataType::from_name(kind).and_then(|t| t.coerce(node).ok()) {
        Some(ParamValue::Date(d)) => datetime_object(it, Temporal::Date(d)),
        Some(ParamValue::Time(t)) => datetime_object(it, Temporal::Time(t)),
        Some(ParamValue::DateTime(dt)) => datetime_object(it, Temporal::DateTime(dt)),
        _ => Ok(Value::None),
    }
}

/// A date, a time or a date/time.
pub(super) enum Temporal {
    Date(chrono::NaiveDate),
    Time(chrono::NaiveTime),
    DateTime(chrono::NaiveDateTime),
}

/// The script's `datetime.date` / `time` / `datetime` object for a value.
pub(super) fn datetime_object(it: &mut Interpreter, value: Temporal) -> Result<Value, Exception> {
    use chrono::{Datelike, Timelike};
    let module = it.import_module("datetime")?;
    let class = |name: &str| module.get(name).unwrap_or(Value::None);
    let int = |v: u32| Value::Int(v as i64);
    let time_args = |t: &chrono::NaiveTime| {
        vec![
            int(t.hour()),
            int(t.minute()),
            int(t.second()),
            int(t.nanosecond() / 1000),
        ]
    };
    let date_args =
        |d: &chrono::NaiveDate| vec![Value::Int(d.year() as i64), int(d.month()), int(d.day())];
    match value {
        Temporal::Date(d) => it.call(&class("date"), Args::new(date_args(&d))),
        Temporal::Time(t) => it.call(&class("time"), Args::new(time_args(&t))),
        Temporal::DateTime(dt) => {
            let mut args = date_args(&dt.date());
            args.extend(time_args(&dt.time()));
            it.call(&class("datetime"), Args::new(args))
        }
    }
}

/// A script value as a node to validate (records read as mappings).
pub(super) fn to_node(it: &mut Interpreter, v: &Value) -> Result<Node, Exception> {
    if crate::script::interp::stack_exhausted() {
        return Err(Exception::value_error("Circular reference detected"));
    }
    Ok(Node::new(match v {
        Value::None => NodeValue::Null,
        Value::Bool(b) => NodeValue::Bool(*b),
        Value::Int(i) => NodeValue::Int(*i),
        Value::Float(f) => NodeValue::Float(*f),
        Value::Str(s) => NodeValue::Str(s.to_string()),
        Value::List(l) => {
            let items = l.borrow().clone();
            NodeValue::Seq(
                items
                    .iter()
                    .map(|x| to_node(it, x))
                    .collect::<Result<_, _>>()?,
            )
        }
        Value::Tuple(t) => {
            NodeValue::Seq(t.iter().map(|x| to_node(it, x)).collect::<Result<_, _>>()?)
        }
        Value::Dict(d) => {
            let items = d.borrow().items();
            let mut out = Vec::with_capacity(items.len());
            for (k, x) in items {
                let key = match &k {
                    Value::Str(s) => s.to_string(),
                    other => it.str(other)?,
                };
                out.push((key, to_node(it, &x)?));
            }
            NodeValue::Map(out)
        }
        Value::Instance(inst) => match inst.native::<RecordS>() {
            Some(r) => {
                let mut out = Vec::new();
                for f in &r.fields {
                    let x = inst.get(f).unwrap_or(Value::None);
                    out.push((f.clone(), to_node(it, &x)?));
                }
                NodeValue::Map(out)
            }
            None if inst.class.module == "decimal" => match it.str(v)?.parse::<f64>() {
                Ok(f) => NodeValue::Float(f),
                Err(_) => return Err(unvalidatable(v)),
            },
            None => return Err(unvalidatable(v)),
        },
        other => return Err(unvalidatable(other)),
    }))
}

/// Values that are not data (functions, classes, arbitrary objects).
fn unvalidatable(v: &Value) -> Exception {
    Exception::type_error(format!(
        "a '{}' value cannot be validated: validators take strings, numbers, \
         booleans, None, lists, tuples, dicts and Records",
        v.type_name()
    ))
}

/// A validator object's state: the domain validator and how its result reads.
pub(super) struct ValS {
    pub(super) v: Arc<dyn Validator>,
    pub(super) shape: Shape,
}

/// `rex.core.Error` from a domain error.
fn error(s: &Session, e: crate::core::Error) -> Exception {
    s.raise(e)
}

/// The validator an argument names: a validator class (instantiated) or object.
fn val_arg(it: &mut Interpreter, v: &Value) -> Result<Rc<ValS>, Exception> {
    let obj = match v {
        Value::Class(_) => it.call(v, Args::default())?,
        other => other.clone(),
    };
    state::<ValS>(&obj).ok_or_else(|| {
        Exception::type_error(format!("expected a validator, got '{}'", obj.type_name()))
    })
}

fn opt_val(it: &mut Interpreter, v: Option<&Value>) -> Result<Option<Rc<ValS>>, Exception> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(v) => val_arg(it, v).map(Some),
    }
}

/// The `mart_*` settings of the active application (defaults without one).
fn mart_settings(s: &Session) -> Result<MartSettings, Exception> {
    match s.active() {
        Ok(handle) => MartSettings::from_settings(&handle.app.settings).map_err(|e| s.raise(e)),
        Err(_) => Ok(MartSettings::default()),
    }
}

/// What `@ALL` stands for: the active application's instruments (kept as written
/// without an application).
fn instrument_lister(s: &Session) -> Option<crate::mart::definition::InstrumentLister> {
    let handle = s.active().ok()?;
    Some(crate::mart::definition::app_instruments(
        handle.app.db.clone(),
    ))
}

type Build = dyn Fn(&mut Interpreter, &Args) -> Result<ValS, Exception>;

pub fn install(interp: &mut Interpreter, session: &Rc<Session>) {
    processors::clear();
    CALLABLES.with(|c| c.borrow_mut().clear());
    crate::mart::definers::clear();
    let record = ClassBuilder::new(interp, "Record", "rex.core")
        .method("__repr__", |it, this, _| {
            let (fields, inst) = record_parts(this)?;
            let mut parts = Vec::new();
            for f in fields {
                let v = inst.get(&f).unwrap_or(Value::None);
                parts.push(format!("{f}={}", it.repr(&v)?));
            }
            Ok(Value::str(&format!("Record({})", parts.join(", "))))
        })
        .method("__eq__", |it, this, a| {
            let (fields, inst) = record_parts(this)?;
            let Ok((other_fields, other)) = record_parts(a.arg(0)?) else {
                return Ok(Value::NotImplemented);
            };
            if fields != other_fields {
                return Ok(Value::Bool(false));
            }
            for f in &fields {
                let (x, y) = (
                    inst.get(f).unwrap_or(Value::None),
                    other.get(f).unwrap_or(Value::None),
                );
                if !it.eq(&x, &y)? {
                    return Ok(Value::Bool(false));
                }
            }
            Ok(Value::Bool(true))
        })
        .method("__len__", |_, this, _| {
            Ok(Value::Int(record_parts(this)?.0.len() as i64))
        })
        .method("__iter__", |_, this, _| {
            let (fields, inst) = record_parts(this)?;
            let items = fields
                .iter()
                .map(|f| inst.get(f).unwrap_or(Value::None))
                .collect();
            Ok(Value::Iter(Rc::new(RefCell::new(Iter::Seq(items, 0)))))
        })
        .method("__getitem__", |_, this, a| {
            let (fields, inst) = record_parts(this)?;
            let name = match a.arg(0)? {
                Value::Str(s) => s.to_string(),
                Value::Int(i) => {
                    let n = fields.len() as i64;
                    let idx = if *i < 0 { i + n } else { *i };
                    match fields.get(idx as usize).filter(|_| idx >= 0) {
                        Some(f) => f.clone(),
                        None => {
                            return Err(Exception::new("IndexError", "tuple index out of range"))
                        }
                    }
                }
                other => {
                    return Err(Exception::type_error(format!(
                        "tuple indices must be integers or slices, not {}",
                        other.type_name()
                    )))
                }
            };
            inst.get(&name)
                .ok_or_else(|| Exception::with_args("KeyError", vec![Value::str(&name)]))
        })
        .method("_asdict", |_, this, _| {
            let (fields, inst) = record_parts(this)?;
            let mut d = Dict::new();
            for f in fields {
                d.set_str(&f, inst.get(&f).unwrap_or(Value::None));
            }
            Ok(Value::dict(d))
        })
        .method("__clone__", |_, this, a| {
            let (fields, inst) = record_parts(this)?;
            let copy = Instance::new(inst.class.clone());
            for f in &fields {
                copy.set(f, inst.get(f).unwrap_or(Value::None));
            }
            for (k, v) in a.kw {
                if !fields.iter().any(|f| **f == *k) {
                    return Err(Exception::type_error(format!(
                        "__clone__() got an unexpected keyword argument '{k}'"
                    )));
                }
                copy.set(&k, v);
            }
            copy.set_native(RecordS { fields });
            Ok(Value::Instance(copy))
        })
        .build();
    let required_class = ClassBuilder::new(interp, "RequiredType", "rex.mart.util")
        .method("__repr__", |_, _, _| Ok(Value::str("REQUIRED")))
        .build();
    let required = Value::Instance(Instance::new(required_class));
    let conv = Rc::new(Conv {
        record: record.clone(),
        required: required.clone(),
    });
    let base = ClassBuilder::new(interp, "Validator", "rex.core").build();

    let core = interp.import_module("rex.core").ok();
    if let Some(Value::Class(error)) = core.as_ref().and_then(|m| m.get("Error")) {
        error.set(
            "__str__",
            NativeFunction::value("Error.__str__", |it, a| error_text(it, a.arg(0)?)),
        );
    }
    let mart = interp.import_module("rex.mart").ok();
    let defs = Defs {
        session: session.clone(),
        conv: conv.clone(),
        base: base.clone(),
    };
    if let Some(m) = &core {
        m.set("Record", Value::Class(record));
        m.set("Validator", Value::Class(base.clone()));
        for (name, build) in core_validators() {
            m.set(
                name,
                Value::Class(defs.class(interp, name, "rex.core", build)),
            );
        }
    }
    if let Some(m) = &mart {
        m.set("REQUIRED", required);
        for (name, build) in mart_validators(session) {
            m.set(
                name,
                Value::Class(defs.class(interp, name, "rex.mart", build)),
            );
        }
        install_util(interp, session, m);
        let meta = processors_py::extension_meta(interp);
        processors_py::install(interp, session, m, &conv, &meta);
        definers_py::install(interp, session, m, &conv, &meta);
        fields_py::install(interp, session);
        tables_py::install(interp, session, &conv);
    }
}

/// `str(rex.core.Error(message, payload))`: the message, then the payload
/// indented (rex's error paragraphs).
fn error_text(it: &mut Interpreter, e: &Value) -> Result<Value, Exception> {
    let args = match it.get_attr(e, "args")? {
        Value::Tuple(t) => t.to_vec(),
        _ => Vec::new(),
    };
    let text = |it: &mut Interpreter, v: &Value| match v {
        Value::Str(s) => Ok(s.to_string()),
        other => it.str(other),
    };
    Ok(Value::str(&match args.as_slice() {
        [] => String::new(),
        [message] => text(it, message)?,
        [message, payload] if payload.is_none() => text(it, message)?,
        [message, payload] => {
            let (m, p) = (text(it, message)?, text(it, payload)?);
            crate::core::Error::with(m, p).to_string()
        }
        _ => it.str(&Value::tuple(args.clone()))?,
    }))
}

/// Makes validator classes sharing `__call__` and `parse`.
struct Defs {
    session: Rc<Session>,
    conv: Rc<Conv>,
    base: Rc<Class>,
}

impl Defs {
    fn class(
        &self,
        interp: &Interpreter,
        name: &str,
        module: &str,
        build: Box<Build>,
    ) -> Rc<Class> {
        let _ = interp;
        let (s1, s2) = (self.session.clone(), self.session.clone());
        let (c1, c2) = (self.conv.clone(), self.conv.clone());
        ClassBuilder::with_bases(name, module, vec![self.base.clone()])
            .init(move |it, inst, a| {
                let mut parts = Vec::new();
                for v in &a.pos {
                    parts.push(it.repr(v)?);
                }
                for (k, v) in &a.kw {
                    parts.push(format!("{k}={}", it.repr(v)?));
                }
                let st = build(it, &a)?;
                inst.set_native(st);
                inst.set(
                    "__repr_text__",
                    Value::str(&format!("{}({})", inst.class.name, parts.join(", "))),
                );
                Ok(())
            })
            .method("__repr__", |it, this, _| it.get_attr(this, "__repr_text__"))
            .method("__call__", move |it, this, a| {
                let st = state_of::<ValS>(this, "Validator")?;
                let node = to_node(it, a.arg(0)?)?;
                let out = reentrant(it, || st.v.validate(&node)).map_err(|e| error(&s1, e))?;
                c1.value(it, &out, &st.shape)
            })
            .method("parse", move |it, this, a| {
                let st = state_of::<ValS>(this, "Validator")?;
                let text = arg_str(a.arg(0)?, "parse() text")?;
                let node = load_str(&text, "<unicode string>").map_err(|e| error(&s2, e))?;
                let out = reentrant(it, || st.v.validate(&node)).map_err(|e| error(&s2, e))?;
                c2.value(it, &out, &st.shape)
            })
            .build()
    }
}

fn record_parts(v: &Value) -> Result<(Vec<String>, Rc<Instance>), Exception> {
    match v {
        Value::Instance(inst) => match inst.native::<RecordS>() {
            Some(r) => Ok((r.fields.clone(), inst.clone())),
            None => Err(Exception::type_error("expected a Record")),
        },
        _ => Err(Exception::type_error("expected a Record")),
    }
}

fn plain(v: impl Validator + 'static) -> Result<ValS, Exception> {
    Ok(ValS {
        v: Arc::new(v),
        shape: Shape::Plain,
    })
}

/// rex.core's generic validators, built from their Python arguments.
fn core_validators() -> Vec<(&'static str, Box<Build>)> {
    vec![
        ("AnyVal", Box::new(|_, _| plain(AnyVal))),
        ("BoolVal", Box::new(|_, _| plain(BoolVal))),
        ("FloatVal", Box::new(|_, _| plain(FloatVal))),
        (
            "StrVal",
            Box::new(|_, a| {
                let p = a.bind("StrVal", &["pattern"], 0)?;
                match &p[0] {
                    None | Some(Value::None) => plain(StrVal::new()),
                    Some(v) => {
                        let pattern = arg_str(v, "pattern")?;
                        match StrVal::try_pattern(&pattern) {
                            Ok(v) => plain(v),
                            Err(e) => Err(Exception::value_error(e.to_string())),
                        }
                    }
                }
            }),
        ),
        (
            "IntVal",
            Box::new(|_, a| {
                let p = a.bind("IntVal", &["min_bound", "max_bound"], 0)?;
                let bound = |v: &Option<Value>| match v {
                    Some(Value::Int(i)) => Ok(Some(*i)),
                    None | Some(Value::None) => Ok(None),
                    Some(o) => Err(Exception::type_error(format!(
                        "bound must be int, not {}",
                        o.type_name()
                    ))),
                };
                let (lo, hi) = (bound(&p[0])?, bound(&p[1])?);
                if lo.is_none() && hi.is_none() {
                    plain(IntVal::new())
                } else {
                    plain(IntVal::range(lo, hi))
                }
            }),
        ),
        (
            "ChoiceVal",
            Box::new(|_, a| {
                let mut choices = Vec::new();
                for v in &a.pos {
                    let items = match v {
                        Value::List(l) => l.borrow().clone(),
                        Value::Tuple(t) => t.to_vec(),
                        other => vec![other.clone()],
                    };
                    for c in items {
                        choices.push(arg_str(&c, "choice")?.to_string());
                    }
                }
                plain(ChoiceVal(choices))
            }),
        ),
        (
            "MaybeVal",
            Box::new(|it, a| {
                let inner = val_arg(it, a.arg(0)?)?;
                Ok(ValS {
                    v: Arc::new(MaybeVal::new(inner.v.clone())),
                    shape: inner.shape.clone(),
                })
            }),
        ),
        (
            "SeqVal",
            Box::new(|it, a| {
                let inner = opt_val(it, a.pos.first())?;
                Ok(match inner {
                    Some(i) => ValS {
                        v: Arc::new(SeqVal::new(i.v.clone())),
                        shape: seq(i.shape.clone()),
                    },
                    None => ValS {
                        v: Arc::new(SeqVal::new(AnyVal)),
                        shape: Shape::Plain,
                    },
                })
            }),
        ),
        (
            "OneOrSeqVal",
            Box::new(|it, a| {
                let inner = val_arg(it, a.arg(0)?)?;
                Ok(ValS {
                    v: Arc::new(OneOrSeqVal::new(inner.v.clone())),
                    shape: seq(inner.shape.clone()),
                })
            }),
        ),
        (
            "MapVal",
            Box::new(|it, a| {
                let key = opt_val(it, a.pos.first())?;
                let value = opt_val(it, a.pos.get(1))?;
                let key: Arc<dyn Validator> = key.map_or(Arc::new(AnyVal), |k| k.v.clone());
                let value: Arc<dyn Validator> = value.map_or(Arc::new(AnyVal), |k| k.v.clone());
                plain(MapVal::new(key, value))
            }),
        ),
        (
            "OneOfVal",
            Box::new(|it, a| {
                let mut vals: Vec<Box<dyn Validator>> = Vec::new();
                let mut shapes = Vec::new();
                for v in &a.pos {
                    let s = val_arg(it, v)?;
                    vals.push(Box::new(s.v.clone()));
                    shapes.push(s.shape.clone());
                }
                Ok(ValS {
                    v: Arc::new(OneOfVal(vals)),
                    shape: Shape::Union(Rc::new(shapes)),
                })
            }),
        ),
        (
            "RecordVal",
            Box::new(|it, a| {
                let mut v = RecordVal::new();
                let mut shape = Vec::new();
                for f in &a.pos {
                    let parts = match f {
                        Value::Tuple(t) => t.to_vec(),
                        Value::List(l) => l.borrow().clone(),
                        other => {
                            return Err(Exception::type_error(format!(
                                "RecordVal field must be a tuple, not {}",
                                other.type_name()
                            )))
                        }
                    };
                    if !(2..=3).contains(&parts.len()) {
                        return Err(Exception::type_error(
                            "RecordVal field must be (name, validator[, default])",
                        ));
                    }
                    let name = arg_str(&parts[0], "field name")?.to_string();
                    let fv = val_arg(it, &parts[1])?;
                    shape.push((name.clone(), fv.shape.clone()));
                    v = match parts.get(2) {
                        Some(d) => {
                            let d = to_node(it, d)?;
                            v.optional(&name, fv.v.clone(), d)
                        }
                        None => v.field(&name, fv.v.clone()),
                    };
                }
                Ok(ValS {
                    v: Arc::new(v),
                    shape: Shape::Record(Rc::new(shape)),
                })
            }),
        ),
    ]
}

fn base_shape() -> Shape {
    plain_rec(&["type", "target", "name_token", "fixed_name"])
}

fn etl_shape() -> Shape {
    plain_rec(&["script", "type", "parameters"])
}

fn assessment_shape() -> Shape {
    rec(&[
        ("instrument", Shape::Plain),
        ("name", Shape::Plain),
        ("selector", plain_rec(&["query", "parameters"])),
        ("parental_relationship", plain_rec(&["type", "parent"])),
        ("identifiable", Shape::Plain),
        ("fields", Shape::Plain),
        ("calculations", Shape::Plain),
        ("meta", Shape::Plain),
        (
            "post_load_calculations",
            seq(plain_rec(&["name", "type", "expression"])),
        ),
    ])
}

fn dynamic_shape() -> Shape {
    plain_rec(&["dynamic", "options"])
}

fn definition_shape() -> Shape {
    rec(&[
        ("id", Shape::Plain),
        ("label", Shape::Plain),
        ("description", Shape::Plain),
        ("base", base_shape()),
        ("quota", plain_rec(&["per_owner"])),
        ("deploy", Shape::Plain),
        ("parameters", seq(Shape::Param)),
        ("post_deploy_scripts", seq(etl_shape())),
        (
            "assessments",
            seq(Shape::Union(Rc::new(vec![
                assessment_shape(),
                dynamic_shape(),
            ]))),
        ),
        ("post_assessment_scripts", seq(etl_shape())),
        ("processors", seq(plain_rec(&["id", "options"]))),
        ("base_path", Shape::Plain),
    ])
}

fn run_list_entry_shape() -> Shape {
    plain_rec(&[
        "owner",
        "definition",
        "halt_on_failure",
        "purge_on_failure",
        "leave_incomplete",
        "parameters",
    ])
}

/// rex.mart's validators; the ones that read `mart_*` settings take the active
/// application's when made.
fn mart_validators(session: &Rc<Session>) -> Vec<(&'static str, Box<Build>)> {
    let s = session.clone();
    let (l1, l2) = (session.clone(), session.clone());
    let settings = move || mart_settings(&s);
    let (s1, s2, s3, s4, s5) = (
        settings.clone(),
        settings.clone(),
        settings.clone(),
        settings.clone(),
        settings,
    );
    vec![
        (
            "MartBaseVal",
            Box::new(move |_, _| {
                let max_name_length = s1()?.max_name_length;
                made(Arc::new(MartBaseVal { max_name_length }), base_shape())
            }),
        ),
        (
            "QuotaVal",
            Box::new(move |_, _| {
                let default_per_owner = s2()?.default_per_owner;
                made(
                    Arc::new(QuotaVal { default_per_owner }),
                    plain_rec(&["per_owner"]),
                )
            }),
        ),
        (
            "ParameterVal",
            Box::new(|_, _| made(Arc::new(ParameterVal), Shape::Param)),
        ),
        (
            "EtlScriptVal",
            Box::new(|_, _| made(Arc::new(etl_script_val()), etl_shape())),
        ),
        (
            "ParentalRelationshipVal",
            Box::new(|_, _| {
                made(
                    Arc::new(ParentalRelationshipVal),
                    plain_rec(&["type", "parent"]),
                )
            }),
        ),
        (
            "AssessmentDefinitionVal",
            Box::new(move |_, _| {
                let max_name_length = s3()?.max_name_length;
                made(
                    Arc::new(AssessmentDefinitionVal { max_name_length }),
                    assessment_shape(),
                )
            }),
        ),
        (
            "DynamicAssessmentVal",
            Box::new(|_, _| made(Arc::new(DynamicAssessmentVal), dynamic_shape())),
        ),
        (
            "ProcessorVal",
            Box::new(|_, _| made(Arc::new(ProcessorVal), plain_rec(&["id", "options"]))),
        ),
        (
            "DefinitionVal",
            Box::new(move |_, _| {
                let val = DefinitionVal {
                    settings: s4()?,
                    instruments: instrument_lister(&l1),
                };
                made(Arc::new(val), definition_shape())
            }),
        ),
        (
            "MartConfigurationVal",
            Box::new(move |_, _| {
                let val = MartConfigurationVal {
                    settings: s5()?,
                    instruments: instrument_lister(&l2),
                };
                made(
                    Arc::new(val),
                    rec(&[("definitions", seq(definition_shape()))]),
                )
            }),
        ),
        (
            "RunListEntryVal",
            Box::new(|_, _| {
                made(
                    Arc::new(crate::mart::runlist::validator()),
                    run_list_entry_shape(),
                )
            }),
        ),
        (
            "RunListVal",
            Box::new(|_, _| {
                made(
                    Arc::new(SeqVal::new(crate::mart::runlist::validator())),
                    seq(run_list_entry_shape()),
                )
            }),
        ),
    ]
}

fn made(v: Arc<dyn Validator>, shape: Shape) -> Result<ValS, Exception> {
    Ok(ValS { v, shape })
}

/// Options of a script processor as the domain checks them: a rex.core validator
/// is the domain's; another callable is called on the lent interpreter.
pub(super) fn option_specs(
    it: &mut Interpreter,
    options: &[Value],
    conv: &Rc<Conv>,
) -> Result<Vec<OptionSpec>, Exception> {
    let mut specs = Vec::new();
    for option in options {
        let parts = match option {
            Value::Tuple(t) => t.to_vec(),
            Value::List(l) => l.borrow().clone(),
            _ => continue,
        };
        let name = arg_str(&parts[0], "option name")?.to_string();
        let validator: Arc<dyn Validator> = match &parts[1] {
            v @ (Value::Class(_) | Value::Instance(_)) if is_rex_validator(v) => {
                val_arg(it, v)?.v.clone()
            }
            other => Arc::new(ScriptCallableVal::new(other.clone(), conv)),
        };
        let default = match parts.get(2) {
            Some(d) => Some(to_node(it, d)?),
            None => None,
        };
        specs.push(OptionSpec {
            name,
            validator,
            default,
        });
    }
    Ok(specs)
}

/// A rex.core validator class or object (not another callable).
fn is_rex_validator(v: &Value) -> bool {
    match v {
        Value::Class(c) => c
            .mro
            .iter()
            .any(|b| b.name == "Validator" && b.module == "rex.core"),
        Value::Instance(_) => state::<ValS>(v).is_some(),
        _ => false,
    }
}

thread_local! {
    /// Script callables used as validators, by [`ScriptCallableVal`] index.
    static CALLABLES: RefCell<Vec<(Value, Rc<Conv>)>> = const { RefCell::new(Vec::new()) };
}

/// A validator written in Python (any callable), called on the interpreter the
/// binding lent to the domain call. Without a lent interpreter (an application's
/// definitions checked when it opens) the value passes unchecked; it is checked
/// again when a mart is created from the transcript.
struct ScriptCallableVal(usize);

impl ScriptCallableVal {
    fn new(f: Value, conv: &Rc<Conv>) -> ScriptCallableVal {
        CALLABLES.with(|c| {
            let mut c = c.borrow_mut();
            c.push((f, conv.clone()));
            ScriptCallableVal(c.len() - 1)
        })
    }
}

impl Validator for ScriptCallableVal {
    fn validate(&self, node: &Node) -> crate::core::Result<Node> {
        let Some((f, conv)) = CALLABLES.with(|c| c.borrow().get(self.0).cloned()) else {
            return Ok(node.clone());
        };
        let ran = with_interpreter(|it| -> Result<Node, String> {
            let call = |it: &mut Interpreter| -> Result<Node, Exception> {
                let v = conv.value(it, node, &Shape::Plain)?;
                let out = it.call(&f, Args::new(vec![v]))?;
                to_node(it, &out)
            };
            call(it).map_err(|mut e| it.exception_message(&mut e))
        });
        match ran {
            None => Ok(node.clone()),
            Some(Ok(n)) => Ok(n),
            Some(Err(text)) => Err(crate::core::Error::new(text)),
        }
    }
}

/// The `rex.core.Error` class of the session, for errors raised with a payload.
pub(super) fn rex_error(s: &Session, message: &str, payload: &str) -> Exception {
    s.error(&crate::core::Error::with(message, payload).to_string())
}

/// A classmethod made of a native function receiving the class first.
pub(super) fn classmethod(
    name: &str,
    f: impl Fn(&mut Interpreter, &Rc<Class>, Args) -> Result<Value, Exception> + 'static,
) -> Value {
    let f = NativeFunction::value(name, move |it, mut a| {
        let cls = match a.pos.first() {
            Some(Value::Class(c)) => c.clone(),
            _ => return Err(Exception::type_error("a classmethod needs its class")),
        };
        a.pos.remove(0);
        f(it, &cls, a)
    });
    Value::Descriptor(Rc::new((DescKind::ClassMethod, f)))
}

/// Calls a script processor's `execute(options, interface)` on the lent
/// interpreter; what the script logs through the interface is returned with the
/// outcome (logged lines count even when the processor then fails).
pub(super) fn run_script_processor(
    class: &Rc<Class>,
    interface: &Rc<Class>,
    conv: &Conv,
    id: &str,
    options: &Node,
    database: String,
) -> (Vec<String>, crate::core::Result<()>) {
    let log: Rc<RefCell<Vec<String>>> = Rc::new(RefCell::new(Vec::new()));
    let ran = with_interpreter(|it| -> Result<(), String> {
        let run = |it: &mut Interpreter| -> Result<(), Exception> {
            let proc = it.call(&Value::Class(class.clone()), Args::default())?;
            let opts = conv.value(it, options, &Shape::Plain)?;
            let iface = new_object(
                interface,
                InterfaceS {
                    log: log.clone(),
                    database: database.clone(),
                },
            );
            call_method(it, &proc, "execute", Args::new(vec![opts, iface]))?;
            Ok(())
        };
        run(it).map_err(|mut e| {
            let inst = it.exception_instance(&mut e);
            let message = it.exception_message(&mut e);
            if inst.class.module == "rex.core" && inst.class.name == "Error" {
                message
            } else if message.is_empty() {
                inst.class.name.clone()
            } else {
                format!("{}: {message}", inst.class.name)
            }
        })
    });
    let lines = log.take();
    let result = match ran {
        None => Err(crate::core::Error::with(
            "Processor is written in Python and cannot run without its application's interpreter:",
            id,
        )),
        Some(Err(text)) => Err(crate::core::Error::new(text)),
        Some(Ok(())) => Ok(()),
    };
    (lines, result)
}

/// The interface a script processor's `execute` receives.
pub(super) struct InterfaceS {
    log: Rc<RefCell<Vec<String>>>,
    database: String,
}

/// `ProcessorInterface`: `log(message)` (a line of the creation log),
/// `get_htsql()` (the mart database as `rex.db` sees it) and `database` (its name).
pub(super) fn interface_class(interp: &Interpreter) -> Rc<Class> {
    ClassBuilder::new(interp, "ProcessorInterface", "rex.mart")
        .method("log", |it, this, a| {
            let st = state_of::<InterfaceS>(this, "ProcessorInterface")?;
            let text = match a.arg(0)? {
                Value::Str(s) => s.to_string(),
                other => it.str(other)?,
            };
            st.log.borrow_mut().push(text);
            Ok(Value::None)
        })
        .method("get_htsql", |it, this, _| {
            // rex.mart's `get_mart_db`: the mart database, as rex.db sees it
            let st = state_of::<InterfaceS>(this, "ProcessorInterface")?;
            let get = it.import_module("rex.mart")?.get("get_mart_db");
            let get =
                get.ok_or_else(|| Exception::type_error("rex.mart.get_mart_db is missing"))?;
            it.call(&get, Args::new(vec![Value::str(&st.database)]))
        })
        .method("__getattr__", |_, this, a| {
            let st = state_of::<InterfaceS>(this, "ProcessorInterface")?;
            match a.arg(0)?.as_str() {
                Some("database") => Ok(Value::str(&st.database)),
                Some(n) => Err(Exception::new(
                    "AttributeError",
                    format!("'ProcessorInterface' object has no attribute '{n}'"),
                )),
                None => Err(Exception::type_error("attribute name must be string")),
            }
        })
        .build()
}

/// A domain processor implemented by a script class.
pub(super) struct ScriptProcessor {
    pub(super) id: String,
    pub(super) class: Rc<Class>,
    pub(super) interface: Rc<Class>,
    pub(super) conv: Rc<Conv>,
    pub(super) specs: Vec<OptionSpec>,
}

impl ExtensionProcessor for ScriptProcessor {
    fn id(&self) -> &str {
        &self.id
    }

    fn options(&self) -> Vec<OptionSpec> {
        self.specs.clone()
    }

    fn execute(
        &self,
        options: &Node,
        mart: &mut postgres::Client,
        log: &mut dyn FnMut(&str),
    ) -> crate::core::Result<()> {
        let database: String = mart.query_one("SELECT current_database()", &[])?.get(0);
        let (lines, result) = run_script_processor(
            &self.class,
            &self.interface,
            &self.conv,
            &self.id,
            options,
            database,
        );
        for line in lines {
            log(&line);
        }
        result
    }
}

/// rex.mart's utilities: `make_safe_token`, `extract_htsql_statements` and the
/// `guarded(message, payload=None)` context manager (any exception leaving its
/// block becomes a `rex.core.Error` with the message as context).
fn install_util(
    interp: &mut Interpreter,
    session: &Rc<Session>,
    m: &Rc<crate::script::value::Module>,
) {
    let s = session.clone();
    m.add_fn("make_safe_token", move |it, a| {
        let p = a.bind("make_safe_token", &["token", "trim"], 1)?;
        let token = match &p[0] {
            Some(Value::Str(t)) => t.to_string(),
            Some(other) => it.str(other)?,
            None => String::new(),
        };
        if let Some(trim) = &p[1] {
            if !it.truthy(trim)? {
                let clean = crate::mart::fields::clean_token(&token);
                if !clean.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
                    return Ok(Value::str(&clean));
                }
            }
        }
        let max = mart_settings(&s)?.max_name_length;
        crate::mart::definition::make_safe_token(&token, max)
            .map(|t| Value::str(&t))
            .map_err(|e| s.raise(e))
    });
    let s = session.clone();
    m.add_fn("extract_htsql_statements", move |_, a| {
        let p = a.positional("extract_htsql_statements", 1, 1)?;
        let text = arg_str(&p[0], "script")?;
        let statements =
            crate::mart::etl::extract_htsql_statements(&text).map_err(|e| s.raise(e))?;
        Ok(Value::list(
            statements.iter().map(|t| Value::str(t)).collect(),
        ))
    });
    struct Guard {
        message: String,
        payload: Option<String>,
    }
    let s = session.clone();
    let guarded = ClassBuilder::new(interp, "guarded", "rex.mart.util")
        .init(|it, inst, a| {
            let p = a.bind("guarded", &["msg", "payload"], 1)?;
            let message = arg_str(p[0].as_ref().unwrap_or(&Value::None), "msg")?.to_string();
            let payload = match &p[1] {
                None | Some(Value::None) => None,
                Some(Value::Str(t)) => Some(t.to_string()),
                Some(other) => Some(it.str(other)?),
            };
            inst.set_native(Guard { message, payload });
            Ok(())
        })
        .method("__enter__", |_, this, _| Ok(this.clone()))
        .method("__exit__", move |it, this, a| {
            let g = state_of::<Guard>(this, "guarded")?;
            let exc = a.pos.get(1).cloned().unwrap_or(Value::None);
            if exc.is_none() {
                return Ok(Value::Bool(false));
            }
            let text = it.str(&exc)?;
            let e = crate::core::Error::new(text);
            let e = match &g.payload {
                Some(p) => e.wrap_with(&g.message, p),
                None => e.wrap(&g.message),
            };
            Err(s.raise(e))
        })
        .build();
    m.set("guarded", Value::Class(guarded));
}
