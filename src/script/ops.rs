//! Operators and protocols: arithmetic, comparison, truthiness, repr/str,
//! iteration and subscripts, with CPython's error messages.

use super::ast::{BinOp, CmpOp, UnaryOp};
use super::interp::{op_dunder, Interpreter, R};
use super::value::*;
use crate::core::repr::{py_float_repr, py_str_repr};
use std::cell::RefCell;
use std::rc::Rc;

fn overflow() -> Exception {
    Exception::new(
        "OverflowError",
        "integer overflow: the harness's Python subset limits int to 64 bits",
    )
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Bool(b) => Some(*b as i64 as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(*b as i64),
        _ => None,
    }
}

fn rdunder(op: BinOp) -> String {
    format!("__r{}", &op_dunder(op)[2..])
}

pub fn floor_div(a: i64, b: i64) -> Option<i64> {
    let q = a.checked_div(b)?;
    if (a % b != 0) && ((a < 0) != (b < 0)) {
        q.checked_sub(1)
    } else {
        Some(q)
    }
}

pub fn py_mod(a: i64, b: i64) -> i64 {
    let r = a.wrapping_rem(b);
    if r != 0 && ((r < 0) != (b < 0)) {
        r + b
    } else {
        r
    }
}

fn float_mod(a: f64, b: f64) -> f64 {
    let r = a % b;
    if r != 0.0 && ((r < 0.0) != (b < 0.0)) {
        r + b
    } else {
        r
    }
}

fn repeat(items: &[Value], n: i64) -> R<Vec<Value>> {
    let n = n.max(0) as usize;
    check_size(items.len() as u128 * n as u128)?;
    let mut out = Vec::with_capacity(items.len() * n);
    for _ in 0..n {
        out.extend(items.iter().cloned());
    }
    Ok(out)
}

impl Interpreter {
    pub fn binary(&mut self, op: BinOp, a: Value, b: Value) -> R<Value> {
        if let Some(v) = self.binary_builtin(op, &a, &b)? {
            return Ok(v);
        }
        // user-defined operators
        if let Some(f) = self.get_special(&a, op_dunder(op)) {
            let r = self.call(&f, Args::new(vec![b.clone()]))?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
        }
        if let Some(f) = self.get_special(&b, &rdunder(op)) {
            let r = self.call(&f, Args::new(vec![a.clone()]))?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
        }
        let (ta, tb) = (a.type_name(), b.type_name());
        let msg = match (op, &a) {
            (BinOp::Add, Value::Str(_)) => {
                format!("can only concatenate str (not \"{tb}\") to str")
            }
            (BinOp::Add, Value::List(_)) => {
                format!("can only concatenate list (not \"{tb}\") to list")
            }
            (BinOp::Add, Value::Tuple(_)) => {
                format!("can only concatenate tuple (not \"{tb}\") to tuple")
            }
            (BinOp::Mul, Value::Str(_) | Value::List(_) | Value::Tuple(_))
                if !matches!(b, Value::Instance(_)) =>
            {
                format!("can't multiply sequence by non-int of type '{tb}'")
            }
            (BinOp::Pow, _) => {
                format!("unsupported operand type(s) for ** or pow(): '{ta}' and '{tb}'")
            }
            _ => format!(
                "unsupported operand type(s) for {}: '{ta}' and '{tb}'",
                op.symbol()
            ),
        };
        Err(Exception::type_error(msg))
    }

