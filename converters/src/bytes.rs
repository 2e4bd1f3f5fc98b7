//! Kafka Connect's ByteArrayConverter: bytes pass through untouched. Writing accepts only a
//! bytes schema (or none) and a bytes value (or null); reading gives an optional bytes schema.
//! Also a header converter, with the same bytes.

use std::sync::Arc;

use tributary_runtime::api::{
    ConfigDef, ConnectError, ConnectResult, Converter, HeaderConverter, Schema, SchemaAndValue, SchemaType, Value,
};

use crate::config::converter_config_def;
use crate::number::java_class;

/// Class name in Kafka Connect.
pub const CLASS: &str = "org.apache.kafka.connect.converters.ByteArrayConverter";

/// The converter's keys: Kafka's `ConverterConfig` (`converter.type` only).
pub fn config_def() -> ConfigDef {
    converter_config_def()
}

/// Byte array converter.
#[derive(Debug, Default)]
pub struct ByteArrayConverter;

fn write(schema: Option<&Schema>, value: &Value) -> ConnectResult<Option<Vec<u8>>> {
    if let Some(s) = schema
        && s.kind() != SchemaType::Bytes
    {
        return Err(ConnectError::data(format!(
            "Invalid schema type for ByteArrayConverter: {}",
            s.kind().name().to_ascii_uppercase()
        )));
    }
    match value {
        Value::Null => Ok(None),
        Value::Bytes(b) => Ok(Some(b.clone())),
        other => Err(ConnectError::data(format!(
            "ByteArrayConverter is not compatible with objects of type {}",
            java_class(other)
        ))),
    }
}

fn read(bytes: Option<&[u8]>) -> SchemaAndValue {
    SchemaAndValue {
        schema: Some(Schema::optional_primitive(SchemaType::Bytes)),
        value: bytes.map_or(Value::Null, |b| Value::Bytes(b.to_vec())),
    }
}

impl Converter for ByteArrayConverter {
    fn from_connect(
        &self,
        _topic: &str,
        schema: Option<&Arc<Schema>>,
        value: &Value,
    ) -> ConnectResult<Option<Vec<u8>>> {
        write(schema.map(Arc::as_ref), value)
    }

    fn to_connect(&self, _topic: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        Ok(read(bytes))
    }
}

impl HeaderConverter for ByteArrayConverter {
    fn from_connect_header(
        &self,
        _topic: &str,
        _key: &str,
        schema: Option<&Schema>,
        value: &Value,
    ) -> ConnectResult<Option<Vec<u8>>> {
        write(schema, value)
    }

    fn to_connect_header(&self, _topic: &str, _key: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        Ok(read(bytes))
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
        assert_eq!(c.to_connect("t", None).unwrap().value, Value::Null);
        assert_eq!(c.from_connect("t", None, &Value::Null).unwrap(), None);
    }

    #[test]
    fn errors_are_worded_as_kafka() {
        let c = ByteArrayConverter;
        let int = Schema::primitive(SchemaType::Int32);
        let err = c.from_connect("t", Some(&int), &Value::Bytes(vec![])).unwrap_err();
        assert_eq!(err.to_string(), "Invalid schema type for ByteArrayConverter: INT32");
        let err = c.from_connect("t", None, &Value::Int32(1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ByteArrayConverter is not compatible with objects of type class java.lang.Integer"
        );
    }

    #[test]
    fn header_variant_matches_the_converter() {
        let c = ByteArrayConverter;
        let bytes = Schema::optional_primitive(SchemaType::Bytes);
        assert_eq!(c.from_connect_header("t", "h", Some(&bytes), &Value::Bytes(vec![1])).unwrap(), Some(vec![1]));
        assert!(c.from_connect_header("t", "h", None, &Value::from("x")).is_err());
        assert_eq!(c.to_connect_header("t", "h", Some(&[2])).unwrap(), c.to_connect("t", Some(&[2])).unwrap());
        assert_eq!(config_def().keys().len(), 1);
    }
}
