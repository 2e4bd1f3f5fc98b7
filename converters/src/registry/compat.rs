//! Parsing and compatibility checks.
//!
//! Avro compatibility is apache-avro's `SchemaCompatibility::can_read` (Avro's schema resolution
//! rules: fields added with defaults, removed fields, promotions int→long→float→double,
//! string↔bytes, enum symbols, union branches, fixed sizes, reader field aliases), with two
//! corrections so it answers as Avro Java's `SchemaCompatibility` (what Confluent uses):
//! - apache-avro reports a reader that can read only *some* writer values (an enum symbol missing
//!   without a reader default, a writer union branch the reader lacks) as "partially compatible";
//!   Java calls that incompatible, and so do we;
//! - apache-avro compares named types by unqualified name only and ignores the reader's type
//!   aliases; Java also accepts a reader type whose aliases name the writer type, so before the
//!   check the reader's named types are renamed to the writer names their aliases point at.

use std::collections::{HashMap, HashSet};

use apache_avro::Schema as AvroSchema;
use apache_avro::error::CompatibilityError;
use apache_avro::schema_compatibility::{Compatibility, SchemaCompatibility};
use serde_json::Value;

use super::canonical::{self, declared_name, qualify, split_name};
use super::error::RegistryError;
use super::json_compat;
use super::model::{CompatibilityLevel, SchemaType};

const PRIMITIVES: [&str; 8] = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"];

/// A validated schema.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    pub(crate) schema_type: SchemaType,
    pub(crate) canonical: String,
    json: Value,
    avro: Option<AvroSchema>,
    ref_texts: Vec<String>,
}

/// Validates `text` as a schema of `schema_type`, with the texts of the schemas it references
/// (dependencies first), and computes its canonical text.
pub(crate) fn parse(schema_type: SchemaType, text: &str, ref_texts: Vec<String>) -> Result<Parsed, RegistryError> {
    let invalid = |why: String| RegistryError::InvalidSchema(format!("Invalid {} schema: {why}", schema_type.name()));
    let json: Value = serde_json::from_str(text).map_err(|e| invalid(format!("not JSON: {e}")))?;
    match schema_type {
        SchemaType::Avro => {
            let avro = parse_avro(text, &ref_texts).map_err(invalid)?;
            let canonical = canonical::avro(&json).map_err(invalid)?;
            Ok(Parsed { schema_type, canonical, json, avro: Some(avro), ref_texts })
        }
        SchemaType::Json => {
            if !json.is_object() && !json.is_boolean() {
                return Err(invalid("a JSON Schema must be an object or a boolean".into()));
            }
            let canonical = canonical::json(&json).map_err(invalid)?;
            Ok(Parsed { schema_type, canonical, json, avro: None, ref_texts })
        }
    }
}

fn parse_avro(text: &str, ref_texts: &[String]) -> Result<AvroSchema, String> {
    let parsed = if ref_texts.is_empty() {
        AvroSchema::parse_str(text)
    } else {
        AvroSchema::parse_str_with_list(text, ref_texts).map(|(s, _)| s)
    };
    parsed.map_err(|e| {
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            source = s.source();
        }
        msg
    })
}

/// The messages of every incompatibility of `new` with `previous` (ascending by version) under
/// `level`; empty when compatible. Only the latest previous version counts unless transitive.
pub(crate) fn check(level: CompatibilityLevel, new: &Parsed, previous: &[(i32, Parsed)]) -> Vec<String> {
    if level == CompatibilityLevel::None || previous.is_empty() {
        return Vec::new();
    }
    let against = if level.transitive() { previous } else { &previous[previous.len() - 1..] };
    let mut messages = Vec::new();
    for (version, old) in against.iter().rev() {
        let mut problems = Vec::new();
        if old.schema_type != new.schema_type {
            problems.push("Incompatible because of different schema type".to_owned());
        } else {
            if level.backward() {
                problems.extend(
                    can_read(old, new)
                        .err()
                        .map(|p| format!("{p} (the new schema cannot read data written with version {version})")),
                );
            }
            if level.forward() {
                problems.extend(
                    can_read(new, old)
                        .err()
                        .map(|p| format!("{p} (version {version} cannot read data written with the new schema)")),
                );
            }
        }
        if !problems.is_empty() {
            messages.extend(problems);
            messages.push(format!("{{oldSchemaVersion: {version}}}"));
            messages.push(format!("{{oldSchema: '{}'}}", old.canonical));
        }
    }
    if !messages.is_empty() {
        messages.push(format!("{{compatibility: '{}'}}", level.name()));
    }
    messages
}

