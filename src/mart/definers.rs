//! Definers (`dynamic:` assessments of a definition): the built-in `rexdb` definer
//! and the ones an application registers (rex's `Definer` extensions).

use std::cell::RefCell;

/// The built-in definer ids.
pub const DEFINERS: [&str; 1] = ["rexdb"];

thread_local! {
    /// Definer ids registered by application code on this thread.
    static EXTRA: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Whether `id` names a definer.
pub fn is_known(id: &str) -> bool {
    DEFINERS.contains(&id) || EXTRA.with(|e| e.borrow().iter().any(|d| d == id))
}

/// Registers a definer id (an application's `Definer` subclass).
pub fn register(id: &str) {
    EXTRA.with(|e| {
        let mut e = e.borrow_mut();
        if !e.iter().any(|d| d == id) {
            e.push(id.to_string());
        }
    });
}

/// Forgets the registered definers (a new transcript starts clean).
pub fn clear() {
    EXTRA.with(|e| e.borrow_mut().clear());
}

use crate::core::yaml::{Node, NodeValue};
use crate::core::Result;

fn text(s: &str) -> Node {
    Node::new(NodeValue::Str(s.to_string()))
}

fn texts(items: Vec<String>) -> Node {
    Node::new(NodeValue::Seq(items.iter().map(|s| text(s)).collect()))
}

use super::datadictionary::map;

/// The `rexdb` definer: the enabled dynamic assessments configured for
/// `definition` in the application's `rexmart_dynamic_assessment*` tables, in
/// `sequence` order, as unvalidated assessment definitions (rex's `RexdbDefiner`).
pub fn rexdb_assessments(db: &mut postgres::Client, definition: &str) -> Result<Vec<Node>> {
    let link = crate::deploy::names::mangle1("rexmart_dynamic_assessment", Some("id"));
    let rows = db.query(
        "SELECT id, name, selector, parental_relationship::text, identifiable::text, \
                include_fields, include_calculations \
         FROM rexmart_dynamic_assessment \
         WHERE definition = $1 AND status = 'enabled' \
         ORDER BY sequence",
        &[&definition],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i32 = row.get(0);
        let mut names = |table: &str| -> Result<Vec<String>> {
            let sql = format!("SELECT name FROM {table} WHERE \"{link}\" = $1 ORDER BY name");
            Ok(db.query(&sql, &[&id])?.iter().map(|r| r.get(0)).collect())
        };
        let instruments = names("rexmart_dynamic_assessment_instrument")?;
        let parents = names("rexmart_dynamic_assessment_parent")?;
        let fields = names("rexmart_dynamic_assessment_instrument_field")?;
        let calculations = names("rexmart_dynamic_assessment_calculation_field")?;
        let metas = db.query(
            &format!(
                "SELECT name, type::text FROM rexmart_dynamic_assessment_meta_field \
                 WHERE \"{link}\" = $1 ORDER BY name"
            ),
            &[&id],
        )?;
        let calcs = db.query(
            &format!(
                "SELECT name, type::text, expression FROM rexmart_dynamic_assessment_calculation \
                 WHERE \"{link}\" = $1 ORDER BY name"
            ),
            &[&id],
        )?;
        let opt = |i: usize| -> Node {
            match row.get::<_, Option<String>>(i) {
                Some(s) => text(&s),
                None => Node::null(),
            }
        };
        let relationship: Option<String> = row.get(3);
        let mut parental = vec![("type", opt(3))];
        if relationship.as_deref() != Some("trunk") {
            parental.push(("parent", texts(parents)));
        }
        let mut entries = vec![
            ("name", opt(1)),
            ("instrument", texts(instruments)),
            ("selector", opt(2)),
            ("parental_relationship", map(parental)),
            ("identifiable", opt(4)),
            (
                "meta",
                Node::new(NodeValue::Seq(
                    metas
                        .iter()
                        .map(|m| map(vec![(m.get::<_, String>(0).as_str(), text(m.get(1)))]))
                        .collect(),
                )),
            ),
            (
                "post_load_calculations",
                Node::new(NodeValue::Seq(
                    calcs
                        .iter()
                        .map(|c| {
                            map(vec![
                                ("name", text(c.get(0))),
                                ("type", text(c.get(1))),
                                ("expression", text(c.get(2))),
                            ])
                        })
                        .collect(),
                )),
            ),
        ];
        let include_fields: Option<bool> = row.get(5);
        if include_fields != Some(true) {
            entries.push(("fields", Node::null()));
        } else if !fields.is_empty() {
            entries.push(("fields", texts(fields)));
        }
        let include_calculations: Option<bool> = row.get(6);
        if include_calculations != Some(true) {
            entries.push(("calculations", Node::null()));
        } else if !calculations.is_empty() {
            entries.push(("calculations", texts(calculations)));
        }
        out.push(map(entries));
    }
    Ok(out)
}
