//! Security headers on every response, the Content-Security-Policy of pages (with the
//! per-response nonce Leptos puts on its hydration script), and the sign-in guard of pages.

use axum::{
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use leptos::prelude::use_context;

use crate::auth::session::{self, states, Authenticated};

use super::{ApiError, AppState};

/// The policy for pages: scripts only from us or with this response's nonce, wasm allowed to
/// compile, nothing inline otherwise, no framing.
pub fn page_csp(nonce: &str, live_reload_port: Option<u32>) -> String {
    let reload = live_reload_port
        .map(|p| format!(" ws://127.0.0.1:{p} ws://localhost:{p}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'{reload}; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The policy for everything that is not a page (JSON, files): nothing may run or frame it.
const NON_PAGE_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Runs inside Leptos' rendering of each page: sets the page's CSP with the nonce Leptos
/// generated for this response.
pub fn provide_page_csp() {
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        let reload_port = std::env::var("LEPTOS_WATCH")
            .ok()
            .and_then(|_| std::env::var("LEPTOS_RELOAD_PORT").ok())
            .and_then(|p| p.parse().ok());
        if let Ok(value) = HeaderValue::from_str(&page_csp(&nonce, reload_port)) {
            response.insert_header(header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

/// Adds the headers every response carries.
pub fn apply(state: &AppState, h: &mut axum::http::HeaderMap) {
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(NON_PAGE_CSP),
        );
    }
    if state.config.public_url.scheme() == "https" {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
}

/// Pages anyone may open; every other page needs a signed-in session.
fn is_public_page(path: &str) -> bool {
    path == "/login"
        || path.starts_with("/login/")
        || path.starts_with("/invite/")
        || path.starts_with("/reset-password/")
}

/// Whether `path` is a page's (or an unknown path, which the app's 404 page answers): not the
/// API, the flows, the files or the operational endpoints.
pub fn is_page(path: &str) -> bool {
    !(path.starts_with("/api/")
        || path.starts_with("/auth/")
        || path.starts_with("/dev-idp")
        || path.starts_with("/dev/")
        || path.starts_with("/pkg/")
        || matches!(path, "/healthz" | "/readyz" | "/metrics" | "/favicon.svg"))
}

fn redirect_with_return_to(target: &str, path_and_query: &str, extra: &str) -> Response {
    let return_to: String =
        url::form_urlencoded::byte_serialize(path_and_query.as_bytes()).collect();
    Redirect::to(&format!("{target}?{extra}return_to={return_to}")).into_response()
}

/// Sends a visitor of a portal page who is not signed in to `/login?return_to=…`, one waiting
/// for a code to `/login/mfa`, and one who must enrol an authenticator to `/security`: the
/// redirect, or `None` to let the request through (with its session in the extensions).
pub async fn guard(state: &AppState, req: &mut Request) -> Option<Response> {
    let path = req.uri().path();
    if req.method() != axum::http::Method::GET || !is_page(path) || is_public_page(path) {
        return None;
    }
    let path = path.to_string();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| "/".to_string());
    let found = match session::resolve(&state.auth(), req.headers()).await {
        Ok(found) => found,
        Err(e) => return Some(unavailable_page(&ApiError::from(e), &path_and_query)),
    };
    match found {
        Some(a) if a.session.state == states::FULL => {
            req.extensions_mut().insert::<Authenticated>(a);
            None
        }
        Some(a) if a.session.state == states::MFA_ENROLMENT => {
            if path == "/security" {
                req.extensions_mut().insert::<Authenticated>(a);
                None
            } else {
                Some(redirect_with_return_to(
                    "/security",
                    &path_and_query,
                    "enrol=required&",
                ))
            }
        }
        Some(_) => Some(redirect_with_return_to("/login/mfa", &path_and_query, "")),
        None => {
            let mut r = redirect_with_return_to("/login", &path_and_query, "");
            if req.headers().contains_key(header::COOKIE) {
                r.headers_mut()
                    .append(header::SET_COOKIE, session::clear_session_cookie());
            }
            *r.status_mut() = StatusCode::SEE_OTHER;
            Some(r)
        }
    }
}

/// The page a browser gets when its session could not be looked up (the database is down or
/// full, or a bug): the error's status, message and `Retry-After`, and a link to try again.
fn unavailable_page(e: &ApiError, path_and_query: &str) -> Response {
    e.log_internal();
    let title = match e.status() {
        StatusCode::SERVICE_UNAVAILABLE => "The portal is unavailable for a moment",
        _ => "The page could not be shown",
    };
    let mut page =
        super::microsoft::pages::flow_page(e.status(), title, e.message(), path_and_query);
    if let Some(v) = e
        .retry_after_secs()
        .and_then(|secs| HeaderValue::from_str(&secs.to_string()).ok())
    {
        page.headers_mut().insert(header::RETRY_AFTER, v);
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_allows_only_nonced_scripts_and_wasm() {
        let csp = page_csp("abc123", None);
        assert!(csp.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(page_csp("n", Some(3001)).contains("ws://127.0.0.1:3001"));
    }

    #[test]
    fn which_paths_are_guarded_pages() {
        assert!(is_page("/") && !is_public_page("/"));
        assert!(is_page("/security") && !is_public_page("/security"));
        assert!(is_public_page("/login") && is_public_page("/login/mfa"));
        assert!(!is_public_page("/loginx"));
        assert!(!is_page("/api/v1/me") && !is_page("/pkg/portal.js") && !is_page("/healthz"));
    }
}