    fn binary_builtin(&mut self, op: BinOp, a: &Value, b: &Value) -> R<Option<Value>> {
        use BinOp::*;
        if let (Some(x), Some(y)) = (int(a), int(b)) {
            let r = match op {
                Add => x.checked_add(y).ok_or_else(overflow)?,
                Sub => x.checked_sub(y).ok_or_else(overflow)?,
                Mul => x.checked_mul(y).ok_or_else(overflow)?,
                Div => {
                    if y == 0 {
                        return Err(Exception::new("ZeroDivisionError", "division by zero"));
                    }
                    return Ok(Some(Value::Float(x as f64 / y as f64)));
                }
                FloorDiv => {
                    if y == 0 {
                        return Err(Exception::new(
                            "ZeroDivisionError",
                            "integer division or modulo by zero",
                        ));
                    }
                    floor_div(x, y).ok_or_else(overflow)?
                }
                Mod => {
                    if y == 0 {
                        return Err(Exception::new(
                            "ZeroDivisionError",
                            "integer modulo by zero",
                        ));
                    }
                    py_mod(x, y)
                }
                Pow => {
                    if y < 0 {
                        if x == 0 {
                            return Err(Exception::new(
                                "ZeroDivisionError",
                                "0.0 cannot be raised to a negative power",
                            ));
                        }
                        return Ok(Some(Value::Float((x as f64).powf(y as f64))));
                    }
                    let e = u32::try_from(y).map_err(|_| overflow())?;
                    x.checked_pow(e).ok_or_else(overflow)?
                }
                LShift => {
                    if y < 0 {
                        return Err(Exception::value_error("negative shift count"));
                    }
                    if y >= 64 || (x << y) >> y != x {
                        if x == 0 {
                            0
                        } else {
                            return Err(overflow());
                        }
                    } else {
                        x << y
                    }
                }
                RShift => {
                    if y < 0 {
                        return Err(Exception::value_error("negative shift count"));
                    }
                    x >> y.min(63)
                }
                BitAnd => {
                    if let (Value::Bool(p), Value::Bool(q)) = (a, b) {
                        return Ok(Some(Value::Bool(*p & *q)));
                    }
                    x & y
                }
                BitOr => {
                    if let (Value::Bool(p), Value::Bool(q)) = (a, b) {
                        return Ok(Some(Value::Bool(*p | *q)));
                    }
                    x | y
                }
                BitXor => {
                    if let (Value::Bool(p), Value::Bool(q)) = (a, b) {
                        return Ok(Some(Value::Bool(*p ^ *q)));
                    }
                    x ^ y
                }
                MatMul => return Ok(None),
            };
            return Ok(Some(Value::Int(r)));
        }
        if let (Some(x), Some(y)) = (num(a), num(b)) {
            let r = match op {
                Add => x + y,
                Sub => x - y,
                Mul => x * y,
                Div => {
                    if y == 0.0 {
                        return Err(Exception::new(
                            "ZeroDivisionError",
                            "float division by zero",
                        ));
                    }
                    x / y
                }
                FloorDiv => {
                    if y == 0.0 {
                        return Err(Exception::new(
                            "ZeroDivisionError",
                            "float floor division by zero",
                        ));
                    }
                    (x / y).floor()
                }
                Mod => {
                    if y == 0.0 {
                        return Err(Exception::new("ZeroDivisionError", "float modulo"));
                    }
                    float_mod(x, y)
                }
                Pow => {
                    if x == 0.0 && y < 0.0 {
                        return Err(Exception::new(
                            "ZeroDivisionError",
                            "0.0 cannot be raised to a negative power",
                        ));
                    }
                    x.powf(y)
                }
                _ => return Ok(None),
            };
            return Ok(Some(Value::Float(r)));
        }
        Ok(Some(match (op, a, b) {
            (Add, Value::Str(x), Value::Str(y)) => {
                let mut s = String::with_capacity(x.len() + y.len());
                s.push_str(x);
                s.push_str(y);
                Value::Str(s.into())
            }
            (Add, Value::List(x), Value::List(y)) => {
                let mut v = x.borrow().clone();
                v.extend(y.borrow().iter().cloned());
                Value::list(v)
            }
            (Add, Value::Tuple(x), Value::Tuple(y)) => {
                let mut v = x.to_vec();
                v.extend(y.iter().cloned());
                Value::tuple(v)
            }
            (Add, Value::Bytes(x), Value::Bytes(y)) => {
                let mut v = x.to_vec();
                v.extend_from_slice(y);
                Value::Bytes(v.into())
            }
            (Mul, Value::Str(s), n) | (Mul, n, Value::Str(s)) if int(n).is_some() => {
                let n = int(n).unwrap_or(0).max(0) as usize;
                check_size(s.len() as u128 * n as u128)?;
                Value::Str(s.repeat(n).into())
            }
            (Mul, Value::List(l), n) | (Mul, n, Value::List(l)) if int(n).is_some() => {
                Value::list(repeat(&l.borrow(), int(n).unwrap_or(0))?)
            }
            (Mul, Value::Tuple(t), n) | (Mul, n, Value::Tuple(t)) if int(n).is_some() => {
                Value::tuple(repeat(t, int(n).unwrap_or(0))?)
            }
            (Mod, Value::Str(f), args) => {
                if matches!(args, Value::Instance(_))
                    && self.get_special(args, "__rmod__").is_some()
                {
                    return Ok(None);
                }
                Value::Str(super::format::percent_format(self, f, args)?.into())
            }
            (BitOr | BitAnd | Sub | BitXor, Value::Set(x), Value::Set(y)) => {
                let x = x.borrow();
                let y = y.borrow();
                let mut out = Dict::new();
                match op {
                    BitOr => {
                        for k in x.keys().into_iter().chain(y.keys()) {
                            out.insert(k, Value::None)?;
                        }
                    }
                    BitAnd => {
                        for k in x.keys() {
                            if y.contains(&k)? {
                                out.insert(k, Value::None)?;
                            }
                        }
                    }
                    Sub => {
                        for k in x.keys() {
                            if !y.contains(&k)? {
                                out.insert(k, Value::None)?;
                            }
                        }
                    }
                    _ => {
                        for k in x.keys() {
                            if !y.contains(&k)? {
                                out.insert(k, Value::None)?;
                            }
                        }
                        for k in y.keys() {
                            if !x.contains(&k)? {
                                out.insert(k, Value::None)?;
                            }
                        }
                    }
                }
                Value::Set(Rc::new(RefCell::new(out)))
            }
            (BitOr, Value::Dict(x), Value::Dict(y)) => {
                let mut out = x.borrow().clone();
                for (k, v) in y.borrow().items() {
                    out.insert(k, v)?;
                }
                Value::dict(out)
            }
            _ => return Ok(None),
        }))
    }

