//! The native extension API: how Rust code (the rex bindings) exposes modules,
//! classes, objects and exceptions to scripts.
//!
//! 1. **Modules.** Build a [`Module`], add attributes with [`Module::set`] (plain
//!    values, classes) and [`Module::add_fn`] (native functions of type
//!    `Fn(&mut Interpreter, Args) -> Result<Value, Exception>`), then
//!    [`Interpreter::register_module`] it under a dotted name (`rex.core`; parent
//!    packages are created). [`Args::bind`] extracts positional/keyword arguments
//!    with CPython's TypeError messages; [`arg_str`]/[`arg_int`]... convert them.
//! 2. **Native classes.** [`ClassBuilder`] makes a class whose `__init__` and
//!    methods are Rust closures receiving `this` (the instance) and the other
//!    arguments. `__init__` stores Rust state with [`Instance::set_native`]; methods
//!    read it with [`state`]. Special methods give repr (`__repr__`), truthiness
//!    (`__bool__`), `len` (`__len__`), indexing (`__getitem__`), equality
//!    (`__eq__`), dynamic attributes (`__getattr__`), iteration (`__iter__`) and the
//!    context manager protocol (`__enter__`/`__exit__`, so `with rex:` works).
//!    Objects made by Rust code directly: [`new_object`].
//! 3. **Subclassing.** A script may subclass a native class
//!    (`class MyProcessor(Processor):`). Native code calls methods through
//!    [`call_method`], which dispatches on the instance's class, so an override
//!    written in script runs.
//! 4. **Exceptions.** [`ClassBuilder::exception`] makes an exception class with a
//!    module-qualified name (`rex.core.Error`). Native code raises it with
//!    [`raise`] and inspects caught ones with [`Interpreter::exception_instance`],
//!    [`exception_matches`] and [`Interpreter::exception_message`]; scripts
//!    `except` it like any class.
//! 5. **Context managers** are special methods (see 2).
//! 6. **Callbacks.** [`Interpreter::call`] calls any script callable.
//! 7. **JSON.** [`to_json`]/[`from_json`] convert dict/list/str/int/float/bool/None.
//!
//! Useful interpreter entry points for native code: [`Interpreter::call`],
//! [`Interpreter::get_attr`], [`Interpreter::get_item`], [`Interpreter::repr`],
//! [`Interpreter::str`], [`Interpreter::truthy`], [`Interpreter::collect`] (all
//! items of an iterable). Values convert from Rust with `Value::from` (`i64`,
//! `f64`, `bool`, `&str`, `String`, `Option<T>`, `Vec<T>` as a list); dicts are
//! built with [`Dict`] and [`Value::dict`]. Value types that must work as dict
//! keys use [`new_value_object`].

use super::interp::{Interpreter, R};
use super::value::*;
use std::rc::Rc;

/// Builds a native class.
pub struct ClassBuilder {
    class: Rc<Class>,
}

impl ClassBuilder {
    /// A class `module.name` deriving from `object`.
    pub fn new(interp: &Interpreter, name: &str, module: &str) -> ClassBuilder {
        ClassBuilder::with_bases(name, module, vec![interp.types.object.clone()])
    }

    /// A class deriving from `bases` (and from their metaclass, as in Python).
    pub fn with_bases(name: &str, module: &str, bases: Vec<Rc<Class>>) -> ClassBuilder {
        let meta = bases.iter().find_map(|b| b.meta.borrow().clone());
        let class = Class::new(name, module, bases);
        *class.meta.borrow_mut() = meta;
        ClassBuilder {
            class: Rc::new(class),
        }
    }

    /// An exception class deriving from a builtin exception (`"Exception"`) or
    /// another exception class. `str(exc)` is its first argument.
    pub fn exception(
        interp: &Interpreter,
        name: &str,
        module: &str,
        base: Option<Rc<Class>>,
    ) -> ClassBuilder {
        let base = base.unwrap_or_else(|| interp.exc_class("Exception"));
        ClassBuilder::with_bases(name, module, vec![base])
    }

    /// A method receiving the instance and the remaining arguments.
    pub fn method(
        self,
        name: &str,
        f: impl Fn(&mut Interpreter, &Value, Args) -> R<Value> + 'static,
    ) -> ClassBuilder {
        let qual = format!("{}.{}", self.class.name, name);
        let fname = qual.clone();
        self.class.set(
            name,
            NativeFunction::value(&qual, move |it, mut a| {
                if a.pos.is_empty() {
                    return Err(Exception::type_error(format!(
                        "{fname}() needs an argument"
                    )));
                }
                let this = a.pos.remove(0);
                f(it, &this, a)
            }),
        );
        self
    }

