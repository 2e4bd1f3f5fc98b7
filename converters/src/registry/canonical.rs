//! The text a schema is stored and compared as, the one Confluent stores.
//!
//! Avro: what Avro Java's `Schema.toString()` writes for the parsed schema: compact JSON,
//! primitives without properties as bare names (`{"type":"string"}` → `"string"`), keys in
//! Java's order (`type`, `name`, `namespace`, `doc`, `fields`/`symbols`/`size`, custom
//! properties, `aliases`; fields as `name`, `type`, `doc`, `default`, `order`, `aliases`,
//! properties), a `namespace` only where it differs from the enclosing one, and every named type
//! written in full once, then referred to by name. Custom properties (`connect.name`,
//! `logicalType`, `precision`, ...) keep their input order; keys Java's parser drops (such as
//! `doc` on a primitive) are dropped. JSON Schema: the document as compact JSON, keys in input
//! order.

use std::collections::HashSet;

use serde_json::{Map, Value};

const PRIMITIVES: [&str; 8] = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"];
const SCHEMA_RESERVED: [&str; 10] =
    ["doc", "fields", "items", "name", "namespace", "size", "symbols", "values", "type", "aliases"];
const FIELD_RESERVED: [&str; 6] = ["default", "doc", "name", "order", "type", "aliases"];
/// Deeper nesting than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 256;

/// The canonical text of an Avro schema (already validated by apache-avro).
pub(crate) fn avro(schema: &Value) -> Result<String, String> {
    let mut w = AvroWriter { known: HashSet::new() };
    let out = w.schema(schema, None, 0)?;
    serde_json::to_string(&out).map_err(|e| e.to_string())
}

/// The canonical text of a JSON Schema document.
pub(crate) fn json(schema: &Value) -> Result<String, String> {
    serde_json::to_string(schema).map_err(|e| e.to_string())
}

/// `space.name`, or `name` when it already has a dot or there is no namespace.
pub(crate) fn qualify(name: &str, space: Option<&str>) -> String {
    match space {
        Some(s) if !s.is_empty() && !name.contains('.') => format!("{s}.{name}"),
        _ => name.to_owned(),
    }
}

/// Splits a full name into (namespace, simple name).
pub(crate) fn split_name(full: &str) -> (Option<&str>, &str) {
    match full.rsplit_once('.') {
        Some((space, name)) => (Some(space), name),
        None => (None, full),
    }
}

/// The full name and namespace a named type definition declares, given the enclosing namespace.
pub(crate) fn declared_name(obj: &Map<String, Value>, enclosing: Option<&str>) -> Result<String, String> {
    let name = obj.get("name").and_then(Value::as_str).ok_or("a named type has no string 'name'")?;
    if name.contains('.') {
        return Ok(name.to_owned());
    }
    let space = match obj.get("namespace") {
        Some(Value::String(s)) => Some(s.as_str()),
        _ => enclosing,
    };
    Ok(qualify(name, space))
}

struct AvroWriter {
    known: HashSet<String>,
}

