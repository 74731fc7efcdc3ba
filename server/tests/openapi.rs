//! `GET /api/v1/openapi.json`: the document parses, covers every route of the API router and
//! nothing else, and is internally consistent (every `$ref` resolves, every path parameter is
//! declared, every operation answers errors with the API's error body). Its validity against
//! the OpenAPI 3.1 specification is checked by `end2end/tests/openapi.spec.ts`.
//!
//! How "every route" is known without a hand-kept list: the API modules mount routes only
//! through utoipa-axum's `routes!`, which adds the route and its document entry together.
//! [`the_api_router_mounts_routes_only_with_their_document_entry`] reads the router code and
//! fails if any API module (or `api_router` itself) mounts a route another way; and
//! [`every_documented_operation_is_a_real_route`] sends each documented method and path to the
//! real router and fails if the API's own "no such endpoint" fallback answers.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::{BTreeSet, HashSet};

use axum::{body::Body, http::Request};
use serde_json::Value;
use support::TestApp;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn document(app: &TestApp) -> Value {
    let res = app.get("/api/v1/openapi.json").await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("application/json"));
    res.json()
}

/// Every (method, path) of the document, paths relative to `/api/v1`.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if METHODS.contains(&method.as_str()) {
                out.push((method.clone(), path.clone(), op.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_document_is_public_and_describes_the_api() {
    let app = TestApp::new().await;
    // No cookie, no token: the document is public.
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "Voice Customer Portal API");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["session"]["type"], "apiKey");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], "__Host-portal_session");
    assert_eq!(schemes["api_token"]["type"], "http");
    assert_eq!(schemes["api_token"]["scheme"], "bearer");
    // The error body of `server/src/http/error.rs`.
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], serde_json::json!(["error"]));
    let detail =
        resolve(&doc, error["properties"]["error"]["$ref"].as_str().unwrap()).expect("ErrorDetail");
    let required: BTreeSet<&str> = detail["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, BTreeSet::from(["code", "message"]));
    // A few routes every client uses, with their methods.
    let ops: HashSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    for (method, path) in [
        ("post", "/auth/login"),
        ("get", "/me"),
        ("get", "/calls"),
        ("patch", "/numbers/{e164}"),
        ("post", "/ingest/calls"),
        ("get", "/openapi.json"),
    ] {
        assert!(
            ops.contains(&(method.to_string(), path.to_string())),
            "{method} {path} is missing"
        );
    }
}

#[tokio::test]
async fn the_document_is_built_once_and_served_the_same() {
    let app = TestApp::new().await;
    let first = app.get("/api/v1/openapi.json").await;
    let second = app.get("/api/v1/openapi.json").await;
    assert_eq!(first.body, second.body);
}

/// Resolves a local `$ref` (`#/a/b`), JSON-pointer escapes included.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    doc.pointer(pointer)
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    if let Some(r) = v.as_str() {
                        out.push(r.to_string());
                    }
                }
                collect_refs(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn every_ref_resolves() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(
        refs.iter().any(|r| r == "#/components/schemas/ErrorBody"),
        "the error body is referenced"
    );
    let broken: Vec<&String> = refs.iter().filter(|r| resolve(&doc, r).is_none()).collect();
    assert!(broken.is_empty(), "unresolved $ref: {broken:?}");
}

#[tokio::test]
async fn every_operation_is_complete() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    let declared_tags: HashSet<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let mut operation_ids = HashSet::new();
    let ops = operations(&doc);
    assert!(ops.len() > 40, "only {} operations", ops.len());
    for (method, path, op) in &ops {
        let what = format!("{method} {path}");
        let id = op["operationId"].as_str().expect(&what);
        assert!(
            operation_ids.insert(id.to_string()),
            "{what}: operationId {id} twice"
        );
        let summary = op["summary"].as_str().unwrap_or_default();
        assert!(
            !summary.is_empty() && !summary.starts_with('`'),
            "{what} has no summary of its own: {summary:?}"
        );
        let tags = op["tags"].as_array().expect(&what);
        assert!(!tags.is_empty(), "{what} has no tag");
        for tag in tags {
            let tag = tag.as_str().unwrap();
            assert!(
                declared_tags.contains(tag),
                "{what}: tag {tag} is not declared"
            );
        }
        // Every `{name}` of the path is a declared path parameter, and nothing else is.
        let in_path: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        let declared: BTreeSet<&str> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(in_path, declared, "{what}: path parameters");
        // A success, and errors in the API's error body.
        let responses = op["responses"].as_object().expect(&what);
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{what} has no success response"
        );
        let errors: Vec<(&String, &Value)> = responses
            .iter()
            .filter(|(s, _)| s.as_str() >= "400")
            .collect();
        assert!(
            errors.iter().any(|(s, _)| s.as_str() == "500"),
            "{what} does not document 500"
        );
        for (status, response) in errors {
            assert_eq!(
                response["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{what} {status} is not the error body"
            );
            let description = response["description"].as_str().unwrap_or_default();
            assert!(
                description.contains('`'),
                "{what} {status} does not name its error codes: {description:?}"
            );
        }
        // Security names only the declared schemes; an operation that can answer 401
        // `unauthenticated` must say how to authenticate.
        let security = op["security"].as_array();
        for requirement in security.into_iter().flatten() {
            for name in requirement.as_object().unwrap().keys() {
                assert!(schemes.contains_key(name), "{what}: unknown scheme {name}");
            }
        }
        let unauthenticated = responses
            .get("401")
            .and_then(|r| r["description"].as_str())
            .is_some_and(|d| d.contains("`unauthenticated`"));
        if unauthenticated {
            assert!(
                security.is_some_and(|s| !s.is_empty()),
                "{what} answers 401 unauthenticated but declares no security"
            );
        }
    }
}