    /// `__init__`: receives the new instance; store Rust state with `set_native`.
    pub fn init(
        self,
        f: impl Fn(&mut Interpreter, &Rc<Instance>, Args) -> R<()> + 'static,
    ) -> ClassBuilder {
        self.method("__init__", move |it, this, a| {
            let Value::Instance(inst) = this else {
                return Err(Exception::type_error("__init__ needs an instance"));
            };
            f(it, inst, a)?;
            Ok(Value::None)
        })
    }

    /// A hook run when a script class deriving from this one is defined (a native
    /// `__init_subclass__`): it receives the new class and the class keyword
    /// arguments, and refuses the class by returning an error.
    pub fn init_subclass(
        self,
        f: impl Fn(&mut Interpreter, &Rc<Class>, Args) -> R<()> + 'static,
    ) -> ClassBuilder {
        let qual = format!("{}.__init_subclass__", self.class.name);
        let hook = NativeFunction::value(&qual, move |it, mut a| {
            let cls = match a.pos.first() {
                Some(Value::Class(c)) => c.clone(),
                _ => return Err(Exception::type_error("__init_subclass__ needs a class")),
            };
            a.pos.remove(0);
            f(it, &cls, a)?;
            Ok(Value::None)
        });
        self.class.set(
            "__init_subclass__",
            Value::Descriptor(Rc::new((DescKind::ClassMethod, hook))),
        );
        self
    }

    /// The class's metaclass (e.g. one whose `__repr__` names extension classes).
    pub fn metaclass(self, meta: Rc<Class>) -> ClassBuilder {
        *self.class.meta.borrow_mut() = Some(meta);
        self
    }

    /// A class attribute (a plain value or a static function).
    pub fn attr(self, name: &str, value: Value) -> ClassBuilder {
        self.class.set(name, value);
        self
    }

    pub fn build(self) -> Rc<Class> {
        self.class
    }
}

/// An instance of a native class holding Rust state, made by Rust code.
pub fn new_object<T: 'static>(class: &Rc<Class>, state: T) -> Value {
    let inst = Instance::new(class.clone());
    inst.set_native(state);
    Value::Instance(inst)
}

/// Like [`new_object`] for value types: `key` is a plain hashable value standing
/// for the object in dicts and sets (equal objects must have equal keys).
pub fn new_value_object<T: 'static>(class: &Rc<Class>, state: T, key: Value) -> Value {
    let inst = Instance::new(class.clone());
    inst.set_native(state);
    *inst.key.borrow_mut() = Some(key);
    Value::Instance(inst)
}

/// The Rust state of type `T` carried by `v`, if any.
pub fn state<T: 'static>(v: &Value) -> Option<Rc<T>> {
    match v {
        Value::Instance(i) => i.native::<T>(),
        _ => None,
    }
}

/// Like [`state`], with a TypeError naming the expected class when absent.
pub fn state_of<T: 'static>(v: &Value, class_name: &str) -> R<Rc<T>> {
    state::<T>(v).ok_or_else(|| {
        Exception::type_error(format!(
            "expected a {class_name} object (initialized), got '{}'",
            v.type_name()
        ))
    })
}

/// Calls `obj.name(*args)` through normal attribute lookup (script overrides win).
pub fn call_method(interp: &mut Interpreter, obj: &Value, name: &str, args: Args) -> R<Value> {
    let f = interp.get_attr(obj, name)?;
    interp.call(&f, args)
}

/// An exception of `class` with one message argument, ready to return as `Err`.
pub fn raise(class: &Rc<Class>, message: impl Into<String>) -> Exception {
    let inst = Instance::new(class.clone());
    inst.set(
        "args",
        Value::tuple(vec![Value::Str(message.into().into())]),
    );
    Exception::from_instance(inst)
}

/// Like [`raise`], also carrying Rust state (e.g. the domain error with its
/// paragraphs) that native code can read back from a caught exception with
/// `Interpreter::exception_instance(..).native::<T>()`.
pub fn raise_with<T: 'static>(
    class: &Rc<Class>,
    message: impl Into<String>,
    state: T,
) -> Exception {
    let inst = Instance::new(class.clone());
    inst.set(
        "args",
        Value::tuple(vec![Value::Str(message.into().into())]),
    );
    inst.set_native(state);
    Exception::from_instance(inst)
}

/// Whether a caught exception is an instance of `class` (or a subclass).
pub fn exception_matches(interp: &mut Interpreter, e: &mut Exception, class: &Rc<Class>) -> bool {
    interp.materialize(e).class.is_subclass(class)
}

