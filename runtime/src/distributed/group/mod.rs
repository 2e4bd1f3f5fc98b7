//! Group membership with protocol type `connect` in Kafka's group coordinator, as Kafka Connect's
//! `WorkerCoordinator` does it, spoken directly with the `kafka-protocol` crate (librdkafka
//! cannot carry a custom group protocol).
//!
//! # How a worker is a member
//!
//! A [`GroupMember`] finds the coordinator of `group.id` (FindCoordinator through any bootstrap
//! server), then [`GroupMember::join`] runs one rebalance round:
//!
//! 1. JoinGroup (up to v9) with protocol type `connect` and the protocols of
//!    [`ConnectProtocol::offered`] (`sessioned`, `compatible`, `default` for a `sessioned`
//!    worker), each with this worker's [`WorkerState`] encoded for it. A first JoinGroup without
//!    member id gets MEMBER_ID_REQUIRED and the id to retry with (KIP-394).
//! 2. The coordinator elects the leader (the first member of the group, kept across
//!    rebalances while it stays) and picks the protocol every member offered, preferring the
//!    members' first choices; the leader alone receives every member's metadata.
//! 3. SyncGroup: the leader decodes the metadata, calls its [`Assignor`] and sends every
//!    member's assignment; each member gets its own. Under the cooperative protocols an
//!    assignment is a delta: the member keeps what it ran minus what is revoked, plus what is
//!    new, exactly as Kafka Connect's `onJoinComplete`.
//!
//! Once joined, a heartbeat task sends Heartbeat every `heartbeat.interval.ms`. When the
//! coordinator answers REBALANCE_IN_PROGRESS (another member joined or left), or forgets this
//! member, the task reports a [`RebalanceReason`] through [`GroupMember::subscribe`] and stops:
//! the owner calls [`GroupMember::join`] again within `rebalance.timeout.ms`. A coordinator that
//! moves (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, a dropped connection) is looked up again
//! and heartbeats go on; if none succeeds for `session.timeout.ms`, the member reports
//! [`RebalanceReason::CoordinatorLost`], since the group has then dropped it.
//!
//! [`GroupMember::leave`] sends LeaveGroup, so the others rebalance at once; dropping a member
//! without leaving stops its heartbeats, and the coordinator drops it after `session.timeout.ms`,
//! as it would a crashed worker.
//!
//! Malformed metadata from another member never fails the leader: that member is reported in
//! [`Generation::members`] with its decoding error and gets no work.

mod admin;
mod assignor;
mod connection;
mod cooperative;
mod heartbeat;
mod member;
pub mod protocol;

#[cfg(test)]
mod tests;

pub use admin::delete_group_offsets;
pub use assignor::{Allocation, AssignmentContext, Assignor, GroupAssignment, MemberMetadata, RoundRobinAssignor};
pub use connection::MAX_RESPONSE_BYTES;
pub use cooperative::{ConfigSnapshot, IncrementalCooperativeAssignor};
pub use member::{Generation, GroupMember, GroupMemberInfo, RebalanceReason};
pub use protocol::{ConnectAssignment, ConnectProtocol, ConnectorTaskId, ProtocolError, WorkerState};

use kafka_protocol::ResponseError;
use std::time::Duration;

/// How a worker takes part in its group: Kafka Connect's distributed worker keys.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GroupConfig {
    /// `bootstrap.servers`: comma-separated `host:port` of brokers to find the coordinator.
    pub bootstrap_servers: String,
    /// `group.id`: the Connect cluster's group.
    pub group_id: String,
    /// `client.id` sent with every request.
    pub client_id: String,
    /// `session.timeout.ms`: the coordinator drops a member silent for this long (10 s).
    pub session_timeout: Duration,
    /// `rebalance.timeout.ms`: how long the coordinator waits for members to rejoin (60 s).
    pub rebalance_timeout: Duration,
    /// `heartbeat.interval.ms`: time between heartbeats (3 s).
    pub heartbeat_interval: Duration,
    /// `request.timeout.ms`: bound on requests other than JoinGroup and SyncGroup, which may
    /// wait up to the rebalance timeout (40 s).
    pub request_timeout: Duration,
    /// `retry.backoff.ms`: pause before retrying after a coordinator error (100 ms).
    pub retry_backoff: Duration,
    /// Bound on one [`GroupMember::join`], retries included (rebalance timeout + session timeout
    /// + 30 s by default).
    pub join_timeout: Duration,
    /// `connect.protocol`: the most advanced protocol offered (`sessioned`).
    pub protocol: ConnectProtocol,
}

