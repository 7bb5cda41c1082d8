//! `rex.mart.Definer` (dynamic assessment definitions made when a mart is
//! created) and the built-in `RexdbDefiner`, which reads them from the
//! application's `rexmart_dynamic_assessment*` tables.

use super::processors_py::{extension_classmethods, register, Registry};
use super::{classmethod, mart_settings, to_node, Conv, Shape};
use crate::bindings::Session;
use crate::core::validate::Validator;
use crate::mart::definers;
use crate::mart::definition::AssessmentDefinitionVal;
use crate::script::native::{arg_str, call_method, ClassBuilder};
use crate::script::value::{Args, Class, Exception, Module, Value};
use crate::script::Interpreter;
use std::cell::RefCell;
use std::rc::Rc;

pub(super) fn install(
    interp: &mut Interpreter,
    session: &Rc<Session>,
    mart: &Rc<Module>,
    conv: &Rc<Conv>,
    meta: &Rc<Class>,
) {
    let registry: Registry = Rc::new(RefCell::new(Vec::new()));
    let reg = registry.clone();
    let definer = ClassBuilder::new(interp, "Definer", "rex.mart")
        .metaclass(meta.clone())
        .attr("name", Value::None)
        .init_subclass(move |it, cls, _| {
            let name = it.get_attr(&Value::Class(cls.clone()), "name")?;
            if name.is_none() {
                return Ok(());
            }
            let id = arg_str(&name, "Definer.name")?.to_string();
            definers::register(&id);
            register(&reg, id, cls);
            Ok(())
        })
        .method("assessments", |_, _, _| Ok(Value::list(Vec::new())))
        .build();
    extension_classmethods(&definer, &registry);
    let (s, reg, cv) = (session.clone(), registry.clone(), conv.clone());
    definer.set(
        "get_assessments",
        classmethod("get_assessments", move |it, _, a| {
            let p = a.pos.clone();
            if p.len() != 2 {
                return Err(Exception::type_error(format!(
                    "get_assessments() takes 2 positional arguments but {} were given",
                    p.len()
                )));
            }
            let id = arg_str(&p[0], "definer")?.to_string();
            let class = reg
                .borrow()
                .iter()
                .find(|(n, _)| *n == id)
                .map(|(_, c)| c.clone())
                .ok_or_else(|| Exception::with_args("KeyError", vec![Value::str(&id)]))?;
            let instance = it.call(&Value::Class(class), Args::default())?;
            let mut args = Args::new(vec![p[1].clone()]);
            args.kw = a.kw.clone();
            let found = call_method(it, &instance, "assessments", args)?;
            let validate = AssessmentDefinitionVal {
                max_name_length: mart_settings(&s)?.max_name_length,
            };
            let mut out = Vec::new();
            for item in it.collect(&found)? {
                let node = to_node(it, &item)?;
                let valid = validate.validate(&node).map_err(|e| s.raise(e))?;
                out.push(cv.value(it, &valid, &Shape::Plain)?);
            }
            Ok(Value::list(out))
        }),
    );

    let (s, cv) = (session.clone(), conv.clone());
    let rexdb = ClassBuilder::with_bases(
        "RexdbDefiner",
        "rex.mart.definers.rexdb",
        vec![definer.clone()],
    )
    .attr("name", Value::str("rexdb"))
    .method("assessments", move |it, _, a| {
        let definition = arg_str(a.arg(0)?, "definition")?.to_string();
        let handle = s.active()?;
        let found = handle
            .app
            .db
            .connect()
            .and_then(|mut db| definers::rexdb_assessments(&mut db, &definition))
            .map_err(|e| s.raise(e))?;
        let mut out = Vec::new();
        for node in found {
            out.push(cv.value(it, &node, &Shape::Plain)?);
        }
        Ok(Value::list(out))
    })
    .build();
    registry.borrow_mut().push(("rexdb".into(), rexdb.clone()));
    mart.set("Definer", Value::Class(definer.clone()));
    mart.set("RexdbDefiner", Value::Class(rexdb.clone()));
    let package = Module::new("rex.mart.definers");
    package.set("Definer", Value::Class(definer.clone()));
    package.set("RexdbDefiner", Value::Class(rexdb.clone()));
    let base = Module::new("rex.mart.definers.base");
    base.set("Definer", Value::Class(definer));
    let rexdb_m = Module::new("rex.mart.definers.rexdb");
    rexdb_m.set("RexdbDefiner", Value::Class(rexdb));
    interp.register_module("rex.mart.definers", package);
    interp.register_module("rex.mart.definers.base", base);
    interp.register_module("rex.mart.definers.rexdb", rexdb_m);
}
