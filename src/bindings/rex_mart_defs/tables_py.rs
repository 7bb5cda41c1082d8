//! `rex.mart.tables`: `PrimaryTable(definition, database)` over the domain's
//! `mart::tables::PrimaryTable` — its deploy facts, port tree, port data and
//! post-load calculation statements, as rex's objects show them.

use super::fields_py::script_value;
use super::{mart_settings, to_node, Conv, Shape};
use crate::bindings::Session;
use crate::mart::fields::FieldValue;
use crate::mart::tables::{AssessmentDef, ChildKind, PrimaryTable, Row};
use crate::script::native::{state_of, to_json, ClassBuilder};
use crate::script::value::{Dict, Exception, Module, Value};
use crate::script::Interpreter;
use std::rc::Rc;

struct TableS(PrimaryTable);

fn table_of(v: &Value) -> Result<Rc<TableS>, Exception> {
    state_of::<TableS>(v, "PrimaryTable")
}

fn row_dict(it: &mut Interpreter, row: &Row) -> Result<Dict, Exception> {
    let mut d = Dict::new();
    for (k, v) in row {
        let v = script_value(it, v)?;
        d.set_str(k, v);
    }
    Ok(d)
}

pub(super) fn install(interp: &mut Interpreter, session: &Rc<Session>, conv: &Rc<Conv>) {
    let s = session.clone();
    let s2 = session.clone();
    let cv = conv.clone();
    let class = ClassBuilder::new(interp, "PrimaryTable", "rex.mart.tables")
        .init(move |it, inst, a| {
            let p = a.bind(
                "PrimaryTable",
                &["definition", "database", "selector_parameters"],
                2,
            )?;
            let node = to_node(it, p[0].as_ref().unwrap_or(&Value::None))?;
            let def = AssessmentDef::from_node(&node).map_err(|e| s.raise(e))?;
            let database = p[1]
                .as_ref()
                .and_then(crate::bindings::rex_db::database_of)
                .ok_or_else(|| Exception::type_error("PrimaryTable() needs a database"))?;
            let mut params = Vec::new();
            if let Some(Value::Dict(d)) = &p[2] {
                for (k, v) in d.borrow().items() {
                    let key = it.str(&k)?;
                    let node = to_node(it, &v)?;
                    params.push((key, crate::mart::params::ParamValue::from_node(&node)));
                }
            }
            let settings = mart_settings(&s)?;
            let handle = s.active()?;
            let table = (|| {
                let mut selector_db = database.connect()?;
                let mut app = handle.app.db.connect()?;
                crate::mart::assessments::map_assessment(
                    &def,
                    &mut selector_db,
                    &mut app,
                    &params,
                    &settings,
                )
            })()
            .map_err(|e| s.raise(e))?;
            inst.set_native(TableS(table));
            Ok(())
        })
        .method("get_deploy_facts", move |it, this, _| {
            let t = table_of(this)?;
            let mut out = Vec::new();
            for fact in t.0.deploy_facts() {
                out.push(cv.value(it, &fact, &Shape::Plain)?);
            }
            Ok(Value::list(out))
        })
        .method("get_port_tree", |_, this, _| {
            let (entity, with) = table_of(this)?.0.port_tree();
            let mut d = Dict::new();
            d.set_str("entity", Value::str(&entity));
            d.set_str(
                "with",
                Value::list(with.iter().map(|w| Value::str(w)).collect()),
            );
            Ok(Value::dict(d))
        })
        .method("get_port_data", move |it, this, a| {
            let p = a.bind(
                "get_port_data",
                &["assessment", "instrument_version_uid", "selection_record"],
                2,
            )?;
            let t = table_of(this)?;
            let assessment = to_json(it, p[0].as_ref().unwrap_or(&Value::None))?;
            let version = match &p[1] {
                Some(v) => it.str(v)?,
                None => String::new(),
            };
            let mut selection: Vec<(String, FieldValue)> = Vec::new();
            if let Some(Value::Dict(d)) = &p[2] {
                for (k, v) in d.borrow().items() {
                    let key = it.str(&k)?;
                    let json = to_json(it, &v)?;
                    selection.push((key, crate::mart::tables::field_value(&json)));
                }
            }
            let data =
                t.0.port_data(&assessment, &version, &selection)
                    .map_err(|e| s2.raise(e))?;
            let mut d = row_dict(it, &data.row)?;
            for (table, kind, rows) in &data.children {
                let value = match kind {
                    ChildKind::RecordList => {
                        let mut items = Vec::new();
                        for r in rows {
                            items.push(Value::dict(row_dict(it, r)?));
                        }
                        Value::list(items)
                    }
                    _ => Value::dict(row_dict(it, &rows[0])?),
                };
                d.set_str(table, value);
            }
            Ok(Value::dict(d))
        })
        .method("get_calculation_statements", |_, this, _| {
            let statements = table_of(this)?.0.calculation_statements();
            Ok(Value::list(
                statements.iter().map(|s| Value::str(s)).collect(),
            ))
        })
        .build();
    let m = Module::new("rex.mart.tables");
    m.set("PrimaryTable", Value::Class(class));
    interp.register_module("rex.mart.tables", m);
}
