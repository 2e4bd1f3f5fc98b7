//! Converters turn Connect values into the bytes stored in Kafka and back, as Kafka Connect's
//! `Converter` and `HeaderConverter` do. One instance serves one task's keys or values.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::error::ConnectResult;
use super::schema::Schema;
use super::value::Value;

/// A schema and a value, as a converter reads them from bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct SchemaAndValue {
    /// The schema, `None` for schemaless data.
    pub schema: Option<Arc<Schema>>,
    /// The value.
    pub value: Value,
}

impl SchemaAndValue {
    /// Null with no schema, what a tombstone reads as.
    pub fn null() -> Self {
        Self { schema: None, value: Value::Null }
    }
}

/// Serializes record keys or values.
// The names mirror Kafka Connect's `fromConnectData` / `toConnectData`.
#[allow(clippy::wrong_self_convention)]
pub trait Converter: Send + Sync + std::fmt::Debug {
    /// Bytes for `value`, or `None` for a Kafka null (tombstone).
    /// `schema` is shared so converters can cache per-schema work by pointer.
    fn from_connect(&self, topic: &str, schema: Option<&Arc<Schema>>, value: &Value) -> ConnectResult<Option<Vec<u8>>>;

    /// Writes the bytes for `value` into `out` (cleared first) and says whether there are any
    /// (`false` is a Kafka null). The worker calls this with a buffer it reuses for every
    /// record; converters that can write in place override it to avoid an allocation.
    fn from_connect_into(
        &self,
        topic: &str,
        schema: Option<&Arc<Schema>>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> ConnectResult<bool> {
        out.clear();
        match self.from_connect(topic, schema, value)? {
            Some(bytes) => {
                out.extend_from_slice(&bytes);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The Connect value of `bytes` (`None` is a Kafka null).
    fn to_connect(&self, topic: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue>;
}

/// Serializes record headers.
#[allow(clippy::wrong_self_convention)]
pub trait HeaderConverter: Send + Sync + std::fmt::Debug {
    /// Bytes for one header value.
    fn from_connect_header(
        &self,
        topic: &str,
        key: &str,
        schema: Option<&Schema>,
        value: &Value,
    ) -> ConnectResult<Option<Vec<u8>>>;
    /// The Connect value of one header.
    fn to_connect_header(&self, topic: &str, key: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue>;
}

/// Builds a converter from its configuration (keys already stripped of the
/// `key.converter.` / `value.converter.` prefix).
pub trait ConverterFactory: Send + Sync {
    /// Creates a converter for keys (`is_key`) or values.
    fn create(&self, config: &BTreeMap<String, String>, is_key: bool) -> ConnectResult<Box<dyn Converter>>;
}

impl<F> ConverterFactory for F
where
    F: Fn(&BTreeMap<String, String>, bool) -> ConnectResult<Box<dyn Converter>> + Send + Sync,
{
    fn create(&self, config: &BTreeMap<String, String>, is_key: bool) -> ConnectResult<Box<dyn Converter>> {
        self(config, is_key)
    }
}
