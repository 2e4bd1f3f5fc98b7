//! Reads Kafka Connect's JSON (schema objects and payloads) into Connect schemas and values.

use std::sync::Arc;

use super::write::Opts;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value as Json;
use tributary_runtime::api::schema::{DECIMAL_NAME, DECIMAL_SCALE};
use tributary_runtime::api::{ConnectError, ConnectResult, Schema, SchemaBuilder, SchemaType, Struct, Value};

fn bad(msg: impl Into<String>) -> ConnectError {
    ConnectError::data(msg)
}

/// A Connect schema from its JSON form.
pub(crate) fn schema(j: &Json, opts: Opts) -> ConnectResult<Arc<Schema>> {
    let obj = j.as_object().ok_or_else(|| bad("schema must be a JSON object"))?;
    let type_name = obj.get("type").and_then(Json::as_str).ok_or_else(|| bad("schema must contain 'type' field"))?;
    let kind = SchemaType::from_name(type_name).ok_or_else(|| bad(format!("unknown schema type: {type_name}")))?;
    let mut b = match kind {
        SchemaType::Array => SchemaBuilder::array(schema(
            obj.get("items").ok_or_else(|| bad("array schema did not specify the items type"))?,
            opts,
        )?),
        SchemaType::Map => SchemaBuilder::map(
            schema(obj.get("keys").ok_or_else(|| bad("map schema did not specify the key type"))?, opts)?,
            schema(obj.get("values").ok_or_else(|| bad("map schema did not specify the value type"))?, opts)?,
        ),
        SchemaType::Struct => {
            let mut b = SchemaBuilder::struct_();
            let fields = obj
                .get("fields")
                .and_then(Json::as_array)
                .ok_or_else(|| bad("struct schema's \"fields\" argument is not an array"))?;
            for f in fields {
                let name = f
                    .get("field")
                    .and_then(Json::as_str)
                    .ok_or_else(|| bad("struct schema's field name not specified properly"))?;
                b = b.field(name, schema(f, opts)?).map_err(|e| bad(e.to_string()))?;
            }
            b
        }
        other => SchemaBuilder::new(other),
    };
    if let Some(o) = obj.get("optional") {
        b = b.set_optional(o.as_bool().ok_or_else(|| bad("schema's 'optional' must be a boolean"))?);
    }
    if let Some(n) = obj.get("name").and_then(Json::as_str) {
        b = b.name(n);
    }
    if let Some(v) = obj.get("version") {
        let v =
            v.as_i64().and_then(|v| i32::try_from(v).ok()).ok_or_else(|| bad("schema version must be an integer"))?;
        b = b.version(v);
    }
    if let Some(d) = obj.get("doc").and_then(Json::as_str) {
        b = b.doc(d);
    }
    if let Some(params) = obj.get("parameters") {
        let params = params.as_object().ok_or_else(|| bad("schema parameters must be a JSON object"))?;
        for (k, v) in params {
            let v = v.as_str().ok_or_else(|| bad("schema parameters must have string values"))?;
            b = b.parameter(k.clone(), v);
        }
    }
    if let Some(d) = obj.get("default").filter(|d| !d.is_null()) {
        let partial = b.clone().build();
        let dv = value(Some(&partial), d, opts)?;
        b = b.default_value(dv).map_err(|e| bad(format!("invalid default value: {e}")))?;
    }
    Ok(b.build_arc())
}

