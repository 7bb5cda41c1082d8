//! `sys`: argv, platform, version, stdout/stderr writers, exit.

use super::*;

pub(super) fn sys(it: &mut Interpreter) -> Module {
    let m = Module::new("sys");
    m.set("argv", Value::list(vec![Value::str("")]));
    m.set("platform", Value::str("linux"));
    m.set("version", Value::str("3.11.7 (harness Python subset)"));
    m.set(
        "version_info",
        Value::tuple(vec![
            Value::Int(3),
            Value::Int(11),
            Value::Int(7),
            Value::str("final"),
            Value::Int(0),
        ]),
    );
    m.set("maxsize", Value::Int(i64::MAX));
    m.set("path", Value::list(vec![]));
    m.set("byteorder", Value::str("little"));
    m.add_fn("exit", |_, a| {
        let p = a.positional("exit", 0, 1)?;
        Err(Exception::with_args("SystemExit", p.to_vec()))
    });
    let stream = |name: &str, to_stdout: bool, it: &Interpreter| {
        let c = ClassBuilder::new(it, "TextIOWrapper", "_io")
            .method("write", move |_, _, a| {
                let s = match a.pos.first() {
                    Some(Value::Str(s)) => s.clone(),
                    Some(o) => {
                        return Err(Exception::type_error(format!(
                            "write() argument must be str, not {}",
                            o.type_name()
                        )))
                    }
                    None => {
                        return Err(Exception::type_error(
                            "write() takes exactly one argument (0 given)",
                        ))
                    }
                };
                if to_stdout {
                    crate::script::output::write(&s);
                } else {
                    eprint!("{s}");
                }
                Ok(Value::Int(s.chars().count() as i64))
            })
            .method("flush", |_, _, _| Ok(Value::None))
            .attr("name", Value::str(name))
            .build();
        new_object(&c, ())
    };
    m.set("stdout", stream("<stdout>", true, it));
    m.set("stderr", stream("<stderr>", false, it));
    m
}
