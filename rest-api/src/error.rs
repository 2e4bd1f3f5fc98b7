//! Errors answered as Kafka Connect answers them: `{"error_code": N, "message": "..."}`.

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tributary_runtime::worker::ChangeError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    /// What Jersey answers for a path or parameter it cannot match.
    pub(crate) fn http_not_found() -> Self {
        Self::not_found("HTTP 404 Not Found")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = self.status.as_u16(), "REST request failed: {}", self.message);
        }
        (self.status, Json(json!({"error_code": self.status.as_u16(), "message": self.message}))).into_response()
    }
}

impl From<ChangeError> for ApiError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::NotFound(m) => Self::new(StatusCode::NOT_FOUND, m),
            ChangeError::Conflict(m) => Self::new(StatusCode::CONFLICT, m),
            ChangeError::BadRequest(m) => Self::new(StatusCode::BAD_REQUEST, m),
            ChangeError::Invalid(errors) => {
                let list: Vec<String> = errors.0.iter().map(|e| e.message.clone()).collect();
                Self::new(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "Connector configuration is invalid and contains the following {} error(s):\n{}\nYou can also find the above list of errors at the endpoint `/connector-plugins/{{connectorType}}/config/validate`",
                        list.len(),
                        list.join("\n")
                    ),
                )
            }
            ChangeError::Failed(m) => Self::new(StatusCode::INTERNAL_SERVER_ERROR, m),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        Self::new(r.status(), format!("cannot read the request body: {}", r.body_text()))
    }
}
