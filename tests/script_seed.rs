//! The seed transcript's Python, run against small native stand-ins for the rex
//! modules (the real bindings live in `bindings/`): proves the interpreter and the
//! native API cover every construct the seed uses.

use harness::script::native::{new_object, raise, state_of, ClassBuilder};
use harness::script::{output, Args, Dict, Exception, Interpreter, Module, Value};
use std::cell::RefCell;
use std::rc::Rc;

struct Job {
    code: i64,
    status: String,
    detail: Option<String>,
    started: bool,
}

thread_local! {
    static JOBS: RefCell<Vec<Job>> = const { RefCell::new(Vec::new()) };
}

fn install(it: &mut Interpreter) {
    let core = Module::new("rex.core");
    let error = ClassBuilder::exception(it, "Error", "rex.core", None).build();
    let rex = ClassBuilder::new(it, "Rex", "rex.core")
        .init(|_, inst, a| {
            inst.set("name", a.pos.first().cloned().unwrap_or(Value::None));
            inst.set("settings", Value::dict(Dict::new()));
            for (k, v) in &a.kw {
                if let Some(Value::Dict(d)) = inst.get("settings") {
                    d.borrow_mut().insert(Value::Str(k.clone()), v.clone())?;
                }
            }
            Ok(())
        })
        .method("on", |_, _, _| Ok(Value::None))
        .method("off", |_, _, _| Ok(Value::None))
        .build();
    core.set("Rex", Value::Class(rex));
    core.set("Error", Value::Class(error.clone()));
    it.register_module("rex.core", core);

    let mart = Module::new("rex.mart");
    let err = error.clone();
    let worker = ClassBuilder::new(it, "MartCreateWorker", "rex.mart")
        .method("process", move |it, _, a| {
            let payload = a.pos.first().cloned().unwrap_or(Value::None);
            for field in ["definition", "owner"] {
                let has = it.contains(&payload, &Value::str(field))?;
                if !has {
                    return Err(raise(
                        &err,
                        format!("Missing mandatory field:\n    {field}"),
                    ));
                }
            }
            output::write("INFO:MartCreateWorker:Mart creation began: 1\n");
            Ok(Value::None)
        })
        .build();
    mart.set("MartCreateWorker", Value::Class(worker));
    mart.set(
        "MartCreateExecutor",
        Value::Class(ClassBuilder::new(it, "MartCreateExecutor", "rex.mart").build()),
    );
    it.register_module("rex.mart", mart);

    let record = ClassBuilder::new(it, "Record", "rex.db")
        .method("__getattr__", |_, this, a| {
            let code = state_of::<i64>(this, "Record")?;
            let name = a.pos[0].as_str().unwrap_or("").to_string();
            JOBS.with(|jobs| {
                let jobs = jobs.borrow();
                let Some(j) = jobs.iter().find(|j| j.code == *code) else {
                    return Err(Exception::new("AttributeError", name));
                };
                Ok(match name.as_str() {
                    "code" => Value::Int(j.code),
                    "status" => Value::str(&j.status),
                    "status_detail" => j.detail.as_deref().map(Value::str).unwrap_or(Value::None),
                    "type" => Value::str("rexmart_create"),
                    "date_submitted" => Value::Bool(true),
                    "date_started" | "date_completed" => {
                        if j.started {
                            Value::Bool(true)
                        } else {
                            Value::None
                        }
                    }
                    "facet" => Value::None,
                    _ => return Err(Exception::new("AttributeError", name)),
                })
            })
        })
        .method("__str__", |_, this, _| {
            Ok(Value::str(&state_of::<i64>(this, "Record")?.to_string()))
        })
        .build();
    let db_class = ClassBuilder::new(it, "HTSQL", "rex.db")
        .method("produce", move |_, _, a: Args| {
            let query = a.pos[0].as_str().unwrap_or("").to_string();
            if query.contains(":insert") {
                let code = JOBS.with(|j| {
                    let mut j = j.borrow_mut();
                    let code = j.len() as i64 + 1;
                    j.push(Job {
                        code,
                        status: "new".into(),
                        detail: None,
                        started: false,
                    });
                    code
                });
                return Ok(Value::list(vec![new_object(&record, code)]));
            }
            let code =
                a.kw.iter()
                    .find(|(k, _)| &**k == "code")
                    .and_then(|(_, v)| match v {
                        Value::Int(i) => Some(*i),
                        _ => None,
                    });
            let exists = JOBS.with(|j| j.borrow().iter().any(|j| Some(j.code) == code));
            Ok(Value::list(if exists {
                vec![new_object(&record, code.unwrap_or(0))]
            } else {
                vec![]
            }))
        })
        .build();
    let db = Module::new("rex.db");
    let db_obj = new_object(&db_class, ());
    db.add_fn("get_db", move |_, _| Ok(db_obj.clone()));
    it.register_module("rex.db", db);

    let job = Module::new("rex.job");
    let jew = ClassBuilder::new(it, "JobExecutorWorker", "rex.job")
        .method("process", |it, _, a| {
            let payload = a.pos[0].clone();
            let code = it.get_item(&payload, &Value::str("code"))?;
            let Value::Int(code) = code else {
                return Ok(Value::None);
            };
            output::write(&format!("INFO:JobExecutorWorker:Processing Job #{code}\n"));
            JOBS.with(|j| {
                if let Some(job) = j.borrow_mut().iter_mut().find(|j| j.code == code) {
                    job.started = true;
                    job.status = if code == 2 {
                        "failed".into()
                    } else {
                        "completed".into()
                    };
                    if code == 2 {
                        job.detail = Some("Got unexpected field:\n    bad".into());
                    }
                }
            });
            Ok(Value::None)
        })
        .build();
    job.set("JobExecutorWorker", Value::Class(jew));
    it.register_module("rex.job", job);
}

