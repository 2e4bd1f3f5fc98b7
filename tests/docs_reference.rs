//! docs/connectors.md is generated from each plugin's ConfigDef; this test fails when it is
//! stale. Regenerate with `UPDATE_DOCS=1 cargo test --test docs_reference`.

use std::fmt::Write;

use tributary_runtime::Registry;
use tributary_runtime::api::ConfigDef;
use tributary_runtime::plugins::AnyConnector;
use tributary_runtime::worker::config::worker_config_def;
use tributary_runtime::worker::connector_config_def;

fn table(out: &mut String, def: &ConfigDef) {
    out.push_str("| key | type | default | importance | description |\n|---|---|---|---|---|\n");
    for k in def.keys() {
        let default = match &k.default {
            None => "(required)".to_owned(),
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
    let mut out = String::from(
        "# Configuration reference\n\nGenerated from each plugin's ConfigDef by `tests/docs_reference.rs`; do not edit by hand.\n\n",
    );
    out.push_str("## Worker (`worker.properties`)\n\nAlso: `producer.*` and `consumer.*` keys pass through to librdkafka; `key.converter.*` / `value.converter.*` configure the converters.\n\n");
    table(&mut out, &worker_config_def());
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
        table(&mut out, &connector_config_def(kind).merge(&def));
    }
    out.push_str("## Converters\n\n");
    for c in r.converters() {
        let _ = writeln!(out, "- `{}`", c.class);
    }
    out.push_str("\n### JsonConverter\n\n");
    table(&mut out, &tributary_converters::json::config_def());
    out.push_str("\n### AvroConverter\n\n");
    table(&mut out, &tributary_converters::avro::config_def());
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
