//! The typed HTTP client the pages use (gloo-net, so it runs in the browser).
//!
//! Requests are same-origin, so the session cookie travels with them and the browser adds
//! the `Origin`/`Sec-Fetch-Site` headers the server's CSRF check relies on.

use gloo_net::http::{Request, Response};
use serde::{de::DeserializeOwned, Serialize};

use super::ApiError;

/// The base path of the JSON API.
pub const API_BASE: &str = "/api/v1";

/// `GET {API_BASE}{path}` and decode the JSON answer.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let response = Request::get(&format!("{API_BASE}{path}"))
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    decode(response).await
}

/// Sends `body` as JSON with `method` to `{API_BASE}{path}` and decodes the JSON answer.
pub async fn send_json<B: Serialize, T: DeserializeOwned>(
    method: gloo_net::http::Method,
    path: &str,
    body: &B,
) -> Result<T, ApiError> {
    let response = gloo_net::http::RequestBuilder::new(&format!("{API_BASE}{path}"))
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
    if (200..300).contains(&status) {
        serde_json::from_str(&text).map_err(|_| ApiError::UnexpectedResponse { status })
    } else {
        Err(ApiError::from_response(status, &text))
    }
}
