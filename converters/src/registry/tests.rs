use serde_json::Value;

use super::model::SchemaType;
use super::*;

fn canon(text: &str) -> String {
    let v: Value = serde_json::from_str(text).unwrap();
    canonical::avro(&v).unwrap()
}

#[test]
fn canonical_avro_is_what_avro_java_writes() {
    assert_eq!(canon(r#"{"type": "string"}"#), r#""string""#);
    assert_eq!(canon(r#"{"type":"string","doc":"dropped by Java"}"#), r#""string""#);
    assert_eq!(
        canon(r#"{"type":"long","logicalType":"timestamp-millis"}"#),
        r#"{"type":"long","logicalType":"timestamp-millis"}"#
    );
    let record = r#"{
        "fields": [
            {"type": "int", "name": "a", "default": 1, "doc": "the a", "connect.x": 2},
            {"name": "b", "order": "descending", "type": {"type": "string"}, "aliases": ["bb", "bb"]},
            {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["X", "Y"], "default": "X"}},
            {"name": "e2", "type": "E"},
            {"name": "o", "type": {"type": "record", "name": "Other", "namespace": "other.ns", "fields": []}}
        ],
        "connect.name": "com.example.R",
        "name": "R", "namespace": "com.example", "type": "record", "doc": "a record",
        "aliases": ["com.example.Old", "elsewhere.Old"]
    }"#;
    assert_eq!(
        canon(record),
        concat!(
            r#"{"type":"record","name":"R","namespace":"com.example","doc":"a record","fields":["#,
            r#"{"name":"a","type":"int","doc":"the a","default":1,"connect.x":2},"#,
            r#"{"name":"b","type":"string","order":"descending","aliases":["bb"]},"#,
            r#"{"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"],"default":"X"}},"#,
            r#"{"name":"e2","type":"E"},"#,
            r#"{"name":"o","type":{"type":"record","name":"Other","namespace":"other.ns","fields":[]}}],"#,
            r#""connect.name":"com.example.R","aliases":["Old","elsewhere.Old"]}"#
        )
    );
    assert_eq!(canon(r#"["null", {"type":"string"}]"#), r#"["null","string"]"#);
    assert_eq!(
        canon(r#"{"type":"fixed","size":16,"name":"a.b.F"}"#),
        r#"{"type":"fixed","name":"F","namespace":"a.b","size":16}"#
    );
}

#[test]
fn error_codes_and_statuses_are_confluents() {
    let cases = [
        (RegistryError::SubjectNotFound("s".into()), 40401, 404),
        (RegistryError::VersionNotFound(3), 40402, 404),
        (RegistryError::SchemaNotFound, 40403, 404),
        (RegistryError::SubjectSoftDeleted("s".into()), 40404, 404),
        (RegistryError::SubjectNotSoftDeleted("s".into()), 40405, 404),
        (RegistryError::VersionSoftDeleted("s".into(), 1), 40406, 404),
        (RegistryError::VersionNotSoftDeleted("s".into(), 1), 40407, 404),
        (RegistryError::SubjectCompatibilityNotConfigured("s".into()), 40408, 404),
        (RegistryError::Incompatible("x".into()), 409, 409),
        (RegistryError::InvalidSchema("x".into()), 42201, 422),
        (RegistryError::InvalidVersion("0".into()), 42202, 422),
        (RegistryError::InvalidCompatibility("x".into()), 42203, 422),
        (RegistryError::InvalidMode("x".into()), 42204, 422),
        (RegistryError::OperationNotPermitted("x".into()), 42205, 422),
        (RegistryError::Store("x".into()), 50001, 500),
        (RegistryError::MalformedRequest("x".into()), 400, 400),
        (RegistryError::UnprocessableRequest("x".into()), 422, 422),
    ];
    for (e, code, status) in cases {
        assert_eq!((e.error_code(), e.http_status()), (code, status), "{e:?}");
    }
    assert_eq!(RegistryError::SubjectNotFound("x".into()).to_string(), "Subject 'x' not found.");
}

#[test]
fn versions_parse_as_confluent() {
    assert_eq!("latest".parse::<VersionSpec>().unwrap(), VersionSpec::Latest);
    assert_eq!("-1".parse::<VersionSpec>().unwrap(), VersionSpec::Latest);
    assert_eq!("7".parse::<VersionSpec>().unwrap(), VersionSpec::Number(7));
    for bad in ["0", "-2", "abc", "2147483648", ""] {
        assert_eq!(bad.parse::<VersionSpec>().unwrap_err().error_code(), 42202, "{bad}");
    }
    assert_eq!(SchemaType::parse(Some("PROTOBUF")).unwrap_err().error_code(), 42201);
    assert_eq!("full_transitive".parse::<CompatibilityLevel>().unwrap(), CompatibilityLevel::FullTransitive);
}

const V1: &str = r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"}]}"#;

fn record(fields: &str) -> String {
    format!(r#"{{"type":"record","name":"User","fields":[{fields}]}}"#)
}

async fn compatible(level: CompatibilityLevel, old: &str, new: &str) -> bool {
    let r = SchemaRegistry::in_memory().with_default_compatibility(level);
    r.register("s", &SchemaRequest::avro(old)).await.unwrap();
    r.check_compatibility("s", None, &SchemaRequest::avro(new)).unwrap().is_empty()
}

#[tokio::test]
async fn avro_compatibility_follows_schema_resolution() {
    use CompatibilityLevel::*;
    let name = r#"{"name":"name","type":"string"}"#;
    let age_default = r#"{"name":"age","type":"int","default":0}"#;
    let age = r#"{"name":"age","type":"int"}"#;
    // Field added with a default: backward and forward; without one: forward only.
    assert!(compatible(Full, V1, &record(&format!("{name},{age_default}"))).await);
    assert!(!compatible(Backward, V1, &record(&format!("{name},{age}"))).await);
    assert!(compatible(Forward, V1, &record(&format!("{name},{age}"))).await);
    // Field removed: backward yes, forward only when it had a default.
    assert!(compatible(Backward, &record(&format!("{name},{age}")), V1).await);
    assert!(!compatible(Forward, &record(&format!("{name},{age}")), V1).await);
    assert!(compatible(Forward, &record(&format!("{name},{age_default}")), V1).await);
    // Promotion int -> long reads old data; long -> int does not.
    let long_age = r#"{"name":"age","type":"long"}"#;
    assert!(compatible(Backward, &record(age), &record(long_age)).await);
    assert!(!compatible(Backward, &record(long_age), &record(age)).await);
    assert!(!compatible(Full, &record(age), &record(long_age)).await);
    // Type change string -> int.
    assert!(!compatible(Backward, V1, &record(r#"{"name":"name","type":"int"}"#)).await);
    // Enum symbol added: backward yes, forward no (Java: MISSING_ENUM_SYMBOLS); removed: the reverse.
    let e = |s: &str| record(&format!(r#"{{"name":"e","type":{{"type":"enum","name":"E","symbols":[{s}]}}}}"#));
    assert!(compatible(Backward, &e(r#""A","B""#), &e(r#""A","B","C""#)).await);
    assert!(!compatible(Forward, &e(r#""A","B""#), &e(r#""A","B","C""#)).await);
    assert!(!compatible(Backward, &e(r#""A","B","C""#), &e(r#""A","B""#)).await);
    // Union widened: the new reader takes every old value; narrowed: not.
    let u = |s: &str| record(&format!(r#"{{"name":"u","type":[{s}]}}"#));
    assert!(compatible(Backward, &u(r#""null","string""#), &u(r#""null","string","int""#)).await);
    assert!(!compatible(Backward, &u(r#""null","string","int""#), &u(r#""null","string""#)).await);
    // Renamed field with an alias, renamed record with an alias.
    assert!(compatible(Backward, V1, &record(r#"{"name":"full_name","type":"string","aliases":["name"]}"#)).await);
    assert!(!compatible(Backward, V1, &record(r#"{"name":"full_name","type":"string"}"#)).await);
    let renamed = r#"{"type":"record","name":"Person","aliases":["User"],"fields":[{"name":"name","type":"string"}]}"#;
    assert!(compatible(Backward, V1, renamed).await);
    let renamed_no_alias = r#"{"type":"record","name":"Person","fields":[{"name":"name","type":"string"}]}"#;
    assert!(!compatible(Backward, V1, renamed_no_alias).await);
    assert!(compatible(None, V1, r#""int""#).await);
}

#[tokio::test]
async fn transitive_levels_check_every_live_version() {
    let with = |f: &str| record(&format!(r#"{{"name":"name","type":"string"}},{f}"#));
    let r = SchemaRegistry::in_memory().with_default_compatibility(CompatibilityLevel::Backward);
    r.register("s", &SchemaRequest::avro(V1)).await.unwrap();
    r.register("s", &SchemaRequest::avro(with(r#"{"name":"a","type":"int","default":1}"#))).await.unwrap();
    // Dropping the default of 'a' is backward compatible with v2 (it has 'a') but not with v1.
    let v3 = SchemaRequest::avro(with(r#"{"name":"a","type":"int"}"#));
    assert!(r.check_compatibility("s", None, &v3).unwrap().is_empty());
    r.set_config(Some("s"), CompatibilityLevel::BackwardTransitive).await.unwrap();
    let problems = r.check_compatibility("s", None, &v3).unwrap();
    assert!(problems.iter().any(|p| p.contains("READER_FIELD_MISSING_DEFAULT_VALUE")), "{problems:?}");
    assert!(problems.iter().any(|p| p == "{oldSchemaVersion: 1}"), "{problems:?}");
    assert_eq!(r.register("s", &v3).await.unwrap_err().error_code(), 409);
}

#[tokio::test]
async fn ids_versions_and_deletes_follow_confluent() {
    let r = SchemaRegistry::in_memory();
    let spaced = r#"{ "type" : "record", "name" : "User", "fields" : [ { "name" : "name", "type" : "string" } ] }"#;
    assert_eq!(r.register("a", &SchemaRequest::avro(V1)).await.unwrap(), 1);
    assert_eq!(r.register("a", &SchemaRequest::avro(spaced)).await.unwrap(), 1, "same canonical schema, same id");
    assert_eq!(r.register("b", &SchemaRequest::avro(V1)).await.unwrap(), 1, "same id under another subject");
    let json = SchemaRequest::json(r#"{"type":"object"}"#);
    assert_eq!(r.register("b", &json).await.unwrap_err().error_code(), 409, "AVRO to JSON breaks BACKWARD");
    r.set_config(Some("b"), CompatibilityLevel::None).await.unwrap();
    assert_eq!(r.register("b", &json).await.unwrap(), 2);
    assert_eq!(r.versions("a", false).unwrap(), vec![1]);
    assert_eq!(r.versions("b", false).unwrap(), vec![1, 2]);
    assert_eq!(r.version("b", VersionSpec::Latest, false).unwrap().schema_type, SchemaType::Json);
    assert_eq!(r.id_subjects(1, false).unwrap(), vec!["a", "b"]);

    // Permanent before soft: refused; soft twice: refused.
    assert_eq!(r.delete_version("a", VersionSpec::Number(1), true).await.unwrap_err().error_code(), 40407);
    assert_eq!(r.delete_version("a", VersionSpec::Number(1), false).await.unwrap(), 1);
    assert_eq!(r.delete_version("a", VersionSpec::Number(1), false).await.unwrap_err().error_code(), 40406);
    assert_eq!(r.versions("a", false).unwrap_err().error_code(), 40401);
    assert_eq!(r.versions("a", true).unwrap(), vec![1]);
    assert_eq!(r.schema_by_id(1).unwrap().schema, canon(V1), "a soft-deleted version keeps its id readable");
    // Re-registering the soft-deleted schema makes a new version with the same id.
    assert_eq!(r.register("a", &SchemaRequest::avro(V1)).await.unwrap(), 1);
    assert_eq!(r.versions("a", true).unwrap(), vec![2], "the soft-deleted version 1 was tombstoned as Confluent does");

    assert_eq!(r.delete_subject("b", true).await.unwrap_err().error_code(), 40405);
    assert_eq!(r.delete_subject("b", false).await.unwrap(), vec![1, 2]);
    assert_eq!(r.delete_subject("b", false).await.unwrap_err().error_code(), 40404);
    assert_eq!(r.delete_subject("b", true).await.unwrap(), vec![1, 2]);
    assert_eq!(r.delete_subject("b", true).await.unwrap_err().error_code(), 40401);
    assert_eq!(r.schema_by_id(2).unwrap_err().error_code(), 40403, "no version uses id 2 any more");
    assert_eq!(r.register("c", &SchemaRequest::json(r#"{"type":"string"}"#)).await.unwrap(), 3, "ids are never reused");
    assert_eq!(r.schema_by_id(i64::MAX).unwrap_err().error_code(), 40403);
}

#[tokio::test]
async fn lookup_config_and_mode() {
    let r = SchemaRegistry::in_memory();
    r.register("a", &SchemaRequest::avro(V1)).await.unwrap();
    let found = r.lookup("a", &SchemaRequest::avro(V1), false).unwrap();
    assert_eq!((found.id, found.version), (1, 1));
    assert_eq!(r.lookup("a", &SchemaRequest::avro(r#""int""#), false).unwrap_err().error_code(), 40403);
    assert_eq!(r.lookup("zz", &SchemaRequest::avro(r#""int""#), false).unwrap_err().error_code(), 40401);
    assert_eq!(r.lookup("a", &SchemaRequest::avro("{"), false).unwrap_err().error_code(), 42201);

    assert_eq!(r.config(None, false).unwrap(), CompatibilityLevel::Backward);
    assert_eq!(r.config(Some("a"), false).unwrap_err().error_code(), 40408);
    assert_eq!(r.config(Some("a"), true).unwrap(), CompatibilityLevel::Backward);
    r.set_config(Some("a"), CompatibilityLevel::None).await.unwrap();
    assert_eq!(r.config(Some("a"), false).unwrap(), CompatibilityLevel::None);
    assert_eq!(r.delete_config(Some("a")).await.unwrap(), CompatibilityLevel::None);
    assert_eq!(r.delete_config(Some("a")).await.unwrap_err().error_code(), 40401);

    r.set_mode(None, Mode::ReadOnly, false).await.unwrap();
    let refused = r.register("a", &SchemaRequest::avro(r#""int""#)).await.unwrap_err();
    assert_eq!(refused.error_code(), 42205, "{refused}");
    assert_eq!(r.set_mode(None, Mode::Import, false).await.unwrap_err().error_code(), 42205);
    r.set_mode(None, Mode::Import, true).await.unwrap();
    let imported = SchemaRequest { id: Some(100), version: Some(5), ..SchemaRequest::avro(r#""long""#) };
    assert_eq!(r.register("imported", &imported).await.unwrap(), 100);
    assert_eq!(r.version("imported", VersionSpec::Latest, false).unwrap().version, 5);
    r.set_mode(None, Mode::ReadWrite, false).await.unwrap();
    assert_eq!(r.register("n", &SchemaRequest::avro(r#""float""#)).await.unwrap(), 101);
}

#[tokio::test]
async fn references_resolve_to_other_subjects() {
    let r = SchemaRegistry::in_memory();
    let address = r#"{"type":"record","name":"Address","namespace":"ex","fields":[{"name":"city","type":"string"}]}"#;
    r.register("address", &SchemaRequest::avro(address)).await.unwrap();
    let user = r#"{"type":"record","name":"User","namespace":"ex","fields":[{"name":"home","type":"Address"}]}"#;
    let reference = SchemaReference { name: "ex.Address".into(), subject: "address".into(), version: 1 };
    let req = SchemaRequest { references: vec![reference], ..SchemaRequest::avro(user) };
    assert_eq!(r.register("user", &req).await.unwrap(), 2);
    assert_eq!(r.referenced_by("address", VersionSpec::Number(1), false).unwrap(), vec![2]);
    r.delete_version("address", VersionSpec::Number(1), false).await.unwrap_err();
    let dangling = SchemaRequest {
        references: vec![SchemaReference { name: "ex.Address".into(), subject: "nope".into(), version: 1 }],
        ..SchemaRequest::avro(user)
    };
    assert_eq!(r.register("user2", &dangling).await.unwrap_err().error_code(), 42201);
}

fn json_ok(old: &str, new: &str) -> bool {
    let (o, n): (Value, Value) = (serde_json::from_str(old).unwrap(), serde_json::from_str(new).unwrap());
    json_compat::incompatibilities(&o, &n).is_empty()
}

#[test]
fn json_schema_compatibility_main_rules() {
    let open = r#"{"type":"object","properties":{"a":{"type":"string"}}}"#;
    let closed = r#"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}"#;
    // Type changes: extension yes, narrowing/change no.
    assert!(json_ok(r#"{"type":"integer"}"#, r#"{"type":"number"}"#));
    assert!(!json_ok(r#"{"type":"number"}"#, r#"{"type":"integer"}"#));
    assert!(!json_ok(r#"{"type":"string"}"#, r#"{"type":"integer"}"#));
    assert!(json_ok(r#"{"type":"string"}"#, r#"{"type":["string","null"]}"#));
    // Adding a property: not to an open model, fine to a closed one (optional).
    let open_plus = r#"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}}}"#;
    let closed_plus =
        r#"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"additionalProperties":false}"#;
    assert!(!json_ok(open, open_plus));
    assert!(json_ok(closed, closed_plus));
    // Removing a property: fine from an open model, not from a closed one.
    assert!(json_ok(open_plus, open));
    assert!(!json_ok(closed_plus, closed));
    // Required added without default: no; with default: yes.
    let req = r#"{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}"#;
    let req_default = r#"{"type":"object","properties":{"a":{"type":"string","default":"x"}},"required":["a"],"additionalProperties":false}"#;
    assert!(!json_ok(closed, req));
    assert!(json_ok(closed, req_default));
    // Closing an open model: no; opening a closed one: yes.
    assert!(!json_ok(open, closed));
    assert!(json_ok(closed, open));
    assert!(json_ok(r#"{"enum":["a","b"]}"#, r#"{"enum":["a","b","c"]}"#));
    assert!(!json_ok(r#"{"enum":["a","b"]}"#, r#"{"enum":["a"]}"#));
    assert!(!json_ok(r#"{"type":"string"}"#, r#"{"type":"string","maxLength":3}"#));
}
