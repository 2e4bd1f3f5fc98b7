//! Kafka Connect's member metadata and assignment encodings, byte for byte.
//!
//! A worker joining the group offers up to three protocols, most preferred first, each with its
//! own metadata (Kafka Connect's `IncrementalCooperativeConnectProtocol.metadataRequest`):
//!
//! | protocol | version | metadata | assignment |
//! |---|---|---|---|
//! | `sessioned` | 2 | header, url, config offset, allocation | incremental (KIP-415), v2 header |
//! | `compatible` | 1 | header, url, config offset, allocation | incremental (KIP-415), v1 header |
//! | `default` | 0 | header, url, config offset | eager, v0 header |
//!
//! Encodings use Kafka's classic (non-flexible) types: `INT16` version header, `STRING` as an
//! `INT16` length and UTF-8 bytes, `INT64` config offset, `NULLABLE_BYTES` allocation (an `INT32`
//! length, -1 for null) that holds this worker's current assignment encoded as an assignment, and
//! arrays as an `INT32` count (-1 for null). An assignment is `error: INT16`, `leader: STRING`,
//! `leader-url: STRING`, `config-offset: INT64`, `assignment: [connector: STRING, tasks: [INT32]]`,
//! then (versions 1 and 2) `revoked` in the same shape and `delay: INT32`. A task id of -1 stands
//! for the connector itself.
//!
//! Decoding follows Kafka Connect's rules: one decoder reads every version (fields a version does
//! not have are read when bytes remain, else take their defaults: no allocation, no revocations,
//! delay 0), a negative version is refused, trailing bytes are ignored (newer versions may
//! append fields). Anything truncated or malformed is a [`ProtocolError`], never a panic, and no
//! length read from the input allocates more than the input could hold.

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

/// Task number Kafka Connect uses for "the connector itself" inside an assignment.
pub const CONNECTOR_TASK: i32 = -1;

/// The `connect.protocol` a worker runs and the group protocol names it offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConnectProtocol {
    /// `default` (Kafka Connect's `EAGER`): version 0, every rebalance revokes everything.
    Eager,
    /// `compatible`: version 1, incremental cooperative rebalancing (KIP-415).
    Compatible,
    /// `sessioned`: version 2, incremental cooperative with session keys for internal requests.
    Sessioned,
}

impl ConnectProtocol {
    /// The group protocol name (`default`, `compatible`, `sessioned`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Eager => "default",
            Self::Compatible => "compatible",
            Self::Sessioned => "sessioned",
        }
    }

    /// The version written in the header of metadata and assignments of this protocol.
    pub fn version(self) -> i16 {
        match self {
            Self::Eager => 0,
            Self::Compatible => 1,
            Self::Sessioned => 2,
        }
    }

    /// The protocol of a group protocol name, as the coordinator returns it.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "default" => Some(Self::Eager),
            "compatible" => Some(Self::Compatible),
            "sessioned" => Some(Self::Sessioned),
            _ => None,
        }
    }

    /// The `connect.protocol` config value (`eager`, `compatible`, `sessioned`).
    pub fn from_config(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "eager" => Some(Self::Eager),
            "compatible" => Some(Self::Compatible),
            "sessioned" => Some(Self::Sessioned),
            _ => None,
        }
    }

    /// The protocols a worker configured with `self` offers, most preferred first (a
    /// `sessioned` worker offers all three, so it can join a group of older workers).
    pub fn offered(self) -> &'static [ConnectProtocol] {
        match self {
            Self::Eager => &[Self::Eager],
            Self::Compatible => &[Self::Compatible, Self::Eager],
            Self::Sessioned => &[Self::Sessioned, Self::Compatible, Self::Eager],
        }
    }

    /// Whether assignments under this protocol are incremental (revocations are explicit).
    pub fn is_cooperative(self) -> bool {
        self != Self::Eager
    }
}

