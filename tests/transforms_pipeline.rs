//! Transforms and `errors.tolerance` in a real pipeline: file → Kafka → file through the
//! binary and a real broker, with Kafka Connect's class names and keys.
//!
//! The source casts each line to an int32 (`Cast$Value`); lines that are not numbers fail the
//! transform and are skipped (`errors.tolerance=all`). The sink renames the topic of every
//! record (`RegexRouter`) before writing: its consumer offsets must still be committed for the
//! topic it read, so a restarted worker writes nothing twice.

mod common;

use std::time::Duration;

use common::{WorkerProcess, wait_until, worker_props, write_props};
use tributary_testcontainers::{TestEnv, create_topic, topic_end_offset, unique_name};

const LINES: usize = 2_000;

fn is_bad(i: usize) -> bool {
    i % 100 == 7
}

fn connectors(
    dir: &std::path::Path,
    topic: &str,
    input: &std::path::Path,
    output: &std::path::Path,
) -> [std::path::PathBuf; 2] {
    let json = [
        ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
        ("value.converter.schemas.enable", "false"),
    ];
    let mut source = vec![
        ("name", format!("{topic}-source")),
        ("connector.class", "FileStreamSource".into()),
        ("file", input.to_str().unwrap().into()),
        ("topic", topic.into()),
        ("transforms", "toInt".into()),
        ("transforms.toInt.type", "org.apache.kafka.connect.transforms.Cast$Value".into()),
        ("transforms.toInt.spec", "int32".into()),
        ("errors.tolerance", "all".into()),
        ("errors.log.enable", "true".into()),
    ];
    let mut sink = vec![
        ("name", format!("{topic}-sink")),
        ("connector.class", "FileStreamSink".into()),
        ("file", output.to_str().unwrap().into()),
        ("topics", topic.into()),
        ("transforms", "route".into()),
        ("transforms.route.type", "org.apache.kafka.connect.transforms.RegexRouter".into()),
        ("transforms.route.regex", "(.*)".into()),
        ("transforms.route.replacement", "$1-renamed".into()),
    ];
    for (k, v) in json {
        source.push((k, v.into()));
        sink.push((k, v.into()));
    }
    [("source.properties", source), ("sink.properties", sink)].map(|(file, pairs)| {
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        write_props(&dir.join(file), &refs)
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn transforms_apply_and_tolerated_failures_are_skipped_once() {
    let Some(kafka) = TestEnv::get().kafka() else { return };
    let dir = tempfile::tempdir().unwrap();
    let topic = unique_name("smt");
    create_topic(kafka, &topic, 1).await.unwrap();
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.txt");
    let text: String = (0..LINES).map(|i| if is_bad(i) { format!("x{i}\n") } else { format!("{i}\n") }).collect();
    std::fs::write(&input, &text).unwrap();
    let expected: Vec<String> = (0..LINES).filter(|i| !is_bad(*i)).map(|i| i.to_string()).collect();
    let worker = worker_props(dir.path(), kafka, &[("offset.flush.interval.ms", "1000")]);
    let [src, sink] = connectors(dir.path(), &topic, &input, &output);
    let lines = || std::fs::read_to_string(&output).map(|t| t.lines().count()).unwrap_or(0);

    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&src, &sink], 0);
    w.wait_log("standalone worker ready", Duration::from_secs(30));
    wait_until("the sink to write every good line", Duration::from_secs(120), || lines() >= expected.len());
    // Let the periodic commits pass the last records, then stop (which commits again).
    std::thread::sleep(Duration::from_secs(2));
    let status = w.terminate(Duration::from_secs(30));
    assert!(status.success(), "worker exited with {status}:\n{}", w.log_text());
    let log = w.log_text();
    assert!(log.contains("errors.tolerance=all"), "tolerated failures are logged (errors.log.enable):\n{log}");
    assert_eq!(topic_end_offset(kafka, &topic).unwrap(), expected.len() as i64, "only castable lines reach Kafka");
    let written: Vec<String> = std::fs::read_to_string(&output).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(written, expected, "the sink wrote the cast values in order");

    // A restart resumes both connectors where they stopped: nothing is read or written twice.
    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&src, &sink], 1);
    w.wait_log("standalone worker ready", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(8));
    let status = w.terminate(Duration::from_secs(30));
    assert!(status.success(), "worker exited with {status}:\n{}", w.log_text());
    assert_eq!(lines(), expected.len(), "records were written twice after a restart:\n{}", w.log_text());
    assert_eq!(topic_end_offset(kafka, &topic).unwrap(), expected.len() as i64, "records were sent twice");
}
