//! `--help` explains every flag of every subcommand.

mod common;

fn help(args: &[&str]) -> String {
    let out = common::tributary().args(args).arg("--help").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn top_level_help_lists_subcommands() {
    let h = help(&[]);
    for word in ["standalone", "dev", "--log-level", "Kafka Connect"] {
        assert!(h.contains(word), "top-level help lacks {word}:\n{h}");
    }
}

#[test]
fn dev_help_explains_every_flag() {
    let h = help(&["dev"]);
    for flag in [
        "--data-dir",
        "--kafka-port",
        "--rest-port",
        "--registry-port",
        "--bootstrap-servers",
        "--group-id",
        "--connector",
    ] {
        let line =
            h.lines().skip_while(|l| !l.trim_start().starts_with(&format!("{flag} <"))).nth(1).unwrap_or_default();
        assert!(h.contains(flag), "dev help lacks {flag}:\n{h}");
        assert!(!line.trim().is_empty(), "{flag} has no explanation:\n{h}");
    }
}

#[test]
fn standalone_help_names_its_arguments() {
    let h = help(&["standalone"]);
    for word in ["WORKER_PROPERTIES", "CONNECTOR_PROPERTIES", "offset.storage.file.filename", "SIGTERM"] {
        assert!(h.contains(word), "standalone help lacks {word}:\n{h}");
    }
}

#[test]
fn schema_registry_help_names_confluents_keys() {
    let h = help(&["schema-registry"]);
    for word in [
        "--properties",
        "--listeners",
        "--bootstrap-servers",
        "--topic",
        "--in-memory",
        "kafkastore.bootstrap.servers",
        "schema.compatibility.level",
        "_schemas",
        "SIGTERM",
    ] {
        assert!(h.contains(word), "schema-registry help lacks {word}:\n{h}");
    }
    assert!(help(&[]).contains("schema-registry"), "top-level help does not list schema-registry");
}

#[test]
fn distributed_help_names_kafka_connects_keys() {
    let h = help(&["distributed"]);
    for word in [
        "WORKER_PROPERTIES",
        "group.id",
        "config.storage.topic",
        "offset.storage.topic",
        "status.storage.topic",
        "scheduled.rebalance.max.delay.ms",
        "rest.advertised.host.name",
        "connect.protocol",
        "SIGTERM",
    ] {
        assert!(h.contains(word), "distributed help lacks {word}:\n{h}");
    }
    assert!(help(&[]).contains("distributed"), "top-level help does not list distributed");
}
