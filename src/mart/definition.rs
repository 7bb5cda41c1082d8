//! Mart definitions: `mart.yaml` (with `!include` / `!include/str`) validated with
//! rex.mart's validators and rules (rexmart.md §1), into plain Rust values the
//! creator uses. Every definition of an application is validated when the
//! application's definitions are read, so a bad one fails early and its error names
//! the file, the definition and the field.

use super::params::{DataType, ParamValue, Parameter};
use super::processors;
use super::settings::MartSettings;
use crate::core::validate::{
    AnyVal, ChoiceVal, IntVal, MapVal, MaybeVal, OneOfVal, OneOrSeqVal, RecordVal, SeqVal, StrVal,
    Test, UnionVal, Validator,
};
use crate::core::yaml::{load_file, Node, NodeValue};
use crate::core::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Lists the instrument codes `@ALL` stands for (the application's instruments);
/// called only when a definition uses `@ALL`.
pub type InstrumentLister = Arc<dyn Fn() -> Result<Vec<String>> + Send + Sync>;

/// The lister of an application database's instruments.
pub fn app_instruments(db: crate::core::app::Database) -> InstrumentLister {
    Arc::new(move || super::instruments::all_instrument_codes(&mut db.connect()?))
}

/// `RESTR_SAFE_TOKEN`: what ids, name tokens and fixed names must look like.
pub const SAFE_TOKEN: &str = "^[a-z_][0-9a-z_]*$";

/// How the mart database comes to be (`base.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseType {
    /// A new, empty database.
    Fresh,
    /// A new database cloned from `target`.
    Copy,
    /// A new database cloned from the application database.
    Application,
    /// The database `target`, used as it is.
    Existing,
}

impl BaseType {
    pub fn name(self) -> &'static str {
        match self {
            BaseType::Fresh => "fresh",
            BaseType::Copy => "copy",
            BaseType::Application => "application",
            BaseType::Existing => "existing",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Base {
    pub base_type: BaseType,
    pub target: Option<String>,
    /// Always set except for `existing` (defaulted to `<id>_`).
    pub name_token: Option<String>,
    pub fixed_name: Option<String>,
}

/// `htsql` or `sql`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptType {
    Htsql,
    Sql,
}

/// One ETL script of `post_deploy_scripts` / `post_assessment_scripts`.
#[derive(Clone, Debug, PartialEq)]
pub struct EtlScript {
    /// The stripped script text.
    pub script: String,
    pub script_type: ScriptType,
    /// The script's own parameters, keys sorted.
    pub parameters: Vec<(String, ParamValue)>,
}

/// One entry of `processors`, its options validated and defaulted.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcessorCall {
    pub id: String,
    pub options: Node,
}

/// A validated definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Definition {
    pub id: String,
    pub label: String,
    pub description: Option<String>,
    pub base: Base,
    /// `quota.per_owner`.
    pub quota_per_owner: i64,
    /// rex.deploy facts, when the definition deploys anything.
    pub deploy: Option<Node>,
    pub parameters: Vec<Parameter>,
    pub post_deploy_scripts: Vec<EtlScript>,
    pub post_assessment_scripts: Vec<EtlScript>,
    pub processors: Vec<ProcessorCall>,
    /// The validated `assessments` items: assessment definitions (`@ALL` expanded
    /// when the instruments were known) and `dynamic` ones, as nodes.
    pub assessments: Vec<Node>,
    /// The directory relative `data:` paths of deploy facts resolve against.
    pub base_path: Option<PathBuf>,
}

/// A string that is `.strip()`ped (rex's `StrippedStrVal`).
pub struct StrippedStrVal;

impl Validator for StrippedStrVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let v = StrVal::new().validate(node)?;
        Ok(with_value(
            &v,
            NodeValue::Str(py_strip(v.as_str().unwrap_or_default())),
        ))
    }
}

/// Python's `str.strip()` (whitespace as Python sees it).
fn py_strip(s: &str) -> String {
    s.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c))
        .to_string()
}

fn with_value(node: &Node, value: NodeValue) -> Node {
    Node {
        value,
        mark: node.mark.clone(),
    }
}

/// A mapping kept as written (deploy facts: key order matters to nobody, but the
/// facts go to rex.deploy unchanged).
struct IsMapping;

impl Validator for IsMapping {
    fn validate(&self, node: &Node) -> Result<Node> {
        match node.value {
            NodeValue::Map(_) => Ok(node.clone()),
            _ => MapVal::any().validate(node),
        }
    }
}

fn null() -> Node {
    Node::null()
}

fn empty_seq() -> Node {
    Node::new(NodeValue::Seq(Vec::new()))
}

fn empty_map() -> Node {
    Node::new(NodeValue::Map(Vec::new()))
}

fn field<'a>(record: &'a Node, name: &str) -> &'a Node {
    static NULL: Node = Node {
        value: NodeValue::Null,
        mark: None,
    };
    record.get(name).unwrap_or(&NULL)
}

fn opt_str(node: &Node) -> Option<String> {
    node.as_str().map(str::to_string)
}

/// `Got:` + repr, then `While validating field:` + field (cross-field errors).
fn field_error(message: String, got: &Node, name: &str) -> Error {
    Error::new(message)
        .wrap_with("Got:", got.py_repr())
        .wrap_with("While validating field:", name)
}

/// `MartBaseVal`.
pub struct MartBaseVal {
    pub max_name_length: usize,
}

