//! Connector and task states, as Kafka Connect reports them.

use crate::plugins::ConnectorKind;

/// A connector's or task's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not running on any worker.
    Unassigned,
    /// Running.
    Running,
    /// Paused by the user.
    Paused,
    /// Stopped by the user (KIP-980): no tasks, nothing running.
    Stopped,
    /// Failed; see the trace.
    Failed,
    /// Being restarted.
    Restarting,
}

impl State {
    /// Upper-case name as in Kafka Connect's REST answers.
    pub fn name(self) -> &'static str {
        match self {
            Self::Unassigned => "UNASSIGNED",
            Self::Running => "RUNNING",
            Self::Paused => "PAUSED",
            Self::Stopped => "STOPPED",
            Self::Failed => "FAILED",
            Self::Restarting => "RESTARTING",
        }
    }
}

/// What a user asked a connector to be (Kafka Connect's `TargetState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    /// Running.
    Started,
    /// Connector running, tasks paused.
    Paused,
    /// Connector and tasks shut down, task configs dropped.
    Stopped,
}

impl TargetState {
    /// Reads `initial_state` as `POST /connectors` takes it (RUNNING, PAUSED, STOPPED).
    pub fn from_initial_state(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "RUNNING" => Some(Self::Started),
            "PAUSED" => Some(Self::Paused),
            "STOPPED" => Some(Self::Stopped),
            _ => None,
        }
    }
}

/// One task's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskStatus {
    /// State.
    pub state: State,
    /// Worker running it.
    pub worker_id: String,
    /// Why it failed.
    pub trace: Option<String>,
}

impl TaskStatus {
    pub(crate) fn new(state: State, worker_id: &str) -> Self {
        Self { state, worker_id: worker_id.to_owned(), trace: None }
    }
    pub(crate) fn fail(&mut self, trace: String) {
        self.state = State::Failed;
        self.trace = Some(trace);
    }
}

/// A connector's state and its tasks'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorStatus {
    /// Connector name.
    pub name: String,
    /// Connector class.
    pub class: String,
    /// Source or sink.
    pub kind: ConnectorKind,
    /// Connector state.
    pub state: State,
    /// Why the connector failed.
    pub trace: Option<String>,
    /// Worker running it.
    pub worker_id: String,
    /// Tasks, by id.
    pub tasks: Vec<TaskStatus>,
}
