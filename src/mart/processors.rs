//! Post-processors (`processors:` of a definition): the built-in `index`,
//! `analyze` and `datadictionary`, and the ones an application brings
//! ([`ExtensionProcessor`], registered per thread with [`register`]). Each declares
//! its options; unknown processors and options are refused at definition load with
//! rex's texts.

use crate::core::validate::{BoolVal, MaybeVal, OneOrSeqVal, RecordVal, SeqVal, StrVal, Validator};
use crate::core::yaml::{Node, NodeValue};
use crate::core::{Error, Result};
use crate::pg::quote_ident;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// The built-in processor ids.
pub const PROCESSORS: [&str; 3] = ["analyze", "datadictionary", "index"];

/// One declared option: name, validator, default (`None`: mandatory).
#[derive(Clone)]
pub struct OptionSpec {
    pub name: String,
    pub validator: Arc<dyn Validator>,
    pub default: Option<Node>,
}

/// A processor an application brings (rex's `Processor` extension): its id, its
/// options, and what it does to the mart database.
pub trait ExtensionProcessor {
    fn id(&self) -> &str;
    fn options(&self) -> Vec<OptionSpec>;
    fn execute(
        &self,
        options: &Node,
        mart: &mut postgres::Client,
        log: &mut dyn FnMut(&str),
    ) -> Result<()>;
}

thread_local! {
    static EXTENSIONS: RefCell<Vec<Rc<dyn ExtensionProcessor>>> = const { RefCell::new(Vec::new()) };
}

/// Registers an application's processor; a later one with the same id replaces it.
pub fn register(p: Rc<dyn ExtensionProcessor>) {
    EXTENSIONS.with(|e| {
        let mut e = e.borrow_mut();
        e.retain(|o| o.id() != p.id());
        e.push(p);
    });
}

/// Forgets the registered processors (a new transcript starts clean).
pub fn clear() {
    EXTENSIONS.with(|e| e.borrow_mut().clear());
}

fn extension(id: &str) -> Option<Rc<dyn ExtensionProcessor>> {
    EXTENSIONS.with(|e| e.borrow().iter().rev().find(|p| p.id() == id).cloned())
}

/// Every processor id: the built-in ones, then the registered ones.
pub fn ids() -> Vec<String> {
    let mut ids: Vec<String> = PROCESSORS.iter().map(|s| s.to_string()).collect();
    EXTENSIONS.with(|e| {
        for p in e.borrow().iter() {
            if !ids.iter().any(|i| i == p.id()) {
                ids.push(p.id().to_string());
            }
        }
    });
    ids
}

pub fn is_known(id: &str) -> bool {
    extension(id).is_some() || PROCESSORS.contains(&id)
}

