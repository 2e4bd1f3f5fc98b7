use std::sync::Arc;

use tributary_runtime::api::{FixedOffsetReader, SourceTask, SourceTaskContext, Value};

use super::FileSourceTask;

fn ctx(stored: Option<serde_json::Value>) -> SourceTaskContext {
    SourceTaskContext {
        connector: "c".into(),
        task: 0,
        offsets: Arc::new(FixedOffsetReader(stored.map(|v| v.as_object().unwrap().clone()))),
        transactions: None,
        metrics: Default::default(),
    }
}

fn props(file: &std::path::Path, batch: usize) -> tributary_runtime::api::Props {
    [("file", file.to_str().unwrap().to_owned()), ("topic", "t".to_owned()), ("batch.size", batch.to_string())]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

#[tokio::test]
async fn emits_complete_lines_with_byte_positions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.txt");
    std::fs::write(&path, "a\n\nccc\r\npartial").unwrap();
    let mut task = FileSourceTask::default();
    task.start(ctx(None), &props(&path, 10)).await.unwrap();
    let records = task.poll().await.unwrap();
    let values: Vec<&Value> = records.iter().map(|r| &r.value).collect();
    assert_eq!(values, [&Value::from("a"), &Value::from(""), &Value::from("ccc")]);
    assert_eq!(records[2].source_offset["position"], 8);
    assert_eq!(records[0].source_partition["filename"], path.to_str().unwrap());
}

#[tokio::test]
async fn resumes_from_stored_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.txt");
    std::fs::write(&path, "one\ntwo\nthree\n").unwrap();
    let mut task = FileSourceTask::default();
    task.start(ctx(Some(serde_json::json!({"position": 4}))), &props(&path, 10)).await.unwrap();
    let records = task.poll().await.unwrap();
    let values: Vec<&Value> = records.iter().map(|r| &r.value).collect();
    assert_eq!(values, [&Value::from("two"), &Value::from("three")]);
}

#[tokio::test]
async fn respects_batch_size_and_long_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.txt");
    let long = "x".repeat(600 * 1024);
    std::fs::write(&path, format!("{long}\nb\nc\n")).unwrap();
    let mut task = FileSourceTask::default();
    task.start(ctx(None), &props(&path, 2)).await.unwrap();
    let first = task.poll().await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].value, Value::String(long));
    let second = task.poll().await.unwrap();
    assert_eq!(second.len(), 1);
}

#[tokio::test]
async fn missing_file_waits_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("later.txt");
    let mut task = FileSourceTask::default();
    task.start(ctx(None), &props(&path, 10)).await.unwrap();
    assert!(task.poll().await.unwrap().is_empty());
    std::fs::write(&path, "now\n").unwrap();
    assert_eq!(task.poll().await.unwrap().len(), 1);
}