impl Interpreter {
    /// The exception's instance (materialized if it was a pending builtin).
    pub fn exception_instance(&mut self, e: &mut Exception) -> Rc<Instance> {
        self.materialize(e)
    }

    /// `str(exc)`.
    pub fn exception_message(&mut self, e: &mut Exception) -> String {
        let inst = self.materialize(e);
        self.str(&Value::Instance(inst))
            .unwrap_or_else(|_| e.plain_message())
    }

    /// A builtin exception class by name (`"ValueError"`), e.g. as a base class.
    pub fn builtin_exception(&self, name: &str) -> Rc<Class> {
        self.exc_class(name)
    }
}

thread_local! {
    /// The interpreter lent by the innermost [`reentrant`] call (null: none).
    static LENT: std::cell::Cell<*mut Interpreter> = const { std::cell::Cell::new(std::ptr::null_mut()) };
}

/// Runs `f` (typically a domain call) while lending the interpreter to callbacks
/// deep inside it: domain code calls trait objects that bindings implement with
/// script code, and those reach the interpreter through [`with_interpreter`].
/// `interp` is not usable by the caller while `f` runs, so the loan is exclusive.
pub fn reentrant<T>(interp: &mut Interpreter, f: impl FnOnce() -> T) -> T {
    struct Restore(*mut Interpreter);
    impl Drop for Restore {
        fn drop(&mut self) {
            LENT.with(|l| l.set(self.0));
        }
    }
    let _restore = Restore(LENT.with(|l| l.replace(interp as *mut Interpreter)));
    f()
}

/// Calls `f` with the interpreter lent by the innermost [`reentrant`] call; `None`
/// when none is lent (e.g. in a worker thread, or already borrowed by an outer
/// `with_interpreter`).
pub fn with_interpreter<T>(f: impl FnOnce(&mut Interpreter) -> T) -> Option<T> {
    struct Restore(*mut Interpreter);
    impl Drop for Restore {
        fn drop(&mut self) {
            LENT.with(|l| l.set(self.0));
        }
    }
    let p = LENT.with(|l| l.replace(std::ptr::null_mut()));
    if p.is_null() {
        return None;
    }
    let _restore = Restore(p);
    // SAFETY: `p` comes from the `&mut Interpreter` that `reentrant` holds borrowed
    // for as long as the pointer is lent; taking it out of `LENT` while `f` runs
    // makes this the only reference made from it until `f` returns.
    Some(f(unsafe { &mut *p }))
}

/// Argument helpers with CPython-like TypeErrors.
pub fn arg_str(v: &Value, what: &str) -> R<Rc<str>> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        other => Err(Exception::type_error(format!(
            "{what} must be str, not {}",
            other.type_name()
        ))),
    }
}

pub fn arg_int(v: &Value, what: &str) -> R<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(*b as i64),
        other => Err(Exception::type_error(format!(
            "{what} must be int, not {}",
            other.type_name()
        ))),
    }
}

pub fn arg_bool(interp: &mut Interpreter, v: &Value) -> R<bool> {
    interp.truthy(v)
}

/// Script value -> JSON. Tuples become arrays; other types are a TypeError.
/// Takes the interpreter so that conversions may later consult script methods.
#[allow(clippy::only_used_in_recursion)]
pub fn to_json(interp: &mut Interpreter, v: &Value) -> R<serde_json::Value> {
    if super::interp::stack_exhausted() {
        return Err(Exception::value_error("Circular reference detected"));
    }
    use serde_json::Value as J;
    Ok(match v {
        Value::None => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .ok_or_else(|| {
                Exception::value_error(format!(
                    "Out of range float values are not JSON compliant: {}",
                    crate::core::repr::py_float_repr(*f)
                ))
            })?,
        Value::Str(s) => J::String(s.to_string()),
        Value::List(l) => {
            let items = l.borrow().clone();
            J::Array(items.iter().map(|x| to_json(interp, x)).collect::<R<_>>()?)
        }
        Value::Tuple(t) => J::Array(t.iter().map(|x| to_json(interp, x)).collect::<R<_>>()?),
        Value::Dict(d) => {
            let mut m = serde_json::Map::new();
            for (k, val) in d.borrow().items() {
                let key = match &k {
                    Value::Str(s) => s.to_string(),
                    Value::Int(i) => i.to_string(),
                    Value::Float(f) => crate::core::repr::py_float_repr(*f),
                    Value::Bool(b) => if *b { "true" } else { "false" }.into(),
                    Value::None => "null".into(),
                    other => {
                        return Err(Exception::type_error(format!(
                            "keys must be str, int, float, bool or None, not {}",
                            other.type_name()
                        )))
                    }
                };
                m.insert(key, to_json(interp, &val)?);
            }
            J::Object(m)
        }
        other => {
            return Err(Exception::type_error(format!(
                "Object of type {} is not JSON serializable",
                other.type_name()
            )))
        }
    })
}