impl Validator for MartBaseVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let v = RecordVal::new()
            .field(
                "type",
                ChoiceVal::new(&["fresh", "copy", "existing", "application"]),
            )
            .optional("target", MaybeVal::new(StrVal::pattern("^.+$")), null())
            .optional(
                "name_token",
                MaybeVal::new(StrVal::pattern(SAFE_TOKEN)),
                null(),
            )
            .optional("fixed_name", StrVal::pattern(SAFE_TOKEN), null())
            .validate(node)?;
        let base_type = field(&v, "type").as_str().unwrap_or_default();
        let target = field(&v, "target");
        match base_type {
            "fresh" | "application" if !target.is_null() => {
                return Err(field_error(
                    format!("Bases type \"{base_type}\" cannot have target database names"),
                    target,
                    "target",
                ))
            }
            "copy" | "existing" if target.is_null() => {
                return Err(field_error(
                    format!("Base type of \"{base_type}\" requires a target database name"),
                    target,
                    "target",
                ))
            }
            _ => {}
        }
        if base_type == "existing" {
            for name in ["name_token", "fixed_name"] {
                let value = field(&v, name);
                if !value.is_null() {
                    let what = name.replace('_', " ");
                    return Err(field_error(
                        format!("Base type \"existing\" cannot have a {what}"),
                        value,
                        name,
                    ));
                }
            }
        }
        let fixed = field(&v, "fixed_name");
        if fixed
            .as_str()
            .is_some_and(|s| s.len() > self.max_name_length)
        {
            return Err(field_error(
                format!(
                    "Fixed name cannot be longer than {} characters",
                    self.max_name_length
                ),
                fixed,
                "fixed_name",
            ));
        }
        Ok(v)
    }
}

/// `QuotaVal`: `per_owner` defaults to the setting.
pub struct QuotaVal {
    pub default_per_owner: i64,
}

impl Validator for QuotaVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let v = RecordVal::new()
            .optional(
                "per_owner",
                MaybeVal::new(IntVal::range(Some(1), None)),
                null(),
            )
            .validate(node)?;
        let per_owner = field(&v, "per_owner")
            .as_i64()
            .unwrap_or(self.default_per_owner);
        Ok(with_value(
            &v,
            NodeValue::Map(vec![(
                "per_owner".into(),
                Node::new(NodeValue::Int(per_owner)),
            )]),
        ))
    }
}

/// `ParameterVal`. The result gains `required` (rex's `REQUIRED` sentinel: the
/// `default` key was absent).
pub struct ParameterVal;

impl Validator for ParameterVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let v = RecordVal::new()
            .field("name", StrVal::pattern("[a-zA-Z][a-zA-Z0-9_]*"))
            .field("type", ChoiceVal::new(&DataType::NAMES))
            .optional("default", MaybeVal::new(AnyVal), null())
            .validate(node)?;
        let data_type = DataType::from_name(field(&v, "type").as_str().unwrap_or_default())
            .unwrap_or(DataType::Text);
        let default = field(&v, "default");
        let mut coerced = None;
        if !default.is_null() {
            let value = data_type
                .coerce(default)
                .map_err(|e| e.wrap_with("While validating field:", "default"))?;
            coerced = match value {
                ParamValue::Int(i) => Some(NodeValue::Int(i)),
                ParamValue::Float(f) => Some(NodeValue::Float(f)),
                ParamValue::Bool(b) => Some(NodeValue::Bool(b)),
                _ => None,
            };
        }
        let required = node.get("default").is_none();
        let mut entries = v.as_map().unwrap_or_default().to_vec();
        if let Some(value) = coerced {
            for (k, n) in entries.iter_mut() {
                if k == "default" {
                    n.value = value.clone();
                }
            }
        }
        entries.push(("required".into(), Node::new(NodeValue::Bool(required))));
        Ok(with_value(&v, NodeValue::Map(entries)))
    }
}

/// An ETL script's text: stripped, not empty.
struct ScriptTextVal;

impl Validator for ScriptTextVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let v = StrippedStrVal.validate(node)?;
        if v.as_str().is_some_and(str::is_empty) {
            return Err(Error::new("ETL Scripts cannot be empty").wrap_with("Got:", "''"));
        }
        Ok(v)
    }
}

/// `EtlScriptVal`.
pub fn etl_script_val() -> RecordVal {
    RecordVal::new()
        .field("script", ScriptTextVal)
        .field("type", ChoiceVal::new(&["htsql", "sql"]))
        .optional("parameters", MapVal::any(), empty_map())
}

/// `ProcessorVal`: a registered processor and its options.
pub struct ProcessorVal;

impl Validator for ProcessorVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let v = RecordVal::new()
            .field("id", StrippedStrVal)
            .optional("options", MapVal::any(), empty_map())
            .validate(node)?;
        let id = field(&v, "id").as_str().unwrap_or_default().to_string();
        if !processors::is_known(&id) {
            return Err(Error::new("Unknown Processor ID")
                .wrap_with("Got:", &id)
                .wrap_with("While validating field:", "id"));
        }
        let options = processors::validate_options(&id, field(&v, "options"))
            .map_err(|e| e.wrap_with("While validating field:", "options"))?;
        Ok(with_value(
            &v,
            NodeValue::Map(vec![
                ("id".into(), field(&v, "id").clone()),
                ("options".into(), options),
            ]),
        ))
    }
}

/// `DefinitionVal`: one raw definition, validated and normalised as rex does (label,
/// name token and quota defaulted; assessments validated, `@ALL` expanded to one
/// assessment per instrument when `instruments` is given; duplicate names refused).
pub struct DefinitionVal {
    pub settings: MartSettings,
    pub instruments: Option<InstrumentLister>,
}

