//! Stand-in for HTSQL's text format until the shared renderer (`htsql::render`)
//! lands: flat tables only (a title row, headers, a `-+-` rule, rows, an empty line).

use crate::htsql::{Domain, Product, Value};

pub fn render(product: &Product) -> String {
    let rows: Vec<Vec<Option<&Value>>> = match &product.data {
        Value::List(items) => items
            .iter()
            .map(|r| cells(r, product.fields.len()))
            .collect(),
        Value::Null => vec![],
        one => vec![cells(one, product.fields.len())],
    };
    let heads: Vec<&str> = product.fields.iter().map(|f| f.header.as_str()).collect();
    if heads.is_empty() {
        return String::new();
    }
    let show = |v: Option<&Value>| match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::Text(s)) => s.clone(),
        Some(v) => v.literal().unwrap_or_default(),
    };
    let mut widths: Vec<usize> = heads.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(show(*c).chars().count());
        }
    }
    let title = product.tag.clone();
    if let Some(t) = &title {
        let total: usize = widths.iter().sum::<usize>() + 3 * (widths.len() - 1);
        let len = t.chars().count();
        if len > total {
            if let Some(last) = widths.last_mut() {
                *last += len - total;
            }
        }
    }
    let line = |cells: Vec<String>| format!(" | {} |\n", cells.join(" | "));
    let pad = |s: &str, w: usize, right: bool| {
        let fill = " ".repeat(w.saturating_sub(s.chars().count()));
        if right {
            format!("{fill}{s}")
        } else {
            format!("{s}{fill}")
        }
    };
    let mut out = String::new();
    if let Some(t) = &title {
        let total: usize = widths.iter().sum::<usize>() + 3 * (widths.len() - 1);
        out.push_str(&line(vec![pad(t, total, false)]));
        let dashes: Vec<String> = widths.iter().map(|w| "-".repeat(w + 2)).collect();
        out.push_str(&format!(" +{}+\n", dashes.join("+")));
    }
    out.push_str(&line(
        heads
            .iter()
            .zip(&widths)
            .map(|(h, w)| pad(h, *w, false))
            .collect(),
    ));
    let dashes: Vec<String> = widths.iter().map(|w| "-".repeat(w + 2)).collect();
    out.push_str(&format!("-+{}+-\n", dashes.join("+")));
    for row in &rows {
        let cells = row
            .iter()
            .zip(&widths)
            .zip(&product.fields)
            .map(|((c, w), f)| {
                let right = matches!(f.domain, Domain::Integer | Domain::Decimal | Domain::Float);
                pad(&show(*c), *w, right)
            })
            .collect();
        out.push_str(&line(cells));
    }
    out.push('\n');
    out
}

fn cells(row: &Value, n: usize) -> Vec<Option<&Value>> {
    match row {
        Value::Record(r) => (0..n).map(|i| r.at(i)).collect(),
        v => vec![Some(v)],
    }
}

/// The product as JSON: `{"tag": [{"field": value, ...}, ...]}` (HTSQL's JSON format
/// keyed by the segment's tag, `"0"` without one).
pub fn json(product: &Product) -> serde_json::Value {
    let key = product.tag.clone().unwrap_or_else(|| "0".into());
    let mut out = serde_json::Map::new();
    out.insert(key, value_json(&product.data));
    serde_json::Value::Object(out)
}

fn value_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Decimal(d) => d
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| J::String(d.clone()), J::Number),
        Value::Text(s) => J::String(s.clone()),
        Value::Json(j) => j.clone(),
        Value::List(items) => J::Array(items.iter().map(value_json).collect()),
        Value::Record(r) => J::Object(
            r.fields
                .iter()
                .enumerate()
                .map(|(i, (tag, v))| {
                    let key = if tag.is_empty() {
                        i.to_string()
                    } else {
                        tag.clone()
                    };
                    (key, value_json(v))
                })
                .collect(),
        ),
        other => J::String(other.literal().unwrap_or_default()),
    }
}
