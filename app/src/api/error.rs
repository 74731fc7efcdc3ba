//! The API's error shape, as sent by the server and as seen by the pages.

use serde::{Deserialize, Serialize};

/// The body of every error response: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// One error: a stable machine-readable code and a message written for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable, machine-readable: `not_found`, `malformed_json`, `internal`, ...
    pub code: String,
    /// A sentence a person understands: what happened and what to do.
    pub message: String,
    /// The request field the error is about, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The id of the request, to quote to support (set for server-side failures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// What a page sees when an API call fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The server answered with an error body.
    #[error("{message}")]
    Api {
        /// HTTP status code.
        status: u16,
        /// The stable error code.
        code: String,
        /// The server's message for a person.
        message: String,
        /// The request field the error is about.
        field: Option<String>,
        /// The request id to quote to support.
        request_id: Option<String>,
    },
    /// The server could not be reached or the connection broke.
    #[error("The portal could not be reached. Check your connection and try again.")]
    Network(String),
    /// The server answered with something that is not the expected JSON.
    #[error("The portal sent an answer this page does not understand (HTTP {status}). Reload the page; if it persists, contact support.")]
    UnexpectedResponse {
        /// HTTP status code.
        status: u16,
    },
}

impl ApiError {
    /// Builds the error for a non-success response from its status and body text.
    pub fn from_response(status: u16, body: &str) -> Self {
        match serde_json::from_str::<ErrorBody>(body) {
            Ok(ErrorBody { error }) => ApiError::Api {
                status,
                code: error.code,
                message: error.message,
                field: error.field,
                request_id: error.request_id,
            },
            Err(_) => ApiError::UnexpectedResponse { status },
        }
    }

    /// The stable error code, when the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The request field the server named, when it named one.
    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::Api { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status, when there was a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Api { status, .. } | ApiError::UnexpectedResponse { status } => Some(*status),
            ApiError::Network(_) => None,
        }
    }
}

/// Whether an error means there is no (suitable) session any more, so the only way on is to
/// sign in again. A wrong password (`invalid_credentials`) is not one of them.
pub fn is_signed_out(error: &ApiError) -> bool {
    matches!(
        error.code(),
        Some("unauthenticated" | "mfa_expired" | "mfa_required")
    )
}

/// Errors as the server sends them, for the pages' unit tests. The message is always
/// [`testing::SERVER_WORDS`], so a test can tell the server's words from the page's own.
#[cfg(test)]
pub(crate) mod testing {
    use super::ApiError;

    /// The message of every error made here.
    pub(crate) const SERVER_WORDS: &str = "The server's words.";

    /// An error answer with `status` and `code`, about no field in particular.
    pub(crate) fn api_error(status: u16, code: &str) -> ApiError {
        api_error_on(status, code, None)
    }

    /// An error answer with `status` and `code` about `field`.
    pub(crate) fn api_error_on(status: u16, code: &str, field: Option<&str>) -> ApiError {
        ApiError::Api {
            status,
            code: code.to_string(),
            message: SERVER_WORDS.to_string(),
            field: field.map(str::to_string),
            request_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_becomes_an_api_error() {
        let err = ApiError::from_response(
            404,
            r#"{"error":{"code":"not_found","message":"No such thing."}}"#,
        );
        assert_eq!(err.code(), Some("not_found"));
        assert_eq!(err.status(), Some(404));
        assert_eq!(err.to_string(), "No such thing.");
    }

    #[test]
    fn a_body_that_is_not_an_error_is_unexpected() {
        let err = ApiError::from_response(502, "<html>Bad gateway</html>");
        assert_eq!(err, ApiError::UnexpectedResponse { status: 502 });
        assert_eq!(err.code(), None);
    }
}
