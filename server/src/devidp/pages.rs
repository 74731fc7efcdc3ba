//! What the emulator answers with: its HTML pages (layout, escaping, stylesheet, their own
//! Content-Security-Policy), redirects back to the client, and Entra-shaped JSON errors.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use super::{keys, DevIdp, Params};

/// The application the pages name: the emulator serves one client, the portal.
pub(super) const APP_NAME: &str = "Voice Customer Portal";

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Hidden inputs that carry `params` through a form.
pub(super) fn hidden_inputs(params: &Params) -> String {
    params
        .0
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(name),
                escape(value)
            )
        })
        .collect()
}

/// A complete page around `main` (trusted HTML), with the development banner, the emulator's
/// stylesheet and headers.
pub(super) fn page(idp: &DevIdp, status: StatusCode, title: &str, main: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\">\
         <title>{title} · Development Entra ID emulator</title>\
         <link rel=\"stylesheet\" href=\"{css}\"></head>\n<body>\
         <div class=\"banner\" role=\"note\"><strong>Development Entra ID emulator: no password \
         needed.</strong> This is not Microsoft: any account can be used here, for local \
         development and tests only.</div>\n\
         <main class=\"card\"><p class=\"brand\">Microsoft Entra ID \
         <span class=\"tag\">emulator</span></p>\n{main}</main></body></html>\n",
        title = escape(title),
        css = escape(&format!("{}/style.css", idp.0.base_path)),
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CONTENT_SECURITY_POLICY, idp.0.page_csp.clone());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Entra's error page: for requests whose client or redirect URI cannot be trusted with a
/// redirect.
pub(super) fn error_page(idp: &DevIdp, status: StatusCode, code: u32, message: &str) -> Response {
    let main = format!(
        "<h1>Sorry, but we’re having trouble signing you in.</h1>\
         <p class=\"error\" role=\"alert\">AADSTS{code}: {}</p>\
         <p class=\"hint\">The emulator cannot trust where this request asks to return to, \
         so it does not send you back.</p>",
        escape(message)
    );
    page(idp, status, "Sign-in error", &main)
}

/// A 302 to a registered `redirect_uri` with `pairs` appended to its query (pairs with an
/// empty value are left out, like an absent `state`).
pub(super) fn redirect_to_client(
    idp: &DevIdp,
    redirect_uri: &str,
    pairs: &[(&str, &str)],
) -> Response {
    let Ok(mut location) = url::Url::parse(redirect_uri) else {
        // Registered URIs were parsed in DevIdp::new, so this is unreachable in practice.
        return error_page(
            idp,
            StatusCode::INTERNAL_SERVER_ERROR,
            50011,
            "The redirect URI is not a URL.",
        );
    };
    {
        let mut query = location.query_pairs_mut();
        for (name, value) in pairs.iter().filter(|(_, value)| !value.is_empty()) {
            query.append_pair(name, value);
        }
    }
    found(location.as_str())
}

/// The redirect of a user who cancelled: Entra's `access_denied` (no code, no tenant).
pub(super) fn declined(idp: &DevIdp, redirect_uri: &str, state: &str) -> Response {
    redirect_to_client(
        idp,
        redirect_uri,
        &[
            ("error", "access_denied"),
            ("error_subcode", "cancel"),
            (
                "error_description",
                "AADSTS65004: User declined to consent to access the app.",
            ),
            ("state", state),
        ],
    )
}

/// A bare 302 Found (Entra answers with 302, not axum's 303).
pub(super) fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// An Entra-shaped JSON error: `error`, `error_description` beginning with the AADSTS code,
/// `error_codes` and the tracing fields Entra adds.
pub(super) fn json_error(status: StatusCode, error: &str, code: u32, message: &str) -> Response {
    let timestamp = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let body = json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {message}"),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": uuid::Uuid::new_v4().to_string(),
        "correlation_id": uuid::Uuid::new_v4().to_string(),
    });
    json_response(status, &body)
}

/// A JSON response that no cache keeps.
pub(super) fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(body),
    )
        .into_response()
}

/// A value for `session_state` and similar opaque identifiers.
pub(super) fn opaque_id() -> String {
    keys::random_string(16)
}

