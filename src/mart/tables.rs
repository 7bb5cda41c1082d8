//! Assessment tables (rex.mart's `tables`): how the assessments of one assessment
//! definition map onto mart tables. A [`PrimaryTable`] has a column per selector
//! field, post-load calculation, instrument field (merged across versions),
//! calculation set result and metadata field; recordList and matrix fields become
//! child tables, and fields past `mart_max_columns` spill into additional ones.
//! It gives the rex.deploy facts of those tables and maps one assessment document
//! to their rows ([`PortData`]).

use super::fields::{make_field, ColumnType, Field, FieldType, FieldValue};
use super::instruments::{self, InstrumentVersion};
use super::settings::MartSettings;
use crate::core::yaml::{Node, NodeValue};
use crate::core::{Error, Result};
use serde_json::Value as Json;

/// One validated assessment definition (`AssessmentDefinitionVal`'s record).
#[derive(Clone, Debug, PartialEq)]
pub struct AssessmentDef {
    pub name: String,
    pub instruments: Vec<String>,
    pub selector: String,
    /// The selector's own parameters.
    pub selector_parameters: Vec<(String, Node)>,
    /// `trunk`, `branch`, `facet`, `cross` or `ternary`.
    pub relationship: String,
    pub parents: Vec<String>,
    /// `any`, `only` or `none`.
    pub identifiable: String,
    /// `None`: no instrument fields; empty: all of them.
    pub fields: Option<Vec<String>>,
    /// `None`: no calculation set results; empty: all of them.
    pub calculations: Option<Vec<String>>,
    /// Metadata fields and their types.
    pub meta: Vec<(String, String)>,
    /// `(name, type, expression)`.
    pub post_load_calculations: Vec<(String, String, String)>,
}

fn strs(node: Option<&Node>) -> Vec<String> {
    match node.map(|n| &n.value) {
        Some(NodeValue::Seq(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Some(NodeValue::Str(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn opt_strs(node: Option<&Node>) -> Option<Vec<String>> {
    match node {
        Some(n) if n.is_null() => None,
        other => Some(strs(other)),
    }
}

impl AssessmentDef {
    /// Reads a node validated by `AssessmentDefinitionVal` (`@ALL` expanded).
    pub fn from_node(node: &Node) -> Result<AssessmentDef> {
        let text = |n: Option<&Node>| n.and_then(Node::as_str).unwrap_or_default().to_string();
        let instruments = strs(node.get("instrument"));
        if instruments.iter().any(|i| i == "@ALL") {
            return Err(Error::new(
                "@ALL cannot be used here: it stands for the application's instruments, \
                 known only when an application is active",
            ));
        }
        let selector = node.get("selector");
        let relationship = node.get("parental_relationship");
        let entries = |n: Option<&Node>| -> Vec<(String, Node)> {
            n.and_then(Node::as_map).unwrap_or_default().to_vec()
        };
        Ok(AssessmentDef {
            name: text(node.get("name")),
            instruments,
            selector: text(selector.and_then(|s| s.get("query"))),
            selector_parameters: entries(selector.and_then(|s| s.get("parameters"))),
            relationship: text(relationship.and_then(|r| r.get("type"))),
            parents: strs(relationship.and_then(|r| r.get("parent"))),
            identifiable: text(node.get("identifiable")),
            fields: opt_strs(node.get("fields")),
            calculations: opt_strs(node.get("calculations")),
            meta: node
                .get("meta")
                .and_then(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .flat_map(entries_of)
                .collect(),
            post_load_calculations: node
                .get("post_load_calculations")
                .and_then(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .map(|c| {
                    (
                        text(c.get("name")),
                        text(c.get("type")),
                        text(c.get("expression")),
                    )
                })
                .collect(),
        })
    }
}

fn entries_of(node: &Node) -> Vec<(String, String)> {
    node.as_map()
        .unwrap_or_default()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect()
}

/// A field an assessment selector produces: its tag, header and type.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectorField {
    pub tag: Option<String>,
    pub header: String,
    /// The instrument field type it maps to (`text`, `integer`, ...).
    pub base: String,
    pub enumerations: Vec<String>,
}

/// Fields in insertion order, merged by name (`merge_field_into`).
#[derive(Clone, Debug, Default)]
pub struct Fields(pub Vec<(String, Field)>);

impl Fields {
    fn add(&mut self, field: Field) -> Result<()> {
        match self.0.iter_mut().find(|(n, _)| *n == field.name) {
            Some(slot) => slot.1 = slot.1.merge(&field)?,
            None => self.0.push((field.name.clone(), field)),
        }
        Ok(())
    }

    fn get(&self, name: &str) -> Option<&Field> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, f)| f)
    }

    fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.0.retain(|(n, _)| keep(n));
    }

    /// `ensure_unique_fieldnames`: reserved names get `_src`, duplicates a number.
    fn make_unique(&mut self, reserved: &[String], max: usize) {
        for (_, f) in self.0.iter_mut() {
            if reserved.iter().any(|r| r == f.target_name()) {
                let base: String = f.target_name().chars().take(max - 4).collect();
                f.force_target_name(&format!("{base}_src"));
            }
        }
        let names: Vec<String> = self.0.iter().map(|(_, f)| f.target_name().into()).collect();
        let mut bases: Vec<(String, usize)> = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) || !names[i + 1..].contains(name) {
                continue;
            }
            let mut base = name.clone();
            if base.chars().count() > max - 3 {
                base = base.chars().take(max - 3).collect();
                if base.ends_with('_') {
                    base.pop();
                }
            }
            if !bases.iter().any(|(b, _)| *b == base) {
                bases.push((base, 0));
            }
        }
        for (_, f) in self.0.iter_mut() {
            for (base, count) in bases.iter_mut() {
                if f.target_name().starts_with(base.as_str()) {
                    *count += 1;
                    f.force_target_name(&format!("{base}_{count}"));
                }
            }
        }
    }

    fn facts(&self, table: &str, exclude: &[String], out: &mut Vec<Node>) {
        for (_, f) in &self.0 {
            if exclude.iter().any(|e| e == f.target_name()) {
                continue;
            }
            for fact in f.deploy_facts(table) {
                let mut entries = vec![
                    ("column", text(&fact.column)),
                    ("of", text(&fact.of)),
                    (
                        "type",
                        match &fact.column_type {
                            ColumnType::Named(n) => text(n),
                            ColumnType::Choices(c) => seq(c.iter().map(|s| text(s)).collect()),
                        },
                    ),
                ];
                if fact.default_false {
                    entries.push(("default", Node::new(NodeValue::Bool(false))));
                }
                entries.push(("required", Node::new(NodeValue::Bool(false))));
                out.push(map(entries));
            }
        }
    }
}

fn text(s: &str) -> Node {
    Node::new(NodeValue::Str(s.to_string()))
}

fn seq(items: Vec<Node>) -> Node {
    Node::new(NodeValue::Seq(items))
}

fn map(entries: Vec<(&str, Node)>) -> Node {
    Node::new(NodeValue::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    ))
}

