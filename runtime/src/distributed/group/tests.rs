//! Unit tests of the group protocol encodings and the assignor.

use super::assignor::{AssignmentContext, Assignor, MemberMetadata, RoundRobinAssignor};
use super::protocol::*;

fn task(c: &str, t: i32) -> ConnectorTaskId {
    ConnectorTaskId::new(c, t)
}

fn sample_assignment(version: i16) -> ConnectAssignment {
    ConnectAssignment {
        version,
        error: 0,
        leader: "worker-1".into(),
        leader_url: "http://10.0.0.1:8083/".into(),
        config_offset: 42,
        connectors: vec!["a".into()],
        tasks: vec![task("a", 0), task("b", 1)],
        revoked_connectors: if version > 0 { vec!["c".into()] } else { vec![] },
        revoked_tasks: if version > 0 { vec![task("c", 0)] } else { vec![] },
        delay: if version > 0 { 5000 } else { 0 },
    }
}

#[test]
fn eager_metadata_is_kafka_connects_v0_bytes() {
    let state = WorkerState { url: "http://h:1/".into(), config_offset: 7, assignment: None };
    let bytes = encode_metadata(&state, ConnectProtocol::Eager).unwrap();
    let mut expected = vec![0, 0, 0, 11];
    expected.extend_from_slice(b"http://h:1/");
    expected.extend_from_slice(&7i64.to_be_bytes());
    assert_eq!(&bytes[..], &expected[..]);
    assert_eq!(decode_metadata(&bytes).unwrap(), state);
}

#[test]
fn cooperative_metadata_without_assignment_has_null_allocation() {
    let state = WorkerState { url: "u".into(), config_offset: -1, assignment: None };
    let bytes = encode_metadata(&state, ConnectProtocol::Sessioned).unwrap();
    let mut expected = vec![0, 2, 0, 1, b'u'];
    expected.extend_from_slice(&(-1i64).to_be_bytes());
    expected.extend_from_slice(&(-1i32).to_be_bytes());
    assert_eq!(&bytes[..], &expected[..]);
    assert_eq!(decode_metadata(&bytes).unwrap(), state);
}

#[test]
fn assignment_bytes_group_tasks_under_their_connector() {
    let a = sample_assignment(1);
    let bytes = encode_assignment(&a, ConnectProtocol::Compatible).unwrap();
    let mut e: Vec<u8> = vec![0, 1, 0, 0];
    for s in ["worker-1", "http://10.0.0.1:8083/"] {
        e.extend_from_slice(&(s.len() as i16).to_be_bytes());
        e.extend_from_slice(s.as_bytes());
    }
    e.extend_from_slice(&42i64.to_be_bytes());
    // assignment: [("a", [-1, 0]), ("b", [1])]
    e.extend_from_slice(&2i32.to_be_bytes());
    e.extend_from_slice(&[0, 1, b'a', 0, 0, 0, 2]);
    e.extend_from_slice(&(-1i32).to_be_bytes());
    e.extend_from_slice(&0i32.to_be_bytes());
    e.extend_from_slice(&[0, 1, b'b', 0, 0, 0, 1]);
    e.extend_from_slice(&1i32.to_be_bytes());
    // revoked: [("c", [-1, 0])]
    e.extend_from_slice(&1i32.to_be_bytes());
    e.extend_from_slice(&[0, 1, b'c', 0, 0, 0, 2]);
    e.extend_from_slice(&(-1i32).to_be_bytes());
    e.extend_from_slice(&0i32.to_be_bytes());
    e.extend_from_slice(&5000i32.to_be_bytes());
    assert_eq!(&bytes[..], &e[..]);
    assert_eq!(decode_assignment(&bytes).unwrap(), a);
}

#[test]
fn every_version_round_trips() {
    for (protocol, version) in
        [(ConnectProtocol::Eager, 0), (ConnectProtocol::Compatible, 1), (ConnectProtocol::Sessioned, 2)]
    {
        let a = sample_assignment(version);
        assert_eq!(decode_assignment(&encode_assignment(&a, protocol).unwrap()).unwrap(), a);
        let state = WorkerState {
            url: "http://w:8083/".into(),
            config_offset: 99,
            assignment: protocol.is_cooperative().then(|| a.clone()),
        };
        let bytes = encode_metadata(&state, protocol).unwrap();
        assert_eq!(decode_metadata(&bytes).unwrap(), state);
        assert_eq!(encode_metadata(&decode_metadata(&bytes).unwrap(), protocol).unwrap(), bytes);
    }
}

#[test]
fn v0_assignment_decodes_with_default_revocations_and_delay() {
    let a = sample_assignment(0);
    let decoded = decode_assignment(&encode_assignment(&a, ConnectProtocol::Eager).unwrap()).unwrap();
    assert!(decoded.revoked_connectors.is_empty() && decoded.revoked_tasks.is_empty());
    assert_eq!(decoded.delay, 0);
}