impl DefinitionVal {
    pub fn new(settings: MartSettings) -> DefinitionVal {
        DefinitionVal {
            settings,
            instruments: None,
        }
    }

    /// Expands `@ALL` items: one assessment per instrument, validated again.
    fn expand_all(&self, assessments: &Node) -> Result<Node> {
        let items = assessments.as_seq().unwrap_or_default();
        let Some(lister) = self
            .instruments
            .as_ref()
            .filter(|_| items.iter().any(is_all))
        else {
            return Ok(assessments.clone());
        };
        let codes = lister()?;
        let val = AssessmentDefinitionVal {
            max_name_length: self.settings.max_name_length,
        };
        let mut out = Vec::new();
        for item in items {
            if !is_all(item) {
                out.push(item.clone());
                continue;
            }
            for code in &codes {
                let mut one = item.clone();
                if let NodeValue::Map(entries) = &mut one.value {
                    for (k, v) in entries.iter_mut() {
                        if k == "instrument" {
                            *v = Node::new(NodeValue::Str(code.clone()));
                        }
                    }
                }
                out.push(val.validate(&one)?);
            }
        }
        Ok(with_value(assessments, NodeValue::Seq(out)))
    }
}

/// An assessment item whose instrument is `@ALL`.
fn is_all(item: &Node) -> bool {
    item.get("instrument").and_then(Node::as_str) == Some("@ALL")
}

impl Validator for DefinitionVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let settings = &self.settings;
        let v = RecordVal::new()
            .field("id", StrVal::pattern(SAFE_TOKEN))
            .optional("label", MaybeVal::new(StrVal::new()), null())
            .optional("description", MaybeVal::new(StrippedStrVal), null())
            .optional(
                "base",
                MartBaseVal {
                    max_name_length: settings.max_name_length,
                },
                Node::new(NodeValue::Map(vec![
                    ("type".into(), Node::new(NodeValue::Str("fresh".into()))),
                    ("target".into(), null()),
                    ("name_token".into(), null()),
                    ("fixed_name".into(), null()),
                ])),
            )
            .optional(
                "quota",
                MaybeVal::new(QuotaVal {
                    default_per_owner: settings.default_per_owner,
                }),
                null(),
            )
            .optional("deploy", MaybeVal::new(SeqVal::new(IsMapping)), null())
            .optional("parameters", SeqVal::new(ParameterVal), empty_seq())
            .optional(
                "post_deploy_scripts",
                SeqVal::new(etl_script_val()),
                empty_seq(),
            )
            .optional(
                "assessments",
                SeqVal::new(assessment_union_val(settings)),
                empty_seq(),
            )
            .optional(
                "post_assessment_scripts",
                SeqVal::new(etl_script_val()),
                empty_seq(),
            )
            .optional("processors", SeqVal::new(ProcessorVal), empty_seq())
            .optional("base_path", MaybeVal::new(StrVal::new()), null())
            .validate(node)?;

        let deploy = field(&v, "deploy");
        if !deploy.is_null() {
            super::ext::validate_deploy(deploy)
                .map_err(|e| e.wrap_with("While validating field:", "deploy"))?;
        }
        let mut entries = v.as_map().unwrap_or_default().to_vec();
        let id = opt_str(field(&v, "id")).unwrap_or_default();
        let set = |entries: &mut Vec<(String, Node)>, name: &str, value: Node| {
            if let Some(e) = entries.iter_mut().find(|(k, _)| k == name) {
                e.1 = value;
            }
        };
        if opt_str(field(&v, "label")).is_none_or(|l| l.is_empty()) {
            set(&mut entries, "label", Node::new(NodeValue::Str(id.clone())));
        }
        let mut base = field(&v, "base").clone();
        let base_type = field(&base, "type")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let token = opt_str(field(&base, "name_token")).filter(|t| !t.is_empty());
        let token = match token {
            None if base_type != "existing" => {
                let token = format!("{}_", make_safe_token(&id, settings.max_name_length)?);
                if let NodeValue::Map(b) = &mut base.value {
                    if let Some(e) = b.iter_mut().find(|(k, _)| k == "name_token") {
                        e.1 = Node::new(NodeValue::Str(token.clone()));
                    }
                }
                Some(token)
            }
            other => other,
        };
        set(&mut entries, "base", base);
        if field(&v, "quota").is_null() {
            let quota = QuotaVal {
                default_per_owner: settings.default_per_owner,
            }
            .validate(&empty_map())?;
            set(&mut entries, "quota", quota);
        }
        if let Some(token) = token {
            let max = settings.max_name_token_length();
            if token.len() as i64 > max {
                return Err(Error::new(format!(
                    "Name Token cannot exceed {max} characters in length"
                ))
                .wrap_with("Got:", token)
                .wrap_with("While validating field:", "base.name_token"));
            }
        }
        let expanded = self
            .expand_all(field(&v, "assessments"))
            .map_err(|e| e.wrap_with("While validating field:", "assessments"))?;
        set(&mut entries, "assessments", expanded.clone());
        let assessments = expanded.as_seq().unwrap_or_default();
        let names: Vec<&str> = assessments
            .iter()
            .filter(|a| a.get("instrument").is_some())
            .filter_map(|a| a.get("name").and_then(Node::as_str))
            .collect();
        let dups = duplicates(&names);
        if !dups.is_empty() {
            return Err(Error::new(format!(
                "Assessment Names ({}) cannot be duplicated within a Definition",
                dups.join(", ")
            ))
            .wrap_with("While validating field:", "assessments"));
        }
        let names: Vec<&str> = field(&v, "parameters")
            .as_seq()
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p.get("name").and_then(Node::as_str))
            .collect();
        let dups = duplicates(&names);
        if !dups.is_empty() {
            return Err(Error::new(format!(
                "Parameter Names ({}) cannot be duplicated within a Definition",
                dups.join(", ")
            ))
            .wrap_with("While validating field:", "parameters"));
        }
        Ok(with_value(&v, NodeValue::Map(entries)))
    }
}

