//! "Export CSV" for the numbers and calls lists: downloads `…/export.csv` with the list's
//! filters, reading the streamed answer chunk by chunk so the page can show honest progress
//! (rows and bytes received so far; the total is not known in advance), then saves the file
//! from a Blob. A refusal or a broken connection is shown with what to try.

use leptos::prelude::*;

use crate::api::ApiError;

/// Where an export stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportState {
    /// Nothing started.
    Idle,
    /// Receiving: data rows and bytes so far.
    Running {
        /// Data rows (lines after the header) received.
        rows: u64,
        /// Bytes received.
        bytes: u64,
    },
    /// Saved.
    Done {
        /// Data rows in the file.
        rows: u64,
        /// Its size.
        bytes: u64,
    },
    /// Failed; the message says why and what to try.
    Failed(String),
}

/// Data rows in a CSV of `newlines` line ends (the header is not a row); a last line without
/// a line end counts too.
pub fn data_rows(newlines: u64, ends_with_newline: bool, bytes: u64) -> u64 {
    let lines = if bytes == 0 {
        0
    } else if ends_with_newline {
        newlines
    } else {
        newlines + 1
    };
    lines.saturating_sub(1)
}

/// A byte count for people: "512 bytes", "3.4 KB", "12.0 MB" (binary units).
pub fn format_bytes(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} bytes")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / KB / KB)
    }
}

/// "1 row" / "1,234 rows", grouped for the browser's locale.
pub fn rows_label(rows: u64) -> String {
    // Row counts stay far below 2^53, where the conversion is exact.
    let count = crate::format::format_count(i64::try_from(rows).unwrap_or(i64::MAX));
    format!("{count} {}", if rows == 1 { "row" } else { "rows" })
}

/// The status line for `state`.
pub fn export_status_text(state: &ExportState) -> String {
    match state {
        ExportState::Idle => String::new(),
        ExportState::Running { rows, bytes } => format!(
            "Exporting… {} received so far ({}).",
            rows_label(*rows),
            format_bytes(*bytes)
        ),
        ExportState::Done { rows, bytes } => format!(
            "Export finished: {} ({}) saved to your downloads.",
            rows_label(*rows),
            format_bytes(*bytes)
        ),
        ExportState::Failed(message) => message.clone(),
    }
}

/// The message for a failed export.
pub fn export_error_text(error: &ApiError) -> String {
    format!("The export did not work. {error}")
}

/// A button that exports the list as CSV, with the progress below it.
#[component]
pub fn CsvExportButton(
    /// The API path to download (with the list's filters), e.g. `/calls/export.csv?…`; the
    /// staff's chosen customer is added by the API client.
    #[prop(into)]
    path: Signal<String>,
    /// The file's name.
    filename: &'static str,
    /// The button's text ("Export CSV").
    label: &'static str,
) -> impl IntoView {
    let state = RwSignal::new(ExportState::Idle);
    let running = move || matches!(state.get(), ExportState::Running { .. });
    let start = move |_| {
        if running() {
            return;
        }
        state.set(ExportState::Running { rows: 0, bytes: 0 });
        let url = crate::api::client::api_url(&path.get_untracked());
        leptos::task::spawn_local(async move {
            match download(&url, filename, state).await {
                Ok((rows, bytes)) => state.set(ExportState::Done { rows, bytes }),
                Err(error) => state.set(ExportState::Failed(export_error_text(&error))),
            }
        });
    };
    view! {
        <div class="csv-export">
            <button
                type="button"
                class="button secondary"
                on:click=start
                disabled=running
                aria-busy=move || running().then_some("true")
            >
                {label}
            </button>
            <div class="export-status" role="status" data-testid="export-status">
                {move || {
                    let s = state.get();
                    let failed = matches!(s, ExportState::Failed(_));
                    let busy = matches!(s, ExportState::Running { .. });
                    (s != ExportState::Idle)
                        .then(|| {
                            view! {
                                <p class="status-text" class:field-error=failed>
                                    {busy.then(|| view! { <progress class="export-progress" aria-hidden="true"></progress> " " })}
                                    {export_status_text(&s)}
                                </p>
                            }
                        })
                }}
            </div>
        </div>
    }
}

/// Streams `url` into a Blob, updating `state` per chunk, and saves it as `filename`.
#[cfg(target_arch = "wasm32")]
async fn download(
    url: &str,
    filename: &str,
    state: RwSignal<ExportState>,
) -> Result<(u64, u64), ApiError> {
    use wasm_bindgen::{JsCast, JsValue};
    use web_sys::js_sys::{Array, Function, Reflect, Uint8Array};

    let network = |e: JsValue| ApiError::Network(format!("{e:?}"));
    let response = gloo_net::http::Request::get(url)
        .header("Accept", "text/csv")
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    let status = response.status();
    if !(200..300).contains(&status) {
        let text = response.text().await.unwrap_or_default();
        return Err(ApiError::from_response(status, &text));
    }
    let body = response
        .body()
        .ok_or(ApiError::UnexpectedResponse { status })?;
    let reader = body.get_reader();
    let read: Function = Reflect::get(&reader, &"read".into())
        .map_err(network)?
        .dyn_into()
        .map_err(network)?;
    let chunks = Array::new();
    let (mut newlines, mut bytes, mut last_newline) = (0u64, 0u64, false);
    loop {
        let promise: web_sys::js_sys::Promise = read
            .call0(&reader)
            .map_err(network)?
            .dyn_into()
            .map_err(network)?;
        let result = promise_future::await_promise(promise)
            .await
            .map_err(network)?;
        let done = Reflect::get(&result, &"done".into())
            .map_err(network)?
            .as_bool()
            .unwrap_or(true);
        if done {
            break;
        }
        let chunk: Uint8Array = Reflect::get(&result, &"value".into())
            .map_err(network)?
            .dyn_into()
            .map_err(network)?;
        let data = chunk.to_vec();
        newlines += data.iter().filter(|b| **b == b'\n').count() as u64;
        bytes += data.len() as u64;
        if let Some(last) = data.last() {
            last_newline = *last == b'\n';
        }
        chunks.push(&chunk);
        state.set(ExportState::Running {
            rows: data_rows(newlines, last_newline, bytes),
            bytes,
        });
    }
    let blob = web_sys::Blob::new_with_u8_array_sequence(&chunks).map_err(network)?;
    save_blob(&blob, filename).map_err(network)?;
    Ok((data_rows(newlines, last_newline, bytes), bytes))
}

