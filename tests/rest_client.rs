//! A third-party Kafka Connect client against Tributary (issue 5): `kafka-connect-py` from PyPI
//! (pinned in tools/python/requirements.txt) runs `tests/python/connect_client.py`, which creates,
//! lists, reads, pauses, resumes, restarts, updates and deletes a FileStreamSource connector of a
//! Tributary standalone worker with the library's own calls only, checking every answer.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{WorkerProcess, write_props};
use tributary_testcontainers::{TestEnv, confluent_python, repo_root, unique_name};

#[test]
fn kafka_connect_py_manages_a_connector_on_tributary() {
    let Some(kafka) = TestEnv::get().kafka() else { return };
    let Some(python) = confluent_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), "one\ntwo\nthree\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let offsets = dir.path().join("offsets.json");
    let worker = write_props(
        &dir.path().join("worker.properties"),
        &[
            ("bootstrap.servers", kafka),
            ("key.converter", "org.apache.kafka.connect.json.JsonConverter"),
            ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
            ("offset.storage.file.filename", offsets.to_str().unwrap()),
            ("offset.flush.interval.ms", "1000"),
            ("listeners", &format!("http://127.0.0.1:{port}")),
        ],
    );
    let mut w = WorkerProcess::standalone(dir.path(), &worker, &[], 0);
    w.wait_log("standalone worker ready", Duration::from_secs(30));
    let t0 = Instant::now();
    let out = Command::new(&python)
        .arg(repo_root().join("tests/python/connect_client.py"))
        .args([&format!("http://127.0.0.1:{port}"), dir.path().to_str().unwrap(), &unique_name("client")])
        .output()
        .expect("cannot run the Python client");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("{text}connect_client.py took {:.1} s", t0.elapsed().as_secs_f64());
    assert!(
        out.status.success() && text.contains("all checks passed"),
        "kafka-connect-py against Tributary failed ({}):\n{text}\nworker log:\n{}",
        out.status,
        w.log_text()
    );
}
