//! `ExtractField$Key` / `ExtractField$Value`: replaces the key or value with one of its fields
//! (nested with `field.syntax.version=V2`).

use crate::api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, ConnectResult, Importance, Props, Transformation,
    Validator,
};

use super::field_path::{FIELD_SYNTAX_VERSION, FIELD_SYNTAX_VERSION_DOC, FieldPath};
use super::util::{REPLACE_NULL, REPLACE_NULL_DOC, Side, configure, require_map, require_struct};

const PURPOSE: &str = "field extraction";

/// Kafka's `ExtractField.CONFIG_DEF`.
pub(crate) fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(ConfigKey::new("field", ConfigType::String, Importance::Medium, "Field name to extract."))
        .define(ConfigKey::new(REPLACE_NULL, ConfigType::Boolean, Importance::Medium, REPLACE_NULL_DOC).default("true"))
        .define(
            ConfigKey::new(FIELD_SYNTAX_VERSION, ConfigType::String, Importance::High, FIELD_SYNTAX_VERSION_DOC)
                .default("V1")
                .validator(Validator::OneOfIgnoreCase(vec!["V1", "V2"])),
        )
}

/// The configured transform.
pub(crate) struct ExtractField {
    side: Side,
    original: String,
    path: FieldPath,
    replace_null_with_default: bool,
}

impl ExtractField {
    /// Configures one for `side`.
    pub(crate) fn create(side: Side, props: &Props) -> ConnectResult<Box<dyn Transformation>> {
        let c = configure(&config_def(), props)?;
        let original = c.string("field");
        let path = FieldPath::parse(&original, &c.string(FIELD_SYNTAX_VERSION))?;
        Ok(Box::new(Self { side, original, path, replace_null_with_default: c.bool(REPLACE_NULL) }))
    }
}

impl Transformation for ExtractField {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let side = self.side;
        match side.schema(record).cloned() {
            None => {
                let value = side.value(record);
                let extracted = if value.is_null() {
                    crate::api::Value::Null
                } else {
                    self.path.value_from_map(require_map(value, PURPOSE)?)?
                };
                side.set(record, None, extracted);
            }
            Some(schema) => {
                let value = side.value(record);
                if !value.is_null() {
                    require_struct(Some(&schema), value, PURPOSE)?;
                }
                let field = self
                    .path
                    .field_from(&schema)
                    .ok_or_else(|| ConnectError::data(format!("Unknown field: {}", self.original)))?;
                let field_schema = field.schema.clone();
                let extracted = match value {
                    crate::api::Value::Struct(s) => self.path.value_from_struct(s, self.replace_null_with_default)?,
                    _ => crate::api::Value::Null,
                };
                side.set(record, Some(field_schema), extracted);
            }
        }
        Ok(true)
    }
}
