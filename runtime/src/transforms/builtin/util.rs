//! What the built-in transforms share: which half of a record they work on, Kafka's
//! `Requirements` checks and their messages, the schema-update cache, and config parsing.

use std::sync::Arc;

use crate::api::schema::{DATE_NAME, DECIMAL_NAME, TIME_NAME, TIMESTAMP_NAME};
use crate::api::{
    Config, ConfigDef, ConnectError, ConnectRecord, ConnectResult, Props, Schema, SchemaBuilder, Struct, Value,
};

/// Documentation of `replace.null.with.default`, shared by most transforms.
pub(crate) const REPLACE_NULL_DOC: &str = "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.";
/// The key `replace.null.with.default`.
pub(crate) const REPLACE_NULL: &str = "replace.null.with.default";

/// Whether a transform works on the record's key or on its value (Kafka's `$Key` / `$Value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// The record key.
    Key,
    /// The record value.
    Value,
}

impl Side {
    /// The schema of this side.
    pub(crate) fn schema(self, r: &dyn ConnectRecord) -> Option<&Arc<Schema>> {
        match self {
            Self::Key => r.key_schema(),
            Self::Value => r.value_schema(),
        }
    }
    /// The value of this side.
    pub(crate) fn value(self, r: &dyn ConnectRecord) -> &Value {
        match self {
            Self::Key => r.key(),
            Self::Value => r.value(),
        }
    }
    /// Takes this side out of the record (to rebuild it without a copy).
    pub(crate) fn take(self, r: &mut dyn ConnectRecord) -> (Option<Arc<Schema>>, Value) {
        match self {
            Self::Key => r.take_key(),
            Self::Value => r.take_value(),
        }
    }
    /// Replaces this side.
    pub(crate) fn set(self, r: &mut dyn ConnectRecord, schema: Option<Arc<Schema>>, value: Value) {
        match self {
            Self::Key => r.set_key(schema, value),
            Self::Value => r.set_value(schema, value),
        }
    }
}

/// The Java class Kafka Connect would hold `value` as, for error messages that name it
/// (`found: java.lang.String`); `schema` tells logical types apart.
pub(crate) fn java_class(schema: Option<&Schema>, value: &Value) -> &'static str {
    match schema.and_then(Schema::name) {
        Some(DECIMAL_NAME) if !value.is_null() => return "java.math.BigDecimal",
        Some(DATE_NAME | TIME_NAME | TIMESTAMP_NAME) if !value.is_null() => return "java.util.Date",
        _ => {}
    }
    match value {
        Value::Null => "null",
        Value::Int8(_) => "java.lang.Byte",
        Value::Int16(_) => "java.lang.Short",
        Value::Int32(_) => "java.lang.Integer",
        Value::Int64(_) => "java.lang.Long",
        Value::Float32(_) => "java.lang.Float",
        Value::Float64(_) => "java.lang.Double",
        Value::Boolean(_) => "java.lang.Boolean",
        Value::String(_) => "java.lang.String",
        Value::Bytes(_) => "[B",
        Value::Array(_) => "java.util.ArrayList",
        Value::Map(_) => "java.util.HashMap",
        Value::Struct(_) => "org.apache.kafka.connect.data.Struct",
    }
}

/// Kafka's `requireStruct`: the value must be a struct.
pub(crate) fn require_struct<'a>(
    schema: Option<&Schema>,
    value: &'a Value,
    purpose: &str,
) -> ConnectResult<&'a Struct> {
    match value {
        Value::Struct(s) => Ok(s),
        other => Err(ConnectError::data(format!(
            "Only Struct objects supported for [{purpose}], found: {}",
            java_class(schema, other)
        ))),
    }
}

/// Kafka's `requireMap`: a schemaless value must be a map.
pub(crate) fn require_map<'a>(value: &'a Value, purpose: &str) -> ConnectResult<&'a [(Value, Value)]> {
    match value {
        Value::Map(entries) => Ok(entries),
        other => Err(ConnectError::data(format!(
            "Only Map objects supported in absence of schema for [{purpose}], found: {}",
            java_class(None, other)
        ))),
    }
}

/// Kafka's `requireSchema`.
pub(crate) fn require_schema<'a>(schema: Option<&'a Arc<Schema>>, purpose: &str) -> ConnectResult<&'a Arc<Schema>> {
    schema.ok_or_else(|| ConnectError::data(format!("Schema required for [{purpose}]")))
}

/// The entry of a schemaless map under a string key.
pub(crate) fn map_get<'a>(entries: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    entries.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v)
}

/// Sets a string key of a schemaless map, keeping its position if present (Java's `put`).
pub(crate) fn map_put(entries: &mut Vec<(Value, Value)>, key: &str, value: Value) {
    match entries.iter_mut().find(|(k, _)| k.as_str() == Some(key)) {
        Some(entry) => entry.1 = value,
        None => entries.push((Value::String(key.to_owned()), value)),
    }
}