impl AvroWriter {
    fn schema(&mut self, v: &Value, space: Option<&str>, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(format!("schema nested deeper than {MAX_DEPTH} levels"));
        }
        match v {
            Value::String(name) => Ok(self.name_ref(name, space)),
            Value::Array(branches) => branches
                .iter()
                .map(|b| self.schema(b, space, depth + 1))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Value::Object(obj) => self.object(obj, space, depth),
            other => Err(format!("a schema must be a name, an object or an array, not {other}")),
        }
    }

    fn name_ref(&self, name: &str, space: Option<&str>) -> Value {
        if PRIMITIVES.contains(&name) {
            return Value::String(name.to_owned());
        }
        let full = if name.contains('.') {
            name.to_owned()
        } else {
            let in_space = qualify(name, space);
            if self.known.contains(&in_space) || !self.known.contains(name) { in_space } else { name.to_owned() }
        };
        Value::String(relative(&full, space))
    }

    fn object(&mut self, obj: &Map<String, Value>, space: Option<&str>, depth: usize) -> Result<Value, String> {
        let ty = match obj.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(nested @ (Value::Object(_) | Value::Array(_))) => return self.schema(nested, space, depth + 1),
            Some(other) => return Err(format!("'type' must be a string, an object or an array, not {other}")),
            None => return Err("a schema object has no 'type'".into()),
        };
        let mut out = Map::new();
        match ty {
            "record" | "error" | "enum" | "fixed" => {
                let full = declared_name(obj, space)?;
                if self.known.contains(&full) {
                    return Ok(Value::String(relative(&full, space)));
                }
                self.known.insert(full.clone());
                let (own_space, simple) = split_name(&full);
                out.insert("type".into(), Value::String(ty.to_owned()));
                out.insert("name".into(), Value::String(simple.to_owned()));
                match own_space {
                    Some(s) if Some(s) != space => {
                        out.insert("namespace".into(), Value::String(s.to_owned()));
                    }
                    None if space.is_some_and(|s| !s.is_empty()) => {
                        out.insert("namespace".into(), Value::String(String::new()));
                    }
                    _ => {}
                }
                if let Some(doc) = obj.get("doc").and_then(Value::as_str) {
                    out.insert("doc".into(), Value::String(doc.to_owned()));
                }
                let mut reserved: Vec<&str> = SCHEMA_RESERVED.to_vec();
                match ty {
                    "enum" => {
                        out.insert("symbols".into(), obj.get("symbols").cloned().unwrap_or(Value::Array(vec![])));
                        if let Some(d) = obj.get("default").and_then(Value::as_str) {
                            out.insert("default".into(), Value::String(d.to_owned()));
                        }
                        reserved.push("default");
                    }
                    "fixed" => {
                        out.insert("size".into(), obj.get("size").cloned().unwrap_or(Value::Null));
                    }
                    _ => {
                        let fields =
                            obj.get("fields").and_then(Value::as_array).ok_or("a record has no 'fields' array")?;
                        let mut written = Vec::with_capacity(fields.len());
                        for f in fields {
                            written.push(self.field(f, own_space, depth)?);
                        }
                        out.insert("fields".into(), Value::Array(written));
                    }
                }
                copy_props(obj, &reserved, &mut out);
                if let Some(aliases) = obj.get("aliases").and_then(Value::as_array) {
                    let mut seen = Vec::new();
                    for a in aliases.iter().filter_map(Value::as_str) {
                        let rel = relative(&qualify(a, own_space), own_space);
                        if !seen.contains(&rel) {
                            seen.push(rel);
                        }
                    }
                    if !seen.is_empty() {
                        out.insert("aliases".into(), Value::Array(seen.into_iter().map(Value::String).collect()));
                    }
                }
            }
            "array" | "map" => {
                let key = if ty == "array" { "items" } else { "values" };
                let inner = obj.get(key).ok_or_else(|| format!("an {ty} has no '{key}'"))?;
                out.insert("type".into(), Value::String(ty.to_owned()));
                out.insert(key.into(), self.schema(inner, space, depth + 1)?);
                copy_props(obj, &SCHEMA_RESERVED, &mut out);
            }
            t if PRIMITIVES.contains(&t) => {
                copy_props(obj, &SCHEMA_RESERVED, &mut out);
                if out.is_empty() {
                    return Ok(Value::String(t.to_owned()));
                }
                let mut with_type = Map::new();
                with_type.insert("type".into(), Value::String(t.to_owned()));
                with_type.extend(out);
                return Ok(Value::Object(with_type));
            }
            name => return Ok(self.name_ref(name, space)),
        }
        Ok(Value::Object(out))
    }

    fn field(&mut self, f: &Value, space: Option<&str>, depth: usize) -> Result<Value, String> {
        let obj = f.as_object().ok_or("a record field must be an object")?;
        let name = obj.get("name").and_then(Value::as_str).ok_or("a record field has no string 'name'")?;
        let ty = obj.get("type").ok_or_else(|| format!("field '{name}' has no 'type'"))?;
        let mut out = Map::new();
        out.insert("name".into(), Value::String(name.to_owned()));
        out.insert("type".into(), self.schema(ty, space, depth + 1)?);
        if let Some(doc) = obj.get("doc").and_then(Value::as_str) {
            out.insert("doc".into(), Value::String(doc.to_owned()));
        }
        if let Some(default) = obj.get("default") {
            out.insert("default".into(), default.clone());
        }
        if let Some(order) = obj.get("order").and_then(Value::as_str)
            && !order.eq_ignore_ascii_case("ascending")
        {
            out.insert("order".into(), Value::String(order.to_ascii_lowercase()));
        }
        if let Some(aliases) = obj.get("aliases").and_then(Value::as_array) {
            let mut seen: Vec<Value> = Vec::new();
            for a in aliases.iter().filter(|a| a.is_string()) {
                if !seen.contains(a) {
                    seen.push(a.clone());
                }
            }
            if !seen.is_empty() {
                out.insert("aliases".into(), Value::Array(seen));
            }
        }
        copy_props(obj, &FIELD_RESERVED, &mut out);
        Ok(Value::Object(out))
    }
}

/// Avro Java's `Name.getQualified(space)`: the simple name when the full name is in `space`.
fn relative(full: &str, space: Option<&str>) -> String {
    match split_name(full) {
        (Some(s), simple) if Some(s) == space => simple.to_owned(),
        _ => full.to_owned(),
    }
}

fn copy_props(obj: &Map<String, Value>, reserved: &[&str], out: &mut Map<String, Value>) {
    for (k, v) in obj {
        if !reserved.contains(&k.as_str()) {
            out.insert(k.clone(), v.clone());
        }
    }
}
