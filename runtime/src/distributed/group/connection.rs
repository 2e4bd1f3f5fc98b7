//! A small async Kafka client for the group protocol: one TCP connection to one broker, one
//! request in flight at a time.
//!
//! Each request is framed as Kafka's wire protocol wants (a 4-byte size, the request header with
//! a fresh correlation id, the body), the response's size is checked against
//! [`MAX_RESPONSE_BYTES`] before anything is allocated, and its correlation id must match. The
//! connection learns the broker's versions with ApiVersions when it opens and picks, per API,
//! the highest version both sides speak up to the one asked for. Any I/O error, timeout or
//! undecodable response leaves the connection unusable: callers drop it and reconnect.

use super::GroupError;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, FindCoordinatorRequest, FindCoordinatorResponse, HeartbeatRequest,
    HeartbeatResponse, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse, OffsetDeleteRequest,
    OffsetDeleteResponse, RequestHeader, ResponseHeader, SyncGroupRequest, SyncGroupResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Message, StrBytes};
use std::collections::HashMap;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest response accepted. JoinGroup responses to the leader carry every member's
/// metadata; 16 MiB is thousands of workers with large assignments.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// A request this client sends: the crate's `Request` trait needs the `broker` feature (it
/// decodes requests too), so the client names its own.
pub(crate) trait Request: Encodable + HeaderVersion + Message {
    /// The API key.
    const KEY: ApiKey;
    /// The response it gets.
    type Response: Decodable + HeaderVersion;
}

macro_rules! requests {
    ($($req:ty => $resp:ty, $key:ident;)*) => {$(
        impl Request for $req {
            const KEY: ApiKey = ApiKey::$key;
            type Response = $resp;
        }
    )*};
}

requests! {
    ApiVersionsRequest => ApiVersionsResponse, ApiVersions;
    FindCoordinatorRequest => FindCoordinatorResponse, FindCoordinator;
    JoinGroupRequest => JoinGroupResponse, JoinGroup;
    SyncGroupRequest => SyncGroupResponse, SyncGroup;
    HeartbeatRequest => HeartbeatResponse, Heartbeat;
    LeaveGroupRequest => LeaveGroupResponse, LeaveGroup;
    OffsetDeleteRequest => OffsetDeleteResponse, OffsetDelete;
}

/// A connection to one broker.
#[derive(Debug)]
pub(crate) struct Connection {
    stream: TcpStream,
    addr: String,
    client_id: StrBytes,
    next_correlation_id: i32,
    /// api key → (min, max) versions the broker supports.
    versions: HashMap<i16, (i16, i16)>,
}

/// A group coordinator as FindCoordinator names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Coordinator {
    pub(crate) node_id: i32,
    pub(crate) addr: String,
}

