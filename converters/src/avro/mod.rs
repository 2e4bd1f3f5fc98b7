//! Avro in the Confluent wire format: Confluent's `AvroConverter` (magic byte 0, the schema id
//! as 4 big-endian bytes, then Avro binary), with the Connect ↔ Avro schema mapping of
//! Confluent's `AvroData`, subject name strategies, and a schema registry client whose answers
//! are cached so the hot path never asks the registry twice about one schema.

mod client;
pub(crate) mod codec;
pub(crate) mod from_avro;
pub(crate) mod schema;
mod schema_write;
#[cfg(test)]
mod tests;
pub(crate) mod to_avro;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tributary_runtime::api::config::{ConfigDef, ConfigKey, ConfigType, Importance, Validator};
use tributary_runtime::api::{ConnectError, ConnectResult, Converter, Schema, SchemaAndValue, Value};

use client::{Auth, RegistryClient};
use codec::{Plan, Reader};
use to_avro::Options;

/// Class name of Confluent's converter.
pub const CLASS: &str = "io.confluent.connect.avro.AvroConverter";

const MAGIC: u8 = 0;
const TOPIC_STRATEGY: &str = "io.confluent.kafka.serializers.subject.TopicNameStrategy";
const RECORD_STRATEGY: &str = "io.confluent.kafka.serializers.subject.RecordNameStrategy";
const TOPIC_RECORD_STRATEGY: &str = "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy";

/// The converter's keys (Confluent's names and defaults).
pub fn config_def() -> ConfigDef {
    let strategy = |key: &'static str| {
        ConfigKey::new(
            key,
            ConfigType::String,
            Importance::Medium,
            "How the subject is named: TopicNameStrategy (<topic>-key / <topic>-value), RecordNameStrategy (the record's full name) or TopicRecordNameStrategy (<topic>-<record name>); Confluent's class names are accepted.",
        )
        .default(TOPIC_STRATEGY)
        .validator(Validator::OneOfIgnoreCase(vec![
            TOPIC_STRATEGY,
            RECORD_STRATEGY,
            TOPIC_RECORD_STRATEGY,
            "TopicNameStrategy",
            "RecordNameStrategy",
            "TopicRecordNameStrategy",
        ]))
    };
    ConfigDef::new()
        .define(ConfigKey::new(
            "schema.registry.url",
            ConfigType::List,
            Importance::High,
            "Comma-separated URLs of the schema registry; they are tried in order until one answers.",
        ))
        .define(
            ConfigKey::new(
                "basic.auth.credentials.source",
                ConfigType::String,
                Importance::Medium,
                "Where HTTP basic auth credentials come from: URL (user:password@ in schema.registry.url) or USER_INFO (basic.auth.user.info).",
            )
            .default("URL")
            .validator(Validator::OneOfIgnoreCase(vec!["URL", "USER_INFO"])),
        )
        .define(
            ConfigKey::new(
                "basic.auth.user.info",
                ConfigType::Password,
                Importance::Medium,
                "user:password for HTTP basic auth when basic.auth.credentials.source=USER_INFO.",
            )
            .default(""),
        )
        .define(
            ConfigKey::new(
                "bearer.auth.token",
                ConfigType::Password,
                Importance::Medium,
                "A static bearer token sent to the schema registry (bearer.auth.credentials.source=STATIC_TOKEN).",
            )
            .default(""),
        )
        .define(
            ConfigKey::new(
                "bearer.auth.credentials.source",
                ConfigType::String,
                Importance::Low,
                "STATIC_TOKEN to send bearer.auth.token; empty for none.",
            )
            .default(""),
        )
        .define(
            ConfigKey::new(
                "auto.register.schemas",
                ConfigType::Boolean,
                Importance::Medium,
                "Register the schema of written records when the subject does not have it yet; false only looks it up.",
            )
            .default("true"),
        )
        .define(
            ConfigKey::new(
                "use.latest.version",
                ConfigType::Boolean,
                Importance::Low,
                "Write records with the latest schema of the subject instead of their own (with auto.register.schemas=false).",
            )
            .default("false"),
        )
        .define(
            ConfigKey::new(
                "latest.compatibility.strict",
                ConfigType::Boolean,
                Importance::Low,
                "With use.latest.version, check that the latest schema can read data written with the record's own schema.",
            )
            .default("true"),
        )
        .define(strategy("key.subject.name.strategy"))
        .define(strategy("value.subject.name.strategy"))
        .define(
            ConfigKey::new(
                "connect.meta.data",
                ConfigType::Boolean,
                Importance::Low,
                "Write Connect's schema metadata (connect.name, connect.version, connect.doc, connect.parameters, connect.default) into Avro schemas.",
            )
            .default("true"),
        )
        .define(
            ConfigKey::new(
                "schemas.cache.size",
                ConfigType::Int,
                Importance::Low,
                "How many schemas each direction keeps converted (ids, Avro schemas, encoding plans).",
            )
            .default("1000")
            .validator(Validator::at_least(1.0)),
        )
        .define(
            ConfigKey::new(
                "enhanced.avro.schema.support",
                ConfigType::Boolean,
                Importance::Low,
                "Confluent's enhanced schema support (enums and unions kept as such). Not supported by Tributary: must stay false.",
            )
            .default("false"),
        )
        .define(
            ConfigKey::new(
                "generalized.sum.type.support",
                ConfigType::Boolean,
                Importance::Low,
                "Confluent's generalized sum types (connect_union_N). Not supported by Tributary: must stay false.",
            )
            .default("false"),
        )
        .define(
            ConfigKey::new(
                "request.timeout.ms",
                ConfigType::Int,
                Importance::Low,
                "Timeout of one request to the schema registry.",
            )
            .default("30000")
            .validator(Validator::at_least(1.0)),
        )
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Strategy {
    Topic,
    Record,
    TopicRecord,
}