/// The names that occur more than once, in order of first occurrence.
fn duplicates<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let mut dups: Vec<&str> = Vec::new();
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) && !dups.contains(n) {
            dups.push(n);
        }
    }
    dups
}

/// Validates one raw definition into the plain Rust value the creator uses;
/// `instruments` expands `@ALL` (without it, `@ALL` items stay as written).
pub fn validate_definition(
    node: &Node,
    settings: &MartSettings,
    instruments: Option<InstrumentLister>,
) -> Result<Definition> {
    let v = DefinitionVal {
        settings: settings.clone(),
        instruments,
    }
    .validate(node)?;
    let id = opt_str(field(&v, "id")).unwrap_or_default();
    let b = field(&v, "base");
    let base_type = match field(b, "type").as_str() {
        Some("copy") => BaseType::Copy,
        Some("application") => BaseType::Application,
        Some("existing") => BaseType::Existing,
        _ => BaseType::Fresh,
    };
    let deploy =
        Some(field(&v, "deploy").clone()).filter(|d| d.as_seq().is_some_and(|s| !s.is_empty()));
    Ok(Definition {
        label: opt_str(field(&v, "label")).unwrap_or_else(|| id.clone()),
        description: opt_str(field(&v, "description")),
        base: Base {
            base_type,
            target: opt_str(field(b, "target")),
            name_token: opt_str(field(b, "name_token")),
            fixed_name: opt_str(field(b, "fixed_name")),
        },
        quota_per_owner: field(field(&v, "quota"), "per_owner")
            .as_i64()
            .unwrap_or(settings.default_per_owner),
        deploy,
        parameters: convert_parameters(field(&v, "parameters")),
        post_deploy_scripts: convert_scripts(field(&v, "post_deploy_scripts")),
        post_assessment_scripts: convert_scripts(field(&v, "post_assessment_scripts")),
        processors: field(&v, "processors")
            .as_seq()
            .unwrap_or_default()
            .iter()
            .map(|p| ProcessorCall {
                id: opt_str(field(p, "id")).unwrap_or_default(),
                options: field(p, "options").clone(),
            })
            .collect(),
        assessments: field(&v, "assessments")
            .as_seq()
            .unwrap_or_default()
            .to_vec(),
        base_path: opt_str(field(&v, "base_path")).map(PathBuf::from),
        id,
    })
}

/// rex.mart's `make_safe_token`: lower case, `-` to `_`, other characters dropped,
/// leading characters trimmed until it is a safe token; cut to `max_len`.
pub fn make_safe_token(token: &str, max_len: usize) -> Result<String> {
    let is_safe = |t: &str| {
        t.chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && t.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let mut safe = token.to_lowercase().replace('-', "_");
    if safe == "id" {
        safe = "id_".into();
    }
    if !is_safe(&safe) {
        safe.retain(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        while !is_safe(&safe) {
            if !safe.is_empty() {
                safe.remove(0);
            }
            if safe.is_empty() {
                return Err(Error::new(format!(
                    "Cannot make a safe token out of \"{token}\""
                )));
            }
        }
    }
    Ok(safe.chars().take(max_len).collect())
}

/// `ParentalRelationshipVal`.
pub struct ParentalRelationshipVal;

impl Validator for ParentalRelationshipVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let v = RecordVal::new()
            .field(
                "type",
                ChoiceVal::new(&["trunk", "facet", "branch", "cross", "ternary"]),
            )
            .optional("parent", OneOrSeqVal::new(StrVal::new()), empty_seq())
            .validate(node)?;
        let kind = field(&v, "type").as_str().unwrap_or_default();
        let parent = field(&v, "parent");
        let count = parent.as_seq().map_or(0, <[Node]>::len);
        let message = match kind {
            "trunk" if count > 0 => "Relationship type \"trunk\" cannot have any parents".into(),
            "facet" | "branch" if count != 1 => {
                format!("Relationship type \"{kind}\" must have exactly one parent")
            }
            "cross" | "ternary" if count < 2 => {
                format!("Relationship type \"{kind}\" must have at least two parents")
            }
            _ => return Ok(v),
        };
        Err(field_error(message, parent, "parent"))
    }
}

/// The standard Assessment metadata fields and their types.
const METADATA_TYPES: [(&str, &str); 4] = [
    ("language", "text"),
    ("application", "text"),
    ("dateCompleted", "dateTime"),
    ("timeTaken", "integer"),
];

/// `MetadataFieldVal`: a name (typed by the standard list, else text) or a
/// one-entry `{name: type}` mapping.
struct MetadataFieldVal;

