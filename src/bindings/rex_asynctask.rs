//! `rex.asynctask`: the `AsyncTaskWorker` extension base, `get_transport` and its
//! transports (`submit_task`, `get_task`, `poll_queue`), `process_queue`,
//! `run_worker`; and `rex.logging.get_logger` (the `self.logger` of extensions).

use super::app_code::{reraise, with_interpreter};
use super::Session;
use crate::asynctask::{queue_name, Transport};
use crate::core::app::App;
use crate::script::format::percent_format;
use crate::script::native::{arg_str, from_json, new_object, state_of, to_json, ClassBuilder};
use crate::script::value::{Args, Class, Exception, Instance, Module, Value};
use crate::script::Interpreter;
use std::rc::Rc;
use std::sync::Arc;

/// The Rust state of a `Logger`: its name.
struct LoggerState(String);

/// The Rust state of a transport object.
struct TransportState(Arc<dyn Transport>);

pub fn install(interp: &mut Interpreter, session: &Rc<Session>) {
    install_logging(interp);
    install_settings(interp, session);
    let m = Module::new("rex.asynctask");
    let s = session.clone();
    let worker = ClassBuilder::new(interp, "AsyncTaskWorker", "rex.asynctask")
        .attr("name", Value::None)
        .init(|it, inst, _| init_logger(it, inst))
        .method("process", |_, _, _| {
            Err(Exception::with_args("NotImplementedError", vec![]))
        })
        .method("requeue", move |it, this, a| {
            let payload = a.arg(0)?.clone();
            let queue = match this {
                Value::Instance(i) => i.get("_queue_name"),
                _ => None,
            };
            if let Some(Value::Str(queue)) = queue {
                let json = to_json(it, &payload)?;
                let handle = s.active()?;
                let transport = task_transport(&handle.app).map_err(|e| s.raise(e))?;
                transport
                    .submit_task(&queue, &json)
                    .map_err(|e| s.raise(e))?;
            }
            let text = it.repr(&payload)?;
            let logger = it.get_attr(this, "logger")?;
            let debug = it.get_attr(&logger, "debug")?;
            it.call(
                &debug,
                Args::new(vec![Value::str(&format!("Requeued payload: {text}"))]),
            )?;
            Ok(Value::None)
        })
        .method("__harness_process__", |it, this, a| {
            // The worker loop's call: `requeue` goes to the loop's queue meanwhile.
            let payload = a.arg(0)?.clone();
            let queue = a.pos.get(1).cloned().unwrap_or(Value::None);
            if let Value::Instance(i) = this {
                i.set("_queue_name", queue);
            }
            let process = it.get_attr(this, "process")?;
            let r = it.call(&process, Args::new(vec![payload]));
            if let Value::Instance(i) = this {
                i.set("_queue_name", Value::None);
            }
            r
        })
        .build();
    m.set("AsyncTaskWorker", Value::Class(worker));

    let transport_class = transport_class(interp, session);
    let s = session.clone();
    m.add_fn("get_transport", move |_, a| {
        let p = a.bind("get_transport", &["uri"], 0)?;
        let uri = match &p[0] {
            Some(Value::None) | None => None,
            Some(v) => Some(arg_str(v, "uri")?.to_string()),
        };
        let handle = s.active()?;
        let t = crate::asynctask::get_transport(&handle.app, uri.as_deref()).map_err(|e| {
            let text = e.to_string();
            if uri
                .as_deref()
                .map(crate::asynctask::core::unknown_scheme_text)
                == Some(text.clone())
            {
                Exception::value_error(text)
            } else {
                s.raise(e)
            }
        })?;
        Ok(new_object(&transport_class, TransportState(t)))
    });

    let s = session.clone();
    m.add_fn("process_queue", move |it, a| {
        let p = a.bind("process_queue", &["queue_name", "worker_name", "quiet"], 1)?;
        let queue = arg_str(p[0].as_ref().unwrap_or(&Value::None), "queue_name")?.to_string();
        let worker = match &p[1] {
            Some(Value::None) | None => None,
            Some(v) => Some(arg_str(v, "worker_name")?.to_string()),
        };
        let quiet = match &p[2] {
            Some(v) => it.truthy(v)?,
            None => false,
        };
        let handle = s.active()?;
        let n = with_interpreter(it, || {
            crate::asynctask::process_queue(
                &handle.app,
                &handle.workers,
                &queue,
                worker.as_deref(),
                quiet,
            )
        });
        Ok(Value::Int(n.map_err(|e| reraise(&s, e))? as i64))
    });

    let s = session.clone();
    m.add_fn("run_worker", move |it, a| {
        let p = a.bind("run_worker", &["worker_name", "queue_name", "quiet"], 1)?;
        let worker = arg_str(p[0].as_ref().unwrap_or(&Value::None), "worker_name")?.to_string();
        let queue = match &p[1] {
            Some(Value::None) | None => None,
            Some(v) => Some(arg_str(v, "queue_name")?.to_string()),
        };
        let quiet = match &p[2] {
            Some(v) => it.truthy(v)?,
            None => false,
        };
        let handle = s.active()?;
        let n = with_interpreter(it, || {
            crate::asynctask::run_worker(
                &handle.app,
                &handle.workers,
                &worker,
                queue.as_deref(),
                quiet,
            )
        });
        Ok(Value::Int(n.map_err(|e| reraise(&s, e))? as i64))
    });
    interp.register_module("rex.asynctask", m);
}

