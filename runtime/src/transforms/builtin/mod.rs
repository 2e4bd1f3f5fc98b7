//! The transforms and predicates Kafka Connect ships (`connect-transforms` 4.1), registered
//! under Kafka's class names (`org.apache.kafka.connect.transforms.Cast$Value`...).
//!
//! Each transform is configured once per task from its `ConfigDef` (the same keys, defaults,
//! documentation and validator messages as Kafka's), keeps a bounded cache of derived schemas,
//! and works on the key or the value through [`util::Side`]. Errors are data errors with
//! Kafka's messages, naming Java classes where Kafka does (`found: java.lang.String`), so logs
//! and dead letter queue headers read the same.

mod cast;
mod civil;
mod date_format;
mod extract_field;
mod field_path;
mod flatten;
mod header_from;
mod headers;
mod hoist_field;
mod insert_field;
mod java_regex;
mod java_text;
mod mask_field;
mod predicates;
mod replace_field;
mod routers;
mod set_schema_metadata;
mod timestamp_converter;
mod util;
mod validators;
mod value_to_key;
mod values_parse;

use crate::api::{ConfigDef, TransformFactory};
use crate::plugins::{PredicatePlugin, Registry, TransformPlugin};

use util::Side;

fn transform(class: &'static str, factory: TransformFactory, config_def: fn() -> ConfigDef) -> TransformPlugin {
    TransformPlugin { class, aliases: &[], factory, config_def }
}

/// Registers `$Key` and `$Value` variants of a transform built by `$ty::create(side, props)`.
macro_rules! key_value {
    ($registry:expr, $name:literal, $ty:path, $def:path) => {
        $registry.add_transform(transform(
            concat!("org.apache.kafka.connect.transforms.", $name, "$Key"),
            |p| <$ty>::create(Side::Key, p),
            $def,
        ));
        $registry.add_transform(transform(
            concat!("org.apache.kafka.connect.transforms.", $name, "$Value"),
            |p| <$ty>::create(Side::Value, p),
            $def,
        ));
    };
}

/// Adds every built-in transform and predicate.
pub(crate) fn register(registry: &mut Registry) {
    key_value!(registry, "Cast", cast::Cast, cast::config_def);
    registry.add_transform(transform(
        "org.apache.kafka.connect.transforms.DropHeaders",
        headers::DropHeaders::create,
        headers::drop_headers_def,
    ));
    key_value!(registry, "ExtractField", extract_field::ExtractField, extract_field::config_def);
    registry.add_transform(transform(
        "org.apache.kafka.connect.transforms.Filter",
        headers::Filter::create,
        headers::filter_def,
    ));
    key_value!(registry, "Flatten", flatten::Flatten, flatten::config_def);
    key_value!(registry, "HeaderFrom", header_from::HeaderFrom, header_from::config_def);
    key_value!(registry, "HoistField", hoist_field::HoistField, hoist_field::config_def);
    key_value!(registry, "InsertField", insert_field::InsertField, insert_field::config_def);
    registry.add_transform(transform(
        "org.apache.kafka.connect.transforms.InsertHeader",
        headers::InsertHeader::create,
        headers::insert_header_def,
    ));
    key_value!(registry, "MaskField", mask_field::MaskField, mask_field::config_def);
    registry.add_transform(transform(
        "org.apache.kafka.connect.transforms.RegexRouter",
        routers::RegexRouter::create,
        routers::regex_router_def,
    ));
    key_value!(registry, "ReplaceField", replace_field::ReplaceField, replace_field::config_def);
    key_value!(registry, "SetSchemaMetadata", set_schema_metadata::SetSchemaMetadata, set_schema_metadata::config_def);
    key_value!(
        registry,
        "TimestampConverter",
        timestamp_converter::TimestampConverter,
        timestamp_converter::config_def
    );
    registry.add_transform(transform(
        "org.apache.kafka.connect.transforms.TimestampRouter",
        routers::TimestampRouter::create,
        routers::timestamp_router_def,
    ));
    registry.add_transform(transform(
        "org.apache.kafka.connect.transforms.ValueToKey",
        value_to_key::ValueToKey::create,
        value_to_key::config_def,
    ));
    let predicate = |class, factory, config_def| PredicatePlugin { class, aliases: &[], factory, config_def };
    registry.add_predicate(predicate(
        "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
        predicates::HasHeaderKey::create,
        predicates::has_header_key_def,
    ));
    registry.add_predicate(predicate(
        "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
        predicates::RecordIsTombstone::create,
        predicates::record_is_tombstone_def,
    ));
    registry.add_predicate(predicate(
        "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        predicates::TopicNameMatches::create,
        predicates::topic_name_matches_def,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_the_26_transforms_and_3_predicates_kafka_lists() {
        let mut r = Registry::new();
        register(&mut r);
        assert_eq!(r.transforms().len(), 26);
        assert_eq!(r.predicates().len(), 3);
        assert!(r.transform("Cast$Value").is_ok());
        assert!(r.transform("org.apache.kafka.connect.transforms.InsertField$Key").is_ok());
        assert!(r.predicate("TopicNameMatches").is_ok());
    }
}