    pub fn unary(&mut self, op: UnaryOp, v: Value) -> R<Value> {
        match (op, &v) {
            (UnaryOp::Not, _) => return Ok(Value::Bool(!self.truthy(&v)?)),
            (UnaryOp::Neg, Value::Int(i)) => {
                return Ok(Value::Int(i.checked_neg().ok_or_else(overflow)?))
            }
            (UnaryOp::Neg, Value::Bool(b)) => return Ok(Value::Int(-(*b as i64))),
            (UnaryOp::Neg, Value::Float(f)) => return Ok(Value::Float(-f)),
            (UnaryOp::Pos, Value::Int(_) | Value::Float(_)) => return Ok(v.clone()),
            (UnaryOp::Pos, Value::Bool(b)) => return Ok(Value::Int(*b as i64)),
            (UnaryOp::Invert, Value::Int(i)) => return Ok(Value::Int(!i)),
            (UnaryOp::Invert, Value::Bool(b)) => return Ok(Value::Int(!(*b as i64))),
            _ => {}
        }
        let (dunder, sym) = match op {
            UnaryOp::Neg => ("__neg__", "-"),
            UnaryOp::Pos => ("__pos__", "+"),
            _ => ("__invert__", "~"),
        };
        if let Some(f) = self.get_special(&v, dunder) {
            return self.call(&f, Args::default());
        }
        Err(Exception::type_error(format!(
            "bad operand type for unary {sym}: '{}'",
            v.type_name()
        )))
    }

    pub fn truthy(&mut self, v: &Value) -> R<bool> {
        if let Some(b) = v.plain_truth() {
            return Ok(b);
        }
        if let Some(f) = self.get_special(v, "__bool__") {
            let r = self.call(&f, Args::default())?;
            return match r {
                Value::Bool(b) => Ok(b),
                other => Err(Exception::type_error(format!(
                    "__bool__ should return bool, returned {}",
                    other.type_name()
                ))),
            };
        }
        if let Some(f) = self.get_special(v, "__len__") {
            let r = self.call(&f, Args::default())?;
            return Ok(int(&r).unwrap_or(1) != 0);
        }
        Ok(true)
    }

    // ------------------------------------------------------------------ comparison

    pub fn compare(&mut self, op: CmpOp, a: &Value, b: &Value) -> R<Value> {
        Ok(Value::Bool(match op {
            CmpOp::Is => a.is(b),
            CmpOp::IsNot => !a.is(b),
            CmpOp::In => self.contains(b, a)?,
            CmpOp::NotIn => !self.contains(b, a)?,
            CmpOp::Eq => return self.rich_eq(a, b, false),
            CmpOp::Ne => return self.rich_eq(a, b, true),
            _ => return self.order(op, a, b),
        }))
    }

    fn rich_eq(&mut self, a: &Value, b: &Value, negate: bool) -> R<Value> {
        if matches!(a, Value::Instance(_)) || matches!(b, Value::Instance(_)) {
            let (name, rname) = if negate {
                ("__ne__", "__ne__")
            } else {
                ("__eq__", "__eq__")
            };
            for (x, y, n) in [(a, b, name), (b, a, rname)] {
                if let Some(f) = self.get_special(x, n) {
                    let r = self.call(&f, Args::new(vec![y.clone()]))?;
                    if !matches!(r, Value::NotImplemented) {
                        return Ok(r);
                    }
                }
                if negate {
                    if let Some(f) = self.get_special(x, "__eq__") {
                        let r = self.call(&f, Args::new(vec![y.clone()]))?;
                        if !matches!(r, Value::NotImplemented) {
                            return Ok(Value::Bool(!self.truthy(&r)?));
                        }
                    }
                }
            }
            // Neither side knows the other: objects compare by identity.
            return Ok(Value::Bool(a.is(b) != negate));
        }
        let e = self.eq(a, b)?;
        Ok(Value::Bool(e != negate))
    }

    /// `a == b` as a bool (containers compare elementwise).
    pub fn eq(&mut self, a: &Value, b: &Value) -> R<bool> {
        if self.repr_stack.len() > 1000 || super::interp::stack_exhausted() {
            return Err(Exception::new(
                "RecursionError",
                "maximum recursion depth exceeded in comparison",
            ));
        }
        self.repr_stack.push(0);
        let r = self.eq_inner(a, b);
        self.repr_stack.pop();
        r
    }

    fn eq_inner(&mut self, a: &Value, b: &Value) -> R<bool> {
        Ok(match (a, b) {
            (Value::List(x), Value::List(y)) => {
                if Rc::ptr_eq(x, y) {
                    return Ok(true);
                }
                let (x, y) = (x.borrow().clone(), y.borrow().clone());
                self.seq_eq(&x, &y)?
            }
            (Value::Tuple(x), Value::Tuple(y)) => self.seq_eq(x, y)?,
            (Value::Dict(x), Value::Dict(y)) => {
                if Rc::ptr_eq(x, y) {
                    return Ok(true);
                }
                let (xi, y) = (x.borrow().items(), y.borrow().clone());
                if xi.len() != y.len() {
                    return Ok(false);
                }
                for (k, v) in xi {
                    match y.get(&k)? {
                        Some(w) => {
                            if !self.eq(&v, &w)? {
                                return Ok(false);
                            }
                        }
                        None => return Ok(false),
                    }
                }
                true
            }
            (Value::Set(x), Value::Set(y)) => {
                let (x, y) = (x.borrow(), y.borrow());
                x.len() == y.len() && x.keys().iter().all(|k| y.contains(k).unwrap_or(false))
            }
            (Value::Instance(_), _) | (_, Value::Instance(_)) => {
                let r = self.rich_eq(a, b, false)?;
                if let Value::Bool(x) = r {
                    if matches!((a, b), (Value::Instance(_), Value::Instance(_))) || a.is(b) {
                        return Ok(x);
                    }
                    return Ok(x);
                }
                self.truthy(&r)?
            }
            (Value::Bound(x), Value::Bound(y)) => x.0.is(&y.0) && x.1.is(&y.1),
            _ => a.key_eq(b),
        })
    }

