//! The OpenAPI 3.1 document of `/api/v1`, served at `GET /api/v1/openapi.json`.
//!
//! The document is not written by hand: every API module builds its router with utoipa-axum's
//! [`OpenApiRouter`] and `routes!(handler, …)`, which mounts a handler only together with the
//! `#[utoipa::path]` that describes it. So a route cannot exist without its entry, and the entry
//! always has the route's real method and path. This module adds what no handler knows: the
//! title and version, the tags, the two ways to authenticate, and the shared error body.
//!
//! The document is built once, when the router is assembled, and served from memory.

pub mod errors;
pub mod params;

use std::sync::{Arc, OnceLock};

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Extension,
};
use bytes::Bytes;
use utoipa::{
    openapi::{
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
        Components, OpenApi,
    },
    Modify, OpenApi as _,
};
use utoipa_axum::router::OpenApiRouter;

use app::api::ErrorBody;

use super::{ApiError, AppState};

/// The name of the session-cookie security scheme in the document.
pub const SESSION: &str = "session";
/// The name of the API-token (Bearer) security scheme in the document.
pub const API_TOKEN: &str = "api_token";

/// The document's fixed parts; the paths come from the routers.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Voice Customer Portal API",
        description = "The JSON API of the Voice Customer Portal. Every error answers \
            `{\"error\": {\"code\": \"…\", \"message\": \"…\"}}` with a stable `code`. \
            Mutating requests authenticated by the session cookie must be same-origin \
            (`Origin` or `Sec-Fetch-Site: same-origin`), else 403 `csrf`; requests with a \
            Bearer API token and no cookie are exempt. Carrier staff act for a customer by \
            adding `?org=SLUG` to an organisation-scoped route.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    servers((url = "/api/v1", description = "This portal")),
    components(schemas(ErrorBody)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "status", description = "The portal's own health"),
        (name = "auth", description = "Sign-in, the authenticator-code step, sign-out, invitations and password resets"),
        (name = "me", description = "The signed-in user: profile, two-step sign-in, sessions, password, linked identities"),
        (name = "organisation", description = "Organisation-wide settings and the audit log"),
        (name = "users", description = "The organisation's users and invitations"),
        (name = "api-tokens", description = "API tokens for scripts"),
        (name = "services", description = "Voice services and their health"),
        (name = "numbers", description = "Telephone numbers, and their CSV export"),
        (name = "porting", description = "Porting orders: numbers moving to us from another carrier"),
        (name = "emergency-addresses", description = "Emergency (E911/112) addresses of numbers"),
        (name = "calls", description = "Call detail records, and their CSV export"),
        (name = "analytics", description = "Call figures and series over a range"),
        (name = "incidents", description = "Incidents and maintenance windows that concern the organisation"),
        (name = "ingest", description = "Posting call detail records with an `ingest` token"),
        (name = "sso", description = "Single sign-on with Microsoft Entra ID"),
        (name = "provider", description = "The carrier staff console"),
        (name = "openapi", description = "This document"),
    )
)]
struct BaseDoc;

/// Declares the two ways to authenticate: the session cookie set by sign-in, and a Bearer API
/// token (never accepted from a cookie).
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Components::new);
        components.add_security_scheme(
            SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::session::SESSION_COOKIE,
                "The session cookie set by `POST /auth/login` (and by single sign-on).",
            ))),
        );
        components.add_security_scheme(
            API_TOKEN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("vcp_…")
                    .description(Some(
                        "An API token (`Authorization: Bearer vcp_…`) made on the API tokens page.",
                    ))
                    .build(),
            ),
        );
    }
}

/// An empty router that already carries the document's fixed parts; [`super::api_router`]
/// adds every module's routes to it.
pub fn base_router() -> OpenApiRouter<AppState> {
    let mut doc = BaseDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    OpenApiRouter::with_openapi(doc)
}

/// The serialised document, filled in once the whole API router is assembled. The route that
/// serves it is part of the document, so the route is mounted (holding this, empty, as an
/// `Extension` layered on that route only) before the document exists.
#[derive(Clone, Default)]
pub struct Document(Arc<OnceLock<Bytes>>);

impl Document {
    /// Serialises `doc` and keeps it for the route; called once, at start.
    pub fn set(&self, doc: &OpenApi) -> anyhow::Result<()> {
        let json = serde_json::to_vec(doc)?;
        // Set once per router; a second call (never made) would keep the first document.
        let _ = self.0.set(Bytes::from(json));
        Ok(())
    }
}

/// The API's routes as the document lists them: each path template (relative to `/api/v1`,
/// split at `/`, `{name}` standing for any one segment) with its methods. The CSRF rule asks
/// it, so that a mutation the API has no route for gets the router's 404 or 405 rather than a
/// CSRF refusal.
#[derive(Debug, Default)]
pub struct RouteTable(Vec<(Vec<String>, Vec<axum::http::Method>)>);

static ROUTES: OnceLock<RouteTable> = OnceLock::new();

impl RouteTable {
    fn of(doc: &OpenApi) -> Self {
        use axum::http::Method;
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.trim_start_matches('/').split('/').map(String::from);
                let methods = [
                    (item.get.is_some(), Method::GET),
                    (item.post.is_some(), Method::POST),
                    (item.put.is_some(), Method::PUT),
                    (item.patch.is_some(), Method::PATCH),
                    (item.delete.is_some(), Method::DELETE),
                ]
                .into_iter()
                .filter_map(|(has, m)| has.then_some(m))
                .collect();
                (segments.collect(), methods)
            })
            .collect();
        RouteTable(routes)
    }

    /// Keeps the table of `doc` for [`routes`] (the first router built at start sets it).
    pub fn remember(doc: &OpenApi) {
        let _ = ROUTES.set(Self::of(doc));
    }

    fn has(&self, method: &axum::http::Method, path: &str) -> bool {
        let wanted: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.0.iter().any(|(segments, methods)| {
            methods.contains(method)
                && segments.len() == wanted.len()
                && segments.iter().zip(&wanted).all(|(s, w)| {
                    (s.starts_with('{') && s.ends_with('}') && !w.is_empty()) || s == w
                })
        })
    }
}

/// Whether the API has a route for `method` on `path` (relative to `/api/v1`); true until
/// the table is built.
pub fn routes(method: &axum::http::Method, path: &str) -> bool {
    ROUTES.get().is_none_or(|table| table.has(method, path))
}

/// `GET /api/v1/openapi.json`: this document. Public: it describes the API's shape and
/// says nothing about any organisation, so a script may fetch it before it has a token.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "openapi",
    operation_id = "get_openapi",
    summary = "This OpenAPI document",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of `/api/v1`", content_type = "application/json", body = Object),
        (status = 500, description = "`internal`: the document was not built", body = ErrorBody),
    )
)]
pub async fn get_openapi(Extension(doc): Extension<Document>) -> Response {
    match doc.0.get() {
        Some(json) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            json.clone(),
        )
            .into_response(),
        None => ApiError::internal(anyhow::anyhow!("the OpenAPI document was not built"))
            .into_response(),
    }
}
