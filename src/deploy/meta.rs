//! The YAML documents rex.deploy keeps in table, column and primary-key comments
//! (labels, titles, defaults, aliases, generators): how facts survive round trips and
//! what HTSQL reads back. Written like PyYAML's block style with sorted keys.

use std::collections::BTreeMap;
use yaml_rust2::{Yaml, YamlLoader};

/// One comment document: `key -> value`, keys kept sorted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Meta {
    pub entries: BTreeMap<String, MetaValue>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum MetaValue {
    Str(String),
    List(Vec<Option<String>>),
}

impl Meta {
    /// Reads a comment; anything that is not a `---` YAML mapping counts as empty.
    pub fn parse(comment: Option<&str>) -> Meta {
        let mut meta = Meta::default();
        let Some(text) = comment else { return meta };
        if !text.starts_with("---") {
            return meta;
        }
        let Ok(docs) = YamlLoader::load_from_str(text) else {
            return meta;
        };
        let Some(Yaml::Hash(hash)) = docs.into_iter().next() else {
            return meta;
        };
        for (k, v) in hash {
            let Some(key) = yaml_text(&k) else { continue };
            let value = match v {
                Yaml::Array(items) => MetaValue::List(items.iter().map(yaml_text).collect()),
                other => match yaml_text(&other) {
                    Some(s) => MetaValue::Str(s),
                    None => continue,
                },
            };
            meta.entries.insert(key, value);
        }
        meta
    }

    pub fn get_str(&self, key: &str) -> Option<&str> {
        match self.entries.get(key) {
            Some(MetaValue::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn get_list(&self, key: &str) -> Option<&Vec<Option<String>>> {
        match self.entries.get(key) {
            Some(MetaValue::List(l)) => Some(l),
            _ => None,
        }
    }

    /// Sets or (with `None`) removes an entry.
    pub fn set(&mut self, key: &str, value: Option<MetaValue>) {
        match value {
            Some(v) => self.entries.insert(key.to_string(), v),
            None => self.entries.remove(key),
        };
    }

    /// The comment text, or `None` when there is nothing to say.
    pub fn dump(&self) -> Option<String> {
        if self.entries.is_empty() {
            return None;
        }
        let mut out = String::from("---\n");
        for (key, value) in &self.entries {
            match value {
                MetaValue::Str(s) => out.push_str(&format!("{key}: {}\n", yaml_scalar(s))),
                MetaValue::List(items) => {
                    out.push_str(&format!("{key}:\n"));
                    for item in items {
                        let text = item.as_deref().map(yaml_scalar);
                        out.push_str(&format!("- {}\n", text.as_deref().unwrap_or("null")));
                    }
                }
            }
        }
        Some(out)
    }
}

fn yaml_text(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A string as PyYAML writes it: plain when that reads back as the same string,
/// else single-quoted with `'` doubled.
pub fn yaml_scalar(s: &str) -> String {
    if needs_quotes(s) {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        s.to_string()
    }
}

fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || s.starts_with(' ') || s.ends_with(' ') || s.contains('\n') {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    let implicit = [
        "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n", "=",
    ];
    if implicit.contains(&lower.as_str()) {
        return true;
    }
    let number = regex::Regex::new(
        r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$|^0x[0-9a-fA-F_]+$|^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}",
    )
    .expect("number pattern");
    if number.is_match(s) {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return true;
    }
    s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.contains('\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyyaml_quoting() {
        assert_eq!(yaml_scalar("false"), "'false'");
        assert_eq!(yaml_scalar("{}"), "'{}'");
        assert_eq!(yaml_scalar("0"), "'0'");
        assert_eq!(yaml_scalar("now()"), "now()");
        assert_eq!(yaml_scalar("Foo Bars"), "Foo Bars");
        assert_eq!(yaml_scalar("new"), "new");
    }

    #[test]
    fn round_trip() {
        let mut m = Meta::default();
        m.set("title", Some(MetaValue::Str("Foo Bars".into())));
        m.set("default", Some(MetaValue::Str("false".into())));
        let text = m.dump().unwrap();
        assert_eq!(text, "---\ndefault: 'false'\ntitle: Foo Bars\n");
        assert_eq!(Meta::parse(Some(&text)), m);
        let mut g = Meta::default();
        g.set(
            "generators",
            Some(MetaValue::List(vec![None, Some("offset".into())])),
        );
        assert_eq!(g.dump().unwrap(), "---\ngenerators:\n- null\n- offset\n");
        assert_eq!(Meta::parse(g.dump().as_deref()), g);
    }
}