impl fmt::Display for ConnectProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A task of a connector, `<connector>-<task>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectorTaskId {
    /// The connector's name.
    pub connector: String,
    /// The task number, from 0.
    pub task: i32,
}

impl ConnectorTaskId {
    /// The id of task `task` of `connector`.
    pub fn new(connector: impl Into<String>, task: i32) -> Self {
        Self { connector: connector.into(), task }
    }
}

impl fmt::Display for ConnectorTaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.connector, self.task)
    }
}

/// What a worker says of itself when it joins: Kafka Connect's `ExtendedWorkerState`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerState {
    /// The worker's advertised REST URL, e.g. `http://10.0.0.1:8083/`.
    pub url: String,
    /// The offset in the config topic the worker has read up to.
    pub config_offset: i64,
    /// The assignment the worker runs now (versions 1 and 2 only; `None` before its first).
    pub assignment: Option<ConnectAssignment>,
}

/// The leader's assignment error: none, or config offsets it could not reconcile.
pub const ASSIGNMENT_NO_ERROR: i16 = 0;
/// The leader is behind some member's config offset: read to the end of the config topic and
/// rejoin (Kafka Connect's `CONFIG_MISMATCH`).
pub const ASSIGNMENT_CONFIG_MISMATCH: i16 = 1;

/// An assignment as the leader sends it: Kafka Connect's `ExtendedAssignment` (version 0 has no
/// revocations and no delay).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectAssignment {
    /// The header version it was (or is to be) written with: 0, 1 or 2.
    pub version: i16,
    /// [`ASSIGNMENT_NO_ERROR`] or [`ASSIGNMENT_CONFIG_MISMATCH`].
    pub error: i16,
    /// The leader's member id.
    pub leader: String,
    /// The leader's REST URL.
    pub leader_url: String,
    /// The config offset the assignment was computed at.
    pub config_offset: i64,
    /// Connectors this worker runs (added to what it ran, under cooperative protocols).
    pub connectors: Vec<String>,
    /// Tasks this worker runs (added to what it ran, under cooperative protocols).
    pub tasks: Vec<ConnectorTaskId>,
    /// Connectors this worker must stop (cooperative protocols).
    pub revoked_connectors: Vec<String>,
    /// Tasks this worker must stop (cooperative protocols).
    pub revoked_tasks: Vec<ConnectorTaskId>,
    /// Milliseconds until the leader reassigns work of departed workers (cooperative).
    pub delay: i32,
}

impl ConnectAssignment {
    /// Whether the leader reported an error instead of work.
    pub fn failed(&self) -> bool {
        self.error != ASSIGNMENT_NO_ERROR
    }
}

