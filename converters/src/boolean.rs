//! Kafka Connect's BooleanConverter (KIP-1004): one byte per message, `0x01` for true and `0x00`
//! for false, as Kafka's `BooleanSerializer` writes; any other byte or length is a data error,
//! as in `BooleanDeserializer`. Reading gives an optional boolean schema; null is a Kafka null
//! both ways. Unlike the number converters it checks the schema it is given: only a boolean
//! schema (or none) is accepted. Also a header converter, with the same bytes.

use std::sync::Arc;

use tributary_runtime::api::{
    ConfigDef, ConnectError, ConnectResult, Converter, HeaderConverter, Props, Schema, SchemaAndValue, SchemaType,
    Value,
};

use crate::config::{converter_config_def, or_value};
use crate::number::java_class;

/// Class name in Kafka Connect.
pub const CLASS: &str = "org.apache.kafka.connect.converters.BooleanConverter";

/// The converter's keys: Kafka's `BooleanConverterConfig` (`converter.type` only).
pub fn config_def() -> ConfigDef {
    converter_config_def()
}

/// Boolean converter.
#[derive(Debug)]
pub struct BooleanConverter {
    schema: Arc<Schema>,
}

impl BooleanConverter {
    /// A converter configured from `props` (`converter.type` defaults to `value`).
    pub fn new(props: &Props) -> ConnectResult<Self> {
        config_def().parse(&or_value(props))?;
        Ok(Self { schema: Schema::optional_primitive(SchemaType::Boolean) })
    }

    fn write(&self, schema: Option<&Schema>, value: &Value) -> ConnectResult<Option<Vec<u8>>> {
        if let Some(s) = schema
            && s.kind() != SchemaType::Boolean
        {
            return Err(ConnectError::data(format!(
                "Invalid schema type for BooleanConverter: {}",
                s.kind().name().to_ascii_uppercase()
            )));
        }
        match value {
            Value::Null => Ok(None),
            Value::Boolean(b) => Ok(Some(vec![u8::from(*b)])),
            other => Err(ConnectError::data(format!(
                "BooleanConverter is not compatible with objects of type {}",
                java_class(other)
            ))),
        }
    }

    fn read(&self, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        let value = match bytes {
            None => Value::Null,
            Some([0x01]) => Value::Boolean(true),
            Some([0x00]) => Value::Boolean(false),
            Some([b]) => {
                // Java prints the byte signed.
                let b = i8::from_ne_bytes([*b]);
                return Err(ConnectError::data(format!(
                    "Failed to deserialize boolean: Unexpected byte received by BooleanDeserializer: {b}"
                )));
            }
            Some(_) => {
                return Err(ConnectError::data(
                    "Failed to deserialize boolean: Size of data received by BooleanDeserializer is not 1",
                ));
            }
        };
        Ok(SchemaAndValue { schema: Some(self.schema.clone()), value })
    }
}

impl Converter for BooleanConverter {
    fn from_connect(
        &self,
        _topic: &str,
        schema: Option<&Arc<Schema>>,
        value: &Value,
    ) -> ConnectResult<Option<Vec<u8>>> {
        self.write(schema.map(Arc::as_ref), value)
    }

    fn to_connect(&self, _topic: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        self.read(bytes)
    }
}

impl HeaderConverter for BooleanConverter {
    fn from_connect_header(
        &self,
        _topic: &str,
        _key: &str,
        schema: Option<&Schema>,
        value: &Value,
    ) -> ConnectResult<Option<Vec<u8>>> {
        self.write(schema, value)
    }

