//! The API's error policy, at the edge.
//!
//! Handlers return [`ApiResult`]. A client error carries a stable code and a message for a
//! person; an internal error is logged (inside the request's span, so with its request id)
//! and the client only sees `internal` with the request id to quote.

use axum::{
    extract::{rejection::JsonRejection, FromRequest, Request},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{de::DeserializeOwned, Serialize};

use app::api::{form_post as words, ErrorBody, ErrorDetail};

use super::middleware::current_request_id;

/// `Retry-After` while the database does not answer: PostgreSQL restarting takes seconds.
pub const DATABASE_RETRY_AFTER_SECS: u64 = 5;
/// `Retry-After` while the database's disk is full: freeing space takes an operator.
pub const STORAGE_RETRY_AFTER_SECS: u64 = 60;

/// The result type of every API handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// An error answered to an API client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
    retry_after_secs: Option<u64>,
    internal: Option<anyhow::Error>,
}

impl ApiError {
    /// An error the client can act on.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after_secs: None,
            internal: None,
        }
    }

    /// Names the request field the error is about.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Adds a `Retry-After` header (for 429 and 503).
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 400 with the given code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 403 with the given code.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 422 about one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message).with_field(field)
    }

    /// 500 `internal`: logs `err`, tells the client only the request id. When the cause is
    /// the database being down or full rather than a bug, the answer says so instead
    /// ([`Self::outage`]).
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        let err = err.into();
        let answer = match crate::db::outage_in(&err) {
            Some(outage) => Self::outage(outage),
            // A NUL character that got past the checks reached PostgreSQL, whose text cannot
            // hold one: the request's fault, not the server's.
            None if crate::db::is_unstorable_text(&err) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_text",
                "The request contains a NUL character (\\u0000 or %00), which the portal cannot store.",
            ),
            None => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                words::INTERNAL_MESSAGE,
            ),
        };
        ApiError {
            internal: Some(err),
            ..answer
        }
    }

    /// 503 `database_unreachable` with `Retry-After`, or 507 `storage_full`: the database
    /// cannot serve the request for now; nothing of it was stored.
    pub fn outage(outage: crate::db::Outage) -> Self {
        match outage {
            crate::db::Outage::Unavailable => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unreachable",
                words::DATABASE_UNREACHABLE_MESSAGE,
            )
            .with_retry_after(DATABASE_RETRY_AFTER_SECS),
            crate::db::Outage::StorageFull => Self::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "storage_full",
                words::STORAGE_FULL_MESSAGE,
            )
            .with_retry_after(STORAGE_RETRY_AFTER_SECS),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The `Retry-After` seconds, when the error has one.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after_secs
    }

    /// The message for a person.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The request field the error is about, if any.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// Logs the cause of an internal error (inside the request's span). Answering the error
    /// does it; an edge that answers it another way (a form post's redirect) calls this.
    pub fn log_internal(&self) {
        if let Some(err) = &self.internal {
            tracing::error!(error = ?err, "request failed");
        }
    }
}

impl From<crate::db::QueryError> for ApiError {
    fn from(e: crate::db::QueryError) -> Self {
        ApiError::internal(e)
    }
}

