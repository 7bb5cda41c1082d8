//! Assessment fields (rex.mart's `fields`): the column an instrument field becomes
//! in a mart table, how a value is cast into it, and how fields of several
//! instrument versions merge into the lowest common type. Values are
//! [`FieldValue`]s; errors quote the value as the caller shows it (`repr`).

use super::definition::make_safe_token;
use crate::core::repr::{py_float_repr, py_str_repr};
use crate::core::{Error, Result};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// The field types, by their rex names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Integer,
    Float,
    Boolean,
    Date,
    Time,
    DateTime,
    Enumeration,
    EnumerationSet,
    Json,
}

impl FieldType {
    pub const ALL: [FieldType; 10] = [
        FieldType::Text,
        FieldType::Integer,
        FieldType::Float,
        FieldType::Boolean,
        FieldType::Date,
        FieldType::Time,
        FieldType::DateTime,
        FieldType::Enumeration,
        FieldType::EnumerationSet,
        FieldType::Json,
    ];

    /// `text`, `integer` ... `enumerationSet`, `json` (the instrument type names).
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Integer => "integer",
            FieldType::Float => "float",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Time => "time",
            FieldType::DateTime => "dateTime",
            FieldType::Enumeration => "enumeration",
            FieldType::EnumerationSet => "enumerationSet",
            FieldType::Json => "json",
        }
    }

    pub fn from_name(name: &str) -> Option<FieldType> {
        FieldType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The Python class rex names the field after (`TextField` ...).
    pub fn class_name(self) -> &'static str {
        match self {
            FieldType::Text => "TextField",
            FieldType::Integer => "IntegerField",
            FieldType::Float => "FloatField",
            FieldType::Boolean => "BooleanField",
            FieldType::Date => "DateField",
            FieldType::Time => "TimeField",
            FieldType::DateTime => "DateTimeField",
            FieldType::Enumeration => "EnumerationField",
            FieldType::EnumerationSet => "EnumerationSetField",
            FieldType::Json => "JsonField",
        }
    }

    fn is_enumeration(self) -> bool {
        matches!(self, FieldType::Enumeration | FieldType::EnumerationSet)
    }

    /// The type two versions of a field merge into (`LOWEST_COMMON_FIELD_TYPES`).
    pub fn lowest_common(self, incoming: FieldType) -> Option<FieldType> {
        use FieldType::*;
        let scalar = |t: FieldType| !matches!(t, EnumerationSet | Json);
        Some(match (self, incoming) {
            (Json, _) | (_, Json) => return None,
            (EnumerationSet, Enumeration | EnumerationSet) => EnumerationSet,
            (EnumerationSet, _) => return None,
            (Enumeration, Enumeration) => Enumeration,
            (Enumeration, EnumerationSet) => EnumerationSet,
            (_, EnumerationSet) => return None,
            (a, b) if a == b => a,
            (Integer | Boolean, Integer) | (Integer, Boolean) => Integer,
            (Integer | Float | Boolean, Float) | (Float, Integer | Boolean) => Float,
            (Date, DateTime) | (DateTime, Date) => DateTime,
            (a, b) if scalar(a) && scalar(b) => Text,
            _ => return None,
        })
    }
}

/// A value to cast: what a script passes, or what an assessment holds.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A `decimal.Decimal`, by its text.
    Decimal(String),
    Text(String),
    Date(NaiveDate),
    Time(NaiveTime),
    DateTime(NaiveDateTime),
    List(Vec<FieldValue>),
    Tuple(Vec<FieldValue>),
    Map(Vec<(String, FieldValue)>),
    /// Anything else (no coercion accepts it).
    Other,
}

impl FieldValue {
    fn truthy(&self) -> bool {
        match self {
            FieldValue::Null => false,
            FieldValue::Bool(b) => *b,
            FieldValue::Int(i) => *i != 0,
            FieldValue::Float(f) => *f != 0.0,
            FieldValue::Decimal(d) => d.parse::<f64>().is_ok_and(|f| f != 0.0),
            FieldValue::Text(s) => !s.is_empty(),
            FieldValue::List(v) | FieldValue::Tuple(v) => !v.is_empty(),
            FieldValue::Map(m) => !m.is_empty(),
            _ => true,
        }
    }

