//! Cross-site request forgery protection for cookie-authenticated requests.
//!
//! Every POST/PUT/PATCH/DELETE under `/api/v1` and `/auth`, and to any page path (the sign-in
//! pages' form posts, `forms.rs`; sign-in included, so a forged form cannot sign a victim into
//! an attacker's account) must come from the portal's own pages: `Origin` equal to the public
//! origin, or `Sec-Fetch-Site: same-origin`. A script using an API token
//! (`Authorization: Bearer`, no cookie) is exempt: browsers never attach that header on their
//! own. Neither is a request with no credential at all (no cookie, no `Authorization`) to an API
//! route that needs one: it gets the API's 401; nor a method or path the API has no route for
//! (the OpenAPI document's table, which a test keeps equal to the router's): it gets the
//! router's 405 or 404. Only the development identity provider's
//! endpoints are left out: the portal's own server calls its token endpoint, without an
//! `Origin`.

use axum::{
    extract::Request,
    http::{header, Method, StatusCode},
    response::{IntoResponse, Response},
};

use super::{security_headers::is_page, ApiError, AppState};

/// Whether the request is one the CSRF rule applies to.
fn guarded(method: &Method, path: &str) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) && (path.starts_with("/api/v1/") || path.starts_with("/auth/") || is_page(path))
}

/// Whether the request proves it comes from a page of `public_origin`.
pub fn same_origin(headers: &axum::http::HeaderMap, public_origin: &str) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        return origin == public_origin;
    }
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "same-origin")
}

/// The refusal for a request that breaks the rule, if it does.
pub fn refusal(state: &AppState, req: &Request) -> Option<Response> {
    if !guarded(req.method(), req.uri().path()) {
        return None;
    }
    let headers = req.headers();
    let no_cookie = headers.get(header::COOKIE).is_none();
    let bearer_only = no_cookie
        && headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer "));
    // A request that carries no credential at all to an API route that needs one has nothing
    // a forged request could borrow: let it through to be answered 401 `unauthenticated`, as
    // the API's clients expect. Signing in, resets and invitations (`/api/v1/auth/…`) and
    // the pages stay guarded, since a forged sign-in needs no credential to do harm.
    let uncredentialed_api = no_cookie
        && !headers.contains_key(header::AUTHORIZATION)
        && needs_credentials(req.uri().path());
    // A method or path the API does not have is the router's to answer (405 or 404).
    let unrouted_api = req
        .uri()
        .path()
        .strip_prefix("/api/v1")
        .is_some_and(|rest| !super::openapi::routes(req.method(), rest));
    let exempt = bearer_only || uncredentialed_api || unrouted_api;
    (!exempt && !same_origin(headers, &state.public_origin)).then(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "This request did not come from the portal's own pages, so it was refused. Reload the page and try again.",
        )
        .into_response()
    })
}

/// Whether `path` is an API route that answers only to a session or an API token.
fn needs_credentials(path: &str) -> bool {
    path.strip_prefix("/api/v1/")
        .is_some_and(|rest| !rest.starts_with("auth/") && rest != "auth")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    #[test]
    fn only_api_routes_outside_sign_in_need_credentials() {
        assert!(needs_credentials("/api/v1/ingest/calls"));
        assert!(needs_credentials("/api/v1/users/invitations"));
        assert!(!needs_credentials("/api/v1/auth/login"));
        assert!(!needs_credentials("/api/v1/auth/invitations/x/accept"));
        assert!(!needs_credentials("/auth/microsoft/callback"));
        assert!(!needs_credentials("/login"));
    }

    #[test]
    fn only_mutations_of_the_api_the_flows_and_the_pages_are_guarded() {
        assert!(guarded(&Method::POST, "/api/v1/auth/login"));
        assert!(guarded(&Method::DELETE, "/api/v1/me/sessions/x"));
        assert!(guarded(&Method::POST, "/auth/microsoft/callback"));
        assert!(!guarded(&Method::GET, "/api/v1/me"));
        // The sign-in pages' form posts, and any other post to a page path.
        for page in [
            "/login",
            "/login/mfa",
            "/login/forgot",
            "/reset-password/abc",
            "/invite/abc",
            "/security",
        ] {
            assert!(guarded(&Method::POST, page), "{page}");
            assert!(!guarded(&Method::GET, page), "{page}");
        }
        assert!(!guarded(&Method::POST, "/dev-idp/token"));
    }

    #[test]
    fn origin_or_fetch_metadata_must_say_same_origin() {
        let mut h = HeaderMap::new();
        assert!(!same_origin(&h, "https://portal.example.com"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        // A present but foreign Origin wins over the fetch metadata.
        assert!(!same_origin(&h, "https://portal.example.com"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://portal.example.com"),
        );
        assert!(same_origin(&h, "https://portal.example.com"));
        let mut h = HeaderMap::new();
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(same_origin(&h, "https://portal.example.com"));
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h, "https://portal.example.com"));
    }
}
