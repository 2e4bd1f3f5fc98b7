//! Kafka Connect's ConfigInfos answers: the definitions of `GET
//! /connector-plugins/{plugin}/config` and the per-key values and errors of `PUT
//! /connector-plugins/{plugin}/config/validate`, plus Kafka's `ConfigDef.embed`, which nests a
//! plugin's keys under a prefix (`transforms.<alias>.`).

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use super::ConfigDef;
use super::key::ConfigKey;
use super::value::{ConfigValue, parse_key};

impl ConfigKey {
    /// The key's definition as Kafka's `ConfigKeyInfo`.
    pub fn info(&self) -> Json {
        let default = match &self.default {
            Some(raw) => parse_key(&ConfigKey { validators: Vec::new(), ..self.clone() }, Some(raw))
                .0
                .map_or_else(|| Some(raw.clone()), |v| v.to_kafka_string()),
            None => None,
        };
        json!({
            "name": self.name, "type": self.kind.name(), "required": self.required,
            "default_value": default, "importance": self.importance.name(),
            "documentation": self.doc, "group": self.group, "width": self.width.name(),
            "display_name": self.display_name.as_deref().unwrap_or(&self.name),
            "dependents": self.dependents, "order": self.order,
        })
    }
}

impl ConfigDef {
    /// Every key's definition, in declaration order.
    pub fn key_infos(&self) -> Vec<Json> {
        self.keys.iter().map(ConfigKey::info).collect()
    }

    /// The answer of `PUT /connector-plugins/{plugin}/config/validate`: Kafka Connect's
    /// ConfigInfos shape, with every key's parsed value, recommended values and errors, and
    /// password values hidden.
    pub fn config_infos(&self, plugin: &str, props: &BTreeMap<String, String>) -> Json {
        let (values, errors) = self.parse_all(props);
        let mut groups: Vec<&str> = Vec::new();
        let configs: Vec<Json> = self
            .keys
            .iter()
            .map(|key| {
                if let Some(g) = key.group.as_deref()
                    && !groups.contains(&g)
                {
                    groups.push(g);
                }
                let errs: Vec<&str> = errors.iter().filter(|e| e.key == key.name).map(|e| e.message.as_str()).collect();
                let value = values.get(&key.name).cloned().flatten().and_then(|v| v.to_kafka_string());
                json!({
                    "definition": key.info(),
                    "value": {
                        "name": key.name, "value": value, "recommended_values": key.recommended,
                        "errors": errs, "visible": key.visible,
                    }
                })
            })
            .collect();
        json!({ "name": plugin, "error_count": errors.len(), "groups": groups, "configs": configs })
    }

    /// Adds `child`'s keys under `prefix`, in Kafka's documentation order (group, order in
    /// group, required first, importance, name), numbered from `start` in group
    /// `<group>` or `<group>: <child's group>`; validators keep reporting the key's own name,
    /// as Kafka's embedded validators do.
    pub fn embed(mut self, prefix: &str, group: &str, start: i32, child: &ConfigDef) -> Self {
        for (i, key) in child.sorted().into_iter().enumerate() {
            let mut k = key.clone();
            k.name = format!("{prefix}{}", key.name);
            k.group = Some(match &key.group {
                Some(g) => format!("{group}: {g}"),
                None => group.to_owned(),
            });
            k.order = start + i as i32;
            k.display_name = Some(key.display_name.clone().unwrap_or_else(|| key.name.clone()));
            k.dependents = key.dependents.iter().map(|d| format!("{prefix}{d}")).collect();
            k.error_name = Some(key.error_name.clone().unwrap_or_else(|| key.name.clone()));
            self = self.define(k);
        }
        self
    }

    /// Keys in Kafka's `sortedConfigs` order.
    fn sorted(&self) -> Vec<&ConfigKey> {
        let mut groups: Vec<&str> = Vec::new();
        for k in &self.keys {
            if let Some(g) = k.group.as_deref()
                && !groups.contains(&g)
            {
                groups.push(g);
            }
        }
        let group_ord = |k: &ConfigKey| k.group.as_deref().map(|g| groups.iter().position(|x| *x == g));
        let mut keys: Vec<&ConfigKey> = self.keys.iter().collect();
        keys.sort_by(|a, b| {
            group_ord(a)
                .cmp(&group_ord(b))
                .then(a.order.cmp(&b.order))
                .then(a.has_default().cmp(&b.has_default()))
                .then(a.importance.cmp(&b.importance))
                .then(a.name.cmp(&b.name))
        });
        keys
    }
}

impl ConfigValue {
    /// Whether this is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }
}
