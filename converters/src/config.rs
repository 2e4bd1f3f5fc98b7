//! Kafka Connect's `ConverterConfig`: the `converter.type` key every built-in converter declares,
//! and the way Kafka sets it. Kafka's `Converter.configure(props, isKey)` overwrites it with
//! `key` or `value`, and the worker overwrites it with `header` before it configures a header
//! converter; the factories in [`crate::register`] do the same through [`with_type`].

use std::borrow::Cow;

use tributary_runtime::api::{ConfigDef, ConfigKey, ConfigType, Importance, Props, Validator};

/// Name of the key saying how a converter is used.
pub const TYPE_CONFIG: &str = "converter.type";

/// How a converter instance is used: Kafka's `ConverterType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConverterType {
    /// Record keys.
    Key,
    /// Record values.
    Value,
    /// Record headers.
    Header,
}

impl ConverterType {
    /// The lowercase name Kafka writes into `converter.type`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Key => "key",
            Self::Value => "value",
            Self::Header => "header",
        }
    }

    /// The type for a key or value converter.
    pub fn of(is_key: bool) -> Self {
        if is_key { Self::Key } else { Self::Value }
    }
}

/// The `converter.type` key, as Kafka's `ConverterConfig.newConfigDef` declares it (Kafka's
/// `ValidString`: exact, lowercase names).
pub fn type_key() -> ConfigKey {
    ConfigKey::new(TYPE_CONFIG, ConfigType::String, Importance::Low, "How this converter will be used.")
        .validator(Validator::OneOf(vec!["key", "value", "header"]))
}

/// Kafka's `ConverterConfig.newConfigDef()`: the whole definition of ByteArrayConverter and of
/// the number and boolean converters, and the start of the others'.
pub fn converter_config_def() -> ConfigDef {
    ConfigDef::new().define(type_key())
}

/// `props` with `converter.type` set to `kind`, replacing any value given, as Kafka does.
pub fn with_type(props: &Props, kind: ConverterType) -> Props {
    let mut props = props.clone();
    props.insert(TYPE_CONFIG.to_owned(), kind.name().to_owned());
    props
}

/// `props` with `converter.type=value` added when absent, so the public constructors, like
/// `configure(props, false)` in Kafka, accept settings without it.
pub(crate) fn or_value(props: &Props) -> Cow<'_, Props> {
    if props.contains_key(TYPE_CONFIG) {
        Cow::Borrowed(props)
    } else {
        Cow::Owned(with_type(props, ConverterType::Value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_is_required_and_checked() {
        let def = converter_config_def();
        let err = def.parse(&Props::new()).unwrap_err().to_string();
        assert!(err.contains("Missing required configuration \"converter.type\""), "{err}");
        let bad = Props::from([(TYPE_CONFIG.to_owned(), "both".to_owned())]);
        let err = def.parse(&bad).unwrap_err().to_string();
        assert!(err.contains("String must be one of: key, value, header"), "{err}");
        for kind in [ConverterType::Key, ConverterType::Value, ConverterType::Header] {
            assert_eq!(def.parse(&with_type(&bad, kind)).unwrap().string(TYPE_CONFIG), kind.name());
        }
    }

    #[test]
    fn constructors_default_to_value() {
        assert_eq!(or_value(&Props::new())[TYPE_CONFIG], "value");
        let header = with_type(&Props::new(), ConverterType::Header);
        assert_eq!(or_value(&header)[TYPE_CONFIG], "header");
        assert_eq!(ConverterType::of(true), ConverterType::Key);
    }
}
