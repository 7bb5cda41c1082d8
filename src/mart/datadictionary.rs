//! The `datadictionary` processor: describes the mart's own tables, columns and
//! enumeration values in three tables (by default `datadictionary_table`,
//! `datadictionary_column`, `datadictionary_enumeration`), from the deployed schema
//! (labels and titles kept in rex.deploy's comment metadata) and the definition's
//! CSV overrides. The dictionary is deployed with rex.deploy facts, so it is
//! idempotent and atomic like any deploy.

use super::fields::FieldType;
use super::tables::PrimaryTable;
use crate::core::validate::{MaybeVal, StrVal, Validator};
use crate::core::yaml::{load_str, Node, NodeValue};
use crate::core::{Error, Result};
use crate::deploy::names::link_label_of_column;
use postgres::Client;

/// A CSV text option: stripped, parseable, with the header fields the processor needs.
pub struct CsvVal(pub &'static [&'static str]);

impl Validator for CsvVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let v = StrVal::new().validate(node)?;
        let text = v.as_str().unwrap_or_default().trim().to_string();
        let rows = parse_csv(&text)?;
        let header = rows.first().cloned().unwrap_or_default();
        for field in self.0 {
            if !header.iter().any(|h| h == field) {
                return Err(Error::new(format!("Missing required field \"{field}\"")));
            }
        }
        Ok(Node {
            value: NodeValue::Str(text),
            mark: v.mark,
        })
    }
}

/// Every record of a CSV text (the first is the header).
fn parse_csv(text: &str) -> Result<Vec<Vec<String>>> {
    // Python's csv reader reads lines split at `\n` only, and refuses a carriage
    // return inside an unquoted field.
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\r' if !quoted && chars.peek().is_some_and(|n| *n != '\n') => {
                return Err(Error::new(
                    "Invalid CSV input: new-line character seen in unquoted field - \
                     do you need to open the file in universal-newline mode?",
                ));
            }
            _ => {}
        }
    }
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| {
            r.map(|rec| rec.iter().map(str::to_string).collect())
                .map_err(|e| Error::new(format!("Invalid CSV input: {e}")))
        })
        .collect()
}

/// CSV rows as `(header, value)` lookups; empty values count as absent.
fn csv_rows(text: Option<&str>) -> Vec<Vec<(String, String)>> {
    let Some(rows) = text.and_then(|t| parse_csv(t).ok()) else {
        return Vec::new();
    };
    let Some((header, body)) = rows.split_first() else {
        return Vec::new();
    };
    body.iter()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.iter().cloned())
                .filter(|(_, v)| !v.is_empty())
                .collect()
        })
        .collect()
}

fn get<'a>(row: &'a [(String, String)], key: &str) -> Option<&'a str> {
    row.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// The processor's options: name, validator, default.
pub fn option_specs() -> Vec<(&'static str, Box<dyn Validator>, Node)> {
    let s = |v: &str| Node::new(NodeValue::Str(v.into()));
    vec![
        (
            "table_name_tables",
            Box::new(StrVal::new()),
            s("datadictionary_table"),
        ),
        (
            "table_name_columns",
            Box::new(StrVal::new()),
            s("datadictionary_column"),
        ),
        (
            "table_name_enumerations",
            Box::new(StrVal::new()),
            s("datadictionary_enumeration"),
        ),
        (
            "table_descriptions",
            Box::new(MaybeVal::new(CsvVal(&["name"]))),
            Node::null(),
        ),
        (
            "column_descriptions",
            Box::new(MaybeVal::new(CsvVal(&["table", "name"]))),
            Node::null(),
        ),
        (
            "enumeration_descriptions",
            Box::new(MaybeVal::new(CsvVal(&[
                "table",
                "column",
                "name",
                "description",
            ]))),
            Node::null(),
        ),
    ]
}

#[derive(Debug, Default)]
struct Column {
    name: String,
    title: Option<String>,
    description: Option<String>,
    source: Option<String>,
    datatype: Option<String>,
    /// The table a link (or a backlink pseudo-column) leads to.
    link: Option<String>,
    /// Enumeration labels and their descriptions.
    enumerations: Vec<(String, Option<String>)>,
}

#[derive(Debug, Default)]
struct Table {
    name: String,
    title: Option<String>,
    description: Option<String>,
    columns: Vec<Column>,
}

/// `label` and `title` of a rex.deploy comment (`---` YAML), if any.
fn meta(comment: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(node) = comment
        .filter(|c| c.starts_with("---"))
        .and_then(|c| load_str(c, "<comment>").ok())
    else {
        return (None, None);
    };
    let field = |k: &str| node.get(k).and_then(Node::as_str).map(str::to_string);
    (field("label"), field("title"))
}

