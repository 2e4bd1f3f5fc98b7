//! The membership state machine: join (JoinGroup + SyncGroup), heartbeat, rejoin, leave.

use super::assignor::{Allocation, AssignmentContext, Assignor, MemberMetadata};
use super::connection::Connection;
use super::heartbeat::Heartbeat;
use super::protocol::{self, ConnectAssignment, ConnectProtocol, ConnectorTaskId, ProtocolError, WorkerState};
use super::{GroupConfig, GroupError};
use bytes::Bytes;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{GroupId, JoinGroupRequest, LeaveGroupRequest, SyncGroupRequest};
use kafka_protocol::protocol::StrBytes;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Why the member must call [`GroupMember::join`] again.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RebalanceReason {
    /// The coordinator started a rebalance (a member joined, left or was dropped).
    RebalanceInProgress,
    /// The coordinator no longer knows this member (its session expired): it rejoins as new.
    MemberUnknown,
    /// This member's generation is not the group's any more.
    GenerationStale,
    /// No heartbeat succeeded for `session.timeout.ms`: the group has most likely dropped this
    /// member, whose work should stop (Kafka Connect revokes it).
    CoordinatorLost,
    /// Heartbeats failed for another reason.
    Failed(String),
}

/// A member of the group as the leader sees it.
#[derive(Debug, Clone)]
pub struct GroupMemberInfo {
    /// Its member id.
    pub member_id: String,
    /// Its metadata under the chosen protocol, or why it could not be read.
    pub metadata: Result<WorkerState, ProtocolError>,
    /// The metadata bytes as the coordinator relayed them.
    pub raw_metadata: Bytes,
}

/// The outcome of one completed rebalance.
#[derive(Debug, Clone)]
pub struct Generation {
    /// The group's generation.
    pub generation_id: i32,
    /// This member's id.
    pub member_id: String,
    /// The leader's member id.
    pub leader_id: String,
    /// Whether this member leads (and so computed the assignments).
    pub is_leader: bool,
    /// The protocol the coordinator chose.
    pub protocol: ConnectProtocol,
    /// What this member runs now: under cooperative protocols, its previous assignment minus
    /// the revoked plus the new (Kafka Connect's augmented assignment); the revoked lists are
    /// what it must stop.
    pub assignment: ConnectAssignment,
    /// The assignment bytes as the leader sent them.
    pub raw_assignment: Bytes,
    /// Every member, sorted by id (the leader's view only; empty on followers).
    pub members: Vec<GroupMemberInfo>,
}

/// This worker's membership in the Connect group. See the [module docs](super).
#[derive(Debug)]
pub struct GroupMember {
    config: Arc<GroupConfig>,
    assignor: Arc<dyn Assignor>,
    url: String,
    config_offset: i64,
    member_id: String,
    generation_id: i32,
    /// What this member runs, reported in its metadata (`None` before its first assignment).
    snapshot: Option<ConnectAssignment>,
    coordinator: Option<Connection>,
    heartbeat: Option<(CancellationToken, JoinHandle<()>)>,
    events: watch::Sender<Option<RebalanceReason>>,
}

/// What a failed join attempt calls for.
enum Retry {
    /// Rejoin at once (MEMBER_ID_REQUIRED, REBALANCE_IN_PROGRESS, a reset member id).
    Now,
    /// Find the coordinator again after `retry.backoff.ms`.
    AfterBackoff,
}

impl GroupMember {
    /// A member that will advertise `url` and `config_offset`; nothing is sent before
    /// [`join`](Self::join).
    pub fn new(config: GroupConfig, url: impl Into<String>, config_offset: i64, assignor: Arc<dyn Assignor>) -> Self {
        Self {
            config: Arc::new(config),
            assignor,
            url: url.into(),
            config_offset,
            member_id: String::new(),
            generation_id: -1,
            snapshot: None,
            coordinator: None,
            heartbeat: None,
            events: watch::channel(None).0,
        }
    }

    /// The config offset sent at the next join (the herder updates it as it reads the config
    /// topic).
    pub fn set_config_offset(&mut self, offset: i64) {
        self.config_offset = offset;
    }

    /// This member's id (empty before its first join).
    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    /// The metadata this member offers now under `protocol`, as it would send it.
    pub fn metadata(&self, protocol: ConnectProtocol) -> Result<Bytes, ProtocolError> {
        protocol::encode_metadata(&self.worker_state(), protocol)
    }

    /// Whether the group dropped this member (its session expired, or its generation is no
    /// longer the group's): everything it ran may have been given to others, so it must stop
    /// it all before rejoining; [`join`](Self::join) then rejoins as a new member reporting no
    /// assignment.
    pub fn lost_membership(&self) -> bool {
        matches!(
            self.rebalance_needed(),
            Some(RebalanceReason::MemberUnknown | RebalanceReason::CoordinatorLost | RebalanceReason::GenerationStale)
        )
    }

