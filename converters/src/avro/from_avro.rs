//! Avro schema → Connect schema, as Confluent's `AvroData.toConnectSchema` does it with its
//! default settings: `connect.*` properties restore what the Connect side wrote (names,
//! versions, docs, parameters, defaults, int8/int16), `[null, T]` unions become optional `T`,
//! other unions become `io.confluent.connect.avro.Union` structs with one field per branch,
//! enums become strings carrying their symbols as parameters, fixed becomes bytes with
//! `connect.fixed.size`, arrays of `MapEntry` records become maps, and Avro field defaults become
//! Connect defaults (flagged with `io.confluent.connect.avro.field.default`).

use std::sync::Arc;

use serde_json::Value as Json;
use tributary_runtime::api::schema::DECIMAL_NAME;
use tributary_runtime::api::{Schema, SchemaBuilder, SchemaType, Struct, Value};

use super::schema::{Avro, Node};
use super::to_avro::{
    DECIMAL_PRECISION, DEFAULT_PRECISION, ENUM_DEFAULT_PREFIX, ENUM_DOC_PREFIX, ENUM_PARAM, FIELD_DEFAULT_FLAG,
    FIELD_DOC_PREFIX, FIXED_SIZE, MAP_ENTRY, MappingError, NAMESPACE, RECORD_DOC, UNION_NAME,
};

fn fail<T>(msg: impl Into<String>) -> Result<T, MappingError> {
    Err(MappingError(msg.into()))
}

/// The Connect schema of `node`; `version` is the registry's version of the writer schema in
/// its subject, used when the schema carries no `connect.version`.
pub(crate) fn to_connect(node: &Node, version: Option<i32>, meta: bool) -> Result<Arc<Schema>, MappingError> {
    convert(node, false, None, version, meta).map(Arc::new)
}

/// Whether `node` is Confluent's encoding of a map with non-string keys.
pub(crate) fn is_map_entry(node: &Node) -> bool {
    match &node.ty {
        Avro::Record(r) => {
            (r.name.namespace.as_deref() == Some(NAMESPACE) && r.name.name == MAP_ENTRY)
                || r.props.iter().any(|(k, v)| k == "connect.internal.type" && v.as_str() == Some(MAP_ENTRY))
        }
        _ => false,
    }
}

/// The Connect field name of a union branch (Confluent: the simple name of a named type,
/// otherwise the Avro type name).
pub(crate) fn union_member_name(node: &Node) -> String {
    match &node.ty {
        Avro::Record(r) => r.name.name.clone(),
        Avro::Enum(e) => e.name.name.clone(),
        Avro::Fixed(f) => f.name.name.clone(),
        _ => node.type_name().to_owned(),
    }
}

