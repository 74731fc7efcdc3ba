//! Request-wide middleware: the request id, and request metrics by route.

use std::{
    collections::HashMap,
    sync::{OnceLock, RwLock},
    time::Instant,
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, Method},
    middleware::Next,
    response::Response,
};

use super::AppState;

/// The header that carries the request id, in both directions.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled, if called while handling one.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Whether an incoming id (from a load balancer) is safe to keep and log.
fn acceptable_request_id(v: &str) -> bool {
    (8..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// The request id for `req`: a well-formed one from a proxy, else a new UUID.
fn request_id_for(req: &Request) -> (String, HeaderValue) {
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable_request_id(v))
        .map(str::to_string)
        .unwrap_or_else(|| {
            // Hyphenated UUID text without going through `fmt`, on every request.
            let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
            uuid::Uuid::new_v4()
                .hyphenated()
                .encode_lower(&mut buf)
                .to_string()
        });
    let header = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    (id, header)
}

/// The edge of every request, in one layer (each `from_fn` layer costs a boxed future and a
/// service clone per request, which showed in `make bench`): the request id, the CSRF rule,
/// the page guard, the security headers and the request metrics.
pub async fn edge(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let (id, id_header) = request_id_for(&req);
    req.headers_mut()
        .insert(REQUEST_ID_HEADER, id_header.clone());
    let mut response = REQUEST_ID
        .scope(id, async {
            if let Some(refusal) = declared_too_large(&state, &req) {
                return refusal;
            }
            if let Some(refusal) = super::csrf::refusal(&state, &req) {
                return refusal;
            }
            match super::security_headers::guard(&state, &mut req).await {
                Some(redirect) => redirect,
                None => next.run(req).await,
            }
        })
        .await;
    super::security_headers::apply(&state, response.headers_mut());
    response.headers_mut().insert(REQUEST_ID_HEADER, id_header);
    let route = response
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or("unmatched");
    let (counter, histogram) = request_metrics(&method, route, response.status().as_u16());
    counter.increment(1);
    histogram.record(started.elapsed().as_secs_f64());
    response
}

/// 413 at once for a body whose `Content-Length` is over `PORTAL_MAX_BODY_BYTES`, before a
/// byte of it is read (the extractors would read up to the limit first, or wait for a body
/// that never comes). Call records have their own, larger limit (`ingest.rs`).
fn declared_too_large(state: &AppState, req: &Request) -> Option<Response> {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse::<u64>()
        .ok()?;
    let limit = u64::try_from(state.config.max_body_bytes).unwrap_or(u64::MAX);
    if declared <= limit || req.uri().path().starts_with("/api/v1/ingest/") {
        return None;
    }
    Some(axum::response::IntoResponse::into_response(
        super::error::payload_too_large(),
    ))
}

/// Gives every request an id (keeping a well-formed one from a proxy), makes it available to
/// the handlers and the log, and echoes it in the response's `x-request-id`.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let (id, header) = request_id_for(&req);
    req.headers_mut().insert(REQUEST_ID_HEADER, header.clone());
    let mut response = REQUEST_ID.scope(id, next.run(req)).await;
    response.headers_mut().insert(REQUEST_ID_HEADER, header);
    response
}

/// Turns a panic in a handler into the API's `internal` error (and logs it) instead of
/// dropping the connection.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    axum::response::IntoResponse::into_response(super::ApiError::internal(anyhow::anyhow!(
        "handler panicked: {detail}"
    )))
}

/// The metric handles of one (method, status) pair, by route template. Looking handles up
/// here instead of through the `metrics!` macros avoids building label strings and hashing
/// them in the registry on every request.
type HandlesByRoute = HashMap<String, (metrics::Counter, metrics::Histogram)>;

/// The `method` label: the standard methods by name, anything else `other`, so made-up
/// methods cannot grow the metrics (or this cache) without bound. Routes are templates and
/// statuses three digits, so every label has a bounded set of values.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

fn request_metrics(
    method: &Method,
    route: &str,
    status: u16,
) -> (metrics::Counter, metrics::Histogram) {
    static CACHE: OnceLock<RwLock<HashMap<(&'static str, u16), HandlesByRoute>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let method = method_label(method);
    let key = (method, status);
    if let Ok(map) = cache.read() {
        if let Some(handles) = map.get(&key).and_then(|routes| routes.get(route)) {
            return handles.clone();
        }
    }
    let handles = (
        metrics::counter!("http_requests_total", "method" => method, "route" => route.to_string(), "status" => status.to_string()),
        metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route.to_string()),
    );
    if let Ok(mut map) = cache.write() {
        map.entry(key)
            .or_default()
            .insert(route.to_string(), handles.clone());
    }
    handles
}

/// Paths whose segment after the prefix is a secret (an emailed link's token): the request's
/// log span shows `{token}` in its place.
const TOKEN_PATHS: [&str; 4] = [
    "/invite/",
    "/reset-password/",
    "/api/v1/auth/invitations/",
    "/api/v1/auth/password-reset/",
];

/// The request path as the log may show it: without its query (which can hold codes and
/// `state`), and with the token of a token-bearing route replaced by `{token}`.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in TOKEN_PATHS {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.find('/').map_or("", |i| &rest[i..]);
            return format!("{prefix}{{token}}{tail}").into();
        }
    }
    path.into()
}

/// Runs inside routing (as a route layer) and hands the matched route template to the
/// metrics layer outside it, on the response, and to the request's log span.
pub async fn record_route(req: Request, next: Next) -> Response {
    let path = req.extensions().get::<MatchedPath>().cloned();
    if let Some(path) = &path {
        tracing::Span::current().record("route", tracing::field::display(path.as_str()));
    }
    let mut response = next.run(req).await;
    if let Some(path) = path {
        response.extensions_mut().insert(path);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::{acceptable_request_id, method_label};
    use axum::http::Method;

    #[test]
    fn tokens_in_paths_never_reach_the_log() {
        use super::loggable_path;
        assert_eq!(loggable_path("/invite/abcSECRET"), "/invite/{token}");
        assert_eq!(
            loggable_path("/api/v1/auth/invitations/abcSECRET/accept"),
            "/api/v1/auth/invitations/{token}/accept"
        );
        assert_eq!(
            loggable_path("/api/v1/auth/password-reset/abcSECRET"),
            "/api/v1/auth/password-reset/{token}"
        );
        assert_eq!(
            loggable_path("/reset-password/x"),
            "/reset-password/{token}"
        );
        assert_eq!(loggable_path("/api/v1/calls"), "/api/v1/calls");
    }

    #[test]
    fn made_up_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        for made_up in ["FOO", "X1", "PROPFIND"] {
            let m = Method::from_bytes(made_up.as_bytes()).unwrap_or(Method::GET);
            assert_eq!(method_label(&m), "other", "{made_up}");
        }
    }

    #[test]
    fn only_plain_request_ids_are_kept() {
        assert!(acceptable_request_id(
            "3f2c9a1e-7d7b-4a53-9d51-8c9f1f0b2a11"
        ));
        assert!(!acceptable_request_id("short"));
        assert!(!acceptable_request_id("has space in it"));
        assert!(!acceptable_request_id("line\nbreak-injection"));
        assert!(!acceptable_request_id(&"a".repeat(65)));
    }
}
