//! JSON Schema compatibility: the main rules of Confluent's `SchemaDiff` under its default STRICT
//! policy, as differences between an `original` (the schema that wrote the data) and an `update`
//! (the schema that must accept it).
//!
//! Covered: type changes (extending, e.g. `integer` → `number` or adding a type to a type
//! array, is compatible; narrowing or changing is not), properties added or removed under open
//! (`additionalProperties` absent or `true`), partially open (`additionalProperties` a schema)
//! and closed (`additionalProperties: false`) content models, `required` added (compatible only
//! with a `default`), `additionalProperties` opened/closed, `enum` extended or narrowed,
//! string/number/array/object bounds (`maxLength`, `minLength`, `pattern`, `maximum`,
//! `minimum`, `exclusive*`, `multipleOf`, `maxItems`, `minItems`, `uniqueItems`,
//! `maxProperties`, `minProperties`), array `items`, local `$ref`s (`#/definitions/...`,
//! `#/$defs/...`), and `oneOf`/`anyOf` whose branch list only grew.
//!
//! Not covered (documented in the guide): `$ref`s to other documents or references,
//! `patternProperties`, `dependencies`, `unevaluatedProperties`, tuple `items`/`prefixItems`,
//! `const`, `not`, `allOf`, and branch-by-branch matching of changed `oneOf`/`anyOf` (any other
//! change there is reported incompatible).

use serde_json::{Map, Value};

const MAX_DEPTH: usize = 64;

/// The incompatible differences (empty when `update` accepts everything `original` does).
pub(crate) fn incompatibilities(original: &Value, update: &Value) -> Vec<String> {
    let mut d = Diff { o_root: original, u_root: update, found: Vec::new() };
    d.compare("#", original, update, 0);
    d.found
}

struct Diff<'a> {
    o_root: &'a Value,
    u_root: &'a Value,
    found: Vec<String>,
}

fn empty_map() -> &'static Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Map::new)
}

/// Follows a local `$ref` (`#/a/b`) inside `root`.
fn resolve<'v>(root: &'v Value, schema: &'v Value) -> &'v Value {
    let mut current = schema;
    for _ in 0..MAX_DEPTH {
        let Some(r) = current.get("$ref").and_then(Value::as_str) else { return current };
        let Some(pointer) = r.strip_prefix('#') else { return current };
        match root.pointer(pointer) {
            Some(target) => current = target,
            None => return current,
        }
    }
    current
}

fn is_empty_schema(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Object(m) => {
            m.keys().all(|k| matches!(k.as_str(), "title" | "description" | "$id" | "$schema" | "default" | "examples"))
        }
        _ => false,
    }
}

/// The set of types a schema allows; `None` = any type.
fn types(s: &Map<String, Value>) -> Option<Vec<String>> {
    match s.get("type") {
        Some(Value::String(t)) => Some(vec![t.clone()]),
        Some(Value::Array(ts)) => Some(ts.iter().filter_map(Value::as_str).map(str::to_owned).collect()),
        _ if s.contains_key("properties") || s.contains_key("additionalProperties") || s.contains_key("required") => {
            Some(vec!["object".into()])
        }
        _ if s.contains_key("items") => Some(vec!["array".into()]),
        _ => None,
    }
}

fn covers(set: &[String], t: &str) -> bool {
    set.iter().any(|s| s == t || (s == "number" && t == "integer"))
}

fn num(s: &Map<String, Value>, key: &str) -> Option<f64> {
    s.get(key).and_then(Value::as_f64)
}

/// Whether the object schema accepts properties it does not list, and under which schema.
enum Content<'a> {
    Open,
    Partial(&'a Value),
    Closed,
}

fn content(s: &Map<String, Value>) -> Content<'_> {
    match s.get("additionalProperties") {
        None | Some(Value::Bool(true)) => Content::Open,
        Some(Value::Bool(false)) => Content::Closed,
        Some(other) if is_empty_schema(other) => Content::Open,
        Some(other) => Content::Partial(other),
    }
}

