//! Helpers for the schema registry tests: a `tributary schema-registry` process, free ports, and
//! a tiny HTTP/1.1 client over `std::net` (no extra dependency). Included with
//! `#[path = "registry_util.rs"] mod registry_util;`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A port nobody listens on right now.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `tributary schema-registry` running as a child process.
pub(crate) struct Registry {
    child: Child,
    pub(crate) port: u16,
    pub(crate) startup: String,
    log: std::path::PathBuf,
}

impl Registry {
    /// Starts the registry on a free port with `args` and waits until it prints "Ready in".
    pub(crate) fn start(dir: &Path, name: &str, args: &[&str]) -> Self {
        let port = free_port();
        let log = dir.join(format!("{name}.log"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .arg("schema-registry")
            .args(["--listeners", &format!("http://127.0.0.1:{port}")])
            .args(args)
            .env("TRIBUTARY_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut startup = String::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !startup.contains("Ready in") {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    startup.push_str(&line);
                    startup.push('\n');
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    assert!(Instant::now() < deadline, "registry did not start:\n{startup}\n{}", read(&log));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let _ = child.wait();
                    panic!("registry exited before it was ready:\n{startup}\n{}", read(&log));
                }
            }
        }
        Self { child, port, startup, log }
    }

    /// The base URL.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A request to this registry.
    pub(crate) fn call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
        http(self.port, method, path, body)
    }

    /// SIGTERM, then waits (at most 15 s) for a clean exit.
    pub(crate) fn stop(mut self) -> std::process::ExitStatus {
        Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "registry did not stop on SIGTERM:\n{}", self.log_text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL.
    pub(crate) fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The registry's stderr so far.
    pub(crate) fn log_text(&self) -> String {
        read(&self.log)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// One HTTP/1.1 request with `Connection: close`; the status and the body as JSON (a body that
/// is not JSON comes back as a JSON string).
pub(crate) fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let (status, text) =
        http_raw(port, method, path, body.map(str::as_bytes), "application/vnd.schemaregistry.v1+json");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// One HTTP/1.1 request with raw bytes and a content type; the status and the body text.
pub(crate) fn http_raw(port: u16, method: &str, path: &str, body: Option<&[u8]>, content_type: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = body.unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    // A server may answer (413) before reading a large body; a broken pipe then is expected.
    let _ = s.write_all(body);
    let mut response = Vec::new();
    let _ = s.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_owned() };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// A register request body for an Avro schema.
pub(crate) fn avro_body(schema: &str) -> String {
    serde_json::json!({"schema": schema}).to_string()
}
