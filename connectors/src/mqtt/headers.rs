//! Kafka headers of MQTT messages: the names the source writes, and the MQTT 5 properties the
//! sink reads back from the same names, so MQTT → Kafka → MQTT keeps them.
//!
//! | header | from |
//! |---|---|
//! | `mqtt.topic`, `mqtt.qos`, `mqtt.retained`, `mqtt.message.id` | every message (as Confluent's connector) |
//! | `mqtt.user.<name>` (string) | each MQTT 5 user property, in order, repeats kept |
//! | `mqtt.content.type` (string) | MQTT 5 content type |
//! | `mqtt.correlation.data` (bytes) | MQTT 5 correlation data |
//! | `mqtt.response.topic` (string) | MQTT 5 response topic |
//!
//! User properties are prefixed rather than written under their own names: an MQTT user
//! property may be called anything, `mqtt.qos` or a tracing header included, and the prefix
//! keeps it from shadowing the connector's headers or other applications' ones; the sink then
//! knows exactly which headers to publish as user properties, and which to leave alone.

use std::sync::Arc;

use tributary_runtime::api::{ConnectError, ConnectResult, Headers, Schema, SinkRecord, Value};

use super::protocol::Properties;

/// The MQTT topic of the message.
pub(super) const TOPIC: &str = "mqtt.topic";
/// Its QoS (0, 1 or 2).
pub(super) const QOS: &str = "mqtt.qos";
/// Whether it was a retained message.
pub(super) const RETAINED: &str = "mqtt.retained";
/// Its packet id (0 with QoS 0).
pub(super) const MESSAGE_ID: &str = "mqtt.message.id";
/// Prefix of the headers carrying MQTT 5 user properties.
pub(super) const USER_PREFIX: &str = "mqtt.user.";
/// MQTT 5 content type.
pub(super) const CONTENT_TYPE: &str = "mqtt.content.type";
/// MQTT 5 correlation data.
pub(super) const CORRELATION_DATA: &str = "mqtt.correlation.data";
/// MQTT 5 response topic.
pub(super) const RESPONSE_TOPIC: &str = "mqtt.response.topic";

/// Adds the headers of a message's MQTT 5 properties.
pub(super) fn add_properties(headers: &mut Headers, p: &Properties, string: &Arc<Schema>, bytes: &Arc<Schema>) {
    for (name, value) in &p.user {
        headers.add(format!("{USER_PREFIX}{name}"), Some(string.clone()), Value::String(value.clone()));
    }
    if let Some(t) = &p.content_type {
        headers.add(CONTENT_TYPE, Some(string.clone()), Value::String(t.clone()));
    }
    if let Some(d) = &p.correlation_data {
        headers.add(CORRELATION_DATA, Some(bytes.clone()), Value::Bytes(d.to_vec()));
    }
    if let Some(t) = &p.response_topic {
        headers.add(RESPONSE_TOPIC, Some(string.clone()), Value::String(t.clone()));
    }
}

/// The MQTT 5 properties a record's headers ask for; `None` when it has none of them.
/// A header that cannot be a property (a user property that is not text, a response topic with
/// wildcards) is a data error naming the header and the record.
pub(super) fn properties(record: &SinkRecord) -> ConnectResult<Option<Properties>> {
    let mut p = Properties::default();
    let mut any = false;
    for h in record.headers.iter() {
        if matches!(h.value, Value::Null) {
            continue;
        }
        if let Some(name) = h.key.strip_prefix(USER_PREFIX) {
            p.user.push((name.to_owned(), text(record, &h.key, &h.value)?));
        } else if h.key == CONTENT_TYPE {
            p.content_type = Some(text(record, &h.key, &h.value)?);
        } else if h.key == RESPONSE_TOPIC {
            let topic = text(record, &h.key, &h.value)?;
            if topic.is_empty() || topic.contains(['+', '#', '\0']) {
                return Err(bad(record, &h.key, "an MQTT topic name: not empty, no + # or NUL"));
            }
            p.response_topic = Some(topic);
        } else if h.key == CORRELATION_DATA {
            p.correlation_data = Some(match &h.value {
                Value::Bytes(b) => b.clone().into(),
                other => text(record, &h.key, other)?.into_bytes().into(),
            });
        } else {
            continue;
        }
        any = true;
    }
    Ok(any.then_some(p))
}

/// A header value as MQTT 5 text (UTF-8): strings, UTF-8 bytes, and numbers or booleans in
/// their usual form.
fn text(record: &SinkRecord, key: &str, v: &Value) -> ConnectResult<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bytes(b) => String::from_utf8(b.clone()).map_err(|_| bad(record, key, "UTF-8 text")),
        Value::Int8(_) | Value::Int16(_) | Value::Int32(_) | Value::Int64(_) | Value::Boolean(_) => Ok(v.to_string()),
        Value::Float32(_) | Value::Float64(_) => Ok(v.to_string()),
        _ => Err(bad(record, key, "text")),
    }
}

fn bad(record: &SinkRecord, key: &str, expected: &str) -> ConnectError {
    ConnectError::data(format!(
        "the header '{key}' of the record at {}-{}@{} must be {expected} to become an MQTT 5 property",
        record.topic, record.kafka_partition, record.kafka_offset
    ))
}