impl Validator for MetadataFieldVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let v = OneOfVal(vec![
            Box::new(StrVal::new()),
            Box::new(MapVal::new(StrVal::new(), ChoiceVal::new(&DataType::NAMES))),
        ])
        .validate(node)?;
        let standard = |name: &str| {
            METADATA_TYPES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| *t)
        };
        let entries = match &v.value {
            NodeValue::Str(name) => vec![(
                name.clone(),
                Node::new(NodeValue::Str(standard(name).unwrap_or("text").into())),
            )],
            NodeValue::Map(entries) => entries.clone(),
            _ => Vec::new(),
        };
        if entries.len() > 1 {
            return Err(Error::new("Mapping can only contain one element"));
        }
        if let Some((name, kind)) = entries.first() {
            if name == "calculations" {
                return Err(Error::new(
                    "CalculationSet results are handled by the calculations property",
                ));
            }
            if standard(name).is_some_and(|t| Some(t) != kind.as_str()) {
                return Err(Error::new(format!(
                    "Cannot redefine the standard type for \"{name}\""
                )));
            }
        }
        Ok(with_value(&v, NodeValue::Map(entries)))
    }
}

/// `SelectorVal`: `{query, parameters}`, the query stripped and not empty.
struct SelectorVal;

impl Validator for SelectorVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let v = RecordVal::new()
            .field("query", StrippedStrVal)
            .optional("parameters", MapVal::any(), empty_map())
            .validate(node)?;
        let query = field(&v, "query");
        if query.as_str().is_some_and(str::is_empty) {
            return Err(field_error(
                "Selector querys cannot be empty".into(),
                query,
                "query",
            ));
        }
        Ok(v)
    }
}

/// `AlternateSelectorVal`: a query string or a selector mapping, as a selector.
struct AlternateSelectorVal;

impl Validator for AlternateSelectorVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let v = OneOfVal(vec![Box::new(StrippedStrVal), Box::new(SelectorVal)]).validate(node)?;
        match &v.value {
            NodeValue::Str(query) => SelectorVal.validate(&Node::new(NodeValue::Map(vec![
                ("query".into(), Node::new(NodeValue::Str(query.clone()))),
                ("parameters".into(), empty_map()),
            ]))),
            _ => Ok(v),
        }
    }
}

/// `@ALL`, or one or more instrument ids (a list).
struct AllOrOneOrSeqVal;

impl Validator for AllOrOneOrSeqVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        if node.as_str() == Some("@ALL") {
            return Ok(node.clone());
        }
        OneOrSeqVal::new(StrVal::new()).validate(node)
    }
}

/// `AssessmentDefinitionVal`. `@ALL` is kept as written: expanding it needs the
/// application's instruments, which this port does not load.
pub struct AssessmentDefinitionVal {
    pub max_name_length: usize,
}

impl Validator for AssessmentDefinitionVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let strings = || OneOrSeqVal::new(StrVal::new());
        let v = RecordVal::new()
            .field("instrument", AllOrOneOrSeqVal)
            .optional(
                "name",
                MaybeVal::new(StrippedPatternVal(SAFE_TOKEN)),
                null(),
            )
            .field("selector", AlternateSelectorVal)
            .optional(
                "parental_relationship",
                ParentalRelationshipVal,
                Node::new(NodeValue::Map(vec![
                    ("type".into(), Node::new(NodeValue::Str("trunk".into()))),
                    ("parent".into(), empty_seq()),
                ])),
            )
            .optional(
                "identifiable",
                ChoiceVal::new(&["any", "only", "none"]),
                Node::new(NodeValue::Str("any".into())),
            )
            .optional("fields", MaybeVal::new(strings()), empty_seq())
            .optional("calculations", MaybeVal::new(strings()), empty_seq())
            .optional(
                "meta",
                MaybeVal::new(OneOrSeqVal::new(MetadataFieldVal)),
                null(),
            )
            .optional(
                "post_load_calculations",
                OneOrSeqVal::new(
                    RecordVal::new()
                        .field("name", StrippedPatternVal(SAFE_TOKEN))
                        .field("type", ChoiceVal::new(&DataType::NAMES))
                        .field("expression", StrippedStrVal),
                ),
                empty_seq(),
            )
            .validate(node)?;
        let instrument = field(&v, "instrument");
        let empty = |n: &Node| n.as_seq().is_some_and(<[Node]>::is_empty);
        if empty(instrument) {
            return Err(Error::new("Assessment does not specify any instruments")
                .wrap_with("While validating field:", "instrument"));
        }
        let mut entries = v.as_map().unwrap_or_default().to_vec();
        if instrument.as_str() == Some("@ALL") {
            let seq_not_empty = |name| field(&v, name).as_seq().is_none_or(|s| !s.is_empty());
            if !field(&v, "name").is_null()
                || seq_not_empty("fields")
                || seq_not_empty("calculations")
                || !empty(field(&v, "post_load_calculations"))
            {
                return Err(Error::new(
                    "The \"name\", \"fields\", \"calculations\", and \"post_load_calculations\" \
                     properties are not allowed when @ALL is specified for the instrument.",
                ));
            }
            return Ok(v);
        }
        match field(&v, "name").as_str().filter(|n| !n.is_empty()) {
            None => {
                let first = instrument
                    .as_seq()
                    .and_then(|s| s.first())
                    .and_then(Node::as_str)
                    .unwrap_or_default();
                let name = make_safe_token(first, self.max_name_length)
                    .map_err(|e| e.wrap_with("While validating field:", "name"))?;
                if let Some(e) = entries.iter_mut().find(|(k, _)| k == "name") {
                    e.1 = Node::new(NodeValue::Str(name));
                }
            }
            Some(name) => {
                let max = self.max_name_length.saturating_sub(3);
                if name.chars().count() > max {
                    return Err(
                        Error::new(format!("Name cannot be longer than {max} characters"))
                            .wrap_with("Got:", name)
                            .wrap_with("While validating field:", "name"),
                    );
                }
            }
        }
        let meta = field(&v, "meta");
        if field(&v, "fields").is_null()
            && field(&v, "calculations").is_null()
            && (meta.is_null() || empty(meta))
        {
            return Err(Error::new(
                "Assessment does not include any fields, calculations, or metadata",
            ));
        }
        let names: Vec<&str> = field(&v, "post_load_calculations")
            .as_seq()
            .unwrap_or_default()
            .iter()
            .filter_map(|c| c.get("name").and_then(Node::as_str))
            .collect();
        let dups = duplicates(&names);
        if !dups.is_empty() {
            return Err(Error::new(format!(
                "Calculation Names ({}) cannot be duplicated within an Assessment",
                dups.join(", ")
            ))
            .wrap_with("While validating field:", "post_load_calculations"));
        }
        Ok(with_value(&v, NodeValue::Map(entries)))
    }
}