/// A field of a struct, with its default in place of null when `with_default` (Kafka's
/// `get` versus `getWithoutDefault`).
pub(crate) fn field_value(s: &Struct, name: &str, with_default: bool) -> Value {
    let value = if with_default { s.get(name) } else { s.schema().field(name).and_then(|f| s.get_index(f.index)) };
    value.cloned().unwrap_or(Value::Null)
}

/// Builds a struct of `schema` from field values in schema order, checking each.
pub(crate) fn build_struct(schema: &Arc<Schema>, values: Vec<Value>) -> ConnectResult<Struct> {
    let mut out = Struct::new(schema.clone()).map_err(|e| ConnectError::data(e.to_string()))?;
    for (i, v) in values.into_iter().enumerate() {
        out.put_index(i, v).map_err(|e| ConnectError::data(e.to_string()))?;
    }
    Ok(out)
}

/// Kafka's `SchemaUtil.copySchemaBasics`: name, version, doc and parameters onto `builder`.
pub(crate) fn copy_schema_basics(source: &Schema, mut builder: SchemaBuilder) -> SchemaBuilder {
    if let Some(n) = source.name() {
        builder = builder.name(n);
    }
    if let Some(v) = source.version() {
        builder = builder.version(v);
    }
    if let Some(d) = source.doc() {
        builder = builder.doc(d);
    }
    for (k, v) in source.parameters().iter() {
        builder = builder.parameter(k.clone(), v.clone());
    }
    builder
}

/// A schema error while building a transformed schema or value, as a data error.
pub(crate) fn data_err(e: impl std::fmt::Display) -> ConnectError {
    ConnectError::data(e.to_string())
}

/// Parses a transform's settings against its definition.
pub(crate) fn configure(def: &ConfigDef, props: &Props) -> ConnectResult<Config> {
    def.parse(props).map_err(ConnectError::Config)
}

/// A configuration error not tied to one value (Kafka's `new ConfigException(message)`).
pub(crate) fn config_error(key: &str, message: impl Into<String>) -> ConnectError {
    ConnectError::config(key, message)
}

/// Kafka's schema-update cache: a bounded LRU (16 entries, like its `SynchronizedCache` over an
/// `LRUCache`) from an input schema to the schema a transform derived from it. Looked up by
/// pointer first, then by structural equality, so converters that build a new `Arc` per record
/// still hit.
#[derive(Debug, Default)]
pub(crate) struct SchemaCache {
    entries: Vec<(Arc<Schema>, Arc<Schema>)>,
}

const CACHE_SIZE: usize = 16;

impl SchemaCache {
    /// The cached schema derived from `key`.
    pub(crate) fn get(&mut self, key: &Arc<Schema>) -> Option<Arc<Schema>> {
        let pos = self
            .entries
            .iter()
            .position(|(k, _)| Arc::ptr_eq(k, key))
            .or_else(|| self.entries.iter().position(|(k, _)| **k == **key))?;
        let entry = self.entries.remove(pos);
        let value = entry.1.clone();
        self.entries.insert(0, entry);
        Some(value)
    }
    /// Remembers `value` as derived from `key`, evicting the least recently used entry.
    pub(crate) fn put(&mut self, key: Arc<Schema>, value: Arc<Schema>) {
        self.entries.truncate(CACHE_SIZE - 1);
        self.entries.insert(0, (key, value));
    }
    /// The cached schema for `key`, or `build`'s result, remembered.
    pub(crate) fn get_or_try(
        &mut self,
        key: &Arc<Schema>,
        build: impl FnOnce() -> ConnectResult<Arc<Schema>>,
    ) -> ConnectResult<Arc<Schema>> {
        if let Some(hit) = self.get(key) {
            return Ok(hit);
        }
        let built = build()?;
        self.put(key.clone(), built.clone());
        Ok(built)
    }
}

/// Standard base64 with padding (Java's `Base64.getEncoder()`).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::SchemaType;

    #[test]
    fn base64_matches_java_encoder() {
        assert_eq!(base64(&[1, 2, 3, 255]), "AQID/w==");
        assert_eq!(base64(b"hi"), "aGk=");
        assert_eq!(base64(b""), "");
    }

    #[test]
    fn cache_hits_structurally_equal_schemas_and_stays_bounded() {
        let mut cache = SchemaCache::default();
        for i in 0..20 {
            let k = SchemaBuilder::new(SchemaType::Int32).version(i).build_arc();
            cache.put(k.clone(), k);
        }
        assert_eq!(cache.entries.len(), CACHE_SIZE);
        let probe = SchemaBuilder::new(SchemaType::Int32).version(19).build_arc();
        assert!(cache.get(&probe).is_some());
        let evicted = SchemaBuilder::new(SchemaType::Int32).version(0).build_arc();
        assert!(cache.get(&evicted).is_none());
    }

    #[test]
    fn require_struct_names_the_java_class_found() {
        let err = require_struct(None, &Value::from("x"), "field extraction").unwrap_err();
        assert_eq!(err.to_string(), "Only Struct objects supported for [field extraction], found: java.lang.String");
    }
}