    fn to_connect_header(&self, _topic: &str, _key: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        self.read(bytes)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use tributary_runtime::api::SchemaBuilder;

    fn conv() -> BooleanConverter {
        BooleanConverter::new(&BTreeMap::new()).unwrap()
    }

    #[test]
    fn writes_one_byte_and_reads_it_back() {
        let c = conv();
        let schema = Schema::optional_primitive(SchemaType::Boolean);
        for (v, byte) in [(true, 1u8), (false, 0)] {
            let bytes = c.from_connect("t", Some(&schema), &Value::Boolean(v)).unwrap();
            assert_eq!(bytes, Some(vec![byte]));
            let back = c.to_connect("t", bytes.as_deref()).unwrap();
            assert_eq!(back.value, Value::Boolean(v));
            assert_eq!(back.schema.as_deref(), Some(schema.as_ref()));
        }
        assert_eq!(c.from_connect("t", None, &Value::Boolean(true)).unwrap(), Some(vec![1]));
        let required = Schema::primitive(SchemaType::Boolean);
        assert_eq!(c.from_connect("t", Some(&required), &Value::Boolean(false)).unwrap(), Some(vec![0]));
    }

    #[test]
    fn null_is_a_kafka_null_both_ways() {
        let c = conv();
        assert_eq!(c.from_connect("t", None, &Value::Null).unwrap(), None);
        let schema = Schema::optional_primitive(SchemaType::Boolean);
        assert_eq!(c.from_connect("t", Some(&schema), &Value::Null).unwrap(), None);
        let back = c.to_connect("t", None).unwrap();
        assert_eq!(back.value, Value::Null);
        assert_eq!(back.schema.map(|s| s.kind()), Some(SchemaType::Boolean));
    }

    #[test]
    fn other_bytes_and_lengths_are_data_errors() {
        let c = conv();
        for (bytes, msg) in [
            (&[2u8][..], "Unexpected byte received by BooleanDeserializer: 2"),
            (&[0xff], "Unexpected byte received by BooleanDeserializer: -1"),
            (&[0x80], "Unexpected byte received by BooleanDeserializer: -128"),
            (&[], "Size of data received by BooleanDeserializer is not 1"),
            (&[0, 1], "Size of data received by BooleanDeserializer is not 1"),
        ] {
            let err = c.to_connect("t", Some(bytes)).unwrap_err();
            assert_eq!(err.kind(), tributary_runtime::api::ErrorKind::Data);
            assert_eq!(err.to_string(), format!("Failed to deserialize boolean: {msg}"));
        }
    }

    #[test]
    fn other_schemas_and_values_are_data_errors() {
        let c = conv();
        let string = Schema::optional_primitive(SchemaType::String);
        let err = c.from_connect("t", Some(&string), &Value::Boolean(true)).unwrap_err();
        assert_eq!(err.to_string(), "Invalid schema type for BooleanConverter: STRING");
        // The schema is checked before the value, even a null one.
        assert!(c.from_connect("t", Some(&string), &Value::Null).is_err());
        let err = c.from_connect("t", None, &Value::from("true")).unwrap_err();
        assert_eq!(err.to_string(), "BooleanConverter is not compatible with objects of type class java.lang.String");
        let err = c.from_connect("t", None, &Value::Int8(1)).unwrap_err();
        assert_eq!(err.kind(), tributary_runtime::api::ErrorKind::Data);
        let array = SchemaBuilder::array(Schema::primitive(SchemaType::Boolean)).build_arc();
        assert!(c.from_connect("t", Some(&array), &Value::Array(vec![])).is_err());
    }

    #[test]
    fn header_variant_matches_the_converter() {
        let c = conv();
        assert_eq!(c.from_connect_header("t", "h", None, &Value::Boolean(true)).unwrap(), Some(vec![1]));
        assert_eq!(c.from_connect_header("t", "h", None, &Value::Null).unwrap(), None);
        let string = Schema::primitive(SchemaType::String);
        assert!(c.from_connect_header("t", "h", Some(&string), &Value::Boolean(true)).is_err());
        assert_eq!(c.to_connect_header("t", "h", Some(&[0])).unwrap().value, Value::Boolean(false));
        assert!(c.to_connect_header("t", "h", Some(&[3])).is_err());
    }

    #[test]
    fn converter_type_is_its_only_key() {
        let keys: Vec<String> = config_def().keys().iter().map(|k| k.name.clone()).collect();
        assert_eq!(keys, ["converter.type"]);
        assert!(BooleanConverter::new(&BTreeMap::from([("converter.type".into(), "header".into())])).is_ok());
        let err = BooleanConverter::new(&BTreeMap::from([("converter.type".into(), "both".into())])).unwrap_err();
        assert!(err.to_string().contains("converter.type"), "{err}");
    }
}