/// The rex.deploy type name of a column's SQL type.
fn deploy_type(sql_type: &str) -> String {
    match sql_type {
        "bool" => "boolean",
        "int8" | "int4" | "int2" => "integer",
        "numeric" => "decimal",
        "float8" | "float4" => "float",
        "timestamp" => "datetime",
        "jsonb" | "json" => "json",
        other => other,
    }
    .to_string()
}

/// The mart's tables and columns as rex.deploy sees them (surrogate `id` left out).
fn read_model(mart: &mut Client) -> Result<Vec<Table>> {
    let rows = mart.query(
        "SELECT c.relname::text, obj_description(c.oid, 'pg_class'), a.attname::text, \
                col_description(c.oid, a.attnum), t.typname::text, \
                ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder), \
                EXISTS(SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'f' AND k.conkey = ARRAY[a.attnum]), \
                (SELECT tc.relname::text FROM pg_constraint k JOIN pg_class tc ON tc.oid = k.confrelid \
                  WHERE k.conrelid = c.oid AND k.contype = 'f' AND k.conkey = ARRAY[a.attnum] LIMIT 1), \
                (SELECT obj_description(k.confrelid, 'pg_class') FROM pg_constraint k \
                  WHERE k.conrelid = c.oid AND k.contype = 'f' AND k.conkey = ARRAY[a.attnum] LIMIT 1) \
         FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public' \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         JOIN pg_type t ON t.oid = a.atttypid \
         WHERE c.relkind = 'r' ORDER BY c.relname, a.attnum",
        &[],
    )?;
    let mut tables: Vec<Table> = Vec::new();
    let mut relnames: Vec<String> = Vec::new();
    let mut current = String::new();
    for r in &rows {
        let relname: String = r.get(0);
        if relname != current || tables.is_empty() {
            relnames.push(relname.clone());
            let (label, title) = meta(r.get::<_, Option<&str>>(1));
            tables.push(Table {
                name: label.unwrap_or_else(|| relname.clone()),
                title,
                ..Table::default()
            });
            current = relname;
        }
        let attname: String = r.get(2);
        if attname == "id" {
            continue;
        }
        let (label, title) = meta(r.get::<_, Option<&str>>(3));
        let is_link: bool = r.get(6);
        let enums: Vec<String> = r.get(5);
        let column = Column {
            name: label.unwrap_or_else(|| {
                if is_link {
                    link_label_of_column(&attname)
                } else {
                    attname
                }
            }),
            title,
            datatype: Some(if is_link {
                "link".into()
            } else if !enums.is_empty() {
                "enumeration".into()
            } else {
                deploy_type(r.get(4))
            }),
            enumerations: enums.into_iter().map(|e| (e, None)).collect(),
            link: r
                .get::<_, Option<String>>(7)
                .map(|relname| meta(r.get::<_, Option<&str>>(8)).0.unwrap_or(relname)),
            ..Column::default()
        };
        if let Some(t) = tables.last_mut() {
            t.columns.push(column);
        }
    }
    add_backlinks(mart, &mut tables, &relnames)?;
    Ok(tables)
}

/// The pseudo-columns of tables other tables link to (rex.deploy's backlinks):
/// named after the linking table, typed by its identity (`facet`, `branch`,
/// `cross`, `ternary` or a plain `link`).
fn add_backlinks(mart: &mut Client, tables: &mut [Table], relnames: &[String]) -> Result<()> {
    let rows = mart.query(
        "SELECT tgt.relname::text, src.relname::text, a.attname::text, \
                coalesce((SELECT array_length(p.conkey, 1) FROM pg_constraint p \
                  WHERE p.conrelid = src.oid AND p.contype = 'p'), 0)::int4, \
                (SELECT count(*) FROM pg_constraint p, unnest(p.conkey) k \
                  WHERE p.conrelid = src.oid AND p.contype = 'p' AND EXISTS ( \
                    SELECT 1 FROM pg_constraint l WHERE l.conrelid = src.oid \
                    AND l.contype = 'f' AND l.conkey = ARRAY[k]))::int4 \
         FROM pg_constraint f \
         JOIN pg_class src ON src.oid = f.conrelid \
         JOIN pg_class tgt ON tgt.oid = f.confrelid \
         JOIN pg_namespace n ON n.oid = src.relnamespace AND n.nspname = 'public' \
         JOIN pg_attribute a ON a.attrelid = src.oid AND a.attnum = f.conkey[1] \
         WHERE f.contype = 'f' AND array_length(f.conkey, 1) = 1 \
         ORDER BY src.relname, a.attnum",
        &[],
    )?;
    let label_of = |tables: &[Table], relname: &str| {
        relnames
            .iter()
            .position(|r| r == relname)
            .map(|i| tables[i].name.clone())
    };
    for r in &rows {
        let (target, source): (String, String) = (r.get(0), r.get(1));
        let (Some(target_label), Some(source_label)) =
            (label_of(tables, &target), label_of(tables, &source))
        else {
            continue;
        };
        let link = link_label_of_column(r.get(2));
        let (total, links): (i32, i32) = (r.get(3), r.get(4));
        let datatype = match (total, links) {
            (1, 1) => "facet",
            (1, _) => "link",
            (_, 1) => "branch",
            (t, l) if t == l => "cross",
            _ => "ternary",
        };
        let name = if link == target_label {
            source_label.clone()
        } else {
            format!("{source_label}_via_{link}")
        };
        if let Some(i) = relnames.iter().position(|x| *x == target) {
            tables[i].columns.push(Column {
                name,
                datatype: Some(datatype.into()),
                link: Some(source_label),
                ..Column::default()
            });
        }
    }
    Ok(())
}