    /// Whether the group needs this member to rejoin, and why.
    pub fn rebalance_needed(&self) -> Option<RebalanceReason> {
        self.events.borrow().clone()
    }

    /// A receiver that turns `Some(reason)` when the member must [`join`](Self::join) again
    /// (and `None` after each completed join).
    pub fn subscribe(&self) -> watch::Receiver<Option<RebalanceReason>> {
        self.events.subscribe()
    }

    /// Joins (or rejoins) the group and waits for this member's assignment. Calling it while
    /// joined starts a rebalance of the whole group.
    pub async fn join(&mut self) -> Result<Generation, GroupError> {
        self.stop_heartbeat().await;
        if self.lost_membership() {
            // Kafka Connect's onJoinPrepare: a member the group dropped rejoins as a new one,
            // reporting no assignment (its work may have gone to others meanwhile).
            self.reset_member();
            self.snapshot = None;
        }
        let deadline = Instant::now() + self.config.join_timeout;
        loop {
            let error = match self.join_once().await {
                Ok(generation) => {
                    self.events.send_replace(None);
                    self.start_heartbeat();
                    return Ok(generation);
                }
                Err(e) => e,
            };
            let (retry, error) = self.classify(error)?;
            if Instant::now() >= deadline {
                return Err(GroupError::JoinTimeout {
                    group: self.config.group_id.clone(),
                    timeout: self.config.join_timeout,
                    last: Box::new(error),
                });
            }
            if let Retry::AfterBackoff = retry {
                tracing::info!(group = %self.config.group_id, error = %error, "Join failed; retrying.");
                tokio::time::sleep(self.config.retry_backoff).await;
            }
        }
    }

    /// Leaves the group (LeaveGroup), so the others rebalance without waiting for the session
    /// timeout. The member may [`join`](Self::join) again later, as a new member.
    pub async fn leave(&mut self) -> Result<(), GroupError> {
        self.stop_heartbeat().await;
        if self.member_id.is_empty() {
            return Ok(());
        }
        let result = self.send_leave().await;
        self.reset_member();
        self.snapshot = None;
        match result {
            Err(GroupError::Broker { error: ResponseError::UnknownMemberId, .. }) => Ok(()),
            other => other,
        }
    }

    async fn send_leave(&mut self) -> Result<(), GroupError> {
        let timeout = self.config.request_timeout;
        let group_id = self.group_id();
        let member_id = StrBytes::from_string(self.member_id.clone());
        let conn = self.coordinator().await?;
        let version = conn.version::<LeaveGroupRequest>(5)?;
        let mut request = LeaveGroupRequest::default().with_group_id(group_id);
        if version >= 3 {
            request.members = vec![
                MemberIdentity::default()
                    .with_member_id(member_id)
                    .with_reason(Some(StrBytes::from_static_str("the worker is stopping"))),
            ];
        } else {
            request.member_id = member_id;
        }
        let result = conn.send(&request, version, timeout).await;
        let (response, _) = self.check_connection(result)?;
        let code = if response.error_code != 0 {
            response.error_code
        } else {
            response.members.iter().map(|m| m.error_code).find(|c| *c != 0).unwrap_or(0)
        };
        if code != 0 {
            return Err(GroupError::broker("LeaveGroup", code));
        }
        tracing::info!(group = %self.config.group_id, member = %self.member_id, "Left the group.");
        Ok(())
    }

    /// How to go on after `error`; fatal errors are returned as they are.
    fn classify(&mut self, error: GroupError) -> Result<(Retry, GroupError), GroupError> {
        let retry = match &error {
            GroupError::Broker {
                error: ResponseError::MemberIdRequired | ResponseError::RebalanceInProgress, ..
            } => Retry::Now,
            GroupError::Broker { error: ResponseError::UnknownMemberId | ResponseError::IllegalGeneration, .. } => {
                self.reset_member();
                Retry::Now
            }
            e if e.is_retriable() => {
                if e.needs_coordinator_lookup() {
                    self.coordinator = None;
                }
                Retry::AfterBackoff
            }
            _ => return Err(error),
        };
        Ok((retry, error))
    }

    fn reset_member(&mut self) {
        self.member_id.clear();
        self.generation_id = -1;
    }

    fn worker_state(&self) -> WorkerState {
        WorkerState { url: self.url.clone(), config_offset: self.config_offset, assignment: self.snapshot.clone() }
    }

