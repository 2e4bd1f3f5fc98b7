//! Converters for Tributary: Kafka Connect's JsonConverter, StringConverter, ByteArrayConverter,
//! BooleanConverter and number converters (Short, Integer, Long, Float, Double), Confluent's
//! AvroConverter, and the SimpleHeaderConverter. [`register`] adds them to a registry under
//! their Kafka Connect class names; as in Kafka Connect, every one of Kafka's own converters is
//! registered as a header converter too (same class name, same bytes).

pub mod avro;
pub mod boolean;
pub mod bytes;
pub mod config;
pub mod json;
pub mod number;
pub mod registry;
pub mod string;

use std::sync::Arc;

use tributary_runtime::api::{ConfigDef, ConnectResult, Converter, HeaderConverter, Props};
use tributary_runtime::plugins::{ConverterPlugin, HeaderConverterPlugin, Registry};

use config::{ConverterType, with_type};
use number::{NumberConverter, NumberType};

fn json(props: &Props, is_key: bool) -> ConnectResult<Box<dyn Converter>> {
    Ok(Box::new(json::JsonConverter::new(&with_type(props, ConverterType::of(is_key)))?))
}
fn string(props: &Props, is_key: bool) -> ConnectResult<Box<dyn Converter>> {
    Ok(Box::new(string::StringConverter::new(&with_type(props, ConverterType::of(is_key)))?))
}
fn bytes(_props: &Props, _is_key: bool) -> ConnectResult<Box<dyn Converter>> {
    Ok(Box::new(bytes::ByteArrayConverter))
}
fn avro(props: &Props, is_key: bool) -> ConnectResult<Box<dyn Converter>> {
    Ok(Box::new(avro::AvroConverter::new(props, is_key)?))
}
fn boolean(props: &Props, is_key: bool) -> ConnectResult<Box<dyn Converter>> {
    Ok(Box::new(boolean::BooleanConverter::new(&with_type(props, ConverterType::of(is_key)))?))
}

fn simple_header(_props: &Props) -> ConnectResult<Box<dyn HeaderConverter>> {
    Ok(Box::new(string::SimpleHeaderConverter))
}
fn json_header(props: &Props) -> ConnectResult<Box<dyn HeaderConverter>> {
    Ok(Box::new(json::JsonConverter::new(&with_type(props, ConverterType::Header))?))
}
fn string_header(props: &Props) -> ConnectResult<Box<dyn HeaderConverter>> {
    Ok(Box::new(string::StringConverter::new(&with_type(props, ConverterType::Header))?))
}
fn bytes_header(_props: &Props) -> ConnectResult<Box<dyn HeaderConverter>> {
    Ok(Box::new(bytes::ByteArrayConverter))
}
fn boolean_header(props: &Props) -> ConnectResult<Box<dyn HeaderConverter>> {
    Ok(Box::new(boolean::BooleanConverter::new(&with_type(props, ConverterType::Header))?))
}

/// Converter and header converter factories of one number converter.
macro_rules! number_factories {
    ($kind:ident, $conv:ident, $header:ident) => {
        fn $conv(props: &Props, is_key: bool) -> ConnectResult<Box<dyn Converter>> {
            Ok(Box::new(NumberConverter::new(NumberType::$kind, &with_type(props, ConverterType::of(is_key)))?))
        }
        fn $header(props: &Props) -> ConnectResult<Box<dyn HeaderConverter>> {
            Ok(Box::new(NumberConverter::new(NumberType::$kind, &with_type(props, ConverterType::Header))?))
        }
    };
}
number_factories!(Short, short, short_header);
number_factories!(Integer, integer, integer_header);
number_factories!(Long, long, long_header);
number_factories!(Float, float, float_header);
number_factories!(Double, double, double_header);

/// One of Kafka's converters, which are header converters too.
struct KafkaConverter {
    class: &'static str,
    aliases: &'static [&'static str],
    converter: fn(&Props, bool) -> ConnectResult<Box<dyn Converter>>,
    header: fn(&Props) -> ConnectResult<Box<dyn HeaderConverter>>,
    config_def: fn() -> ConfigDef,
}

const KAFKA_CONVERTERS: [KafkaConverter; 9] = [
    KafkaConverter {
        class: json::CLASS,
        aliases: &["json"],
        converter: json,
        header: json_header,
        config_def: json::config_def,
    },
    KafkaConverter {
        class: string::CLASS,
        aliases: &["string"],
        converter: string,
        header: string_header,
        config_def: string::config_def,
    },
    KafkaConverter {
        class: bytes::CLASS,
        aliases: &["bytes"],
        converter: bytes,
        header: bytes_header,
        config_def: bytes::config_def,
    },
    KafkaConverter {
        class: boolean::CLASS,
        aliases: &[],
        converter: boolean,
        header: boolean_header,
        config_def: boolean::config_def,
    },
    KafkaConverter {
        class: number::SHORT_CLASS,
        aliases: &[],
        converter: short,
        header: short_header,
        config_def: number::config_def,
    },
    KafkaConverter {
        class: number::INTEGER_CLASS,
        aliases: &[],
        converter: integer,
        header: integer_header,
        config_def: number::config_def,
    },
    KafkaConverter {
        class: number::LONG_CLASS,
        aliases: &[],
        converter: long,
        header: long_header,
        config_def: number::config_def,
    },
    KafkaConverter {
        class: number::FLOAT_CLASS,
        aliases: &[],
        converter: float,
        header: float_header,
        config_def: number::config_def,
    },
    KafkaConverter {
        class: number::DOUBLE_CLASS,
        aliases: &[],
        converter: double,
        header: double_header,
        config_def: number::config_def,
    },
];

/// Adds every converter of this crate to `registry`. Simple class names (`IntegerConverter`)
/// and names without the `Converter` suffix (`Integer`) resolve through the registry itself,
/// as Kafka Connect's plugin aliases do.
pub fn register(registry: &mut Registry) {
    for KafkaConverter { class, aliases, converter, header, config_def } in KAFKA_CONVERTERS {
        registry.add_converter(ConverterPlugin { class, aliases, factory: Arc::new(converter), config_def });
        registry.add_header_converter(HeaderConverterPlugin { class, aliases, factory: header, config_def });
    }
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
        config_def: ConfigDef::new,
    });
}

#[cfg(test)]
mod tests;
