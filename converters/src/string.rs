//! Kafka Connect's StringConverter: values as UTF-8 text; reads back as an optional string.

use std::collections::BTreeMap;
use std::sync::Arc;

use tributary_runtime::api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectResult, Converter, HeaderConverter, Importance, Schema,
    SchemaAndValue, SchemaType, Validator, Value,
};

/// Class name in Kafka Connect.
pub const CLASS: &str = "org.apache.kafka.connect.storage.StringConverter";

/// The converter's keys.
pub fn config_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new("converter.encoding", ConfigType::String, Importance::High, "Character encoding; UTF-8 only.")
            .default("UTF-8")
            .validator(Validator::OneOfIgnoreCase(vec!["UTF-8", "UTF8"])),
    )
}

/// String converter.
#[derive(Debug, Default)]
pub struct StringConverter;

impl StringConverter {
    /// A converter configured from `props`.
    pub fn new(props: &BTreeMap<String, String>) -> ConnectResult<Self> {
        config_def().parse(props)?;
        Ok(Self)
    }
}

fn read(bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
    let schema = Some(Schema::optional_primitive(SchemaType::String));
    let value = match bytes {
        None => Value::Null,
        Some(b) => Value::String(
            String::from_utf8(b.to_vec()).map_err(|e| ConnectError::data_from("data is not valid UTF-8", e))?,
        ),
    };
    Ok(SchemaAndValue { schema, value })
}

impl Converter for StringConverter {
    fn from_connect(
        &self,
        _topic: &str,
        _schema: Option<&Arc<Schema>>,
        value: &Value,
    ) -> ConnectResult<Option<Vec<u8>>> {
        Ok(match value {
            Value::Null => None,
            Value::String(s) => Some(s.as_bytes().to_vec()),
            other => Some(other.to_string().into_bytes()),
        })
    }
    fn from_connect_into(
        &self,
        _topic: &str,
        _schema: Option<&Arc<Schema>>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> ConnectResult<bool> {
        out.clear();
        match value {
            Value::Null => return Ok(false),
            Value::String(s) => out.extend_from_slice(s.as_bytes()),
            other => {
                use std::io::Write;
                let _ = write!(out, "{other}");
            }
        }
        Ok(true)
    }
    fn to_connect(&self, _topic: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        read(bytes)
    }
}

/// Kafka Connect's SimpleHeaderConverter, reduced: values are written as their string form;
/// read back as strings (or bytes when not UTF-8).
#[derive(Debug, Default)]
pub struct SimpleHeaderConverter;

/// Class name of the header converter in Kafka Connect.
pub const HEADER_CLASS: &str = "org.apache.kafka.connect.storage.SimpleHeaderConverter";

impl HeaderConverter for SimpleHeaderConverter {
    fn from_connect_header(
        &self,
        _topic: &str,
        _key: &str,
        _schema: Option<&Schema>,
        value: &Value,
    ) -> ConnectResult<Option<Vec<u8>>> {
        Ok(match value {
            Value::Null => None,
            Value::Bytes(b) => Some(b.clone()),
            Value::String(s) => Some(s.as_bytes().to_vec()),
            other => Some(other.to_string().into_bytes()),
        })
    }
    fn to_connect_header(&self, _topic: &str, _key: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        match bytes.map(std::str::from_utf8) {
            Some(Err(_)) => Ok(SchemaAndValue {
                schema: Some(Schema::optional_primitive(SchemaType::Bytes)),
                value: Value::Bytes(bytes.unwrap_or_default().to_vec()),
            }),
            _ => read(bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_text_and_null() {
        let c = StringConverter;
        assert_eq!(c.from_connect("t", None, &Value::from("héllo")).unwrap(), Some("héllo".as_bytes().to_vec()));
        assert_eq!(c.from_connect("t", None, &Value::Null).unwrap(), None);
        assert_eq!(c.to_connect("t", Some(b"x")).unwrap().value, Value::from("x"));
        assert!(c.to_connect("t", Some(&[0xff, 0xfe])).is_err());
    }

    #[test]
    fn rejects_other_encodings_naming_the_key() {
        let err = StringConverter::new(&BTreeMap::from([("converter.encoding".into(), "latin1".into())])).unwrap_err();
        assert!(err.to_string().contains("converter.encoding"), "{err}");
    }
}