    fn seq_eq(&mut self, x: &[Value], y: &[Value]) -> R<bool> {
        if x.len() != y.len() {
            return Ok(false);
        }
        for (p, q) in x.iter().zip(y) {
            if !p.is(q) && !self.eq(p, q)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn order(&mut self, op: CmpOp, a: &Value, b: &Value) -> R<Value> {
        if let (Some(x), Some(y)) = (num(a), num(b)) {
            if x.is_nan() || y.is_nan() {
                return Ok(Value::Bool(false));
            }
        }
        if let Some(ord) = self.builtin_cmp(a, b)? {
            use std::cmp::Ordering::*;
            return Ok(Value::Bool(match op {
                CmpOp::Lt => ord == Less,
                CmpOp::Le => ord != Greater,
                CmpOp::Gt => ord == Greater,
                _ => ord != Less,
            }));
        }
        if let (Value::Set(x), Value::Set(y)) = (a, b) {
            let (x, y) = (x.borrow().clone(), y.borrow().clone());
            let sub = |p: &Dict, q: &Dict| p.keys().iter().all(|k| q.contains(k).unwrap_or(false));
            return Ok(Value::Bool(match op {
                CmpOp::Le => sub(&x, &y),
                CmpOp::Lt => sub(&x, &y) && x.len() < y.len(),
                CmpOp::Ge => sub(&y, &x),
                _ => sub(&y, &x) && x.len() > y.len(),
            }));
        }
        let (name, rname) = match op {
            CmpOp::Lt => ("__lt__", "__gt__"),
            CmpOp::Le => ("__le__", "__ge__"),
            CmpOp::Gt => ("__gt__", "__lt__"),
            _ => ("__ge__", "__le__"),
        };
        if let Some(f) = self.get_special(a, name) {
            let r = self.call(&f, Args::new(vec![b.clone()]))?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
        }
        if let Some(f) = self.get_special(b, rname) {
            let r = self.call(&f, Args::new(vec![a.clone()]))?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
        }
        Err(Exception::type_error(format!(
            "'{}' not supported between instances of '{}' and '{}'",
            op.symbol(),
            a.type_name(),
            b.type_name()
        )))
    }

    /// Ordering of builtin values; `None` when the pair is not builtin-comparable.
    pub fn builtin_cmp(&mut self, a: &Value, b: &Value) -> R<Option<std::cmp::Ordering>> {
        if let (Some(x), Some(y)) = (int(a), int(b)) {
            return Ok(Some(x.cmp(&y)));
        }
        if let (Some(x), Some(y)) = (num(a), num(b)) {
            return Ok(Some(x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal)));
        }
        Ok(Some(match (a, b) {
            (Value::Str(x), Value::Str(y)) => x.cmp(y),
            (Value::Bytes(x), Value::Bytes(y)) => x.cmp(y),
            (Value::List(x), Value::List(y)) => {
                let (x, y) = (x.borrow().clone(), y.borrow().clone());
                return self.seq_cmp(&x, &y);
            }
            (Value::Tuple(x), Value::Tuple(y)) => {
                let (x, y) = (x.clone(), y.clone());
                return self.seq_cmp(&x, &y);
            }
            _ => return Ok(None),
        }))
    }

    fn seq_cmp(&mut self, x: &[Value], y: &[Value]) -> R<Option<std::cmp::Ordering>> {
        if super::interp::stack_exhausted() {
            return Err(Exception::new(
                "RecursionError",
                "maximum recursion depth exceeded in comparison",
            ));
        }
        for (p, q) in x.iter().zip(y) {
            if self.eq(p, q)? {
                continue;
            }
            if let Some(o) = self.builtin_cmp(p, q)? {
                return Ok(Some(o));
            }
            let lt = self.order(CmpOp::Lt, p, q)?;
            return Ok(Some(if self.truthy(&lt)? {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            }));
        }
        Ok(Some(x.len().cmp(&y.len())))
    }

    /// `needle in container`.
    pub fn contains(&mut self, container: &Value, needle: &Value) -> R<bool> {
        match container {
            Value::Str(s) => match needle {
                Value::Str(n) => Ok(s.contains(&**n)),
                other => Err(Exception::type_error(format!(
                    "'in <string>' requires string as left operand, not {}",
                    other.type_name()
                ))),
            },
            Value::Bytes(s) => match needle {
                Value::Bytes(n) => Ok(n.is_empty() || s.windows(n.len()).any(|w| w == &n[..])),
                Value::Int(i) => Ok(s.contains(&(*i as u8))),
                _ => Err(Exception::type_error("a bytes-like object is required")),
            },
            Value::Dict(d) | Value::Set(d) => d.borrow().contains(needle),
            Value::List(l) => {
                let items = l.borrow().clone();
                for v in &items {
                    if v.is(needle) || self.eq(v, needle)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Value::Tuple(t) => {
                for v in t.iter() {
                    if v.is(needle) || self.eq(v, needle)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Value::Range(a, b, s) => match int(needle) {
                Some(n) => Ok(if *s > 0 {
                    n >= *a && n < *b
                } else {
                    n <= *a && n > *b
                } && (n - a) % s == 0),
                None => Ok(false),
            },
            _ => {
                if let Some(f) = self.get_special(container, "__contains__") {
                    let r = self.call(&f, Args::new(vec![needle.clone()]))?;
                    return self.truthy(&r);
                }
                let has_iter = self.get_special(container, "__iter__").is_some()
                    || self.get_special(container, "__getitem__").is_some()
                    || matches!(container, Value::Iter(_));
                if !has_iter {
                    return Err(Exception::type_error(format!(
                        "argument of type '{}' is not iterable",
                        container.type_name()
                    )));
                }
                let it = self.get_iter(container)?;
                while let Some(v) = self.next(&it)? {
                    if self.eq(&v, needle)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        }
    }

    // ------------------------------------------------------------------ repr / str

    pub fn repr(&mut self, v: &Value) -> R<String> {
        // Self-containing containers print `[...]`/`{...}` like CPython; deep
        // nesting is a RecursionError rather than a Rust stack overflow.
        let id = match v {
            Value::List(l) => Some(Rc::as_ptr(l) as *const u8 as usize),
            Value::Dict(d) => Some(Rc::as_ptr(d) as *const u8 as usize),
            Value::Tuple(t) => Some(Rc::as_ptr(t) as *const u8 as usize),
            _ => None,
        };
        let Some(id) = id else {
            return self.repr_inner(v);
        };
        if self.repr_stack.contains(&id) {
            return Ok(match v {
                Value::List(_) => "[...]".into(),
                Value::Dict(_) => "{...}".into(),
                _ => "(...)".into(),
            });
        }
        if self.repr_stack.len() > 1000 || super::interp::stack_exhausted() {
            return Err(Exception::new(
                "RecursionError",
                "maximum recursion depth exceeded while getting the repr of an object",
            ));
        }
        self.repr_stack.push(id);
        let r = self.repr_inner(v);
        self.repr_stack.pop();
        r
    }

    fn repr_inner(&mut self, v: &Value) -> R<String> {
        Ok(match v {
            Value::None => "None".into(),
            Value::Ellipsis => "Ellipsis".into(),
            Value::NotImplemented => "NotImplemented".into(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => py_float_repr(*f),
            Value::Str(s) => py_str_repr(s),
            Value::Bytes(b) => bytes_repr(b),
            Value::List(l) => {
                let items = l.borrow().clone();
                format!("[{}]", self.join_reprs(&items)?)
            }
            Value::Tuple(t) => {
                if t.len() == 1 {
                    format!("({},)", self.repr(&t[0])?)
                } else {
                    format!("({})", self.join_reprs(t)?)
                }
            }
            Value::Dict(d) => {
                let items = d.borrow().items();
                let mut parts = Vec::with_capacity(items.len());
                for (k, v) in items {
                    parts.push(format!("{}: {}", self.repr(&k)?, self.repr(&v)?));
                }
                format!("{{{}}}", parts.join(", "))
            }
            Value::Set(d) => {
                let keys = d.borrow().set_order();
                if keys.is_empty() {
                    "set()".into()
                } else {
                    format!("{{{}}}", self.join_reprs(&keys)?)
                }
            }
            Value::Range(a, b, s) => {
                if *s == 1 {
                    format!("range({a}, {b})")
                } else {
                    format!("range({a}, {b}, {s})")
                }
            }
            Value::Slice(p) => format!(
                "slice({}, {}, {})",
                self.repr(&p[0])?,
                self.repr(&p[1])?,
                self.repr(&p[2])?
            ),
            Value::Function(f) => {
                format!("<function {} at {:#x}>", f.qualname, Rc::as_ptr(f) as usize)
            }
            Value::Native(f) => format!("<built-in function {}>", f.name),
            Value::Bound(b) => {
                let name = match &b.1 {
                    Value::Function(f) => f.qualname.clone(),
                    Value::Native(n) => n.name.clone(),
                    _ => "?".into(),
                };
                let recv = self.repr(&b.0)?;
                format!("<bound method {name} of {recv}>")
            }
            Value::Class(c)
                if c.meta
                    .borrow()
                    .as_ref()
                    .is_some_and(|m| m.lookup("__repr__").is_some()) =>
            {
                let meta = self.type_of(v);
                let f = meta.lookup("__repr__").unwrap_or(Value::None);
                let f = self.bind(v.clone(), f);
                let r = self.call(&f, Args::default())?;
                match r {
                    Value::Str(s) => s.to_string(),
                    other => {
                        return Err(Exception::type_error(format!(
                            "__repr__ returned non-string (type {})",
                            other.type_name()
                        )))
                    }
                }
            }
            Value::Class(c) => {
                if c.module == "builtins" || c.module.is_empty() {
                    format!("<class '{}'>", c.name)
                } else {
                    format!("<class '{}.{}'>", c.module, c.name)
                }
            }
            Value::Module(m) => format!("<module '{}'>", m.name),
            Value::Iter(it) if matches!(&*it.borrow(), Iter::Lazy(_)) => {
                let name = match &*it.borrow() {
                    Iter::Lazy(g) => g.qualname().to_string(),
                    _ => String::new(),
                };
                format!(
                    "<generator object {name} at {:#x}>",
                    Rc::as_ptr(it) as *const u8 as usize
                )
            }
            Value::Iter(it) => format!(
                "<{} object at {:#x}>",
                v.type_name(),
                Rc::as_ptr(it) as *const u8 as usize
            ),
            Value::Descriptor(d) => format!(
                "<{} object at {:#x}>",
                v.type_name(),
                Rc::as_ptr(d) as *const u8 as usize
            ),
            Value::Instance(inst) => {
                if let Some(f) = inst.class.lookup("__repr__") {
                    let f = self.bind_value(v, f);
                    let r = self.call(&f, Args::default())?;
                    return match r {
                        Value::Str(s) => Ok(s.to_string()),
                        other => Err(Exception::type_error(format!(
                            "__repr__ returned non-string (type {})",
                            other.type_name()
                        ))),
                    };
                }
                format!(
                    "<{} object at {:#x}>",
                    if inst.class.module == "builtins" {
                        inst.class.name.clone()
                    } else {
                        format!("{}.{}", inst.class.module, inst.class.name)
                    },
                    Rc::as_ptr(inst) as usize
                )
            }
        })
    }

    pub(crate) fn bind_value(&self, v: &Value, f: Value) -> Value {
        match f {
            Value::Function(_) | Value::Native(_) => Value::Bound(Rc::new((v.clone(), f))),
            other => other,
        }
    }

    fn join_reprs(&mut self, items: &[Value]) -> R<String> {
        let mut parts = Vec::with_capacity(items.len());
        for i in items {
            parts.push(self.repr(i)?);
        }
        Ok(parts.join(", "))
    }

    pub fn str(&mut self, v: &Value) -> R<String> {
        match v {
            Value::Str(s) => Ok(s.to_string()),
            Value::Instance(inst) => {
                if let Some(f) = inst.class.lookup("__str__") {
                    let f = self.bind_value(v, f);
                    let r = self.call(&f, Args::default())?;
                    return match r {
                        Value::Str(s) => Ok(s.to_string()),
                        other => Err(Exception::type_error(format!(
                            "__str__ returned non-string (type {})",
                            other.type_name()
                        ))),
                    };
                }
                self.repr(v)
            }
            _ => self.repr(v),
        }
    }

    // ------------------------------------------------------------------ iteration

    pub fn get_iter(&mut self, v: &Value) -> R<Value> {
        let it = match v {
            Value::List(l) => Iter::List(l.clone(), 0),
            Value::Tuple(t) => Iter::Seq(t.to_vec(), 0),
            Value::Str(s) => Iter::Seq(
                s.chars()
                    .map(|c| Value::Str(c.to_string().into()))
                    .collect(),
                0,
            ),
            Value::Bytes(b) => Iter::Seq(b.iter().map(|x| Value::Int(*x as i64)).collect(), 0),
            Value::Dict(d) => Iter::Seq(d.borrow().keys(), 0),
            Value::Set(d) => Iter::Seq(d.borrow().set_order(), 0),
            Value::Range(a, b, s) => Iter::Range(*a, *b, *s),
            Value::Iter(_) => return Ok(v.clone()),
            _ => {
                if let Some(f) = self.get_special(v, "__iter__") {
                    return self.call(&f, Args::default());
                }
                if let Some(f) = self.get_special(v, "__getitem__") {
                    // the old sequence protocol: index until IndexError
                    let mut items = Vec::new();
                    let mut i = 0;
                    loop {
                        match self.call(&f, Args::new(vec![Value::Int(i)])) {
                            Ok(x) => items.push(x),
                            Err(mut e) => {
                                let inst = self.materialize(&mut e);
                                if inst.class.is_subclass(&self.exc_class("IndexError")) {
                                    break;
                                }
                                return Err(e);
                            }
                        }
                        i += 1;
                    }
                    Iter::Seq(items, 0)
                } else {
                    return Err(Exception::type_error(format!(
                        "'{}' object is not iterable",
                        v.type_name()
                    )));
                }
            }
        };
        Ok(Value::Iter(Rc::new(RefCell::new(it))))
    }

    /// The next item of an iterator made by [`Interpreter::get_iter`]; `None` at the end.
    pub fn next(&mut self, it: &Value) -> R<Option<Value>> {
        match it {
            Value::Iter(i) => {
                if matches!(&*i.borrow(), Iter::Lazy(_) | Iter::Running) {
                    return self.resume_generator(i);
                }
                let r = i.borrow_mut().next_value();
                r
            }
            _ => {
                let Some(f) = self.get_special(it, "__next__") else {
                    return Err(Exception::type_error(format!(
                        "'{}' object is not an iterator",
                        it.type_name()
                    )));
                };
                match self.call(&f, Args::default()) {
                    Ok(v) => Ok(Some(v)),
                    Err(mut e) => {
                        let inst = self.materialize(&mut e);
                        if inst.class.is_subclass(&self.exc_class("StopIteration")) {
                            Ok(None)
                        } else {
                            Err(e)
                        }
                    }
                }
            }
        }
    }

    /// All items of an iterable.
    pub fn collect(&mut self, v: &Value) -> R<Vec<Value>> {
        match v {
            Value::List(l) => Ok(l.borrow().clone()),
            Value::Tuple(t) => Ok(t.to_vec()),
            Value::Dict(d) => Ok(d.borrow().keys()),
            Value::Set(d) => Ok(d.borrow().set_order()),
            Value::Range(a, b, s) => {
                check_size(range_len(*a, *b, *s) as u128)?;
                let it = self.get_iter(v)?;
                let mut out = Vec::new();
                while let Some(x) = self.next(&it)? {
                    out.push(x);
                }
                Ok(out)
            }
            _ => {
                let it = self.get_iter(v)?;
                let mut out = Vec::new();
                while let Some(x) = self.next(&it)? {
                    out.push(x);
                }
                Ok(out)
            }
        }
    }

    // ------------------------------------------------------------------ subscripts

    pub fn get_item(&mut self, obj: &Value, idx: &Value) -> R<Value> {
        match obj {
            Value::List(l) => {
                let l = l.borrow();
                match idx {
                    Value::Slice(s) => {
                        let ix = slice_indices(s, l.len())?;
                        Ok(Value::list(ix.into_iter().map(|i| l[i].clone()).collect()))
                    }
                    _ => Ok(l[seq_index(idx, l.len(), "list")?].clone()),
                }
            }
            Value::Tuple(t) => match idx {
                Value::Slice(s) => {
                    let ix = slice_indices(s, t.len())?;
                    Ok(Value::tuple(ix.into_iter().map(|i| t[i].clone()).collect()))
                }
                _ => Ok(t[seq_index(idx, t.len(), "tuple")?].clone()),
            },
            Value::Str(s) => {
                if s.is_ascii() {
                    let b = s.as_bytes();
                    return match idx {
                        Value::Slice(sl) => {
                            let ix = slice_indices(sl, b.len())?;
                            Ok(Value::Str(
                                ix.into_iter()
                                    .map(|i| b[i] as char)
                                    .collect::<String>()
                                    .into(),
                            ))
                        }
                        _ => {
                            let i = seq_index(idx, b.len(), "string")?;
                            Ok(Value::Str((b[i] as char).to_string().into()))
                        }
                    };
                }
                let chars: Vec<char> = s.chars().collect();
                match idx {
                    Value::Slice(sl) => {
                        let ix = slice_indices(sl, chars.len())?;
                        Ok(Value::Str(
                            ix.into_iter().map(|i| chars[i]).collect::<String>().into(),
                        ))
                    }
                    _ => Ok(Value::Str(
                        chars[seq_index(idx, chars.len(), "string")?]
                            .to_string()
                            .into(),
                    )),
                }
            }
            Value::Bytes(b) => match idx {
                Value::Slice(sl) => {
                    let ix = slice_indices(sl, b.len())?;
                    Ok(Value::Bytes(
                        ix.into_iter().map(|i| b[i]).collect::<Vec<u8>>().into(),
                    ))
                }
                _ => Ok(Value::Int(b[seq_index(idx, b.len(), "index")?] as i64)),
            },
            Value::Range(a, b, st) => {
                let len = range_len(*a, *b, *st) as usize;
                match idx {
                    Value::Slice(sl) => {
                        let ix = slice_indices(sl, len)?;
                        Ok(Value::list(
                            ix.into_iter()
                                .map(|i| Value::Int(a + st * i as i64))
                                .collect(),
                        ))
                    }
                    _ => Ok(Value::Int(
                        a + st * seq_index(idx, len, "range object")? as i64,
                    )),
                }
            }
            Value::Dict(d) => {
                let r = d.borrow().get(idx)?;
                match r {
                    Some(v) => Ok(v),
                    None => Err(Exception::with_args("KeyError", vec![idx.clone()])),
                }
            }
            Value::Class(c)
                if c.lookup("__class_getitem__").is_none() && c.module == "builtins" =>
            {
                // `list[int]` style generic aliases: accept and return the class
                Ok(obj.clone())
            }
            _ => {
                if let Some(f) = self.get_special(obj, "__getitem__") {
                    return self.call(&f, Args::new(vec![idx.clone()]));
                }
                Err(Exception::type_error(format!(
                    "'{}' object is not subscriptable",
                    obj.type_name()
                )))
            }
        }
    }

    pub fn set_item(&mut self, obj: &Value, idx: Value, v: Value) -> R<()> {
        match obj {
            Value::List(l) => {
                if let Value::Slice(s) = &idx {
                    let items = self.collect(&v)?;
                    let mut l = l.borrow_mut();
                    let len = l.len();
                    if !s[2].is_none() && !matches!(s[2], Value::Int(1)) {
                        let ix = slice_indices(s, len)?;
                        if ix.len() != items.len() {
                            return Err(Exception::value_error(format!(
                                "attempt to assign sequence of size {} to extended slice of size {}",
                                items.len(),
                                ix.len()
                            )));
                        }
                        for (i, item) in ix.into_iter().zip(items) {
                            l[i] = item;
                        }
                        return Ok(());
                    }
                    let (start, stop) = simple_bounds(s, len)?;
                    let stop = stop.max(start);
                    l.splice(start..stop, items);
                    return Ok(());
                }
                let mut l = l.borrow_mut();
                let len = l.len();
                let i = seq_index(&idx, len, "list assignment").map_err(|e| {
                    if e.is_pending("IndexError") {
                        Exception::new("IndexError", "list assignment index out of range")
                    } else {
                        e
                    }
                })?;
                l[i] = v;
                Ok(())
            }
            Value::Dict(d) => d.borrow_mut().insert(idx, v),
            Value::Instance(_) => match self.get_special(obj, "__setitem__") {
                Some(f) => {
                    self.call(&f, Args::new(vec![idx, v]))?;
                    Ok(())
                }
                None => Err(Exception::type_error(format!(
                    "'{}' object does not support item assignment",
                    obj.type_name()
                ))),
            },
            _ => Err(Exception::type_error(format!(
                "'{}' object does not support item assignment",
                obj.type_name()
            ))),
        }
    }

    pub fn del_item(&mut self, obj: &Value, idx: &Value) -> R<()> {
        match obj {
            Value::List(l) => {
                let mut l = l.borrow_mut();
                let len = l.len();
                if let Value::Slice(s) = idx {
                    let mut ix = slice_indices(s, len)?;
                    ix.sort_unstable();
                    for i in ix.into_iter().rev() {
                        l.remove(i);
                    }
                    return Ok(());
                }
                let i = seq_index(idx, len, "list assignment")?;
                l.remove(i);
                Ok(())
            }
            Value::Dict(d) => match d.borrow_mut().remove(idx)? {
                Some(_) => Ok(()),
                None => Err(Exception::with_args("KeyError", vec![idx.clone()])),
            },
            _ => match self.get_special(obj, "__delitem__") {
                Some(f) => {
                    self.call(&f, Args::new(vec![idx.clone()]))?;
                    Ok(())
                }
                None => Err(Exception::type_error(format!(
                    "'{}' object does not support item deletion",
                    obj.type_name()
                ))),
            },
        }
    }
}

pub fn bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut s = String::from("b");
    s.push(quote);
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            c if c as char == quote => {
                s.push('\\');
                s.push(quote)
            }
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push(quote);
    s
}

/// Index into a sequence of `len`, negative from the end, with CPython's messages.
pub fn seq_index(idx: &Value, len: usize, what: &str) -> R<usize> {
    let i = match idx {
        Value::Int(i) => *i,
        Value::Bool(b) => *b as i64,
        _ => {
            let kind = if what == "string" {
                "string"
            } else if what.starts_with("list") {
                "list"
            } else {
                what
            };
            return Err(Exception::type_error(format!(
                "{kind} indices must be integers or slices, not {}",
                idx.type_name()
            )));
        }
    };
    let j = if i < 0 { i + len as i64 } else { i };
    if j < 0 || j >= len as i64 {
        return Err(Exception::new(
            "IndexError",
            format!("{what} index out of range"),
        ));
    }
    Ok(j as usize)
}

fn slice_part(v: &Value) -> R<Option<i64>> {
    match v {
        Value::None => Ok(None),
        Value::Int(i) => Ok(Some(*i)),
        Value::Bool(b) => Ok(Some(*b as i64)),
        _ => Err(Exception::type_error(
            "slice indices must be integers or None or have an __index__ method",
        )),
    }
}

fn simple_bounds(s: &[Value; 3], len: usize) -> R<(usize, usize)> {
    let len = len as i64;
    let clamp = |v: Option<i64>, d: i64| -> usize {
        let v = v.unwrap_or(d);
        let v = if v < 0 { v + len } else { v };
        v.clamp(0, len) as usize
    };
    Ok((clamp(slice_part(&s[0])?, 0), clamp(slice_part(&s[1])?, len)))
}

/// The indices a slice selects, in order.
pub fn slice_indices(s: &[Value; 3], len: usize) -> R<Vec<usize>> {
    let step = slice_part(&s[2])?.unwrap_or(1);
    if step == 0 {
        return Err(Exception::value_error("slice step cannot be zero"));
    }
    let len = len as i64;
    let (lo_def, hi_def) = if step > 0 { (0, len) } else { (len - 1, -1) };
    let adj = |v: Option<i64>, d: i64| -> i64 {
        match v {
            None => d,
            Some(v) => {
                let v = if v < 0 { v + len } else { v };
                if step > 0 {
                    v.clamp(0, len)
                } else {
                    v.clamp(-1, len - 1)
                }
            }
        }
    };
    let start = adj(slice_part(&s[0])?, lo_def);
    let stop = adj(slice_part(&s[1])?, hi_def);
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        out.push(i as usize);
        i += step;
    }
    Ok(out)
}
