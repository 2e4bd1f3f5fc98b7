//! The ConfigInfos answer of `PUT /connector-plugins/{plugin}/config/validate`, assembled as
//! Kafka Connect's `AbstractHerder` does: the enriched common keys with the checks outside
//! them, the plugin's own keys, then each converter the connector names, under its prefix.

use std::sync::Arc;

use serde_json::{Value as Json, json};

use super::validate::{check, converter_props};
use crate::api::{ConfigError, Props};
use crate::plugins::{ConnectorPlugin, Registry};

/// The ConfigInfos answer of `PUT /connector-plugins/{plugin}/config/validate` for a config
/// naming `plugin`; `defaults` are the worker's converter settings, shown where the connector
/// has none, as Kafka Connect 4.1 shows them.
pub fn config_infos(registry: &Arc<Registry>, plugin: &ConnectorPlugin, props: &Props, defaults: &Props) -> Json {
    let checked = check(registry, plugin, props, defaults);
    let name = props.get("connector.class").cloned().unwrap_or_default();
    let mut infos = checked.def.config_infos(&name, &checked.props);
    add_errors(&mut infos, &checked.extra);
    let mut parts = vec![checked.plugin_def.config_infos(&name, &checked.props)];
    // Kafka merges the header converter's keys first, then the key's and the value's.
    for role in ["header.converter", "key.converter", "value.converter"] {
        if let Some((prefix, def)) = checked.converters.iter().find(|(p, _)| p == role) {
            let own = converter_props(&checked.props, prefix);
            parts.push(prefixed(def.config_infos(&name, &own), &format!("{prefix}.")));
        }
    }
    for part in parts {
        merge(&mut infos, part);
    }
    add_errors(&mut infos, &checked.cross);
    infos
}

fn add_errors(infos: &mut Json, errors: &[ConfigError]) {
    let mut added = 0;
    if let Some(configs) = infos["configs"].as_array_mut() {
        for e in errors {
            if let Some(c) = configs.iter_mut().find(|c| c["value"]["name"] == e.key.as_str())
                && let Some(list) = c["value"]["errors"].as_array_mut()
            {
                list.push(json!(e.message));
                added += 1;
            }
        }
    }
    infos["error_count"] = json!(infos["error_count"].as_u64().unwrap_or(0) + added);
}

/// Kafka's `prefixedConfigInfos`: a converter's keys under its prefix, in the order of the
/// `HashMap` Kafka's `ConfigDef.validate` returns them in, counting keys with errors.
fn prefixed(mut infos: Json, prefix: &str) -> Json {
    let Some(configs) = infos["configs"].as_array_mut() else { return infos };
    let names: Vec<String> =
        configs.iter().map(|c| c["value"]["name"].as_str().unwrap_or_default().to_owned()).collect();
    let mut out = Vec::with_capacity(configs.len());
    for i in java_hash_order(&names) {
        let mut c = configs[i].take();
        for part in ["definition", "value"] {
            if let Some(n) = c[part]["name"].as_str() {
                c[part]["name"] = json!(format!("{prefix}{n}"));
            }
        }
        out.push(c);
    }
    let with_errors = out.iter().filter(|c| c["value"]["errors"].as_array().is_some_and(|e| !e.is_empty())).count();
    let mut groups: Vec<Json> = Vec::new();
    for g in out.iter().map(|c| &c["definition"]["group"]).filter(|g| g.is_string()) {
        if !groups.contains(g) {
            groups.push(g.clone());
        }
    }
    json!({ "name": "", "error_count": with_errors, "groups": groups, "configs": out })
}

/// Java's `String.hashCode`.
fn java_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The iteration order of a `java.util.HashMap` into which `keys` were put in order: by bucket
/// of the spread hash in a table of the size the map grows to, then by insertion.
fn java_hash_order(keys: &[String]) -> Vec<usize> {
    let mut table = 16usize;
    while keys.len() * 4 > table * 3 {
        table *= 2;
    }
    let bucket = |k: &str| {
        let h = java_hash(k) as u32;
        ((h ^ (h >> 16)) as usize) & (table - 1)
    };
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| (bucket(&keys[i]), i));
    order
}

/// Kafka's `mergeConfigInfos`: counts add up, groups and configs append.
fn merge(into: &mut Json, part: Json) {
    let count = into["error_count"].as_u64().unwrap_or(0) + part["error_count"].as_u64().unwrap_or(0);
    into["error_count"] = json!(count);
    if let (Some(groups), Some(more)) = (into["groups"].as_array_mut(), part["groups"].as_array()) {
        for g in more {
            if !groups.contains(g) {
                groups.push(g.clone());
            }
        }
    }
    if let (Some(configs), Some(more)) = (into["configs"].as_array_mut(), part["configs"].as_array()) {
        configs.extend(more.iter().cloned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hash_matches_javas() {
        // Values of "abc".hashCode() and "schemas.enable".hashCode() in Java.
        assert_eq!(java_hash("abc"), 96354);
        assert_eq!(java_hash(""), 0);
    }

    #[test]
    fn hash_order_follows_buckets_then_insertion() {
        let keys: Vec<String> =
            ["converter.type", "schemas.enable", "schemas.cache.size", "decimal.format", "replace.null.with.default"]
                .map(String::from)
                .to_vec();
        let names: Vec<&str> = java_hash_order(&keys).into_iter().map(|i| keys[i].as_str()).collect();
        // The order Kafka Connect 4.1.1 lists JsonConverter's keys in a validation answer.
        assert_eq!(
            names,
            ["decimal.format", "converter.type", "schemas.cache.size", "replace.null.with.default", "schemas.enable"]
        );
    }
}
