//! File → Kafka → file through the real binary and a real broker.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{WorkerProcess, wait_until, worker_props, write_props};
use tributary_testcontainers::{TestEnv, create_topic, topic_end_offset, unique_name};

fn connectors(
    dir: &std::path::Path,
    topic: &str,
    input: &std::path::Path,
    output: &std::path::Path,
) -> [std::path::PathBuf; 2] {
    [
        write_props(
            &dir.join("source.properties"),
            &[
                ("name", &format!("{topic}-source")),
                ("connector.class", "FileStreamSource"),
                ("file", input.to_str().unwrap()),
                ("topic", topic),
            ],
        ),
        write_props(
            &dir.join("sink.properties"),
            &[
                ("name", &format!("{topic}-sink")),
                ("connector.class", "org.apache.kafka.connect.file.FileStreamSinkConnector"),
                ("file", output.to_str().unwrap()),
                ("topics", topic),
            ],
        ),
    ]
}

/// 100,000 lines: numbered, with empty lines, multi-byte UTF-8 and ten 64 KiB lines.
fn input_text() -> String {
    let mut s = String::new();
    for i in 0..100_000 {
        if i % 97 == 0 {
            s.push('\n');
        } else if i % 10_000 == 5 {
            s.push_str(&format!("{i:06}:"));
            s.push_str(&"k".repeat(64 * 1024));
            s.push('\n');
        } else {
            s.push_str(&format!("{i:06} ünïcødé line ✓ {}\n", "x".repeat(i % 50)));
        }
    }
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn file_to_kafka_to_file_is_byte_identical_and_ordered() {
    let Some(kafka) = TestEnv::get().kafka() else { return };
    let dir = tempfile::tempdir().unwrap();
    let topic = unique_name("lines");
    create_topic(kafka, &topic, 1).await.unwrap();
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.txt");
    let text = input_text();
    std::fs::write(&input, &text).unwrap();
    let worker = worker_props(dir.path(), kafka, &[]);
    let [src, sink] = connectors(dir.path(), &topic, &input, &output);
    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&src, &sink], 0);
    w.wait_log("standalone worker ready", Duration::from_secs(30));
    let len = text.len() as u64;
    wait_until("the sink file to reach the input's length", Duration::from_secs(240), || {
        std::fs::metadata(&output).map(|m| m.len() >= len).unwrap_or(false)
    });
    let status = w.terminate(Duration::from_secs(30));
    assert!(status.success(), "worker exited with {status}:\n{}", w.log_text());
    let out = std::fs::read(&output).unwrap();
    assert_eq!(out.len(), text.len(), "sink file length differs");
    assert!(out == text.as_bytes(), "sink file is not byte-identical to the input");
    assert_eq!(topic_end_offset(kafka, &topic).unwrap(), 100_000, "topic holds a different number of records");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_mid_stream_loses_nothing_and_resumes_from_stored_offset() {
    let Some(kafka) = TestEnv::get().kafka() else { return };
    let dir = tempfile::tempdir().unwrap();
    let topic = unique_name("kill");
    create_topic(kafka, &topic, 1).await.unwrap();
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.txt");
    let n = 200_000;
    let text: String = (0..n).map(|i| format!("record-{i:07} {}\n", "p".repeat(200))).collect();
    std::fs::write(&input, &text).unwrap();
    // Small in-flight window and frequent flushes, so the kill lands mid-stream.
    let worker = worker_props(
        dir.path(),
        kafka,
        &[("source.max.in.flight.records", "500"), ("offset.flush.interval.ms", "200")],
    );
    let [src, sink] = connectors(dir.path(), &topic, &input, &output);

    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&src, &sink], 0);
    w.wait_log("standalone worker ready", Duration::from_secs(30));
    let quarter = (text.len() / 4) as u64;
    wait_until("a quarter of the lines in the sink", Duration::from_secs(120), || {
        std::fs::metadata(&output).map(|m| m.len() >= quarter).unwrap_or(false)
    });
    w.kill9();
    let offsets: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("offsets.json")).unwrap()).unwrap();
    let stored = offsets["offsets"][0]["value"]["position"].as_i64().unwrap();
    assert!(stored > 0, "no source offset stored before the kill");
    let sink_before = std::fs::read_to_string(&output).unwrap().lines().count();
    assert!(sink_before < n, "the kill did not land mid-stream ({sink_before} of {n} lines already written)");

    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&src, &sink], 1);
    w.wait_log("resuming from stored offset", Duration::from_secs(30));
    let expected: HashSet<String> = text.lines().map(str::to_owned).collect();
    wait_until("every line in the sink", Duration::from_secs(240), || {
        let out = std::fs::read_to_string(&output).unwrap_or_default();
        out.lines().filter(|l| expected.contains(*l)).collect::<HashSet<_>>().len() == n
    });
    assert!(w.terminate(Duration::from_secs(30)).success());
    let out = std::fs::read_to_string(&output).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.iter().all(|l| expected.contains(*l)), "the sink holds a line that was never written");
    let produced = topic_end_offset(kafka, &topic).unwrap();
    let source_dups = produced - n as i64;
    let sink_dups = lines.len() - n;
    println!(
        "sigkill: stored position {stored} of {} bytes; {source_dups} records re-sent by the source, \
         {sink_dups} duplicate lines in the sink",
        text.len()
    );
    assert!(
        source_dups < (n as i64) / 2,
        "the source re-sent {source_dups} records: it did not resume from its offset"
    );
    // Order: the sink's last occurrence of each line appears in input order.
    let mut last = -1i64;
    let mut seen = HashSet::new();
    for l in lines.iter().rev() {
        if seen.insert(*l) {
            let i: i64 = l[7..14].parse().unwrap();
            assert!(last == -1 || i < last, "lines out of order near {l}");
            last = i;
        }
    }
}
