//! Connect schema → Avro schema, as Confluent's `AvroData.fromConnectSchema` does it with its
//! default settings (`connect.meta.data=true`, no enhanced schema support): `int8`/`int16` as
//! `int` with `connect.type`, optional as a union with null (null last when there is a default),
//! names split into name and namespace, unnamed structs as `io.confluent.connect.avro.ConnectDefault`
//! (then `ConnectDefault2`...), maps with non-string keys as arrays of `MapEntry` records,
//! `connect.doc`, `connect.version`, `connect.parameters`, `connect.default`, `connect.name`,
//! and the logical types with both the Avro `logicalType` and Connect's properties.

use std::sync::Arc;

use serde_json::Value as Json;
use tributary_runtime::api::schema::{DATE_NAME, DECIMAL_NAME, DECIMAL_SCALE, TIME_NAME, TIMESTAMP_NAME};
use tributary_runtime::api::{Schema, SchemaType, Value};

use super::schema::{Avro, Fixed, Name, Node, Props, Record, RecordField};

pub(crate) const NAMESPACE: &str = "io.confluent.connect.avro";
pub(crate) const DEFAULT_NAME: &str = "ConnectDefault";
pub(crate) const MAP_ENTRY: &str = "MapEntry";
pub(crate) const UNION_NAME: &str = "io.confluent.connect.avro.Union";
pub(crate) const ENUM_PARAM: &str = "io.confluent.connect.avro.Enum";
pub(crate) const FIELD_DOC_PREFIX: &str = "io.confluent.connect.avro.field.doc.";
pub(crate) const RECORD_DOC: &str = "io.confluent.connect.avro.record.doc";
pub(crate) const FIELD_DEFAULT_FLAG: &str = "io.confluent.connect.avro.field.default";
pub(crate) const ENUM_DOC_PREFIX: &str = "io.confluent.connect.avro.enum.doc.";
pub(crate) const ENUM_DEFAULT_PREFIX: &str = "io.confluent.connect.avro.enum.default.";
pub(crate) const FIXED_SIZE: &str = "connect.fixed.size";
pub(crate) const DECIMAL_PRECISION: &str = "connect.decimal.precision";
pub(crate) const DEFAULT_PRECISION: i64 = 64;

/// Why a Connect schema or value has no Avro form.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct MappingError(pub(crate) String);

fn fail<T>(msg: impl Into<String>) -> Result<T, MappingError> {
    Err(MappingError(msg.into()))
}

/// Settings of the mapping.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Options {
    /// `connect.meta.data`: write the `connect.*` properties.
    pub(crate) meta: bool,
}

/// Converts `schema` to its Avro form.
pub(crate) fn from_connect(schema: &Schema, options: Options) -> Result<Node, MappingError> {
    Ctx { options, seen: Vec::new(), name_index: 0 }.convert(schema, false)
}

/// Whether `schema` is Confluent's Connect form of a general Avro union.
pub(crate) fn is_union(schema: &Schema) -> bool {
    schema.kind() == SchemaType::Struct && schema.name() == Some(UNION_NAME)
}

/// Whether `schema` came from an Avro fixed.
pub(crate) fn fixed_size(schema: &Schema) -> Option<usize> {
    if schema.kind() != SchemaType::Bytes || schema.name().is_none() {
        return None;
    }
    schema.parameters().get(FIXED_SIZE).and_then(|s| s.parse().ok())
}

struct Ctx {
    options: Options,
    /// Required schemas converted so far (equal schemas map to the same Avro type).
    seen: Vec<(Schema, Node)>,
    name_index: usize,
}

fn int_json(v: i64) -> Json {
    Json::Number(v.into())
}

impl Ctx {
    fn name_or_default(&mut self, name: Option<&str>) -> Name {
        match name {
            Some(n) => Name::parse(n),
            None => {
                self.name_index += 1;
                let suffix = if self.name_index > 1 { self.name_index.to_string() } else { String::new() };
                Name { name: format!("{DEFAULT_NAME}{suffix}"), namespace: Some(NAMESPACE.to_owned()) }
            }
        }
    }