fn yes() -> Node {
    Node::new(NodeValue::Bool(true))
}

/// What a child table holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildKind {
    /// A recordList field: one row per record (`record_seq`).
    RecordList,
    /// A matrix field: one row, a column per row and column of the matrix.
    Matrix,
    /// Fields that did not fit in the primary table.
    Segment,
}

/// A table linked to the primary one.
#[derive(Clone, Debug)]
pub struct ChildTable {
    pub kind: ChildKind,
    /// The field id (segments: their index).
    pub name: String,
    pub table_name: String,
    /// Segments only (recordList and matrix tables are titled after the primary).
    pub title: Option<String>,
    pub description: Option<String>,
    pub fields: Fields,
}

impl ChildTable {
    /// The table's title: `<primary title> (<field> fields)`, or the segment's.
    pub fn title(&self, primary_title: Option<&str>) -> Option<String> {
        match self.kind {
            ChildKind::Segment => self.title.clone(),
            _ => Some(format!(
                "{} ({} fields)",
                primary_title.unwrap_or("None"),
                self.name
            )),
        }
    }

    /// `filter_identifiable` of the recordList/matrix subfields.
    fn filter_identifiable(&mut self, identifiable: &[String], rule: &str) {
        let prefix = format!("{}.", self.name);
        let subfields: Vec<String> = identifiable
            .iter()
            .filter_map(|f| f.strip_prefix(&prefix))
            .map(|rest| rest.replace('.', "_"))
            .collect();
        if self.kind == ChildKind::Segment {
            return;
        }
        match rule {
            "none" => self.fields.retain(|f| !subfields.iter().any(|s| s == f)),
            "only" => self.fields.retain(|f| subfields.iter().any(|s| s == f)),
            _ => {}
        }
    }

    fn facts(&self, primary: &str, out: &mut Vec<Node>) {
        let t = &self.table_name;
        out.push(map(vec![("table", text(t))]));
        out.push(map(vec![
            ("link", text(primary)),
            ("of", text(t)),
            ("required", yes()),
        ]));
        let mut exclude = vec![primary.to_string()];
        let mut identity = vec![text(primary)];
        if self.kind == ChildKind::RecordList {
            out.push(map(vec![
                ("column", text("record_seq")),
                ("type", text("integer")),
                ("of", text(t)),
                ("required", yes()),
            ]));
            exclude.push("record_seq".into());
            identity.push(map(vec![("record_seq", text("offset"))]));
        }
        out.push(map(vec![("identity", seq(identity)), ("of", text(t))]));
        self.fields.facts(t, &exclude, out);
    }
}

