//! Kafka Connect's ByteArrayConverter: bytes pass through untouched.

use std::sync::Arc;

use tributary_runtime::api::{ConnectError, ConnectResult, Converter, Schema, SchemaAndValue, SchemaType, Value};

/// Class name in Kafka Connect.
pub const CLASS: &str = "org.apache.kafka.connect.converters.ByteArrayConverter";

/// Byte array converter.
#[derive(Debug, Default)]
pub struct ByteArrayConverter;

impl Converter for ByteArrayConverter {
    fn from_connect(&self, topic: &str, schema: Option<&Arc<Schema>>, value: &Value) -> ConnectResult<Option<Vec<u8>>> {
        if let Some(s) = schema
            && s.kind() != SchemaType::Bytes
        {
            return Err(ConnectError::data(format!(
                "invalid schema type for ByteArrayConverter on topic {topic}: {}",
                s.kind()
            )));
        }
        match value {
            Value::Null => Ok(None),
            Value::Bytes(b) => Ok(Some(b.clone())),
            other => Err(ConnectError::data(format!(
                "ByteArrayConverter is not compatible with objects of type {} (topic {topic})",
                other.type_name()
            ))),
        }
    }

    fn to_connect(&self, _topic: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        Ok(SchemaAndValue {
            schema: Some(Schema::optional_primitive(SchemaType::Bytes)),
            value: bytes.map_or(Value::Null, |b| Value::Bytes(b.to_vec())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_bytes_and_rejects_strings() {
        let c = ByteArrayConverter;
        assert_eq!(c.from_connect("t", None, &Value::Bytes(vec![0, 1])).unwrap(), Some(vec![0, 1]));
        assert!(c.from_connect("t", None, &Value::from("x")).is_err());
        assert_eq!(c.to_connect("t", Some(&[9])).unwrap().value, Value::Bytes(vec![9]));
    }
}
