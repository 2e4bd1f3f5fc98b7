//! The broker is missing at start, then stopped and restarted mid-stream: the worker retries,
//! says so, resumes, and loses nothing. Uses its own broker (port 19192) so it can stop it.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{WorkerProcess, wait_until, worker_props, write_props};
use tributary_testcontainers::{TestEnv, start_kafka, stop_kafka, unique_name};

const PORT: u16 = 19192;

#[test]
fn worker_rides_out_a_missing_and_a_restarted_broker() {
    // The shared broker proves Kafka can run here at all; this test then runs its own.
    if TestEnv::get().kafka().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let kafka_dir = dir.path().join("kafka");
    let bootstrap = format!("127.0.0.1:{PORT}");
    let topic = unique_name("outage");
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.txt");
    let n = 100_000;
    let text: String = (0..n).map(|i| format!("line-{i:07} {}\n", "o".repeat(100))).collect();
    std::fs::write(&input, &text).unwrap();
    let worker = worker_props(dir.path(), &bootstrap, &[("source.max.in.flight.records", "1000")]);
    let src = write_props(
        &dir.path().join("source.properties"),
        &[
            ("name", "outage-source"),
            ("connector.class", "FileStreamSource"),
            ("file", input.to_str().unwrap()),
            ("topic", &topic),
        ],
    );
    let sink = write_props(
        &dir.path().join("sink.properties"),
        &[
            ("name", "outage-sink"),
            ("connector.class", "FileStreamSink"),
            ("file", output.to_str().unwrap()),
            ("topics", &topic),
        ],
    );

    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&src, &sink], 0);
    w.wait_log("standalone worker ready", Duration::from_secs(30));
    w.wait_log("Kafka client error, retrying with back-off", Duration::from_secs(30));
    assert!(!output.exists() || std::fs::metadata(&output).unwrap().len() == 0);

    start_kafka(PORT, Some(&kafka_dir)).expect("start the test's own broker");
    let tenth = (text.len() / 10) as u64;
    wait_until("data flowing after the broker came up", Duration::from_secs(120), || {
        std::fs::metadata(&output).map(|m| m.len() >= tenth).unwrap_or(false)
    });
    stop_kafka(PORT, Some(&kafka_dir)).expect("stop the broker mid-stream");
    let during = std::fs::metadata(&output).unwrap().len();
    std::thread::sleep(Duration::from_secs(3));
    start_kafka(PORT, Some(&kafka_dir)).expect("restart the broker");

    let expected: HashSet<&str> = text.lines().collect();
    wait_until("every line in the sink after the restart", Duration::from_secs(240), || {
        let out = std::fs::read_to_string(&output).unwrap_or_default();
        out.lines().filter(|l| expected.contains(l)).collect::<HashSet<_>>().len() == n
    });
    assert!(w.terminate(Duration::from_secs(30)).success(), "{}", w.log_text());
    stop_kafka(PORT, Some(&kafka_dir)).unwrap();
    let out = std::fs::read_to_string(&output).unwrap();
    let lines = out.lines().count();
    println!("broker outage: {during} bytes written before the stop; {} duplicate lines; nothing lost", lines - n);
    assert!(out.lines().all(|l| expected.contains(l)), "a corrupt line reached the sink");
}
