//! Bad worker or connector properties: a non-zero exit and a message naming the key, never a
//! panic. No broker is needed: everything is checked before anything starts.

mod common;

use common::{tributary, write_props};

fn run(args: &[&std::path::Path]) -> (i32, String) {
    let out = tributary().arg("standalone").args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "tributary panicked:\n{stderr}");
    (out.status.code().unwrap_or(-1), stderr)
}

fn worker(dir: &std::path::Path, extra: &[(&str, &str)]) -> std::path::PathBuf {
    let offsets = dir.join("offsets.json");
    let mut pairs = vec![
        ("bootstrap.servers", "127.0.0.1:1"),
        ("offset.storage.file.filename", offsets.to_str().unwrap()),
        ("listeners", ""),
    ];
    pairs.extend_from_slice(extra);
    write_props(&dir.join("worker.properties"), &pairs)
}

#[test]
fn unknown_connector_class_names_the_key_and_the_class() {
    let dir = tempfile::tempdir().unwrap();
    let c = write_props(
        &dir.path().join("c.properties"),
        &[("name", "x"), ("connector.class", "com.example.NoSuchConnector")],
    );
    let (code, err) = run(&[&worker(dir.path(), &[]), &c]);
    assert_ne!(code, 0);
    assert!(err.contains("connector.class") && err.contains("com.example.NoSuchConnector"), "{err}");
}

#[test]
fn missing_required_connector_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let c = write_props(&dir.path().join("c.properties"), &[("name", "x"), ("connector.class", "FileStreamSource")]);
    let (code, err) = run(&[&worker(dir.path(), &[]), &c]);
    assert_ne!(code, 0);
    assert!(err.contains("\"topic\"") && err.contains("Missing required configuration"), "{err}");
}

#[test]
fn wrong_type_is_named_with_the_bad_value() {
    let dir = tempfile::tempdir().unwrap();
    let c = write_props(
        &dir.path().join("c.properties"),
        &[
            ("name", "x"),
            ("connector.class", "FileStreamSource"),
            ("topic", "t"),
            ("batch.size", "many"),
            ("tasks.max", "0"),
        ],
    );
    let (code, err) = run(&[&worker(dir.path(), &[]), &c]);
    assert_ne!(code, 0);
    // Kafka Connect's wording: "Invalid value many for configuration batch.size: ...".
    assert!(err.contains("Invalid value many for configuration batch.size"), "{err}");
    assert!(err.contains("configuration tasks.max"), "all errors at once: {err}");
}

#[test]
fn wrong_type_in_worker_properties_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = run(&[&worker(dir.path(), &[("offset.flush.interval.ms", "soon")])]);
    assert_ne!(code, 0);
    assert!(err.contains("Invalid value soon for configuration offset.flush.interval.ms"), "{err}");
}

#[test]
fn missing_offsets_file_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let w = write_props(&dir.path().join("worker.properties"), &[("bootstrap.servers", "127.0.0.1:1")]);
    let (code, err) = run(&[&w]);
    assert_ne!(code, 0);
    assert!(err.contains("offset.storage.file.filename"), "{err}");
}

#[test]
fn unreadable_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.properties");
    let (code, err) = run(&[&missing]);
    assert_ne!(code, 0);
    assert!(err.contains("nope.properties"), "{err}");
    let (code, err) = run(&[&worker(dir.path(), &[]), &missing]);
    assert_ne!(code, 0);
    assert!(err.contains("cannot read connector properties file") && err.contains("nope.properties"), "{err}");
}

#[test]
fn sink_without_topics_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let c = write_props(
        &dir.path().join("c.properties"),
        &[("name", "x"), ("connector.class", "FileStreamSink"), ("file", "/tmp/x")],
    );
    let (code, err) = run(&[&worker(dir.path(), &[]), &c]);
    assert_ne!(code, 0);
    assert!(err.contains("'topics'"), "{err}");
}

#[test]
fn unwritable_sink_file_fails_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let c = write_props(
        &dir.path().join("c.properties"),
        &[("name", "x"), ("connector.class", "FileStreamSink"), ("file", "/nonexistent-dir/out.txt"), ("topics", "t")],
    );
    // Validation passes; the task fails at start and the worker reports it.
    let child = tributary()
        .arg("standalone")
        .arg(worker(dir.path(), &[]))
        .arg(&c)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(2));
    let _ = std::process::Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent-dir/out.txt") && err.contains("'file'"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
