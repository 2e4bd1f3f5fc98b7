//! Payload conversions: JSON text to a schemaless Connect value (source), and a record value
//! to payload bytes (sink).

use tributary_runtime::api::{ConnectError, ConnectResult, Value};

/// A parsed JSON document as a schemaless value: objects become maps with string keys,
/// integers `int64`, other numbers `float64`.
pub(super) fn json_to_value(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Boolean(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int64(i),
            None => Value::Float64(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(s),
        serde_json::Value::Array(a) => Value::Array(a.into_iter().map(json_to_value).collect()),
        serde_json::Value::Object(o) => {
            Value::Map(o.into_iter().map(|(k, v)| (Value::String(k), json_to_value(v))).collect())
        }
    }
}

/// The MQTT payload of a record value: bytes as they are, strings as UTF-8, null as an empty
/// payload, anything else as JSON text.
pub(super) fn value_to_payload(v: &Value) -> ConnectResult<Vec<u8>> {
    match v {
        Value::Bytes(b) => Ok(b.clone()),
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Null => Ok(Vec::new()),
        other => serde_json::to_vec(&value_to_json(other)?)
            .map_err(|e| ConnectError::data_from("cannot write a record value as JSON", e)),
    }
}

fn value_to_json(v: &Value) -> ConnectResult<serde_json::Value> {
    use serde_json::Value as J;
    Ok(match v {
        Value::Null => J::Null,
        Value::Int8(n) => J::from(*n),
        Value::Int16(n) => J::from(*n),
        Value::Int32(n) => J::from(*n),
        Value::Int64(n) => J::from(*n),
        Value::Float32(f) => J::from(f64::from(*f)),
        Value::Float64(f) => J::from(*f),
        Value::Boolean(b) => J::Bool(*b),
        Value::String(s) => J::String(s.clone()),
        Value::Bytes(b) => J::String(String::from_utf8_lossy(b).into_owned()),
        Value::Array(a) => J::Array(a.iter().map(value_to_json).collect::<ConnectResult<_>>()?),
        Value::Map(m) => {
            let mut o = serde_json::Map::new();
            for (k, v) in m {
                let key = match k {
                    Value::String(s) => s.clone(),
                    other => value_to_json(other)?.to_string(),
                };
                o.insert(key, value_to_json(v)?);
            }
            J::Object(o)
        }
        Value::Struct(s) => {
            let mut o = serde_json::Map::new();
            for (i, f) in s.schema().fields().iter().enumerate() {
                o.insert(f.name.clone(), s.get_index(i).map(value_to_json).transpose()?.unwrap_or(J::Null));
            }
            J::Object(o)
        }
    })
}
