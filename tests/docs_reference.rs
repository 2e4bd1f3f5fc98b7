//! docs/connectors.md is generated from each plugin's ConfigDef; this test fails when it is
//! stale. Regenerate with `UPDATE_DOCS=1 cargo test --test docs_reference`.

use std::fmt::Write;

use tributary_runtime::Registry;
use tributary_runtime::api::ConfigDef;
use tributary_runtime::plugins::{AnyConnector, ConnectorKind};
use tributary_runtime::worker::config::worker_config_def;
use tributary_runtime::worker::connector_config_def;

fn table(out: &mut String, def: &ConfigDef) {
    out.push_str("| key | type | default | importance | description |\n|---|---|---|---|---|\n");
    for k in def.keys() {
        let default = match &k.default {
            None if k.required => "(required)".to_owned(),
            None => "null".to_owned(),
            Some(d) if d.is_empty() => "\"\"".to_owned(),
            Some(d) => format!("`{d}`"),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            k.name,
            k.kind.name(),
            default,
            k.importance.name(),
            k.doc.replace('|', "\\|")
        );
    }
    out.push('\n');
}

fn generate() -> String {
    let mut r = Registry::new();
    tributary_converters::register(&mut r);
    tributary_connectors::register(&mut r);
    tributary_runtime::transforms::register(&mut r);
    let mut out = String::from(
        "# Configuration reference\n\nGenerated from each plugin's ConfigDef by `tests/docs_reference.rs`; do not edit by hand.\n\n",
    );
    out.push_str("## Worker (`worker.properties`)\n\nAlso: `producer.*` and `consumer.*` keys pass through to librdkafka; `key.converter.*` / `value.converter.*` configure the converters.\n\n");
    table(&mut out, &worker_config_def());
    out.push_str("## Every source connector\n\nKafka Connect's `ConnectorConfig` and `SourceConnectorConfig` keys, with Kafka's documentation. Each transform alias in `transforms` adds `transforms.<alias>.type`, `.predicate`, `.negate` and the transform's own keys under `transforms.<alias>.`; each alias in `predicates` adds `predicates.<alias>.type` and the predicate's keys.\n\n");
    table(&mut out, &connector_config_def(ConnectorKind::Source));
    out.push_str("## Every sink connector\n\n");
    table(&mut out, &connector_config_def(ConnectorKind::Sink));
    for p in r.connectors() {
        let (kind, def) = match (p.factory)() {
            AnyConnector::Source(c) => (p.kind, c.config_def()),
            AnyConnector::Sink(c) => (p.kind, c.config_def()),
        };
        let simple = p.class.rsplit('.').next().unwrap_or(p.class);
        let _ = writeln!(
            out,
            "## {simple} ({})\n\nClass `{}`{}.\n",
            kind.name(),
            p.class,
            if p.aliases.is_empty() {
                String::new()
            } else {
                format!(", aliases {}", p.aliases.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", "))
            }
        );
        table(&mut out, &def);
    }
    out.push_str("## Converters\n\n");
    for c in r.converters() {
        let _ = writeln!(out, "- `{}`", c.class);
    }
    out.push_str("\n### JsonConverter\n\n");
    table(&mut out, &tributary_converters::json::config_def());
    out.push_str("\n### AvroConverter\n\n");
    table(&mut out, &tributary_converters::avro::config_def());
    out.push_str("\n## Transforms\n\n");
    for t in r.transforms() {
        let _ = writeln!(out, "### `{}`\n", t.class);
        table(&mut out, &(t.config_def)());
    }
    out.push_str("## Predicates\n\n");
    for p in r.predicates() {
        let _ = writeln!(out, "### `{}`\n", p.class);
        table(&mut out, &(p.config_def)());
    }
    out
}

#[test]
fn connector_reference_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/connectors.md");
    let fresh = generate();
    if std::env::var("UPDATE_DOCS").is_ok() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(current == fresh, "docs/connectors.md is stale: run UPDATE_DOCS=1 cargo test --test docs_reference");
}