/// A schema written before: its id and how to encode with it.
#[derive(Debug)]
struct Written {
    /// Kept so the pointer the cache is keyed by stays this schema's.
    _schema: Arc<Schema>,
    id: u32,
    plan: Plan,
}

/// A schema read before.
#[derive(Debug)]
struct Read {
    schema: Arc<Schema>,
    plan: Plan,
}

/// Confluent's AvroConverter.
#[derive(Debug)]
pub struct AvroConverter {
    is_key: bool,
    client: RegistryClient,
    auto_register: bool,
    use_latest: bool,
    latest_strict: bool,
    strategy: Strategy,
    options: Options,
    cache_size: usize,
    /// Per topic, per schema pointer.
    written: Mutex<HashMap<String, HashMap<usize, Arc<Written>>>>,
    /// Ids by (subject, schema text): equal schemas in different allocations ask once.
    ids: Mutex<HashMap<(String, String), u32>>,
    /// By schema id.
    read: Mutex<HashMap<u32, Arc<Read>>>,
    /// Schema ids that could not be read, with why and when: records naming an unknown or
    /// unusable id do not each cost a registry call.
    unreadable: Mutex<HashMap<u32, (std::time::Instant, String)>>,
}

/// How long an unreadable schema id is remembered before the registry is asked again.
const UNREADABLE_TTL: Duration = Duration::from_secs(30);

fn auth(c: &tributary_runtime::api::Config, urls: &mut [String]) -> ConnectResult<Auth> {
    if c.string("bearer.auth.credentials.source").eq_ignore_ascii_case("STATIC_TOKEN") {
        let Some(t) = c.password("bearer.auth.token") else {
            return Err(ConnectError::config(
                "bearer.auth.token",
                "required with bearer.auth.credentials.source=STATIC_TOKEN",
            ));
        };
        return Ok(Auth::Bearer(t.expose().to_owned()));
    }
    if c.string("basic.auth.credentials.source").eq_ignore_ascii_case("USER_INFO") {
        let info = c.password("basic.auth.user.info");
        let Some((user, pass)) = info.as_ref().and_then(|p| p.expose().split_once(':')) else {
            return Err(ConnectError::config(
                "basic.auth.user.info",
                "must be user:password with basic.auth.credentials.source=USER_INFO",
            ));
        };
        return Ok(Auth::Basic(user.to_owned(), pass.to_owned()));
    }
    // URL: credentials in the URL's user info, removed from the URL itself.
    let mut found = Auth::None;
    for u in urls.iter_mut() {
        if let Some((scheme, rest)) = u.split_once("://")
            && let Some((info, host)) = rest.split_once('@')
            && !info.contains('/')
        {
            let (user, pass) = info.split_once(':').unwrap_or((info, ""));
            found = Auth::Basic(user.to_owned(), pass.to_owned());
            *u = format!("{scheme}://{host}");
        }
    }
    Ok(found)
}