    fn group_id(&self) -> GroupId {
        GroupId(StrBytes::from_string(self.config.group_id.clone()))
    }

    /// The connection to the coordinator, looked up through the bootstrap servers if needed.
    async fn coordinator(&mut self) -> Result<&mut Connection, GroupError> {
        if self.coordinator.is_none() {
            let timeout = self.config.request_timeout;
            let mut boot =
                Connection::connect_any(&self.config.bootstrap_servers, &self.config.client_id, timeout).await?;
            let found = boot.find_coordinator(&self.config.group_id, timeout).await?;
            tracing::debug!(group = %self.config.group_id, coordinator = %found.addr, node = found.node_id, "Found the group coordinator.");
            let conn = if found.addr == boot.addr() {
                boot
            } else {
                Connection::connect(&found.addr, &self.config.client_id, timeout).await?
            };
            self.coordinator = Some(conn);
        }
        // Set just above when it was None.
        self.coordinator.as_mut().ok_or(GroupError::NoBootstrap)
    }

    /// Drops the coordinator connection after a transport error or a moved coordinator.
    fn check_connection<T>(&mut self, result: Result<T, GroupError>) -> Result<T, GroupError> {
        if result.as_ref().is_err_and(GroupError::needs_coordinator_lookup) {
            self.coordinator = None;
        }
        result
    }

    /// One JoinGroup + SyncGroup round.
    async fn join_once(&mut self) -> Result<Generation, GroupError> {
        let state = self.worker_state();
        let mut protocols = Vec::new();
        for p in self.config.protocol.offered() {
            protocols.push(
                JoinGroupRequestProtocol::default()
                    .with_name(StrBytes::from_static_str(p.name()))
                    .with_metadata(protocol::encode_metadata(&state, *p)?),
            );
        }
        let request = JoinGroupRequest::default()
            .with_group_id(self.group_id())
            .with_session_timeout_ms(millis(self.config.session_timeout))
            .with_rebalance_timeout_ms(millis(self.config.rebalance_timeout))
            .with_member_id(StrBytes::from_string(self.member_id.clone()))
            .with_protocol_type(StrBytes::from_static_str("connect"))
            .with_protocols(protocols)
            .with_reason(Some(StrBytes::from_static_str("a worker (re)joins the Connect group")));
        let timeout = self.config.rebalance_request_timeout();
        let conn = self.coordinator().await?;
        let result = conn.send(&request, 9, timeout).await;
        let (response, _) = self.check_connection(result)?;
        if response.error_code != 0 {
            if response.error_code == ResponseError::MemberIdRequired.code() {
                self.member_id = response.member_id.to_string();
            }
            return Err(GroupError::broker("JoinGroup", response.error_code));
        }
        self.member_id = response.member_id.to_string();
        self.generation_id = response.generation_id;
        let protocol_name = response.protocol_name.as_ref().map(|n| n.to_string()).unwrap_or_default();
        let protocol = ConnectProtocol::from_name(&protocol_name)
            .filter(|p| self.config.protocol.offered().contains(p))
            .ok_or(GroupError::UnexpectedProtocol(protocol_name))?;
        let leader_id = response.leader.to_string();
        let is_leader = leader_id == self.member_id;
        tracing::debug!(group = %self.config.group_id, generation = self.generation_id, member = %self.member_id, leader = %leader_id, %protocol, "Joined the group.");

        let mut members: Vec<GroupMemberInfo> = response
            .members
            .iter()
            .map(|m| GroupMemberInfo {
                member_id: m.member_id.to_string(),
                metadata: protocol::decode_metadata(&m.metadata),
                raw_metadata: m.metadata.clone(),
            })
            .collect();
        members.sort_by(|a, b| a.member_id.cmp(&b.member_id));
        let assignments = if is_leader { self.assign(protocol, &leader_id, &members)? } else { Vec::new() };
        let raw_assignment = self.sync(protocol, assignments).await?;
        let received = protocol::decode_assignment(&raw_assignment)?;
        let assignment = self.augment(protocol, received);
        self.snapshot = Some(assignment.clone());
        Ok(Generation {
            generation_id: self.generation_id,
            member_id: self.member_id.clone(),
            leader_id,
            is_leader,
            protocol,
            assignment,
            raw_assignment,
            members,
        })
    }