#[test]
fn every_truncation_is_a_clean_error() {
    let state = WorkerState { url: "http://w:8083/".into(), config_offset: 1, assignment: Some(sample_assignment(2)) };
    let bytes = encode_metadata(&state, ConnectProtocol::Sessioned).unwrap();
    // Cutting right after the config offset leaves a valid v0-shaped prefix; every other cut
    // ends inside a field.
    let v0_len = 2 + 2 + state.url.len() + 8;
    for cut in 0..bytes.len() {
        let r = decode_metadata(&bytes[..cut]);
        assert_eq!(r.is_ok(), cut == v0_len, "cut at {cut}: {r:?}");
    }
    let assignment = encode_assignment(&sample_assignment(2), ConnectProtocol::Sessioned).unwrap();
    for cut in 0..assignment.len() {
        // Fields past the config offset are optional, so only cuts inside a field fail; none panics.
        let _ = decode_assignment(&assignment[..cut]);
    }
    assert!(matches!(decode_assignment(&assignment[..3]), Err(ProtocolError::Truncated { .. })));
}

#[test]
fn garbage_is_an_error_never_a_panic() {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for len in 0..400 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        let _ = decode_metadata(&bytes);
        let _ = decode_assignment(&bytes);
    }
    assert_eq!(decode_metadata(&[0xff, 0xff, 0, 0]), Err(ProtocolError::UnsupportedVersion(-1)));
    assert!(matches!(decode_metadata(&[0, 0, 0xff, 0xff]), Err(ProtocolError::InvalidLength { .. })));
    assert!(matches!(
        decode_metadata(&[0, 0, 0, 2, 0xc3, 0x28, 0, 0, 0, 0, 0, 0, 0, 0]),
        Err(ProtocolError::InvalidUtf8(_))
    ));
    // A count of two billion entries in a few bytes is refused before allocating.
    let mut huge = vec![0, 1, 0, 0, 0, 0, 0, 0];
    huge.extend_from_slice(&0i64.to_be_bytes());
    huge.extend_from_slice(&i32::MAX.to_be_bytes());
    assert!(matches!(decode_assignment(&huge), Err(ProtocolError::InvalidLength { .. })));
    // A nested allocation that is itself garbage fails the metadata.
    let mut nested = vec![0, 1, 0, 0];
    nested.extend_from_slice(&0i64.to_be_bytes());
    nested.extend_from_slice(&3i32.to_be_bytes());
    nested.extend_from_slice(&[0xff, 0xff, 0]);
    assert!(decode_metadata(&nested).is_err());
}

#[test]
fn too_long_strings_cannot_be_encoded() {
    let state = WorkerState { url: "x".repeat(40_000), config_offset: 0, assignment: None };
    assert_eq!(encode_metadata(&state, ConnectProtocol::Eager), Err(ProtocolError::TooLong("url")));
}

#[test]
fn protocols_are_offered_as_kafka_connect_offers_them() {
    let names: Vec<_> = ConnectProtocol::Sessioned.offered().iter().map(|p| p.name()).collect();
    assert_eq!(names, ["sessioned", "compatible", "default"]);
    assert_eq!(ConnectProtocol::from_config("EAGER"), Some(ConnectProtocol::Eager));
    assert_eq!(ConnectProtocol::from_name("sessioned"), Some(ConnectProtocol::Sessioned));
    assert_eq!(ConnectProtocol::from_name("range"), None);
}

fn member(id: &str, assignment: Option<ConnectAssignment>) -> MemberMetadata {
    MemberMetadata {
        member_id: id.into(),
        state: WorkerState { url: format!("http://{id}/"), config_offset: 3, assignment },
    }
}

#[test]
fn round_robin_deals_connectors_then_tasks_like_the_eager_assignor() {
    let assignor = RoundRobinAssignor::new([("b", 2u32), ("a", 3)]);
    let members = [member("m2", None), member("m1", None)];
    let ctx = AssignmentContext { leader_id: "m1", protocol: ConnectProtocol::Eager, members: &members };
    let out = assignor.assign(&ctx).unwrap();
    assert_eq!(out.config_offset, 3);
    let m1 = &out.allocations["m1"];
    let m2 = &out.allocations["m2"];
    assert_eq!(m1.connectors, ["a"]);
    assert_eq!(m2.connectors, ["b"]);
    // Tasks continue the round: a-0 → m1, a-1 → m2, a-2 → m1, b-0 → m2, b-1 → m1.
    assert_eq!(m1.tasks, [task("a", 0), task("a", 2), task("b", 1)]);
    assert_eq!(m2.tasks, [task("a", 1), task("b", 0)]);
}

#[test]
fn round_robin_sends_deltas_under_cooperative_protocols() {
    let assignor = RoundRobinAssignor::new([("a", 2u32)]);
    let held = ConnectAssignment {
        connectors: vec!["a".into()],
        tasks: vec![task("a", 0), task("a", 1)],
        ..Default::default()
    };
    let members = [member("m1", Some(held)), member("m2", None)];
    let ctx = AssignmentContext { leader_id: "m1", protocol: ConnectProtocol::Sessioned, members: &members };
    let out = assignor.assign(&ctx).unwrap();
    let m1 = &out.allocations["m1"];
    assert!(m1.connectors.is_empty() && m1.tasks.is_empty());
    assert_eq!(m1.revoked_tasks, [task("a", 0)]);
    assert_eq!(out.allocations["m2"].tasks, [task("a", 0)]);
}
