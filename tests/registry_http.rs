//! The schema registry's HTTP surface against bad input: malformed JSON, wrong shapes, invalid
//! schemas, bad versions, ids and levels answer Confluent's codes, never a 500. Served
//! in-process from an in-memory registry, so these run without Kafka.

#[path = "registry_util.rs"]
mod registry_util;

use std::sync::Arc;

use registry_util::{avro_body, http, http_raw};
use serde_json::{Value, json};
use tributary_converters::registry::SchemaRegistry;

const USER: &str = r#"{"type":"record","name":"User","namespace":"ex","fields":[{"name":"name","type":"string"}]}"#;

/// Serves a fresh in-memory registry on a free port for the test's lifetime.
fn serve() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = tributary_rest_api::registry::router(Arc::new(SchemaRegistry::in_memory()));
            axum::serve(listener, app).await.unwrap();
        });
    });
    port
}

fn code(v: &Value) -> i64 {
    v["error_code"].as_i64().unwrap_or_else(|| panic!("no error_code in {v}"))
}

#[test]
fn malformed_bodies_answer_400_or_422_with_the_field() {
    let port = serve();
    let (s, v) = http(port, "POST", "/subjects/a/versions", Some("{not json"));
    assert_eq!((s, code(&v)), (400, 400), "{v}");
    assert!(v["message"].as_str().unwrap().contains("not valid JSON"), "{v}");
    let (s, v) = http(port, "POST", "/subjects/a/versions", Some(""));
    assert_eq!((s, code(&v)), (400, 400), "{v}");
    let (s, v) = http(port, "POST", "/subjects/a/versions", Some("[1,2]"));
    assert_eq!((s, code(&v)), (422, 422), "{v}");
    let (s, v) = http(port, "POST", "/subjects/a/versions", Some(r#"{"schema": 42}"#));
    assert_eq!((s, code(&v)), (422, 422), "{v}");
    assert!(v["message"].as_str().unwrap().contains("'schema'"), "{v}");
    let (s, v) = http(port, "POST", "/subjects/a/versions", Some(r#"{"schemaType":"AVRO"}"#));
    assert_eq!((s, code(&v)), (422, 42201), "{v}");
    let (s, v) = http(port, "POST", "/subjects/a/versions", Some(r#"{"schema":"\"int\"","references":{}}"#));
    assert_eq!((s, code(&v)), (422, 422), "{v}");
    let (s, v) = http(port, "PUT", "/config", Some(r#"{"compatibility": 3}"#));
    assert_eq!((s, code(&v)), (422, 422), "{v}");
    let (s, v) = http(port, "PUT", "/mode", Some("{}"));
    assert_eq!((s, code(&v)), (422, 422), "{v}");
    // Any content type is read, as Confluent's GENERIC_REQUEST.
    for ct in ["application/json", "application/octet-stream", "application/vnd.schemaregistry.v1+json"] {
        let (s, text) = http_raw(port, "POST", "/subjects/ct/versions", Some(avro_body(USER).as_bytes()), ct);
        assert_eq!(s, 200, "{ct}: {text}");
    }
    // Bodies are bounded.
    let huge = vec![b' '; 17 * 1024 * 1024];
    let (s, _) = http_raw(port, "POST", "/subjects/a/versions", Some(&huge), "application/json");
    assert_eq!(s, 413);
}

#[test]
fn invalid_schemas_and_types_answer_42201() {
    let port = serve();
    let cases = [
        json!({"schema": "{\"type\":\"record\",\"name\":\"R\"}"}),
        json!({"schema": "{\"type\":\"nope\"}"}),
        json!({"schema": "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"default\":\"x\"}]}"}),
        json!({"schema": "not json"}),
        json!({"schema": "42", "schemaType": "JSON"}),
        json!({"schema": "syntax = \"proto3\";", "schemaType": "PROTOBUF"}),
        json!({"schema": "\"int\"", "schemaType": "XML"}),
        json!({"schema": "\"int\"", "references": [{"name": "x", "subject": "missing", "version": 1}]}),
    ];
    for body in cases {
        let (s, v) = http(port, "POST", "/subjects/bad/versions", Some(&body.to_string()));
        assert_eq!((s, code(&v)), (422, 42201), "{body} -> {v}");
    }
    let (_, v) = http(
        port,
        "POST",
        "/subjects/bad/versions",
        Some(&json!({"schema": "1", "schemaType": "PROTOBUF"}).to_string()),
    );
    assert!(v["message"].as_str().unwrap().contains("PROTOBUF is not supported"), "{v}");
}

#[test]
fn bad_versions_ids_levels_and_modes_answer_confluents_codes() {
    let port = serve();
    assert_eq!(http(port, "POST", "/subjects/s/versions", Some(&avro_body(USER))).0, 200);
    for v in ["0", "abc", "-2", "2147483648", "1.5"] {
        let (s, body) = http(port, "GET", &format!("/subjects/s/versions/{v}"), None);
        assert_eq!((s, code(&body)), (422, 42202), "version {v}: {body}");
    }
    let (s, v) = http(port, "GET", "/subjects/s/versions/7", None);
    assert_eq!((s, code(&v)), (404, 40402), "{v}");
    let (s, v) = http(port, "GET", "/subjects/nope/versions/1", None);
    assert_eq!((s, code(&v)), (404, 40401), "{v}");
    assert_eq!(v["message"], "Subject 'nope' not found.");
    for id in ["99999", "2147483648", "99999999999999999999999999", "-1"] {
        let (s, v) = http(port, "GET", &format!("/schemas/ids/{id}"), None);
        assert_eq!((s, code(&v)), (404, 40403), "id {id}: {v}");
    }
    let (s, v) = http(port, "GET", "/schemas/ids/abc", None);
    assert_eq!((s, code(&v)), (404, 404), "{v}");
    let (s, v) = http(port, "PUT", "/config", Some(r#"{"compatibility":"SIDEWAYS"}"#));
    assert_eq!((s, code(&v)), (422, 42203), "{v}");
    let (s, v) = http(port, "PUT", "/config/s", Some(r#"{"compatibility":"sideways"}"#));
    assert_eq!((s, code(&v)), (422, 42203), "{v}");
    let (s, v) = http(port, "PUT", "/mode", Some(r#"{"mode":"WRITEONLY"}"#));
    assert_eq!((s, code(&v)), (422, 42204), "{v}");
    let (s, v) = http(port, "GET", "/config/s", None);
    assert_eq!((s, code(&v)), (404, 40408), "{v}");
    let (s, v) = http(port, "GET", "/config/s?defaultToGlobal=true", None);
    assert_eq!((s, v), (200, json!({"compatibilityLevel": "BACKWARD"})));
    let (s, v) = http(port, "POST", "/compatibility/subjects/s/versions/9", Some(&avro_body(USER)));
    assert_eq!((s, code(&v)), (404, 40402), "{v}");
    let (s, v) = http(port, "GET", "/no/such/path", None);
    assert_eq!((s, code(&v)), (404, 404), "{v}");
}

#[test]
fn read_only_mode_refuses_writes_with_42205() {
    let port = serve();
    assert_eq!(http(port, "PUT", "/mode", Some(r#"{"mode":"READONLY"}"#)), (200, json!({"mode": "READONLY"})));
    let (s, v) = http(port, "POST", "/subjects/s/versions", Some(&avro_body(USER)));
    assert_eq!((s, code(&v)), (422, 42205), "{v}");
    assert_eq!(http(port, "GET", "/mode", None), (200, json!({"mode": "READONLY"})));
    assert_eq!(http(port, "PUT", "/mode", Some(r#"{"mode":"READWRITE"}"#)).0, 200);
    assert_eq!(http(port, "POST", "/subjects/s/versions", Some(&avro_body(USER))), (200, json!({"id": 1})));
}

#[test]
fn answers_have_confluents_shapes() {
    let port = serve();
    assert_eq!(http(port, "GET", "/", None), (200, json!({})));
    assert_eq!(http(port, "GET", "/schemas/types", None), (200, json!(["AVRO", "JSON"])));
    assert_eq!(
        http(port, "POST", "/subjects/s-value/versions?normalize=false", Some(&avro_body(USER))),
        (200, json!({"id": 1}))
    );
    let canonical = r#"{"type":"record","name":"User","namespace":"ex","fields":[{"name":"name","type":"string"}]}"#;
    let expected = json!({"subject": "s-value", "version": 1, "id": 1, "schema": canonical});
    assert_eq!(http(port, "GET", "/subjects/s-value/versions/latest", None), (200, expected.clone()));
    assert_eq!(http(port, "GET", "/subjects/s-value/versions/-1", None), (200, expected.clone()));
    assert_eq!(http(port, "POST", "/subjects/s-value", Some(&avro_body(USER))), (200, expected));
    let (s, raw) = http_raw(port, "GET", "/subjects/s-value/versions/1/schema", None, "application/json");
    assert_eq!((s, raw.as_str()), (200, canonical));
    assert_eq!(http(port, "GET", "/schemas/ids/1", None), (200, json!({"schema": canonical})));
    assert_eq!(
        http(port, "GET", "/schemas/ids/1/versions", None),
        (200, json!([{"subject": "s-value", "version": 1}]))
    );
    assert_eq!(http(port, "GET", "/schemas/ids/1/subjects", None), (200, json!(["s-value"])));
    assert_eq!(http(port, "GET", "/subjects/s-value/versions/1/referencedby", None), (200, json!([])));
    assert_eq!(http(port, "GET", "/subjects?subjectPrefix=s-", None), (200, json!(["s-value"])));
    assert_eq!(http(port, "GET", "/subjects?subjectPrefix=x", None), (200, json!([])));
    let json_schema = json!({"schema": "{\"type\": \"object\"}", "schemaType": "JSON"}).to_string();
    assert_eq!(http(port, "POST", "/subjects/j/versions", Some(&json_schema)), (200, json!({"id": 2})));
    assert_eq!(
        http(port, "GET", "/schemas/ids/2", None),
        (200, json!({"schemaType": "JSON", "schema": "{\"type\":\"object\"}"}))
    );
    assert_eq!(
        http(port, "PUT", "/config", Some(r#"{"compatibility":"full"}"#)),
        (200, json!({"compatibility": "FULL"}))
    );
    assert_eq!(http(port, "GET", "/config", None), (200, json!({"compatibilityLevel": "FULL"})));
    assert_eq!(http(port, "DELETE", "/config", None), (200, json!({"compatibilityLevel": "FULL"})));
    assert_eq!(http(port, "GET", "/config", None), (200, json!({"compatibilityLevel": "BACKWARD"})));
    let incompatible =
        avro_body(r#"{"type":"record","name":"User","namespace":"ex","fields":[{"name":"n","type":"int"}]}"#);
    assert_eq!(
        http(port, "POST", "/compatibility/subjects/s-value/versions/latest", Some(&incompatible)).1,
        json!({"is_compatible": false})
    );
    let (_, v) = http(port, "POST", "/compatibility/subjects/s-value/versions?verbose=true", Some(&incompatible));
    assert_eq!(v["is_compatible"], false);
    assert!(v["messages"].as_array().is_some_and(|m| !m.is_empty()), "{v}");
    let (s, v) = http(port, "POST", "/subjects/s-value/versions", Some(&incompatible));
    assert_eq!((s, code(&v)), (409, 409), "{v}");
    assert_eq!(http(port, "DELETE", "/subjects/s-value/versions/1", None), (200, json!(1)));
    assert_eq!(http(port, "GET", "/subjects/s-value/versions?deleted=true", None), (200, json!([1])));
    assert_eq!(http(port, "DELETE", "/subjects/s-value?permanent=true", None), (200, json!([1])));
}