    /// Python's `str(value)` for the scalars rex casts to text.
    fn py_str(&self) -> Option<String> {
        Some(match self {
            FieldValue::Null => "None".into(),
            FieldValue::Bool(true) => "True".into(),
            FieldValue::Bool(false) => "False".into(),
            FieldValue::Int(i) => i.to_string(),
            FieldValue::Float(f) => py_float_repr(*f),
            FieldValue::Decimal(d) => d.clone(),
            FieldValue::Text(s) => s.clone(),
            FieldValue::Date(d) => d.format("%Y-%m-%d").to_string(),
            FieldValue::Time(t) => iso_time(t),
            FieldValue::DateTime(dt) => {
                format!("{} {}", dt.format("%Y-%m-%d"), iso_time(&dt.time()))
            }
            _ => return None,
        })
    }

    /// `json.dumps(value, cls=RestfulJSONEncoder)`.
    pub fn to_json(&self) -> String {
        match self {
            FieldValue::Null | FieldValue::Other => "null".into(),
            FieldValue::Bool(b) => b.to_string(),
            FieldValue::Int(i) => i.to_string(),
            FieldValue::Float(f) => json_float(*f),
            FieldValue::Decimal(d) => json_float(d.parse().unwrap_or(f64::NAN)),
            FieldValue::Text(s) => json_str(s),
            FieldValue::Date(d) => json_str(&d.format("%Y-%m-%d").to_string()),
            FieldValue::Time(t) => json_str(&iso_time(t)),
            FieldValue::DateTime(dt) => json_str(&format!(
                "{}.{:03}Z",
                dt.format("%Y-%m-%dT%H:%M:%S"),
                dt.nanosecond() / 1_000_000
            )),
            FieldValue::List(v) | FieldValue::Tuple(v) => {
                let parts: Vec<String> = v.iter().map(FieldValue::to_json).collect();
                format!("[{}]", parts.join(", "))
            }
            FieldValue::Map(m) => {
                let parts: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{}: {}", json_str(k), v.to_json()))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
        }
    }
}

fn json_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        py_float_repr(f)
    }
}

fn json_str(s: &str) -> String {
    crate::core::repr::py_json_str(s, true)
}

/// `time.isoformat()`: seconds, and microseconds when there are some.
fn iso_time(t: &NaiveTime) -> String {
    let us = t.nanosecond() / 1000;
    let base = t.format("%H:%M:%S").to_string();
    if us == 0 {
        base
    } else {
        format!("{base}.{us:06}")
    }
}

/// Python's `int(str)`.
fn parse_int(s: &str) -> Option<i64> {
    crate::core::validate::python_int(s)
}

/// Python's `float(str)`.
fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim().replace('_', "");
    match t.to_ascii_lowercase().trim_start_matches(['+', '-']) {
        "nan" | "inf" | "infinity" => {}
        other if other.chars().any(|c| c.is_ascii_alphabetic() && c != 'e') => return None,
        _ => {}
    }
    t.parse().ok()
}

/// Python's `int(float)` (truncation; NaN and infinities fail).
fn float_to_int(f: f64) -> Option<i64> {
    (f.is_finite() && f.abs() < 9.2e18).then_some(f.trunc() as i64)
}

fn strip_micros(t: NaiveTime) -> NaiveTime {
    t.with_nanosecond(0).unwrap_or(t)
}

/// One mart column made of an instrument field (rex's `SimpleField` family).
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub field_type: FieldType,
    pub name: String,
    target_name: String,
    forced_target_name: Option<String>,
    /// Instrument version -> the field's type in that version.
    pub version_mapping: Vec<(String, FieldType)>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub source: Option<String>,
    /// Enumeration fields: the choices, in order.
    pub enumerations: Vec<String>,
    pub enumeration_descriptions: Vec<(String, String)>,
}

/// A column value: what a cast produces.
#[derive(Clone, Debug, PartialEq)]
pub enum Cast {
    Value(FieldValue),
    /// `enumerationSet`: the choices given.
    Choices(Vec<String>),
}