fn run(it: &mut Interpreter, src: &str) -> String {
    let o = it
        .run_example(src, "<doctest async.txt>")
        .expect("the seed's syntax is supported");
    match o.exception {
        Some(r) => format!("{}{}", o.output, r.traceback),
        None => o.output,
    }
}

#[test]
fn seed_examples_run() {
    let mut it = Interpreter::new();
    install(&mut it);
    assert_eq!(run(&mut it, "from rex.core import Rex\n"), "");
    assert_eq!(
        run(&mut it, "import sys; cluster = 'pgsql://:5433/mart' if hasattr(sys, 'MART_MULTICLUSTER_TEST') else None\n"),
        ""
    );
    assert_eq!(run(&mut it, "cluster\n"), "");
    it.set_sys_attr("MART_MULTICLUSTER_TEST", Value::Bool(true));
    run(&mut it, "import sys; cluster = 'pgsql://:5433/mart' if hasattr(sys, 'MART_MULTICLUSTER_TEST') else None\n");
    assert_eq!(run(&mut it, "cluster\n"), "'pgsql://:5433/mart'\n");
    assert_eq!(
        run(
            &mut it,
            "rex = Rex('rex.mart_demo', mart_hosting_cluster=cluster)\n"
        ),
        ""
    );
    assert_eq!(run(&mut it, "rex.on()\n"), "");
    assert_eq!(run(&mut it, "from rex.mart import MartCreateWorker\n"), "");
    assert_eq!(run(&mut it, "MartCreateWorker is None\n"), "False\n");
    assert_eq!(run(&mut it, "worker = MartCreateWorker()\n"), "");
    assert_eq!(
        run(
            &mut it,
            "payload = {'owner': 'async', 'definition': 'empty'}\n"
        ),
        ""
    );
    assert_eq!(
        run(&mut it, "worker.process(payload)  # doctest: +ELLIPSIS\n"),
        "INFO:MartCreateWorker:Mart creation began: 1\n"
    );
    run(&mut it, "payload = {'owner': 'async'}\n");
    let o = it
        .run_example(
            "worker.process(payload)  # doctest: +ELLIPSIS\n",
            "<doctest async.txt[9]>",
        )
        .unwrap();
    let r = o.exception.expect("raises");
    assert_eq!(r.type_name, "rex.core.Error");
    assert_eq!(r.message, "Missing mandatory field:\n    definition");
    assert_eq!(
        r.traceback,
        "Traceback (most recent call last):\n  File \"<doctest async.txt[9]>\", line 1, in <module>\n    worker.process(payload)  # doctest: +ELLIPSIS\nrex.core.Error: Missing mandatory field:\n    definition\n"
    );
    run(&mut it, "from rex.db import get_db\n");
    run(&mut it, "from rex.job import JobExecutorWorker\n");
    let show_job = r#"def show_job(code):
    data = get_db().produce("/job{*, job_rexmart_create{*} :as facet}.filter(code=$code)", code=code)
    if not data:
        print('Job #%s Not Found' % (code,))
    else:
        job = data[0]
        print('Job #%s: status=%s,%s type=%s, dates=%s, facet=%s' % (
            job.code,
            job.status,
            (' detail="%s",' % (job.status_detail,)) if job.status_detail else '',
            job.type,
            ','.join([x for x in [job.date_submitted and 'Submitted', job.date_started and 'Started', job.date_completed and 'Completed'] if x]),
            job.facet.log if job.facet else None,
        ))
"#;
    assert_eq!(run(&mut it, show_job), "");
    let run_job = r#"def run_job(job_type, payload):
    code = int(str(get_db().produce(
        "/{'test' :as owner, $job_type :as type, $payload :as payload} :as job/:insert",
        job_type=job_type,
        payload=payload,
    )[0]))
    show_job(code)
    JobExecutorWorker().process({'code': code})
    show_job(code)
"#;
    assert_eq!(run(&mut it, run_job), "");
    assert_eq!(
        run(&mut it, "from rex.mart import MartCreateExecutor\n"),
        ""
    );
    assert_eq!(run(&mut it, "MartCreateExecutor is None\n"), "False\n");
    assert_eq!(
        run(&mut it, "run_job('rexmart_create', {'definition': 'empty', 'owner': 'async'})  # doctest: +ELLIPSIS\n"),
        "Job #1: status=new, type=rexmart_create, dates=Submitted, facet=None\n\
         INFO:JobExecutorWorker:Processing Job #1\n\
         Job #1: status=completed, type=rexmart_create, dates=Submitted,Started,Completed, facet=None\n"
    );
    assert_eq!(
        run(&mut it, "run_job('rexmart_create', {'bad': 'payload'})  # doctest: +ELLIPSIS\n"),
        "Job #2: status=new, type=rexmart_create, dates=Submitted, facet=None\n\
         INFO:JobExecutorWorker:Processing Job #2\n\
         Job #2: status=failed, detail=\"Got unexpected field:\n    bad\", type=rexmart_create, dates=Submitted,Started,Completed, facet=None\n"
    );
    assert_eq!(run(&mut it, "show_job(99)\n"), "Job #99 Not Found\n");
    assert_eq!(run(&mut it, "rex.off()\n"), "");
}

