//! `rex.job`: the `JobExecutor` extension base (subclassed by application code) and
//! rex.job's task workers `JobExecutorWorker`, `JobQueuerWorker`, `JobCleanupWorker`.

use super::app_code::with_interpreter;
use super::rex_asynctask::{init_logger, worker_class};
use super::Session;
use crate::script::native::{arg_int, arg_str, to_json, ClassBuilder};
use crate::script::value::{Exception, Module, Value};
use crate::script::Interpreter;
use std::rc::Rc;

pub fn install(interp: &mut Interpreter, session: &Rc<Session>) {
    let m = Module::new("rex.job");
    let s = session.clone();
    let executor = ClassBuilder::new(interp, "JobExecutor", "rex.job")
        .attr("name", Value::None)
        .init(|it, inst, _| init_logger(it, inst))
        .method("execute", |_, _, _| {
            Err(Exception::with_args("NotImplementedError", vec![]))
        })
        .method("update_facet", move |it, _, a| {
            let p = &a.pos;
            if p.len() != 2 {
                return Err(Exception::type_error(format!(
                    "update_facet() takes 2 positional arguments but {} were given",
                    p.len()
                )));
            }
            let name = arg_str(&p[0], "update_facet() name")?.to_string();
            let code = arg_int(&p[1], "update_facet() code")?;
            let mut fields = Vec::with_capacity(a.kw.len());
            for (k, v) in &a.kw {
                fields.push((k.to_string(), to_json(it, v)?));
            }
            let refs: Vec<(&str, serde_json::Value)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            let handle = s.active()?;
            crate::job::update_facet(&handle.app, &name, code, &refs).map_err(|e| s.raise(e))?;
            Ok(Value::None)
        })
        .build();
    m.set("JobExecutor", Value::Class(executor));

    let s = session.clone();
    let executor_worker = worker_class(interp, "JobExecutorWorker", "rex.job", "job_executor")
        .method("process", move |it, _, a| {
            let payload = to_json(it, a.arg(0)?)?;
            let handle = s.active()?;
            with_interpreter(it, || {
                crate::job::executor_worker::process(&handle.app, &handle.executors, &payload)
            })
            .map_err(|e| s.raise(e))?;
            Ok(Value::None)
        })
        .build();
    m.set("JobExecutorWorker", Value::Class(executor_worker));

    let s = session.clone();
    let queuer = worker_class(interp, "JobQueuerWorker", "rex.job", "job_queuer")
        .method("process", move |_, _, _| {
            let handle = s.active()?;
            crate::asynctask::get_transport(&handle.app, None)
                .and_then(|t| crate::job::queuer::process(&handle.app, t.as_ref()))
                .map_err(|e| s.raise(e))?;
            Ok(Value::None)
        })
        .build();
    m.set("JobQueuerWorker", Value::Class(queuer));

    let s = session.clone();
    let cleanup = worker_class(interp, "JobCleanupWorker", "rex.job", "job_cleanup")
        .method("process", move |_, _, _| {
            let handle = s.active()?;
            crate::job::cleanup::process(&handle.app).map_err(|e| s.raise(e))?;
            Ok(Value::None)
        })
        .build();
    m.set("JobCleanupWorker", Value::Class(cleanup));
    interp.register_module("rex.job", m);
}