/// A presentation of an instrument version: kind (`form`/`sms`) and configuration.
type Presentation = (String, Json);
/// A question of a presentation: kind, question options, default locale.
type Question = (String, Json, String);

/// RIOS `get_full_type_definition`: a field type with custom types resolved.
fn full_type(instrument: &Json, t: &Json) -> Json {
    const BASES: [&str; 11] = [
        "text",
        "integer",
        "float",
        "boolean",
        "enumeration",
        "enumerationSet",
        "date",
        "time",
        "dateTime",
        "recordList",
        "matrix",
    ];
    let custom = |name: &str| instrument.get("types").and_then(|ts| ts.get(name)).cloned();
    match t {
        Json::String(name) if BASES.contains(&name.as_str()) => serde_json::json!({"base": name}),
        Json::String(name) => match custom(name) {
            Some(def) => full_type(instrument, &def),
            None => serde_json::json!({"base": name}),
        },
        Json::Object(obj) => {
            let base = obj.get("base").and_then(Json::as_str).unwrap_or_default();
            match custom(base).filter(|_| !BASES.contains(&base)) {
                Some(def) => {
                    let mut full = full_type(instrument, &def);
                    if let Json::Object(f) = &mut full {
                        for (k, v) in obj {
                            if k != "base" {
                                f.insert(k.clone(), v.clone());
                            }
                        }
                    }
                    full
                }
                None => t.clone(),
            }
        }
        _ => t.clone(),
    }
}

fn base_of(t: &Json) -> &str {
    t.get("base").and_then(Json::as_str).unwrap_or_default()
}

fn id_of(j: &Json) -> &str {
    j.get("id").and_then(Json::as_str).unwrap_or_default()
}