#[test]
fn unsupported_syntax_names_line_and_construct() {
    let mut it = Interpreter::new();
    let e = it
        .run_source("x = 1\nasync def f():\n    pass\n", "<t>")
        .unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.contains("async"), "{}", e.message);
    assert_eq!(e.span, Some((1, 6)), "the caret marks `async`");
    let e = it.run_example("(y := 5)\n", "<t>").unwrap_err();
    assert!(e.message.contains(":="), "{}", e.message);
    let e = it.run_example("x = 1\ny = 2\n", "<t>").unwrap_err();
    assert_eq!(
        e.message,
        "multiple statements found while compiling a single statement"
    );
    let e = it.run_example("print('a'\n", "<t>").unwrap_err();
    assert_eq!(e.line, 1);
}

#[test]
fn output_before_exception_is_kept() {
    let mut it = Interpreter::new();
    let o = it.run_example("print('before'); 1/0\n", "<t>").unwrap();
    assert_eq!(o.output, "before\n");
    assert_eq!(o.exception.unwrap().type_name, "ZeroDivisionError");
}

#[test]
fn open_reads_relative_to_base_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("data.txt"), "one\ntwo\n").unwrap();
    let mut it = Interpreter::new();
    it.set_base_dir(dir.path().to_path_buf());
    assert_eq!(
        run(
            &mut it,
            "with open('data.txt') as f:\n    print(f.read().split())\n"
        ),
        "['one', 'two']\n"
    );
    assert_eq!(
        run(&mut it, "[l.strip() for l in open('data.txt')]\n"),
        "['one', 'two']\n"
    );
    let o = it.run_example("open('missing.txt')\n", "<t>").unwrap();
    assert_eq!(
        o.exception.unwrap().message,
        "[Errno 2] No such file or directory: 'missing.txt'"
    );
    let o = it.run_example("open('data.txt', 'w')\n", "<t>").unwrap();
    assert_eq!(o.exception.unwrap().type_name, "NotImplementedError");
    let _ = Rc::new(0);
}

#[test]
fn os_and_os_path_import_in_any_order() {
    for first in [
        "import os.path\n",
        "import os\n",
        "from os import path\n",
        "from os.path import join\n",
    ] {
        let mut it = Interpreter::new();
        assert_eq!(run(&mut it, first), "");
        assert_eq!(run(&mut it, "import os\n"), "");
        assert_eq!(
            run(
                &mut it,
                "os.path is __import__ if False else os.path.join('a', 'b')\n"
            ),
            "'a/b'\n"
        );
        assert_eq!(
            run(&mut it, "import os.path as p; p is os.path\n"),
            "True\n"
        );
    }
}

#[test]
fn star_import_respects_all() {
    let mut it = Interpreter::new();
    let m = Module::new("pkg.mod");
    m.set("__all__", Value::list(vec![Value::str("a")]));
    m.set("a", Value::Int(1));
    m.set("b", Value::Int(2));
    it.register_module("pkg.mod", m);
    let m2 = Module::new("pkg.other");
    m2.set("c", Value::Int(3));
    m2.set("_hidden", Value::Int(4));
    it.register_module("pkg.other", m2);
    assert_eq!(run(&mut it, "from pkg.mod import *\n"), "");
    assert_eq!(run(&mut it, "a\n"), "1\n");
    assert!(run(&mut it, "b\n").contains("NameError: name 'b' is not defined"));
    assert_eq!(run(&mut it, "from pkg.other import *\n"), "");
    assert_eq!(run(&mut it, "c\n"), "3\n");
    assert!(run(&mut it, "_hidden\n").contains("NameError"));
    assert_eq!(run(&mut it, "import pkg.other\n"), "");
    assert_eq!(run(&mut it, "pkg.other._hidden, pkg.mod.b\n"), "(4, 2)\n");
}
