//! The normaliser of the REST differential test: turns an answer of Kafka Connect or Tributary
//! into the form both are compared in. Each rule removes only what legitimately differs between
//! two correct workers; the reason is given beside each rule here (global rules) or beside each
//! step in `tests/rest/sequence.json` (`why`).
//!
//! Global rules, applied to every answer:
//! 1. Run values back to template variables: each target runs with its own temp dir and its own
//!    `{{id}}` (connector names, topic names, logger names: both share one broker, so they must
//!    not collide). Every occurrence of the dir, then of the id, in strings and object keys becomes
//!    `{{dir}}` / `{{id}}` again. A value that differs in any other way still differs.
//! 2. `worker_id` values become `<worker-id>`: a worker's advertised `host:port`, different by
//!    construction (two processes, two ports).
//! 3. `trace` values become `<trace>` (the key stays): a failed task's stack trace is Java's on one
//!    side and Rust's on the other.
//! 4. `version` string values become `<version>` (the key stays): the product's version in `GET /`
//!    and each plugin's version (in plugin lists, and in statuses since Kafka 4.1's KIP-1136) are
//!    each product's own. Likewise the values of the `*plugin.version` keys in ConfigInfos
//!    (`default_value`, `value`, `recommended_values`, KIP-891): the plugin's own version.
//!
//! Step rules (pointers are JSON pointers on the normalised body; a `*` segment means every
//! element of an array or every value of an object):
//! - `mask`: the value (if not null) becomes `<masked>`; the key must still be there on both sides.
//! - `ignore`: the member is removed on both sides (used only for mode differences, with `why`).
//! - `sort`: the array is sorted (by its elements' JSON text) where Kafka Connect's order is not
//!   defined.
//! - `keep_items`: an array keeps only the objects whose `field` is one of `values`.
//! - `keep_keys`: an object keeps only the keys containing one of `containing`.

use serde_json::{Map, Value};

/// Keeps only the array items whose `field` is in `values`.
#[derive(Debug, Clone)]
pub(crate) struct KeepItems {
    pub(crate) pointer: String,
    pub(crate) field: String,
    pub(crate) values: Vec<String>,
}

/// Keeps only the object keys containing one of `containing`.
#[derive(Debug, Clone)]
pub(crate) struct KeepKeys {
    pub(crate) pointer: String,
    pub(crate) containing: Vec<String>,
}

/// The step rules (see the module docs).
#[derive(Debug, Clone, Default)]
pub(crate) struct StepRules {
    pub(crate) mask: Vec<String>,
    pub(crate) ignore: Vec<String>,
    pub(crate) sort: Vec<String>,
    pub(crate) keep_items: Option<KeepItems>,
    pub(crate) keep_keys: Option<KeepKeys>,
}

/// Reads a list of strings (absent: empty).
pub(crate) fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).into_iter().flatten().map(|s| s.as_str().expect("a string").to_string()).collect()
}

impl StepRules {
    /// The rules of a step object of the sequence file.
    pub(crate) fn from_step(step: &Value) -> StepRules {
        let text = |v: &Value, k: &str| {
            v.get(k).and_then(Value::as_str).unwrap_or_else(|| panic!("{k} must be a string")).to_string()
        };
        StepRules {
            mask: strings(step.get("mask")),
            ignore: strings(step.get("ignore")),
            sort: strings(step.get("sort")),
            keep_items: step.get("keep_items").map(|k| KeepItems {
                pointer: text(k, "pointer"),
                field: text(k, "field"),
                values: strings(k.get("values")),
            }),
            keep_keys: step
                .get("keep_keys")
                .map(|k| KeepKeys { pointer: text(k, "pointer"), containing: strings(k.get("containing")) }),
        }
    }
}