fn items<'a>(j: &'a Json, key: &str) -> &'a [Json] {
    j.get(key)
        .and_then(Json::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The localized text `{locale: text}` of a presentation item.
fn localized(j: &Json, key: &str, locale: &str) -> Option<String> {
    j.get(key)
        .and_then(|t| t.get(locale))
        .and_then(Json::as_str)
        .map(str::to_string)
}

/// The primary table of an assessment definition and its children.
#[derive(Clone, Debug)]
pub struct PrimaryTable {
    pub def: AssessmentDef,
    pub title: Option<String>,
    pub description: Option<String>,
    pub fields: Fields,
    pub children: Vec<(String, ChildTable)>,
    child_index: usize,
    max_name_length: usize,
}

impl PrimaryTable {
    /// The table of `def`: `selected` are the selector's fields (its analysis),
    /// instruments and their presentations are read from the application
    /// database `app`.
    pub fn new(
        def: &AssessmentDef,
        selected: &[SelectorField],
        app: &mut postgres::Client,
        settings: &MartSettings,
    ) -> Result<PrimaryTable> {
        let mut table = PrimaryTable {
            def: def.clone(),
            title: None,
            description: None,
            fields: Fields::default(),
            children: Vec::new(),
            child_index: 2,
            max_name_length: settings.max_name_length,
        };
        table.add_selector_fields(selected)?;
        for (name, kind, _) in &def.post_load_calculations {
            let mut f = table.make(kind, name, Vec::new(), None)?;
            f.source = Some("RexMart Calculation".into());
            table.fields.add(f)?;
        }
        table.add_instruments(app, settings)?;
        for (name, kind) in def.meta.clone() {
            let f = table.make(&kind, &format!("meta_{name}"), Vec::new(), None)?;
            table.fields.add(f)?;
        }
        table.segment_fields(settings.max_columns);
        let max = settings.max_name_length;
        table.fields.make_unique(&Self::reserved(), max);
        let primary = table.def.name.clone();
        for (_, child) in table.children.iter_mut() {
            let mut reserved = vec![primary.clone()];
            if child.kind == ChildKind::RecordList {
                reserved.push("record_seq".into());
            }
            child.fields.make_unique(&reserved, max);
        }
        for i in 0..table.children.len() {
            let name = format!("{primary}_{}", table.children[i].1.name);
            table.children[i].1.table_name = if name.chars().count() > max {
                let mut cut: String = name.chars().take(max - 3).collect();
                if cut.ends_with('_') {
                    cut.pop();
                }
                format!("{cut}_{}", table.next_child_index())
            } else {
                name
            };
        }
        Ok(table)
    }

    fn reserved() -> Vec<String> {
        vec!["assessment_uid".into(), "instrument_version_uid".into()]
    }

    pub fn table_name(&self) -> &str {
        &self.def.name
    }

    fn next_child_index(&mut self) -> usize {
        let i = self.child_index;
        self.child_index += 1;
        i
    }

    fn make(
        &self,
        base: &str,
        name: &str,
        enumerations: Vec<String>,
        version: Option<&str>,
    ) -> Result<Field> {
        make_field(base, name, enumerations, version, self.max_name_length)
    }

    /// A field of an instrument's type definition.
    fn make_typed(&self, t: &Json, name: &str, version: Option<&str>) -> Result<Field> {
        let enumerations = t
            .get("enumerations")
            .and_then(Json::as_object)
            .map(|e| e.keys().cloned().collect())
            .unwrap_or_default();
        self.make(base_of(t), name, enumerations, version)
    }

    fn add_selector_fields(&mut self, selected: &[SelectorField]) -> Result<()> {
        let mut names = Vec::new();
        for meta in selected {
            let name = meta.tag.clone().unwrap_or_else(|| meta.header.clone());
            let mut field = self.make(&meta.base, &name, meta.enumerations.clone(), None)?;
            if !meta.header.is_empty() && Some(&meta.header) != meta.tag.as_ref() {
                field.title = Some(meta.header.clone());
            }
            field.source = Some("RexMart Calculation".into());
            if name != "assessment_uid" {
                self.fields.add(field)?;
            }
            names.push(name);
        }
        if !names.iter().any(|n| n == "assessment_uid") {
            return Err(Error::new(
                "Selector does not include \"assessment_uid\" field specifying Assessment UIDs",
            ));
        }
        let missing: Vec<&str> = self
            .def
            .parents
            .iter()
            .filter(|p| !names.contains(p))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(Error::new(format!(
                "Selector is missing fields declared as parental links: {}",
                missing.join(", ")
            )));
        }
        let mut dups: Vec<&str> = Vec::new();
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) && !dups.contains(&n.as_str()) {
                dups.push(n);
            }
        }
        if !dups.is_empty() {
            return Err(Error::new(format!(
                "Selector includes multiple fields with the same name: {}",
                dups.join(", ")
            )));
        }
        Ok(())
    }

    fn add_instruments(&mut self, app: &mut postgres::Client, s: &MartSettings) -> Result<()> {
        let mut identifiable = Vec::new();
        for uid in self.def.instruments.clone() {
            let versions = instruments::versions(app, &uid)?.ok_or_else(|| {
                Error::new(format!(
                    "An Instrument with UID \"{uid}\" could not be found"
                ))
            })?;
            if versions.is_empty() {
                return Err(Error::new(format!(
                    "No InstrumentVersions for UID \"{uid}\" exist"
                )));
            }
            for version in versions {
                let presentations = prioritized(instruments::presentations(app, &version.uid)?, s);
                self.add_instrument_fields(&version, &presentations)?;
                identifiable_fields(&version.definition, &[], &mut identifiable);
                if let Some(calcs) = &version.calculations {
                    self.add_calculation_fields(calcs)?;
                    for c in items(calcs, "calculations") {
                        if c.get("identifiable").and_then(Json::as_bool) == Some(true) {
                            identifiable.push(id_of(c).to_string());
                        }
                    }
                }
                let form_title = presentations.iter().find_map(|(kind, p)| {
                    let locale = p.get("defaultLocalization")?.as_str()?;
                    (kind == "form")
                        .then(|| localized(p, "title", locale))
                        .flatten()
                });
                if let Some(t) = form_title {
                    self.title = Some(t);
                }
                if self.title.is_none() {
                    self.title = version
                        .definition
                        .get("title")
                        .and_then(Json::as_str)
                        .map(str::to_string);
                }
                if let Some(d) = version.definition.get("description").and_then(Json::as_str) {
                    self.description = Some(d.to_string());
                }
            }
        }
        self.filter_identifiable(&identifiable);
        Ok(())
    }

    /// Whether an instrument field (`a`, `a.b`, `a.b.c`) is selected by `fields`.
    fn is_field_allowed(&self, path: &[&str]) -> bool {
        let Some(fields) = &self.def.fields else {
            return false;
        };
        let name = path.join(".");
        fields.is_empty()
            || fields.contains(&name)
            || fields.iter().any(|f| f.split('.').next() == Some(&name))
    }

    fn is_calculation_allowed(&self, name: &str) -> bool {
        match &self.def.calculations {
            None => false,
            Some(c) => c.is_empty() || c.iter().any(|x| x == name),
        }
    }

    fn add_instrument_fields(
        &mut self,
        version: &InstrumentVersion,
        presentations: &[Presentation],
    ) -> Result<()> {
        for field in items(&version.definition, "record") {
            let id = id_of(field);
            if !self.is_field_allowed(&[id]) {
                continue;
            }
            let t = full_type(
                &version.definition,
                field.get("type").unwrap_or(&Json::Null),
            );
            let questions = field_questions(id, presentations);
            match base_of(&t) {
                "recordList" | "matrix" => {
                    self.add_complex(field, &t, version, &questions)?;
                }
                base => {
                    if self.children.iter().any(|(n, _)| n == id) {
                        return Err(Error::new(format!(
                            "Cannot merge a \"{base}\" field with a complex field ({id})"
                        )));
                    }
                    let mut mapped = self.make_typed(&t, id, Some(&version.uid))?;
                    if let Some(q) = questions.first() {
                        capture_metadata(&mut mapped, q);
                    }
                    describe(&mut mapped, field);
                    mapped.source = Some("RIOS Instrument".into());
                    self.fields.add(mapped)?;
                }
            }
        }
        Ok(())
    }

    /// A recordList or matrix field: its subfields in a child table.
    fn add_complex(
        &mut self,
        field: &Json,
        t: &Json,
        version: &InstrumentVersion,
        questions: &[Question],
    ) -> Result<()> {
        let id = id_of(field);
        let (kind, what) = match base_of(t) {
            "recordList" => (ChildKind::RecordList, "recordList"),
            _ => (ChildKind::Matrix, "matrix"),
        };
        if self.fields.contains(id) {
            return Err(Error::new(format!(
                "Cannot merge a {what} field with any other type of field ({id})"
            )));
        }
        let existing = self.children.iter().position(|(n, _)| n == id);
        let mut child = match existing {
            Some(i) => self.children[i].1.clone(),
            None => ChildTable {
                kind,
                name: id.to_string(),
                table_name: String::new(),
                title: None,
                description: None,
                fields: Fields::default(),
            },
        };
        if child.kind != kind {
            return Err(Error::new(format!(
                "Cannot merge a field of type \"{}\" ({id}) with a {} field",
                base_of(t),
                if child.kind == ChildKind::Matrix {
                    "matrix"
                } else {
                    "recordList"
                }
            )));
        }
        let sub_questions = questions
            .first()
            .map(|(k, q, l)| (k.clone(), items(q, "questions").to_vec(), l.clone()));
        let mut subfields = Vec::new();
        if kind == ChildKind::RecordList {
            for sub in items(t, "record") {
                subfields.push((vec![id, id_of(sub)], id_of(sub).to_string(), sub));
            }
        } else {
            for row in items(t, "rows") {
                for col in items(t, "columns") {
                    let name = format!("{}_{}", id_of(row), id_of(col));
                    subfields.push((vec![id, id_of(row), id_of(col)], name, col));
                }
            }
        }
        for (path, name, sub) in subfields {
            if !self.is_field_allowed(&path) {
                continue;
            }
            let st = full_type(&version.definition, sub.get("type").unwrap_or(&Json::Null));
            let mut mapped = self.make_typed(&st, &name, Some(&version.uid))?;
            if let Some((k, qs, locale)) = &sub_questions {
                let sid = id_of(sub);
                if let Some(q) = qs
                    .iter()
                    .find(|q| q.get("fieldId").and_then(Json::as_str) == Some(sid))
                {
                    capture_metadata(&mut mapped, &(k.clone(), q.clone(), locale.clone()));
                }
            }
            describe(&mut mapped, sub);
            mapped.source = Some("RIOS Instrument".into());
            child.fields.add(mapped)?;
        }
        match existing {
            Some(i) => self.children[i].1 = child,
            None => {
                if let Some((_, q, locale)) = questions.first() {
                    child.description = localized(q, "text", locale);
                }
                if child.description.is_none() {
                    child.description = field
                        .get("description")
                        .and_then(Json::as_str)
                        .map(str::to_string);
                }
                if !child.fields.0.is_empty() {
                    self.children.push((id.to_string(), child));
                }
            }
        }
        Ok(())
    }

    fn add_calculation_fields(&mut self, calcs: &Json) -> Result<()> {
        for calc in items(calcs, "calculations") {
            let id = id_of(calc);
            if !self.is_calculation_allowed(id) {
                continue;
            }
            let base = calc.get("type").and_then(Json::as_str).unwrap_or_default();
            let mut f = self.make(base, id, Vec::new(), None)?;
            if let Some(d) = calc.get("description").and_then(Json::as_str) {
                f.description = Some(d.to_string());
            }
            f.source = Some("RIOS Calculation Set".into());
            self.fields.add(f)?;
        }
        Ok(())
    }

    fn filter_identifiable(&mut self, identifiable: &[String]) {
        let rule = self.def.identifiable.clone();
        let is_id = |n: &str| identifiable.iter().any(|i| i == n);
        match rule.as_str() {
            "none" => self.fields.retain(|n| !is_id(n)),
            "only" => self.fields.retain(is_id),
            _ => {}
        }
        let mut kept = Vec::new();
        for (name, mut child) in std::mem::take(&mut self.children) {
            if rule == "none" && is_id(&name) {
                continue;
            }
            child.filter_identifiable(identifiable, &rule);
            if !child.fields.0.is_empty() {
                kept.push((name, child));
            }
        }
        self.children = kept;
    }

    /// Moves the fields past the column limit into additional tables.
    fn segment_fields(&mut self, max_columns: usize) {
        let primary = max_columns as i64
            - 2
            - self.def.parents.len() as i64
            - self.def.post_load_calculations.len() as i64;
        let additional = max_columns.saturating_sub(1).max(1);
        // The first segment stays in the primary table; without room for data
        // fields that is the first additional-sized chunk (as rex slices them).
        let keep = if primary > 0 {
            primary as usize
        } else {
            additional
        };
        let keep = keep.min(self.fields.0.len());
        let mut rest = self.fields.0.split_off(keep);
        while !rest.is_empty() {
            let tail = rest.split_off(additional.min(rest.len()));
            let idx = self.next_child_index();
            self.children.push((
                format!("SEGMENT_{idx}"),
                ChildTable {
                    kind: ChildKind::Segment,
                    name: idx.to_string(),
                    table_name: String::new(),
                    title: Some(format!(
                        "{} (Additional Fields)",
                        self.title.as_deref().unwrap_or("None")
                    )),
                    description: Some(
                        "Additional fields that didn't fit in in the base table.".into(),
                    ),
                    fields: Fields(rest),
                },
            ));
            rest = tail;
        }
    }

    /// The rex.deploy facts of the primary table and its children.
    pub fn deploy_facts(&self) -> Vec<Node> {
        let name = self.table_name();
        let mut out = vec![map(vec![("table", text(name))])];
        for parent in &self.def.parents {
            out.push(map(vec![
                ("link", text(parent)),
                ("of", text(name)),
                ("required", yes()),
            ]));
        }
        let uid_column = |column: &str, title: &str| {
            map(vec![
                ("column", text(column)),
                ("of", text(name)),
                ("type", text("text")),
                ("required", yes()),
                ("title", text(title)),
            ])
        };
        out.push(uid_column("assessment_uid", "Assessment UID"));
        let mut identity: Vec<Node> = self.def.parents.iter().map(|p| text(p)).collect();
        if ["trunk", "branch", "ternary"].contains(&self.def.relationship.as_str()) {
            identity.push(text("assessment_uid"));
        }
        out.push(map(vec![("identity", seq(identity)), ("of", text(name))]));
        out.push(uid_column(
            "instrument_version_uid",
            "InstrumentVersion UID",
        ));
        let mut exclude = self.def.parents.clone();
        exclude.extend(Self::reserved());
        self.fields.facts(name, &exclude, &mut out);
        for (_, child) in &self.children {
            child.facts(name, &mut out);
        }
        out
    }

    /// The HTSQL statements of the post-load calculations.
    pub fn calculation_statements(&self) -> Vec<String> {
        let calcs = &self.def.post_load_calculations;
        if calcs.is_empty() {
            return Vec::new();
        }
        let defines: Vec<String> = calcs
            .iter()
            .map(|(n, _, e)| format!("${n} := {e}"))
            .collect();
        let assigns: Vec<String> = calcs
            .iter()
            .map(|(n, _, _)| format!("${n} :as {n}"))
            .collect();
        vec![format!(
            "/{}.define({}){{id(), {}}}/:update",
            self.table_name(),
            defines.join(", "),
            assigns.join(", ")
        )]
    }

    /// `{'entity': <table>, 'with': [<child tables>]}` of rex.port.
    pub fn port_tree(&self) -> (String, Vec<String>) {
        let children = self.children.iter().map(|(_, c)| c.table_name.clone());
        (self.table_name().to_string(), children.collect())
    }

    /// The rows one assessment makes (its uid and version not included).
    /// `selection` holds the selector's values for
    /// it (by field name).
    pub fn port_data(
        &self,
        assessment: &Json,
        version: &str,
        selection: &[(String, FieldValue)],
    ) -> Result<PortData> {
        let row = value_mapping(&self.fields, assessment, version, selection)?;
        let mut children = Vec::new();
        let values = assessment.get("values");
        for (_, child) in &self.children {
            let value = values
                .and_then(|v| v.get(&child.name))
                .and_then(|v| v.get("value"));
            let rows = match child.kind {
                ChildKind::Segment => {
                    let r = value_mapping(&child.fields, assessment, version, selection)?;
                    if r.is_empty() {
                        Vec::new()
                    } else {
                        vec![r]
                    }
                }
                _ if value.is_none_or(|v| !json_truthy(v)) => Vec::new(),
                ChildKind::RecordList => {
                    let mut rows = Vec::new();
                    for record in value
                        .and_then(Json::as_array)
                        .map_or(&[][..], Vec::as_slice)
                    {
                        let doc = serde_json::json!({ "values": record });
                        let r = value_mapping(&child.fields, &doc, version, selection)?;
                        if !r.is_empty() {
                            rows.push(r);
                        }
                    }
                    rows
                }
                ChildKind::Matrix => {
                    let mut r = Vec::new();
                    for (row_id, columns) in value.and_then(Json::as_object).into_iter().flatten() {
                        for (col_id, cell) in columns.as_object().into_iter().flatten() {
                            if let Some(f) = child.fields.get(&format!("{row_id}_{col_id}")) {
                                r.extend(instrument_value(f, cell, version)?);
                            }
                        }
                    }
                    if r.is_empty() {
                        Vec::new()
                    } else {
                        vec![r]
                    }
                }
            };
            if !rows.is_empty() {
                children.push((child.table_name.clone(), child.kind, rows));
            }
        }
        Ok(PortData { row, children })
    }
}