/// `GET /style.css`.
pub(super) async fn stylesheet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// The pages' stylesheet: the portal's look (system font, its blue, light and dark themes),
/// self-contained because the emulator is also served without the portal.
const STYLESHEET: &str = r#"/* Development Entra ID emulator */
:root {
  color-scheme: light dark;
  --bg: #f5f7fa; --surface: #ffffff; --surface-2: #eef1f5; --text: #17202b; --muted: #4f5b69;
  --border: #d5dbe3; --border-strong: #6b7684; --primary: #0b57d0; --primary-text: #ffffff;
  --primary-hover: #0842a0; --focus: #0b57d0; --bad-bg: #fde7e7; --bad-text: #a3161a;
  --warn-bg: #fff3d6; --warn-text: #7a4d00; --radius: 8px;
  --shadow: 0 1px 2px rgb(16 24 40 / 0.06), 0 1px 3px rgb(16 24 40 / 0.1);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f141a; --surface: #171e27; --surface-2: #1f2833; --text: #e7ecf2; --muted: #a9b4c2;
    --border: #2e3946; --border-strong: #7d8a9a; --primary: #8ab4f8; --primary-text: #0b1a33;
    --primary-hover: #aecbfa; --focus: #8ab4f8; --bad-bg: #3b1517; --bad-text: #ffb3b0;
    --warn-bg: #3a2c0c; --warn-text: #ffd88a; --shadow: none;
  }
}
*, *::before, *::after { box-sizing: border-box; }
body {
  margin: 0; min-height: 100vh; background: var(--bg); color: var(--text);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 1rem; line-height: 1.5;
}
.banner {
  padding: 0.75rem 1rem; text-align: center; background: var(--warn-bg); color: var(--warn-text);
  border-bottom: 1px solid var(--border);
}
.card {
  max-width: 32rem; margin: 2rem auto; padding: 2rem; background: var(--surface);
  border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow);
}
@media (max-width: 34rem) { .card { margin: 0; border-radius: 0; border-inline: 0; padding: 1.5rem 1rem; } }
.brand { margin: 0 0 1.25rem; font-weight: 600; color: var(--muted); }
.tag {
  display: inline-block; margin-left: 0.25rem; padding: 0 0.5rem; border-radius: 999px;
  background: var(--warn-bg); color: var(--warn-text); font-size: 0.75rem; font-weight: 600;
  text-transform: uppercase; letter-spacing: 0.04em; vertical-align: middle;
}
h1 { margin: 0 0 0.25rem; font-size: 1.5rem; line-height: 1.25; }
.lead { margin: 0 0 1.25rem; color: var(--muted); }
.error { margin: 1rem 0; padding: 0.75rem 1rem; border-radius: var(--radius); background: var(--bad-bg); color: var(--bad-text); }
.hint { color: var(--muted); font-size: 0.875rem; }
.group {
  margin: 1.25rem 0 0.5rem; font-size: 0.8125rem; font-weight: 600; color: var(--muted);
  text-transform: uppercase; letter-spacing: 0.04em;
}
.accounts { list-style: none; margin: 0; padding: 0; display: grid; gap: 0.5rem; }
.account {
  display: flex; align-items: center; gap: 0.75rem; width: 100%; min-height: 3.5rem;
  padding: 0.75rem 1rem; border: 1px solid var(--border); border-radius: var(--radius);
  background: var(--surface); color: inherit; font: inherit; text-align: left; cursor: pointer;
}
.account:hover { background: var(--surface-2); border-color: var(--border-strong); }
.avatar {
  flex: none; display: grid; place-items: center; width: 2.5rem; height: 2.5rem; border-radius: 50%;
  background: var(--primary); color: var(--primary-text); font-weight: 600; font-size: 0.875rem;
}
.who { display: flex; flex-direction: column; min-width: 0; }
.name { font-weight: 600; }
.email { color: var(--muted); font-size: 0.875rem; overflow-wrap: anywhere; }
.badge {
  margin-left: auto; padding: 0 0.5rem; border-radius: 999px; border: 1px solid var(--border-strong);
  color: var(--muted); font-size: 0.75rem; font-weight: 600;
}
button, summary, input { font: inherit; }
button:focus-visible, summary:focus-visible, input:focus-visible, .choice:focus-within {
  outline: 3px solid var(--focus); outline-offset: 2px;
}
.primary, .secondary {
  min-height: 2.75rem; min-width: 6rem; padding: 0.625rem 1.25rem; border-radius: var(--radius);
  font-weight: 600; cursor: pointer;
}
.primary { border: 1px solid var(--primary); background: var(--primary); color: var(--primary-text); }
.primary:hover { background: var(--primary-hover); border-color: var(--primary-hover); }
.secondary { border: 1px solid var(--border-strong); background: transparent; color: var(--text); }
.secondary:hover { background: var(--surface-2); }
.actions { display: flex; flex-wrap: wrap; gap: 0.75rem; justify-content: flex-end; margin-top: 1.5rem; }
details { margin-top: 1.5rem; padding-top: 1rem; border-top: 1px solid var(--border); }
summary { cursor: pointer; color: var(--primary); font-weight: 600; padding: 0.25rem 0; }
label { display: block; margin: 0.75rem 0 0.25rem; font-weight: 600; }
input[type="text"], input[type="email"] {
  width: 100%; min-height: 2.75rem; padding: 0.5rem 0.75rem; border: 1px solid var(--border-strong);
  border-radius: var(--radius); background: var(--surface); color: var(--text);
}
input[readonly] { background: var(--surface-2); }
fieldset { margin: 1.25rem 0 0; padding: 0; border: 0; }
legend { padding: 0; font-weight: 600; }
.choice {
  display: flex; align-items: center; gap: 0.75rem; margin: 0.5rem 0 0; padding: 0.75rem 1rem;
  border: 1px solid var(--border); border-radius: var(--radius); font-weight: 400; cursor: pointer;
}
.choice input { width: 1.25rem; height: 1.25rem; margin: 0; accent-color: var(--primary); }
.scopes { margin: 0.5rem 0 0; padding-left: 1.25rem; }
.scopes li { margin: 0.25rem 0; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.875em; overflow-wrap: anywhere; }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x" + 'y')</script> & co"#),
            "&lt;script&gt;alert(&quot;x&quot; + &#39;y&#39;)&lt;/script&gt; &amp; co"
        );
        assert_eq!(escape("Adele Vance"), "Adele Vance");
        assert_eq!(escape("&amp;"), "&amp;amp;");
    }

    #[test]
    fn hidden_inputs_escape_names_and_values() {
        let params = Params(vec![("st\"ate".to_owned(), "a\"><b>".to_owned())]);
        assert_eq!(
            hidden_inputs(&params),
            "<input type=\"hidden\" name=\"st&quot;ate\" value=\"a&quot;&gt;&lt;b&gt;\">"
        );
    }
}
