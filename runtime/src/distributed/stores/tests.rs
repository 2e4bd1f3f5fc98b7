//! Record handling of the stores, without a broker (the broker tests are in
//! `tests/distributed_stores.rs`).

use serde_json::json;

use super::config::{ConfigState, Properties, TargetState, parse_task_key, target_state_value};
use super::log::LogRecord;
use super::offsets::{OffsetState, canonical_key, parse_record};
use super::status::{State, StatusState, parse_status};
use super::topics::{TopicKind, check_cleanup_policy};
use crate::api::OffsetMap;

fn rec(offset: i64, key: &str, value: Option<&str>) -> LogRecord {
    LogRecord { partition: 0, offset, key: Some(key.as_bytes().to_vec()), value: value.map(|v| v.as_bytes().to_vec()) }
}

fn props(pairs: &[(&str, &str)]) -> Properties {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn config_state(records: &[LogRecord]) -> ConfigState {
    let mut s = ConfigState::default();
    for r in records {
        s.apply("configs", r);
    }
    s
}

#[test]
fn stores_task_configs_visible_only_after_commit() {
    let mut s = config_state(&[
        rec(0, "connector-my-conn", Some(r#"{"properties":{"a":"1"}}"#)),
        rec(1, "task-my-conn-0", Some(r#"{"properties":{"t":"0"}}"#)),
        rec(2, "task-my-conn-1", Some(r#"{"properties":{"t":"1"}}"#)),
    ]);
    assert_eq!(s.view.connector_configs["my-conn"], props(&[("a", "1")]));
    assert_eq!(s.view.target_state("my-conn"), Some(TargetState::Started));
    assert!(s.view.tasks("my-conn").is_empty(), "uncommitted task configs are invisible");
    s.apply("configs", &rec(3, "commit-my-conn", Some(r#"{"tasks":2}"#)));
    assert_eq!(s.view.tasks("my-conn"), vec![props(&[("t", "0")]), props(&[("t", "1")])]);
    assert_eq!(s.view.offset, 4);
}

#[test]
fn incomplete_commit_marks_connector_inconsistent() {
    let mut s = config_state(&[
        rec(0, "connector-c", Some(r#"{"properties":{}}"#)),
        rec(1, "task-c-1", Some(r#"{"properties":{}}"#)),
        rec(2, "commit-c", Some(r#"{"tasks":2}"#)),
    ]);
    assert!(s.view.inconsistent.contains("c"));
    assert!(s.view.tasks("c").is_empty());
    s.apply("configs", &rec(3, "task-c-0", Some(r#"{"properties":{"x":"y"}}"#)));
    s.apply("configs", &rec(4, "commit-c", Some(r#"{"tasks":1}"#)));
    assert!(!s.view.inconsistent.contains("c"));
    assert_eq!(s.view.tasks("c"), vec![props(&[("x", "y")])]);
}

#[test]
fn tombstone_deletes_connector_and_its_tasks() {
    let s = config_state(&[
        rec(0, "connector-c", Some(r#"{"properties":{}}"#)),
        rec(1, "task-c-0", Some(r#"{"properties":{}}"#)),
        rec(2, "commit-c", Some(r#"{"tasks":1}"#)),
        rec(3, "target-state-c", Some(r#"{"state":"PAUSED","state.v2":"PAUSED"}"#)),
        rec(4, "connector-c", None),
        rec(5, "target-state-c", None),
    ]);
    assert!(s.view.connector_configs.is_empty());
    assert!(s.view.task_configs.is_empty());
    assert!(s.view.target_states.is_empty());
    assert_eq!(s.view.target_state("c"), None);
}

#[test]
fn reads_target_states_v1_and_v2() {
    let s = config_state(&[
        rec(0, "connector-a", Some(r#"{"properties":{}}"#)),
        rec(1, "connector-b", Some(r#"{"properties":{}}"#)),
        rec(2, "target-state-a", Some(r#"{"state":"PAUSED"}"#)),
        rec(3, "target-state-b", Some(r#"{"state":"PAUSED","state.v2":"STOPPED"}"#)),
    ]);
    assert_eq!(s.view.target_state("a"), Some(TargetState::Paused));
    assert_eq!(s.view.target_state("b"), Some(TargetState::Stopped));
    assert_eq!(target_state_value(TargetState::Stopped), json!({"state": "PAUSED", "state.v2": "STOPPED"}));
}

#[test]
fn corrupt_and_unknown_config_records_are_skipped() {
    let s = config_state(&[
        rec(0, "connector-c", Some("not json")),
        rec(1, "connector-d", Some(r#"{"properties":"x"}"#)),
        rec(2, "connector-e", Some(r#"[1,2]"#)),
        rec(3, "something-else", Some(r#"{}"#)),
        rec(4, "task-nonumber", Some(r#"{"properties":{}}"#)),
        rec(5, "commit-c", Some(r#"{"tasks":"x"}"#)),
        rec(6, "connector-ok", Some(r#"{"properties":{"k":"v","n":null}}"#)),
        rec(7, "session-key", Some(r#"{"key":"AAAA","algorithm":"HmacSHA256","creation-timestamp":17}"#)),
        rec(8, "tasks-fencing-ok", Some(r#"{"task-count":3}"#)),
        rec(9, "restart-connector-ok", Some(r#"{"include-tasks":true,"only-failed":false}"#)),
        rec(10, "logger-cluster-org.foo", Some(r#"{"level":"DEBUG"}"#)),
    ]);
    assert_eq!(s.view.connector_configs.keys().collect::<Vec<_>>(), vec!["ok"]);
    assert_eq!(s.view.connector_configs["ok"], props(&[("k", "v")]));
    assert_eq!(s.view.session_key.as_ref().map(|k| k.creation_timestamp), Some(17));
    assert_eq!(s.view.task_count_records["ok"], 3);
    assert!(s.view.restart_requests["ok"].include_tasks);
    assert_eq!(s.view.logger_levels["org.foo"], ("DEBUG".to_string(), 10));
    assert_eq!(s.view.offset, 11);
}

#[test]
fn parses_task_keys_with_dashes_in_names() {
    assert_eq!(parse_task_key("task-my-conn-12", 1), Some(("my-conn".into(), 12)));
    assert_eq!(parse_task_key("status-task-a-b-0", 2), Some(("a-b".into(), 0)));
    assert_eq!(parse_task_key("task-x", 1), None);
    assert_eq!(parse_task_key("task-x-y", 1), None);
}

#[test]
fn offset_keys_match_by_meaning() {
    let mut s = OffsetState::default();
    s.apply("offsets", &rec(0, r#"["c",{"b":1,"a":"x"}]"#, Some(r#"{"position":5}"#)));
    let mut p = OffsetMap::new();
    p.insert("a".into(), json!("x"));
    p.insert("b".into(), json!(1));
    assert_eq!(s.get("c", &p).and_then(|o| o.get("position").cloned()), Some(json!(5)));
    assert_eq!(s.list("c").len(), 1);
    assert_eq!(canonical_key("c", &p), r#"["c",{"a":"x","b":1}]"#);
    s.apply("offsets", &rec(1, r#"["c",{"a":"x","b":1}]"#, None));
    assert!(s.list("c").is_empty(), "a tombstone with another field order removes the offset");
}

#[test]
fn bad_offset_records_are_skipped() {
    assert!(parse_record(b"nope", Some(b"{}")).is_err());
    assert!(parse_record(br#"["c"]"#, Some(b"{}")).is_err());
    assert!(parse_record(br#"[1,{}]"#, Some(b"{}")).is_err());
    assert!(parse_record(br#"["c",{}]"#, Some(b"[1]")).is_err());
    assert!(parse_record(br#"["c",{}]"#, Some(b"{")).is_err());
    let (c, p, o) = parse_record(br#"["c",null]"#, None).unwrap();
    assert_eq!((c.as_str(), p.len(), o), ("c", 0, None));
}

#[test]
fn status_records_follow_kafka_connect_rules() {
    let mut s = StatusState::default();
    let running = r#"{"state":"RUNNING","trace":null,"worker_id":"w1:8083","generation":3}"#;
    s.apply("status", &rec(0, "status-connector-my-c", Some(running)));
    s.apply("status", &rec(1, "status-task-my-c-0", Some(running)));
    // A stale UNASSIGNED of an earlier generation does not replace RUNNING.
    s.apply(
        "status",
        &rec(2, "status-task-my-c-0", Some(r#"{"state":"UNASSIGNED","worker_id":"w2:8083","generation":2}"#)),
    );
    assert_eq!(s.tasks[&("my-c".to_string(), 0)].state, State::Running);
    s.apply(
        "status",
        &rec(
            3,
            "status-topic-t1:connector-my-c",
            Some(r#"{"topic":{"name":"t1","connector":"my-c","task":0,"discoverTimestamp":99}}"#),
        ),
    );
    assert_eq!(s.topics["my-c"]["t1"].discover_timestamp, 99);
    s.apply("status", &rec(4, "status-connector-x", Some("garbage")));
    s.apply("status", &rec(5, "other", Some("{}")));
    assert!(!s.connectors.contains_key("x"));
    s.apply("status", &rec(6, "status-connector-my-c", None));
    assert!(s.connectors.is_empty() && s.tasks.is_empty());
    assert!(parse_status(&json!({"state": "NOPE", "worker_id": "w", "generation": 1})).is_err());
}

#[test]
fn refuses_non_compacted_topics_with_kafka_connects_message() {
    assert!(check_cleanup_policy(TopicKind::Offset, "o", "compact").is_ok());
    let e = check_cleanup_policy(TopicKind::Config, "cfg", "compact,delete").unwrap_err().to_string();
    assert!(
        e.starts_with(
            "Topic 'cfg' supplied via the 'config.storage.topic' property is required to have 'cleanup.policy=compact'"
        ),
        "{e}"
    );
    assert!(e.contains("but found the topic currently has 'cleanup.policy=compact,delete'"), "{e}");
}
