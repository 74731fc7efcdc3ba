//! The answers of the browser flows: redirects with `?error=CODE` to the page a flow started
//! from, the transaction cookie, and the small self-contained pages for what is not a
//! redirect (the identity provider down: 502; too many attempts: 429; busy: 503; not
//! configured: 503).

use axum::{
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Response},
};

use app::return_to::encode_query_value;

use super::{purpose, Outcome, MAX_LIVE_TRANSACTIONS, OIDC_COOKIE};

pub(super) fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// 303 to `location`, with extra headers (cookies).
pub(super) fn see_other(location: &str, mut headers: HeaderMap) -> Response {
    if let Ok(v) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, v);
    }
    no_store((StatusCode::SEE_OTHER, headers).into_response())
}

pub(super) fn txn_cookie(token: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{OIDC_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={}",
        max_age.max(0)
    ))
    .unwrap_or_else(|_| clear_txn_cookie())
}

pub(super) fn clear_txn_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-portal_oidc=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0",
    )
}

/// The page a flow of `purpose` returns to with `?error=code`.
pub(super) fn error_location(purpose: &str, code: &str, return_to: &str) -> String {
    match purpose {
        purpose::LINK => format!("/security?error={code}"),
        purpose::INVITATION => format!("/login?error={code}"),
        purpose::CONSENT | purpose::CONSENT_PROOF => format!("/sso?error={code}"),
        _ if return_to != "/" => format!(
            "/login?error={code}&return_to={}",
            encode_query_value(return_to)
        ),
        _ => format!("/login?error={code}"),
    }
}

pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A small self-contained portal page for outcomes that are not a redirect (the identity
/// provider is down: 502; single sign-on is not configured: 503).
pub(crate) fn flow_page(status: StatusCode, title: &str, message: &str, again: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · {product}</title><link rel=\"stylesheet\" href=\"/pkg/portal.css\"></head>\
         <body><main class=\"auth-layout\"><section class=\"auth-card page\">\
         <p class=\"brand\">{product}</p><h1>{title}</h1>\
         <p class=\"alert error\" role=\"alert\">{message}</p>\
         <p><a class=\"button primary\" href=\"{again}\">Try again</a> <a href=\"/login\">Back to sign-in</a></p>\
         </section></main></body></html>",
        title = escape(title),
        product = escape(app::product::PRODUCT_NAME),
        message = escape(message),
        again = escape(again),
    );
    let mut r = (status, Html(body)).into_response();
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    no_store(r)
}

pub(super) fn idp_down_page(again: &str) -> Response {
    flow_page(
        StatusCode::BAD_GATEWAY,
        "Microsoft Entra ID is not answering",
        app::api::sso::flow_error_message("idp_unavailable").unwrap_or_default(),
        again,
    )
}

pub(super) fn too_many_page(retry_after_secs: u64, again: &str) -> Response {
    let mut r = flow_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many sign-in attempts",
        app::api::sso::flow_error_message("rate_limited").unwrap_or_default(),
        again,
    );
    if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

pub(super) fn busy_page(again: &str) -> Response {
    let mut r = flow_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in with Microsoft is busy",
        app::api::sso::flow_error_message("busy").unwrap_or_default(),
        again,
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    r
}

pub(super) fn not_configured_page() -> Response {
    flow_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in with Microsoft is not available",
        app::api::sso::flow_error_message("not_configured").unwrap_or_default(),
        "/login",
    )
}

/// Turns a flow's result into the response, logging what people are not shown.
pub(super) fn finish(
    result: Result<Response, Outcome>,
    purpose: &str,
    return_to: &str,
    again: &str,
) -> Response {
    let mut r = match result {
        Ok(r) => r,
        Err(Outcome::Refused(code)) => {
            see_other(&error_location(purpose, code, return_to), HeaderMap::new())
        }
        Err(Outcome::IdpDown(why)) => {
            tracing::warn!("identity provider unavailable: {why}");
            idp_down_page(again)
        }
        Err(Outcome::TooMany(secs)) => too_many_page(secs, again),
        Err(Outcome::Busy) => {
            tracing::warn!(
                "{MAX_LIVE_TRANSACTIONS} sign-in flows are in flight; refusing new ones for now"
            );
            busy_page(again)
        }
        Err(Outcome::Internal(e)) => e.into_response(),
    };
    // The transaction is used up whatever happened, unless the response starts the next
    // step's transaction (admin consent → proof sign-in), whose cookie must survive.
    if r.extensions().get::<KeepTxnCookie>().is_none() {
        r.headers_mut()
            .append(header::SET_COOKIE, clear_txn_cookie());
    }
    r
}

/// Marks a response whose transaction cookie was just set for the next step.
#[derive(Debug, Clone, Copy)]
pub(super) struct KeepTxnCookie;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_return_to_the_page_the_flow_started_from() {
        assert_eq!(
            error_location("login", "tenant_not_linked", "/"),
            "/login?error=tenant_not_linked"
        );
        assert_eq!(
            error_location("login", "expired", "/calls?x=1"),
            "/login?error=expired&return_to=/calls%3Fx%3D1"
        );
        assert_eq!(
            error_location("link", "wrong_tenant", "/"),
            "/security?error=wrong_tenant"
        );
        assert_eq!(
            error_location("consent_proof", "tenant_mismatch", "/"),
            "/sso?error=tenant_mismatch"
        );
    }

    #[test]
    fn the_page_escapes_what_it_shows() {
        assert_eq!(
            escape("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
    }
}