impl Field {
    /// A field named `name` (its column name is the safe token made of it).
    pub fn new(
        field_type: FieldType,
        name: &str,
        instrument_version: Option<&str>,
        max_name_length: usize,
    ) -> Result<Field> {
        let target_name = make_safe_token(name, max_name_length)?;
        Ok(Field {
            field_type,
            name: name.to_string(),
            title: (target_name != name).then(|| name.to_string()),
            target_name,
            forced_target_name: None,
            version_mapping: instrument_version
                .filter(|v| !v.is_empty())
                .map(|v| vec![(v.to_string(), field_type)])
                .unwrap_or_default(),
            description: None,
            source: None,
            enumerations: Vec::new(),
            enumeration_descriptions: Vec::new(),
        })
    }

    pub fn target_name(&self) -> &str {
        self.forced_target_name
            .as_deref()
            .unwrap_or(&self.target_name)
    }

    pub fn force_target_name(&mut self, name: &str) {
        self.forced_target_name = Some(name.to_string());
    }

    fn cast_error(&self, repr: &str) -> Error {
        let t = self.field_type.name();
        if self.field_type.is_enumeration() {
            Error::new(format!(
                "Cannot cast value to type \"{t}({}): {repr}",
                self.enumerations.join(",")
            ))
        } else {
            Error::new(format!("Cannot cast value to type \"{t}\": {repr}"))
        }
    }

    /// `map_assessment_value`: an assessment's value (`value`, written by
    /// `instrument_version`) cast from that version's type into this field's.
    pub fn map_assessment_value(
        &self,
        value: &FieldValue,
        instrument_version: &str,
        repr: &str,
    ) -> Result<FieldValue> {
        use FieldType::*;
        if *value == FieldValue::Null {
            return Ok(FieldValue::Null);
        }
        let Some((_, original)) = self
            .version_mapping
            .iter()
            .find(|(v, _)| v == instrument_version)
        else {
            return Err(Error::new("Unknown InstrumentVersion encountered"));
        };
        let fail = || {
            Error::new(format!(
                "Cannot cast value to type \"{}\": {repr}",
                self.field_type.name()
            ))
        };
        let text = || value.py_str().map(FieldValue::Text).ok_or_else(fail);
        let as_float = || match value {
            FieldValue::Int(i) => Ok(FieldValue::Float(*i as f64)),
            FieldValue::Float(f) => Ok(FieldValue::Float(*f)),
            FieldValue::Bool(b) => Ok(FieldValue::Float(*b as i64 as f64)),
            FieldValue::Text(s) => parse_float(s).map(FieldValue::Float).ok_or_else(fail),
            _ => Err(fail()),
        };
        let boolean =
            |t: &str, f: &str| FieldValue::Text(if value.truthy() { t } else { f }.to_string());
        Ok(match (self.field_type, *original) {
            (Text, Boolean) => boolean("TRUE", "FALSE"),
            (Text, Text | Integer | Float | Date | Time | DateTime | Enumeration) => text()?,
            (Integer, Integer) | (Float, Float) | (Boolean, Boolean) => value.clone(),
            (Date, Date) | (Time, Time) | (DateTime, DateTime) => value.clone(),
            (Enumeration, Enumeration) | (EnumerationSet, EnumerationSet) => value.clone(),
            (Integer, Float) => match value {
                FieldValue::Float(f) => FieldValue::Int(float_to_int(*f).ok_or_else(fail)?),
                FieldValue::Int(i) => FieldValue::Int(*i),
                FieldValue::Text(s) => FieldValue::Int(parse_int(s).ok_or_else(fail)?),
                _ => return Err(fail()),
            },
            (Integer, Boolean) => FieldValue::Int(value.truthy() as i64),
            (Float, Integer) => as_float()?,
            (Float, Boolean) => FieldValue::Float(if value.truthy() { 1.0 } else { 0.0 }),
            (DateTime, Date) => {
                FieldValue::Text(format!("{}T00:00:00", value.py_str().ok_or_else(fail)?))
            }
            (EnumerationSet, Enumeration) => FieldValue::List(vec![value.clone()]),
            _ => return Err(fail()),
        })
    }