/// A stripped string matching a pattern (`StrippedStrVal(pattern)`).
struct StrippedPatternVal(&'static str);

impl Validator for StrippedPatternVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let v = StrVal::pattern(self.0).validate(node)?;
        Ok(with_value(
            &v,
            NodeValue::Str(py_strip(v.as_str().unwrap_or_default())),
        ))
    }
}

/// `DynamicAssessmentVal`: a registered definer and its options.
pub struct DynamicAssessmentVal;

impl Validator for DynamicAssessmentVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let v = RecordVal::new()
            .field("dynamic", StrippedStrVal)
            .optional("options", MapVal::any(), empty_map())
            .validate(node)?;
        let id = field(&v, "dynamic").as_str().unwrap_or_default();
        if !super::definers::is_known(id) {
            return Err(Error::new("Unknown Definer ID")
                .wrap_with("Got:", id)
                .wrap_with("While validating field:", "dynamic"));
        }
        Ok(v)
    }
}

/// An item of `assessments`: an assessment definition or a dynamic one.
pub fn assessment_union_val(settings: &MartSettings) -> UnionVal {
    UnionVal(vec![
        (
            Test::Field("instrument".into()),
            Box::new(AssessmentDefinitionVal {
                max_name_length: settings.max_name_length,
            }),
        ),
        (
            Test::Field("dynamic".into()),
            Box::new(DynamicAssessmentVal),
        ),
    ])
}

/// `MartConfigurationVal`: a whole `mart.yaml`.
pub struct MartConfigurationVal {
    pub settings: MartSettings,
    pub instruments: Option<InstrumentLister>,
}

impl Validator for MartConfigurationVal {
    fn validate(&self, node: &Node) -> Result<Node> {
        let v = RecordVal::new()
            .optional(
                "definitions",
                SeqVal::new(DefinitionVal {
                    settings: self.settings.clone(),
                    instruments: self.instruments.clone(),
                }),
                empty_seq(),
            )
            .validate(node)?;
        let defs = field(&v, "definitions").as_seq().unwrap_or_default();
        let ids: Vec<&str> = defs
            .iter()
            .filter_map(|d| d.get("id").and_then(Node::as_str))
            .collect();
        let dups = duplicates(&ids);
        if !dups.is_empty() {
            return Err(Error::new(format!(
                "Definition IDs ({}) cannot be duplicated within a collection",
                dups.join(", ")
            )));
        }
        let targets: Vec<&str> = defs
            .iter()
            .filter_map(|d| d.get("base"))
            .filter(|b| b.get("type").and_then(Node::as_str) == Some("existing"))
            .filter_map(|b| b.get("target").and_then(Node::as_str))
            .collect();
        let dups = duplicates(&targets);
        if !dups.is_empty() {
            return Err(Error::new(format!(
                "Multiple definitions attempt to write to the same existing database(s): {}",
                dups.join(", ")
            )));
        }
        Ok(v)
    }
}

fn convert_parameters(node: &Node) -> Vec<Parameter> {
    node.as_seq()
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let data_type = DataType::from_name(field(p, "type").as_str().unwrap_or_default())
                .unwrap_or(DataType::Text);
            let required = field(p, "required").as_bool().unwrap_or(false);
            let default = field(p, "default");
            Parameter {
                name: opt_str(field(p, "name")).unwrap_or_default(),
                data_type,
                default: if required {
                    None
                } else if default.is_null() {
                    Some(ParamValue::Null)
                } else {
                    // Validated above; a failure here cannot happen.
                    Some(data_type.coerce(default).unwrap_or(ParamValue::Null))
                },
            }
        })
        .collect()
}

fn convert_scripts(node: &Node) -> Vec<EtlScript> {
    node.as_seq()
        .unwrap_or_default()
        .iter()
        .map(|s| EtlScript {
            script: opt_str(field(s, "script")).unwrap_or_default(),
            script_type: if field(s, "type").as_str() == Some("sql") {
                ScriptType::Sql
            } else {
                ScriptType::Htsql
            },
            parameters: field(s, "parameters")
                .as_map()
                .unwrap_or_default()
                .iter()
                .map(|(k, v)| (k.clone(), ParamValue::from_node(v)))
                .collect(),
        })
        .collect()
}

/// The definitions of one application, in file order.
#[derive(Clone, Debug, Default)]
pub struct Definitions {
    pub items: Vec<Definition>,
}

impl Definitions {
    /// Reads and validates `<app_dir>/mart.yaml` (none: no definitions), `@ALL`
    /// kept as written. Errors name the file (`While retrieving definitions from:`)
    /// and the definition.
    pub fn load(app_dir: &Path, settings: &MartSettings) -> Result<Definitions> {
        Definitions::load_with(app_dir, settings, None)
    }