fn opt_text(options: &Node, key: &str) -> Option<String> {
    options.get(key).and_then(Node::as_str).map(str::to_string)
}

/// Applies the CSV overrides (rows naming unknown tables or columns are ignored).
fn apply_overrides(tables: &mut [Table], options: &Node) {
    for row in csv_rows(opt_text(options, "table_descriptions").as_deref()) {
        if let Some(t) = tables
            .iter_mut()
            .find(|t| Some(t.name.as_str()) == get(&row, "name"))
        {
            t.title = get(&row, "title").map(str::to_string).or(t.title.take());
            t.description = get(&row, "description")
                .map(str::to_string)
                .or(t.description.take());
        }
    }
    for row in csv_rows(opt_text(options, "column_descriptions").as_deref()) {
        let Some(t) = tables
            .iter_mut()
            .find(|t| Some(t.name.as_str()) == get(&row, "table"))
        else {
            continue;
        };
        let Some(c) = t
            .columns
            .iter_mut()
            .find(|c| Some(c.name.as_str()) == get(&row, "name"))
        else {
            continue;
        };
        for (attr, slot) in [
            ("title", &mut c.title),
            ("description", &mut c.description),
            ("source", &mut c.source),
            ("datatype", &mut c.datatype),
        ] {
            if let Some(v) = get(&row, attr) {
                *slot = Some(v.to_string());
            }
        }
        if c.datatype.as_deref() != Some("enumeration") {
            c.enumerations.clear();
        }
    }
    for row in csv_rows(opt_text(options, "enumeration_descriptions").as_deref()) {
        let Some(t) = tables
            .iter_mut()
            .find(|t| Some(t.name.as_str()) == get(&row, "table"))
        else {
            continue;
        };
        let Some(c) = t
            .columns
            .iter_mut()
            .find(|c| Some(c.name.as_str()) == get(&row, "column"))
        else {
            continue;
        };
        if let Some(e) = c
            .enumerations
            .iter_mut()
            .find(|e| Some(e.0.as_str()) == get(&row, "name"))
        {
            e.1 = get(&row, "description").map(str::to_string);
        }
    }
}

fn str_node(s: &str) -> Node {
    Node::new(NodeValue::Str(s.to_string()))
}

fn opt_node(s: &Option<String>) -> Node {
    s.as_deref().map_or_else(Node::null, str_node)
}

/// A mapping node from `(key, value)` pairs.
pub(super) fn map(entries: Vec<(&str, Node)>) -> Node {
    Node::new(NodeValue::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    ))
}

/// The dictionary's tables: name, its fields (`column`/`link` facts) and identity.
fn structure_facts(tt: &str, ct: &str, et: &str) -> Vec<Node> {
    let text = |name: &str, of: &str, required: bool| {
        map(vec![
            ("column", str_node(name)),
            ("of", str_node(of)),
            ("type", str_node("text")),
            ("required", Node::new(NodeValue::Bool(required))),
        ])
    };
    let link = |name: &str, to: &str, of: &str| {
        map(vec![
            ("link", str_node(name)),
            ("to", str_node(to)),
            ("of", str_node(of)),
            ("required", Node::new(NodeValue::Bool(true))),
        ])
    };
    let identity = |fields: &[&str], of: &str| {
        map(vec![
            (
                "identity",
                Node::new(NodeValue::Seq(fields.iter().map(|f| str_node(f)).collect())),
            ),
            ("of", str_node(of)),
        ])
    };
    vec![
        map(vec![("table", str_node(tt))]),
        text("name", tt, true),
        identity(&["name"], tt),
        text("title", tt, false),
        text("description", tt, false),
        map(vec![("table", str_node(ct))]),
        link("table", tt, ct),
        text("name", ct, true),
        identity(&["table", "name"], ct),
        text("title", ct, false),
        text("description", ct, false),
        text("source", ct, false),
        text("datatype", ct, false),
        map(vec![
            ("link", str_node("link")),
            ("to", str_node(tt)),
            ("of", str_node(ct)),
            ("required", Node::new(NodeValue::Bool(false))),
        ]),
        map(vec![("table", str_node(et))]),
        link("column", ct, et),
        text("name", et, true),
        identity(&["column", "name"], et),
        text("description", et, false),
    ]
}

