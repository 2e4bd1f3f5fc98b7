//! REST security through the binary: http:// and https:// listeners at once with a self-signed
//! certificate made by the openssl command, basic auth as Kafka Connect's
//! BasicAuthSecurityRestExtension (JAAS file from the worker key or KAFKA_OPTS), bearer tokens.
//! No broker is needed: the workers run no connector.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{WorkerProcess, tributary, worker_props};

const JAAS_MODULE: &str = "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule";
const EXTENSION: &str = "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A self-signed certificate for localhost and 127.0.0.1: (cert file, key file).
fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl: {}", String::from_utf8_lossy(&out.stderr));
    (cert, key)
}

/// `curl` with extra arguments: (status, body); status 0 when no HTTP answer came.
fn curl(url: &str, args: &[&str]) -> (u16, String) {
    let out =
        Command::new("curl").args(["-s", "-m", "10", "-w", "\n%{http_code}"]).args(args).arg(url).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

fn start(dir: &Path, worker: &Path, kafka_opts: Option<&str>) -> WorkerProcess {
    let log = dir.join("worker.log");
    let mut cmd = tributary();
    cmd.arg("standalone").arg(worker).env("TRIBUTARY_LOG", "debug").env_remove("KAFKA_OPTS");
    if let Some(opts) = kafka_opts {
        cmd.env("KAFKA_OPTS", opts);
    }
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::from(std::fs::File::create(&log).unwrap())).spawn().unwrap();
    let mut w = WorkerProcess { child, log };
    w.wait_log("standalone worker ready", Duration::from_secs(30));
    w
}

fn credentials(dir: &Path) -> PathBuf {
    let creds = dir.join("credentials.properties");
    std::fs::write(&creds, "# user: password\nadmin: adm1n-Secret\nops=0ps:pass\n").unwrap();
    let jaas = dir.join("jaas.conf");
    std::fs::write(&jaas, format!("KafkaConnect {{\n  {JAAS_MODULE} required\n  file=\"{}\";\n}};\n", creds.display()))
        .unwrap();
    jaas
}

#[test]
fn http_and_https_with_basic_auth_and_bearer_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let keystore = dir.path().join("keystore.pem");
    let pem = std::fs::read_to_string(&key).unwrap() + &std::fs::read_to_string(&cert).unwrap();
    std::fs::write(&keystore, pem).unwrap();
    let jaas = credentials(dir.path());
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, "# CI\ntok-3f9a1c\n").unwrap();
    let (http_port, https_port) = (free_port(), free_port());
    let listeners = format!("http://127.0.0.1:{http_port},https://localhost:{https_port}");
    let worker = worker_props(
        dir.path(),
        "127.0.0.1:1",
        &[
            ("listeners", &listeners),
            ("listeners.https.ssl.keystore.type", "PEM"),
            ("listeners.https.ssl.keystore.location", keystore.to_str().unwrap()),
            ("rest.extension.classes", EXTENSION),
            ("rest.basic.auth.jaas.config.file", jaas.to_str().unwrap()),
            ("rest.bearer.tokens.file", tokens.to_str().unwrap()),
        ],
    );
    let mut w = start(dir.path(), &worker, None);
    let log = w.log_text();
    assert!(log.contains(&format!("http://127.0.0.1:{http_port}")), "{log}");
    assert!(log.contains(&format!("https://127.0.0.1:{https_port}")), "{log}");

    let http = format!("http://127.0.0.1:{http_port}/connectors");
    let https = format!("https://localhost:{https_port}/connectors");
    let ca = cert.to_str().unwrap();
    let unauthorized = serde_json::json!({"error_code": 401, "message": "User cannot access the resource."});
    for (url, tls) in [(&http, &[][..]), (&https, &["--cacert", ca][..])] {
        let with = |extra: &[&str]| curl(url, &[tls, extra].concat());
        let (status, body) = with(&[]);
        assert_eq!(status, 401, "{url}: {body}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap(), unauthorized);
        assert_eq!(with(&["-u", "admin:wrong"]).0, 401, "{url}");
        assert_eq!(with(&["-u", "nobody:adm1n-Secret"]).0, 401, "{url}");
        assert_eq!(with(&["-H", "Authorization: Bearer tok-wrong"]).0, 401, "{url}");
        assert_eq!(with(&["-u", "admin:adm1n-Secret"]), (200, "[]".to_owned()), "{url}");
        assert_eq!(with(&["-u", "ops:0ps:pass"]).0, 200, "{url}");
        assert_eq!(with(&["-H", "Authorization: Bearer tok-3f9a1c"]).0, 200, "{url}");
    }
    // The https listener speaks TLS only, with the configured certificate.
    assert_eq!(curl(&https, &["-u", "admin:adm1n-Secret"]).0, 0, "an unknown CA must be refused by curl");
    assert_eq!(curl(&format!("http://127.0.0.1:{https_port}/connectors"), &[]).0, 0);

    let exit = w.terminate(Duration::from_secs(30));
    assert!(exit.success(), "{}", w.log_text());
    let log = w.log_text();
    for secret in ["adm1n-Secret", "0ps:pass", "tok-3f9a1c", "tok-wrong"] {
        assert!(!log.contains(secret), "the log holds {secret}:\n{log}");
    }
}