impl GroupConfig {
    /// Kafka Connect's defaults for `group_id` on the brokers `bootstrap_servers`.
    pub fn new(bootstrap_servers: impl Into<String>, group_id: impl Into<String>) -> Self {
        let group_id = group_id.into();
        let session_timeout = Duration::from_secs(10);
        let rebalance_timeout = Duration::from_secs(60);
        Self {
            bootstrap_servers: bootstrap_servers.into(),
            client_id: format!("tributary-{group_id}"),
            group_id,
            session_timeout,
            rebalance_timeout,
            heartbeat_interval: Duration::from_secs(3),
            request_timeout: Duration::from_secs(40),
            retry_backoff: Duration::from_millis(100),
            join_timeout: rebalance_timeout + session_timeout + Duration::from_secs(30),
            protocol: ConnectProtocol::Sessioned,
        }
    }

    /// Sets the session, rebalance and heartbeat timeouts (and the join bound with them).
    pub fn with_timeouts(mut self, session: Duration, rebalance: Duration, heartbeat: Duration) -> Self {
        self.session_timeout = session;
        self.rebalance_timeout = rebalance;
        self.heartbeat_interval = heartbeat;
        self.join_timeout = rebalance + session + Duration::from_secs(30);
        self
    }

    /// Sets `connect.protocol`.
    pub fn with_protocol(mut self, protocol: ConnectProtocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// Sets `client.id`.
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// The timeout of requests that wait on the rest of the group (JoinGroup, SyncGroup), as
    /// Kafka's clients give them: the rebalance timeout plus 5 s.
    fn rebalance_request_timeout(&self) -> Duration {
        self.request_timeout.max(self.rebalance_timeout + Duration::from_secs(5))
    }
}

/// Why a group operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GroupError {
    /// `bootstrap.servers` names no server.
    #[error("no bootstrap server given")]
    NoBootstrap,
    /// A connection failed or dropped.
    #[error("cannot talk to broker {addr}: {source}")]
    Io {
        /// The broker.
        addr: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A broker did not answer in time.
    #[error("broker {addr} did not answer {what} in time")]
    Timeout {
        /// The broker.
        addr: String,
        /// What was awaited.
        what: &'static str,
    },
    /// The broker supports no version of an API this client speaks.
    #[error("broker {addr} supports no usable version of {api}")]
    UnsupportedApi {
        /// The API.
        api: &'static str,
        /// The broker.
        addr: String,
    },
    /// A request could not be encoded.
    #[error("cannot encode {api} request: {reason}")]
    Encode {
        /// The API.
        api: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// A response could not be read.
    #[error("malformed {api} response: {reason}")]
    Malformed {
        /// The API.
        api: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// The broker answered with an error code.
    #[error("{api} failed: {error} (error code {code})")]
    Broker {
        /// The API.
        api: &'static str,
        /// Kafka's error code.
        code: i16,
        /// The error the code stands for.
        error: ResponseError,
    },
    /// Connect metadata or an assignment could not be encoded or decoded.
    #[error("bad connect protocol data: {0}")]
    Protocol(#[from] ProtocolError),
    /// The coordinator picked a protocol this worker did not offer.
    #[error("the coordinator chose group protocol '{0}', which this worker did not offer")]
    UnexpectedProtocol(String),
    /// The leader's assignor failed.
    #[error("assignor failed: {0}")]
    Assignor(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// [`GroupMember::join`] did not complete within [`GroupConfig::join_timeout`].
    #[error("could not join group '{group}' within {timeout:?}: {last}")]
    JoinTimeout {
        /// The group.
        group: String,
        /// The bound.
        timeout: Duration,
        /// The last failure.
        #[source]
        last: Box<GroupError>,
    },
}

impl GroupError {
    pub(crate) fn broker(api: &'static str, code: i16) -> Self {
        Self::Broker { api, code, error: ResponseError::try_from_code(code).unwrap_or(ResponseError::Unknown(code)) }
    }

    fn encode(api: &'static str, e: impl std::fmt::Display) -> Self {
        Self::Encode { api, reason: format!("{e:#}") }
    }

    fn decode(api: &'static str, e: impl std::fmt::Display) -> Self {
        Self::Malformed { api, reason: format!("{e:#}") }
    }

    /// Kafka's error code, when the broker answered with one.
    pub fn error_code(&self) -> Option<i16> {
        match self {
            Self::Broker { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether retrying (after finding the coordinator again) may succeed.
    pub fn is_retriable(&self) -> bool {
        match self {
            Self::Io { .. } | Self::Timeout { .. } | Self::Malformed { .. } => true,
            Self::Broker { error, .. } => {
                error.is_retriable()
                    || matches!(
                        error,
                        ResponseError::RebalanceInProgress
                            | ResponseError::UnknownMemberId
                            | ResponseError::IllegalGeneration
                            | ResponseError::MemberIdRequired
                    )
            }
            _ => false,
        }
    }

    /// Whether the coordinator has moved or is unreachable, so it must be looked up again.
    fn needs_coordinator_lookup(&self) -> bool {
        match self {
            Self::Io { .. } | Self::Timeout { .. } | Self::Malformed { .. } | Self::UnsupportedApi { .. } => true,
            Self::Broker { error, .. } => {
                matches!(error, ResponseError::NotCoordinator | ResponseError::CoordinatorNotAvailable)
            }
            _ => false,
        }
    }
}
