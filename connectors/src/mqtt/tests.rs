use std::collections::BTreeMap;

use tributary_runtime::api::{Headers, SinkRecord, Value};

use super::config::{self, parse_server_uri, source_config_def};
use super::protocol::Properties;
use super::topic::{kafka_topic, render_sink_topic, validate_filter, validate_topic_template};
use super::{default_group, headers, share_filters, split_filters};

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn source_errors(pairs: &[(&str, &str)]) -> String {
    match source_config_def().parse(&props(pairs)) {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn accepts_wildcards_and_shared_subscriptions() {
    for f in ["sensors/+/temp", "sensors/#", "#", "+", "a//b", "$share/g/sensors/#", "/lead"] {
        assert_eq!(validate_filter(f), Ok(()), "{f}");
    }
}

#[test]
fn rejects_malformed_filters_naming_the_filter() {
    for f in ["sensors/#/temp", "sensors/te#", "sensors/a+", "", "$share/g", "$share/+/x", "$share//x"] {
        let e = validate_filter(f).unwrap_err();
        assert!(e.contains(f) || f.is_empty(), "{e}");
    }
    let e =
        source_errors(&[("mqtt.server.uri", "tcp://h:1883"), ("mqtt.topics", "ok/+,bad/#/x"), ("kafka.topic", "t")]);
    assert!(e.contains("mqtt.topics") && e.contains("bad/#/x"), "{e}");
}

#[test]
fn reports_every_bad_key_at_once() {
    let e = source_errors(&[
        ("mqtt.server.uri", "http://h:1883"),
        ("mqtt.topics", "a"),
        ("kafka.topic", "x-${nope}"),
        ("mqtt.qos", "3"),
    ]);
    for key in ["mqtt.server.uri", "kafka.topic", "mqtt.qos"] {
        assert!(e.contains(key), "{key} missing from: {e}");
    }
    assert!(e.contains("unsupported scheme 'http'"), "{e}");
}

#[test]
fn parses_server_uris() {
    use config::Scheme;
    let parsed = |u: &str| {
        let u = parse_server_uri(u).unwrap();
        let shown = u.to_string();
        (u.scheme, u.host, u.port, u.path, shown)
    };
    let s = |x: &str| x.to_owned();
    assert_eq!(
        parsed("tcp://127.0.0.1:11883"),
        (Scheme::Tcp, s("127.0.0.1"), 11883, s(""), s("tcp://127.0.0.1:11883"))
    );
    assert_eq!(parsed("mqtt://h/"), (Scheme::Tcp, s("h"), 1883, s(""), s("tcp://h:1883")));
    assert_eq!(parsed("ssl://broker"), (Scheme::Ssl, s("broker"), 8883, s(""), s("ssl://broker:8883")));
    assert_eq!(parsed("ws://h"), (Scheme::Ws, s("h"), 80, s("/mqtt"), s("ws://h:80/mqtt")));
    assert_eq!(parsed("ws://h:9001/"), (Scheme::Ws, s("h"), 9001, s("/mqtt"), s("ws://h:9001/mqtt")));
    assert_eq!(parsed("WSS://h/a/b"), (Scheme::Wss, s("h"), 443, s("/a/b"), s("wss://h:443/a/b")));
    assert_eq!(parsed("tcp://[::1]"), (Scheme::Tcp, s("::1"), 1883, s(""), s("tcp://[::1]:1883")));
    assert_eq!(parsed("ws://[::1]:8080/m"), (Scheme::Ws, s("::1"), 8080, s("/m"), s("ws://[::1]:8080/m")));
    for (bad, why) in [
        ("tcp://h:0", "invalid port '0'"),
        ("tcp://h:99999", "invalid port '99999'"),
        ("h:1883", "is not a URI"),
        ("tcp://h:1883/path", "only ws:// and wss:// take a path"),
        ("tcp://::1", "without brackets"),
        ("tcp://[::1", "malformed IPv6"),
        ("ws://:80/mqtt", "no host"),
        ("ws://h/a b", "spaces"),
        ("http://h", "unsupported scheme 'http'"),
        ("wss://user@evil:443/m", "credentials go in mqtt.username"),
        ("ws://u:p@h/m", "has user information"),
        ("ws://h?x=1", "'?' in its host"),
        ("tcp://h%20", "'%' in its host"),
    ] {
        let e = parse_server_uri(bad).unwrap_err();
        assert!(e.contains(why), "{bad}: {e}");
    }
}

#[test]
fn password_is_hidden_and_needs_a_user() {
    let def = source_config_def();
    let p = props(&[
        ("mqtt.server.uri", "tcp://h:1"),
        ("mqtt.topics", "a"),
        ("kafka.topic", "t"),
        ("mqtt.password", "hunter2"),
    ]);
    let e = config::connection_settings(&p, &def).unwrap_err().to_string();
    assert!(e.contains("mqtt.username") && !e.contains("hunter2"), "{e}");
    let mut p = p;
    p.insert("mqtt.username".into(), "u".into());
    let s = config::connection_settings(&p, &def).unwrap();
    assert!(!format!("{s:?}").contains("hunter2"));
}

#[test]
fn maps_mqtt_topics_to_kafka_topics() {
    assert_eq!(kafka_topic("mqtt.${topic}", "sensors/12/temp", '.'), "mqtt.sensors.12.temp");
    assert_eq!(kafka_topic("${topic}", "a b/ü/$x", '_'), "a_b____x");
    assert_eq!(kafka_topic("fixed", "a/b", '.'), "fixed");
}

fn sink_record(key: Value) -> SinkRecord {
    let mut headers = Headers::new();
    headers.add_string("device", "d-7");
    SinkRecord {
        topic: "cmds".into(),
        kafka_partition: 0,
        kafka_offset: 5,
        timestamp: None,
        key_schema: None,
        key,
        value_schema: None,
        value: Value::Null,
        headers,
    }
}

#[test]
fn renders_sink_topics_from_key_header_and_topic() {
    let r = sink_record(Value::String("dev/1".into()));
    assert_eq!(render_sink_topic("${topic}", &r).unwrap(), "cmds");
    assert_eq!(render_sink_topic("out/${key}/set", &r).unwrap(), "out/dev/1/set");
    assert_eq!(render_sink_topic("d/${header:device}", &r).unwrap(), "d/d-7");
    let e = render_sink_topic("d/${header:missing}", &r).unwrap_err();
    assert_eq!(e.kind(), tributary_runtime::api::ErrorKind::Data);
    let e = render_sink_topic("${key}", &sink_record(Value::Null)).unwrap_err();
    assert!(e.to_string().contains("cmds-0@5"), "{e}");
    let e = render_sink_topic("${key}", &sink_record(Value::String("a/#".into()))).unwrap_err();
    assert_eq!(e.kind(), tributary_runtime::api::ErrorKind::Data);
}

#[test]
fn renders_sink_topics_from_value_fields() {
    let device = Value::Map(vec![(Value::String("id".into()), Value::Int32(7))]);
    let value = Value::Map(vec![
        (Value::String("site".into()), Value::String("north".into())),
        (Value::String("device".into()), device),
    ]);
    let r = SinkRecord { value, ..sink_record(Value::Null) };
    assert_eq!(render_sink_topic("cmd/${field:site}/${field:device.id}", &r).unwrap(), "cmd/north/7");
    let e = render_sink_topic("cmd/${field:device.name}", &r).unwrap_err();
    assert_eq!(e.kind(), tributary_runtime::api::ErrorKind::Data);
    assert!(e.to_string().contains("${field:device.name}") && e.to_string().contains("cmds-0@5"), "{e}");
    assert!(validate_topic_template("a/${field:x.y}").is_ok());
    let e = validate_topic_template("a/${field:x..y}").unwrap_err();
    assert!(e.contains("${field:PATH}"), "{e}");
}

#[test]
fn plain_filters_get_one_task_each_and_shared_ones_every_task() {
    let f = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(split_filters(&f(&["a", "b"]), 4), vec![f(&["a"]), f(&["b"])]);
    assert_eq!(split_filters(&f(&["a", "b", "c"]), 2), vec![f(&["a", "c"]), f(&["b"])]);
    assert_eq!(
        split_filters(&f(&["$share/g/x", "a"]), 3),
        vec![f(&["$share/g/x", "a"]), f(&["$share/g/x"]), f(&["$share/g/x"])]
    );
}

#[test]
fn client_ids_are_stable_and_distinct_per_task() {
    assert_eq!(config::client_id("", "conn", 2), "tributary-conn-2");
    assert_eq!(config::client_id("dev", "conn", 0), "dev");
    assert_eq!(config::client_id("dev", "conn", 1), "dev-1");
}

#[test]
fn mqtt5_shares_every_filter_over_every_task() {
    let f = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let shared = f(&["$share/g/a/#", "$share/own/b"]);
    assert_eq!(share_filters(&f(&["a/#", "$share/own/b"]), 2, "g"), vec![shared.clone(), shared]);
    assert_eq!(share_filters(&f(&["a/#"]), 1, "g"), vec![f(&["a/#"])]);
    assert_eq!(default_group("my/conn+#"), "tributary-my_conn__");
}

fn errors_of(pairs: &[(&str, &str)]) -> String {
    let p = props(pairs);
    let mut all = config::cross_check(&p).into_iter().map(|e| format!("{}: {}", e.key, e.message)).collect::<Vec<_>>();
    if let Err(e) = source_config_def().parse(&p) {
        all.push(e.to_string());
    }
    all.join("; ")
}

#[test]
fn mqtt5_settings_need_mqtt5() {
    let base = [("mqtt.server.uri", "tcp://h:1883"), ("mqtt.topics", "a"), ("kafka.topic", "t")];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        errors_of(&v)
    };
    let e = with(&[("mqtt.session.expiry.interval.seconds", "3600")]);
    assert!(e.contains("mqtt.session.expiry.interval.seconds is an MQTT 5 setting: set mqtt.version=5"), "{e}");
    let e = with(&[("mqtt.version", "3.1.1"), ("mqtt.shared.subscription.group", "g")]);
    assert!(e.contains("mqtt.shared.subscription.group is an MQTT 5 setting"), "{e}");
    let e = with(&[("mqtt.version", "4")]);
    assert!(e.contains("mqtt.version") && e.contains("3.1.1, 5"), "{e}");
    let e = with(&[("mqtt.version", "5"), ("mqtt.session.expiry.interval.seconds", "4294967296")]);
    assert!(e.contains("mqtt.session.expiry.interval.seconds") && e.contains("out of range"), "{e}");
    let e = with(&[("mqtt.version", "5"), ("mqtt.shared.subscription.group", "a/b")]);
    assert!(e.contains("mqtt.shared.subscription.group") && e.contains("/ + or #"), "{e}");
    assert_eq!(with(&[("mqtt.version", "5"), ("mqtt.session.expiry.interval.seconds", "0")]), "");
}

#[test]
fn mqtt5_session_expiry_defaults_follow_clean_session() {
    let def = source_config_def();
    let base = [("mqtt.server.uri", "tcp://h:1883"), ("mqtt.topics", "a"), ("kafka.topic", "t"), ("mqtt.version", "5")];
    let expiry = |extra: &[(&'static str, &'static str)]| {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        config::connection_settings(&props(&v), &def).unwrap().session_expiry
    };
    assert_eq!(expiry(&[]), Some(0));
    assert_eq!(expiry(&[("mqtt.clean.session.enabled", "false")]), Some(u32::MAX));
    assert_eq!(
        expiry(&[("mqtt.clean.session.enabled", "false"), ("mqtt.session.expiry.interval.seconds", "60")]),
        Some(60)
    );
}

#[test]
fn mqtt5_properties_round_trip_through_headers() {
    use tributary_runtime::api::{Schema, SchemaType};
    let p = Properties {
        user: vec![("a".into(), "1".into()), ("a".into(), "2".into()), ("mqtt.qos".into(), "x".into())],
        content_type: Some("application/json".into()),
        correlation_data: Some(vec![0u8, 255, 7].into()),
        response_topic: Some("replies/1".into()),
    };
    let mut record = sink_record(Value::Null);
    let (s, b) = (Schema::primitive(SchemaType::String), Schema::primitive(SchemaType::Bytes));
    headers::add_properties(&mut record.headers, &p, &s, &b);
    let names: Vec<&str> = record.headers.iter().map(|h| h.key.as_ref()).collect();
    assert_eq!(
        names,
        [
            "device",
            "mqtt.user.a",
            "mqtt.user.a",
            "mqtt.user.mqtt.qos",
            "mqtt.content.type",
            "mqtt.correlation.data",
            "mqtt.response.topic"
        ]
    );
    assert_eq!(headers::properties(&record).unwrap(), Some(p));
    assert_eq!(headers::properties(&sink_record(Value::Null)).unwrap(), None);
    let mut bad = sink_record(Value::Null);
    bad.headers.add_string("mqtt.response.topic", "replies/#");
    let e = headers::properties(&bad).unwrap_err();
    assert!(e.to_string().contains("mqtt.response.topic") && e.to_string().contains("cmds-0@5"), "{e}");
}

#[test]
fn mqtt311_refuses_more_tasks_than_filters_in_validation() {
    let check = |extra: &[(&str, &str)]| {
        let mut pairs = vec![("mqtt.server.uri", "tcp://h:1"), ("kafka.topic", "t")];
        pairs.extend_from_slice(extra);
        config::source_cross_check(&props(&pairs))
    };
    let e = check(&[("mqtt.topics", "a/#, b/+"), ("tasks.max", "3")]);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].key, "tasks.max");
    assert!(e[0].message.starts_with("tasks.max is 3, but MQTT 3.1.1 gives each filter of mqtt.topics to one task and mqtt.topics has 2, so at most 2 tasks would run: set tasks.max to 2 or lower, set mqtt.version=5"), "{}", e[0].message);
    assert!(check(&[("mqtt.topics", "a/#,b/+"), ("tasks.max", "2")]).is_empty());
    assert!(check(&[("mqtt.topics", "a/#")]).is_empty(), "tasks.max defaults to 1");
    assert!(
        check(&[("mqtt.topics", "a/#,$share/g/b"), ("tasks.max", "4")]).is_empty(),
        "$share filters go to every task"
    );
    assert!(check(&[("mqtt.topics", "a/#"), ("tasks.max", "4"), ("mqtt.version", "5")]).is_empty());
}