/// A value for a path parameter: enough to reach the handler, which then answers about it.
fn sample_path(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                "x0"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_documented_operation_is_a_real_route() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    // The API's fallbacks, to tell "no such route" from a handler's own 404 or 405.
    let missing = app.get("/api/v1/no-such-endpoint").await;
    assert_eq!(missing.status, 404);
    let fallback_message = missing.json()["error"]["message"].clone();
    for (method, path, _) in operations(&doc) {
        let uri = format!("/api/v1{}", sample_path(&path));
        let res = app
            .send(
                Request::builder()
                    .method(method.to_uppercase().as_str())
                    .uri(&uri)
                    // Past the CSRF rule, which answers before routing.
                    .header("sec-fetch-site", "same-origin")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        let body: Value = serde_json::from_slice(&res.body).unwrap_or(Value::Null);
        assert!(
            !(res.status == 404 && body["error"]["message"] == fallback_message),
            "{method} {path} is documented but not routed"
        );
        assert_ne!(
            body["error"]["code"], "method_not_allowed",
            "{method} {path} is documented but routed for another method"
        );
    }
}

/// The body of `fn name(` in `source`, up to its closing brace at column 0.
fn function_body<'a>(source: &'a str, name: &str) -> &'a str {
    let start = source
        .find(&format!("fn {name}("))
        .unwrap_or_else(|| panic!("fn {name} not found"));
    let end = source[start..]
        .find("\n}\n")
        .map(|e| start + e)
        .unwrap_or(source.len());
    &source[start..end]
}

#[test]
fn the_api_router_mounts_routes_only_with_their_document_entry() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let http_rs = std::fs::read_to_string(src.with_extension("rs")).unwrap();
    // `OpenApiRouter::new()` is the one router constructor allowed; hide it from the search
    // for axum's `Router::new()`.
    let http_rs = http_rs.replace("OpenApiRouter", "DOCUMENTED_ROUTER");
    let api = function_body(&http_rs, "api_router");
    // Ways of mounting a route that bypass `routes!` and so the document.
    let bypasses = [
        ".route(",
        ".route_service(",
        ".nest_service(",
        "Router::new()",
        "OpenApiRouter::from(",
    ];
    for b in bypasses {
        assert!(!api.contains(b), "api_router mounts a route with `{b}`");
    }
    // After the document is taken, only the fallbacks may be added.
    let after_split = api
        .split("split_for_parts()")
        .nth(1)
        .expect("api_router builds the document with split_for_parts()");
    for b in [".merge(", ".nest(", ".routes("] {
        assert!(
            !after_split.contains(b),
            "api_router adds routes after the document is built (`{b}`): they would be undocumented"
        );
    }
    // Every module whose router api_router mounts builds it through `routes!` only.
    let modules: BTreeSet<&str> = api
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .filter_map(|token| {
            let (module, function) = token.split_once("::")?;
            function.ends_with("router").then_some(module)
        })
        .collect();
    assert!(modules.len() > 10, "modules found: {modules:?}");
    for module in modules {
        let path = src.join(format!("{module}.rs"));
        let code = std::fs::read_to_string(&path)
            .unwrap()
            .replace("OpenApiRouter", "DOCUMENTED_ROUTER");
        for b in bypasses.iter().chain(&["axum::Router", "routing::"]) {
            assert!(
                !code.contains(b),
                "{}: mounts a route with `{b}`, outside `routes!`, so without its document entry",
                path.display()
            );
        }
        assert!(
            code.contains("DOCUMENTED_ROUTER<AppState>"),
            "{}: its router is not an OpenApiRouter",
            path.display()
        );
    }
}
