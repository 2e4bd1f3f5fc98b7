//! Converters for Tributary: Kafka Connect's JsonConverter, StringConverter and
//! ByteArrayConverter, Confluent's AvroConverter, and the SimpleHeaderConverter. [`register`] adds them to a registry
//! under their Kafka Connect class names.

pub mod avro;
pub mod bytes;
pub mod json;
pub mod registry;
pub mod string;

use std::sync::Arc;

use tributary_runtime::api::{ConfigDef, ConnectResult, Converter, HeaderConverter, Props};
use tributary_runtime::plugins::{ConverterPlugin, HeaderConverterPlugin, Registry};

fn json(props: &Props, _is_key: bool) -> ConnectResult<Box<dyn Converter>> {
    Ok(Box::new(json::JsonConverter::new(props)?))
}
fn string(props: &Props, _is_key: bool) -> ConnectResult<Box<dyn Converter>> {
    Ok(Box::new(string::StringConverter::new(props)?))
}
fn bytes(_props: &Props, _is_key: bool) -> ConnectResult<Box<dyn Converter>> {
    Ok(Box::new(bytes::ByteArrayConverter))
}
fn avro(props: &Props, is_key: bool) -> ConnectResult<Box<dyn Converter>> {
    Ok(Box::new(avro::AvroConverter::new(props, is_key)?))
}
fn simple_header(_props: &Props) -> ConnectResult<Box<dyn HeaderConverter>> {
    Ok(Box::new(string::SimpleHeaderConverter))
}

/// Adds every converter of this crate to `registry`.
pub fn register(registry: &mut Registry) {
    registry.add_converter(ConverterPlugin {
        class: json::CLASS,
        aliases: &["json"],
        factory: Arc::new(json),
        config_def: json::config_def,
    });
    registry.add_converter(ConverterPlugin {
        class: string::CLASS,
        aliases: &["string"],
        factory: Arc::new(string),
        config_def: string::config_def,
    });
    registry.add_converter(ConverterPlugin {
        class: bytes::CLASS,
        aliases: &["bytes"],
        factory: Arc::new(bytes),
        config_def: ConfigDef::new,
    });
    registry.add_converter(ConverterPlugin {
        class: avro::CLASS,
        aliases: &["avro"],
        factory: Arc::new(avro),
        config_def: avro::config_def,
    });
    registry.add_header_converter(HeaderConverterPlugin {
        class: string::HEADER_CLASS,
        aliases: &[],
        factory: simple_header,
        config_def: string::config_def,
    });
}
