//! A task's chain of transforms, built from its connector's `transforms` and `predicates`
//! keys as Kafka Connect's `TransformationChain`: each alias in order, each with an optional
//! predicate (`transforms.<alias>.predicate`, inverted by `.negate`) deciding whether it
//! applies to a record. A transform that drops a record ends the chain for it.

use crate::api::{ConnectError, ConnectRecord, ConnectResult, Predicate, Props, Transformation};
use crate::plugins::Registry;
use crate::worker::config::strip_prefix;

/// One configured transform and the condition under which it applies.
struct Stage {
    alias: String,
    transform: Box<dyn Transformation>,
    predicate: Option<(Box<dyn Predicate>, bool)>,
}

/// The transforms of one task, in order.
#[derive(Default)]
pub struct TransformChain {
    stages: Vec<Stage>,
}

impl std::fmt::Debug for TransformChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.stages.iter().map(|s| &s.alias)).finish()
    }
}

fn aliases(props: &Props, key: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in props.get(key).map(String::as_str).unwrap_or_default().split(',').map(str::trim) {
        if !a.is_empty() && !out.iter().any(|o| o == a) {
            out.push(a.to_owned());
        }
    }
    out
}

impl TransformChain {
    /// Builds the chain a connector configuration (already validated) describes.
    pub fn from_config(registry: &Registry, props: &Props) -> ConnectResult<Self> {
        let predicates = aliases(props, "predicates");
        let mut stages = Vec::new();
        for alias in aliases(props, "transforms") {
            let prefix = format!("transforms.{alias}.");
            let settings = strip_prefix(props, &prefix);
            let class = settings.get("type").map(|t| t.trim()).unwrap_or_default();
            let plugin =
                registry.transform(class).map_err(|e| ConnectError::config(&format!("{prefix}type"), e.to_string()))?;
            let transform = (plugin.factory)(&settings)?;
            let predicate = match settings.get("predicate").map(|p| p.trim()).filter(|p| !p.is_empty()) {
                None => None,
                Some(name) if !predicates.iter().any(|p| p == name) => {
                    return Err(ConnectError::config(
                        &format!("{prefix}predicate"),
                        format!(
                            "predicate '{name}' is not one of the aliases in 'predicates' ({})",
                            predicates.join(", ")
                        ),
                    ));
                }
                Some(name) => {
                    let negate = settings.get("negate").is_some_and(|n| n.trim().eq_ignore_ascii_case("true"));
                    Some((Self::predicate(registry, props, name)?, negate))
                }
            };
            stages.push(Stage { alias, transform, predicate });
        }
        Ok(Self { stages })
    }

    fn predicate(registry: &Registry, props: &Props, alias: &str) -> ConnectResult<Box<dyn Predicate>> {
        let prefix = format!("predicates.{alias}.");
        let settings = strip_prefix(props, &prefix);
        let class = settings.get("type").map(|t| t.trim()).unwrap_or_default();
        let plugin =
            registry.predicate(class).map_err(|e| ConnectError::config(&format!("{prefix}type"), e.to_string()))?;
        (plugin.factory)(&settings)
    }

    /// Whether there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Applies every stage whose predicate matches; `Ok(false)` when a transform dropped the
    /// record. Errors name the transform's alias.
    pub fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        for stage in &mut self.stages {
            if let Some((predicate, negate)) = &stage.predicate
                && predicate.test(record) == *negate
            {
                continue;
            }
            match stage.transform.apply(record) {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(e) => return Err(e.context(format!("transform '{}' failed", stage.alias))),
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::api::{ConfigDef, SourceRecord, Value};
    use crate::plugins::{PredicatePlugin, TransformPlugin};

    /// Appends its `suffix` setting to the topic.
    struct Suffix(String);
    impl Transformation for Suffix {
        fn apply(&mut self, r: &mut dyn ConnectRecord) -> ConnectResult<bool> {
            if r.value() == &Value::String("bad".into()) {
                return Err(ConnectError::data("bad value"));
            }
            let t = format!("{}{}", r.topic(), self.0);
            r.set_topic(&t);
            Ok(true)
        }
    }
    /// Drops every record.
    struct Drop;
    impl Transformation for Drop {
        fn apply(&mut self, _: &mut dyn ConnectRecord) -> ConnectResult<bool> {
            Ok(false)
        }
    }
    /// Matches topics starting with its `prefix`.
    struct Starts(String);
    impl Predicate for Starts {
        fn test(&self, r: &dyn ConnectRecord) -> bool {
            r.topic().starts_with(&self.0)
        }
    }

    fn registry() -> Registry {
        let mut r = Registry::new();
        r.add_transform(TransformPlugin {
            class: "test.Suffix",
            aliases: &[],
            factory: |p| Ok(Box::new(Suffix(p.get("suffix").cloned().unwrap_or_default()))),
            config_def: ConfigDef::new,
        });
        r.add_transform(TransformPlugin {
            class: "test.Drop",
            aliases: &[],
            factory: |_| Ok(Box::new(Drop)),
            config_def: ConfigDef::new,
        });
        r.add_predicate(PredicatePlugin {
            class: "test.Starts",
            aliases: &[],
            factory: |p| Ok(Box::new(Starts(p.get("prefix").cloned().unwrap_or_default()))),
            config_def: ConfigDef::new,
        });
        r
    }

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn record(topic: &str, value: &str) -> SourceRecord {
        SourceRecord::new(Arc::new(Default::default()), Default::default(), topic, None, Value::String(value.into()))
    }

    #[test]
    fn applies_transforms_in_order_where_their_predicate_matches() {
        let p = props(&[
            ("transforms", "a,b,drop"),
            ("transforms.a.type", "test.Suffix"),
            ("transforms.a.suffix", "-a"),
            ("transforms.b.type", "Suffix"),
            ("transforms.b.suffix", "-b"),
            ("transforms.b.predicate", "isOrders"),
            ("transforms.drop.type", "test.Drop"),
            ("transforms.drop.predicate", "isOrders"),
            ("transforms.drop.negate", "true"),
            ("predicates", "isOrders"),
            ("predicates.isOrders.type", "test.Starts"),
            ("predicates.isOrders.prefix", "orders"),
        ]);
        let mut chain = TransformChain::from_config(&registry(), &p).unwrap();
        let mut r = record("orders", "x");
        assert!(chain.apply(&mut r).unwrap());
        assert_eq!(&*r.topic, "orders-a-b");
        // Not an order: b is skipped, and the negated predicate makes `drop` apply.
        let mut r = record("users", "x");
        assert!(!chain.apply(&mut r).unwrap());
    }

    #[test]
    fn errors_name_the_alias_and_bad_configs_name_the_key() {
        let mut chain = TransformChain::from_config(
            &registry(),
            &props(&[("transforms", "t"), ("transforms.t.type", "test.Suffix")]),
        )
        .unwrap();
        let err = chain.apply(&mut record("x", "bad")).unwrap_err();
        assert_eq!(err.to_string(), "transform 't' failed: bad value");
        let err =
            TransformChain::from_config(&registry(), &props(&[("transforms", "t"), ("transforms.t.type", "Nope")]))
                .unwrap_err();
        assert!(err.to_string().contains("transforms.t.type"), "{err}");
        let err = TransformChain::from_config(
            &registry(),
            &props(&[("transforms", "t"), ("transforms.t.type", "test.Drop"), ("transforms.t.predicate", "p")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("predicate 'p' is not one of the aliases"), "{err}");
    }
}