    /// `default_coercion`: a value of any Python type cast into this field's type.
    pub fn coerce(&self, value: &FieldValue, repr: &str) -> Result<Cast> {
        use FieldType::*;
        use FieldValue as V;
        let fail = || self.cast_error(repr);
        let tf = |b: bool| if b { "TRUE" } else { "FALSE" }.to_string();
        let text = |v: &FieldValue| -> Option<String> {
            Some(match v {
                V::Text(s) => s.clone(),
                V::Int(_) | V::Float(_) | V::Decimal(_) | V::Date(_) => v.py_str()?,
                V::Bool(b) => tf(*b),
                V::Time(t) => iso_time(&strip_micros(*t)),
                V::DateTime(dt) => format!(
                    "{}T{}",
                    dt.format("%Y-%m-%d"),
                    iso_time(&strip_micros(dt.time()))
                ),
                _ => return None,
            })
        };
        if *value == V::Null && self.field_type != Json {
            return Ok(Cast::Value(V::Null));
        }
        let out = match self.field_type {
            Text | Enumeration => V::Text(text(value).ok_or_else(fail)?),
            Integer => V::Int(
                match value {
                    V::Text(s) => parse_int(s),
                    V::Int(i) => Some(*i),
                    V::Float(f) => float_to_int(*f),
                    V::Decimal(d) => d.parse::<f64>().ok().and_then(float_to_int),
                    V::Bool(b) => Some(*b as i64),
                    _ => None,
                }
                .ok_or_else(fail)?,
            ),
            Float => V::Float(
                match value {
                    V::Text(s) => parse_float(s),
                    V::Int(i) => Some(*i as f64),
                    V::Float(f) => Some(*f),
                    V::Decimal(d) => parse_float(d),
                    V::Bool(b) => Some(*b as i64 as f64),
                    _ => None,
                }
                .ok_or_else(fail)?,
            ),
            Boolean => match value {
                V::Text(_) | V::Int(_) | V::Float(_) | V::Decimal(_) | V::Bool(_) => {
                    V::Bool(value.truthy())
                }
                _ => return Err(fail()),
            },
            Date => match value {
                V::Text(s) => {
                    V::Date(NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| fail())?)
                }
                V::Date(d) => V::Date(*d),
                V::DateTime(dt) => V::Date(dt.date()),
                _ => return Err(fail()),
            },
            Time => match value {
                V::Text(s) => {
                    V::Time(NaiveTime::parse_from_str(s, "%H:%M:%S").map_err(|_| fail())?)
                }
                V::Time(t) => V::Time(*t),
                V::DateTime(dt) => V::Time(dt.time()),
                _ => return Err(fail()),
            },
            DateTime => match value {
                V::Text(s) => V::DateTime(
                    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").map_err(|_| fail())?,
                ),
                V::Date(d) => V::DateTime(d.and_time(NaiveTime::MIN)),
                V::DateTime(dt) => V::DateTime(*dt),
                _ => return Err(fail()),
            },
            EnumerationSet => {
                let choices = match value {
                    V::List(items) | V::Tuple(items) => items
                        .iter()
                        .map(|i| match i {
                            V::Text(s) => Some(s.clone()),
                            _ => None,
                        })
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(fail)?,
                    other => vec![text(other).ok_or_else(fail)?],
                };
                if choices.iter().any(|c| !self.enumerations.contains(c)) {
                    return Err(fail());
                }
                return Ok(Cast::Choices(choices));
            }
            Json => V::Text(value.to_json()),
        };
        if self.field_type == Enumeration {
            if let V::Text(s) = &out {
                if !self.enumerations.contains(s) {
                    return Err(fail());
                }
            }
        }
        Ok(Cast::Value(out))
    }

    /// The column name of one choice of an `enumerationSet` field.
    pub fn enum_target_name(&self, choice: &str) -> String {
        let token = clean_token(choice);
        format!("{}_{token}", self.target_name())
    }

    /// `get_value_mapping`: column -> value for one value (cast from the version's
    /// type first when `instrument_version` is given).
    pub fn value_mapping(
        &self,
        value: &FieldValue,
        instrument_version: Option<&str>,
        repr: &str,
    ) -> Result<Vec<(String, FieldValue)>> {
        if self.field_type == FieldType::Json {
            return Ok(vec![(
                self.target_name().to_string(),
                FieldValue::Text(value.to_json()),
            )]);
        }
        let mapped;
        let (value, repr) = match instrument_version.filter(|v| !v.is_empty()) {
            Some(version) => {
                mapped = self.map_assessment_value(value, version, repr)?;
                (&mapped, repr_of_mapped(&mapped, repr))
            }
            None => (value, repr.to_string()),
        };
        Ok(match self.coerce(value, &repr)? {
            Cast::Value(FieldValue::Null) if self.field_type == FieldType::EnumerationSet => {
                Vec::new()
            }
            Cast::Value(v) => vec![(self.target_name().to_string(), v)],
            Cast::Choices(choices) => choices
                .iter()
                .map(|c| (self.enum_target_name(c), FieldValue::Bool(true)))
                .collect(),
        })
    }

    /// `get_deploy_facts`: the rex.deploy column facts of the field in `table`.
    pub fn deploy_facts(&self, table: &str) -> Vec<ColumnFact> {
        match self.field_type {
            FieldType::EnumerationSet => self
                .enumerations
                .iter()
                .map(|e| ColumnFact {
                    column: self.enum_target_name(e),
                    of: table.to_string(),
                    column_type: ColumnType::Named("boolean".into()),
                    default_false: true,
                })
                .collect(),
            t => vec![ColumnFact {
                column: self.target_name().to_string(),
                of: table.to_string(),
                column_type: if t == FieldType::Enumeration {
                    ColumnType::Choices(self.enumerations.clone())
                } else {
                    ColumnType::Named(t.name().to_lowercase())
                },
                default_false: false,
            }],
        }
    }

    /// `merge`: this field (`self`, already in the table) and `incoming` (another
    /// version of it) as one field of their lowest common type.
    pub fn merge(&self, incoming: &Field) -> Result<Field> {
        let Some(t) = self.field_type.lowest_common(incoming.field_type) else {
            return Err(Error::new(format!(
                "Cannot merge fields of types {} and {} ({})",
                self.field_type.name(),
                incoming.field_type.name(),
                incoming.name
            )));
        };
        let mut field = Field {
            field_type: t,
            forced_target_name: None,
            version_mapping: self.version_mapping.clone(),
            title: incoming.title.clone().or_else(|| self.title.clone()),
            description: incoming
                .description
                .clone()
                .or_else(|| self.description.clone()),
            source: incoming.source.clone().or_else(|| self.source.clone()),
            enumerations: Vec::new(),
            enumeration_descriptions: Vec::new(),
            ..self.clone()
        };
        for (v, ty) in &incoming.version_mapping {
            match field.version_mapping.iter_mut().find(|(k, _)| k == v) {
                Some(e) => e.1 = *ty,
                None => field.version_mapping.push((v.clone(), *ty)),
            }
        }
        if t.is_enumeration() {
            for previous in [self, incoming] {
                if previous.field_type.is_enumeration() {
                    for e in &previous.enumerations {
                        if !field.enumerations.contains(e) {
                            field.enumerations.push(e.clone());
                        }
                    }
                    for (k, d) in &previous.enumeration_descriptions {
                        match field
                            .enumeration_descriptions
                            .iter_mut()
                            .find(|(x, _)| x == k)
                        {
                            Some(e) => e.1 = d.clone(),
                            None => field.enumeration_descriptions.push((k.clone(), d.clone())),
                        }
                    }
                }
            }
        }
        Ok(field)
    }
}