impl AvroConverter {
    /// A converter configured from `props` (no prefix), for keys when `is_key`.
    pub fn new(props: &BTreeMap<String, String>, is_key: bool) -> ConnectResult<Self> {
        let c = config_def().parse(props)?;
        if c.bool("enhanced.avro.schema.support") {
            return Err(ConnectError::config(
                "enhanced.avro.schema.support",
                "true is not supported by Tributary's AvroConverter; remove it or set it to false",
            ));
        }
        if c.bool("generalized.sum.type.support") {
            return Err(ConnectError::config(
                "generalized.sum.type.support",
                "true is not supported by Tributary's AvroConverter; remove it or set it to false",
            ));
        }
        let mut urls: Vec<String> =
            c.list("schema.registry.url").into_iter().map(|u| u.trim_end_matches('/').to_owned()).collect();
        if urls.is_empty() {
            return Err(ConnectError::config("schema.registry.url", "at least one URL is required"));
        }
        for u in &urls {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                // Credentials in the URL stay out of the message.
                let shown = match u.split_once('@') {
                    Some((_, host)) => format!("[hidden]@{host}"),
                    None => u.clone(),
                };
                return Err(ConnectError::config(
                    "schema.registry.url",
                    format!("'{shown}' is not an http:// or https:// URL"),
                ));
            }
        }
        let auth = auth(&c, &mut urls)?;
        let timeout = Duration::from_millis(c.long("request.timeout.ms").unwrap_or(30_000) as u64);
        let key = if is_key { "key.subject.name.strategy" } else { "value.subject.name.strategy" };
        let strategy = match c.string(key).rsplit('.').next().unwrap_or_default() {
            "RecordNameStrategy" => Strategy::Record,
            "TopicRecordNameStrategy" => Strategy::TopicRecord,
            _ => Strategy::Topic,
        };
        Ok(Self {
            is_key,
            client: RegistryClient::new(&urls, auth, timeout)?,
            auto_register: c.bool("auto.register.schemas"),
            use_latest: c.bool("use.latest.version"),
            latest_strict: c.bool("latest.compatibility.strict"),
            strategy,
            options: Options { meta: c.bool("connect.meta.data") },
            cache_size: c.long("schemas.cache.size").unwrap_or(1000).max(1) as usize,
            written: Mutex::new(HashMap::new()),
            ids: Mutex::new(HashMap::new()),
            read: Mutex::new(HashMap::new()),
            unreadable: Mutex::new(HashMap::new()),
        })
    }

    fn subject(&self, topic: &str, node: &schema::Node) -> String {
        match self.strategy {
            Strategy::Topic => format!("{topic}-{}", if self.is_key { "key" } else { "value" }),
            Strategy::Record => schema::record_name(node),
            Strategy::TopicRecord => format!("{topic}-{}", schema::record_name(node)),
        }
    }

    /// The id and plan for writing `schema` to `topic`: from the cache, or worked out once.
    fn writer(&self, topic: &str, schema: &Arc<Schema>) -> ConnectResult<Arc<Written>> {
        let ptr = Arc::as_ptr(schema) as usize;
        if let Some(w) = lock(&self.written).get(topic).and_then(|m| m.get(&ptr)) {
            return Ok(w.clone());
        }
        let bad = |e: to_avro::MappingError| ConnectError::data(format!("cannot convert the schema to Avro: {e}"));
        let (node, text) = avro_form(schema, self.options)?;
        let subject = self.subject(topic, &node);
        let key = (subject.clone(), text.clone());
        let cached_id = lock(&self.ids).get(&key).copied();
        let (id, plan) = if self.use_latest {
            let (id, latest_text) = self.client.latest(&subject)?;
            let latest = schema::parse(&latest_text).map_err(|e| {
                ConnectError::data(format!("latest schema of subject {subject} (id {id}) is not usable: {e}"))
            })?;
            if self.latest_strict {
                let ours = apache_avro::Schema::parse_str(&text).map_err(|e| ConnectError::data(e.to_string()))?;
                let theirs =
                    apache_avro::Schema::parse_str(&latest_text).map_err(|e| ConnectError::data(e.to_string()))?;
                apache_avro::schema_compatibility::SchemaCompatibility::can_read(&ours, &theirs).map_err(|e| {
                    ConnectError::data(format!(
                        "the latest schema of subject {subject} (id {id}) cannot read records of schema {text}: {e}"
                    ))
                })?;
            }
            let plan = codec::plan(schema, &latest).map_err(|e| {
                ConnectError::data(format!(
                    "records cannot be written with the latest schema of subject {subject} (id {id}): {e}"
                ))
            })?;
            (id, plan)
        } else {
            let id = match cached_id {
                Some(id) => id,
                None if self.auto_register => self.client.register(&subject, &text)?,
                None => self.client.lookup(&subject, &text)?.0,
            };
            (id, codec::plan(schema, &node).map_err(bad)?)
        };
        {
            let mut ids = lock(&self.ids);
            if ids.len() >= self.cache_size {
                ids.clear();
            }
            ids.insert(key, id);
        }
        let w = Arc::new(Written { _schema: schema.clone(), id, plan });
        let mut written = lock(&self.written);
        if written.values().map(HashMap::len).sum::<usize>() >= self.cache_size {
            written.clear();
        }
        written.entry(topic.to_owned()).or_default().insert(ptr, w.clone());
        Ok(w)
    }

    /// The Connect schema and plan for reading data written with schema `id`.
    fn reader(&self, topic: &str, id: u32) -> ConnectResult<Arc<Read>> {
        if let Some(r) = lock(&self.read).get(&id) {
            return Ok(r.clone());
        }
        if let Some((at, why)) = lock(&self.unreadable).get(&id)
            && at.elapsed() < UNREADABLE_TTL
        {
            return Err(ConnectError::data(why.clone()));
        }
        match self.read_schema(topic, id) {
            Ok(r) => Ok(r),
            Err(e) => {
                // Unreachable registries are retried at once; a definite answer is remembered.
                if !e.is_retriable() {
                    let mut unreadable = lock(&self.unreadable);
                    if unreadable.len() >= self.cache_size {
                        unreadable.clear();
                    }
                    unreadable.insert(id, (std::time::Instant::now(), e.chain()));
                }
                Err(e)
            }
        }
    }

    fn read_schema(&self, topic: &str, id: u32) -> ConnectResult<Arc<Read>> {
        let text = self.client.schema_by_id(id)?;
        let node = schema::parse(&text)
            .map_err(|e| ConnectError::data(format!("schema id {id} from the registry is not usable: {e}")))?;
        // Confluent gives the Connect schema the writer schema's version in its subject when
        // the schema has no connect.version of its own.
        let version = if node.prop("connect.version").is_none() {
            let subject = self.subject(topic, &node);
            match self.client.lookup(&subject, &text) {
                Ok((_, v)) => v.and_then(|v| i32::try_from(v).ok()),
                Err(e) => {
                    tracing::debug!(%subject, id, error = %e.chain(), "no version for the writer schema in its subject");
                    None
                }
            }
        } else {
            None
        };
        let bad = |e: to_avro::MappingError| ConnectError::data(format!("schema id {id}: {e}"));
        let schema = from_avro::to_connect(&node, version, self.options.meta).map_err(bad)?;
        let plan = codec::plan(&schema, &node).map_err(bad)?;
        let r = Arc::new(Read { schema, plan });
        let mut read = lock(&self.read);
        if read.len() >= self.cache_size {
            read.clear();
        }
        read.insert(id, r.clone());
        Ok(r)
    }
}