fn specs(id: &str) -> Vec<OptionSpec> {
    if let Some(p) = extension(id) {
        return p.options();
    }
    match id {
        "index" => vec![OptionSpec {
            name: "indexes".into(),
            validator: Arc::new(SeqVal::new(
                RecordVal::new()
                    .field("table", StrVal::new())
                    .field("columns", OneOrSeqVal::new(StrVal::new()))
                    .optional("unique", BoolVal, Node::new(NodeValue::Bool(false)))
                    .optional("partial", MaybeVal::new(StrVal::new()), Node::null()),
            )),
            default: None,
        }],
        "datadictionary" => super::datadictionary::option_specs()
            .into_iter()
            .map(|(name, validator, default)| OptionSpec {
                name: name.to_string(),
                validator: Arc::from(validator),
                default: Some(default),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Checks a processor's options against its spec and fills defaults, in spec order.
pub fn validate_options(id: &str, options: &Node) -> Result<Node> {
    let specs = specs(id);
    let given = options.as_map().unwrap_or_default();
    let mut unknown: Vec<&str> = given
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !specs.iter().any(|s| s.name == *k))
        .collect();
    unknown.sort();
    if !unknown.is_empty() {
        return Err(Error::with("Unknown Processor Options", unknown.join(", ")));
    }
    let mut out = Vec::new();
    for spec in &specs {
        let value = match given.iter().find(|(k, _)| *k == spec.name) {
            Some((_, v)) => spec
                .validator
                .validate(v)
                .map_err(|e| e.wrap_with("While validating field:", &spec.name))?,
            None => match &spec.default {
                Some(d) => d.clone(),
                None => return Err(Error::with("Missing Processor Option", &spec.name)),
            },
        };
        out.push((spec.name.clone(), value));
    }
    Ok(Node::new(NodeValue::Map(out)))
}

/// Runs processor `id` on the mart database, logging what it did; `assessments`
/// are the mappings of the assessments loaded into it (the data dictionary
/// describes their tables).
pub fn execute(
    id: &str,
    options: &Node,
    mart: &mut postgres::Client,
    log: &mut dyn FnMut(&str),
    assessments: &[super::tables::PrimaryTable],
) -> Result<()> {
    if let Some(p) = extension(id) {
        return p.execute(options, mart, log);
    }
    match id {
        "analyze" => {
            mart.batch_execute("ANALYZE")?;
            Ok(())
        }
        "index" => {
            let indexes = options
                .get("indexes")
                .and_then(Node::as_seq)
                .unwrap_or_default();
            for (i, index) in indexes.iter().enumerate() {
                let sql = index_statement(index);
                mart.batch_execute(&sql).map_err(|e| {
                    Error::from(e).wrap_with("While creating index:", format!("#{}", i + 1))
                })?;
            }
            log(&format!("Created {} indexes", indexes.len()));
            Ok(())
        }
        "datadictionary" => super::datadictionary::execute(options, mart, assessments),
        other => Err(Error::with("Unknown Processor ID", other)),
    }
}

/// rex's `make_statement`: `CREATE [UNIQUE] INDEX ON "table"\n(columns)[ WHERE
/// partial];`. A column written in parentheses is an expression and goes in as
/// written; names are quoted unless already in double quotes.
pub fn index_statement(index: &Node) -> String {
    let quote = |name: &str| {
        if name.starts_with('"') && name.ends_with('"') {
            name.to_string()
        } else {
            quote_ident(name)
        }
    };
    let table = index
        .get("table")
        .and_then(Node::as_str)
        .unwrap_or_default();
    let columns: Vec<String> = index
        .get("columns")
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(Node::as_str)
        .map(|c| {
            if c.starts_with('(') && c.ends_with(')') {
                c.to_string()
            } else {
                quote(c)
            }
        })
        .collect();
    let unique = index.get("unique").and_then(Node::as_bool).unwrap_or(false);
    let mut sql = format!(
        "CREATE {}INDEX ON {}\n({})",
        if unique { "UNIQUE " } else { "" },
        quote(table),
        columns.join(", ")
    );
    if let Some(partial) = index
        .get("partial")
        .and_then(Node::as_str)
        .filter(|p| !p.is_empty())
    {
        sql.push_str(&format!(" WHERE {partial}"));
    }
    sql.push(';');
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::yaml::load_str;

    #[test]
    fn index_options_and_statements() {
        let opts = load_str(
            "indexes:\n  - table: foo\n    columns: col2\n  - table: foo\n    columns: [col1, col2]\n    unique: true\n  - table: foo\n    columns: (upper(col1))\n    partial: col2 = 'foo'\n",
            "<test>",
        )
        .unwrap();
        let v = validate_options("index", &opts).unwrap();
        let stmts: Vec<String> = v
            .get("indexes")
            .unwrap()
            .as_seq()
            .unwrap()
            .iter()
            .map(index_statement)
            .collect();
        assert_eq!(
            stmts,
            vec![
                "CREATE INDEX ON \"foo\"\n(\"col2\");",
                "CREATE UNIQUE INDEX ON \"foo\"\n(\"col1\", \"col2\");",
                "CREATE INDEX ON \"foo\"\n((upper(col1))) WHERE col2 = 'foo';",
            ]
        );
        let empty = Node::new(NodeValue::Map(vec![]));
        assert_eq!(
            validate_options("index", &empty).unwrap_err().to_string(),
            "Missing Processor Option\n    indexes"
        );
        let bad = load_str("zed: 1\nabc: 2\n", "<test>").unwrap();
        assert_eq!(
            validate_options("analyze", &bad).unwrap_err().to_string(),
            "Unknown Processor Options\n    abc, zed"
        );
    }

    #[test]
    fn datadictionary_options() {
        let v = validate_options("datadictionary", &Node::new(NodeValue::Map(vec![]))).unwrap();
        assert_eq!(
            v.py_repr(),
            "{'table_name_tables': 'datadictionary_table', 'table_name_columns': 'datadictionary_column', 'table_name_enumerations': 'datadictionary_enumeration', 'table_descriptions': None, 'column_descriptions': None, 'enumeration_descriptions': None}"
        );
        let opts = load_str(
            "table_descriptions: \"name,title,description\\ntable,Title,Description\\n\"\n",
            "<t>",
        )
        .unwrap();
        let v = validate_options("datadictionary", &opts).unwrap();
        assert_eq!(
            v.get("table_descriptions").unwrap().as_str(),
            Some("name,title,description\ntable,Title,Description")
        );
        let err = |text: &str| {
            let e =
                validate_options("datadictionary", &load_str(text, "<t>").unwrap()).unwrap_err();
            let kept: Vec<String> = e
                .paragraphs
                .iter()
                .filter(|p| p.message != "While parsing:")
                .map(|p| p.to_string())
                .collect();
            kept.join("\n")
        };
        assert_eq!(
            err("table_descriptions: \"title,description\\nTitle,Description\\n\""),
            "Missing required field \"name\"\nWhile validating field:\n    table_descriptions"
        );
        assert_eq!(
            err("table_descriptions: 123"),
            "Expected a string\nGot:\n    123\nWhile validating field:\n    table_descriptions"
        );
        assert_eq!(
            err("enumeration_descriptions: \"table,column,name\\nfoo,bar,baz\""),
            "Missing required field \"description\"\nWhile validating field:\n    enumeration_descriptions"
        );
    }
}
