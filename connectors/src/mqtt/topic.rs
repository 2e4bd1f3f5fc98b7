//! MQTT topic filters and topic templates: validation, the source's Kafka topic mapping and
//! the sink's MQTT topic rendering.

use tributary_runtime::api::{ConnectError, ConnectResult, SinkRecord, Value};

/// Checks an MQTT topic filter (MQTT 3.1.1 §4.7): non-empty, at most 65535 bytes, no NUL,
/// `#` only as the whole last level, `+` only as a whole level; `$share/<group>/<filter>`
/// needs a group without wildcards and a valid filter.
pub(super) fn validate_filter(filter: &str) -> Result<(), String> {
    if filter.is_empty() {
        return Err("an MQTT topic filter must not be empty".into());
    }
    if filter.len() > 65535 {
        return Err(format!("the MQTT topic filter '{filter:.40}...' is longer than 65535 bytes"));
    }
    if filter.contains('\0') {
        return Err(format!("the MQTT topic filter '{filter}' contains a NUL character"));
    }
    let inner = match filter.strip_prefix("$share/") {
        Some(rest) => {
            let Some((group, inner)) = rest.split_once('/') else {
                return Err(format!("the shared subscription '{filter}' must be $share/<group>/<filter>"));
            };
            if group.is_empty() || group.contains(['+', '#']) {
                return Err(format!(
                    "the shared subscription '{filter}' needs a group name without + or # after $share/"
                ));
            }
            if inner.is_empty() {
                return Err(format!("the shared subscription '{filter}' has no topic filter after its group"));
            }
            inner
        }
        None => filter,
    };
    let levels: Vec<&str> = inner.split('/').collect();
    for (i, level) in levels.iter().enumerate() {
        if level.contains('#') && (*level != "#" || i + 1 != levels.len()) {
            return Err(format!(
                "the MQTT topic filter '{filter}' is malformed: # must be a whole level and the last one (e.g. sensors/#)"
            ));
        }
        if level.contains('+') && *level != "+" {
            return Err(format!(
                "the MQTT topic filter '{filter}' is malformed: + must be a whole level (e.g. sensors/+/temp)"
            ));
        }
    }
    Ok(())
}

/// Whether a filter is a shared subscription, which several tasks can subscribe to at once.
pub(super) fn is_shared(filter: &str) -> bool {
    filter.starts_with("$share/")
}

/// Checks the placeholders of a template: `${topic}`, `${key}`, `${header:NAME}`,
/// `${field:PATH}`.
pub(super) fn validate_topic_template(template: &str) -> Result<(), String> {
    if template.is_empty() {
        return Err("a topic must not be empty".into());
    }
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("'{template}' has a ${{ without its closing }}"));
        };
        let name = &after[..end];
        let named = |prefix: &str| {
            name.strip_prefix(prefix).is_some_and(|n| !n.is_empty() && n.split('.').all(|p| !p.is_empty()))
        };
        let known = name == "topic" || name == "key" || named("header:") || named("field:");
        if !known {
            return Err(format!(
                "'{template}' has the unknown placeholder ${{{name}}}: use ${{topic}}, ${{key}}, ${{header:NAME}} or \
                 ${{field:PATH}}"
            ));
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

/// The source's Kafka topic for an MQTT topic: `template` with `${topic}` replaced by the MQTT
/// topic, `/` mapped to `slash` and any character Kafka does not allow mapped to `_`.
pub(super) fn kafka_topic(template: &str, mqtt_topic: &str, slash: char) -> String {
    let mapped: String = mqtt_topic
        .chars()
        .map(|c| match c {
            '/' => slash,
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') => c,
            _ => '_',
        })
        .collect();
    template.replace("${topic}", &mapped)
}

/// The sink's MQTT topic for a record.
pub(super) fn render_sink_topic(template: &str, record: &SinkRecord) -> ConnectResult<String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| ConnectError::fatal(format!("bad topic template '{template}'")))?;
        let name = &after[..end];
        let part = if name == "topic" {
            record.topic.clone()
        } else if name == "key" {
            text(&record.key).ok_or_else(|| {
                ConnectError::data(format!(
                    "mqtt.topic uses ${{key}} but the record at {}-{}@{} has a {} key",
                    record.topic,
                    record.kafka_partition,
                    record.kafka_offset,
                    record.key.type_name()
                ))
            })?
        } else if let Some(h) = name.strip_prefix("header:") {
            record.headers.last(h).and_then(|h| text(&h.value)).ok_or_else(|| {
                ConnectError::data(format!(
                    "mqtt.topic uses ${{header:{h}}} but the record at {}-{}@{} has no such header (or not a text one)",
                    record.topic, record.kafka_partition, record.kafka_offset
                ))
            })?
        } else if let Some(path) = name.strip_prefix("field:") {
            field(&record.value, path).and_then(text).ok_or_else(|| {
                ConnectError::data(format!(
                    "mqtt.topic uses ${{field:{path}}} but the value of the record at {}-{}@{} has no such field (or \
                     not a text or number one)",
                    record.topic, record.kafka_partition, record.kafka_offset
                ))
            })?
        } else {
            return Err(ConnectError::fatal(format!("bad topic template '{template}'")));
        };
        out.push_str(&part);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    if out.is_empty() || out.contains(['+', '#', '\0']) {
        return Err(ConnectError::data(format!(
            "the MQTT topic '{out}' rendered from '{template}' for the record at {}-{}@{} is empty or contains + # or NUL",
            record.topic, record.kafka_partition, record.kafka_offset
        )));
    }
    Ok(out)
}

/// The field at a dotted `path` of a struct value, or of a map with string keys (a
/// schemaless JSON object).
fn field<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, name| match v {
        Value::Struct(s) => s.get(name),
        Value::Map(entries) => entries.iter().find(|(k, _)| matches!(k, Value::String(k) if k == name)).map(|(_, v)| v),
        _ => None,
    })
}

/// A value as topic text: strings, UTF-8 bytes and numbers.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bytes(b) => String::from_utf8(b.clone()).ok(),
        Value::Int8(n) => Some(n.to_string()),
        Value::Int16(n) => Some(n.to_string()),
        Value::Int32(n) => Some(n.to_string()),
        Value::Int64(n) => Some(n.to_string()),
        Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}
