//! `pprint`: pprint/pformat following CPython's PrettyPrinter (sorted dicts,
//! one item per line when too wide, long strings split at whitespace).

use super::*;

fn safe_repr(it: &mut Interpreter, v: &Value) -> R<String> {
    if crate::script::interp::stack_exhausted() {
        return Err(Exception::new(
            "RecursionError",
            "maximum recursion depth exceeded while getting the repr of an object",
        ));
    }
    match v {
        Value::Dict(d) => {
            let mut items = d.borrow().items();
            sort_items(it, &mut items)?;
            let mut parts = Vec::new();
            for (k, x) in items {
                parts.push(format!("{}: {}", safe_repr(it, &k)?, safe_repr(it, &x)?));
            }
            Ok(format!("{{{}}}", parts.join(", ")))
        }
        Value::List(l) => {
            let items = l.borrow().clone();
            let parts: Vec<String> = items.iter().map(|x| safe_repr(it, x)).collect::<R<_>>()?;
            Ok(format!("[{}]", parts.join(", ")))
        }
        Value::Tuple(t) => {
            let parts: Vec<String> = t.iter().map(|x| safe_repr(it, x)).collect::<R<_>>()?;
            Ok(if parts.len() == 1 {
                format!("({},)", parts[0])
            } else {
                format!("({})", parts.join(", "))
            })
        }
        _ => it.repr(v),
    }
}

thread_local! {
    /// `sort_dicts` of the running pprint/pformat call.
    static SORT_DICTS: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

fn sort_items(it: &mut Interpreter, items: &mut Vec<(Value, Value)>) -> R<()> {
    if !SORT_DICTS.with(|s| s.get()) {
        return Ok(());
    }
    let mut keys: Vec<Value> = items.iter().map(|(k, _)| k.clone()).collect();
    let orig = keys.clone();
    if it.sort_values(&mut keys, None, false).is_err() {
        return Ok(()); // unorderable keys keep insertion order (pprint's _safe_key falls back)
    }
    let mut out = Vec::with_capacity(items.len());
    let mut used = vec![false; items.len()];
    for k in keys {
        if let Some(i) = orig
            .iter()
            .enumerate()
            .position(|(i, o)| !used[i] && o.is(&k))
        {
            used[i] = true;
            out.push(items[i].clone());
        }
    }
    *items = out;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn pformat(
    it: &mut Interpreter,
    v: &Value,
    indent: usize,
    allowance: usize,
    width: usize,
    level: usize,
    out: &mut String,
) -> R<()> {
    let rep = safe_repr(it, v)?;
    let max = width.saturating_sub(indent + allowance);
    if rep.chars().count() <= max {
        out.push_str(&rep);
        return Ok(());
    }
    match v {
        Value::Dict(d) => {
            let mut items = d.borrow().items();
            if items.is_empty() {
                out.push_str(&rep);
                return Ok(());
            }
            sort_items(it, &mut items)?;
            out.push('{');
            let ind = indent + 1;
            let n = items.len();
            for (i, (k, x)) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                    out.push_str(&" ".repeat(ind));
                }
                let kr = safe_repr(it, k)?;
                out.push_str(&kr);
                out.push_str(": ");
                let al = if i + 1 == n { allowance + 1 } else { 1 };
                pformat(
                    it,
                    x,
                    ind + kr.chars().count() + 2,
                    al,
                    width,
                    level + 1,
                    out,
                )?;
            }
            out.push('}');
        }
        Value::List(_) | Value::Tuple(_) => {
            let items = it.collect(v)?;
            let (open, close) = match v {
                Value::List(_) => ("[", "]"),
                _ if items.len() == 1 => ("(", ",)"),
                _ => ("(", ")"),
            };
            out.push_str(open);
            let ind = indent + 1;
            let n = items.len();
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                    out.push_str(&" ".repeat(ind));
                }
                let al = if i + 1 == n {
                    allowance + close.len()
                } else {
                    1
                };
                pformat(it, x, ind, al, width, level + 1, out)?;
            }
            out.push_str(close);
        }
        Value::Str(text) if !text.is_empty() => {
            pformat_str(text, indent, allowance, width, level, out)
        }
        _ => out.push_str(&rep),
    }
    Ok(())
}

