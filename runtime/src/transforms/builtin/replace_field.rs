//! `ReplaceField$Key` / `ReplaceField$Value`: keeps, drops and renames top-level fields.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::api::{
    ConfigDef, ConfigKey, ConfigType, ConnectRecord, ConnectResult, Importance, Props, Schema, SchemaBuilder,
    Transformation, Value,
};

use super::util::{
    REPLACE_NULL, REPLACE_NULL_DOC, SchemaCache, Side, build_struct, configure, copy_schema_basics, data_err,
    field_value, require_map, require_struct,
};
use super::validators::list_check;

const PURPOSE: &str = "field replacement";

fn parse_renames(mappings: &[String]) -> Result<Vec<(String, String)>, String> {
    mappings
        .iter()
        .map(|m| {
            let parts: Vec<&str> = m.split(':').collect();
            match parts.as_slice() {
                [from, to] if !to.is_empty() => Ok(((*from).to_owned(), (*to).to_owned())),
                _ => Err(format!("Invalid rename mapping: {m}")),
            }
        })
        .collect()
}

/// Kafka's `ReplaceField.CONFIG_DEF`.
pub(crate) fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(
                "exclude",
                ConfigType::List,
                Importance::Medium,
                "Fields to exclude. This takes precedence over the fields to include.",
            )
            .default(""),
        )
        .define(
            ConfigKey::new(
                "include",
                ConfigType::List,
                Importance::Medium,
                "Fields to include. If specified, only these fields will be used.",
            )
            .default(""),
        )
        .define(
            ConfigKey::new("renames", ConfigType::List, Importance::Medium, "Field rename mappings.")
                .default("")
                .validator(list_check(|l| parse_renames(l).map(drop))),
        )
        .define(ConfigKey::new(REPLACE_NULL, ConfigType::Boolean, Importance::Medium, REPLACE_NULL_DOC).default("true"))
}

/// The configured transform.
pub(crate) struct ReplaceField {
    side: Side,
    exclude: HashSet<String>,
    include: HashSet<String>,
    renames: HashMap<String, String>,
    reverse: HashMap<String, String>,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

impl ReplaceField {
    /// Configures one for `side`.
    pub(crate) fn create(side: Side, props: &Props) -> ConnectResult<Box<dyn Transformation>> {
        let c = configure(&config_def(), props)?;
        let renames: HashMap<String, String> = parse_renames(&c.list("renames"))
            .map_err(|e| crate::api::ConnectError::config("renames", e))?
            .into_iter()
            .collect();
        let reverse = renames.iter().map(|(k, v)| (v.clone(), k.clone())).collect();
        Ok(Box::new(Self {
            side,
            exclude: c.list("exclude").into_iter().collect(),
            include: c.list("include").into_iter().collect(),
            renames,
            reverse,
            replace_null_with_default: c.bool(REPLACE_NULL),
            cache: SchemaCache::default(),
        }))
    }

    fn keep(&self, name: &str) -> bool {
        !self.exclude.contains(name) && (self.include.is_empty() || self.include.contains(name))
    }

    fn renamed<'a>(&'a self, name: &'a str) -> &'a str {
        self.renames.get(name).map_or(name, String::as_str)
    }

    fn updated_schema(&self, schema: &Schema) -> ConnectResult<Arc<Schema>> {
        let mut b = copy_schema_basics(schema, SchemaBuilder::struct_());
        for f in schema.fields().iter().filter(|f| self.keep(&f.name)) {
            b = b.field(self.renamed(&f.name), f.schema.clone()).map_err(data_err)?;
        }
        Ok(b.build_arc())
    }
}

impl Transformation for ReplaceField {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let side = self.side;
        let value = side.value(record);
        if value.is_null() {
            return Ok(true);
        }
        let Some(schema) = side.schema(record).cloned() else {
            let entries = require_map(value, PURPOSE)?;
            let mut out: Vec<(Value, Value)> = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let Some(name) = k.as_str() else { continue };
                if self.keep(name) {
                    super::util::map_put(&mut out, self.renamed(name), v.clone());
                }
            }
            side.set(record, None, Value::Map(out));
            return Ok(true);
        };
        let value = require_struct(Some(&schema), value, PURPOSE)?;
        let mut cache = std::mem::take(&mut self.cache);
        let updated = cache.get_or_try(value.schema(), || self.updated_schema(value.schema()));
        self.cache = cache;
        let updated = updated?;
        let values = updated
            .fields()
            .iter()
            .map(|f| {
                let original = self.reverse.get(&f.name).map_or(f.name.as_str(), String::as_str);
                field_value(value, original, self.replace_null_with_default)
            })
            .collect();
        let out = build_struct(&updated, values)?;
        side.set(record, Some(updated), Value::Struct(out));
        Ok(true)
    }
}
