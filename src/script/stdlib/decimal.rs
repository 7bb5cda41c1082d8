//! `decimal`: Decimal with exact +, -, * and CPython's str/repr.

use super::*;

/// A decimal number: `mantissa * 10**exp` (exact for +, -, *).
#[derive(Clone, Copy)]
pub struct Dec {
    pub mant: i128,
    pub exp: i32,
}

impl Dec {
    pub fn parse(s: &str) -> Option<Dec> {
        let t = s.trim();
        let (mant_s, exp) = match t.find(['e', 'E']) {
            Some(p) => (&t[..p], t[p + 1..].parse::<i32>().ok()?),
            None => (t, 0),
        };
        let (neg, body) = match mant_s.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, mant_s.strip_prefix('+').unwrap_or(mant_s)),
        };
        let (ip, fp) = match body.find('.') {
            Some(p) => (&body[..p], &body[p + 1..]),
            None => (body, ""),
        };
        if ip.is_empty() && fp.is_empty()
            || !ip.chars().chain(fp.chars()).all(|c| c.is_ascii_digit())
        {
            return None;
        }
        let digits = format!("{ip}{fp}");
        let m: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        Some(Dec {
            mant: if neg { -m } else { m },
            exp: exp - fp.len() as i32,
        })
    }

    fn align(a: Dec, b: Dec) -> Option<(i128, i128, i32)> {
        let e = a.exp.min(b.exp);
        let scale = |d: Dec| d.mant.checked_mul(10i128.checked_pow((d.exp - e) as u32)?);
        Some((scale(a)?, scale(b)?, e))
    }

    fn cmp(a: Dec, b: Dec) -> std::cmp::Ordering {
        match Dec::align(a, b) {
            Some((x, y, _)) => x.cmp(&y),
            None => a
                .to_f64()
                .partial_cmp(&b.to_f64())
                .unwrap_or(std::cmp::Ordering::Equal),
        }
    }

    /// The dict/set key: an int when integral (so `Decimal(1)` and `1` are the
    /// same key, as in CPython), else the normalized digits and exponent.
    fn key(self) -> Value {
        let (mut m, mut e) = (self.mant, self.exp);
        while m != 0 && m % 10 == 0 {
            m /= 10;
            e += 1;
        }
        if m == 0 {
            return Value::Int(0);
        }
        if e >= 0 {
            if let Some(v) = 10i128
                .checked_pow(e as u32)
                .and_then(|p| m.checked_mul(p))
                .and_then(|v| i64::try_from(v).ok())
            {
                return Value::Int(v);
            }
        }
        Value::tuple(vec![
            Value::str("decimal"),
            Value::str(&m.to_string()),
            Value::Int(e as i64),
        ])
    }

    /// Rounds to `places` decimal places, half-even (Decimal.quantize default).
    pub fn quantize(self, places: u32) -> Dec {
        let target = -(places as i32);
        if self.exp >= target {
            let scale = 10i128.checked_pow((self.exp - target) as u32);
            return match scale.and_then(|s| self.mant.checked_mul(s)) {
                Some(m) => Dec {
                    mant: m,
                    exp: target,
                },
                None => self,
            };
        }
        let Some(div) = 10i128.checked_pow((target - self.exp) as u32) else {
            return Dec {
                mant: 0,
                exp: target,
            };
        };
        let q = self.mant / div;
        let r = (self.mant % div).abs();
        let half = div / 2;
        let up = r > half || (r == half && q % 2 != 0);
        let q = if up { q + self.mant.signum() } else { q };
        Dec {
            mant: q,
            exp: target,
        }
    }

    /// Fixed-point text without exponent (`format(d, 'f')`).
    pub fn to_string_py_fixed(self) -> String {
        let digits = self.mant.unsigned_abs().to_string();
        let sign = if self.mant < 0 { "-" } else { "" };
        if self.exp >= 0 {
            return format!("{sign}{digits}{}", "0".repeat(self.exp as usize));
        }
        let places = (-self.exp) as usize;
        let padded = format!("{digits:0>width$}", width = places + 1);
        let (i, f) = padded.split_at(padded.len() - places);
        format!("{sign}{i}.{f}")
    }

    pub fn to_f64(self) -> f64 {
        format!("{}e{}", self.mant, self.exp)
            .parse()
            .unwrap_or(f64::NAN)
    }

    /// CPython's `Decimal.__str__` (scientific notation for large exponents).
    pub fn to_string_py(self) -> String {
        let digits = self.mant.unsigned_abs().to_string();
        let sign = if self.mant < 0 { "-" } else { "" };
        let n = digits.len() as i32;
        let adjusted = self.exp + n - 1;
        if self.exp <= 0 && adjusted >= -6 {
            if self.exp == 0 {
                return format!("{sign}{digits}");
            }
            let point = n + self.exp;
            if point > 0 {
                format!(
                    "{sign}{}.{}",
                    &digits[..point as usize],
                    &digits[point as usize..]
                )
            } else {
                format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
            }
        } else {
            let rest = if n > 1 {
                format!(".{}", &digits[1..])
            } else {
                String::new()
            };
            format!(
                "{sign}{}{rest}E{}{}",
                &digits[..1],
                if adjusted >= 0 { "+" } else { "-" },
                adjusted.abs()
            )
        }
    }
}

