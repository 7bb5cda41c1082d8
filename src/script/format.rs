//! String formatting: `%` formatting, the format-spec mini-language used by
//! `format()`, f-strings and `str.format`.

use super::interp::{Interpreter, R};
use super::value::*;
use crate::core::repr::{py_float_repr, py_str_repr};

/// A repr that needs no interpreter (exception messages built from plain data).
pub fn plain_repr(v: &Value) -> String {
    match v {
        Value::None => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => py_float_repr(*f),
        Value::Str(s) => py_str_repr(s),
        Value::Tuple(t) => {
            let parts: Vec<String> = t.iter().map(plain_repr).collect();
            if parts.len() == 1 {
                format!("({},)", parts[0])
            } else {
                format!("({})", parts.join(", "))
            }
        }
        Value::List(l) => format!(
            "[{}]",
            l.borrow()
                .iter()
                .map(plain_repr)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => format!("<{} object>", other.type_name()),
    }
}

fn to_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Bool(b) => Some(*b as i64 as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// `fmt % args`.
pub fn percent_format(interp: &mut Interpreter, fmt: &str, args: &Value) -> R<String> {
    let items: Vec<Value> = match args {
        Value::Tuple(t) => t.to_vec(),
        other => vec![other.clone()],
    };
    let mapping = match args {
        Value::Dict(_) => Some(args.clone()),
        Value::Instance(_) if interp.get_special(args, "__getitem__").is_some() => {
            Some(args.clone())
        }
        _ => None,
    };
    let mut next = 0usize;
    let mut used_mapping = false;
    let cs: Vec<char> = fmt.chars().collect();
    let mut out = String::with_capacity(fmt.len() + 16);
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let Some(&first) = cs.get(i) else {
            return Err(Exception::value_error("incomplete format"));
        };
        if first == '%' {
            out.push('%');
            i += 1;
            continue;
        }
        // mapping key
        let mut arg: Option<Value> = None;
        if first == '(' {
            let mut depth = 1;
            let start = i + 1;
            i += 1;
            while i < cs.len() && depth > 0 {
                match cs[i] {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                i += 1;
            }
            if depth > 0 {
                return Err(Exception::value_error("incomplete format key"));
            }
            let key: String = cs[start..i - 1].iter().collect();
            let Some(m) = &mapping else {
                return Err(Exception::type_error("format requires a mapping"));
            };
            used_mapping = true;
            arg = Some(interp.get_item(m, &Value::Str(key.into()))?);
        }
        let mut flags = String::new();
        while i < cs.len() && "-+ #0".contains(cs[i]) {
            flags.push(cs[i]);
            i += 1;
        }
        let mut take_arg = |interp: &mut Interpreter| -> R<Value> {
            let _ = interp;
            if next >= items.len() {
                return Err(Exception::type_error(
                    "not enough arguments for format string",
                ));
            }
            next += 1;
            Ok(items[next - 1].clone())
        };
        let mut width: Option<usize> = None;
        if i < cs.len() && cs[i] == '*' {
            let w = take_arg(interp)?;
            let Value::Int(n) = w else {
                return Err(Exception::type_error("* wants int"));
            };
            if n < 0 {
                flags.push('-');
            }
            check_size(n.unsigned_abs() as u128)?;
            width = Some(n.unsigned_abs() as usize);
            i += 1;
        } else {
            let mut w = String::new();
            while i < cs.len() && cs[i].is_ascii_digit() {
                w.push(cs[i]);
                i += 1;
            }
            if !w.is_empty() {
                let n: usize = w.parse().unwrap_or(usize::MAX);
                check_size(n as u128)?;
                width = Some(n);
            }
        }
        let mut prec: Option<usize> = None;
        if i < cs.len() && cs[i] == '.' {
            i += 1;
            if i < cs.len() && cs[i] == '*' {
                let p = take_arg(interp)?;
                prec = Some(match p {
                    Value::Int(n) => n.max(0) as usize,
                    _ => return Err(Exception::type_error("* wants int")),
                });
                i += 1;
            } else {
                let mut p = String::new();
                while i < cs.len() && cs[i].is_ascii_digit() {
                    p.push(cs[i]);
                    i += 1;
                }
                let n: usize = if p.is_empty() {
                    0
                } else {
                    p.parse().unwrap_or(usize::MAX)
                };
                check_size(n as u128)?;
                prec = Some(n);
            }
        }
        while i < cs.len() && "hlL".contains(cs[i]) {
            i += 1;
        }
        let Some(&conv) = cs.get(i) else {
            return Err(Exception::value_error("incomplete format"));
        };
        i += 1;
        let v = match arg.take() {
            Some(v) => v,
            None => take_arg(interp)?,
        };
        let body = match conv {
            's' => {
                let s = interp.str(&v)?;
                truncate(s, prec)
            }
            'r' | 'a' => truncate(interp.repr(&v)?, prec),
            'd' | 'i' | 'u' => {
                let v = match interp.get_special(&v, "__int__") {
                    Some(m) if matches!(v, Value::Instance(_)) => {
                        interp.call(&m, Args::default())?
                    }
                    _ => v,
                };
                let n = match &v {
                    Value::Int(n) => *n,
                    Value::Bool(b) => *b as i64,
                    Value::Float(f) => f.trunc() as i64,
                    other => {
                        return Err(Exception::type_error(format!(
                            "%{conv} format: a real number is required, not {}",
                            other.type_name()
                        )))
                    }
                };
                sign_prefix(n < 0, &flags, n.unsigned_abs().to_string())
            }
            'x' | 'X' | 'o' => {
                let n = match &v {
                    Value::Int(n) => *n,
                    Value::Bool(b) => *b as i64,
                    other => {
                        return Err(Exception::type_error(format!(
                            "%{conv} format: an integer is required, not {}",
                            other.type_name()
                        )))
                    }
                };
                let mut digits = match conv {
                    'x' => format!("{:x}", n.unsigned_abs()),
                    'X' => format!("{:X}", n.unsigned_abs()),
                    _ => format!("{:o}", n.unsigned_abs()),
                };
                if flags.contains('#') {
                    digits = format!("0{}{digits}", if conv == 'o' { 'o' } else { conv });
                }
                sign_prefix(n < 0, &flags, digits)
            }
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                let v = match interp.get_special(&v, "__float__") {
                    Some(m) if matches!(v, Value::Instance(_)) => {
                        interp.call(&m, Args::default())?
                    }
                    _ => v,
                };
                let Some(f) = to_f64(&v) else {
                    return Err(Exception::type_error(format!(
                        "must be real number, not {}",
                        v.type_name()
                    )));
                };
                let body = float_body(f.abs(), conv, prec.unwrap_or(6), flags.contains('#'));
                sign_prefix(f.is_sign_negative() && !f.is_nan(), &flags, body)
            }
            'c' => match &v {
                Value::Int(n) => char::from_u32(*n as u32)
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                Value::Str(s) if s.chars().count() == 1 => s.to_string(),
                _ => return Err(Exception::type_error("%c requires int or char")),
            },
            other => {
                return Err(Exception::value_error(format!(
                    "unsupported format character '{other}' (0x{:x}) at index {}",
                    other as u32,
                    i - 1
                )))
            }
        };
        let numeric = "diuxXofFeEgG".contains(conv);
        out.push_str(&pad(
            body,
            width,
            flags.contains('-'),
            numeric && flags.contains('0'),
        ));
    }
    if next < items.len() && !used_mapping && !matches!(args, Value::Dict(_)) {
        return Err(Exception::type_error(
            "not all arguments converted during string formatting",
        ));
    }
    Ok(out)
}

fn truncate(s: String, prec: Option<usize>) -> String {
    match prec {
        Some(p) => s.chars().take(p).collect(),
        None => s,
    }
}

fn sign_prefix(neg: bool, flags: &str, body: String) -> String {
    if neg {
        format!("-{body}")
    } else if flags.contains('+') {
        format!("+{body}")
    } else if flags.contains(' ') {
        format!(" {body}")
    } else {
        body
    }
}

fn pad(body: String, width: Option<usize>, left: bool, zero: bool) -> String {
    let Some(w) = width else { return body };
    let n = body.chars().count();
    if n >= w {
        return body;
    }
    let fill = w - n;
    if left {
        format!("{body}{}", " ".repeat(fill))
    } else if zero {
        let (sign, rest) = match body.chars().next() {
            Some(c @ ('-' | '+' | ' ')) => (c.to_string(), body[1..].to_string()),
            _ => (String::new(), body.clone()),
        };
        format!("{sign}{}{rest}", "0".repeat(fill))
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

/// Formats a non-negative float for `f`, `e`, `g` conversions.
fn float_body(f: f64, conv: char, prec: usize, alt: bool) -> String {
    if f.is_nan() {
        return if conv.is_uppercase() {
            "NAN".into()
        } else {
            "nan".into()
        };
    }
    if f.is_infinite() {
        return if conv.is_uppercase() {
            "INF".into()
        } else {
            "inf".into()
        };
    }
    match conv {
        'f' | 'F' => format!("{f:.prec$}"),
        'e' | 'E' => {
            let s = exp_format(f, prec);
            if conv == 'E' {
                s.to_uppercase()
            } else {
                s
            }
        }
        _ => {
            let p = if prec == 0 { 1 } else { prec };
            let exp = if f == 0.0 {
                0
            } else {
                let s = exp_format(f, p - 1);
                s.split_once('e')
                    .and_then(|(_, e)| e.parse::<i32>().ok())
                    .unwrap_or(0)
            };
            let mut s = if exp < -4 || exp >= p as i32 {
                let s = exp_format(f, p - 1);
                if alt {
                    s
                } else {
                    let (m, e) = s.split_once('e').unwrap_or((&s, "+00"));
                    format!("{}e{e}", strip_zeros(m))
                }
            } else {
                let decimals = (p as i32 - 1 - exp).max(0) as usize;
                let s = format!("{f:.decimals$}");
                if alt {
                    s
                } else {
                    strip_zeros(&s)
                }
            };
            if conv == 'G' {
                s = s.to_uppercase();
            }
            s
        }
    }
}

fn strip_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// `1.500000e+03` style.
fn exp_format(f: f64, prec: usize) -> String {
    let s = format!("{f:.prec$e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

/// A parsed format spec: `[[fill]align][sign][#][0][width][,][.precision][type]`.
struct Spec {
    fill: char,
    align: Option<char>,
    sign: char,
    alt: bool,
    zero: bool,
    width: usize,
    grouping: Option<char>,
    prec: Option<usize>,
    ty: Option<char>,
}

fn parse_spec(spec: &str) -> R<Spec> {
    let cs: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut s = Spec {
        fill: ' ',
        align: None,
        sign: '-',
        alt: false,
        zero: false,
        width: 0,
        grouping: None,
        prec: None,
        ty: None,
    };
    if cs.len() >= 2 && "<>^=".contains(cs[1]) {
        s.fill = cs[0];
        s.align = Some(cs[1]);
        i = 2;
    } else if !cs.is_empty() && "<>^=".contains(cs[0]) {
        s.align = Some(cs[0]);
        i = 1;
    }
    if i < cs.len() && "+- ".contains(cs[i]) {
        s.sign = cs[i];
        i += 1;
    }
    if i < cs.len() && cs[i] == '#' {
        s.alt = true;
        i += 1;
    }
    if i < cs.len() && cs[i] == '0' {
        s.zero = true;
        i += 1;
    }
    let mut w = String::new();
    while i < cs.len() && cs[i].is_ascii_digit() {
        w.push(cs[i]);
        i += 1;
    }
    s.width = if w.is_empty() {
        0
    } else {
        w.parse().unwrap_or(usize::MAX)
    };
    if s.width > MAX_SIZE {
        return Err(Exception::value_error(
            "Too many decimal digits in format string",
        ));
    }
    if i < cs.len() && (cs[i] == ',' || cs[i] == '_') {
        s.grouping = Some(cs[i]);
        i += 1;
    }
    if i < cs.len() && cs[i] == '.' {
        i += 1;
        let mut p = String::new();
        while i < cs.len() && cs[i].is_ascii_digit() {
            p.push(cs[i]);
            i += 1;
        }
        if p.is_empty() {
            return Err(Exception::value_error("Format specifier missing precision"));
        }
        let n: usize = p.parse().unwrap_or(usize::MAX);
        if n > MAX_SIZE {
            return Err(Exception::value_error(
                "Too many decimal digits in format string",
            ));
        }
        s.prec = Some(n);
    }
    if i < cs.len() {
        s.ty = Some(cs[i]);
        i += 1;
    }
    if i < cs.len() {
        return Err(Exception::value_error("Invalid format specifier"));
    }
    Ok(s)
}

fn group(digits: &str, sep: char) -> String {
    let (int_part, rest) = match digits.find('.') {
        Some(p) => (&digits[..p], &digits[p..]),
        None => (digits, ""),
    };
    let mut out = String::new();
    let n = int_part.len();
    for (k, c) in int_part.chars().enumerate() {
        if k > 0 && (n - k) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out + rest
}

fn align(body: String, neg_sign: &str, s: &Spec, default_right: bool) -> String {
    let total = body.chars().count() + neg_sign.chars().count();
    if total >= s.width {
        return format!("{neg_sign}{body}");
    }
    let fill_n = s.width - total;
    let (fill, al) = if s.zero && s.align.is_none() {
        ('0', '=')
    } else {
        (
            s.fill,
            s.align.unwrap_or(if default_right { '>' } else { '<' }),
        )
    };
    let f = |n: usize| fill.to_string().repeat(n);
    match al {
        '<' => format!("{neg_sign}{body}{}", f(fill_n)),
        '>' => format!("{}{neg_sign}{body}", f(fill_n)),
        '^' => format!(
            "{}{neg_sign}{body}{}",
            f(fill_n / 2),
            f(fill_n - fill_n / 2)
        ),
        _ => format!("{neg_sign}{}{body}", f(fill_n)),
    }
}

impl Interpreter {
    /// `format(value, spec)`.
    pub fn format_value(&mut self, v: &Value, spec: &str) -> R<String> {
        if let Value::Instance(_) = v {
            if let Some(f) = self.get_special(v, "__format__") {
                let r = self.call(&f, Args::new(vec![Value::str(spec)]))?;
                return self.str(&r);
            }
            if spec.is_empty() {
                return self.str(v);
            }
            return Err(Exception::type_error(format!(
                "unsupported format string passed to {}.__format__",
                v.type_name()
            )));
        }
        if spec.is_empty() {
            return self.str(v);
        }
        let s = parse_spec(spec)?;
        match v {
            Value::Str(text) => {
                if let Some(t) = s.ty {
                    if t != 's' {
                        return Err(Exception::value_error(format!(
                            "Unknown format code '{t}' for object of type 'str'"
                        )));
                    }
                }
                let body = truncate(text.to_string(), s.prec);
                Ok(align(body, "", &s, false))
            }
            Value::Int(_) | Value::Bool(_)
                if !matches!(s.ty, Some('e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%')) =>
            {
                let n = match v {
                    Value::Int(n) => *n,
                    Value::Bool(b) => *b as i64,
                    _ => 0,
                };
                if s.ty.is_none()
                    && matches!(v, Value::Bool(_))
                    && s.prec.is_none()
                    && s.grouping.is_none()
                {
                    return Ok(align(self.str(v)?, "", &s, false));
                }
                let mag = n.unsigned_abs();
                let mut body = match s.ty {
                    None | Some('d') | Some('n') => mag.to_string(),
                    Some('x') => format!("{mag:x}"),
                    Some('X') => format!("{mag:X}"),
                    Some('o') => format!("{mag:o}"),
                    Some('b') => format!("{mag:b}"),
                    Some('c') => char::from_u32(mag as u32)
                        .map(|c| c.to_string())
                        .unwrap_or_default(),
                    Some(t) => {
                        return Err(Exception::value_error(format!(
                            "Unknown format code '{t}' for object of type 'int'"
                        )))
                    }
                };
                if let Some(g) = s.grouping {
                    body = group(&body, g);
                }
                let prefix = if s.alt {
                    match s.ty {
                        Some('x') => "0x",
                        Some('X') => "0X",
                        Some('o') => "0o",
                        Some('b') => "0b",
                        _ => "",
                    }
                } else {
                    ""
                };
                let sign = if n < 0 {
                    "-"
                } else if s.sign == '+' {
                    "+"
                } else if s.sign == ' ' {
                    " "
                } else {
                    ""
                };
                let sign = format!("{sign}{prefix}");
                Ok(align(body, &sign, &s, true))
            }
            Value::Int(_) | Value::Bool(_) | Value::Float(_) => {
                let f = to_f64(v).unwrap_or(0.0);
                let (mut body, pct) = match s.ty {
                    Some('%') => (
                        float_body((f * 100.0).abs(), 'f', s.prec.unwrap_or(6), s.alt),
                        true,
                    ),
                    Some(t @ ('e' | 'E' | 'f' | 'F' | 'g' | 'G')) => {
                        (float_body(f.abs(), t, s.prec.unwrap_or(6), s.alt), false)
                    }
                    None => match s.prec {
                        Some(p) => {
                            let b = float_body(f.abs(), 'g', p, s.alt);
                            let b = if b.contains(['.', 'e', 'n', 'i']) {
                                b
                            } else {
                                format!("{b}.0")
                            };
                            (b, false)
                        }
                        None => (py_float_repr(f.abs()), false),
                    },
                    Some('n') => (float_body(f.abs(), 'g', s.prec.unwrap_or(6), s.alt), false),
                    Some(t) => {
                        return Err(Exception::value_error(format!(
                            "Unknown format code '{t}' for object of type 'float'"
                        )))
                    }
                };
                if let Some(g) = s.grouping {
                    body = group(&body, g);
                }
                if pct {
                    body.push('%');
                }
                let neg = f.is_sign_negative() && !f.is_nan();
                let sign = if neg {
                    "-"
                } else if s.sign == '+' {
                    "+"
                } else if s.sign == ' ' {
                    " "
                } else {
                    ""
                };
                Ok(align(body, sign, &s, true))
            }
            _ => {
                let text = self.str(v)?;
                if s.ty.is_some() || s.prec.is_some() {
                    return Err(Exception::type_error(format!(
                        "unsupported format string passed to {}.__format__",
                        v.type_name()
                    )));
                }
                Ok(align(text, "", &s, false))
            }
        }
    }

    /// `fmt.format(*args, **kwargs)`.
    pub fn str_format(&mut self, fmt: &str, args: &Args) -> R<String> {
        let cs: Vec<char> = fmt.chars().collect();
        let mut out = String::new();
        let mut auto = 0usize;
        let mut i = 0;
        while i < cs.len() {
            let c = cs[i];
            if c == '}' {
                if cs.get(i + 1) == Some(&'}') {
                    out.push('}');
                    i += 2;
                    continue;
                }
                return Err(Exception::value_error(
                    "Single '}' encountered in format string",
                ));
            }
            if c != '{' {
                out.push(c);
                i += 1;
                continue;
            }
            if cs.get(i + 1) == Some(&'{') {
                out.push('{');
                i += 2;
                continue;
            }
            // find the matching close brace (spec may nest one level)
            let start = i + 1;
            let mut depth = 1;
            i += 1;
            while i < cs.len() && depth > 0 {
                match cs[i] {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                i += 1;
            }
            if depth > 0 {
                return Err(Exception::value_error("expected '}' before end of string"));
            }
            let field: String = cs[start..i - 1].iter().collect();
            let (head, spec) = match field.find(':') {
                Some(p) => (&field[..p], &field[p + 1..]),
                None => (&field[..], ""),
            };
            let (name, conv) = match head.find('!') {
                Some(p) => (&head[..p], Some(&head[p + 1..])),
                None => (head, None),
            };
            // first part: index or keyword, then .attr / [key] chain
            let split = name.find(['.', '[']).unwrap_or(name.len());
            let (base, mut rest) = name.split_at(split);
            let mut v = if base.is_empty() {
                if auto >= args.pos.len() {
                    return Err(Exception::new(
                        "IndexError",
                        format!("Replacement index {auto} out of range for positional args tuple"),
                    ));
                }
                auto += 1;
                args.pos[auto - 1].clone()
            } else if let Ok(n) = base.parse::<usize>() {
                match args.pos.get(n) {
                    Some(v) => v.clone(),
                    None => {
                        return Err(Exception::new(
                            "IndexError",
                            format!("Replacement index {n} out of range for positional args tuple"),
                        ))
                    }
                }
            } else {
                match args.kw.iter().find(|(k, _)| &**k == base) {
                    Some((_, v)) => v.clone(),
                    None => return Err(Exception::with_args("KeyError", vec![Value::str(base)])),
                }
            };
            while !rest.is_empty() {
                if let Some(r) = rest.strip_prefix('.') {
                    let end = r.find(['.', '[']).unwrap_or(r.len());
                    v = self.get_attr(&v, &r[..end])?;
                    rest = &r[end..];
                } else if let Some(r) = rest.strip_prefix('[') {
                    let end = r
                        .find(']')
                        .ok_or_else(|| Exception::value_error("Missing ']' in format string"))?;
                    let key = &r[..end];
                    let k = match key.parse::<i64>() {
                        Ok(n) => Value::Int(n),
                        Err(_) => Value::str(key),
                    };
                    v = self.get_item(&v, &k)?;
                    rest = &r[end + 1..];
                } else {
                    return Err(Exception::value_error(
                        "Only '.' or '[' may follow ']' in format field specifier",
                    ));
                }
            }
            let v = match conv {
                Some("r") | Some("a") => Value::Str(self.repr(&v)?.into()),
                Some("s") => Value::Str(self.str(&v)?.into()),
                None => v,
                Some(_) => return Err(Exception::value_error("Unknown conversion specifier")),
            };
            let spec = if spec.contains('{') {
                self.str_format(spec, args)?
            } else {
                spec.to_string()
            };
            out.push_str(&self.format_value(&v, &spec)?);
        }
        Ok(out)
    }
}