    /// The leader's part: every member's assignment bytes.
    fn assign(
        &self,
        protocol: ConnectProtocol,
        leader_id: &str,
        members: &[GroupMemberInfo],
    ) -> Result<Vec<SyncGroupRequestAssignment>, GroupError> {
        let decoded: Vec<MemberMetadata> = members
            .iter()
            .filter_map(|m| match &m.metadata {
                Ok(state) => Some(MemberMetadata { member_id: m.member_id.clone(), state: state.clone() }),
                Err(e) => {
                    tracing::warn!(group = %self.config.group_id, member = %m.member_id, error = %e, "Member metadata cannot be read; the member gets no work.");
                    None
                }
            })
            .collect();
        let ctx = AssignmentContext { leader_id, protocol, members: &decoded };
        let mut group = self.assignor.assign(&ctx).map_err(GroupError::Assignor)?;
        let leader_url =
            decoded.iter().find(|m| m.member_id == leader_id).map(|m| m.state.url.clone()).unwrap_or_default();
        let mut out = Vec::with_capacity(members.len());
        for m in members {
            let a = group.allocations.remove(&m.member_id).unwrap_or_default();
            let assignment = build_assignment(protocol, &group, leader_id, &leader_url, a);
            out.push(
                SyncGroupRequestAssignment::default()
                    .with_member_id(StrBytes::from_string(m.member_id.clone()))
                    .with_assignment(protocol::encode_assignment(&assignment, protocol)?),
            );
        }
        Ok(out)
    }

    async fn sync(
        &mut self,
        protocol: ConnectProtocol,
        assignments: Vec<SyncGroupRequestAssignment>,
    ) -> Result<Bytes, GroupError> {
        let request = SyncGroupRequest::default()
            .with_group_id(self.group_id())
            .with_generation_id(self.generation_id)
            .with_member_id(StrBytes::from_string(self.member_id.clone()))
            .with_protocol_type(Some(StrBytes::from_static_str("connect")))
            .with_protocol_name(Some(StrBytes::from_static_str(protocol.name())))
            .with_assignments(assignments);
        let timeout = self.config.rebalance_request_timeout();
        let conn = self.coordinator().await?;
        let result = conn.send(&request, 5, timeout).await;
        let (response, _) = self.check_connection(result)?;
        if response.error_code != 0 {
            return Err(GroupError::broker("SyncGroup", response.error_code));
        }
        Ok(response.assignment)
    }

    /// Kafka Connect's `onJoinComplete`: under cooperative protocols the new assignment adds to
    /// what the member kept (its previous one minus the revoked).
    fn augment(&self, protocol: ConnectProtocol, mut received: ConnectAssignment) -> ConnectAssignment {
        if let (true, Some(previous)) = (protocol.is_cooperative(), &self.snapshot) {
            let kept_connectors =
                previous.connectors.iter().filter(|c| !received.revoked_connectors.contains(c)).cloned();
            let kept_tasks: Vec<ConnectorTaskId> =
                previous.tasks.iter().filter(|t| !received.revoked_tasks.contains(t)).cloned().collect();
            for c in kept_connectors {
                if !received.connectors.contains(&c) {
                    received.connectors.push(c);
                }
            }
            for t in kept_tasks {
                if !received.tasks.contains(&t) {
                    received.tasks.push(t);
                }
            }
        }
        received
    }

    fn start_heartbeat(&mut self) {
        let Some(addr) = self.coordinator.as_ref().map(|c| c.addr().to_string()) else { return };
        let cancel = CancellationToken::new();
        let heartbeat = Heartbeat {
            config: Arc::clone(&self.config),
            member_id: self.member_id.clone(),
            generation_id: self.generation_id,
            coordinator_addr: addr,
            events: self.events.clone(),
        };
        let task = tokio::spawn(heartbeat.run(cancel.clone()));
        self.heartbeat = Some((cancel, task));
    }

    async fn stop_heartbeat(&mut self) {
        if let Some((cancel, task)) = self.heartbeat.take() {
            cancel.cancel();
            if let Err(e) = task.await
                && e.is_panic()
            {
                tracing::error!(group = %self.config.group_id, "The heartbeat task panicked.");
            }
        }
    }
}

impl Drop for GroupMember {
    /// Stops heartbeats without leaving: the coordinator drops the member after the session
    /// timeout, as it would a crashed worker.
    fn drop(&mut self) {
        if let Some((cancel, _)) = &self.heartbeat {
            cancel.cancel();
        }
    }
}

fn build_assignment(
    protocol: ConnectProtocol,
    group: &super::GroupAssignment,
    leader_id: &str,
    leader_url: &str,
    a: Allocation,
) -> ConnectAssignment {
    ConnectAssignment {
        version: protocol.version(),
        error: group.error,
        leader: leader_id.to_string(),
        leader_url: leader_url.to_string(),
        config_offset: group.config_offset,
        connectors: a.connectors,
        tasks: a.tasks,
        revoked_connectors: a.revoked_connectors,
        revoked_tasks: a.revoked_tasks,
        delay: a.delay,
    }
}

fn millis(d: std::time::Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}