    /// [`Definitions::load`], `@ALL` expanded with `instruments`.
    pub fn load_with(
        app_dir: &Path,
        settings: &MartSettings,
        instruments: Option<InstrumentLister>,
    ) -> Result<Definitions> {
        let path = app_dir.join("mart.yaml");
        if !path.is_file() {
            return Ok(Definitions::default());
        }
        let from = |e: Error| e.wrap_with("While retrieving definitions from:", path.display());
        let root = load_file(&path).map_err(from)?;
        let raw = RecordVal::open()
            .optional("definitions", MaybeVal::new(SeqVal::new(AnyVal)), null())
            .validate(&root)
            .map_err(from)?;
        let mut items = Vec::new();
        for item in field(&raw, "definitions").as_seq().unwrap_or_default() {
            let mut item = item.clone();
            if let NodeValue::Map(entries) = &mut item.value {
                if !entries.iter().any(|(k, _)| k == "base_path") {
                    entries.push((
                        "base_path".into(),
                        Node::new(NodeValue::Str(app_dir.display().to_string())),
                    ));
                }
            }
            let def = validate_definition(&item, settings, instruments.clone()).map_err(|e| {
                let e = match item.get("id").and_then(Node::as_str) {
                    Some(id) => e.wrap_with("While validating definition:", id),
                    None => e,
                };
                from(e)
            })?;
            items.push(def);
        }
        let mut dups: Vec<&str> = Vec::new();
        for (i, d) in items.iter().enumerate() {
            if items[..i].iter().any(|o| o.id == d.id) && !dups.contains(&d.id.as_str()) {
                dups.push(&d.id);
            }
        }
        if !dups.is_empty() {
            return Err(from(Error::new(format!(
                "Definition IDs ({}) cannot be duplicated within a collection",
                dups.join(", ")
            ))));
        }
        Ok(Definitions { items })
    }

    /// The definitions of an application, with its `mart_*` settings and `@ALL`
    /// expanded to its instruments. Call it when the application starts so a bad
    /// definition fails start-up, as in rex.
    pub fn for_app(app: &crate::core::app::App) -> Result<Definitions> {
        let settings = MartSettings::from_settings(&app.settings)?;
        // Without a PostgreSQL database (a `sqlite:` db) there are no instruments to
        // list: `@ALL` stays as written, and what needs the database says so later.
        let instruments = (!app.db.is_absent()).then(|| app_instruments(app.db.clone()));
        Definitions::load_with(&app.dir, &settings, instruments)
    }

    pub fn get(&self, id: &str) -> Option<&Definition> {
        self.items.iter().find(|d| d.id == id)
    }

