use std::sync::Arc;

use tributary_runtime::api::{FixedOffsetReader, SourceTask, SourceTaskContext, Value};

use super::DatagenTask;

fn ctx(stored: Option<serde_json::Value>) -> SourceTaskContext {
    SourceTaskContext {
        connector: "d".into(),
        task: 0,
        offsets: Arc::new(FixedOffsetReader(stored.map(|v| v.as_object().unwrap().clone()))),
        transactions: None,
        metrics: Default::default(),
    }
}

fn props(quickstart: &str, iterations: i64) -> tributary_runtime::api::Props {
    [
        ("kafka.topic", "t"),
        ("quickstart", quickstart),
        ("max.interval", "0"),
        ("random.seed", "42"),
        ("iterations", &iterations.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

#[tokio::test]
async fn orders_have_confluents_fields_and_are_keyed_by_orderid() {
    let mut t = DatagenTask::default();
    t.start(ctx(None), &props("orders", 5)).await.unwrap();
    let recs = t.poll().await.unwrap();
    assert_eq!(recs.len(), 5);
    let schema = recs[0].value_schema.as_ref().unwrap();
    assert_eq!(schema.name(), Some("ksql.orders"));
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["ordertime", "orderid", "itemid", "orderunits", "address"]);
    assert_eq!(recs[3].key, Value::Int32(3));
    let v = recs[0].value.as_struct().unwrap();
    v.validate().unwrap();
    assert!(v.get("itemid").unwrap().as_str().unwrap().starts_with("Item_"));
    assert!(t.poll().await.unwrap().is_empty(), "iterations bounds the output");
}

#[tokio::test]
async fn users_and_pageviews_generate_valid_structs() {
    for (q, key) in [("users", "userid"), ("pageviews", "viewtime")] {
        let mut t = DatagenTask::default();
        t.start(ctx(None), &props(q, 100)).await.unwrap();
        for r in t.poll().await.unwrap() {
            let s = r.value.as_struct().unwrap();
            s.validate().unwrap();
            assert_eq!(s.get(key), Some(&r.key));
        }
    }
}

#[tokio::test]
async fn resumes_iteration_count_from_stored_offset() {
    let mut t = DatagenTask::default();
    let stored = serde_json::json!({"task.generation": 0, "current.iteration": 8});
    t.start(ctx(Some(stored)), &props("orders", 10)).await.unwrap();
    let recs = t.poll().await.unwrap();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].key, Value::Int32(8));
    assert_eq!(recs[1].source_offset["current.iteration"], 10);
    assert_eq!(recs[1].source_offset["task.generation"], 1);
    assert_eq!(recs[1].headers.last("current.iteration").unwrap().value, Value::Int64(9));
    assert_eq!(recs[1].headers.last("task.generation").unwrap().value, Value::Int64(0));
}

#[tokio::test]
async fn restart_from_stored_offset_reproduces_the_same_records() {
    let mut first = DatagenTask::default();
    first.start(ctx(None), &props("users", 10)).await.unwrap();
    let all = first.poll().await.unwrap();
    let stored = serde_json::Value::Object(all[4].source_offset.clone());
    let mut resumed = DatagenTask::default();
    resumed.start(ctx(Some(stored)), &props("users", 10)).await.unwrap();
    let rest = resumed.poll().await.unwrap();
    let values = |r: &[tributary_runtime::api::SourceRecord]| r.iter().map(|r| r.value.clone()).collect::<Vec<_>>();
    assert_eq!(values(&rest), values(&all[5..]));
}

#[tokio::test]
async fn same_seed_same_data() {
    let mut a = DatagenTask::default();
    let mut b = DatagenTask::default();
    a.start(ctx(None), &props("users", 10)).await.unwrap();
    b.start(ctx(None), &props("users", 10)).await.unwrap();
    assert_eq!(a.poll().await.unwrap(), b.poll().await.unwrap());
}