/// The transport a worker's `requeue` submits to: the application's, or its
/// database when it has no transport setting (as `harness worker` does).
pub fn task_transport(app: &App) -> crate::core::Result<Arc<dyn Transport>> {
    let configured = app
        .settings
        .get_str("asynctask_transport")
        .or(app.settings.get_str("db"));
    match configured {
        Some(_) => crate::asynctask::get_transport(app, None),
        None => crate::asynctask::get_transport(app, Some(&format!("pgsql:{}", app.db.name))),
    }
}

/// A checked queue name (rex raises ValueError for a bad one).
fn queue_arg(v: &Value) -> Result<String, Exception> {
    let name = arg_str(v, "queue_name")?;
    if !queue_name::is_valid(&name) {
        return Err(Exception::value_error(queue_name::error_text(&name)));
    }
    Ok(name.to_string())
}

fn transport_class(interp: &Interpreter, session: &Rc<Session>) -> Rc<Class> {
    let submit = session.clone();
    let get = session.clone();
    let poll = session.clone();
    ClassBuilder::new(interp, "AsyncTransport", "rex.asynctask.transports")
        .method("submit_task", move |it, this, a| {
            let t = state_of::<TransportState>(this, "AsyncTransport")?;
            let queue = queue_arg(a.arg(0)?)?;
            let payload = to_json(it, a.arg(1)?)?;
            t.0.submit_task(&queue, &payload)
                .map_err(|e| submit.raise(e))?;
            Ok(Value::None)
        })
        .method("get_task", move |_, this, a| {
            let t = state_of::<TransportState>(this, "AsyncTransport")?;
            let queue = queue_arg(a.arg(0)?)?;
            let task = t.0.get_task(&queue).map_err(|e| get.raise(e))?;
            Ok(task.as_ref().map_or(Value::None, from_json))
        })
        .method("poll_queue", move |_, this, a| {
            let t = state_of::<TransportState>(this, "AsyncTransport")?;
            let queue = queue_arg(a.arg(0)?)?;
            Ok(Value::Int(
                t.0.poll_queue(&queue).map_err(|e| poll.raise(e))?,
            ))
        })
        .method("__repr__", |_, this, _| {
            let t = state_of::<TransportState>(this, "AsyncTransport")?;
            Ok(Value::str(&t.0.repr()))
        })
        .build()
}

/// A class deriving from `rex.asynctask.AsyncTaskWorker` with rex's worker `name`.
pub fn worker_class(
    interp: &mut Interpreter,
    class: &str,
    module: &str,
    name: &str,
) -> ClassBuilder {
    let base = match interp
        .import_module("rex.asynctask")
        .ok()
        .and_then(|m| m.get("AsyncTaskWorker"))
    {
        Some(Value::Class(c)) => vec![c],
        _ => vec![interp.types.object.clone()],
    };
    ClassBuilder::with_bases(class, module, base).attr("name", Value::str(name))
}

/// `self.logger = get_logger(self)`: a logger named after the instance's class.
pub fn init_logger(it: &mut Interpreter, inst: &Rc<Instance>) -> Result<(), Exception> {
    let logger = make_logger(it, &inst.class.name)?;
    inst.set("logger", logger);
    Ok(())
}

fn make_logger(it: &mut Interpreter, name: &str) -> Result<Value, Exception> {
    let m = it.import_module("rex.logging")?;
    match m.get("Logger") {
        Some(Value::Class(c)) => Ok(new_object(&c, LoggerState(name.to_string()))),
        _ => Err(Exception::new(
            "RuntimeError",
            "rex.logging is not installed",
        )),
    }
}

/// `rex.logging`: `get_logger(obj_or_name)` and its `Logger` (debug, info, warning,
/// error, critical, exception), writing through the harness's log backend.
fn install_logging(interp: &mut Interpreter) {
    let mut b = ClassBuilder::new(interp, "Logger", "rex.logging");
    let levels: [(&str, log::Level); 7] = [
        ("debug", log::Level::Debug),
        ("info", log::Level::Info),
        ("warning", log::Level::Warn),
        ("warn", log::Level::Warn),
        ("error", log::Level::Error),
        ("critical", log::Level::Error),
        ("exception", log::Level::Error),
    ];
    for (method, level) in levels {
        b = b.method(method, move |it, this, a| {
            let st = state_of::<LoggerState>(this, "Logger")?;
            let msg = a.arg(0)?;
            let text = match msg {
                Value::Str(s) if a.pos.len() > 1 => {
                    percent_format(it, s, &Value::tuple(a.pos[1..].to_vec()))?
                }
                other => it.str(other)?,
            };
            log::log!(target: &st.0, level, "{text}");
            Ok(Value::None)
        });
    }
    let b = b.method("__repr__", |_, this, _| {
        let st = state_of::<LoggerState>(this, "Logger")?;
        Ok(Value::str(&format!("<Logger {}>", st.0)))
    });
    let class = b.build();
    let m = Module::new("rex.logging");
    let c = class.clone();
    m.add_fn("get_logger", move |it, a| {
        let name = match a.arg(0)? {
            Value::Str(s) => s.to_string(),
            Value::Instance(i) => i.class.name.clone(),
            Value::Class(c) => c.name.clone(),
            other => it.str(other)?,
        };
        Ok(new_object(&c, LoggerState(name)))
    });
    m.set("Logger", Value::Class(class));
    interp.register_module("rex.logging", m);
}