fn convert(
    node: &Node,
    force_optional: bool,
    field_default: Option<&Json>,
    version: Option<i32>,
    meta: bool,
) -> Result<Schema, MappingError> {
    let connect_type = node.prop("connect.type").and_then(Json::as_str);
    let logical = node.prop("logicalType").and_then(Json::as_str);
    let mut b = match &node.ty {
        Avro::Boolean => SchemaBuilder::new(SchemaType::Boolean),
        Avro::Bytes | Avro::Fixed(_) => {
            let mut b = if logical.is_some_and(|l| l.eq_ignore_ascii_case("decimal")) {
                let scale = match node.prop("scale") {
                    Some(Json::Number(n)) => n.as_i64().unwrap_or(0) as i32,
                    _ => 0,
                };
                let mut b = SchemaBuilder::decimal(scale);
                match node.prop("precision") {
                    None => {}
                    Some(Json::Number(n)) => {
                        let p = n.as_i64().unwrap_or(DEFAULT_PRECISION);
                        if p != DEFAULT_PRECISION {
                            b = b.parameter(DECIMAL_PRECISION, p.to_string());
                        }
                    }
                    Some(_) => return fail("precision property must be a JSON Integer"),
                }
                b
            } else {
                SchemaBuilder::new(SchemaType::Bytes)
            };
            if let Avro::Fixed(f) = &node.ty {
                b = b.parameter(FIXED_SIZE, f.size.to_string());
            }
            b
        }
        Avro::Double => SchemaBuilder::new(SchemaType::Float64),
        Avro::Float => SchemaBuilder::new(SchemaType::Float32),
        Avro::Int => match (connect_type, logical) {
            (None, None) => SchemaBuilder::new(SchemaType::Int32),
            (_, Some(l)) if l.eq_ignore_ascii_case("date") => SchemaBuilder::date(),
            (_, Some(l)) if l.eq_ignore_ascii_case("time-millis") => SchemaBuilder::time(),
            (_, Some(_)) => SchemaBuilder::new(SchemaType::Int32),
            (Some("int8"), None) => SchemaBuilder::new(SchemaType::Int8),
            (Some("int16"), None) => SchemaBuilder::new(SchemaType::Int16),
            (Some(other), None) => return fail(format!("unknown connect.type '{other}' on an Avro int")),
        },
        Avro::Long => match logical {
            Some(l) if l.eq_ignore_ascii_case("timestamp-millis") => SchemaBuilder::timestamp(),
            _ => SchemaBuilder::new(SchemaType::Int64),
        },
        Avro::String => SchemaBuilder::new(SchemaType::String),
        Avro::Array(items) if is_map_entry(items) => {
            let Avro::Record(r) = &items.ty else { return fail("map entry is not a record") };
            let key = r.fields.iter().find(|f| f.name == "key");
            let value = r.fields.iter().find(|f| f.name == "value");
            let (Some(k), Some(v), 2) = (key, value, r.fields.len()) else {
                return fail(
                    "Found map encoded as array of key-value pairs, but array elements do not match the expected format.",
                );
            };
            SchemaBuilder::map(
                Arc::new(convert(&k.schema, false, None, None, meta)?),
                Arc::new(convert(&v.schema, false, None, None, meta)?),
            )
        }
        Avro::Array(items) => SchemaBuilder::array(Arc::new(convert(items, false, None, None, meta)?)),
        Avro::Map(values) => SchemaBuilder::map(
            Schema::primitive(SchemaType::String),
            Arc::new(convert(values, false, None, None, meta)?),
        ),
        Avro::Record(r) => {
            let mut b = SchemaBuilder::struct_();
            if meta && let Some(d) = &r.doc {
                b = b.parameter(RECORD_DOC, d.clone());
            }
            for f in &r.fields {
                if meta && let Some(d) = &f.doc {
                    b = b.parameter(format!("{FIELD_DOC_PREFIX}{}", f.name), d.clone());
                }
                let mut fs = convert(&f.schema, false, f.default.as_ref(), None, meta)?;
                if meta
                    && let Some(Json::Object(params)) =
                        f.props.iter().find(|(k, _)| k == "connect.parameters").map(|(_, v)| v)
                {
                    let mut fb = fs.to_builder();
                    for (k, v) in params {
                        fb = fb.parameter(k.clone(), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()));
                    }
                    fs = fb.build();
                }
                b = b.field(f.name.clone(), Arc::new(fs)).map_err(|e| MappingError(e.to_string()))?;
            }
            b
        }
        Avro::Enum(e) => {
            let mut b = SchemaBuilder::new(SchemaType::String);
            if meta {
                if let Some(d) = &e.doc {
                    b = b.parameter(format!("{ENUM_DOC_PREFIX}{}", e.name.name), d.clone());
                }
                if let Some(d) = &e.default {
                    b = b.parameter(format!("{ENUM_DEFAULT_PREFIX}{}", e.name.name), d.clone());
                }
            }
            b = b.parameter(ENUM_PARAM, e.name.full());
            for s in &e.symbols {
                b = b.parameter(format!("{ENUM_PARAM}.{s}"), s.clone());
            }
            b
        }
        Avro::Union(members) => {
            if members.len() == 1 {
                return convert(&members[0], false, None, None, meta);
            }
            if members.len() == 2
                && let Some(other) = members.iter().find(|m| !matches!(m.ty, Avro::Null))
                && members.iter().any(|m| matches!(m.ty, Avro::Null))
            {
                return convert(other, true, None, None, meta);
            }
            let mut b = SchemaBuilder::struct_().name(UNION_NAME);
            for m in members {
                if matches!(m.ty, Avro::Null) {
                    b = b.optional();
                } else {
                    let name = union_member_name(m);
                    if b.clone().build().field(&name).is_some() {
                        return fail("Multiple union schemas map to the Connect union field name");
                    }
                    b = b
                        .field(name, Arc::new(convert(m, true, None, None, meta)?))
                        .map_err(|e| MappingError(e.to_string()))?;
                }
            }
            b
        }
        Avro::Null => return fail("Standalone null schemas are not supported by this converter"),
    };
    if meta && let Some(d) = node.prop("connect.doc").and_then(Json::as_str) {
        b = b.doc(d);
    }
    let version = match node.prop("connect.version") {
        Some(Json::Number(n)) => n.as_i64().map(|v| v as i32),
        Some(other) => return fail(format!("Invalid Connect version found: {other}")),
        None => version,
    };
    if let Some(v) = version.filter(|v| *v >= 0) {
        let current = b.clone().build().version();
        match current {
            Some(c) if c != v => {
                return fail(format!(
                    "Mismatched versions: version already added to SchemaBuilder ({c}) differs from version in source schema ({v})"
                ));
            }
            _ => b = b.version(v),
        }
    }
    if meta && let Some(params) = node.prop("connect.parameters") {
        let Json::Object(params) = params else {
            return fail(format!("Expected JSON object for schema parameters but found: {params}"));
        };
        for (k, v) in params {
            let Json::String(v) = v else {
                return fail(format!("Expected schema parameter values to be strings but found: {v}"));
            };
            b = b.parameter(k.clone(), v.clone());
        }
    }
    for (k, v) in node.props() {
        if k.starts_with("avro") {
            b = b.parameter(k.clone(), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()));
        }
    }
    let connect_default = node.prop("connect.default");
    let default = match field_default {
        None => connect_default,
        Some(d) => {
            if meta && connect_default.is_none() {
                b = b.parameter(FIELD_DEFAULT_FLAG, "true");
            }
            Some(d)
        }
    };
    let name = match node.prop("connect.name") {
        Some(Json::String(n)) => Some(n.clone()),
        Some(other) => return fail(format!("Invalid schema name: {other}")),
        None => match &node.ty {
            Avro::Record(r) => Some(r.name.full()),
            Avro::Enum(e) => Some(e.name.full()),
            Avro::Fixed(f) if b.clone().build().name() != Some(DECIMAL_NAME) => Some(f.name.full()),
            _ => None,
        },
    };
    if let Some(n) = name.filter(|n| !n.starts_with(&format!("{NAMESPACE}.ConnectDefault"))) {
        match b.clone().build().name() {
            Some(existing) if existing != n => {
                return fail(format!(
                    "Mismatched names: name already added to SchemaBuilder ({existing}) differs from name in source schema ({n})"
                ));
            }
            _ => b = b.name(n),
        }
    }
    if force_optional {
        b = b.optional();
    }
    if let Some(d) = default {
        // As Confluent: an Avro default Connect cannot hold is dropped, not fatal.
        let built = b.clone().build();
        if let Ok(v) = default_value(&built, node, d)
            && let Ok(nb) = b.clone().default_value(v)
        {
            b = nb;
        }
    }
    Ok(b.build())
}