/// Rule 1's pairs: (run value, variable), longest first.
pub(crate) fn normalise(body: &Value, back: &[(String, String)], rules: &StepRules) -> Value {
    let mut v = global(body, back);
    if let Some(k) = &rules.keep_items {
        visit(&mut v, &segments(&k.pointer), &mut |a| {
            if let Value::Array(items) = a {
                items.retain(|i| {
                    i.get(&k.field).and_then(Value::as_str).is_some_and(|c| k.values.iter().any(|x| x == c))
                });
            }
        });
    }
    if let Some(k) = &rules.keep_keys {
        visit(&mut v, &segments(&k.pointer), &mut |o| {
            if let Value::Object(m) = o {
                m.retain(|key, _| k.containing.iter().any(|c| key.contains(c.as_str())));
            }
        });
    }
    for p in &rules.mask {
        visit(&mut v, &segments(p), &mut |x| {
            if !x.is_null() {
                *x = Value::String("<masked>".into());
            }
        });
    }
    for p in &rules.ignore {
        let segs = segments(p);
        if let Some((last, parent)) = segs.split_last() {
            visit(&mut v, parent, &mut |x| match x {
                Value::Object(m) => {
                    m.remove(last.as_str());
                }
                Value::Array(a) => {
                    if let Ok(i) = last.parse::<usize>()
                        && i < a.len()
                    {
                        a.remove(i);
                    }
                }
                _ => {}
            });
        }
    }
    for p in &rules.sort {
        visit(&mut v, &segments(p), &mut |x| {
            if let Value::Array(a) = x {
                a.sort_by_key(|e| e.to_string());
            }
        });
    }
    v
}

fn global(v: &Value, back: &[(String, String)]) -> Value {
    let text = |s: &str| back.iter().fold(s.to_string(), |acc, (from, to)| acc.replace(from.as_str(), to));
    match v {
        Value::String(s) => Value::String(text(s)),
        Value::Array(a) => Value::Array(a.iter().map(|e| global(e, back)).collect()),
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, e) in m {
                let e = match (k.as_str(), e) {
                    ("worker_id", Value::String(_)) => Value::String("<worker-id>".into()),
                    ("trace", Value::String(_)) => Value::String("<trace>".into()),
                    ("version", Value::String(_)) => Value::String("<version>".into()),
                    _ => global(e, back),
                };
                out.insert(text(k), e);
            }
            if out.get("name").and_then(Value::as_str).is_some_and(|n| n.ends_with("plugin.version")) {
                for field in ["default_value", "value", "recommended_values"] {
                    match out.get_mut(field) {
                        Some(v @ Value::String(_)) => *v = Value::String("<version>".into()),
                        Some(Value::Array(items)) => {
                            items.iter_mut().for_each(|i| *i = Value::String("<version>".into()))
                        }
                        _ => {}
                    }
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn segments(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer.trim_start_matches('/').split('/').map(|s| s.replace("~1", "/").replace("~0", "~")).collect()
}

/// Calls `f` on every value the (wildcard) pointer reaches.
fn visit(v: &mut Value, segs: &[String], f: &mut dyn FnMut(&mut Value)) {
    let Some((first, rest)) = segs.split_first() else {
        f(v);
        return;
    };
    match (first.as_str(), v) {
        ("*", Value::Array(a)) => a.iter_mut().for_each(|e| visit(e, rest, f)),
        ("*", Value::Object(m)) => m.values_mut().for_each(|e| visit(e, rest, f)),
        (k, Value::Object(m)) => {
            if let Some(e) = m.get_mut(k) {
                visit(e, rest, f);
            }
        }
        (k, Value::Array(a)) => {
            if let Some(e) = k.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                visit(e, rest, f);
            }
        }
        _ => {}
    }
}

#[test]
fn normalises_run_values_and_applies_step_rules() {
    let back = vec![("/tmp/x/kc".to_string(), "{{dir}}".to_string()), ("rd1k".to_string(), "{{id}}".to_string())];
    let body = serde_json::json!({
        "rd1k-src": {"status": {"connector": {"state": "RUNNING", "worker_id": "127.0.0.1:1"},
                                "tasks": [{"id": 0, "trace": "at Foo.java"}]},
                      "info": {"config": {"file": "/tmp/x/kc/in.txt"}}},
        "list": ["b", "a"], "plugins": [{"class": "A", "version": "1", "n": 2}, {"class": "B"}],
        "t": 5, "n": null
    });
    let rules = StepRules::from_step(&serde_json::json!({
        "mask": ["/t", "/n", "/plugins/*/n"], "ignore": ["/{{id}}-src/info"], "sort": ["/list"],
        "keep_items": {"pointer": "/plugins", "field": "class", "values": ["A"]}
    }));
    let got = normalise(&body, &back, &rules);
    assert_eq!(
        got,
        serde_json::json!({
            "{{id}}-src": {"status": {"connector": {"state": "RUNNING", "worker_id": "<worker-id>"},
                                       "tasks": [{"id": 0, "trace": "<trace>"}]}},
            "list": ["a", "b"], "plugins": [{"class": "A", "version": "<version>", "n": "<masked>"}], "t": "<masked>", "n": null
        })
    );
}
