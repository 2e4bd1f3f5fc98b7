//! Secrets through config providers: a connector whose `file` and a password come from
//! `${file:...}` variables runs with the resolved values, while no REST answer and no log line
//! (at debug level) holds the secret.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{WorkerProcess, tributary, wait_until, worker_props, write_props};
use tributary_testcontainers::{TestEnv, create_topic, topic_end_offset, unique_name};

/// A port that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `curl` the URL: (status, body).
fn get(url: &str) -> (u16, String) {
    let out = Command::new("curl").args(["-s", "-m", "10", "-w", "\n%{http_code}", url]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

fn start_debug_worker(dir: &Path, worker: &Path, connector: &Path) -> WorkerProcess {
    let log = dir.join("worker-debug.log");
    let child = tributary()
        .arg("standalone")
        .arg(worker)
        .arg(connector)
        .env("TRIBUTARY_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
        .spawn()
        .unwrap();
    WorkerProcess { child, log }
}

#[tokio::test(flavor = "multi_thread")]
async fn file_provider_secret_is_used_but_never_shown() {
    let Some(kafka) = TestEnv::get().kafka() else { return };
    let dir = tempfile::tempdir().unwrap();
    let topic = unique_name("secrets");
    create_topic(kafka, &topic, 1).await.unwrap();
    let input = dir.path().join("input.txt");
    std::fs::write(&input, "one\ntwo\nthree\n").unwrap();
    let secret = format!("Sup3r-S3cret-{}", unique_name("pw"));
    let secrets = dir.path().join("secrets.properties");
    std::fs::write(&secrets, format!("path={}\npassword={secret}\n", input.display())).unwrap();

    let port = free_port();
    let listeners = format!("http://127.0.0.1:{port}");
    let allowed = dir.path().display().to_string();
    let worker = worker_props(
        dir.path(),
        kafka,
        &[
            ("config.providers", "file"),
            ("config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider"),
            ("config.providers.file.param.allowed.paths", &allowed),
            ("listeners", &listeners),
        ],
    );
    let name = format!("{topic}-source");
    let path_var = format!("${{file:{}:path}}", secrets.display());
    let password_var = format!("${{file:{}:password}}", secrets.display());
    let connector = write_props(
        &dir.path().join("source.properties"),
        &[
            ("name", &name),
            ("connector.class", "FileStreamSource"),
            ("file", &path_var),
            ("topic", &topic),
            ("some.password", &password_var),
        ],
    );
    let mut w = start_debug_worker(dir.path(), &worker, &connector);
    w.wait_log("standalone worker ready", Duration::from_secs(30));

    // The resolved path is what the task reads.
    wait_until("three records from the resolved file", Duration::from_secs(60), || {
        topic_end_offset(kafka, &topic).map(|n| n >= 3).unwrap_or(false)
    });

    let base = format!("http://127.0.0.1:{port}");
    let (status, config) = get(&format!("{base}/connectors/{name}/config"));
    assert_eq!(status, 200, "{config}");
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["file"], path_var.as_str(), "GET /config must show the placeholder");
    assert_eq!(config["some.password"], password_var.as_str());
    for path in [
        format!("/connectors/{name}"),
        format!("/connectors/{name}/config"),
        format!("/connectors/{name}/status"),
        format!("/connectors/{name}/tasks"),
        format!("/connectors/{name}/tasks/0/status"),
        "/connectors?expand=info&expand=status".to_owned(),
    ] {
        let (status, body) = get(&format!("{base}{path}"));
        assert!(status == 200 || (status == 404 && path.ends_with("/tasks")), "GET {path}: {status} {body}");
        assert!(!body.contains(&secret), "GET {path} shows the secret: {body}");
    }
    let (status, tasks) = get(&format!("{base}/connectors/{name}/tasks"));
    if status == 200 {
        assert!(tasks.contains("${file:"), "task configs should hold the placeholders: {tasks}");
    }

    let exit = w.terminate(Duration::from_secs(30));
    assert!(exit.success(), "worker exited with {exit}:\n{}", w.log_text());
    let log = w.log_text();
    assert!(log.contains("DEBUG"), "the worker ran at debug level");
    assert!(!log.contains(&secret), "the worker's log holds the secret:\n{log}");
}

#[test]
fn unresolvable_variable_fails_with_key_and_variable_not_value() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets.properties");
    std::fs::write(&secrets, "password=do-not-print-me\n").unwrap();
    let port = free_port();
    let listeners = format!("http://127.0.0.1:{port}");
    let worker = worker_props(
        dir.path(),
        "127.0.0.1:1",
        &[
            ("config.providers", "file"),
            ("config.providers.file.class", "FileConfigProvider"),
            ("listeners", &listeners),
        ],
    );
    let var = format!("${{file:{}:passwd}}", secrets.display());
    let connector = write_props(
        &dir.path().join("c.properties"),
        &[("name", "c"), ("connector.class", "FileStreamSource"), ("file", &var), ("topic", "t")],
    );
    let mut w = start_debug_worker(dir.path(), &worker, &connector);
    // Kafka Connect marks such a connector FAILED; a worker that refuses to start is fine too.
    let mut failure = String::new();
    wait_until("the connector to fail or the worker to exit", Duration::from_secs(30), || {
        if let Ok(Some(_)) = w.child.try_wait() {
            failure = w.log_text();
            return true;
        }
        let (status, body) = get(&format!("http://127.0.0.1:{port}/connectors/c/status"));
        if status == 200 && body.contains("FAILED") {
            failure = body;
            return true;
        }
        false
    });
    assert!(failure.contains("'file'") && failure.contains(&var), "{failure}");
    assert!(failure.contains("key 'passwd' not found"), "{failure}");
    let log = w.log_text();
    assert!(!failure.contains("do-not-print-me") && !log.contains("do-not-print-me"), "{failure}\n{log}");
}

#[test]
fn unknown_provider_class_is_a_worker_error() {
    let dir = tempfile::tempdir().unwrap();
    let worker = worker_props(
        dir.path(),
        "127.0.0.1:1",
        &[("config.providers", "vault"), ("config.providers.vault.class", "com.example.VaultConfigProvider")],
    );
    let out = tributary().arg("standalone").arg(&worker).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("config.providers.vault.class") && stderr.contains("FileConfigProvider"), "{stderr}");
}
