//! The heartbeat task of a joined member: one Heartbeat every `heartbeat.interval.ms` on its own
//! connection to the coordinator, until cancelled or until the group needs a rebalance.

use super::connection::Connection;
use super::member::RebalanceReason;
use super::{GroupConfig, GroupError};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::{GroupId, HeartbeatRequest};
use kafka_protocol::protocol::StrBytes;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What the task heartbeats for.
#[derive(Debug)]
pub(crate) struct Heartbeat {
    pub(crate) config: Arc<GroupConfig>,
    pub(crate) member_id: String,
    pub(crate) generation_id: i32,
    /// The coordinator the member joined through.
    pub(crate) coordinator_addr: String,
    pub(crate) events: watch::Sender<Option<RebalanceReason>>,
}

impl Heartbeat {
    /// Heartbeats until `cancel` or until it reports a [`RebalanceReason`].
    pub(crate) async fn run(self, cancel: CancellationToken) {
        let mut conn: Option<Connection> = None;
        let mut addr = Some(self.coordinator_addr.clone());
        let mut last_ok = Instant::now();
        let request = HeartbeatRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(self.config.group_id.clone())))
            .with_generation_id(self.generation_id)
            .with_member_id(StrBytes::from_string(self.member_id.clone()));
        loop {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(self.config.heartbeat_interval) => {}
            }
            let result = tokio::select! {
                biased;
                _ = cancel.cancelled() => return,
                r = self.beat(&mut conn, &mut addr, &request) => r,
            };
            let reason = match result {
                Ok(()) => {
                    last_ok = Instant::now();
                    continue;
                }
                Err(e) => match &e {
                    GroupError::Broker { error: ResponseError::RebalanceInProgress, .. } => {
                        RebalanceReason::RebalanceInProgress
                    }
                    GroupError::Broker { error: ResponseError::UnknownMemberId, .. } => RebalanceReason::MemberUnknown,
                    GroupError::Broker { error: ResponseError::IllegalGeneration, .. } => {
                        RebalanceReason::GenerationStale
                    }
                    e if e.is_retriable() => {
                        tracing::info!(group = %self.config.group_id, error = %e, "Heartbeat failed; looking up the coordinator again.");
                        conn = None;
                        if e.needs_coordinator_lookup() {
                            addr = None;
                        }
                        if last_ok.elapsed() < self.config.session_timeout {
                            continue;
                        }
                        RebalanceReason::CoordinatorLost
                    }
                    e => RebalanceReason::Failed(e.to_string()),
                },
            };
            tracing::info!(group = %self.config.group_id, generation = self.generation_id, ?reason, "Group needs a rebalance.");
            self.events.send_replace(Some(reason));
            return;
        }
    }

    /// One heartbeat, (re)connecting to the coordinator first when needed.
    async fn beat(
        &self,
        conn: &mut Option<Connection>,
        addr: &mut Option<String>,
        request: &HeartbeatRequest,
    ) -> Result<(), GroupError> {
        let timeout = self.config.request_timeout.min(self.config.session_timeout);
        let c = match conn {
            Some(c) => c,
            None => {
                let target = match addr {
                    Some(a) => a.clone(),
                    None => {
                        let mut boot =
                            Connection::connect_any(&self.config.bootstrap_servers, &self.config.client_id, timeout)
                                .await?;
                        let found = boot.find_coordinator(&self.config.group_id, timeout).await?;
                        *addr = Some(found.addr.clone());
                        found.addr
                    }
                };
                conn.insert(Connection::connect(&target, &self.config.client_id, timeout).await?)
            }
        };
        let (response, _) = c.send(request, 4, timeout).await?;
        if response.error_code != 0 {
            return Err(GroupError::broker("Heartbeat", response.error_code));
        }
        Ok(())
    }
}
