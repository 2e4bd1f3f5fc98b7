//! The registry's errors, each with Confluent's error code and HTTP status.

/// An error of a registry operation. [`RegistryError::error_code`] and
/// [`RegistryError::http_status`] are the values Confluent's Schema Registry answers with; the
/// `Display` text is its `message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// 40401: the subject has no versions (or only soft-deleted ones when those are hidden).
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),
    /// 40402: the subject exists but not this version.
    #[error("Version {0} not found.")]
    VersionNotFound(i64),
    /// 40403: a lookup (`POST /subjects/{s}`) found no equal schema under the subject.
    #[error("Schema not found")]
    SchemaNotFound,
    /// 40403: no schema has this id.
    #[error("Schema {0} not found")]
    SchemaIdNotFound(i64),
    /// 40404: soft delete of an already soft-deleted subject.
    #[error("Subject '{0}' was soft deleted.Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),
    /// 40405: permanent delete of a subject that was not soft-deleted first.
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),
    /// 40406: soft delete of an already soft-deleted version.
    #[error("Subject '{0}' Version {1} was soft deleted.Set permanent=true to delete permanently")]
    VersionSoftDeleted(String, i32),
    /// 40407: permanent delete of a version that was not soft-deleted first.
    #[error("Subject '{0}' Version {1} was not deleted first before being permanently deleted")]
    VersionNotSoftDeleted(String, i32),
    /// 40408: `GET /config/{s}` for a subject without its own level.
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    SubjectCompatibilityNotConfigured(String),
    /// 40409: `GET /mode/{s}` for a subject without its own mode.
    #[error("Subject '{0}' does not have subject-level mode configured")]
    SubjectModeNotConfigured(String),
    /// 409: the schema breaks the subject's compatibility level.
    #[error("{0}")]
    Incompatible(String),
    /// 42201: the schema does not parse, or its type is not supported.
    #[error("{0}")]
    InvalidSchema(String),
    /// 42202: a version path parameter that is neither 1..2^31-1, `latest` nor `-1`.
    #[error(
        "The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""
    )]
    InvalidVersion(String),
    /// 42203: unknown compatibility level.
    #[error(
        "Invalid compatibility level '{0}'. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive"
    )]
    InvalidCompatibility(String),
    /// 42204: unknown mode.
    #[error("Invalid mode '{0}'. Valid values are READWRITE, READONLY and IMPORT")]
    InvalidMode(String),
    /// 42205: the mode forbids the operation.
    #[error("{0}")]
    OperationNotPermitted(String),
    /// 42206: a version that other schemas reference cannot be deleted.
    #[error("One or more references exist to the schema {0}")]
    ReferenceExists(String),
    /// 42207: in IMPORT mode, the id is already taken by another schema.
    #[error("{0}")]
    IdDoesNotMatch(String),
    /// 400: the request body is not JSON.
    #[error("{0}")]
    MalformedRequest(String),
    /// 422: the request body is JSON of the wrong shape.
    #[error("{0}")]
    UnprocessableRequest(String),
    /// 50001: the Kafka store failed.
    #[error("{0}")]
    Store(String),
    /// 50002: the Kafka store did not confirm a write in time.
    #[error("{0}")]
    Timeout(String),
}

impl RegistryError {
    /// Confluent's `error_code` for this error.
    pub fn error_code(&self) -> u32 {
        match self {
            Self::SubjectNotFound(_) => 40401,
            Self::VersionNotFound(_) => 40402,
            Self::SchemaNotFound | Self::SchemaIdNotFound(_) => 40403,
            Self::SubjectSoftDeleted(_) => 40404,
            Self::SubjectNotSoftDeleted(_) => 40405,
            Self::VersionSoftDeleted(..) => 40406,
            Self::VersionNotSoftDeleted(..) => 40407,
            Self::SubjectCompatibilityNotConfigured(_) => 40408,
            Self::SubjectModeNotConfigured(_) => 40409,
            Self::Incompatible(_) => 409,
            Self::InvalidSchema(_) => 42201,
            Self::InvalidVersion(_) => 42202,
            Self::InvalidCompatibility(_) => 42203,
            Self::InvalidMode(_) => 42204,
            Self::OperationNotPermitted(_) => 42205,
            Self::ReferenceExists(_) => 42206,
            Self::IdDoesNotMatch(_) => 42207,
            Self::MalformedRequest(_) => 400,
            Self::UnprocessableRequest(_) => 422,
            Self::Store(_) => 50001,
            Self::Timeout(_) => 50002,
        }
    }

    /// The HTTP status Confluent answers this error with.
    pub fn http_status(&self) -> u16 {
        match self.error_code() {
            code @ 100..=599 => code as u16,
            code => (code / 100) as u16,
        }
    }

    /// Whether retrying the same request later may succeed (store trouble, not bad input).
    pub fn is_retriable(&self) -> bool {
        matches!(self, Self::Store(_) | Self::Timeout(_))
    }
}
