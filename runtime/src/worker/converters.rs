//! The converters of one task, chosen as Kafka Connect chooses them: the connector's
//! `key.converter` / `value.converter` / `header.converter` (with its own prefixed settings)
//! when set, else the worker's.

use std::collections::BTreeMap;
use std::sync::Arc;

use rdkafka::message::{BorrowedHeaders, Header as KafkaHeader, Headers as _, OwnedHeaders};

use crate::api::{ConnectError, ConnectResult, Converter, HeaderConverter, Headers, Props};
use crate::plugins::Registry;

use super::config::{WorkerConfig, strip_prefix};

/// Default header converter, as in Kafka Connect.
pub const DEFAULT_HEADER_CONVERTER: &str = "org.apache.kafka.connect.storage.SimpleHeaderConverter";

/// Key, value and header converters of one task.
#[derive(Debug, Clone)]
pub struct TaskConverters {
    /// Key converter.
    pub key: Arc<dyn Converter>,
    /// Value converter.
    pub value: Arc<dyn Converter>,
    /// Header converter.
    pub header: Arc<dyn HeaderConverter>,
}

fn settings(worker: &WorkerConfig, connector: &Props, prefix: &str) -> Option<(String, BTreeMap<String, String>)> {
    let key = prefix.trim_end_matches('.');
    if let Some(class) = connector.get(key) {
        return Some((class.clone(), strip_prefix(connector, prefix)));
    }
    worker.props.get(key).map(|class| (class.clone(), strip_prefix(&worker.props, prefix)))
}

impl TaskConverters {
    /// Resolves the converters for a connector's tasks.
    pub fn resolve(registry: &Registry, worker: &WorkerConfig, connector: &Props) -> ConnectResult<Self> {
        let build = |prefix: &str, is_key: bool| -> ConnectResult<Arc<dyn Converter>> {
            let (class, cfg) = settings(worker, connector, prefix)
                .unwrap_or_else(|| (super::config::DEFAULT_CONVERTER.to_owned(), BTreeMap::new()));
            let plugin = registry
                .converter(&class)
                .map_err(|e| ConnectError::config(prefix.trim_end_matches('.'), e.to_string()))?;
            Ok(Arc::from(plugin.factory.create(&cfg, is_key)?))
        };
        let (hclass, hcfg) = settings(worker, connector, "header.converter.")
            .unwrap_or((DEFAULT_HEADER_CONVERTER.to_owned(), BTreeMap::new()));
        let header =
            registry.header_converter(&hclass).map_err(|e| ConnectError::config("header.converter", e.to_string()))?;
        Ok(Self {
            key: build("key.converter.", true)?,
            value: build("value.converter.", false)?,
            header: Arc::from((header.factory)(&hcfg)?),
        })
    }

    /// Kafka headers for a record's Connect headers.
    pub(crate) fn headers(&self, topic: &str, headers: &Headers) -> ConnectResult<Option<OwnedHeaders>> {
        if headers.is_empty() {
            return Ok(None);
        }
        let mut out = OwnedHeaders::new_with_capacity(headers.len());
        for h in headers {
            let bytes = self.header.from_connect_header(topic, &h.key, h.schema.as_deref(), &h.value).map_err(|e| {
                ConnectError::data(format!("cannot convert header '{}' of a record for topic {topic}: {e}", h.key))
            })?;
            out = out.insert(KafkaHeader { key: &h.key, value: bytes.as_deref() });
        }
        Ok(Some(out))
    }

    /// Connect headers of a consumed record.
    pub(crate) fn read_headers(&self, topic: &str, headers: Option<&BorrowedHeaders>) -> ConnectResult<Headers> {
        let mut out = Headers::new();
        if let Some(hs) = headers {
            for h in hs.iter() {
                let sv = self.header.to_connect_header(topic, h.key, h.value)?;
                out.add(h.key.to_owned(), sv.schema, sv.value);
            }
        }
        Ok(out)
    }
}
