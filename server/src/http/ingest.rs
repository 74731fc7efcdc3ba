//! `POST /api/v1/ingest/calls`: call records (CDRs) sent by a machine with an API token of
//! scope `ingest` (`ingest_token_required` for anyone else: 401 for a signed-in user, who has
//! no Bearer token, 403 for a token of another scope).
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
//! Body size: this route accepts up to [`INGEST_MAX_BODY_BYTES`] (256 MiB), more than the
//! `PORTAL_MAX_BODY_BYTES` that applies to the rest of the API (a million call records, a
//! day of a large customer's CDRs, is about 150 MB in CSV); a larger body answers 413 `payload_too_large` — split it into several
//! requests. A `Content-Length` over the limit is refused before anything is read. The body is
//! not held in memory: it streams into the parser as it arrives and is stored batch by batch,
//! so a body without a declared length that crosses the limit has its batches before that
//! point stored (the 413 message says how many); sending the rest again completes it.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use axum::{
    body::Body,
    extract::{DefaultBodyLimit, Request, State},
    http::{header, StatusCode},
};
use futures_util::TryStreamExt;
use http_body_util::{LengthLimitError, Limited};
use tokio_util::io::{StreamReader, SyncIoBridge};
use utoipa_axum::{
    router::{OpenApiRouter, UtoipaMethodRouterExt},
    routes,
};

use app::api::{
    services::{IngestResponse, IngestRowError},
    ErrorBody,
};

use crate::http::openapi::errors::Internal;
use crate::{
    accounts::Actor,
    voice::{
        cdr::{Format, InputError},
        ingest::{self, ImportOptions, IngestError},
    },
};

use super::caller::Caller;
use super::{ApiError, ApiJson, ApiResult, AppState};

/// The largest body `POST /api/v1/ingest/calls` accepts.
pub const INGEST_MAX_BODY_BYTES: usize = 256 * 1024 * 1024;

/// Routes under `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ingest_calls).layer(DefaultBodyLimit::max(INGEST_MAX_BODY_BYTES)))
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
#[utoipa::path(
    post,
    path = "/ingest/calls",
    tag = "ingest",
    operation_id = "ingest_calls",
    summary = "Send call detail records (CSV or NDJSON)",
    request_body(
        description = "Call detail records in the exchange format: CSV with its header line, or one JSON object per line",
        content(
            (String = "text/csv"),
            (String = "application/x-ndjson"),
        ),
    ),
    responses(
        (status = 200, description = "The rows were read: counts of stored, duplicate and refused rows, with the first 100 refusals", body = IngestResponse),
        (status = 400, description = "`unreadable_input`: the body could not be read to the end", body = ErrorBody),
        (status = 503, description = "`shutting_down`: the server is stopping (SIGTERM); the message says how many rows were stored in whole batches; send the same file again after `Retry-After`; `database_unreachable`: the database does not answer", body = ErrorBody),
        (status = 408, description = "`request_timeout`: the body stopped arriving (`PORTAL_BODY_IDLE_SECS` without a byte); the message says how many rows were stored in whole batches", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session or API token; `invalid_token` or `token_expired`: the Bearer token is unknown, revoked or expired; `mfa_required`: a sign-in waits for its code; `ingest_token_required`: a session, not an API token", body = ErrorBody),
        (status = 403, description = "`ingest_token_required`: an API token of another scope (only scope `ingest` posts call records)", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 256 MiB (the message says how many batches were stored)", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: send `text/csv` or `application/x-ndjson`", body = ErrorBody),
        (status = 422, description = "`invalid_header`: the CSV header line is wrong or missing (nothing is stored)", body = ErrorBody),
        Internal,
    ),
    security(("api_token" = [])),
)]
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
    // A declared length over the limit is refused before anything is read.
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > INGEST_MAX_BODY_BYTES as u64) {
        return Err(too_large(None));
    }
    // The body streams into the parser thread; past the limit the stream fails, which the
    // parser sees as an unreadable input, and `over_limit` says why.
    let over_limit = Arc::new(AtomicBool::new(false));
    let flag = over_limit.clone();
    // Likewise when the client stops sending (`PORTAL_BODY_IDLE_SECS`).
    let stalled = Arc::new(AtomicBool::new(false));
    let stalled_flag = stalled.clone();
    let body = Limited::new(request.into_body(), INGEST_MAX_BODY_BYTES);
    let stream = Body::new(body).into_data_stream().map_err(move |e| {
        // [`Limited`]'s "too long".
        if super::error::caused_by::<LengthLimitError>(&e) {
            flag.store(true, Ordering::Relaxed);
        }
        if super::error::is_body_timeout(&e) {
            stalled_flag.store(true, Ordering::Relaxed);
        }
        std::io::Error::other(e)
    });
    let input = SyncIoBridge::new(StreamReader::new(stream));
    let label = caller.actor_label();
    let actor = Actor {
        user_id: caller.actor_user_id(),
        label: &label,
    };
    let mut stored_so_far = 0;
    let report = ingest::import(
        &state.db,
        actor,
        &caller.org_id,
        format,
        input,
        &ImportOptions {
            max_call_secs: state.config.max_call_secs,
            now_ms: Some(state.clock.now_ms()),
            stop: state.shutdown.child_token(),
            ..ImportOptions::default()
        },
        |report, _| stored_so_far = report.stored,
    )
    .await;
    let report = match report {
        Err(IngestError::Input(InputError::Read(_))) if over_limit.load(Ordering::Relaxed) => {
            return Err(too_large(Some(stored_so_far)))
        }
        Err(IngestError::Input(InputError::Read(_))) if stalled.load(Ordering::Relaxed) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!(
                    "The request body stopped arriving before it was complete. {stored_so_far} \
                     rows were stored, in whole batches; send the same file again (those rows \
                     then count as duplicates)."
                ),
            ))
        }
        other => other.map_err(ingest_error)?,
    };
    if report.interrupted {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            format!(
                "The portal is restarting. {} rows were stored, in whole batches; send the \
                 same file again in a few seconds (those rows then count as duplicates).",
                report.stored
            ),
        )
        .with_retry_after(5));
    }
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

/// 413 `payload_too_large`; `stored` is what was committed before a streamed body crossed the
/// limit (whole batches: sending the rest again completes the import, stored rows count as
/// duplicates).
fn too_large(stored: Option<u64>) -> ApiError {
    let limit = INGEST_MAX_BODY_BYTES / (1024 * 1024);
    let message = match stored {
        None | Some(0) => format!(
            "The body is larger than {limit} MiB and nothing was stored; send the call records in several requests."
        ),
        Some(n) => format!(
            "The body is larger than {limit} MiB: {n} records before the limit were stored; send the rest in \
             further requests (records already stored are counted as duplicates)."
        ),
    };
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
}
