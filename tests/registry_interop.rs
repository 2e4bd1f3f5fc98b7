//! Confluent's own Python client (confluent-kafka 2.16.1, `SchemaRegistryClient`, the Avro
//! serializer and deserializer) against `tributary schema-registry` on the test broker.

#[path = "registry_util.rs"]
mod registry_util;

use std::process::Command;

use registry_util::Registry;
use tributary_testcontainers::{TestEnv, confluent_python, repo_root, unique_name};

#[test]
fn confluents_python_client_works_against_the_registry() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let Some(python) = confluent_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let topic = unique_name("_schemas");
    let registry = Registry::start(dir.path(), "registry", &["--bootstrap-servers", bootstrap, "--topic", &topic]);
    let script = repo_root().join("tests/python/registry_client.py");
    let out = Command::new(python).arg(&script).arg(registry.url()).arg(unique_name("interop")).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{} failed ({}):\n{stdout}\n{stderr}\nregistry log:\n{}",
        script.display(),
        out.status,
        registry.log_text()
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
    let status = registry.stop();
    assert!(status.success(), "the registry exited with {status} on SIGTERM");
}
