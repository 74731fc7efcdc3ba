//! Cross-site request forgery protection for cookie-authenticated requests.
//!
//! Every POST/PUT/PATCH/DELETE under `/api/v1` and `/auth`, and to any page path (the sign-in
//! pages' form posts, `forms.rs`; sign-in included, so a forged form cannot sign a victim into
//! an attacker's account) must come from the portal's own pages: `Origin` equal to the public
//! origin, or `Sec-Fetch-Site: same-origin`. A script using an API token
//! (`Authorization: Bearer`, no cookie) is exempt: browsers never attach that header on their
//! own. Only the development identity provider's endpoints are left out: the portal's own
//! server calls its token endpoint, without an `Origin`.

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
    let bearer_only = headers.get(header::COOKIE).is_none()
        && headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer "));
    (!bearer_only && !same_origin(headers, &state.public_origin)).then(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "This request did not come from the portal's own pages, so it was refused. Reload the page and try again.",
        )
        .into_response()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

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