    fn convert(&mut self, s: &Schema, ignore_optional: bool) -> Result<Node, MappingError> {
        if !is_union(s)
            && !s.is_optional()
            && let Some((_, n)) = self.seen.iter().find(|(k, _)| k == s)
        {
            return Ok(n.clone());
        }
        let mut connect_type = None;
        let mut base = match s.kind() {
            SchemaType::Int8 => {
                connect_type = Some("int8");
                Node::new(Avro::Int)
            }
            SchemaType::Int16 => {
                connect_type = Some("int16");
                Node::new(Avro::Int)
            }
            SchemaType::Int32 => Node::new(Avro::Int),
            SchemaType::Int64 => Node::new(Avro::Long),
            SchemaType::Float32 => Node::new(Avro::Float),
            SchemaType::Float64 => Node::new(Avro::Double),
            SchemaType::Boolean => Node::new(Avro::Boolean),
            SchemaType::String => Node::new(Avro::String),
            SchemaType::Bytes => {
                let mut node = match fixed_size(s) {
                    Some(size) => Node::new(Avro::Fixed(Arc::new(Fixed {
                        name: self.name_or_default(s.name()),
                        doc: None,
                        size,
                        props: Vec::new(),
                        aliases: Vec::new(),
                    }))),
                    None => Node::new(Avro::Bytes),
                };
                if s.name() == Some(DECIMAL_NAME) {
                    let scale = decimal_scale(s)?;
                    node.add_prop("scale", int_json(scale));
                    node.add_prop("precision", int_json(decimal_precision(s)?));
                }
                node
            }
            SchemaType::Array => {
                let Some(elem) = s.value_schema() else { return fail("array schema without a value schema") };
                Node::new(Avro::Array(Box::new(self.convert(elem, false)?)))
            }
            SchemaType::Map => {
                let (Some(k), Some(v)) = (s.key_schema(), s.value_schema()) else {
                    return fail("map schema without key and value schemas");
                };
                if k.kind() == SchemaType::String && !k.is_optional() {
                    Node::new(Avro::Map(Box::new(self.convert(v, false)?)))
                } else {
                    let (name, props) = match s.name() {
                        None => {
                            (Name { name: MAP_ENTRY.to_owned(), namespace: Some(NAMESPACE.to_owned()) }, Vec::new())
                        }
                        Some(n) => (
                            Name::parse(n),
                            vec![("connect.internal.type".to_owned(), Json::String(MAP_ENTRY.to_owned()))],
                        ),
                    };
                    let fields = vec![self.field("key", k, None)?, self.field("value", v, None)?];
                    let entry =
                        Node::new(Avro::Record(Arc::new(Record { name, doc: None, fields, props, aliases: vec![] })));
                    Node::new(Avro::Array(Box::new(entry)))
                }
            }
            SchemaType::Struct if is_union(s) => {
                let mut members = Vec::new();
                if s.is_optional() {
                    members.push(Node::new(Avro::Null));
                }
                for f in s.fields() {
                    let member = f.schema.to_builder().set_optional(false).build();
                    members.push(self.convert(&member, true)?);
                }
                Node::new(Avro::Union(members))
            }
            SchemaType::Struct if s.is_optional() => {
                let inner = s.to_builder().set_optional(false).build();
                Node::new(Avro::Union(vec![Node::new(Avro::Null), self.convert(&inner, false)?]))
            }
            SchemaType::Struct => {
                let name = self.name_or_default(s.name());
                let doc = s.parameters().get(RECORD_DOC).cloned();
                let mut fields = Vec::with_capacity(s.fields().len());
                for f in s.fields() {
                    let doc = s.parameters().get(&format!("{FIELD_DOC_PREFIX}{}", f.name)).cloned();
                    fields.push(self.field(&f.name, &f.schema, doc)?);
                }
                Node::new(Avro::Record(Arc::new(Record { name, doc, fields, props: Vec::new(), aliases: Vec::new() })))
            }
        };
        let mut result = base.clone();
        if !matches!(base.ty, Avro::Union(_)) {
            if self.options.meta {
                if let Some(d) = s.doc() {
                    base.add_prop("connect.doc", Json::String(d.to_owned()));
                }
                if let Some(v) = s.version() {
                    base.add_prop("connect.version", int_json(v.into()));
                }
                if !s.parameters().is_empty() {
                    let params: serde_json::Map<String, Json> = s
                        .parameters()
                        .iter()
                        .filter(|(k, _)| *k != FIELD_DEFAULT_FLAG)
                        .map(|(k, v)| (k.clone(), Json::String(v.clone())))
                        .collect();
                    if !params.is_empty() {
                        base.add_prop("connect.parameters", Json::Object(params));
                    }
                }
                if let Some(d) = s.default_value()
                    && s.parameters().get(FIELD_DEFAULT_FLAG).is_none()
                {
                    base.add_prop("connect.default", default_json(s, d)?);
                }
                if let Some(n) = s.name() {
                    base.add_prop("connect.name", Json::String(n.to_owned()));
                }
                if let Some(t) = connect_type {
                    base.add_prop("connect.type", Json::String(t.to_owned()));
                }
            }
            let mut legacy_decimal = false;
            match s.name() {
                Some(DECIMAL_NAME) => {
                    let (scale, precision) = (decimal_scale(s)?, decimal_precision(s)?);
                    if scale < 0 || scale > precision {
                        legacy_decimal = true;
                    } else {
                        base.add_prop("logicalType", Json::String("decimal".into()));
                        base.add_prop("precision", int_json(precision));
                        base.add_prop("scale", int_json(scale));
                    }
                    if legacy_decimal || s.parameters().get(DECIMAL_PRECISION).is_some() {
                        base.add_prop("logicalType", Json::String("decimal".into()));
                    }
                }
                Some(TIME_NAME) => base.add_prop("logicalType", Json::String("time-millis".into())),
                Some(TIMESTAMP_NAME) => base.add_prop("logicalType", Json::String("timestamp-millis".into())),
                Some(DATE_NAME) => base.add_prop("logicalType", Json::String("date".into())),
                _ => {}
            }
            for (k, v) in s.parameters().iter() {
                if k.starts_with("avro") {
                    base.add_prop(k, Json::String(v.clone()));
                }
            }
            result = if ignore_optional || !s.is_optional() {
                base
            } else if s.default_value().is_some() {
                Node::new(Avro::Union(vec![base, Node::new(Avro::Null)]))
            } else {
                Node::new(Avro::Union(vec![Node::new(Avro::Null), base]))
            };
        }
        if !s.is_optional() {
            self.seen.push((s.clone(), result.clone()));
        }
        Ok(result)
    }