    pub fn ids(&self) -> Vec<&str> {
        self.items.iter().map(|d| d.id.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::yaml::load_str;

    fn val(text: &str) -> Result<Definition> {
        validate_definition(
            &load_str(text, "<test>").unwrap(),
            &MartSettings::default(),
            None,
        )
    }

    /// The error without YAML location paragraphs (those are the loader's).
    fn err(text: &str) -> String {
        let e = val(text).unwrap_err();
        let kept: Vec<String> = e
            .paragraphs
            .iter()
            .filter(|p| p.message != "While parsing:")
            .map(|p| p.to_string())
            .collect();
        kept.join("\n")
    }

    #[test]
    fn demo_definitions_load_in_file_order() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("definitions/rex.mart_demo");
        let defs = Definitions::load(&dir, &MartSettings::default()).unwrap();
        assert_eq!(
            defs.ids()[..4],
            [
                "empty",
                "just_copy",
                "just_copy_missing",
                "just_copy_application"
            ]
        );
        let empty = defs.get("empty").unwrap();
        assert_eq!(empty.label, "empty");
        assert_eq!(empty.base.name_token.as_deref(), Some("empty_"));
        assert_eq!(empty.base.base_type, BaseType::Fresh);
        assert_eq!(empty.quota_per_owner, 3);
        assert!(empty.deploy.is_none() && empty.post_deploy_scripts.is_empty());
        assert_eq!(empty.base_path.as_deref(), Some(dir.as_path()));
        let broken = defs.get("broken_htsql").unwrap();
        assert_eq!(
            broken.description.as_deref(),
            Some("Definition with a broken HTSQL ETL script")
        );
        assert_eq!(broken.deploy.as_ref().unwrap().as_seq().unwrap().len(), 1);
        assert_eq!(broken.post_deploy_scripts[0].script_type, ScriptType::Htsql);
        assert!(broken.post_deploy_scripts[0]
            .script
            .starts_with("/people{\n        first_name :as col1"));
        let params = &defs
            .get("some_data_with_params")
            .unwrap()
            .post_deploy_scripts[1];
        assert_eq!(
            params.parameters[0],
            ("var1".to_string(), ParamValue::Text("baz".into()))
        );
        let fixed = defs.get("fixed_name").unwrap();
        assert_eq!(fixed.base.fixed_name.as_deref(), Some("a_fixed_name_mart"));
        assert_eq!(defs.get("existing").unwrap().base.name_token, None);
        assert_eq!(defs.get("just_deploy").unwrap().label, "Just Deploy");
    }

    #[test]
    fn field_errors_use_rex_texts() {
        assert_eq!(
            err("id: Foo"),
            "Expected a string matching:\n    /^[a-z_][0-9a-z_]*$/\nGot:\n    'Foo'\nWhile validating field:\n    id"
        );
        assert_eq!(err("label: x"), "Missing mandatory field:\n    id");
        assert_eq!(err("id: x\nbogus: 1"), "Got unexpected field:\n    bogus");
        assert_eq!(
            err("id: x\nbase: {type: something}"),
            "Expected one of:\n    fresh, copy, existing, application\nGot:\n    'something'\nWhile validating field:\n    type\nWhile validating field:\n    base"
        );
        assert_eq!(
            err("id: x\nbase: {type: fresh, target: foo}"),
            "Bases type \"fresh\" cannot have target database names\nGot:\n    'foo'\nWhile validating field:\n    target\nWhile validating field:\n    base"
        );
        assert_eq!(
            err("id: x\nbase: {type: copy}"),
            "Base type of \"copy\" requires a target database name\nGot:\n    None\nWhile validating field:\n    target\nWhile validating field:\n    base"
        );
        assert_eq!(
            err("id: x\nbase: {type: existing, target: db, fixed_name: foo}"),
            "Base type \"existing\" cannot have a fixed name\nGot:\n    'foo'\nWhile validating field:\n    fixed_name\nWhile validating field:\n    base"
        );
        assert_eq!(
            err("id: x\nquota: {per_owner: 0}"),
            "Expected an integer in range:\n    [1..]\nGot:\n    0\nWhile validating field:\n    per_owner\nWhile validating field:\n    quota"
        );
        assert_eq!(
            err("id: x\npost_deploy_scripts: [{script: '  ', type: sql}]"),
            "ETL Scripts cannot be empty\nGot:\n    ''\nWhile validating field:\n    script\nWhile validating sequence item\n    #1\nWhile validating field:\n    post_deploy_scripts"
        );
        assert_eq!(
            err("id: x\nparameters: [{name: foo, type: integer, default: bar}]"),
            "Expected an integer\nGot:\n    'bar'\nWhile validating field:\n    default\nWhile validating sequence item\n    #1\nWhile validating field:\n    parameters"
        );
        assert_eq!(
            err("id: x\nparameters: [{name: a, type: text}, {name: a, type: text}]"),
            "Parameter Names (a) cannot be duplicated within a Definition\nWhile validating field:\n    parameters"
        );
        assert_eq!(
            err("id: x\nprocessors: [{id: nope}]"),
            "Unknown Processor ID\nGot:\n    nope\nWhile validating field:\n    id\nWhile validating sequence item\n    #1\nWhile validating field:\n    processors"
        );
        assert_eq!(
            err("id: a_very_long_definition_identifier_x"),
            "Name Token cannot exceed 33 characters in length\nGot:\n    a_very_long_definition_identifier_x_\nWhile validating field:\n    base.name_token"
        );
        assert_eq!(
            err("id: x\nassessments: [{instrument: '@ALL', selector: /a, name: n}]"),
            "The \"name\", \"fields\", \"calculations\", and \"post_load_calculations\" properties are not allowed when @ALL is specified for the instrument.\nWhile validating sequence item\n    #1\nWhile validating field:\n    assessments"
        );
    }

    #[test]
    fn all_expands_to_one_assessment_per_instrument() {
        let text = "id: x\nassessments:\n  - {instrument: mart1, selector: /a}\n  - {instrument: '@ALL', selector: /b}\n";
        let node = load_str(text, "<test>").unwrap();
        let kept = validate_definition(&node, &MartSettings::default(), None).unwrap();
        assert_eq!(
            kept.assessments[1].get("instrument").unwrap().as_str(),
            Some("@ALL")
        );
        let lister: InstrumentLister = Arc::new(|| Ok(vec!["Alpha-1".into(), "beta".into()]));
        let d = validate_definition(&node, &MartSettings::default(), Some(lister)).unwrap();
        let names: Vec<_> = d
            .assessments
            .iter()
            .map(|a| a.get("name").and_then(Node::as_str).unwrap_or_default())
            .collect();
        assert_eq!(names, ["mart1", "alpha_1", "beta"]);
        let clash: InstrumentLister = Arc::new(|| Ok(vec!["mart1".into()]));
        let e = validate_definition(&node, &MartSettings::default(), Some(clash)).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("Assessment Names (mart1) cannot be duplicated within a Definition"));
    }

    #[test]
    fn parameters_and_defaults() {
        let d = val("id: p\nlabel: ''\nquota: {}\nparameters:\n  - {name: foo, type: text, default: somefoo}\n  - {name: bar, type: integer}\n  - {name: baz, type: date, default: null}\n").unwrap();
        assert_eq!(d.label, "p");
        assert_eq!(d.quota_per_owner, 3);
        assert_eq!(
            d.parameters[0].default,
            Some(ParamValue::Text("somefoo".into()))
        );
        assert_eq!(d.parameters[1].default, None);
        assert_eq!(d.parameters[2].default, Some(ParamValue::Null));
    }

    #[test]
    fn a_bad_file_names_file_definition_and_field() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("mart.yaml"),
            "definitions:\n  - id: ok\n  - id: bad\n    base: {type: copy}\n",
        )
        .unwrap();
        let e = Definitions::load(dir.path(), &MartSettings::default())
            .unwrap_err()
            .to_string();
        let path = dir.path().join("mart.yaml").display().to_string();
        assert!(e.contains("While validating field:\n    base\n"), "{e}");
        assert!(e.contains("While validating definition:\n    bad\n"), "{e}");
        assert!(
            e.ends_with(&format!("While retrieving definitions from:\n    {path}")),
            "{e}"
        );
        std::fs::write(
            dir.path().join("mart.yaml"),
            "definitions:\n  - id: a\n  - id: a\n",
        )
        .unwrap();
        let e = Definitions::load(dir.path(), &MartSettings::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("Definition IDs (a) cannot be duplicated within a collection\n"),
            "{e}"
        );
    }
}
