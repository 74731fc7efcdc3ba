//! `POST /api/v1/ingest/calls`: call records (CDRs) sent by a machine with an API token of
//! scope `ingest` (403 `ingest_token_required` for anyone else, a signed-in user included).
//! The records are stored in the token's organisation.
//!
//! The body is the DESIGN exchange format: `Content-Type: text/csv` (with the contract's
//! header line) or `application/x-ndjson` (one JSON object per line); any other content type
//! answers 415 `unsupported_media_type`, and a wrong or missing CSV header 422
//! `invalid_header` (nothing is stored).
//!
//! The rows go through the same ingest as `portal calls import` ([`ingest::import`]), not in
//! strict mode: each row is checked on its own, so a bad row does not stop the others. Valid
//! rows are stored in batches (each batch one transaction, committed whatever the invalid rows
//! around it), rows whose call id is already stored are counted as duplicates and change
//! nothing (sending the same body again stores nothing new), and invalid rows are refused and
//! reported with their line (the CSV header is line 1), field and reason. The answer is 200
//! with the counts `{stored, duplicates, refused, errors}`, `errors` holding the first 100
//! refused rows. The import writes one `calls.imported` audit entry with the counts, labelled
//! with the token (`api-token:vcp_…`).
//!
//! Body size: this route accepts up to [`INGEST_MAX_BODY_BYTES`] (64 MiB), more than the
//! `PORTAL_MAX_BODY_BYTES` that applies to the rest of the API (a day of a busy customer's
//! CDRs is tens of MiB); a larger body answers 413 `payload_too_large` — split it into several
//! requests. The body is read into memory before the import starts.

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, FromRequest, Request, State},
    http::{header, StatusCode},
    routing::post,
    Router,
};

use app::api::services::{IngestResponse, IngestRowError};

use crate::{
    accounts::Actor,
    auth::caller::Caller,
    voice::{
        cdr::{CdrReader, Format, InputError},
        ingest::{self, ImportOptions, IngestError},
    },
};

use super::{ApiError, ApiJson, ApiResult, AppState};

/// The largest body `POST /api/v1/ingest/calls` accepts.
pub const INGEST_MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/ingest/calls",
        post(ingest_calls).layer(DefaultBodyLimit::max(INGEST_MAX_BODY_BYTES)),
    )
}

/// The body's format from its `Content-Type` (parameters such as `charset` are ignored).
fn format_of(request: &Request) -> Option<Format> {
    let value = request.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("text/csv") {
        Some(Format::Csv)
    } else if essence.eq_ignore_ascii_case("application/x-ndjson") {
        Some(Format::Ndjson)
    } else {
        None
    }
}

/// 422 `invalid_header` for a wrong or missing CSV header, 400 `unreadable_input` for a body
/// that cannot be read further; anything else is internal.
fn ingest_error(e: IngestError) -> ApiError {
    let status = match &e {
        IngestError::Input(InputError::WrongHeader { .. } | InputError::Empty) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        IngestError::Input(InputError::Read(_)) => StatusCode::BAD_REQUEST,
        IngestError::UnknownOrg(_) | IngestError::Internal(_) => {
            return ApiError::internal(anyhow::anyhow!(e))
        }
    };
    ApiError::new(status, e.code(), e.to_string())
}

/// `POST /api/v1/ingest/calls`.
async fn ingest_calls(
    State(state): State<AppState>,
    caller: Caller,
    request: Request,
) -> ApiResult<ApiJson<IngestResponse>> {
    caller.require_ingest()?;
    let format = format_of(&request).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send call records with Content-Type: text/csv (with the header line) or application/x-ndjson.",
        )
    })?;
    let body = Bytes::from_request(request, &state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!(
                        "The body is larger than {} MiB; send the call records in several requests.",
                        INGEST_MAX_BODY_BYTES / (1024 * 1024)
                    ),
                )
            } else {
                ApiError::bad_request(
                    "unreadable_body",
                    format!("The request body could not be read: {}", rejection.body_text()),
                )
            }
        })?;
    let reader = CdrReader::new(format, &body[..]).map_err(|e| ingest_error(e.into()))?;
    let label = caller.actor_label();
    let actor = Actor {
        user_id: caller.actor_user_id(),
        label: &label,
    };
    let report = ingest::import(
        &state.db,
        actor,
        &caller.org_id,
        reader,
        &ImportOptions::default(),
        |_, _| {},
    )
    .await
    .map_err(ingest_error)?;
    Ok(ApiJson(IngestResponse {
        stored: report.stored,
        duplicates: report.duplicates,
        refused: report.refused,
        errors: report
            .refusals
            .into_iter()
            .map(|r| IngestRowError {
                line: r.line,
                field: r.field,
                reason: r.reason,
            })
            .collect(),
    }))
}
