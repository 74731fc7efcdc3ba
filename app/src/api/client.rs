//! The typed HTTP client the pages use (gloo-net, so it runs in the browser).
//!
//! Requests are same-origin, so the session cookie travels with them and the browser adds
//! the `Origin`/`Sec-Fetch-Site` headers the server's CSRF check relies on.

use gloo_net::http::{Request, Response};
use serde::{de::DeserializeOwned, Serialize};

use super::ApiError;

/// The base path of the JSON API.
pub const API_BASE: &str = "/api/v1";

/// API paths that are not about one organisation: they never get `?org=`.
const UNSCOPED_PREFIXES: &[&str] = &[
    "/auth/",
    "/me",
    "/provider",
    "/status",
    "/openapi",
    "/invitations/",
    "/password-reset",
];

/// `path` with `org=SLUG` added when `org` is chosen and the route is organisation-scoped.
pub fn with_org(path: &str, org: Option<&str>) -> String {
    let unscoped = UNSCOPED_PREFIXES
        .iter()
        .any(|prefix| path.starts_with(prefix));
    let already = path
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|pair| pair.starts_with("org=")));
    match org {
        Some(slug) if !slug.is_empty() && !unscoped && !already => {
            let separator = if path.contains('?') { '&' } else { '?' };
            format!("{path}{separator}org={}", percent_encode(slug))
        }
        _ => path.to_string(),
    }
}

/// The full URL of the API route `path`, with the staff's chosen customer; also for links
/// the browser follows itself (CSV downloads).
pub fn api_url(path: &str) -> String {
    format!(
        "{API_BASE}{}",
        with_org(path, super::org::selected_org().as_deref())
    )
}

/// `GET {API_BASE}{path}` and decode the JSON answer. A read the route's data half started
/// ([`super::prefetch`]) is used instead of a new one.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let url = api_url(path);
    if let Some(answer) = super::prefetch::take(&url).await {
        let (status, text) = answer?;
        return decode_text(status, &text);
    }
    let response = Request::get(&url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    decode(response).await
}

/// Sends `body` as JSON with `method` to `{API_BASE}{path}` and decodes the JSON answer.
/// An answer of 401 `step_up_required` (a dangerous action, `auth::step_up` on the server)
/// opens the step-up dialog; once the person has confirmed it's them, the request is sent
/// again, once.
pub async fn send_json<B: Serialize, T: DeserializeOwned>(
    method: gloo_net::http::Method,
    path: &str,
    body: &B,
) -> Result<T, ApiError> {
    match send_json_once(method.clone(), path, body).await {
        Err(e)
            if e.code() == Some("step_up_required")
                && super::step_up::confirm(e.field().unwrap_or("password")).await =>
        {
            send_json_once(method, path, body).await
        }
        answer => answer,
    }
}

async fn send_json_once<B: Serialize, T: DeserializeOwned>(
    method: gloo_net::http::Method,
    path: &str,
    body: &B,
) -> Result<T, ApiError> {
    let response = gloo_net::http::RequestBuilder::new(&api_url(path))
        .method(method)
        .header("Accept", "application/json")
        .json(body)
        .map_err(|e| ApiError::Network(e.to_string()))?
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    decode(response).await
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    decode_text(status, &text)
}

fn decode_text<T: DeserializeOwned>(status: u16, text: &str) -> Result<T, ApiError> {
    if (200..300).contains(&status) {
        serde_json::from_str(text).map_err(|_| ApiError::UnexpectedResponse { status })
    } else {
        Err(ApiError::from_response(status, text))
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for a path segment or a
/// query value).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_requests_name_the_chosen_customer() {
        assert_eq!(
            with_org("/services", Some("contoso")),
            "/services?org=contoso"
        );
        assert_eq!(
            with_org("/calls?limit=50", Some("contoso")),
            "/calls?limit=50&org=contoso"
        );
    }

    #[test]
    fn nothing_is_added_without_a_choice_or_outside_organisation_routes() {
        assert_eq!(with_org("/services", None), "/services");
        assert_eq!(with_org("/services", Some("")), "/services");
        for path in [
            "/me",
            "/me/sessions",
            "/auth/logout",
            "/provider/organisations",
        ] {
            assert_eq!(with_org(path, Some("contoso")), path);
        }
        // A page that names the organisation itself keeps its own.
        assert_eq!(
            with_org("/users?org=fabrikam", Some("contoso")),
            "/users?org=fabrikam"
        );
    }
}