/// pprint's `_pprint_str`: a long string is split at whitespace (and line breaks)
/// into adjacent literals, one per line, in parentheses at the top level.
fn pformat_str(
    text: &str,
    mut indent: usize,
    mut allowance: usize,
    width: usize,
    level: usize,
    out: &mut String,
) {
    let lines: Vec<String> = split_keep_ends(text);
    if level == 1 {
        indent += 1;
        allowance += 1;
    }
    let max_width = width.saturating_sub(indent);
    let mut max_width1 = max_width;
    let mut chunks: Vec<String> = Vec::new();
    let n = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let rep = py_str_repr(line);
        if i + 1 == n {
            max_width1 = max_width1.saturating_sub(allowance);
        }
        if rep.chars().count() <= max_width1 {
            chunks.push(rep);
            continue;
        }
        // alternating runs of non-space then space, like re.findall(r'\S*\s*')
        let mut parts: Vec<String> = Vec::new();
        let mut cur = String::new();
        let mut in_space = false;
        for c in line.chars() {
            if c.is_whitespace() {
                in_space = true;
            } else if in_space {
                parts.push(std::mem::take(&mut cur));
                in_space = false;
            }
            cur.push(c);
        }
        if !cur.is_empty() {
            parts.push(cur);
        }
        let mut max_width2 = max_width;
        let mut current = String::new();
        let np = parts.len();
        for (j, part) in parts.iter().enumerate() {
            let candidate = format!("{current}{part}");
            if j + 1 == np && i + 1 == n {
                max_width2 = max_width2.saturating_sub(allowance);
            }
            if py_str_repr(&candidate).chars().count() > max_width2 {
                if !current.is_empty() {
                    chunks.push(py_str_repr(&current));
                }
                current = part.clone();
            } else {
                current = candidate;
            }
        }
        if !current.is_empty() {
            chunks.push(py_str_repr(&current));
        }
    }
    if chunks.len() <= 1 {
        out.push_str(&chunks.pop().unwrap_or_else(|| py_str_repr(text)));
        return;
    }
    if level == 1 {
        out.push('(');
    }
    for (i, c) in chunks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(c);
    }
    if level == 1 {
        out.push(')');
    }
}

/// `str.splitlines(True)`.
fn split_keep_ends(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        cur.push(c);
        let brk = matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if brk {
            if c == '\r' && chars.peek() == Some(&'\n') {
                cur.push('\n');
                chars.next();
            }
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

pub(super) fn pprint() -> Module {
    let m = Module::new("pprint");
    fn run(it: &mut Interpreter, a: &Args) -> R<String> {
        let Some(obj) = a.pos.first() else {
            return Err(Exception::type_error(
                "pprint() missing 1 required positional argument: 'object'",
            ));
        };
        let width = match kw(a, "width") {
            Some(v) => to_int(v).unwrap_or(80).max(1) as usize,
            None => 80,
        };
        let sort = match kw(a, "sort_dicts") {
            Some(v) => it.truthy(v)?,
            None => true,
        };
        let outer = SORT_DICTS.with(|s| s.replace(sort));
        let mut out = String::new();
        let r = pformat(it, obj, 0, 0, width, 1, &mut out);
        SORT_DICTS.with(|s| s.set(outer));
        r.map(|_| out)
    }
    m.add_fn("pprint", |it, a| {
        let mut s = run(it, &a)?;
        s.push('\n');
        crate::script::output::write(&s);
        Ok(Value::None)
    });
    m.add_fn("pformat", |it, a| Ok(Value::str(&run(it, &a)?)));
    m
}
