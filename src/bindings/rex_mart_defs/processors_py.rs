//! `rex.mart.Processor` and the built-in processors as Python classes. A subclass
//! is checked when it is defined (rex's `sanitize`: `Option must be a tuple/list`
//! ...); one with a `name` is registered with the domain, so a definition naming
//! it validates its options and runs its `execute(options, interface)` during
//! mart creation.

use super::{
    classmethod, interface_class, option_specs, rex_error, to_node, Conv, ScriptProcessor, Shape,
};
use crate::bindings::Session;
use crate::core::yaml::{Node, NodeValue};
use crate::mart::processors;
use crate::script::native::{arg_str, call_method, reentrant, ClassBuilder};
use crate::script::value::{Args, Class, Dict, Exception, Module, Value};
use crate::script::Interpreter;
use std::cell::RefCell;
use std::rc::Rc;

/// The enabled extension classes by name, built-in first, in registration order.
pub(super) type Registry = Rc<RefCell<Vec<(String, Rc<Class>)>>>;

/// Records an extension class under its name (a later one replaces it).
pub(super) fn register(registry: &Registry, id: String, class: &Rc<Class>) {
    let mut reg = registry.borrow_mut();
    reg.retain(|(n, _)| *n != id);
    reg.push((id, class.clone()));
}

/// `enabled()`, `signature()`, `all()` and `mapped()`: what rex's extension bases
/// share, over `registry`.
pub(super) fn extension_classmethods(base: &Rc<Class>, registry: &Registry) {
    base.set(
        "enabled",
        classmethod("enabled", |it, cls, _| {
            let name = it.get_attr(&Value::Class(cls.clone()), "name")?;
            Ok(Value::Bool(!name.is_none()))
        }),
    );
    base.set(
        "signature",
        classmethod("signature", |it, cls, _| {
            it.get_attr(&Value::Class(cls.clone()), "name")
        }),
    );
    let reg = registry.clone();
    base.set(
        "all",
        classmethod("all", move |_, _, _| {
            Ok(Value::list(
                reg.borrow()
                    .iter()
                    .map(|(_, c)| Value::Class(c.clone()))
                    .collect(),
            ))
        }),
    );
    let reg = registry.clone();
    base.set(
        "mapped",
        classmethod("mapped", move |_, _, _| {
            let mut d = Dict::new();
            for (id, c) in reg.borrow().iter() {
                d.set_str(id, Value::Class(c.clone()));
            }
            Ok(Value::dict(d))
        }),
    );
}

/// rex's `Processor.sanitize()`: each option is `(name, validator[, default])`.
fn sanitize(it: &mut Interpreter, s: &Session, options: &[Value]) -> Result<(), Exception> {
    for option in options {
        let parts = match option {
            Value::Tuple(t) => t.to_vec(),
            Value::List(l) => l.borrow().clone(),
            other => {
                let text = it.str(other)?;
                return Err(rex_error(s, "Option must be a tuple/list", &text));
            }
        };
        if !(2..=3).contains(&parts.len()) {
            let text = it.str(option)?;
            return Err(rex_error(s, "Invalid Processor Option", &text));
        }
        if !matches!(parts[0], Value::Str(_)) {
            let text = it.str(&parts[0])?;
            return Err(rex_error(s, "Option name must be a string", &text));
        }
        if !is_callable(it, &parts[1]) {
            let text = it.str(&parts[1])?;
            return Err(rex_error(s, "Option validator must be callable", &text));
        }
    }
    Ok(())
}

fn is_callable(it: &Interpreter, v: &Value) -> bool {
    match v {
        Value::Function(_) | Value::Native(_) | Value::Bound(_) | Value::Class(_) => true,
        Value::Instance(_) => it.get_special(v, "__call__").is_some(),
        _ => false,
    }
}

fn class_of(v: &Value) -> Option<Rc<Class>> {
    match v {
        Value::Class(c) => Some(c.clone()),
        _ => None,
    }
}

/// The metaclass of rex's extensions: a class reads as `module.Name`.
pub(super) fn extension_meta(interp: &Interpreter) -> Rc<Class> {
    ClassBuilder::with_bases("Extension", "rex.core", vec![interp.types.type_.clone()])
        .method("__repr__", |_, this, _| match class_of(this) {
            Some(c) => Ok(Value::str(&format!("{}.{}", c.module, c.name))),
            None => Err(Exception::type_error("expected a class")),
        })
        .build()
}