    fn field(&mut self, name: &str, fs: &Arc<Schema>, doc: Option<String>) -> Result<RecordField, MappingError> {
        let schema = self.convert(fs, false)?;
        let default = match fs.default_value() {
            Some(d) => {
                let json = default_json(fs, d)?;
                // Avro Java drops a default that does not fit the field's type (a union's first
                // branch); Confluent logs and carries on without it.
                valid_default(&schema, &json).then_some(json)
            }
            None if fs.is_optional() => Some(Json::Null),
            None => None,
        };
        Ok(RecordField {
            name: name.to_owned(),
            schema,
            doc,
            default,
            order: None,
            aliases: vec![],
            props: Props::new(),
        })
    }
}

fn decimal_scale(s: &Schema) -> Result<i64, MappingError> {
    match s.parameters().get(DECIMAL_SCALE) {
        Some(v) => v.parse().map_err(|_| MappingError(format!("Decimal schema has a bad scale parameter '{v}'"))),
        None => Ok(0),
    }
}

fn decimal_precision(s: &Schema) -> Result<i64, MappingError> {
    match s.parameters().get(DECIMAL_PRECISION) {
        Some(v) => v.parse().map_err(|_| MappingError(format!("Decimal schema has a bad {DECIMAL_PRECISION} '{v}'"))),
        None => Ok(DEFAULT_PRECISION),
    }
}

