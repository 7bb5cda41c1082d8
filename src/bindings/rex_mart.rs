//! `rex.mart`: `MartCreateWorker` (the `rexmart_create` async task worker) and
//! `MartCreateExecutor` (the `rexmart_create` job executor).

use super::Session;
use crate::asynctask::Worker;
use crate::core::app::Database;
use crate::core::yaml::Node;
use crate::mart::tasks::MartCreateWorker;
use crate::mart::{CreateOptions, Mart, MartCreator};
use crate::script::native::{
    arg_int, arg_str, new_object, reentrant, state_of, to_json, with_interpreter, ClassBuilder,
};
use crate::script::value::{Args, Class, Exception, Module, Value};
use crate::script::Interpreter;
use std::rc::Rc;

pub fn install(interp: &mut Interpreter, session: &Rc<Session>, db_class: &Rc<Class>) {
    let s = session.clone();
    let worker = ClassBuilder::new(interp, "MartCreateWorker", "rex.mart")
        .attr("name", Value::str("rexmart_create"))
        .method("process", move |it, _, a| {
            let payload = to_json(it, a.arg(0)?)?;
            let handle = s.active()?;
            reentrant(it, || MartCreateWorker.process(&handle.app, &payload))
                .map_err(|e| s.raise(e))?;
            Ok(Value::None)
        })
        .build();
    let executor = ClassBuilder::new(interp, "MartCreateExecutor", "rex.mart")
        .attr("name", Value::str("rexmart_create"))
        .build();
    let creator = creator_class(interp, session);
    let m = Module::new("rex.mart");
    m.set("MartCreator", Value::Class(creator));
    let s = session.clone();
    m.add_fn("purge_mart", move |_, a| {
        let code = arg_int(a.arg(0)?, "purge_mart() code")?;
        let handle = s.active()?;
        crate::mart::purge_mart(&handle.app, code).map_err(|e| s.raise(e))?;
        Ok(Value::None)
    });
    let s = session.clone();
    let dbc = db_class.clone();
    m.add_fn("get_mart_db", move |_, a| {
        let name = arg_str(a.arg(0)?, "get_mart_db() name")?;
        let handle = s.active()?;
        let db = Database {
            server: handle.app.hosting.clone(),
            name: name.to_string(),
        };
        Ok(super::rex_db::db_object(&dbc, db))
    });
    m.set("MartCreateWorker", Value::Class(worker));
    m.set("MartCreateExecutor", Value::Class(executor));
    interp.register_module("rex.mart", m);
}

/// `MartCreator(owner, definition)`: checked when made, run when called.
struct CreatorState {
    owner: String,
    definition: String,
}

fn creator_class(interp: &Interpreter, session: &Rc<Session>) -> Rc<Class> {
    let s = session.clone();
    let run = session.clone();
    let mart_class = mart_class(interp);
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
            MartCreator::new(&handle.app, &owner, &definition).map_err(|e| s.raise(e))?;
            inst.set_native(CreatorState { owner, definition });
            Ok(())
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
            let creator = MartCreator::new(&handle.app, &st.owner, &st.definition)
                .map_err(|e| run.raise(e))?;
            let mut callback_error = None;
            // The interpreter is lent to the creation: processors written in Python
            // and the logger callback run on it.
            let result = reentrant(it, || {
                creator.create(options, &parameters, &mut |line: &str| {
                    if let (Some(f), None) = (&logger, &callback_error) {
                        let call =
                            |it: &mut Interpreter| it.call(f, Args::new(vec![Value::str(line)]));
                        if let Some(Err(e)) = with_interpreter(call) {
                            callback_error = Some(e);
                        }
                    }
                })
            });
            if let Some(e) = callback_error {
                return Err(e);
            }
            let mart = result.map_err(|e| run.raise(e))?;
            Ok(new_object(&mart_class, mart))
        })
        .build()
}

/// Inventory records as rex's `Mart` objects.
fn mart_class(interp: &Interpreter) -> Rc<Class> {
    ClassBuilder::new(interp, "Mart", "rex.mart")
        .method("__repr__", |_, this, _| {
            Ok(Value::str(&state_of::<Mart>(this, "Mart")?.py_repr()))
        })
        .method("__getattr__", |it, this, a| {
            let m = state_of::<Mart>(this, "Mart")?;
            let name = arg_str(a.arg(0)?, "attribute")?;
            let datetime = |it: &mut Interpreter, d: &chrono::NaiveDateTime| {
                super::rex_db::datetime_value(it, d)
            };
            Ok(match &*name {
                "code" => Value::Int(m.code),
                "definition" => Value::str(&m.definition),
                "owner" => Value::str(&m.owner),
                "name" => Value::str(&m.name),
                "status" => Value::str(&m.status),
                "pinned" => Value::Bool(m.pinned),
                "size" => m.size.map_or(Value::None, Value::Int),
                "date_creation_started" => datetime(it, &m.date_creation_started)?,
                "date_creation_completed" => match &m.date_creation_completed {
                    Some(d) => datetime(it, d)?,
                    None => Value::None,
                },
                _ => {
                    return Err(Exception::new(
                        "AttributeError",
                        format!("'Mart' object has no attribute '{name}'"),
                    ))
                }
            })
        })
        .build()
}