impl Connection {
    /// Connects to `addr` (`host:port`) and asks the broker for its API versions.
    pub(crate) async fn connect(addr: &str, client_id: &str, timeout: Duration) -> Result<Self, GroupError> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| GroupError::Timeout { addr: addr.to_string(), what: "connect" })?
            .map_err(|source| GroupError::Io { addr: addr.to_string(), source })?;
        // Requests are small and awaited one at a time: send them at once.
        stream.set_nodelay(true).map_err(|source| GroupError::Io { addr: addr.to_string(), source })?;
        let mut conn = Self {
            stream,
            addr: addr.to_string(),
            client_id: StrBytes::from_string(client_id.to_string()),
            next_correlation_id: 0,
            versions: HashMap::new(),
        };
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("tributary"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let response = conn.send_with_version(&request, 3, timeout).await?;
        if response.error_code != 0 {
            return Err(GroupError::broker("ApiVersions", response.error_code));
        }
        conn.versions = response.api_keys.iter().map(|k| (k.api_key, (k.min_version, k.max_version))).collect();
        Ok(conn)
    }

    /// Connects to the first of `bootstrap` (comma-separated `host:port`) that answers.
    pub(crate) async fn connect_any(bootstrap: &str, client_id: &str, timeout: Duration) -> Result<Self, GroupError> {
        let mut last = GroupError::NoBootstrap;
        for addr in bootstrap.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            match Self::connect(addr, client_id, timeout).await {
                Ok(conn) => return Ok(conn),
                Err(e) => {
                    tracing::debug!(addr, error = %e, "Cannot reach bootstrap server.");
                    last = e;
                }
            }
        }
        Err(last)
    }

    /// The broker this connection talks to.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// The version of `R` to send: the highest of `wanted`, the crate's and the broker's.
    pub(crate) fn version<R: Request>(&self, wanted: i16) -> Result<i16, GroupError> {
        let api = api_name(R::KEY);
        let (broker_min, broker_max) = self
            .versions
            .get(&(R::KEY as i16))
            .copied()
            .ok_or(GroupError::UnsupportedApi { api, addr: self.addr.clone() })?;
        let version = wanted.min(broker_max).min(R::VERSIONS.max);
        if version < broker_min.max(R::VERSIONS.min) {
            return Err(GroupError::UnsupportedApi { api, addr: self.addr.clone() });
        }
        Ok(version)
    }

    /// Sends `request` at the best version up to `wanted` and awaits its response.
    pub(crate) async fn send<R: Request>(
        &mut self,
        request: &R,
        wanted: i16,
        timeout: Duration,
    ) -> Result<(R::Response, i16), GroupError> {
        let version = self.version::<R>(wanted)?;
        Ok((self.send_with_version(request, version, timeout).await?, version))
    }

    async fn send_with_version<R: Request>(
        &mut self,
        request: &R,
        version: i16,
        timeout: Duration,
    ) -> Result<R::Response, GroupError> {
        let api = api_name(R::KEY);
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id = self.next_correlation_id.wrapping_add(1);
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY as i16)
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(self.client_id.clone()));
        let mut frame = BytesMut::with_capacity(256);
        frame.put_i32(0); // size, patched below
        header.encode(&mut frame, R::header_version(version)).map_err(|e| GroupError::encode(api, e))?;
        request.encode(&mut frame, version).map_err(|e| GroupError::encode(api, e))?;
        let size = i32::try_from(frame.len() - 4)
            .map_err(|_| GroupError::Malformed { api, reason: "request too large".to_string() })?;
        frame[..4].copy_from_slice(&size.to_be_bytes());

        let exchange = async {
            self.stream.write_all(&frame).await?;
            let size = self.stream.read_i32().await?;
            let len = usize::try_from(size).ok().filter(|n| *n <= MAX_RESPONSE_BYTES);
            let Some(len) = len else {
                return Ok(Err(size));
            };
            let mut body = vec![0u8; len];
            self.stream.read_exact(&mut body).await?;
            Ok::<_, std::io::Error>(Ok(Bytes::from(body)))
        };
        let mut body = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| GroupError::Timeout { addr: self.addr.clone(), what: api })?
            .map_err(|source| GroupError::Io { addr: self.addr.clone(), source })?
            .map_err(|size| GroupError::Malformed {
                api,
                reason: format!("response size {size} outside 0..={MAX_RESPONSE_BYTES}"),
            })?;

        let response_header_version = <R::Response as HeaderVersion>::header_version(version);
        let header =
            ResponseHeader::decode(&mut body, response_header_version).map_err(|e| GroupError::decode(api, e))?;
        if header.correlation_id != correlation_id {
            return Err(GroupError::Malformed {
                api,
                reason: format!("correlation id {} where {correlation_id} was expected", header.correlation_id),
            });
        }
        let response = R::Response::decode(&mut body, version).map_err(|e| GroupError::decode(api, e))?;
        if body.has_remaining() {
            tracing::debug!(api, trailing = body.remaining(), "Response has trailing bytes.");
        }
        Ok(response)
    }

    /// Asks this broker which broker coordinates `group_id`.
    pub(crate) async fn find_coordinator(
        &mut self,
        group_id: &str,
        timeout: Duration,
    ) -> Result<Coordinator, GroupError> {
        let key = StrBytes::from_string(group_id.to_string());
        let version = self.version::<FindCoordinatorRequest>(4)?;
        let request = if version >= 4 {
            FindCoordinatorRequest::default().with_key_type(0).with_coordinator_keys(vec![key])
        } else {
            FindCoordinatorRequest::default().with_key(key)
        };
        let response: FindCoordinatorResponse = self.send_with_version(&request, version, timeout).await?;
        let (error_code, node_id, host, port) = if version >= 4 {
            let c = response.coordinators.first().ok_or_else(|| GroupError::Malformed {
                api: "FindCoordinator",
                reason: "no coordinator in the response".to_string(),
            })?;
            (c.error_code, c.node_id.0, c.host.to_string(), c.port)
        } else {
            (response.error_code, response.node_id.0, response.host.to_string(), response.port)
        };
        if error_code != 0 {
            return Err(GroupError::broker("FindCoordinator", error_code));
        }
        let addr = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
        Ok(Coordinator { node_id, addr })
    }
}

/// A name for logs and errors of the request with api key `key`.
pub(crate) fn api_name(key: ApiKey) -> &'static str {
    match key {
        ApiKey::ApiVersions => "ApiVersions",
        ApiKey::FindCoordinator => "FindCoordinator",
        ApiKey::JoinGroup => "JoinGroup",
        ApiKey::SyncGroup => "SyncGroup",
        ApiKey::Heartbeat => "Heartbeat",
        ApiKey::LeaveGroup => "LeaveGroup",
        ApiKey::OffsetDelete => "OffsetDelete",
        _ => "request",
    }
}