pub(super) fn install(
    interp: &mut Interpreter,
    session: &Rc<Session>,
    mart: &Rc<Module>,
    conv: &Rc<Conv>,
    meta: &Rc<Class>,
) {
    let registry: Registry = Rc::new(RefCell::new(Vec::new()));
    let interface = interface_class(interp);

    let (s, reg, cv) = (session.clone(), registry.clone(), conv.clone());
    let processor = ClassBuilder::new(interp, "Processor", "rex.mart")
        .metaclass(meta.clone())
        .attr("name", Value::None)
        .attr("options", Value::tuple(Vec::new()))
        .init_subclass(move |it, cls, _| {
            let class = Value::Class(cls.clone());
            let options = it.get_attr(&class, "options")?;
            let options = it.collect(&options)?;
            sanitize(it, &s, &options)?;
            let name = it.get_attr(&class, "name")?;
            if name.is_none() {
                return Ok(());
            }
            let id = arg_str(&name, "Processor.name")?.to_string();
            let specs = option_specs(it, &options, &cv)?;
            processors::register(Rc::new(ScriptProcessor {
                id: id.clone(),
                class: cls.clone(),
                interface: interface.clone(),
                conv: cv.clone(),
                specs,
            }));
            register(&reg, id, cls);
            Ok(())
        })
        .method("execute", |_, _, _| {
            Err(Exception::new("NotImplementedError", ""))
        })
        .method("__call__", |it, this, a| {
            call_method(it, this, "execute", a)?;
            Ok(Value::None)
        })
        .build();
    let s = session.clone();
    processor.set(
        "sanitize",
        classmethod("sanitize", move |it, cls, _| {
            let options = it.get_attr(&Value::Class(cls.clone()), "options")?;
            let options = it.collect(&options)?;
            sanitize(it, &s, &options)?;
            Ok(Value::None)
        }),
    );
    extension_classmethods(&processor, &registry);
    let (s, cv) = (session.clone(), conv.clone());
    processor.set(
        "validate_options",
        classmethod("validate_options", move |it, cls, a| {
            let name = it.get_attr(&Value::Class(cls.clone()), "name")?;
            let id = arg_str(&name, "Processor.name")?.to_string();
            let given = match a.pos.first() {
                Some(v) => to_node(it, v)?,
                None => Node::new(NodeValue::Map(Vec::new())),
            };
            let out = reentrant(it, || processors::validate_options(&id, &given))
                .map_err(|e| s.raise(e))?;
            cv.value(it, &out, &Shape::Plain)
        }),
    );

    let builtin = |name: &str, module: &str, id: &str| {
        let c = ClassBuilder::with_bases(name, module, vec![processor.clone()])
            .attr("name", Value::str(id))
            .build();
        registry.borrow_mut().push((id.to_string(), c.clone()));
        let m = Module::new(module);
        m.set(name, Value::Class(c.clone()));
        m.set("Processor", Value::Class(processor.clone()));
        (c, m)
    };
    let (analyze, analyze_m) =
        builtin("AnalyzeProcessor", "rex.mart.processors.analyze", "analyze");
    let (dd, dd_m) = builtin(
        "DataDictionaryProcessor",
        "rex.mart.processors.datadictionary",
        "datadictionary",
    );
    let (index, index_m) = builtin("IndexProcessor", "rex.mart.processors.index", "index");
    let cv = conv.clone();
    index_m.add_fn("make_statement", move |it, a| {
        let p = a.positional("make_statement", 1, 1)?;
        let node = to_node(it, &p[0])?;
        let _ = &cv;
        Ok(Value::str(&processors::index_statement(&node)))
    });
    let base_m = Module::new("rex.mart.processors.base");
    base_m.set("Processor", Value::Class(processor.clone()));
    let package = Module::new("rex.mart.processors");
    for (name, c) in [
        ("Processor", &processor),
        ("AnalyzeProcessor", &analyze),
        ("DataDictionaryProcessor", &dd),
        ("IndexProcessor", &index),
    ] {
        package.set(name, Value::Class(c.clone()));
        mart.set(name, Value::Class(c.clone()));
    }
    mart.set("ProcessorInterface", Value::Class(interface_class(interp)));
    interp.register_module("rex.mart.processors", package);
    interp.register_module("rex.mart.processors.base", base_m);
    interp.register_module("rex.mart.processors.analyze", analyze_m);
    interp.register_module("rex.mart.processors.datadictionary", dd_m);
    interp.register_module("rex.mart.processors.index", index_m);
    let _ = Args::default;
}
