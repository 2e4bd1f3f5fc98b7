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
    /// Failed; see the trace.
    Failed,
}

impl State {
    /// Upper-case name as in Kafka Connect's REST answers.
    pub fn name(self) -> &'static str {
        match self {
            Self::Unassigned => "UNASSIGNED",
            Self::Running => "RUNNING",
            Self::Paused => "PAUSED",
            Self::Failed => "FAILED",
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
    pub(crate) fn running(worker_id: &str) -> Self {
        Self { state: State::Running, worker_id: worker_id.to_owned(), trace: None }
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
    /// Worker running it.
    pub worker_id: String,
    /// Tasks, by id.
    pub tasks: Vec<TaskStatus>,
}
