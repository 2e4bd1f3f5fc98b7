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
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectResult, Converter, Importance, Schema, SchemaAndValue,
    Validator, Value,
};

/// Class name in Kafka Connect.
pub const CLASS: &str = "org.apache.kafka.connect.json.JsonConverter";

/// The converter's keys.
pub fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(
                "schemas.enable",
                ConfigType::Boolean,
                Importance::High,
                "Include the schema in each message as the {\"schema\":…,\"payload\":…} envelope.",
            )
            .default("true"),
        )
        .define(
            ConfigKey::new(
                "decimal.format",
                ConfigType::String,
                Importance::Low,
                "How Decimal values are written: BASE64 (the unscaled bytes, base64-encoded) or NUMERIC (a JSON number).",
            )
            .default("BASE64")
            .validator(Validator::OneOfIgnoreCase(vec!["BASE64", "NUMERIC"])),
        )
        .define(
            ConfigKey::new(
                "replace.null.with.default",
                ConfigType::Boolean,
                Importance::Low,
                "Write and read a null field that has a default as its default value; false keeps the null.",
            )
            .default("true"),
        )
        .define(
            ConfigKey::new(
                "schemas.cache.size",
                ConfigType::Int,
                Importance::High,
                "How many parsed schemas to keep when reading enveloped messages.",
            )
            .default("1000")
            .validator(Validator::at_least(0.0)),
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
    /// A converter configured from `props` (no prefix).
    pub fn new(props: &BTreeMap<String, String>) -> ConnectResult<Self> {
        let c = config_def().parse(props)?;
        Ok(Self {
            schemas_enable: c.bool("schemas.enable"),
            opts: write::Opts {
                numeric_decimal: c.string("decimal.format").eq_ignore_ascii_case("NUMERIC"),
                replace_null_with_default: c.bool("replace.null.with.default"),
            },
            cache_size: c.long("schemas.cache.size").unwrap_or(1000) as usize,
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
        out.clear();
        if schema.is_none() && value.is_null() {
            return Ok(false);
        }
        if self.schemas_enable {
            out.extend_from_slice(b"{\"schema\":");
            match schema {
                Some(s) => out.extend_from_slice(&self.schema_json(s)?),
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b",\"payload\":");
            write::value(out, schema.map(Arc::as_ref), value, self.opts)?;
            out.push(b'}');
        } else {
            write::value(out, schema.map(Arc::as_ref), value, self.opts)?;
        }
        self.size_hint.store(out.len(), Ordering::Relaxed);
        Ok(true)
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

#[cfg(test)]
mod tests;
