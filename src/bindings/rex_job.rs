//! `rex.job`: `JobExecutorWorker().process({'code': n})`.

use super::Session;
use crate::script::native::{to_json, ClassBuilder};
use crate::script::value::{Module, Value};
use crate::script::Interpreter;
use std::rc::Rc;

pub fn install(interp: &mut Interpreter, session: &Rc<Session>) {
    let s = session.clone();
    let worker = ClassBuilder::new(interp, "JobExecutorWorker", "rex.job")
        .attr("name", Value::str("job_executor"))
        .method("process", move |it, _, a| {
            let payload = to_json(it, a.arg(0)?)?;
            let handle = s.active()?;
            crate::job::executor_worker::process(&handle.app, &handle.executors, &payload)
                .map_err(|e| s.raise(e))?;
            Ok(Value::None)
        })
        .build();
    let m = Module::new("rex.job");
    m.set("JobExecutorWorker", Value::Class(worker));
    interp.register_module("rex.job", m);
}