/// Whether `default` is a valid default for a field of type `node` (Avro's rule: a union's
/// default belongs to its first branch).
fn valid_default(node: &Node, default: &Json) -> bool {
    match (&node.ty, default) {
        (Avro::Union(m), d) => m.first().is_some_and(|f| valid_default(f, d)),
        (Avro::Null, Json::Null) => true,
        (Avro::Boolean, Json::Bool(_)) => true,
        (Avro::Int | Avro::Long, Json::Number(n)) => n.is_i64(),
        (Avro::Float | Avro::Double, Json::Number(_)) => true,
        (Avro::Bytes | Avro::String | Avro::Enum(_) | Avro::Fixed(_), Json::String(_)) => true,
        (Avro::Array(_), Json::Array(_)) => true,
        (Avro::Map(_) | Avro::Record(_), Json::Object(_)) => true,
        _ => false,
    }
}

/// A Connect default value as Avro JSON (`AvroData.defaultValueFromConnect`).
pub(crate) fn default_json(s: &Schema, v: &Value) -> Result<Json, MappingError> {
    Ok(match (s.kind(), v) {
        (_, Value::Null) => Json::Null,
        (SchemaType::Int8, Value::Int8(i)) => int_json((*i).into()),
        (SchemaType::Int16, Value::Int16(i)) => int_json((*i).into()),
        (SchemaType::Int32, Value::Int32(i)) => int_json((*i).into()),
        (SchemaType::Int64, Value::Int64(i)) => int_json(*i),
        (SchemaType::Float32, Value::Float32(f)) => crate::json::write::java_float_json(*f, f64::from(*f)),
        (SchemaType::Float64, Value::Float64(f)) => crate::json::write::java_float_json(*f, *f),
        (SchemaType::Boolean, Value::Boolean(b)) => Json::Bool(*b),
        (SchemaType::String, Value::String(t)) => Json::String(t.clone()),
        (SchemaType::Bytes, Value::Bytes(b)) => Json::String(b.iter().map(|&c| char::from(c)).collect()),
        (SchemaType::Array, Value::Array(items)) => {
            let Some(elem) = s.value_schema() else { return fail("array schema without a value schema") };
            Json::Array(items.iter().map(|i| default_json(elem, i)).collect::<Result<_, _>>()?)
        }
        (SchemaType::Map, Value::Map(entries)) => {
            let (Some(ks), Some(vs)) = (s.key_schema(), s.value_schema()) else {
                return fail("map schema without key and value schemas");
            };
            if ks.kind() == SchemaType::String && !ks.is_optional() {
                let mut o = serde_json::Map::new();
                for (k, v) in entries {
                    let Value::String(k) = k else { return fail("map default with a non-string key") };
                    o.insert(k.clone(), default_json(vs, v)?);
                }
                Json::Object(o)
            } else {
                let mut a = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    a.push(Json::Array(vec![default_json(ks, k)?, default_json(vs, v)?]));
                }
                Json::Array(a)
            }
        }
        (SchemaType::Struct, Value::Struct(st)) => {
            let union = is_union(s);
            let mut o = serde_json::Map::new();
            for (i, f) in s.fields().iter().enumerate() {
                let fv = default_json(&f.schema, st.get_index(i).unwrap_or(&Value::Null))?;
                if union {
                    return Ok(fv);
                }
                o.insert(f.name.clone(), fv);
            }
            Json::Object(o)
        }
        (k, v) => return fail(format!("default value {} does not match schema type {}", v.type_name(), k.name())),
    })
}