#[test]
fn jaas_from_kafka_opts_and_inline_pem_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    // Inline PEM as a properties value: newlines written as \n escapes.
    let inline = |p: &Path| std::fs::read_to_string(p).unwrap().trim_end().replace('\n', "\\n");
    let jaas = credentials(dir.path());
    let port = free_port();
    let listeners = format!("https://127.0.0.1:{port}");
    let worker = worker_props(
        dir.path(),
        "127.0.0.1:1",
        &[
            ("listeners", &listeners),
            ("ssl.keystore.type", "PEM"),
            ("ssl.keystore.certificate.chain", &inline(&cert)),
            ("ssl.keystore.key", &inline(&key)),
            ("rest.extension.classes", EXTENSION),
        ],
    );
    let opts = format!("-Xmx512m -Djava.security.auth.login.config={}", jaas.display());
    let mut w = start(dir.path(), &worker, Some(&opts));
    let url = format!("https://127.0.0.1:{port}/connectors");
    let ca = cert.to_str().unwrap();
    assert_eq!(curl(&url, &["--cacert", ca]).0, 401);
    assert_eq!(curl(&url, &["--cacert", ca, "-u", "admin:adm1n-Secret"]), (200, "[]".to_owned()));
    w.terminate(Duration::from_secs(30));
}

#[test]
fn bad_security_settings_stop_the_worker_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (vec![("listeners", format!("https://127.0.0.1:{port}"))], "ssl.keystore.location"),
        (
            vec![
                ("listeners", format!("https://127.0.0.1:{port}")),
                ("ssl.keystore.type", "JKS".into()),
                ("ssl.keystore.location", "/x.jks".into()),
            ],
            "'ssl.keystore.type'",
        ),
        (vec![("rest.extension.classes", EXTENSION.into())], "needs a JAAS file"),
        (vec![("rest.extension.classes", "com.example.Auth".into())], "'rest.extension.classes'"),
        (vec![("rest.bearer.tokens.file", "/no/tokens".into())], "'rest.bearer.tokens.file'"),
        (vec![("listeners", "ftp://127.0.0.1:1".into())], "'listeners'"),
    ];
    for (extra, expected) in cases {
        let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let worker = worker_props(dir.path(), "127.0.0.1:1", &extra);
        let out = tributary().arg("standalone").arg(&worker).env_remove("KAFKA_OPTS").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{extra:?} should fail");
        assert!(stderr.contains(expected), "{extra:?}: expected '{expected}' in:\n{stderr}");
    }
}
