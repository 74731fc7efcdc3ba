//! Reads a page starts before its code has arrived.
//!
//! Every page route is a lazily loaded wasm chunk (`crate::routes`). When the router picks a
//! route it first runs the route's data half, which calls [`prefetch`] for the reads the page
//! makes when it first renders; only then does it wait for the chunk. The reads and the chunk
//! download so run side by side. When the page's code then asks [`super::client::get`] for the
//! same URL, it is handed the answer (or the request still in flight) instead of starting a
//! second request.
//!
//! The data half names a read by its path, built by the same function the typed call uses
//! (`services::LIST_PATH`, `calls::list_path(&query)`): a path is a string, so the main wasm
//! does not take in the page's response types and their decoders, which stay in its chunk.
//!
//! An answer is handed out once, and only while it is fresh ([`FRESH_FOR_MS`]): a page that
//! never asks for it (the user may not see it, or left the page at once) does not leave stale
//! data behind for a later visit. The URL includes the staff's chosen customer (`?org=`), so a
//! switch of customer never reuses another customer's answer. On the server (SSR) nothing is
//! prefetched: pages read through the API only in the browser.

use super::ApiError;

/// A raw answer: the HTTP status and body, decoded by the caller as for any request.
pub(crate) type RawAnswer = Result<(u16, String), ApiError>;

/// How long a prefetched answer may wait for the page to ask for it.
pub const FRESH_FOR_MS: f64 = 10_000.0;

/// Whether an entry started at `started_ms` may still be used at `now_ms`.
pub fn is_fresh(started_ms: f64, now_ms: f64) -> bool {
    now_ms >= started_ms && now_ms - started_ms <= FRESH_FOR_MS
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use std::{cell::RefCell, collections::HashMap};

    use futures_util::future::{FutureExt, LocalBoxFuture, Shared};

    use super::{is_fresh, RawAnswer};
    use crate::api::ApiError;

    struct Entry {
        started_ms: f64,
        answer: Shared<LocalBoxFuture<'static, RawAnswer>>,
    }

    thread_local! {
        static PREFETCHED: RefCell<HashMap<String, Entry>> = RefCell::new(HashMap::new());
    }

    fn now_ms() -> f64 {
        web_sys::js_sys::Date::now()
    }

    async fn fetch_raw(url: String) -> RawAnswer {
        let response = gloo_net::http::Request::get(&url)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| ApiError::Network(e.to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| ApiError::Network(e.to_string()))?;
        Ok((status, text))
    }

    pub fn start(url: String) {
        let now = now_ms();
        PREFETCHED.with_borrow_mut(|entries| {
            entries.retain(|_, entry| is_fresh(entry.started_ms, now));
            if entries.contains_key(&url) {
                return;
            }
            let answer = fetch_raw(url.clone()).boxed_local().shared();
            // Start the request now rather than when the page first awaits it.
            leptos::task::spawn_local(answer.clone().map(|_| ()));
            entries.insert(
                url,
                Entry {
                    started_ms: now,
                    answer,
                },
            );
        });
    }

    pub fn take(url: &str) -> Option<Shared<LocalBoxFuture<'static, RawAnswer>>> {
        let now = now_ms();
        PREFETCHED
            .with_borrow_mut(|entries| entries.remove(url))
            .filter(|entry| is_fresh(entry.started_ms, now))
            .map(|entry| entry.answer)
    }
}

/// Starts `GET {API_BASE}{path}` now, for the page about to render (browser only).
pub fn prefetch(path: &str) {
    #[cfg(target_arch = "wasm32")]
    browser::start(super::client::api_url(path));
    #[cfg(not(target_arch = "wasm32"))]
    let _ = path;
}

/// The prefetched answer for the full URL `url`, if a fresh one was started; handed out once.
pub(crate) async fn take(url: &str) -> Option<RawAnswer> {
    #[cfg(target_arch = "wasm32")]
    {
        match browser::take(url) {
            Some(answer) => Some(answer.await),
            None => None,
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = url;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_used_only_while_fresh() {
        assert!(is_fresh(1_000.0, 1_000.0));
        assert!(is_fresh(1_000.0, 1_000.0 + FRESH_FOR_MS));
        assert!(!is_fresh(1_000.0, 1_000.0 + FRESH_FOR_MS + 1.0));
        // A clock that went backwards never makes an old answer look new.
        assert!(!is_fresh(5_000.0, 4_000.0));
    }
}