/// Whether `reader` reads everything written with `writer`; the problem otherwise.
fn can_read(writer: &Parsed, reader: &Parsed) -> Result<(), String> {
    match (&writer.avro, &reader.avro) {
        (Some(w), Some(r)) => {
            let renamed = reader_with_aliases_applied(writer, reader);
            let r = renamed.as_ref().unwrap_or(r);
            match SchemaCompatibility::can_read(w, r) {
                Ok(Compatibility::Full) => Ok(()),
                Ok(Compatibility::Partial) => Err(
                    "{errorType:'MISSING_ENUM_SYMBOLS_OR_UNION_BRANCHES', description:'the reader lacks an enum symbol (and has no enum default) or a union branch that the writer can write'}"
                        .to_owned(),
                ),
                Err(e) => Err(describe(&e, "")),
            }
        }
        _ => {
            let found = json_compat::incompatibilities(&writer.json, &reader.json);
            if found.is_empty() { Ok(()) } else { Err(found.join(", ")) }
        }
    }
}

/// Confluent-style `{errorType, description}` text for an apache-avro error.
fn describe(e: &CompatibilityError, path: &str) -> String {
    let (kind, what) = match e {
        CompatibilityError::FieldTypeMismatch(field, inner) => return describe(inner, &format!("{path}/{field}")),
        CompatibilityError::MissingDefaultValue(f) => (
            "READER_FIELD_MISSING_DEFAULT_VALUE",
            format!("the field '{f}' in the reader has no default value and is missing in the writer"),
        ),
        CompatibilityError::WrongType { writer_schema_type, reader_schema_type } => (
            "TYPE_MISMATCH",
            format!(
                "the writer type {} cannot be read as {}",
                kind_name(writer_schema_type),
                kind_name(reader_schema_type)
            ),
        ),
        CompatibilityError::MissingSymbols => {
            ("MISSING_ENUM_SYMBOLS", "the reader enum has none of the writer's symbols".to_owned())
        }
        CompatibilityError::MissingUnionElements | CompatibilityError::SchemaMismatchAllUnionElements => {
            ("MISSING_UNION_BRANCH", e.to_string())
        }
        CompatibilityError::FixedMismatch => ("FIXED_SIZE_MISMATCH", e.to_string()),
        CompatibilityError::NameMismatch { writer_name, reader_name } => (
            "NAME_MISMATCH",
            format!(
                "the writer type is named '{writer_name}' and the reader's '{reader_name}' (add an alias to rename)"
            ),
        ),
        other => ("TYPE_MISMATCH", other.to_string()),
    };
    let at = if path.is_empty() { "/".to_owned() } else { path.to_owned() };
    format!("{{errorType:'{kind}', description:'at {at}: {what}'}}")
}