/// Describes the tables of loaded assessments with what their mapping knows:
/// titles, descriptions, sources and enumeration descriptions of the fields (an
/// enumeration set's columns each named after their choice).
fn apply_assessments(tables: &mut [Table], mappings: &[PrimaryTable]) {
    for m in mappings {
        let mut parts = vec![(
            m.table_name().to_string(),
            m.title.clone(),
            m.description.clone(),
            &m.fields,
        )];
        for (_, c) in &m.children {
            let title = c.title(m.title.as_deref());
            parts.push((
                c.table_name.clone(),
                title,
                c.description.clone(),
                &c.fields,
            ));
        }
        for (name, title, description, fields) in parts {
            let Some(t) = tables.iter_mut().find(|t| t.name == name) else {
                continue;
            };
            t.title = title;
            t.description = description;
            for (_, f) in &fields.0 {
                if f.field_type == FieldType::EnumerationSet {
                    for e in &f.enumerations {
                        let target = f.enum_target_name(e);
                        let Some(c) = t.columns.iter_mut().find(|c| c.name == target) else {
                            continue;
                        };
                        if let Some(title) = &f.title {
                            c.title = Some(format!("{title} ({e})"));
                        }
                        let described = f.enumeration_descriptions.iter().find(|(k, _)| k == e);
                        if let Some((_, d)) = described {
                            c.description = Some(d.clone());
                        } else if let Some(d) = &f.description {
                            c.description = Some(format!("{d} ({e})"));
                        }
                        c.source = f.source.clone();
                    }
                } else if let Some(c) = t.columns.iter_mut().find(|c| c.name == f.target_name()) {
                    c.title = f.title.clone();
                    c.description = f.description.clone();
                    c.source = f.source.clone();
                    for (label, description) in c.enumerations.iter_mut() {
                        *description = f
                            .enumeration_descriptions
                            .iter()
                            .find(|(k, _)| k == label)
                            .map(|(_, d)| d.clone());
                    }
                }
            }
        }
    }
}

/// Builds the dictionary of the mart behind `mart` (its assessment tables
/// described by `mappings`) and deploys it there.
pub fn execute(options: &Node, mart: &mut Client, mappings: &[PrimaryTable]) -> Result<()> {
    let name = |k: &str| opt_text(options, k).unwrap_or_default();
    let (tt, ct, et) = (
        name("table_name_tables"),
        name("table_name_columns"),
        name("table_name_enumerations"),
    );
    let mut tables = read_model(mart)?;
    apply_assessments(&mut tables, mappings);
    apply_overrides(&mut tables, options);
    let mut facts = structure_facts(&tt, &ct, &et);
    let data = |rows: Vec<Node>, of: &str| {
        map(vec![
            ("data", Node::new(NodeValue::Seq(rows))),
            ("of", str_node(of)),
        ])
    };
    let table_rows = tables
        .iter()
        .map(|t| {
            map(vec![
                ("name", str_node(&t.name)),
                ("title", opt_node(&t.title)),
                ("description", opt_node(&t.description)),
            ])
        })
        .collect::<Vec<_>>();
    let mut column_rows = Vec::new();
    let mut enum_rows = Vec::new();
    for t in &tables {
        for c in &t.columns {
            column_rows.push(map(vec![
                ("table", str_node(&t.name)),
                ("name", str_node(&c.name)),
                ("title", opt_node(&c.title)),
                ("description", opt_node(&c.description)),
                ("source", opt_node(&c.source)),
                ("datatype", opt_node(&c.datatype)),
                ("link", opt_node(&c.link)),
            ]));
            for (label, description) in &c.enumerations {
                enum_rows.push(map(vec![
                    ("column", str_node(&format!("{}.{}", t.name, c.name))),
                    ("name", str_node(label)),
                    ("description", opt_node(description)),
                ]));
            }
        }
    }
    for (rows, of) in [(table_rows, &tt), (column_rows, &ct), (enum_rows, &et)] {
        if !rows.is_empty() {
            facts.push(data(rows, of));
        }
    }
    crate::deploy::deploy(
        mart,
        &Node::new(NodeValue::Seq(facts)),
        std::path::Path::new("."),
    )
}