/// One column name and value of a row.
pub type Row = Vec<(String, FieldValue)>;

/// The rows of one assessment: the primary table's and each child table's.
#[derive(Debug)]
pub struct PortData {
    pub row: Row,
    pub children: Vec<(String, ChildKind, Vec<Row>)>,
}

fn json_truthy(v: &Json) -> bool {
    match v {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Json::String(s) => !s.is_empty(),
        Json::Array(a) => !a.is_empty(),
        Json::Object(o) => !o.is_empty(),
    }
}

/// A JSON value as a field value.
pub fn field_value(v: &Json) -> FieldValue {
    match v {
        Json::Null => FieldValue::Null,
        Json::Bool(b) => FieldValue::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => FieldValue::Int(i),
            None => FieldValue::Float(n.as_f64().unwrap_or_default()),
        },
        Json::String(s) => FieldValue::Text(s.clone()),
        Json::Array(a) => FieldValue::List(a.iter().map(field_value).collect()),
        Json::Object(o) => {
            FieldValue::Map(o.iter().map(|(k, v)| (k.clone(), field_value(v))).collect())
        }
    }
}

/// Python's `repr` of a JSON value (the value quoted by cast errors).
fn json_repr(v: &Json) -> String {
    crate::core::repr::py_json_repr(v)
}

