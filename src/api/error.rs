//! `ApiError`: the one error type of the HTTP layer, written as
//! `{"error": "...", "code": "..."}` with the matching status.
//!
//! 5xx bodies say little; the cause goes to the log.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::reports::DiagnosticSchema;
use crate::auth::AuthError;
use crate::store::StoreError;
use crate::sync::{ReportDiagnostic, SyncError};

/// The error envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Human-readable message.
    pub error: String,
    /// Stable machine-readable code.
    pub code: &'static str,
}

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but the route needs a higher role (403).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    ValidationFailed(String),
    /// The client must wait `retry_after` seconds (sent as `Retry-After`).
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// The request was not received and answered in time; the connection
    /// is closed.
    #[error("{0}")]
    RequestTimeout(String),
    /// The disk of the data directory is full: 500 (the status
    /// docs/seed/api-pack-workflows.md gives a failed sync) with code `INSUFFICIENT_STORAGE`; the
    /// message says so and what to do.
    #[error("{0}")]
    InsufficientStorage(String),
    /// The database cannot serve the request right now (503), for instance
    /// after an I/O failure until it reopens; the message says why.
    #[error("{0}")]
    Unavailable(String),
    /// Input that breaks the rules of the workflow format: 422
    /// `VALIDATION_FAILED` with every diagnostic in the body
    /// ([`ValidationErrorBody`]). Built with [`ApiError::invalid`].
    #[error("{message}")]
    Invalid {
        message: String,
        diagnostics: Vec<ReportDiagnostic>,
    },
    /// The memory budget of validation work stayed full for the whole
    /// wait (503 `BUSY`, with `Retry-After`); reads keep answering.
    #[error("{message}")]
    Busy { message: String, retry_after: u64 },
    /// The cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The 422 body of [`ApiError::Invalid`]: the envelope plus diagnostics.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationErrorBody {
    pub error: String,
    pub code: &'static str,
    #[schema(value_type = Vec<DiagnosticSchema>)]
    pub diagnostics: Vec<ReportDiagnostic>,
}

impl ApiError {
    /// HTTP status and stable code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "CONFLICT"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE")
            }
            ApiError::ValidationFailed(_) | ApiError::Invalid { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED")
            }
            ApiError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS")
            }
            ApiError::RequestTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "REQUEST_TIMEOUT"),
            ApiError::InsufficientStorage(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "INSUFFICIENT_STORAGE")
            }
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE"),
            ApiError::Busy { .. } => (StatusCode::SERVICE_UNAVAILABLE, "BUSY"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL"),
        }
    }

    /// `what` (a workflow ref, a file) is invalid: the message names the
    /// first error and the count, the diagnostics go in the body.
    pub fn invalid(what: &str, diagnostics: Vec<ReportDiagnostic>) -> ApiError {
        let (errors, first) = crate::sync::error_summary(&diagnostics);
        ApiError::Invalid {
            message: format!(
                "Validation failed for {what}: {first} ({errors} error(s); see diagnostics)"
            ),
            diagnostics,
        }
    }

    /// The 413 answered for bodies over the limit.
    pub fn body_too_large() -> ApiError {
        ApiError::PayloadTooLarge(format!(
            "request body is larger than {} bytes; send a smaller body",
            crate::config::REQUEST_BODY_LIMIT
        ))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Invalid {
            message,
            diagnostics,
        } = self
        {
            let body = ValidationErrorBody {
                error: message,
                code,
                diagnostics,
            };
            return (status, axum::Json(body)).into_response();
        }
        let error = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                "internal server error; see the server log".to_string()
            }
            other => other.to_string(),
        };
        let mut res = (status, axum::Json(ErrorBody { error, code })).into_response();
        match &self {
            ApiError::TooManyRequests { retry_after, .. } | ApiError::Busy { retry_after, .. } => {
                res.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, (*retry_after).into());
            }
            ApiError::RequestTimeout(_) => {
                res.headers_mut().insert(
                    axum::http::header::CONNECTION,
                    axum::http::HeaderValue::from_static("close"),
                );
            }
            _ => {}
        }
        res
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => ApiError::NotFound(m),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            e @ StoreError::DiskFull => ApiError::InsufficientStorage(e.to_string()),
            e @ StoreError::Unavailable(_) => ApiError::Unavailable(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        match e {
            e @ SyncError::PackNotFound(_) => ApiError::NotFound(e.to_string()),
            SyncError::Store(s) => s.into(),
            SyncError::Task(m) => ApiError::Internal(format!("sync task failed: {m}")),
            SyncError::Busy(b) => b.into(),
        }
    }
}

impl From<crate::budget::Busy> for ApiError {
    fn from(b: crate::budget::Busy) -> Self {
        ApiError::Busy {
            message: b.to_string(),
            retry_after: b.retry_after,
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::InvalidToken(m) => ApiError::Unauthorized(m),
            AuthError::BadCredentials | AuthError::Disabled(_) => {
                ApiError::Unauthorized(e.to_string())
            }
            AuthError::WeakPassword(m) | AuthError::InvalidLogin(m) => {
                ApiError::ValidationFailed(m)
            }
            AuthError::WrongCurrentPassword => ApiError::ValidationFailed(e.to_string()),
            e @ AuthError::RoleTooHigh { .. } => ApiError::Forbidden(e.to_string()),
            AuthError::Store(s) => s.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}