/// `format(Decimal, spec)` for the fixed-point (`f`) and plain forms, rounding
/// half-even on the decimal digits as CPython does; alignment and width reuse
/// the string formatter.
fn decimal_format(it: &mut Interpreter, d: Dec, spec: &str) -> R<Value> {
    let body_end = spec
        .trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '%')
        .len();
    let ty = &spec[body_end..];
    let (layout, prec) = match spec[..body_end].rsplit_once('.') {
        Some((l, p)) => (l, p.parse::<u32>().ok()),
        None => (&spec[..body_end], None),
    };
    let text = match (ty, prec) {
        ("" | "f" | "F", Some(p)) => d.quantize(p).to_string_py_fixed(),
        ("", None) => d.to_string_py(),
        ("f" | "F", None) => d.to_string_py_fixed(),
        _ => {
            return Err(Exception::new(
                "NotImplementedError",
                format!(
                    "format spec {} for Decimal is not supported by the harness's Python subset",
                    py_str_repr(spec)
                ),
            ))
        }
    };
    if layout.contains(['+', ' ', ',', '_', '#']) || layout.starts_with('0') || layout.contains("=")
    {
        return Err(Exception::new(
            "NotImplementedError",
            format!(
                "format spec {} for Decimal is not supported by the harness's Python subset",
                py_str_repr(spec)
            ),
        ));
    }
    // numbers align right unless the spec says otherwise
    let str_spec = if layout.is_empty() || layout.contains(['<', '>', '^']) {
        layout.to_string()
    } else {
        format!(">{layout}")
    };
    let aligned = it.format_value(&Value::str(&text), &str_spec)?;
    Ok(Value::str(&aligned))
}

/// The default context's precision.
const PREC: usize = 28;

fn digits(n: i128) -> usize {
    n.unsigned_abs().to_string().len()
}

impl Dec {
    /// Division in the default context (28 digits, half-even), following
    /// `_pydecimal.Decimal.__truediv__`; `None` when it would overflow i128.
    fn divide(self, other: Dec) -> Option<Dec> {
        let neg = (self.mant < 0) != (other.mant < 0);
        let (a, b) = (
            self.mant.unsigned_abs() as i128,
            other.mant.unsigned_abs() as i128,
        );
        let (mut coeff, mut exp);
        if a == 0 {
            coeff = 0;
            exp = self.exp - other.exp;
        } else {
            let shift = digits(b) as i32 - digits(a) as i32 + PREC as i32 + 1;
            exp = self.exp - other.exp - shift;
            let (q, r) = if shift >= 0 {
                let num = a.checked_mul(10i128.checked_pow(shift as u32)?)?;
                (num / b, num % b)
            } else {
                let den = b.checked_mul(10i128.checked_pow((-shift) as u32)?)?;
                (a / den, a % den)
            };
            coeff = q;
            if r != 0 {
                if coeff % 5 == 0 {
                    coeff += 1;
                }
            } else {
                let ideal = self.exp - other.exp;
                while exp < ideal && coeff % 10 == 0 {
                    coeff /= 10;
                    exp += 1;
                }
            }
            // _fix: round to PREC digits, half-even
            let n = digits(coeff);
            if n > PREC {
                let drop = (n - PREC) as u32;
                let p = 10i128.pow(drop);
                let (mut q, r) = (coeff / p, coeff % p);
                let half = p / 2;
                if r > half || (r == half && q % 2 == 1) {
                    q += 1;
                }
                exp += drop as i32;
                if digits(q) > PREC {
                    q /= 10;
                    exp += 1;
                }
                coeff = q;
            }
        }
        Some(Dec {
            mant: if neg { -coeff } else { coeff },
            exp,
        })
    }
}

