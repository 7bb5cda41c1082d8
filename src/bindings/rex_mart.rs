//! `rex.mart`: `MartCreateWorker` (the `rexmart_create` async task worker) and
//! `MartCreateExecutor` (the `rexmart_create` job executor).

use super::Session;
use crate::asynctask::Worker;
use crate::mart::tasks::MartCreateWorker;
use crate::script::native::{to_json, ClassBuilder};
use crate::script::value::{Module, Value};
use crate::script::Interpreter;
use std::rc::Rc;

pub fn install(interp: &mut Interpreter, session: &Rc<Session>) {
    let s = session.clone();
    let worker = ClassBuilder::new(interp, "MartCreateWorker", "rex.mart")
        .attr("name", Value::str("rexmart_create"))
        .method("process", move |it, _, a| {
            let payload = to_json(it, a.arg(0)?)?;
            let handle = s.active()?;
            MartCreateWorker
                .process(&handle.app, &payload)
                .map_err(|e| s.raise(e))?;
            Ok(Value::None)
        })
        .build();
    let executor = ClassBuilder::new(interp, "MartCreateExecutor", "rex.mart")
        .attr("name", Value::str("rexmart_create"))
        .build();
    let m = Module::new("rex.mart");
    m.set("MartCreateWorker", Value::Class(worker));
    m.set("MartCreateExecutor", Value::Class(executor));
    interp.register_module("rex.mart", m);
}