/// The `repr` of a value cast by `map_assessment_value` (errors of the later
/// coercion quote the cast value).
fn repr_of_mapped(value: &FieldValue, original: &str) -> String {
    match value {
        FieldValue::Text(s) => py_str_repr(s),
        FieldValue::Int(i) => i.to_string(),
        FieldValue::Float(f) => py_float_repr(*f),
        FieldValue::Bool(b) => if *b { "True" } else { "False" }.into(),
        FieldValue::Null => "None".into(),
        _ => original.to_string(),
    }
}

/// `make_safe_token(name, trim=False)`: lower case, `-` to `_`, others dropped.
pub fn clean_token(token: &str) -> String {
    let mut safe = token.to_lowercase().replace('-', "_");
    if safe == "id" {
        safe = "id_".into();
    }
    safe.retain(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    safe
}

/// A column's type in a deploy fact: a type name or enumeration choices.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnType {
    Named(String),
    Choices(Vec<String>),
}

/// One rex.deploy `column` fact of a field.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnFact {
    pub column: String,
    pub of: String,
    pub column_type: ColumnType,
    /// `default: false` (the boolean columns of an enumeration set).
    pub default_false: bool,
}

/// `make_field`: a field of the instrument type named `base`.
pub fn make_field(
    base: &str,
    name: &str,
    enumerations: Vec<String>,
    instrument_version: Option<&str>,
    max_name_length: usize,
) -> Result<Field> {
    let Some(t) = FieldType::from_name(base) else {
        return Err(Error::new(format!("Cannot map fields of type \"{base}\"")));
    };
    let mut field = Field::new(t, name, instrument_version, max_name_length)?;
    if t.is_enumeration() {
        field.enumerations = enumerations;
    }
    Ok(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(t: FieldType) -> Field {
        Field::new(t, "test", None, 63).unwrap()
    }

    fn cast(t: FieldType, v: FieldValue, repr: &str) -> std::result::Result<Cast, String> {
        field(t).coerce(&v, repr).map_err(|e| e.to_string())
    }

    #[test]
    fn coercions_follow_python_types() {
        use FieldValue as V;
        assert_eq!(
            cast(FieldType::Text, V::Float(1.23), "1.23"),
            Ok(Cast::Value(V::Text("1.23".into())))
        );
        assert_eq!(
            cast(FieldType::Integer, V::Text("foo".into()), "'foo'"),
            Err("Cannot cast value to type \"integer\": 'foo'".into())
        );
        assert_eq!(
            cast(FieldType::Integer, V::Decimal("1.9".into()), "x"),
            Ok(Cast::Value(V::Int(1)))
        );
        assert_eq!(
            cast(FieldType::Boolean, V::Text("".into()), "''"),
            Ok(Cast::Value(V::Bool(false)))
        );
        let mut e = field(FieldType::EnumerationSet);
        e.enumerations = vec!["a".into(), "b-c".into()];
        assert_eq!(
            e.value_mapping(&V::Tuple(vec![V::Text("b-c".into())]), None, "")
                .unwrap(),
            vec![("test_b_c".to_string(), V::Bool(true))]
        );
        assert_eq!(
            e.coerce(&V::Int(1), "1").unwrap_err().to_string(),
            "Cannot cast value to type \"enumerationSet(a,b-c): 1"
        );
        assert_eq!(
            V::DateTime(
                NaiveDate::from_ymd_opt(2015, 5, 22)
                    .unwrap()
                    .and_hms_opt(1, 2, 3)
                    .unwrap()
            )
            .to_json(),
            "\"2015-05-22T01:02:03.000Z\""
        );
        assert_eq!(V::Text("é\"".into()).to_json(), "\"\\u00e9\\\"\"");
    }

    #[test]
    fn merging_takes_the_lowest_common_type() {
        use FieldType::*;
        assert_eq!(Integer.lowest_common(Float), Some(Float));
        assert_eq!(Boolean.lowest_common(Integer), Some(Integer));
        assert_eq!(Date.lowest_common(DateTime), Some(DateTime));
        assert_eq!(Time.lowest_common(Date), Some(Text));
        assert_eq!(
            Enumeration.lowest_common(EnumerationSet),
            Some(EnumerationSet)
        );
        assert_eq!(Date.lowest_common(EnumerationSet), None);
        assert_eq!(EnumerationSet.lowest_common(Text), None);
        let a = Field::new(Text, "q", Some("1"), 63).unwrap();
        let b = Field::new(Integer, "q", Some("2"), 63).unwrap();
        let m = a.merge(&b).unwrap();
        assert_eq!(m.field_type, Text);
        assert_eq!(
            m.map_assessment_value(&FieldValue::Int(5), "2", "5")
                .unwrap(),
            FieldValue::Text("5".into())
        );
        assert_eq!(
            m.map_assessment_value(&FieldValue::Int(5), "3", "5")
                .unwrap_err()
                .to_string(),
            "Unknown InstrumentVersion encountered"
        );
    }
}
