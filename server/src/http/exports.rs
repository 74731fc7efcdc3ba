//! CSV exports of the organisation's data, streamed: `GET /api/v1/numbers/export.csv` and
//! `GET /api/v1/calls/export.csv`. Any role may read, and API tokens of the `read` and
//! `read_write` scopes; an `ingest` token reads nothing (403).
//!
//! Each export takes the filters of its list endpoint, parsed by that endpoint's own code, so a
//! bad filter answers the same 422 before a byte of CSV is sent (`limit` is ignored: an export
//! holds every matching row). The rows are read in keyset chunks of [`CHUNK`], each a query of
//! its own, so memory stays flat whatever the row count and no database connection is held
//! for the whole export. The numbers export writes a chunk before reading the next; the calls
//! export (millions of rows) reads the next chunk while it writes one.
//!
//! The calls export writes exactly the DESIGN exchange-format columns (the service by name,
//! timestamps RFC 3339 UTC), newest first like the list, so `portal calls import` of an export
//! finds every row a duplicate.

use std::{borrow::Cow, collections::HashMap, future::Future, sync::Arc};

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use tokio::task::JoinHandle;

use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::calls::CallsQuery;

use crate::http::openapi::errors::{InvalidExportQuery, OrgRead};
use crate::http::openapi::params::ActingFor;
use crate::{
    clock::{rfc3339_ms, write_rfc3339_ms},
    db::{
        self,
        calls::{CallFilter, CallKey, ExportedCall},
        Db,
    },
    voice::cdr::{spreadsheet_safe, HEADER as CDR_HEADER},
};

use super::caller::{Caller, Role};
use super::{
    calls,
    error::ApiQuery,
    numbers::{self, ListQuery},
    ApiResult, AppState,
};

/// Routes under `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_numbers))
        .routes(routes!(export_calls))
}

/// Rows read (and written out) at a time: each chunk is one query that seeks to the previous
/// chunk's last row, and no connection is held between chunks.
const CHUNK: i64 = 5000;

const NUMBERS_HEADER: [&str; 12] = [
    "e164",
    "number_type",
    "country",
    "status",
    "service_id",
    "service",
    "assignment",
    "emergency_calling",
    "emergency_address_id",
    "emergency_address",
    "created_at",
    "updated_at",
];

/// Where the stream stands.
enum Step<K> {
    /// The header is next; then the rows after the key.
    Header(Option<K>),
    /// The rows after the key (from the first one when `None`).
    Rows(Option<K>),
    Done,
}

/// A chunk of CSV and the key of its last row, `None` once the last chunk was read.
type Chunk<K> = (Vec<u8>, Option<K>);

/// CSV lines for `records`, quoted as RFC 4180 wants.
fn csv_lines<I, R>(records: I) -> Result<Vec<u8>, csv::Error>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator,
    R::Item: AsRef<[u8]>,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in records {
        w.write_record(r)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// A response body that writes `header`, then asks `fetch` for chunk after chunk until it
/// reports the last one. An error mid-stream is logged and ends the body abruptly, so the
/// client sees a failed download rather than a short file that looks complete.
fn csv_body<K, F, Fut>(header: &'static [&'static str], fetch: F) -> Body
where
    K: Send + 'static,
    F: Fn(Option<K>) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<Chunk<K>>> + Send + 'static,
{
    let stream = futures_util::stream::unfold(
        (fetch, Step::Header(None)),
        move |(fetch, step)| async move {
            let (result, next) = match step {
                Step::Done => return None,
                Step::Header(after) => match csv_lines([header]) {
                    Ok(bytes) => (Ok(bytes), Step::Rows(after)),
                    Err(e) => (Err(anyhow::Error::from(e)), Step::Done),
                },
                Step::Rows(after) => match fetch(after).await {
                    Ok((bytes, Some(last))) => (Ok(bytes), Step::Rows(Some(last))),
                    Ok((bytes, None)) => (Ok(bytes), Step::Done),
                    Err(e) => (Err(e), Step::Done),
                },
            };
            Some((body_item(result), (fetch, next)))
        },
    );
    Body::from_stream(stream)
}

/// A piece of a CSV body: the bytes, or the failure logged and turned into the error that
/// ends the body abruptly.
fn body_item(result: anyhow::Result<Vec<u8>>) -> std::io::Result<Bytes> {
    result.map(Bytes::from).map_err(|e| {
        tracing::error!(error = ?e, "CSV export failed mid-stream");
        std::io::Error::other("the export failed; see the server log")
    })
}