/// The Avro form of `schema` and its text, checked by apache-avro (some Connect schemas have
/// none: a union of a string and an enum-string would hold two strings).
fn avro_form(schema: &Schema, options: Options) -> ConnectResult<(schema::Node, String)> {
    let bad = |e: String| ConnectError::data(format!("cannot convert the schema to Avro: {e}"));
    let node = to_avro::from_connect(schema, options).map_err(|e| bad(e.0))?;
    let text = schema::to_json(&node).map_err(|e| bad(e.0))?;
    apache_avro::Schema::parse_str(&text).map_err(|e| bad(format!("{e} (in {text})")))?;
    Ok((node, text))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding a cache lock leaves a cache that is still consistent (entries are
    // inserted whole), so poisoning is ignored.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Converter for AvroConverter {
    fn from_connect(&self, topic: &str, schema: Option<&Arc<Schema>>, value: &Value) -> ConnectResult<Option<Vec<u8>>> {
        let mut out = Vec::new();
        Ok(self.from_connect_into(topic, schema, value, &mut out)?.then_some(out))
    }

    fn from_connect_into(
        &self,
        topic: &str,
        schema: Option<&Arc<Schema>>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> ConnectResult<bool> {
        out.clear();
        if value.is_null() {
            return Ok(false);
        }
        let Some(schema) = schema else {
            return Err(ConnectError::data(format!(
                "AvroConverter needs a schema to write a value to topic {topic}; this record's {} has none (schemaless values are not supported)",
                if self.is_key { "key" } else { "value" }
            )));
        };
        let w = self.writer(topic, schema)?;
        out.push(MAGIC);
        out.extend_from_slice(&w.id.to_be_bytes());
        w.plan.encode(value, out).map_err(|e| {
            ConnectError::data(format!("cannot write Avro for topic {topic} (schema id {}): {e}", w.id))
        })?;
        Ok(true)
    }

    fn to_connect(&self, topic: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        let Some(bytes) = bytes else { return Ok(SchemaAndValue::null()) };
        let what = if self.is_key { "key" } else { "value" };
        if bytes.len() < 5 {
            return Err(ConnectError::data(format!(
                "Avro {what} of topic {topic} is {} bytes, shorter than the 5-byte Confluent header (magic byte and schema id)",
                bytes.len()
            )));
        }
        if bytes[0] != MAGIC {
            return Err(ConnectError::data(format!(
                "Unknown magic byte {:#04x} in the Avro {what} of topic {topic}: not Confluent's wire format (magic byte 0)",
                bytes[0]
            )));
        }
        let id = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
        let r = self.reader(topic, id)?;
        let mut reader = Reader::new(&bytes[5..]);
        let value = r.plan.decode(&mut reader).map_err(|e| {
            ConnectError::data(format!("cannot read the Avro {what} of topic {topic} with schema id {id}: {e}"))
        })?;
        if reader.remaining() > 0 {
            return Err(ConnectError::data(format!(
                "the Avro {what} of topic {topic} has {} bytes left after a value of schema id {id}: the data does not match its schema",
                reader.remaining()
            )));
        }
        Ok(SchemaAndValue { schema: Some(r.schema.clone()), value })
    }
}

/// Reads one Avro binary datum written with `writer_schema` (an Avro schema's JSON text) into
/// Connect's form, as the converter does after the 5-byte header: the entry point of the
/// fuzz targets, and for tools that get the schema some other way.
pub fn read_datum(writer_schema: &str, data: &[u8]) -> ConnectResult<SchemaAndValue> {
    let node = schema::parse(writer_schema).map_err(|e| ConnectError::data(e.to_string()))?;
    let schema = from_avro::to_connect(&node, None, true).map_err(|e| ConnectError::data(e.to_string()))?;
    let plan = codec::plan(&schema, &node).map_err(|e| ConnectError::data(e.to_string()))?;
    let mut r = Reader::new(data);
    let value = plan.decode(&mut r).map_err(|e| ConnectError::data(e.to_string()))?;
    if r.remaining() > 0 {
        return Err(ConnectError::data(format!("{} bytes left after the Avro value", r.remaining())));
    }
    Ok(SchemaAndValue { schema: Some(schema), value })
}

/// Writes `value` as one Avro binary datum of the Avro form of `schema`, answering that Avro
/// schema's text too (what the converter registers). The inverse of [`read_datum`].
pub fn write_datum(schema: &Arc<Schema>, value: &Value) -> ConnectResult<(String, Vec<u8>)> {
    let bad = |e: to_avro::MappingError| ConnectError::data(e.to_string());
    let (node, text) = avro_form(schema, Options { meta: true })?;
    let mut out = Vec::new();
    codec::plan(schema, &node).map_err(bad)?.encode(value, &mut out).map_err(bad)?;
    Ok((text, out))
}