type MakeDec = Rc<dyn Fn(Dec) -> Value>;

fn div_method(
    mk: MakeDec,
    invalid: Rc<Class>,
    by_zero: Rc<Class>,
    reflected: bool,
) -> impl Fn(&mut Interpreter, &Value, Args) -> R<Value> {
    move |_, this, a| {
        let (Some(x), Some(y)) = (to_dec(this), a.pos.first().and_then(to_dec)) else {
            return Ok(Value::NotImplemented);
        };
        let (x, y) = if reflected { (y, x) } else { (x, y) };
        if y.mant == 0 {
            return Err(if x.mant == 0 {
                crate::script::native::raise(&invalid, "[<class 'decimal.DivisionUndefined'>]")
            } else {
                crate::script::native::raise(&by_zero, "[<class 'decimal.DivisionByZero'>]")
            });
        }
        x.divide(y).map(|d| mk(d)).ok_or_else(|| {
            Exception::new("NotImplementedError", "Decimal division beyond 128-bit intermediates is not supported by the harness's Python subset")
        })
    }
}

fn to_dec(v: &Value) -> Option<Dec> {
    match v {
        Value::Int(i) => Some(Dec {
            mant: *i as i128,
            exp: 0,
        }),
        Value::Bool(b) => Some(Dec {
            mant: *b as i128,
            exp: 0,
        }),
        other => state::<Dec>(other).map(|d| *d),
    }
}

