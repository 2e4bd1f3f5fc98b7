//! The header transforms that need no field access: `DropHeaders`, `InsertHeader`, and
//! `Filter`, which drops every record (used with a predicate).

use std::collections::HashSet;

use crate::api::{
    ConfigDef, ConfigKey, ConfigType, ConnectRecord, ConnectResult, Importance, Props, Schema, Transformation, Value,
};

use super::util::configure;
use super::validators::{non_empty_list, non_null};
use super::values_parse::parse_string;

/// Kafka's `DropHeaders.CONFIG_DEF`.
pub(crate) fn drop_headers_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new("headers", ConfigType::List, Importance::High, "The name of the headers to be removed.")
            .validator(non_empty_list()),
    )
}

/// Removes every header whose key is listed.
pub(crate) struct DropHeaders {
    keys: HashSet<String>,
}

impl DropHeaders {
    /// Configures one.
    pub(crate) fn create(props: &Props) -> ConnectResult<Box<dyn Transformation>> {
        let c = configure(&drop_headers_def(), props)?;
        Ok(Box::new(Self { keys: c.list("headers").into_iter().collect() }))
    }
}

impl Transformation for DropHeaders {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        record.headers_mut().retain(|h| !self.keys.contains(h.key.as_ref()));
        Ok(true)
    }
}

/// Kafka's `InsertHeader.CONFIG_DEF`.
pub(crate) fn insert_header_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("header", ConfigType::String, Importance::High, "The name of the header.")
                .validator(non_null()),
        )
        .define(
            ConfigKey::new(
                "value.literal",
                ConfigType::String,
                Importance::High,
                "The literal value that is to be set as the header value on all records.",
            )
            .validator(non_null()),
        )
}

/// Adds one header, whose value is the literal parsed as Kafka's `Values.parseString` does.
pub(crate) struct InsertHeader {
    key: String,
    schema: Option<std::sync::Arc<Schema>>,
    value: Value,
}

impl InsertHeader {
    /// Configures one.
    pub(crate) fn create(props: &Props) -> ConnectResult<Box<dyn Transformation>> {
        let c = configure(&insert_header_def(), props)?;
        let (schema, value) = parse_string(&c.string("value.literal"));
        Ok(Box::new(Self { key: c.string("header"), schema, value }))
    }
}

impl Transformation for InsertHeader {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        record.headers_mut().add(self.key.clone(), self.schema.clone(), self.value.clone());
        Ok(true)
    }
}

/// Kafka's `Filter.CONFIG_DEF`: no keys.
pub(crate) fn filter_def() -> ConfigDef {
    ConfigDef::new()
}

/// Drops every record.
pub(crate) struct Filter;

impl Filter {
    /// Configures one.
    pub(crate) fn create(props: &Props) -> ConnectResult<Box<dyn Transformation>> {
        configure(&filter_def(), props)?;
        Ok(Box::new(Self))
    }
}

impl Transformation for Filter {
    fn apply(&mut self, _record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::SourceRecord;

    fn props(kv: &[(&str, &str)]) -> Props {
        kv.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn drop_headers_removes_every_header_of_listed_keys() {
        let mut r = SourceRecord::new(crate::api::OffsetMap::new(), Default::default(), "t", None, Value::Null);
        r.headers.add_string("a", "1");
        r.headers.add_string("b", "2");
        r.headers.add_string("a", "3");
        DropHeaders::create(&props(&[("headers", "a,x")])).unwrap().apply(&mut r).unwrap();
        assert_eq!(r.headers.iter().map(|h| h.key.as_ref()).collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn insert_header_infers_the_literal_type() {
        let mut r = SourceRecord::new(crate::api::OffsetMap::new(), Default::default(), "t", None, Value::Null);
        InsertHeader::create(&props(&[("header", "h"), ("value.literal", "42")])).unwrap().apply(&mut r).unwrap();
        assert_eq!(r.headers.last("h").unwrap().value, Value::Int8(42));
    }

    #[test]
    fn filter_drops_the_record() {
        let mut r = SourceRecord::new(crate::api::OffsetMap::new(), Default::default(), "t", None, Value::Null);
        assert!(!Filter::create(&Props::new()).unwrap().apply(&mut r).unwrap());
    }
}