fn required(s: &Map<String, Value>) -> Vec<&str> {
    s.get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn has_default(v: &Value) -> bool {
    v.get("default").is_some()
}

impl Diff<'_> {
    fn add(&mut self, path: &str, what: impl Into<String>) {
        self.found.push(format!("{{path:'{path}', description:'{}'}}", what.into()));
    }

    fn compare(&mut self, path: &str, original: &Value, update: &Value, depth: usize) {
        if depth > MAX_DEPTH {
            self.add(path, format!("schema nested deeper than {MAX_DEPTH} levels, cannot be compared"));
            return;
        }
        let o = resolve(self.o_root, original);
        let u = resolve(self.u_root, update);
        if o == u || is_empty_schema(u) {
            return;
        }
        if let Value::Bool(false) = o {
            return; // nothing was valid before
        }
        if is_empty_schema(o) {
            self.add(path, "TYPE_NARROWED: the new schema restricts a schema that accepted any value");
            return;
        }
        let (Some(om), Some(um)) = (o.as_object(), u.as_object()) else {
            self.add(path, "TYPE_CHANGED: the schema changed to one that accepts nothing");
            return;
        };
        let (ot, ut) = (types(om), types(um));
        match (&ot, &ut) {
            (None, Some(ut)) if !om.contains_key("enum") && !om.contains_key("oneOf") && !om.contains_key("anyOf") => {
                self.add(path, format!("TYPE_NARROWED: the type was any, now {}", ut.join(", ")));
                return;
            }
            (Some(ot), Some(ut)) if !ot.iter().all(|t| covers(ut, t)) => {
                self.add(path, format!("TYPE_CHANGED: the type was {}, now {}", ot.join(", "), ut.join(", ")));
                return;
            }
            _ => {}
        }
        self.combined(path, om, um);
        self.enums(path, om, um);
        self.bounds(path, om, um);
        let both = |t: &str| ot.as_ref().is_none_or(|o| covers(o, t)) && ut.as_ref().is_none_or(|u| covers(u, t));
        if both("object") {
            self.object(path, om, um, depth);
        }
        if both("array")
            && let (Some(oi), Some(ui)) = (om.get("items"), um.get("items"))
            && oi.is_object()
            && ui.is_object()
        {
            self.compare(&format!("{path}/items"), oi, ui, depth + 1);
        }
    }

    fn combined(&mut self, path: &str, om: &Map<String, Value>, um: &Map<String, Value>) {
        for key in ["oneOf", "anyOf", "allOf", "not", "const"] {
            let (o, u) = (om.get(key), um.get(key));
            if o == u {
                continue;
            }
            let extended = matches!(key, "oneOf" | "anyOf")
                && match (o.and_then(Value::as_array), u.and_then(Value::as_array)) {
                    (Some(o), Some(u)) => o.iter().all(|b| u.contains(b)),
                    (Some(_), None) => true,
                    _ => false,
                };
            let removed = u.is_none() && matches!(key, "allOf" | "not" | "const");
            if !extended && !removed {
                self.add(path, format!("COMBINED_TYPE_CHANGED: '{key}' changed in a way that is not a pure extension"));
            }
        }
    }

    fn enums(&mut self, path: &str, om: &Map<String, Value>, um: &Map<String, Value>) {
        match (om.get("enum").and_then(Value::as_array), um.get("enum").and_then(Value::as_array)) {
            (Some(o), Some(u)) if !o.iter().all(|v| u.contains(v)) => {
                self.add(path, "ENUM_ARRAY_NARROWED: the enum lost values the old schema allowed");
            }
            (None, Some(_)) => self.add(path, "ENUM_ARRAY_ADDED: values are now restricted to an enum"),
            _ => {}
        }
    }

    /// Numeric bounds: `tighter(o, u)` says whether the update accepts fewer values.
    fn bounds(&mut self, path: &str, om: &Map<String, Value>, um: &Map<String, Value>) {
        let upper = ["maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties", "maxContains"];
        let lower = ["minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties", "minContains"];
        for key in upper {
            match (num(om, key), num(um, key)) {
                (None, Some(_)) => self.add(path, format!("{key} added")),
                (Some(o), Some(u)) if u < o => self.add(path, format!("{key} decreased from {o} to {u}")),
                _ => {}
            }
        }
        for key in lower {
            match (num(om, key), num(um, key)) {
                (None, Some(_)) => self.add(path, format!("{key} added")),
                (Some(o), Some(u)) if u > o => self.add(path, format!("{key} increased from {o} to {u}")),
                _ => {}
            }
        }
        match (num(om, "multipleOf"), num(um, "multipleOf")) {
            (None, Some(_)) => self.add(path, "multipleOf added"),
            (Some(o), Some(u)) if u != 0.0 && (o / u).fract() != 0.0 => {
                self.add(path, format!("multipleOf changed from {o} to {u}"))
            }
            _ => {}
        }
        if om.get("pattern") != um.get("pattern") && um.get("pattern").is_some() {
            self.add(path, "pattern added or changed");
        }
        if om.get("uniqueItems") != Some(&Value::Bool(true)) && um.get("uniqueItems") == Some(&Value::Bool(true)) {
            self.add(path, "uniqueItems added");
        }
    }

    fn object(&mut self, path: &str, om: &Map<String, Value>, um: &Map<String, Value>, depth: usize) {
        let op = om.get("properties").and_then(Value::as_object).unwrap_or(empty_map());
        let up = um.get("properties").and_then(Value::as_object).unwrap_or(empty_map());
        let (o_req, u_req) = (required(om), required(um));
        for (name, o_schema) in op {
            let p = format!("{path}/properties/{name}");
            match up.get(name) {
                Some(u_schema) => {
                    if !o_req.contains(&name.as_str()) && u_req.contains(&name.as_str()) && !has_default(u_schema) {
                        self.add(&p, format!("REQUIRED_ATTRIBUTE_ADDED: property '{name}' became required without a default"));
                    }
                    self.compare(&p, o_schema, u_schema, depth + 1);
                }
                None => match content(um) {
                    Content::Open => {}
                    Content::Partial(extra) => {
                        let before = self.found.len();
                        self.compare(&p, o_schema, extra, depth + 1);
                        if self.found.len() > before {
                            self.add(&p, format!("PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: property '{name}' was removed and additionalProperties does not accept its values"));
                        }
                    }
                    Content::Closed if *o_schema == Value::Bool(false) => {}
                    Content::Closed => self.add(&p, format!("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL: property '{name}' was removed and additionalProperties is false")),
                },
            }
        }
        for (name, u_schema) in up {
            if op.contains_key(name) {
                continue;
            }
            let p = format!("{path}/properties/{name}");
            let is_required = u_req.contains(&name.as_str());
            match content(om) {
                Content::Open if is_empty_schema(u_schema) => {}
                Content::Open if is_required => self.add(&p, format!("REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL: required property '{name}' was added while the old schema accepted any extra property")),
                Content::Open => self.add(&p, format!("PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL: property '{name}' was added while the old schema accepted any extra property (close the old schema with additionalProperties: false, or give the property an empty schema)")),
                model => {
                    if let Content::Partial(extra) = model {
                        let before = self.found.len();
                        self.compare(&p, extra, u_schema, depth + 1);
                        if self.found.len() > before {
                            self.add(&p, format!("PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: property '{name}' does not accept every value additionalProperties accepted"));
                        }
                    }
                    if is_required && !has_default(u_schema) {
                        self.add(&p, format!("REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL: required property '{name}' was added without a default"));
                    }
                }
            }
        }
        let ap = format!("{path}/additionalProperties");
        match (content(om), content(um)) {
            (Content::Open, Content::Open) | (Content::Closed, _) => {}
            (_, Content::Closed) => {
                self.add(&ap, "ADDITIONAL_PROPERTIES_REMOVED: additional properties are no longer accepted")
            }
            (Content::Open, Content::Partial(_)) => {
                self.add(&ap, "ADDITIONAL_PROPERTIES_NARROWED: additional properties now need to match a schema")
            }
            (Content::Partial(_), Content::Open) => {}
            (Content::Partial(o), Content::Partial(u)) => self.compare(&ap, o, u, depth + 1),
        }
    }
}