pub(super) fn decimal(it: &mut Interpreter) -> Module {
    let m = Module::new("decimal");
    let cell: Rc<RefCell<Option<Rc<Class>>>> = Rc::new(RefCell::new(None));
    let c1 = cell.clone();
    let mk = move |d: Dec| -> Value {
        match c1.borrow().as_ref() {
            Some(c) => new_value_object(c, d, d.key()),
            None => Value::None,
        }
    };
    let arith = |name: &'static str,
                 mk: Rc<dyn Fn(Dec) -> Value>,
                 f: fn(Dec, Dec) -> Option<Dec>,
                 reflected: bool| {
        move |_: &mut Interpreter, this: &Value, a: Args| -> R<Value> {
            let (Some(x), Some(y)) = (to_dec(this), a.pos.first().and_then(to_dec)) else {
                return Ok(Value::NotImplemented);
            };
            let (x, y) = if reflected { (y, x) } else { (x, y) };
            f(x, y).map(|d| mk(d)).ok_or_else(|| {
                Exception::new(
                    "OverflowError",
                    format!("decimal {name} overflows the harness's 128-bit Decimal"),
                )
            })
        }
    };
    let mkr: Rc<dyn Fn(Dec) -> Value> = Rc::new(mk.clone());
    let add = |a: Dec, b: Dec| {
        Dec::align(a, b).and_then(|(x, y, e)| {
            Some(Dec {
                mant: x.checked_add(y)?,
                exp: e,
            })
        })
    };
    let sub = |a: Dec, b: Dec| {
        Dec::align(a, b).and_then(|(x, y, e)| {
            Some(Dec {
                mant: x.checked_sub(y)?,
                exp: e,
            })
        })
    };
    let mul = |a: Dec, b: Dec| {
        Some(Dec {
            mant: a.mant.checked_mul(b.mant)?,
            exp: a.exp + b.exp,
        })
    };
    let mk_neg = mk.clone();
    let invalid = ClassBuilder::exception(
        it,
        "InvalidOperation",
        "decimal",
        Some(it.builtin_exception("ArithmeticError")),
    )
    .build();
    m.set("InvalidOperation", Value::Class(invalid.clone()));
    let by_zero = ClassBuilder::exception(
        it,
        "DivisionByZero",
        "decimal",
        Some(it.builtin_exception("ZeroDivisionError")),
    )
    .build();
    m.set("DivisionByZero", Value::Class(by_zero.clone()));
    let invalid2 = invalid.clone();
    let class = ClassBuilder::new(it, "Decimal", "decimal")
        .init(move |_, inst, a| {
            let p = a.bind("Decimal", &["value", "context"], 0)?;
            let d = match &p[0] {
                None => Dec { mant: 0, exp: 0 },
                Some(Value::Str(s)) => Dec::parse(s).ok_or_else(|| {
                    crate::script::native::raise(&invalid2, "[<class 'decimal.ConversionSyntax'>]")
                })?,
                Some(v) => match to_dec(v) {
                    Some(d) => d,
                    None => {
                        return Err(match v {
                            Value::Float(_) => Exception::new("NotImplementedError", "Decimal(float) is not supported by the harness's Python subset; use Decimal(str)"),
                            o => Exception::type_error(format!("conversion from {} to Decimal is not supported", o.type_name())),
                        })
                    }
                },
            };
            *inst.key.borrow_mut() = Some(d.key());
            inst.set_native(d);
            Ok(())
        })
        .method("__repr__", |_, this, _| Ok(Value::str(&format!("Decimal('{}')", state_of::<Dec>(this, "Decimal")?.to_string_py()))))
        .method("__str__", |_, this, _| Ok(Value::str(&state_of::<Dec>(this, "Decimal")?.to_string_py())))
        .method("__format__", |it, this, a| {
            let d = *state_of::<Dec>(this, "Decimal")?;
            let spec = arg_str(a.pos.first().unwrap_or(&Value::None), "format")?;
            decimal_format(it, d, &spec)
        })
        .method("__float__", |_, this, _| Ok(Value::Float(state_of::<Dec>(this, "Decimal")?.to_f64())))
        .method("__int__", |_, this, _| {
            let d = *state_of::<Dec>(this, "Decimal")?;
            let v = if d.exp >= 0 { d.mant.checked_mul(10i128.pow(d.exp as u32)) } else { Some(d.mant / 10i128.checked_pow((-d.exp) as u32).unwrap_or(i128::MAX)) };
            v.and_then(|v| i64::try_from(v).ok()).map(Value::Int).ok_or_else(|| Exception::new("OverflowError", "int too large"))
        })
        .method("__bool__", |_, this, _| Ok(Value::Bool(state_of::<Dec>(this, "Decimal")?.mant != 0)))
        .method("__neg__", move |_, this, _| {
            let d = *state_of::<Dec>(this, "Decimal")?;
            Ok(mk_neg(Dec { mant: -d.mant, exp: d.exp }))
        })
        .method("__add__", arith("addition", mkr.clone(), add, false))
        .method("__radd__", arith("addition", mkr.clone(), add, true))
        .method("__sub__", arith("subtraction", mkr.clone(), sub, false))
        .method("__rsub__", arith("subtraction", mkr.clone(), sub, true))
        .method("__mul__", arith("multiplication", mkr.clone(), mul, false))
        .method("__rmul__", arith("multiplication", mkr.clone(), mul, true))
        .method("__truediv__", div_method(mkr.clone(), invalid.clone(), by_zero.clone(), false))
        .method("__rtruediv__", div_method(mkr.clone(), invalid.clone(), by_zero.clone(), true))
        .method("__floordiv__", |_, _, _| Err(Exception::new("NotImplementedError", "Decimal // is not supported by the harness's Python subset")))
        .method("__mod__", |_, _, _| Err(Exception::new("NotImplementedError", "Decimal % is not supported by the harness's Python subset")))
        .build();
    add_comparisons(
        &class,
        Rc::new(|a, b| match (to_dec(a), to_dec(b), b) {
            (Some(x), Some(y), _) => Some(Dec::cmp(x, y)),
            (Some(x), None, Value::Float(f)) => x.to_f64().partial_cmp(f),
            _ => None,
        }),
    );
    *cell.borrow_mut() = Some(class.clone());
    m.set("Decimal", Value::Class(class));
    m
}
