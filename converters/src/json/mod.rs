//! Kafka Connect's JsonConverter: with `schemas.enable=true` (the default) every message is the
//! envelope `{"schema":{…},"payload":…}`; with `false`, bare JSON. Bytes written are those
//! Kafka's own converter writes for the same schema and value.

mod decimal;
mod read;
pub(crate) mod write;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tributary_runtime::api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectResult, Converter, HeaderConverter, Importance, Schema,
    SchemaAndValue, Validator, Value, Width,
};

use crate::config::{converter_config_def, or_value};

/// Class name in Kafka Connect.
pub const CLASS: &str = "org.apache.kafka.connect.json.JsonConverter";

/// The converter's keys: Kafka's `JsonConverterConfig`, with its names, types, defaults,
/// validators, groups, orders, widths, display names and docs.
pub fn config_def() -> ConfigDef {
    let key = |name: &str, kind, importance, doc: &str, group: &str, order, display: &str| {
        ConfigKey::new(name, kind, importance, doc).group(group).order(order).width(Width::Medium).display_name(display)
    };
    converter_config_def()
        .define(
            key(
                "schemas.enable",
                ConfigType::Boolean,
                Importance::High,
                "Include schemas within each of the serialized values and keys.",
                "Schemas",
                0,
                "Enable Schemas",
            )
            .default("true"),
        )
        .define(
            key(
                "schemas.cache.size",
                ConfigType::Int,
                Importance::High,
                "The maximum number of schemas that can be cached in this converter instance.",
                "Schemas",
                1,
                "Schema Cache Size",
            )
            .default("1000"),
        )
        .define(
            key(
                "decimal.format",
                ConfigType::String,
                Importance::Low,
                "Controls which format this converter will serialize decimals in. This value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'",
                "Serialization",
                0,
                "Decimal Format",
            )
            .default("BASE64")
            .validator(Validator::OneOfIgnoreCase(vec!["BASE64", "NUMERIC"])),
        )
        .define(
            key(
                "replace.null.with.default",
                ConfigType::Boolean,
                Importance::Low,
                "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.",
                "Serialization",
                1,
                "Replace null with default",
            )
            .default("true"),
        )
}

const NOT_AN_ENVELOPE: &str = "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.";

/// `{"schema": …, "payload": …}` and nothing else.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    #[serde(borrow)]
    schema: &'a serde_json::value::RawValue,
    #[serde(borrow)]
    payload: &'a serde_json::value::RawValue,
}

/// A schema and its serialized JSON.
type WrittenSchema = (Arc<Schema>, Arc<[u8]>);

/// Schemas whose serialized form is kept for writing.
const WRITTEN_CACHE: usize = 16;

/// JSON converter.
#[derive(Debug)]
pub struct JsonConverter {
    schemas_enable: bool,
    opts: write::Opts,
    cache_size: usize,
    cache: Mutex<HashMap<String, Arc<Schema>>>,
    /// Serialized schemas of recently written records, by schema pointer.
    written: Mutex<Vec<WrittenSchema>>,
    /// Length of the last message written, to size the next buffer in one allocation.
    size_hint: AtomicUsize,
}

impl JsonConverter {
    /// A converter configured from `props` (no prefix; `converter.type` defaults to `value`).
    pub fn new(props: &BTreeMap<String, String>) -> ConnectResult<Self> {
        let c = config_def().parse(&or_value(props))?;
        Ok(Self {
            schemas_enable: c.bool("schemas.enable"),
            opts: write::Opts {
                numeric_decimal: c.string("decimal.format").eq_ignore_ascii_case("NUMERIC"),
                replace_null_with_default: c.bool("replace.null.with.default"),
            },
            // Kafka declares no bound; a negative size caches nothing here.
            cache_size: usize::try_from(c.long("schemas.cache.size").unwrap_or(1000)).unwrap_or(0),
            cache: Mutex::new(HashMap::new()),
            written: Mutex::new(Vec::new()),
            size_hint: AtomicUsize::new(128),
        })
    }

    /// The JSON of `schema`, serialized once per shared schema.
    fn schema_json(&self, schema: &Arc<Schema>) -> ConnectResult<Arc<[u8]>> {
        if let Ok(w) = self.written.lock()
            && let Some((_, bytes)) = w.iter().find(|(s, _)| Arc::ptr_eq(s, schema))
        {
            return Ok(bytes.clone());
        }
        let mut out = Vec::with_capacity(256);
        write::schema(&mut out, schema, None, self.opts)?;
        let bytes: Arc<[u8]> = out.into();
        if let Ok(mut w) = self.written.lock() {
            if w.len() >= WRITTEN_CACHE {
                w.remove(0);
            }
            w.push((schema.clone(), bytes.clone()));
        }
        Ok(bytes)
    }