/// An instrument field's value object (`{"value": ...}`) in its columns.
fn instrument_value(field: &Field, cell: &Json, version: &str) -> Result<Row> {
    let value = cell.get("value").unwrap_or(&Json::Null);
    field.value_mapping(&field_value(value), Some(version), &json_repr(value))
}

/// `get_value_mapping`: the columns of `fields` from an assessment's values, its
/// metadata, its calculation results or the selector's values.
fn value_mapping(
    fields: &Fields,
    assessment: &Json,
    version: &str,
    selection: &[(String, FieldValue)],
) -> Result<Row> {
    let values = assessment.get("values");
    let meta = assessment.get("meta");
    let calculations = meta.and_then(|m| m.get("calculations"));
    let mut out = Vec::new();
    for (name, field) in &fields.0 {
        if let Some(cell) = values.and_then(|v| v.get(name)) {
            out.extend(instrument_value(field, cell, version)?);
        } else if let Some(v) = name
            .strip_prefix("meta_")
            .and_then(|m| meta.and_then(|meta| meta.get(m)))
        {
            out.extend(field.value_mapping(&field_value(v), None, &json_repr(v))?);
        } else if let Some(v) = calculations.and_then(|c| c.get(name)) {
            out.extend(field.value_mapping(&field_value(v), None, &json_repr(v))?);
        } else if let Some((_, v)) = selection.iter().find(|(n, _)| n == name) {
            let repr = format!("{v:?}");
            out.extend(field.value_mapping(v, None, &repr)?);
        }
    }
    Ok(out)
}