/// A Connect value from a JSON payload, read against `schema` when there is one.
pub(crate) fn value(schema: Option<&Schema>, j: &Json, opts: Opts) -> ConnectResult<Value> {
    let Some(s) = schema else { return Ok(schemaless(j)) };
    if j.is_null() {
        if let Some(d) = s.default_value().filter(|_| opts.replace_null_with_default) {
            return Ok(d.clone());
        }
        if s.is_optional() {
            return Ok(Value::Null);
        }
        return Err(bad(format!("invalid null value for required {} field", s.kind())));
    }
    let mismatch = || bad(format!("expected {} but found JSON {j}", s.describe()));
    Ok(match s.kind() {
        SchemaType::Int8 => Value::Int8(j.as_i64().and_then(|n| i8::try_from(n).ok()).ok_or_else(mismatch)?),
        SchemaType::Int16 => Value::Int16(j.as_i64().and_then(|n| i16::try_from(n).ok()).ok_or_else(mismatch)?),
        SchemaType::Int32 => Value::Int32(j.as_i64().and_then(|n| i32::try_from(n).ok()).ok_or_else(mismatch)?),
        SchemaType::Int64 => Value::Int64(j.as_i64().ok_or_else(mismatch)?),
        SchemaType::Float32 => Value::Float32(float(j).ok_or_else(mismatch)? as f32),
        SchemaType::Float64 => Value::Float64(float(j).ok_or_else(mismatch)?),
        SchemaType::Boolean => Value::Boolean(j.as_bool().ok_or_else(mismatch)?),
        SchemaType::String => Value::String(j.as_str().ok_or_else(mismatch)?.to_owned()),
        SchemaType::Bytes if j.is_number() && s.name() == Some(DECIMAL_NAME) => {
            let scale = s.parameters().get(DECIMAL_SCALE).and_then(|v| v.parse().ok()).unwrap_or(0);
            let text = j.to_string();
            Value::Bytes(
                super::decimal::from_text(&text, scale)
                    .ok_or_else(|| bad(format!("decimal {text} does not fit scale {scale}")))?,
            )
        }
        SchemaType::Bytes => {
            let text = j.as_str().ok_or_else(mismatch)?;
            Value::Bytes(STANDARD.decode(text).map_err(|e| bad(format!("invalid base64 in bytes value: {e}")))?)
        }
        SchemaType::Array => {
            let es = s.value_schema().map(|a| a.as_ref());
            let items = j.as_array().ok_or_else(mismatch)?;
            Value::Array(items.iter().map(|i| value(es, i, opts)).collect::<ConnectResult<_>>()?)
        }
        SchemaType::Map => {
            let ks = s.key_schema().map(|a| a.as_ref());
            let vs = s.value_schema().map(|a| a.as_ref());
            if ks.is_some_and(|k| k.kind() == SchemaType::String) {
                let obj = j.as_object().ok_or_else(mismatch)?;
                Value::Map(
                    obj.iter()
                        .map(|(k, v)| Ok((Value::String(k.clone()), value(vs, v, opts)?)))
                        .collect::<ConnectResult<_>>()?,
                )
            } else {
                let pairs = j.as_array().ok_or_else(mismatch)?;
                let mut out = Vec::with_capacity(pairs.len());
                for p in pairs {
                    match p.as_array().map(Vec::as_slice) {
                        Some([k, v]) => out.push((value(ks, k, opts)?, value(vs, v, opts)?)),
                        _ => return Err(bad("found invalid map entry instead of array tuple")),
                    }
                }
                Value::Map(out)
            }
        }
        SchemaType::Struct => {
            let obj = j.as_object().ok_or_else(mismatch)?;
            let arc = Arc::new(s.clone());
            let mut st = Struct::new(arc).map_err(|e| bad(e.to_string()))?;
            for f in s.fields() {
                let v = value(Some(&f.schema), obj.get(&f.name).unwrap_or(&Json::Null), opts)?;
                st.put(&f.name, v).map_err(|e| bad(e.to_string()))?;
            }
            Value::Struct(st)
        }
    })
}

fn schemaless(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int64(i),
            None => Value::Float64(java_double(number_f64(n))),
        },
        Json::String(s) => Value::String(s.clone()),
        Json::Array(a) => Value::Array(a.iter().map(schemaless).collect()),
        Json::Object(o) => Value::Map(java_hash_map_order(o.iter().map(|(k, v)| (k, schemaless(v))).collect())),
    }
}

/// A floating point field: a number, or one of the quoted non-finite values Jackson writes.
/// (Kafka's own reader turns those strings into 0.0; Tributary reads what they stand for.)
fn float(j: &Json) -> Option<f64> {
    match j {
        Json::Number(n) => Some(java_double(number_f64(n))),
        Json::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// A JSON number as a double; one beyond the range of a double is infinite, as Java's
/// `BigDecimal.doubleValue` makes it.
fn number_f64(n: &serde_json::Number) -> f64 {
    n.as_f64().filter(|f| f.is_finite()).unwrap_or_else(|| n.to_string().parse().unwrap_or(f64::NAN))
}

/// Kafka reads JSON numbers as exact decimals, so a negative zero comes back as zero.
fn java_double(v: f64) -> f64 {
    v + 0.0
}

/// Kafka reads a schemaless JSON object into a `java.util.HashMap`, so writing it again lists
/// the keys in that map's iteration order: by bucket (the spread `String.hashCode` masked by the
/// table size, which starts at 16 and doubles past a 0.75 load), insertion order within one.
fn java_hash_map_order(entries: Vec<(&String, Value)>) -> Vec<(Value, Value)> {
    let mut capacity = 16usize;
    while entries.len() > capacity / 4 * 3 {
        capacity *= 2;
    }
    let bucket = |key: &str| {
        let h = key.encode_utf16().fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u))) as u32;
        ((h ^ (h >> 16)) as usize) & (capacity - 1)
    };
    let mut keyed: Vec<(usize, Value, Value)> =
        entries.into_iter().map(|(k, v)| (bucket(k), Value::String(k.clone()), v)).collect();
    keyed.sort_by_key(|(b, _, _)| *b);
    keyed.into_iter().map(|(_, k, v)| (k, v)).collect()
}