#[cfg(not(target_arch = "wasm32"))]
async fn download(
    _url: &str,
    _filename: &str,
    _state: RwSignal<ExportState>,
) -> Result<(u64, u64), ApiError> {
    Err(ApiError::Network("Exports run in the browser.".to_string()))
}

/// Offers `blob` as a download named `filename` (a temporary object URL on a clicked link).
#[cfg(target_arch = "wasm32")]
fn save_blob(blob: &web_sys::Blob, filename: &str) -> Result<(), wasm_bindgen::JsValue> {
    use wasm_bindgen::JsCast;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| wasm_bindgen::JsValue::from_str("no document"))?;
    let href = web_sys::Url::create_object_url_with_blob(blob)?;
    let link = document.create_element("a")?;
    link.set_attribute("href", &href)?;
    link.set_attribute("download", filename)?;
    link.dyn_into::<web_sys::HtmlElement>()?.click();
    web_sys::Url::revoke_object_url(&href)?;
    Ok(())
}

/// Awaiting a JavaScript promise without another crate: the promise's callbacks store the
/// outcome and wake the task.
#[cfg(target_arch = "wasm32")]
mod promise_future {
    use std::{
        cell::RefCell,
        future::Future,
        pin::Pin,
        rc::Rc,
        task::{Context, Poll, Waker},
    };
    use wasm_bindgen::{closure::Closure, JsValue};

    #[derive(Default)]
    struct Shared {
        outcome: Option<Result<JsValue, JsValue>>,
        waker: Option<Waker>,
    }

    /// A callback the promise calls with its outcome.
    type Callback = Closure<dyn FnMut(JsValue)>;

    struct PromiseFuture {
        shared: Rc<RefCell<Shared>>,
        // Kept alive until the promise settles.
        _callbacks: (Callback, Callback),
    }

    impl Future for PromiseFuture {
        type Output = Result<JsValue, JsValue>;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let mut shared = self.shared.borrow_mut();
            match shared.outcome.take() {
                Some(outcome) => Poll::Ready(outcome),
                None => {
                    shared.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }
    }

    fn settle(shared: &Rc<RefCell<Shared>>, outcome: Result<JsValue, JsValue>) {
        let waker = {
            let mut s = shared.borrow_mut();
            s.outcome = Some(outcome);
            s.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The promise's value, or its rejection.
    pub async fn await_promise(promise: web_sys::js_sys::Promise) -> Result<JsValue, JsValue> {
        let shared = Rc::new(RefCell::new(Shared::default()));
        let on_ok = {
            let shared = Rc::clone(&shared);
            Closure::<dyn FnMut(JsValue)>::new(move |v| settle(&shared, Ok(v)))
        };
        let on_err = {
            let shared = Rc::clone(&shared);
            Closure::<dyn FnMut(JsValue)>::new(move |e| settle(&shared, Err(e)))
        };
        let _ = promise.then2(&on_ok, &on_err);
        PromiseFuture {
            shared,
            _callbacks: (on_ok, on_err),
        }
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_do_not_count_the_header() {
        assert_eq!(data_rows(0, false, 0), 0);
        assert_eq!(data_rows(1, true, 20), 0);
        assert_eq!(data_rows(3, true, 80), 2);
        // The last row has no line end yet (or ever).
        assert_eq!(data_rows(3, false, 90), 3);
    }

    #[test]
    fn sizes_and_counts_read_naturally() {
        assert_eq!(format_bytes(512), "512 bytes");
        assert_eq!(format_bytes(3 * 1024 + 400), "3.4 KB");
        assert_eq!(format_bytes(12 * 1024 * 1024), "12.0 MB");
        assert_eq!(rows_label(1), "1 row");
        assert_eq!(rows_label(1234), "1,234 rows");
        assert_eq!(rows_label(1234567), "1,234,567 rows");
    }

    #[test]
    fn the_status_line_follows_the_export() {
        assert_eq!(export_status_text(&ExportState::Idle), "");
        assert_eq!(
            export_status_text(&ExportState::Running {
                rows: 10,
                bytes: 2048
            }),
            "Exporting… 10 rows received so far (2.0 KB)."
        );
        assert_eq!(
            export_status_text(&ExportState::Done {
                rows: 1,
                bytes: 100
            }),
            "Export finished: 1 row (100 bytes) saved to your downloads."
        );
        assert_eq!(
            export_error_text(&ApiError::Network("x".into())),
            "The export did not work. The portal could not be reached. Check your connection and try again."
        );
    }
}