fn capture_metadata(field: &mut Field, question: &Question) {
    let (_, q, locale) = question;
    field.description = localized(q, "text", locale);
    if matches!(
        field.field_type,
        FieldType::Enumeration | FieldType::EnumerationSet
    ) {
        for e in items(q, "enumerations") {
            if let Some(t) = localized(e, "text", locale) {
                let id = id_of(e).to_string();
                match field
                    .enumeration_descriptions
                    .iter_mut()
                    .find(|(k, _)| *k == id)
                {
                    Some(slot) => slot.1 = t,
                    None => field.enumeration_descriptions.push((id, t)),
                }
            }
        }
    }
}

fn describe(field: &mut Field, def: &Json) {
    if field.description.is_none() {
        field.description = def
            .get("description")
            .and_then(Json::as_str)
            .map(str::to_string);
    }
}

/// The identifiable fields of an instrument (`a`, `list.sub`, `matrix.row.col`).
fn identifiable_fields(instrument: &Json, prefix: &[&str], out: &mut Vec<String>) {
    for field in items(instrument, "record") {
        let id = id_of(field);
        let mut path = prefix.to_vec();
        path.push(id);
        if field.get("identifiable").and_then(Json::as_bool) == Some(true) {
            out.push(path.join("."));
        }
        let t = full_type(instrument, field.get("type").unwrap_or(&Json::Null));
        match base_of(&t) {
            "recordList" => identifiable_fields(&t, &[id], out),
            "matrix" => {
                let columns = serde_json::json!({ "record": items(&t, "columns") });
                for row in items(&t, "rows") {
                    identifiable_fields(&columns, &[id, id_of(row)], out);
                }
            }
            _ => {}
        }
    }
}

