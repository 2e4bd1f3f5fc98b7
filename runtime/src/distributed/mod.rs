//! Distributed mode: workers that form a cluster through Kafka's group coordinator and keep
//! their state in Kafka's compacted topics, as Kafka Connect's distributed workers do.
//!
//! - [`group`]: membership in the coordinator's group with protocol type `connect`
//!   (JoinGroup / SyncGroup / Heartbeat / LeaveGroup), spoken directly with the
//!   `kafka-protocol` crate, and Kafka Connect's metadata and assignment encodings.

pub mod group;
pub mod herder;
pub mod stores;
