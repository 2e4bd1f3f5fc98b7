//! The error every connector, converter and task returns, classified so the runtime knows what
//! to do with it: retry, route the record to the dead letter queue, or fail the task.

use super::config::ConfigErrors;

/// What the runtime does with an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The configuration is wrong; the user must change it.
    Config,
    /// A transient failure (connection lost, broker unavailable): retried with back-off.
    Retriable,
    /// One record cannot be converted, transformed or written: `errors.tolerance` decides.
    Data,
    /// Anything else: the task fails with this message.
    Fatal,
}

/// An error from a connector, task or converter.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// Invalid configuration.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigErrors),
    /// A failure worth retrying.
    #[error("{message}")]
    Retriable {
        /// What failed.
        message: String,
        /// The underlying cause.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A record that cannot be handled.
    #[error("{message}")]
    Data {
        /// What is wrong with the record.
        message: String,
        /// The underlying cause.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A failure that stops the task.
    #[error("{message}")]
    Fatal {
        /// What failed.
        message: String,
        /// The underlying cause.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl ConnectError {
    /// A retriable error.
    pub fn retriable(message: impl Into<String>) -> Self {
        Self::Retriable { message: message.into(), source: None }
    }
    /// A data error.
    pub fn data(message: impl Into<String>) -> Self {
        Self::Data { message: message.into(), source: None }
    }
    /// A fatal error.
    pub fn fatal(message: impl Into<String>) -> Self {
        Self::Fatal { message: message.into(), source: None }
    }
    /// A fatal error with its cause.
    pub fn fatal_from(message: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Fatal { message: message.into(), source: Some(Box::new(source)) }
    }
    /// A retriable error with its cause.
    pub fn retriable_from(message: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Retriable { message: message.into(), source: Some(Box::new(source)) }
    }
    /// A data error with its cause.
    pub fn data_from(message: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Data { message: message.into(), source: Some(Box::new(source)) }
    }
    /// A configuration error on one key.
    pub fn config(key: &str, message: impl Into<String>) -> Self {
        Self::Config(ConfigErrors::single(key, message))
    }

    /// How the runtime treats this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Config(_) => ErrorKind::Config,
            Self::Retriable { .. } => ErrorKind::Retriable,
            Self::Data { .. } => ErrorKind::Data,
            Self::Fatal { .. } => ErrorKind::Fatal,
        }
    }

    /// The same error, its message prefixed with where it happened ("transform 'x' failed: ...").
    pub fn context(self, prefix: impl std::fmt::Display) -> Self {
        match self {
            Self::Retriable { message, source } => Self::Retriable { message: format!("{prefix}: {message}"), source },
            Self::Data { message, source } => Self::Data { message: format!("{prefix}: {message}"), source },
            Self::Fatal { message, source } => Self::Fatal { message: format!("{prefix}: {message}"), source },
            config @ Self::Config(_) => config,
        }
    }

    /// Whether retrying may succeed.
    pub fn is_retriable(&self) -> bool {
        self.kind() == ErrorKind::Retriable
    }

    /// The message with every cause appended, for logs and task traces.
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut cur = std::error::Error::source(self);
        while let Some(e) = cur {
            out.push_str(": ");
            out.push_str(&e.to_string());
            cur = e.source();
        }
        out
    }
}

/// Result of connector API calls.
pub type ConnectResult<T> = Result<T, ConnectError>;