/// A Connect value from an Avro JSON default (`AvroData.defaultValueFromAvro`).
fn default_value(s: &Schema, node: &Node, d: &Json) -> Result<Value, MappingError> {
    if d.is_null() {
        return Ok(Value::Null);
    }
    let bad = || MappingError(format!("invalid default {d} for a {} schema", s.kind().name()));
    Ok(match (&node.ty, s.kind()) {
        (Avro::Int, SchemaType::Int8) => Value::Int8(d.as_i64().ok_or_else(bad)? as i8),
        (Avro::Int, SchemaType::Int16) => Value::Int16(d.as_i64().ok_or_else(bad)? as i16),
        (Avro::Int, SchemaType::Int32) => Value::Int32(d.as_i64().ok_or_else(bad)? as i32),
        (Avro::Long, SchemaType::Int64) => Value::Int64(d.as_i64().ok_or_else(bad)?),
        (Avro::Float, _) => Value::Float32(d.as_f64().ok_or_else(bad)? as f32),
        (Avro::Double, _) => Value::Float64(d.as_f64().ok_or_else(bad)?),
        (Avro::Boolean, _) => Value::Boolean(d.as_bool().ok_or_else(bad)?),
        (Avro::String | Avro::Enum(_), _) => Value::String(d.as_str().ok_or_else(bad)?.to_owned()),
        (Avro::Bytes | Avro::Fixed(_), _) => {
            let text = d.as_str().ok_or_else(bad)?;
            let mut bytes = Vec::with_capacity(text.len());
            for c in text.chars() {
                bytes.push(u8::try_from(u32::from(c)).map_err(|_| bad())?);
            }
            Value::Bytes(bytes)
        }
        (Avro::Array(items), SchemaType::Map) if is_map_entry(items) => {
            let (Avro::Record(r), Some(ks), Some(vs)) = (&items.ty, s.key_schema(), s.value_schema()) else {
                return Err(bad());
            };
            let mut entries = Vec::new();
            for e in d.as_array().ok_or_else(bad)? {
                let (k, v) = match e {
                    Json::Array(pair) if pair.len() == 2 => (&pair[0], &pair[1]),
                    Json::Object(o) => (o.get("key").ok_or_else(bad)?, o.get("value").ok_or_else(bad)?),
                    _ => return Err(bad()),
                };
                entries.push((default_value(ks, &r.fields[0].schema, k)?, default_value(vs, &r.fields[1].schema, v)?));
            }
            Value::Map(entries)
        }
        (Avro::Array(items), SchemaType::Array) => {
            let elem = s.value_schema().ok_or_else(bad)?;
            Value::Array(
                d.as_array()
                    .ok_or_else(bad)?
                    .iter()
                    .map(|e| default_value(elem, items, e))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Avro::Map(values), SchemaType::Map) => {
            let vs = s.value_schema().ok_or_else(bad)?;
            let o = d.as_object().ok_or_else(bad)?;
            Value::Map(
                o.iter().map(|(k, v)| Ok((Value::String(k.clone()), default_value(vs, values, v)?))).collect::<Result<
                    _,
                    MappingError,
                >>(
                )?,
            )
        }
        (Avro::Record(r), SchemaType::Struct) => {
            let o = d.as_object().ok_or_else(bad)?;
            let mut st = Struct::new(Arc::new(s.clone())).map_err(|e| MappingError(e.to_string()))?;
            for (i, f) in r.fields.iter().enumerate() {
                let fs = &s.fields()[i].schema;
                let v = match o.get(&f.name) {
                    Some(j) => default_value(fs, &f.schema, j)?,
                    None => Value::Null,
                };
                st.put_index(i, v).map_err(|e| MappingError(e.to_string()))?;
            }
            Value::Struct(st)
        }
        (Avro::Union(members), _) => match members.first() {
            Some(m) if matches!(m.ty, Avro::Null) => Value::Null,
            Some(m) if s.kind() == SchemaType::Struct && s.name() == Some(UNION_NAME) => {
                let field = s.field(&union_member_name(m)).ok_or_else(bad)?;
                let mut st = Struct::new(Arc::new(s.clone())).map_err(|e| MappingError(e.to_string()))?;
                st.put_index(field.index, default_value(&field.schema, m, d)?)
                    .map_err(|e| MappingError(e.to_string()))?;
                Value::Struct(st)
            }
            Some(m) => default_value(s, m, d)?,
            None => return Err(bad()),
        },
        _ => return Err(bad()),
    })
}