/// JSON -> script value (objects keep their key order).
pub fn from_json(v: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::None,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::str(s),
        J::Array(items) => Value::list(items.iter().map(from_json).collect()),
        J::Object(m) => {
            let mut d = Dict::new();
            for (k, x) in m {
                d.set_str(k, from_json(x));
            }
            Value::dict(d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::output;

    struct Counter {
        n: std::cell::Cell<i64>,
    }

    /// A small native module exercising each point of the API.
    fn demo_module(it: &mut Interpreter) -> Module {
        let m = Module::new("demo.core");
        let error = ClassBuilder::exception(it, "Error", "demo.core", None).build();
        let err2 = error.clone();
        let counter = ClassBuilder::new(it, "Counter", "demo.core")
            .init(|_, inst, a| {
                let p = a.bind("Counter", &["start", "name"], 0)?;
                let start = match &p[0] {
                    Some(v) => arg_int(v, "start")?,
                    None => 0,
                };
                inst.set_native(Counter {
                    n: std::cell::Cell::new(start),
                });
                Ok(())
            })
            .method("incr", |_, this, _| {
                let c = state_of::<Counter>(this, "Counter")?;
                c.n.set(c.n.get() + 1);
                Ok(Value::Int(c.n.get()))
            })
            .method("__repr__", |_, this, _| {
                let c = state_of::<Counter>(this, "Counter")?;
                Ok(Value::Str(format!("Counter({})", c.n.get()).into()))
            })
            .method("__len__", |_, this, _| {
                Ok(Value::Int(state_of::<Counter>(this, "Counter")?.n.get()))
            })
            .method("__bool__", |_, this, _| {
                Ok(Value::Bool(
                    state_of::<Counter>(this, "Counter")?.n.get() != 0,
                ))
            })
            .method("__getitem__", |_, this, a| {
                let i = arg_int(a.arg(0)?, "index")?;
                Ok(Value::Int(
                    state_of::<Counter>(this, "Counter")?.n.get() * i,
                ))
            })
            .method("__eq__", |_, this, a| {
                let me = state_of::<Counter>(this, "Counter")?.n.get();
                Ok(match state::<Counter>(a.arg(0)?) {
                    Some(o) => Value::Bool(o.n.get() == me),
                    None => Value::NotImplemented,
                })
            })
            .method("__enter__", |_, this, _| {
                output::write("enter\n");
                Ok(this.clone())
            })
            .method("__exit__", |_, _, _| {
                output::write("exit\n");
                Ok(Value::Bool(false))
            })
            .method("fail", move |_, _, _| {
                Err(raise_with(&err2, "Bad thing:\n    detail", 7i64))
            })
            .method("run", |it, this, _| {
                // calls back into (possibly overridden) script methods
                let v = call_method(it, this, "step", Args::new(vec![Value::Int(2)]))?;
                Ok(v)
            })
            .method("step", |_, _, a| Ok(a.arg(0)?.clone()))
            .build();
        m.set("Counter", Value::Class(counter));
        m.set("Error", Value::Class(error));
        m.set("VERSION", Value::str("1.0"));
        m.add_fn("apply", |it, a| {
            let p = a.bind("apply", &["f", "x"], 2)?;
            let f = p[0].clone().unwrap_or(Value::None);
            it.call(&f, Args::new(vec![p[1].clone().unwrap_or(Value::None)]))
        });
        m.add_fn("roundtrip", |it, a| {
            let p = a.positional("roundtrip", 1, 1)?;
            let j = to_json(it, &p[0])?;
            Ok(from_json(&j))
        });
        m
    }

    fn error_class(it: &mut Interpreter) -> Rc<Class> {
        match it.import_module("demo.core").unwrap().get("Error") {
            Some(Value::Class(c)) => c,
            _ => panic!("demo.core.Error is registered"),
        }
    }

    fn run(it: &mut Interpreter, src: &str) -> String {
        let o = it.run_example(src, "<doctest t[0]>").unwrap();
        match o.exception {
            Some(r) => format!("{}{}: {}", o.output, r.type_name, r.message),
            None => o.output,
        }
    }

    #[test]
    fn native_module_points() {
        let mut it = Interpreter::new();
        let m = demo_module(&mut it);
        it.register_module("demo.core", m);
        assert_eq!(
            run(
                &mut it,
                "from demo.core import Counter, Error, apply, roundtrip, VERSION"
            ),
            ""
        );
        assert_eq!(run(&mut it, "c = Counter(2, name='x'); c"), "Counter(2)\n");
        assert_eq!(
            run(&mut it, "c.incr(), len(c), bool(c), c[10], c == Counter(3)"),
            "(3, 3, True, 30, True)\n"
        );
        assert_eq!(run(&mut it, "bool(Counter())"), "False\n");
        assert_eq!(
            run(&mut it, "with c as d:\n    print(d is c)\n"),
            "enter\nTrue\nexit\n"
        );
        assert_eq!(
            run(&mut it, "c.fail()"),
            "demo.core.Error: Bad thing:\n    detail"
        );
        assert_eq!(
            run(
                &mut it,
                "try:\n    c.fail()\nexcept Error as e:\n    print('caught', type(e).__name__)\n"
            ),
            "caught Error\n"
        );
        assert_eq!(
            run(
                &mut it,
                "class Mine(Counter):\n    def step(self, x):\n        return x * 100\n"
            ),
            ""
        );
        assert_eq!(
            run(&mut it, "Mine(1).run(), Counter(1).run()"),
            "(200, 2)\n"
        );
        assert_eq!(run(&mut it, "apply(lambda x: x + 1, 41)"), "42\n");
        assert_eq!(
            run(&mut it, "roundtrip({'a': [1, 2.5, None, True, 'x']})"),
            "{'a': [1, 2.5, None, True, 'x']}\n"
        );
        assert_eq!(
            run(&mut it, "roundtrip({1, 2})"),
            "TypeError: Object of type set is not JSON serializable"
        );
        assert_eq!(
            run(&mut it, "Counter(1, 2, 3)"),
            "TypeError: Counter() takes from 0 to 2 positional arguments but 3 were given"
        );
        assert_eq!(
            run(&mut it, "import demo.core; demo.core.VERSION"),
            "'1.0'\n"
        );
        // native code may call script functions between examples (no frame active)
        run(
            &mut it,
            "def twice(x, scale=1):\n    return [x * 2 * scale, [v for v in range(2)]]\n",
        );
        let twice = it.globals.get("twice").unwrap();
        let v = it
            .call(
                &twice,
                Args::new(vec![Value::from(21)]).with_kw("scale", Value::from(1)),
            )
            .unwrap();
        assert_eq!(it.repr(&v).unwrap(), "[42, [0, 1]]");
        // native code calling script code sees the exception and its state
        let c = it.globals.get("c").unwrap();
        let f = it.get_attr(&c, "fail").unwrap();
        let mut e = it.call(&f, Args::default()).unwrap_err();
        let class = error_class(&mut it);
        assert!(exception_matches(&mut it, &mut e, &class));
        assert_eq!(
            it.exception_instance(&mut e).native::<i64>().map(|v| *v),
            Some(7)
        );
        assert_eq!(it.exception_message(&mut e), "Bad thing:\n    detail");
        let r = it
            .run_example("c.fail()", "<doctest t[1]>")
            .unwrap()
            .exception
            .unwrap();
        assert_eq!(r.traceback, "Traceback (most recent call last):\n  File \"<doctest t[1]>\", line 1, in <module>\n    c.fail()\ndemo.core.Error: Bad thing:\n    detail\n");
    }

    #[test]
    fn native_base_checks_subclasses() {
        let mut it = Interpreter::new();
        let m = Module::new("demo.hook");
        let error = ClassBuilder::exception(&it, "Error", "demo.hook", None).build();
        let err = error.clone();
        let base = ClassBuilder::new(&it, "Base", "demo.hook")
            .attr("options", Value::tuple(vec![]))
            .init_subclass(move |it, cls, a| {
                let options = it.get_attr(&Value::Class(cls.clone()), "options")?;
                if !matches!(options, Value::Tuple(_)) {
                    return Err(raise(
                        &err,
                        format!("{}: options must be a tuple", cls.name),
                    ));
                }
                if let Some((k, v)) = a.kw.first() {
                    let v = it.repr(v)?;
                    output::write(&format!("{} {k}={v}\n", cls.name));
                }
                Ok(())
            })
            .build();
        m.set("Base", Value::Class(base));
        it.register_module("demo.hook", m);
        run(&mut it, "from demo.hook import Base");
        assert_eq!(
            run(&mut it, "class A(Base, tag=1):\n    pass\n"),
            "A tag=1\n"
        );
        assert_eq!(
            run(&mut it, "class B(A):\n    options = 'x'\n"),
            "demo.hook.Error: B: options must be a tuple"
        );
        assert_eq!(run(&mut it, "B"), "NameError: name 'B' is not defined");
    }
}