/// Malformed Kafka Connect metadata or assignment bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The input ended inside a field.
    #[error("truncated connect protocol data: field '{field}' needs {needed} bytes, {remaining} remain")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the input.
        remaining: usize,
    },
    /// A negative version in the header.
    #[error("unsupported connect protocol version {0}")]
    UnsupportedVersion(i16),
    /// A length or count that is negative where null is not allowed, or past the input.
    #[error("invalid length {length} for field '{field}'")]
    InvalidLength {
        /// The field being read.
        field: &'static str,
        /// The length or count read.
        length: i64,
    },
    /// A string that is not UTF-8.
    #[error("field '{0}' is not valid UTF-8")]
    InvalidUtf8(&'static str),
    /// A value too large for the encoding (a string over 32767 bytes).
    #[error("field '{0}' is too long to encode")]
    TooLong(&'static str),
}

/// Encodes `state` as the metadata of `protocol` (Kafka Connect's
/// `ConnectProtocol.serializeMetadata` for `default`, else
/// `IncrementalCooperativeConnectProtocol.serializeMetadata`).
pub fn encode_metadata(state: &WorkerState, protocol: ConnectProtocol) -> Result<Bytes, ProtocolError> {
    let mut buf = BytesMut::with_capacity(32 + state.url.len());
    buf.put_i16(protocol.version());
    put_string(&mut buf, "url", &state.url)?;
    buf.put_i64(state.config_offset);
    if protocol.is_cooperative() {
        match &state.assignment {
            None => buf.put_i32(-1),
            Some(assignment) => {
                let bytes = encode_assignment_with_version(assignment, protocol.version())?;
                put_len(&mut buf, "allocation", bytes.len())?;
                buf.put_slice(&bytes);
            }
        }
    }
    Ok(buf.freeze())
}

/// Decodes metadata of any version (Kafka Connect's
/// `IncrementalCooperativeConnectProtocol.deserializeMetadata`).
pub fn decode_metadata(bytes: &[u8]) -> Result<WorkerState, ProtocolError> {
    let mut r = Reader { buf: bytes };
    check_version(r.i16("version")?)?;
    let url = r.string("url")?;
    let config_offset = r.i64("config-offset")?;
    let assignment = if r.has_remaining() {
        match r.nullable_bytes("allocation")? {
            Some(allocation) => Some(decode_assignment(allocation)?),
            None => None,
        }
    } else {
        None
    };
    Ok(WorkerState { url, config_offset, assignment })
}

/// Encodes `assignment` with the header version of `protocol` (version 0 writes no
/// revocations and no delay).
pub fn encode_assignment(assignment: &ConnectAssignment, protocol: ConnectProtocol) -> Result<Bytes, ProtocolError> {
    encode_assignment_with_version(assignment, protocol.version())
}

fn encode_assignment_with_version(assignment: &ConnectAssignment, version: i16) -> Result<Bytes, ProtocolError> {
    let mut buf = BytesMut::with_capacity(64);
    buf.put_i16(version);
    buf.put_i16(assignment.error);
    put_string(&mut buf, "leader", &assignment.leader)?;
    put_string(&mut buf, "leader-url", &assignment.leader_url)?;
    buf.put_i64(assignment.config_offset);
    put_allocation(&mut buf, "assignment", &assignment.connectors, &assignment.tasks)?;
    if version >= 1 {
        put_allocation(&mut buf, "revoked", &assignment.revoked_connectors, &assignment.revoked_tasks)?;
        buf.put_i32(assignment.delay);
    }
    Ok(buf.freeze())
}

/// Decodes an assignment of any version (Kafka Connect's
/// `IncrementalCooperativeConnectProtocol.deserializeAssignment`, which its workers use for
/// every protocol).
pub fn decode_assignment(bytes: &[u8]) -> Result<ConnectAssignment, ProtocolError> {
    let mut r = Reader { buf: bytes };
    let version = r.i16("version")?;
    check_version(version)?;
    let error = r.i16("error")?;
    let leader = r.string("leader")?;
    let leader_url = r.string("leader-url")?;
    let config_offset = r.i64("config-offset")?;
    let (connectors, tasks) = if r.has_remaining() { r.allocation("assignment")? } else { Default::default() };
    let (revoked_connectors, revoked_tasks) =
        if r.has_remaining() { r.allocation("revoked")? } else { Default::default() };
    let delay = if r.has_remaining() { r.i32("delay")? } else { 0 };
    Ok(ConnectAssignment {
        version,
        error,
        leader,
        leader_url,
        config_offset,
        connectors,
        tasks,
        revoked_connectors,
        revoked_tasks,
        delay,
    })
}

fn check_version(version: i16) -> Result<(), ProtocolError> {
    if version < 0 { Err(ProtocolError::UnsupportedVersion(version)) } else { Ok(()) }
}

fn put_string(buf: &mut BytesMut, field: &'static str, s: &str) -> Result<(), ProtocolError> {
    let len = i16::try_from(s.len()).map_err(|_| ProtocolError::TooLong(field))?;
    buf.put_i16(len);
    buf.put_slice(s.as_bytes());
    Ok(())
}

fn put_len(buf: &mut BytesMut, field: &'static str, len: usize) -> Result<(), ProtocolError> {
    buf.put_i32(i32::try_from(len).map_err(|_| ProtocolError::TooLong(field))?);
    Ok(())
}

/// Writes connectors and tasks grouped by connector, as Kafka Connect's `asMap`: each connector
/// in order of first appearance (connectors first), its own entry as task -1 before its tasks.
fn put_allocation(
    buf: &mut BytesMut,
    field: &'static str,
    connectors: &[String],
    tasks: &[ConnectorTaskId],
) -> Result<(), ProtocolError> {
    fn add<'a>(groups: &mut Vec<(&'a str, Vec<i32>)>, connector: &'a str, task: i32, dedup: bool) {
        match groups.iter_mut().find(|(c, _)| *c == connector) {
            Some((_, ids)) if dedup && ids.contains(&task) => {}
            Some((_, ids)) => ids.push(task),
            None => groups.push((connector, vec![task])),
        }
    }
    let mut groups: Vec<(&str, Vec<i32>)> = Vec::new();
    for c in connectors {
        add(&mut groups, c, CONNECTOR_TASK, true);
    }
    for t in tasks {
        add(&mut groups, &t.connector, t.task, false);
    }
    put_len(buf, field, groups.len())?;
    for (connector, ids) in groups {
        put_string(buf, "connector", connector)?;
        put_len(buf, "tasks", ids.len())?;
        for id in ids {
            buf.put_i32(id);
        }
    }
    Ok(())
}