/// The variant name at the start of apache-avro's Debug text of a schema (`Int`, `Record`, ...).
fn kind_name(debug: &str) -> String {
    debug.chars().take_while(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase()
}

/// The reader, re-parsed with each named type renamed to the writer type one of its aliases
/// names; `None` when no alias applies (or the renamed reader does not parse).
fn reader_with_aliases_applied(writer: &Parsed, reader: &Parsed) -> Option<AvroSchema> {
    let mut writer_defs = Vec::new();
    named_defs(&writer.json, None, &mut writer_defs, 0);
    let writer_names: HashSet<&str> = writer_defs.iter().map(|(n, _)| n.as_str()).collect();
    let mut reader_defs = Vec::new();
    named_defs(&reader.json, None, &mut reader_defs, 0);
    let mut renames = HashMap::new();
    for (full, aliases) in &reader_defs {
        if writer_names.contains(full.as_str()) {
            continue;
        }
        if let Some(target) = aliases.iter().find(|a| writer_names.contains(a.as_str())) {
            let (space, _) = split_name(full);
            let (_, simple) = split_name(target);
            renames.insert(full.clone(), qualify(simple, space));
        }
    }
    if renames.is_empty() {
        return None;
    }
    let mut json = reader.json.clone();
    rename(&mut json, None, &renames, 0);
    parse_avro(&json.to_string(), &reader.ref_texts).ok()
}

/// Every named type definition: (full name, full names of its aliases).
fn named_defs(v: &Value, space: Option<&str>, out: &mut Vec<(String, Vec<String>)>, depth: usize) {
    if depth > 256 {
        return;
    }
    match v {
        Value::Array(items) => items.iter().for_each(|i| named_defs(i, space, out, depth + 1)),
        Value::Object(obj) => match obj.get("type") {
            Some(Value::String(t)) if matches!(t.as_str(), "record" | "error" | "enum" | "fixed") => {
                let Ok(full) = declared_name(obj, space) else { return };
                let own_space = split_name(&full).0.map(str::to_owned);
                let aliases = obj
                    .get("aliases")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).map(|a| qualify(a, own_space.as_deref())).collect())
                    .unwrap_or_default();
                out.push((full, aliases));
                for f in obj.get("fields").and_then(Value::as_array).into_iter().flatten() {
                    if let Some(t) = f.get("type") {
                        named_defs(t, own_space.as_deref(), out, depth + 1);
                    }
                }
            }
            Some(Value::String(t)) if t == "array" || t == "map" => {
                if let Some(inner) = obj.get("items").or_else(|| obj.get("values")) {
                    named_defs(inner, space, out, depth + 1);
                }
            }
            Some(nested @ (Value::Object(_) | Value::Array(_))) => named_defs(nested, space, out, depth + 1),
            _ => {}
        },
        _ => {}
    }
}

/// Renames definitions of and references to the types in `renames` (full name → full name).
fn rename(v: &mut Value, space: Option<&str>, renames: &HashMap<String, String>, depth: usize) {
    if depth > 256 {
        return;
    }
    match v {
        Value::String(name) => {
            if !PRIMITIVES.contains(&name.as_str())
                && let Some(to) = renames.get(&qualify(name, space))
            {
                *name = to.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rename(i, space, renames, depth + 1)),
        Value::Object(obj) => {
            let ty = obj.get("type").and_then(Value::as_str).map(str::to_owned);
            match ty.as_deref() {
                Some("record" | "error" | "enum" | "fixed") => {
                    let Ok(full) = declared_name(obj, space) else { return };
                    let own_space = split_name(&full).0.map(str::to_owned);
                    if let Some(to) = renames.get(&full) {
                        let simple = split_name(to).1.to_owned();
                        let new_name = if obj.get("name").and_then(Value::as_str).is_some_and(|n| n.contains('.')) {
                            to.clone()
                        } else {
                            simple
                        };
                        obj.insert("name".into(), Value::String(new_name));
                    }
                    if let Some(Value::Array(fields)) = obj.get_mut("fields") {
                        for f in fields {
                            if let Some(t) = f.get_mut("type") {
                                rename(t, own_space.as_deref(), renames, depth + 1);
                            }
                        }
                    }
                }
                Some("array") | Some("map") => {
                    for key in ["items", "values"] {
                        if let Some(inner) = obj.get_mut(key) {
                            rename(inner, space, renames, depth + 1);
                        }
                    }
                }
                _ => {
                    if let Some(t) = obj.get_mut("type") {
                        rename(t, space, renames, depth + 1);
                    }
                }
            }
        }
        _ => {}
    }
}