/// The Rust state of a `Record`: fields in order.
struct RecordState(Vec<(String, Value)>);

/// rex's `Record(...)` values: attribute access and `Record(a=1, b=None)` reprs.
fn record_class(interp: &Interpreter) -> Rc<Class> {
    ClassBuilder::new(interp, "Record", "rex.core")
        .method("__repr__", |it, this, _| {
            let st = state_of::<RecordState>(this, "Record")?;
            let mut parts = Vec::with_capacity(st.0.len());
            for (k, v) in &st.0 {
                parts.push(format!("{k}={}", it.repr(v)?));
            }
            Ok(Value::str(&format!("Record({})", parts.join(", "))))
        })
        .method("__getattr__", |_, this, a| {
            let st = state_of::<RecordState>(this, "Record")?;
            let name = arg_str(a.arg(0)?, "attribute")?;
            match st.0.iter().find(|(k, _)| **k == *name) {
                Some((_, v)) => Ok(v.clone()),
                None => Err(Exception::new(
                    "AttributeError",
                    format!("'Record' object has no attribute '{name}'"),
                )),
            }
        })
        .build()
}

/// A record of `fields` taken from a JSON object (missing ones are None).
fn record(class: &Rc<Class>, fields: &[&str], v: &serde_json::Value) -> Value {
    let items = fields
        .iter()
        .map(|f| (f.to_string(), v.get(*f).map_or(Value::None, from_json)))
        .collect();
    new_object(class, RecordState(items))
}

/// A setting as `get_settings()` shows it: rex's defaults, records for the task
/// settings.
fn setting_value(
    record_class: &Rc<Class>,
    settings: &crate::core::settings::Settings,
    name: &str,
) -> Option<Value> {
    use serde_json::json;
    let raw = settings.get(name).cloned();
    Some(match name {
        "asynctask_workers" => {
            let map = raw.unwrap_or_else(|| json!({}));
            let mut entries: Vec<(&String, &serde_json::Value)> =
                map.as_object().into_iter().flatten().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let mut d = crate::script::value::Dict::new();
            for (queue, cfg) in entries {
                let cfg = match cfg {
                    serde_json::Value::String(w) => json!({ "worker": w }),
                    other => other.clone(),
                };
                let v = if cfg.is_null() {
                    Value::None
                } else {
                    record(
                        record_class,
                        &["worker", "rate_max_calls", "rate_period"],
                        &cfg,
                    )
                };
                d.set_str(queue, v);
            }
            Value::dict(d)
        }
        "asynctask_scheduled_workers" => {
            let items = raw.unwrap_or_else(|| json!([]));
            Value::list(
                items
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|i| {
                        record(
                            record_class,
                            &crate::asynctask::settings::SCHEDULE_FIELDS,
                            i,
                        )
                    })
                    .collect(),
            )
        }
        "asynctask_transport" => raw.as_ref().map_or(Value::None, from_json),
        "asynctask_workers_poll_interval" => from_json(&raw.unwrap_or(json!(500))),
        "asynctask_workers_check_child_interval" => from_json(&raw.unwrap_or(json!(1000))),
        "job_queues" => from_json(&raw.unwrap_or(json!(1))),
        "job_max_age" => from_json(&raw.unwrap_or(json!(259200))),
        "job_limits" => from_json(&raw.unwrap_or(json!({}))),
        _ => from_json(&raw?),
    })
}

/// `rex.core.get_settings()`: the active application's settings.
pub fn install_settings(interp: &mut Interpreter, session: &Rc<Session>) {
    let record_class = record_class(interp);
    let s = session.clone();
    let settings_class = ClassBuilder::new(interp, "Settings", "rex.core")
        .method("__getattr__", move |_, _, a| {
            let name = arg_str(a.arg(0)?, "attribute")?;
            let handle = s.active()?;
            setting_value(&record_class, &handle.app.settings, &name).ok_or_else(|| {
                Exception::new(
                    "AttributeError",
                    format!("'Settings' object has no attribute '{name}'"),
                )
            })
        })
        .build();
    let s = session.clone();
    if let Ok(m) = interp.import_module("rex.core") {
        if m.get("get_settings").is_none() {
            m.add_fn("get_settings", move |_, _| {
                s.active()?;
                Ok(new_object(&settings_class, ()))
            });
        }
    }
}
