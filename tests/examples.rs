//! The README's standalone walk-through, run with the example files as they are (only the
//! worker's broker address, offsets file and REST listener are pointed at the test's).

mod common;

use std::time::Duration;

use common::{WorkerProcess, wait_until, write_props};
use tributary_testcontainers::{TestEnv, repo_root};

#[test]
fn readme_standalone_example_moves_lines_file_to_file() {
    let Some(kafka) = TestEnv::get().kafka() else { return };
    let examples = repo_root().join("examples");
    let dir = tempfile::tempdir().unwrap();
    let mut worker =
        tributary_runtime::properties::parse(&std::fs::read_to_string(examples.join("worker.properties")).unwrap())
            .unwrap();
    let offsets = dir.path().join("connect.offsets");
    worker.insert("bootstrap.servers".into(), kafka.into());
    worker.insert("offset.storage.file.filename".into(), offsets.to_str().unwrap().into());
    worker.insert("offset.flush.interval.ms".into(), "500".into());
    worker.insert("listeners".into(), String::new());
    let pairs: Vec<(&str, &str)> = worker.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let worker = write_props(&dir.path().join("worker.properties"), &pairs);
    // The example connectors use these fixed paths, as the README does.
    let (input, output) = ("/tmp/tributary-input.txt", "/tmp/tributary-output.txt");
    let _ = std::fs::remove_file(output);
    let lines: String = (1..=1000).map(|i| format!("{i}\n")).collect();
    std::fs::write(input, &lines).unwrap();
    let src = examples.join("connectors/file-source.properties");
    let sink = examples.join("connectors/file-sink.properties");
    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[&src, &sink], 0);
    w.wait_log("standalone worker ready", Duration::from_secs(30));
    wait_until("the example's output file to hold the input", Duration::from_secs(60), || {
        std::fs::read_to_string(output).is_ok_and(|o| o == lines)
    });
    assert!(w.terminate(Duration::from_secs(30)).success());
}

#[test]
fn example_datagen_config_is_valid() {
    let path = repo_root().join("examples/connectors/datagen-users.properties");
    let props = tributary_runtime::properties::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut r = tributary_runtime::Registry::new();
    tributary_converters::register(&mut r);
    tributary_connectors::register(&mut r);
    tributary_runtime::worker::validate_connector(&std::sync::Arc::new(r), &props, &Default::default()).unwrap();
}