impl From<crate::auth::AuthError> for ApiError {
    fn from(e: crate::auth::AuthError) -> Self {
        use crate::auth::{step_up::Proof, AuthError as E};
        let unauthorized = StatusCode::UNAUTHORIZED;
        match e {
            E::RateLimited { retry_after_secs } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                words::rate_limited_message(retry_after_secs),
            )
            .with_retry_after(retry_after_secs),
            E::NoPendingSignIn => ApiError::new(
                unauthorized,
                "mfa_expired",
                words::NO_PENDING_SIGN_IN_MESSAGE,
            ),
            E::SignInDropped => {
                ApiError::new(unauthorized, "mfa_expired", words::SIGN_IN_DROPPED_MESSAGE)
            }
            E::WrongSignInCode => ApiError::new(
                unauthorized,
                "invalid_code",
                words::WRONG_SIGN_IN_CODE_MESSAGE,
            ),
            E::WrongCode => ApiError::new(
                unauthorized,
                "invalid_code",
                "That code is not right. Enter the current 6-digit code from your authenticator app.",
            )
            .with_field("code"),
            E::WrongEmailCode => ApiError::new(
                unauthorized,
                "invalid_code",
                "That code is not right, or it has expired. Enter the 8-digit code from the latest e-mail, or send a new one.",
            )
            .with_field("code"),
            E::EmailCodesOff => ApiError::new(
                StatusCode::CONFLICT,
                "email_codes_off",
                "Codes by e-mail are not on for your account (or your organisation does not accept them). Use your authenticator app.",
            ),
            E::CodesLocked => ApiError::forbidden("codes_locked", words::CODES_LOCKED_MESSAGE),
            E::SessionEnded => ApiError::new(
                unauthorized,
                "session_ended",
                "Too many wrong passwords or codes: for your security you have been signed out. Sign in again.",
            ),
            E::WrongPassword { field, message } => {
                ApiError::new(unauthorized, "invalid_password", message).with_field(field)
            }
            E::InvalidToken => ApiError::new(
                unauthorized,
                "invalid_token",
                "This API token is not valid: it is unknown, malformed or was revoked. Send an active token as Authorization: Bearer vcp_….",
            ),
            E::TokenExpired => ApiError::new(
                unauthorized,
                "token_expired",
                "This API token has expired. Ask an administrator of your organisation for a new one.",
            ),
            E::InvalidCredentials => ApiError::new(
                unauthorized,
                "invalid_credentials",
                words::INVALID_CREDENTIALS_MESSAGE,
            ),
            E::SsoRequired => ApiError::forbidden("sso_required", words::SSO_REQUIRED_MESSAGE),
            E::NotSignedIn => super::extract::unauthenticated(),
            // `field` names what `POST /api/v1/auth/step-up` takes from this user (`code`,
            // `password`) or `microsoft` (a new sign-in with Microsoft).
            E::StepUpRequired(proof) => ApiError::new(
                unauthorized,
                "step_up_required",
                match proof {
                    Proof::Code => "This needs a fresh check: enter a code from your authenticator app to confirm it's you (POST /api/v1/auth/step-up), then try again.",
                    Proof::EmailCode => "This needs a fresh check: we e-mail you a code (POST /api/v1/auth/step-up/email-code), enter it to confirm it's you (POST /api/v1/auth/step-up), then try again.",
                    Proof::Password => "This needs a fresh check: enter your password to confirm it's you (POST /api/v1/auth/step-up), then try again.",
                    Proof::Microsoft => "This needs a fresh check: sign in again with Microsoft to confirm it's you, then try again.",
                },
            )
            .with_field(proof.as_str()),
            E::StepUpProofWanted(proof) => match proof {
                Proof::Code => ApiError::invalid_field("code", "Enter the current 6-digit code from your authenticator app."),
                Proof::EmailCode => ApiError::invalid_field("code", "Enter the 8-digit code we e-mailed you."),
                Proof::Password => ApiError::invalid_field("password", "Enter your password."),
                Proof::Microsoft => ApiError::new(
                    StatusCode::CONFLICT,
                    "sign_in_again",
                    "You signed in with Microsoft: sign in again with Microsoft to confirm it's you.",
                ),
            },
            E::Internal(e) => ApiError::internal(e),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = current_request_id();
        self.log_internal();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
                field: self.field,
                request_id: self.internal.as_ref().and(request_id),
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// A JSON request body whose rejections follow the error policy:
/// 415 `unsupported_media_type`, 413 `payload_too_large`, 422 `malformed_json` / `invalid_body`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Every request body of the API is a JSON object. Read as a value first: serde would
        // also fill a struct from an array (`[null, null]` passes for one whose fields are all
        // optional), which is not what the OpenAPI document promises.
        let Json(value) = Json::<serde_json::Value>::from_request(req, state)
            .await
            .map_err(json_rejection)?;
        if !value.is_object() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "The request body must be a JSON object, such as {\"name\": \"value\"}.",
            ));
        }
        serde_json::from_value(value).map(ApiJson).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                format!("The request body does not have the expected fields: {e}"),
            )
        })
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the request body as JSON with the header Content-Type: application/json.",
        ),
        JsonRejection::JsonSyntaxError(e) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "malformed_json",
            format!(
                "The request body is not valid JSON: {}",
                e.body_text()
                    .trim_start_matches("Failed to parse the request body as JSON: ")
            ),
        ),
        JsonRejection::JsonDataError(e) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!(
                "The request body does not have the expected fields: {}",
                e.body_text().trim_start_matches(
                    "Failed to deserialize the JSON body into the target type: "
                )
            ),
        ),
        other if is_body_timeout(&other) => request_timeout(),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => payload_too_large(),
        other => ApiError::bad_request(
            "unreadable_body",
            format!("The request body could not be read: {}", other.body_text()),
        ),
    }
}

/// 413 `payload_too_large`: over `PORTAL_MAX_BODY_BYTES`.
pub fn payload_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "The request body is larger than the portal accepts.",
    )
}

/// Whether an error of type `E` is `err` or among its causes.
pub fn caused_by<E: std::error::Error + 'static>(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if e.is::<E>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// Whether reading the body failed because the client stopped sending it.
pub fn is_body_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    caused_by::<tower_http::timeout::TimeoutError>(err)
}

/// 408 `request_timeout`: the body stopped arriving (`PORTAL_BODY_IDLE_SECS`).
pub fn request_timeout() -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        "The request body stopped arriving before it was complete. Send the request again.",
    )
}

/// Query-string parameters whose rejection follows the error policy: 422 `invalid_query`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        // PostgreSQL's text cannot hold NUL, and no parameter of this API means one.
        if let Some(query) = parts.uri.query() {
            if let Some((name, _)) = url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, v)| k.contains('\0') || v.contains('\0'))
            {
                let name = name.replace('\0', "");
                return Err(ApiError::invalid_field(
                    &name,
                    format!("{name} contains a NUL character (%00), which no parameter may."),
                ));
            }
        }
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_query",
                format!(
                    "The query string is not valid: {}",
                    rejection
                        .body_text()
                        .trim_start_matches("Failed to deserialize query string: ")
                ),
            )),
        }
    }
}