/// A bounds-checked cursor over untrusted bytes.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn has_remaining(&self) -> bool {
        !self.buf.is_empty()
    }

    fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], ProtocolError> {
        if self.buf.len() < n {
            return Err(ProtocolError::Truncated { field, needed: n, remaining: self.buf.len() });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], ProtocolError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(field, N)?);
        Ok(out)
    }

    fn i16(&mut self, field: &'static str) -> Result<i16, ProtocolError> {
        Ok(i16::from_be_bytes(self.array(field)?))
    }

    fn i32(&mut self, field: &'static str) -> Result<i32, ProtocolError> {
        Ok(i32::from_be_bytes(self.array(field)?))
    }

    fn i64(&mut self, field: &'static str) -> Result<i64, ProtocolError> {
        Ok(i64::from_be_bytes(self.array(field)?))
    }

    fn string(&mut self, field: &'static str) -> Result<String, ProtocolError> {
        let len = self.i16(field)?;
        let len = usize::try_from(len).map_err(|_| ProtocolError::InvalidLength { field, length: len.into() })?;
        let bytes = self.take(field, len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| ProtocolError::InvalidUtf8(field))
    }

    fn nullable_bytes(&mut self, field: &'static str) -> Result<Option<&'a [u8]>, ProtocolError> {
        match self.i32(field)? {
            -1 => Ok(None),
            len => {
                let n = usize::try_from(len).map_err(|_| ProtocolError::InvalidLength { field, length: len.into() })?;
                self.take(field, n).map(Some)
            }
        }
    }

    /// An array count: -1 is null (`None`) where `nullable`; a count larger than the bytes left
    /// could hold (each element needs at least `min_size` bytes) is refused before allocating.
    fn count(&mut self, field: &'static str, nullable: bool, min_size: usize) -> Result<Option<usize>, ProtocolError> {
        let n = self.i32(field)?;
        if n == -1 && nullable {
            return Ok(None);
        }
        match usize::try_from(n) {
            Ok(n) if n.saturating_mul(min_size) <= self.buf.len() => Ok(Some(n)),
            _ => Err(ProtocolError::InvalidLength { field, length: n.into() }),
        }
    }

    /// A nullable array of `(connector, [task])`, split into connectors (task -1) and tasks.
    fn allocation(&mut self, field: &'static str) -> Result<(Vec<String>, Vec<ConnectorTaskId>), ProtocolError> {
        let mut connectors = Vec::new();
        let mut tasks = Vec::new();
        let Some(entries) = self.count(field, true, 6)? else {
            return Ok((connectors, tasks));
        };
        for _ in 0..entries {
            let connector = self.string("connector")?;
            let ids = self.count("tasks", false, 4)?.unwrap_or(0);
            for _ in 0..ids {
                match self.i32("tasks")? {
                    CONNECTOR_TASK => connectors.push(connector.clone()),
                    task => tasks.push(ConnectorTaskId::new(connector.clone(), task)),
                }
            }
        }
        Ok((connectors, tasks))
    }
}