    /// Writes `value` (with its envelope when `schemas.enable`); `shared` is the same schema
    /// when the caller holds it in an `Arc`, so its JSON can be cached.
    fn write(
        &self,
        schema: Option<&Schema>,
        shared: Option<&Arc<Schema>>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> ConnectResult<bool> {
        out.clear();
        if schema.is_none() && value.is_null() {
            return Ok(false);
        }
        if self.schemas_enable {
            out.extend_from_slice(b"{\"schema\":");
            match (shared, schema) {
                (Some(s), _) => out.extend_from_slice(&self.schema_json(s)?),
                (None, Some(s)) => write::schema(out, s, None, self.opts)?,
                (None, None) => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b",\"payload\":");
            write::value(out, schema, value, self.opts)?;
            out.push(b'}');
        } else {
            write::value(out, schema, value, self.opts)?;
        }
        self.size_hint.store(out.len(), Ordering::Relaxed);
        Ok(true)
    }

    /// The schema whose JSON text is `raw`, parsed once per distinct text.
    fn cached_schema(&self, raw: &str) -> ConnectResult<Arc<Schema>> {
        if let Ok(cache) = self.cache.lock()
            && let Some(s) = cache.get(raw)
        {
            return Ok(s.clone());
        }
        let j: serde_json::Value = serde_json::from_str(raw)
            .map_err(|e| ConnectError::data_from("the envelope's schema is not valid JSON", e))?;
        let s = read::schema(&j, self.opts)?;
        let key = raw.to_owned();
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= self.cache_size {
                cache.clear();
            }
            if self.cache_size > 0 {
                cache.insert(key, s.clone());
            }
        }
        Ok(s)
    }
}

impl Converter for JsonConverter {
    fn from_connect(&self, topic: &str, schema: Option<&Arc<Schema>>, value: &Value) -> ConnectResult<Option<Vec<u8>>> {
        let mut out = Vec::with_capacity(self.size_hint.load(Ordering::Relaxed) + 16);
        Ok(self.from_connect_into(topic, schema, value, &mut out)?.then_some(out))
    }

    fn from_connect_into(
        &self,
        _topic: &str,
        schema: Option<&Arc<Schema>>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> ConnectResult<bool> {
        self.write(schema.map(Arc::as_ref), schema, value, out)
    }

    fn to_connect(&self, _topic: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        let Some(bytes) = bytes else { return Ok(SchemaAndValue::null()) };
        let syntax =
            |e| ConnectError::data_from("converting byte[] to Kafka Connect data failed due to serialization error", e);
        if !self.schemas_enable {
            let j: serde_json::Value = serde_json::from_slice(bytes).map_err(syntax)?;
            return Ok(SchemaAndValue { schema: None, value: read::value(None, &j, self.opts)? });
        }
        // The schema is kept as raw text, so a schema seen before costs a lookup, not a parse.
        let envelope: Envelope<'_> = match serde_json::from_slice(bytes) {
            Ok(e) => e,
            Err(e) => {
                serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(syntax)?;
                return Err(ConnectError::data_from(NOT_AN_ENVELOPE, e));
            }
        };
        let schema = match envelope.schema.get().trim() {
            "null" => None,
            raw => Some(self.cached_schema(raw)?),
        };
        let payload: serde_json::Value = serde_json::from_str(envelope.payload.get()).map_err(syntax)?;
        let value = read::value(schema.as_deref(), &payload, self.opts)?;
        Ok(SchemaAndValue { schema, value })
    }
}

/// As a header converter, Kafka's JsonConverter writes and reads each header value exactly as
/// it writes and reads a record value, envelope (`schemas.enable`) included.
impl HeaderConverter for JsonConverter {
    fn from_connect_header(
        &self,
        _topic: &str,
        _key: &str,
        schema: Option<&Schema>,
        value: &Value,
    ) -> ConnectResult<Option<Vec<u8>>> {
        let mut out = Vec::with_capacity(64);
        Ok(self.write(schema, None, value, &mut out)?.then_some(out))
    }

    fn to_connect_header(&self, topic: &str, _key: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        self.to_connect(topic, bytes)
    }
}

#[cfg(test)]
mod tests;
