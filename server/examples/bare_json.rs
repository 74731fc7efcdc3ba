//! The yardstick for `make bench`: a bare axum server answering `GET /` with a fixed JSON body
//! of a given size, to compare the portal's session-authenticated `GET /api/v1/me` against.
//!
//! `cargo run --example bare_json -- ADDR BODY_BYTES`
#![allow(clippy::unwrap_used)]

use axum::{http::header, routing::get, Router};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:3901".to_string());
    let size: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(300);
    // A JSON object padded to exactly `size` bytes.
    let padding = size.saturating_sub(r#"{"pad":""}"#.len());
    let body: &'static str =
        Box::leak(format!(r#"{{"pad":"{}"}}"#, "x".repeat(padding)).into_boxed_str());
    let app = Router::new().route(
        "/",
        get(move || async move { ([(header::CONTENT_TYPE, "application/json")], body) }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
