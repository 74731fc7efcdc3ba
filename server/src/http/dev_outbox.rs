//! `/dev/outbox`: the development mail outbox as a page, so invitation and reset links can be
//! followed without a mail server. Not available in production.

use axum::{
    extract::State,
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};

use crate::{config::PortalEnv, mail};

use super::{ApiError, AppState};

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Escapes a body and turns this portal's links into anchors.
fn body_html(body: &str, origin: &str) -> String {
    body.split_whitespace()
        .map(|word| {
            if word.starts_with(origin) {
                let w = escape(word);
                format!("<a href=\"{w}\">{w}</a>")
            } else {
                escape(word)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" \n", "\n")
}

/// `GET /dev/outbox`.
pub async fn list(State(state): State<AppState>) -> Response {
    let dir = match (&state.env, &state.mailer) {
        (PortalEnv::Development, mail::Mailer::Outbox { dir, .. }) => dir.clone(),
        _ => {
            return ApiError::not_found("There is no outbox: mail goes to the mail server.")
                .into_response()
        }
    };
    let messages = match mail::read_outbox(&dir).await {
        Ok(m) => m,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Development outbox</title><link rel=\"stylesheet\" href=\"/pkg/portal.css\"></head><body><main class=\"content\"><section class=\"page\"><h1>Development outbox</h1><p>Mail the portal sent while running without a mail server, newest first.</p>",
    );
    if messages.is_empty() {
        html.push_str("<p>No mail has been sent yet.</p>");
    }
    for m in &messages {
        html.push_str(&format!(
            "<article class=\"card outbox-message\"><h2>{}</h2><p>To: {}</p><pre class=\"mail-body\">{}</pre></article>",
            escape(&m.subject),
            escape(&m.to),
            body_html(&m.body, &state.public_origin)
        ));
    }
    html.push_str("</section></main></body></html>");
    // Static HTML with our stylesheet and no script.
    let csp = (
        axum::http::header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    (StatusCode::OK, [csp], Html(html)).into_response()
}

#[cfg(test)]
mod tests {
    use super::body_html;

    #[test]
    fn links_become_anchors_and_the_rest_is_escaped() {
        let html = body_html(
            "Open http://localhost:3000/invite/abc <now>",
            "http://localhost:3000",
        );
        assert!(html.contains("<a href=\"http://localhost:3000/invite/abc\">"));
        assert!(html.contains("&lt;now&gt;"));
    }
}