/// The streamed answer with its CSV headers.
fn csv_response(name: &str, now_ms: i64, body: Body) -> Response {
    let day = rfc3339_ms(now_ms).get(..10).unwrap_or("export").to_string();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}-{day}.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

/// A customer-written text cell, made safe for spreadsheets.
fn safe(text: String) -> String {
    match spreadsheet_safe(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(neutralised) => neutralised,
    }
}

/// `GET /api/v1/numbers/export.csv`: the numbers of `GET /numbers` with the same filters, by
/// E.164. The free-text cells (service name, assignment, address label) are written so a
/// spreadsheet cannot run them as formulas.
#[utoipa::path(
    get,
    path = "/numbers/export.csv",
    tag = "numbers",
    operation_id = "export_numbers_csv",
    summary = "Export numbers as CSV",
    params(ListQuery, ActingFor),
    responses(
        (status = 200, description = "Every number matching the filters of `GET /numbers` (`limit` ignored), as CSV with a header line", content_type = "text/csv", body = String),
        OrgRead,
        InvalidExportQuery,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn export_numbers(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Response> {
    caller.require(Role::Viewer)?;
    let filter = Arc::new(numbers::filters(&query)?);
    let db = state.db.clone();
    let org_id = caller.org_id.clone();
    let fetch = move |after: Option<String>| {
        let (db, org_id, filter) = (db.clone(), org_id.clone(), filter.clone());
        async move {
            let rows =
                crate::db::numbers::list(db.pool(), &org_id, &filter, after.as_deref(), CHUNK)
                    .await?;
            let full = rows.len() as i64 == CHUNK;
            let records: Vec<[String; 12]> = rows
                .into_iter()
                .map(|row| {
                    let n = numbers::number_info(row);
                    [
                        n.e164,
                        n.number_type,
                        n.country,
                        n.status,
                        n.service_id.unwrap_or_default(),
                        safe(n.service_name.unwrap_or_default()),
                        safe(n.assignment.unwrap_or_default()),
                        n.emergency_calling.to_string(),
                        n.emergency_address_id.unwrap_or_default(),
                        safe(n.emergency_address_label.unwrap_or_default()),
                        n.created_at,
                        n.updated_at,
                    ]
                })
                .collect();
            let last = full.then(|| records.last().map(|r| r[0].clone())).flatten();
            anyhow::Ok((csv_lines(records)?, last))
        }
    };
    Ok(csv_response(
        "numbers",
        state.clock.now_ms(),
        csv_body(&NUMBERS_HEADER, fetch),
    ))
}

/// `GET /api/v1/calls/export.csv`: the calls of `GET /calls` with the same filters and range,
/// newest first by (start, id), in the CDR exchange format.
#[utoipa::path(
    get,
    path = "/calls/export.csv",
    tag = "calls",
    operation_id = "export_calls_csv",
    summary = "Export calls as CSV (the CDR exchange format)",
    params(CallsQuery, ActingFor),
    responses(
        (status = 200, description = "Every call matching the filters and range of `GET /calls` (`limit` ignored), newest first, in the CDR exchange format", content_type = "text/csv", body = String),
        OrgRead,
        InvalidExportQuery,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn export_calls(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<CallsQuery>,
) -> ApiResult<Response> {
    caller.require(Role::Viewer)?;
    let now = state.clock.now_ms();
    // The page size is not an export's: it holds every matching call.
    let calls::CallsRequest { filter, after, .. } = calls::parse(&q, now)?;
    let names = db::services::names_by_id(state.db.pool(), &caller.org_id).await?;
    let export = CallsExport {
        db: state.db.clone(),
        org_id: caller.org_id.clone(),
        filter: Arc::new(filter),
        names,
    };
    Ok(csv_response("calls", now, export.body(after)))
}

/// One calls export. Each chunk comes back from the database as a single JSON text
/// ([`db::calls::export_chunk`]). The chunks are read one ahead, so the database builds chunk
/// n + 1 while chunk n is written out as CSV; memory holds at most two chunks.
struct CallsExport {
    db: Db,
    org_id: String,
    filter: Arc<CallFilter>,
    /// Every service name of the organisation, by id: the export writes each call's service by
    /// name, and looking it up here spares the database a join per row.
    names: HashMap<String, String>,
}

impl CallsExport {
    /// Starts reading the chunk after the call `after` (from the first call when `None`) on
    /// its own task.
    fn read(&self, after: Option<CallKey>) -> Pending {
        let (db, org_id, filter) = (self.db.clone(), self.org_id.clone(), self.filter.clone());
        Pending(tokio::spawn(async move {
            db::calls::export_chunk(
                db.pool(),
                db.backend(),
                &org_id,
                &filter,
                after.as_ref(),
                CHUNK,
            )
            .await
        }))
    }

    /// The CDR header, then chunk after chunk (from the first call after `after`, the request's
    /// cursor) until one comes back short. An error mid-stream is logged and ends the body
    /// abruptly, as [`csv_body`] does.
    fn body(self, after: Option<CallKey>) -> Body {
        let first = self.read(after);
        let header = csv_lines([CDR_HEADER]).map_err(anyhow::Error::from);
        let stream = futures_util::stream::unfold(
            (self, Some(header), Some(first)),
            |(mut export, header, pending)| async move {
                let (result, pending) = match (header, pending) {
                    (Some(header), pending) => (header, pending),
                    (None, Some(pending)) => match export.step(pending).await {
                        Ok((bytes, next)) => (Ok(bytes), next),
                        Err(e) => (Err(e), None),
                    },
                    (None, None) => return None,
                };
                Some((body_item(result), (export, None, pending)))
            },
        );
        Body::from_stream(stream)
    }

    /// Waits for a chunk, starts reading the next one (unless this one was the last), and
    /// writes this one out.
    async fn step(&mut self, pending: Pending) -> anyhow::Result<(Vec<u8>, Option<Pending>)> {
        let json = pending.finish().await?;
        let calls: Vec<ExportedCall<'_>> = serde_json::from_str(&json)?;
        let next = match calls.last() {
            Some(last) if calls.len() as i64 == CHUNK => Some(self.read(Some(last.key()))),
            _ => None,
        };
        // A service added after the export started (and its calls ingested meanwhile).
        if calls
            .iter()
            .any(|c| !self.names.contains_key(c.service_id.as_ref()))
        {
            self.names = db::services::names_by_id(self.db.pool(), &self.org_id).await?;
        }
        Ok((self.write(&calls)?, next))
    }

    /// `calls` in the CDR exchange format.
    fn write(&self, calls: &[ExportedCall<'_>]) -> anyhow::Result<Vec<u8>> {
        use std::fmt::Write as _;
        let mut w = csv::Writer::from_writer(Vec::with_capacity(calls.len() * 200));
        let mut text = String::new();
        let mut time = Vec::with_capacity(24);
        for c in calls {
            let service = self.names.get(c.service_id.as_ref()).ok_or_else(|| {
                anyhow::anyhow!(
                    "call of service {}, which is not the organisation's",
                    c.service_id
                )
            })?;
            // The free-text fields are the customer's own words: written so a spreadsheet
            // cannot run them, in the form `portal calls import` reads back.
            w.write_field(spreadsheet_safe(&c.id).as_bytes())?;
            w.write_field(spreadsheet_safe(service).as_bytes())?;
            for ms in [Some(c.started_at), c.answered_at, Some(c.ended_at)] {
                time.clear();
                if let Some(ms) = ms {
                    write_rfc3339_ms(&mut time, ms);
                }
                w.write_field(&time)?;
            }
            w.write_field(c.direction.as_bytes())?;
            w.write_field(c.from.as_bytes())?;
            w.write_field(c.to.as_bytes())?;
            w.write_field(c.result.as_bytes())?;
            text.clear();
            write!(text, "{}", c.sip_code)?;
            w.write_field(&text)?;
            w.write_field(spreadsheet_safe(&c.sip_reason).as_bytes())?;
            for v in [c.mos, c.jitter_ms, c.packet_loss_pct] {
                text.clear();
                if let Some(v) = v {
                    write!(text, "{v}")?;
                }
                w.write_field(&text)?;
            }
            w.write_field(c.country.as_bytes())?;
            w.write_record(None::<&[u8]>)?;
        }
        w.into_inner()
            .map_err(|e| anyhow::Error::from(csv::Error::from(e.into_error())))
    }
}

/// A chunk being read on its own task, which is stopped when the export is dropped (the
/// client went away) instead of finishing a read nobody will write out.
struct Pending(JoinHandle<Result<String, db::QueryError>>);

impl Pending {
    async fn finish(mut self) -> anyhow::Result<String> {
        Ok((&mut self.0).await??)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_quote_what_needs_quoting() {
        let bytes = csv_lines([["a,b", "say \"hi\"", "plain", ""]]).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            "\"a,b\",\"say \"\"hi\"\"\",plain,\n"
        );
    }
}
