//! Property-based fuzzing of the REST API from its own OpenAPI document: schemathesis (PyPI,
//! pinned in tools/python/requirements.txt) sends generated requests, valid and invalid, to
//! every operation of a running standalone worker that has real connectors, and fails on any
//! 5xx answer or any answer that does not match the documented schema.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{WorkerProcess, wait_until, write_props};
use tributary_testcontainers::{TestEnv, confluent_python, unique_name};

const PORT: u16 = 18586;

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl").arg("-s").args(args).output().expect("curl runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn schemathesis_finds_no_server_errors_and_no_schema_violations() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let Some(python) = confluent_python() else { return };
    let schemathesis = python.with_file_name("schemathesis");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("in.txt"), "a\nb\n").unwrap();
    let worker = write_props(
        &d.join("worker.properties"),
        &[
            ("bootstrap.servers", bootstrap),
            ("offset.storage.file.filename", &d.join("offsets.json").display().to_string()),
            ("listeners", &format!("http://127.0.0.1:{PORT}")),
        ],
    );
    let mut w = WorkerProcess::standalone(d, &worker, &[], 1);
    let base = format!("http://127.0.0.1:{PORT}");
    wait_until("healthy", Duration::from_secs(30), || curl(&[&format!("{base}/health")]).contains("healthy"));
    // A connector for the operations that take a name (schemathesis is told to use it).
    let src = format!(
        r#"{{"name":"src","config":{{"connector.class":"FileStreamSource","file":"{}","topic":"{}"}}}}"#,
        d.join("in.txt").display(),
        unique_name("fuzz")
    );
    curl(&["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", &src, &format!("{base}/connectors")]);
    std::fs::write(
        d.join("schemathesis.toml"),
        "[parameters]\n\"path.name\" = \"src\"\n\"path.task\" = 0\n\"path.plugin\" = \"FileStreamSource\"\n\"path.logger\" = \"tributary_runtime\"\n",
    )
    .unwrap();
    let out = Command::new(&schemathesis)
        .current_dir(d)
        .args(["--config-file", "schemathesis.toml", "run", &format!("{base}/openapi.json")])
        .args(["--checks", "not_a_server_error,response_schema_conformance", "--max-examples", "40", "--seed", "7"])
        .env("NO_COLOR", "1")
        .output()
        .expect("schemathesis runs");
    let report = String::from_utf8_lossy(&out.stdout);
    let generated = report
        .lines()
        .map(str::trim)
        .find(|l| l.split_whitespace().nth(1) == Some("generated,") && l.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or("?")
        .to_owned();
    eprintln!("schemathesis: {generated}");
    assert!(out.status.success(), "schemathesis found problems:\n{report}\n{}", String::from_utf8_lossy(&out.stderr));
    let log = w.log_text();
    assert!(w.terminate(Duration::from_secs(30)).success(), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}