/// The presentations in priority order (presentation kind, then channel).
fn prioritized(found: Vec<(String, String, Json)>, s: &MartSettings) -> Vec<Presentation> {
    let mut kinds: Vec<&str> = s
        .presentation_priority
        .iter()
        .map(String::as_str)
        .filter(|k| ["form", "sms"].contains(k))
        .collect();
    for k in ["form", "sms"] {
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    let mut out = Vec::new();
    for kind in kinds {
        let of_kind: Vec<&(String, String, Json)> =
            found.iter().filter(|(k, _, _)| k == kind).collect();
        let mut channels: Vec<&str> = s
            .channel_priority
            .iter()
            .map(String::as_str)
            .filter(|c| of_kind.iter().any(|(_, ch, _)| ch == c))
            .collect();
        for (_, ch, _) in &of_kind {
            if !channels.contains(&ch.as_str()) {
                channels.push(ch);
            }
        }
        for ch in channels {
            if let Some((_, _, config)) = of_kind.iter().rev().find(|(_, c, _)| c == ch) {
                out.push((kind.to_string(), config.clone()));
            }
        }
    }
    out
}

/// The questions presenting field `id`, one per presentation at most.
fn field_questions(id: &str, presentations: &[Presentation]) -> Vec<Question> {
    let mut out = Vec::new();
    let asks = |e: &Json| {
        e.get("type").and_then(Json::as_str) == Some("question")
            && e.get("options")
                .and_then(|o| o.get("fieldId"))
                .and_then(Json::as_str)
                == Some(id)
    };
    for (kind, p) in presentations {
        let locale = p
            .get("defaultLocalization")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string();
        let found = if kind == "sms" {
            items(p, "steps").iter().find(|s| asks(s)).cloned()
        } else {
            items(p, "pages")
                .iter()
                .find_map(|page| items(page, "elements").iter().find(|e| asks(e)).cloned())
        };
        if let Some(e) = found {
            let options = e.get("options").cloned().unwrap_or(Json::Null);
            out.push((kind.clone(), options, locale));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(name: &str) -> Field {
        make_field("text", name, Vec::new(), None, 63).unwrap()
    }

    #[test]
    fn custom_types_resolve_to_their_base() {
        let instrument = json!({"types": {
            "yesno": {"base": "enumeration", "enumerations": {"yes": {}, "no": {}}},
            "strict": {"base": "yesno", "required": true},
        }});
        assert_eq!(
            full_type(&instrument, &json!("text")),
            json!({"base": "text"})
        );
        let t = full_type(&instrument, &json!({"base": "strict", "description": "d"}));
        assert_eq!(base_of(&t), "enumeration");
        assert_eq!(t["description"], "d");
        assert_eq!(t["enumerations"], json!({"yes": {}, "no": {}}));
    }

    #[test]
    fn names_are_made_unique_as_rex_does() {
        let mut fields = Fields::default();
        for name in ["assessment_uid", "a-b", "a_b", "c"] {
            fields.0.push((name.to_string(), field(name)));
        }
        fields.make_unique(&PrimaryTable::reserved(), 63);
        let names: Vec<&str> = fields.0.iter().map(|(_, f)| f.target_name()).collect();
        assert_eq!(names, ["assessment_uid_src", "a_b_1", "a_b_2", "c"]);
    }

    #[test]
    fn identifiable_fields_reach_into_lists_and_matrices() {
        let instrument = json!({"record": [
            {"id": "name", "type": "text", "identifiable": true},
            {"id": "list", "type": {"base": "recordList", "record": [
                {"id": "sub", "type": "text", "identifiable": true}]}},
            {"id": "grid", "type": {"base": "matrix", "rows": [{"id": "r1"}],
                "columns": [{"id": "c1", "type": "text", "identifiable": true}]}},
        ]});
        let mut out = Vec::new();
        identifiable_fields(&instrument, &[], &mut out);
        assert_eq!(out, ["name", "list.sub", "grid.r1.c1"]);
    }

    #[test]
    fn presentations_follow_the_priorities() {
        let found = vec![
            ("form".to_string(), "entry".to_string(), json!(1)),
            ("sms".to_string(), "mobile".to_string(), json!(2)),
            ("form".to_string(), "survey".to_string(), json!(3)),
        ];
        let s = MartSettings {
            presentation_priority: vec!["sms".into()],
            channel_priority: vec!["survey".into()],
            ..MartSettings::default()
        };
        let order: Vec<Json> = prioritized(found, &s).into_iter().map(|(_, c)| c).collect();
        assert_eq!(order, [json!(2), json!(3), json!(1)]);
    }
}
