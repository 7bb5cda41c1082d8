//! HTSQL's JSON format for the gateway (its text format is `htsql::render`).

use crate::htsql::{Product, Value};

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
