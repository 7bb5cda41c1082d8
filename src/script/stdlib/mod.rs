//! The standard modules transcripts import: sys, os, os.path, time, json, pprint,
//! datetime, decimal; plus the read-only `open()`. One file per module.

mod datetime;
mod decimal;
mod file;
mod json;
mod json_decode;
mod os;
mod pprint;
mod sys;
mod time;

pub use decimal::Dec;
pub use file::open;

use super::builtins::to_int;
use super::value::*;
use crate::core::repr::{py_float_repr, py_str_repr};
use crate::script::interp::{Interpreter, R};
use crate::script::native::{arg_str, new_object, new_value_object, state, state_of, ClassBuilder};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

/// Creates a standard module by name; `None` if unknown.
pub fn create(it: &mut Interpreter, name: &str) -> Option<Module> {
    Some(match name {
        "sys" => sys::sys(it),
        "os" => os::os(it),
        "os.path" => os::os_path(),
        "time" => time::time(),
        "json" => json::json(it),
        "pprint" => pprint::pprint(),
        "datetime" => datetime::datetime(it),
        "decimal" => decimal::decimal(it),
        _ => return None,
    })
}

fn kw<'a>(a: &'a Args, name: &str) -> Option<&'a Value> {
    a.kw.iter().find(|(k, _)| &**k == name).map(|(_, v)| v)
}

type Compare = Rc<dyn Fn(&Value, &Value) -> Option<std::cmp::Ordering>>;

/// `==`, `!=`, `<`, `<=`, `>`, `>=` from one ordering function (`None` = not
/// comparable: NotImplemented).
fn add_comparisons(c: &Rc<Class>, cmp: Compare) {
    type Test = fn(std::cmp::Ordering) -> bool;
    let ops: [(&str, Test); 6] = [
        ("__eq__", |o| o.is_eq()),
        ("__ne__", |o| o.is_ne()),
        ("__lt__", |o| o.is_lt()),
        ("__le__", |o| o.is_le()),
        ("__gt__", |o| o.is_gt()),
        ("__ge__", |o| o.is_ge()),
    ];
    for (name, test) in ops {
        let cmp = cmp.clone();
        c.set(
            name,
            NativeFunction::value(name, move |_, a| {
                let (Some(x), Some(y)) = (a.pos.first(), a.pos.get(1)) else {
                    return Ok(Value::NotImplemented);
                };
                Ok(match cmp(x, y) {
                    Some(o) => Value::Bool(test(o)),
                    None => Value::NotImplemented,
                })
            }),
        );
    }
}

/// Comparisons for a native value type with an integer sort key.
fn add_ordering<T: 'static>(c: &Rc<Class>, key: fn(&T) -> i128) {
    add_comparisons(
        c,
        Rc::new(move |a, b| Some(key(&*state::<T>(a)?).cmp(&key(&*state::<T>(b)?)))),
    );
}
