//! What a page shows when its code (its wasm chunk, see `crate::routes`) could not be loaded.
//!
//! Two causes look different to the person. The network failed (offline, a proxy cut the
//! download): "Try again" loads the chunk again, and the page appears in place when it
//! arrives. Or the chunk is gone: the portal was updated while the tab was open, so the hashed
//! file this tab's code names no longer exists (404). Trying again cannot help; reloading the
//! page fetches the new version. The browser's resource timing tells the two apart (the
//! failed download's HTTP status); where it cannot, both ways on are offered.

use std::{future::Future, pin::Pin};

use leptos::prelude::*;

use crate::components::browser::reload_page;

/// A page chunk could not be loaded; the loader's own error carries no detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkError;

impl From<leptos::wasm_split::SplitLoaderError> for ChunkError {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        ChunkError
    }
}

/// Loads a page's chunk and renders the page.
pub type LoadPage = fn() -> Pin<Box<dyn Future<Output = Result<AnyView, ChunkError>>>>;

/// Why the last load failed, as far as the browser can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkFailure {
    /// The chunk's URL answered 404 or 410: a newer version of the portal replaced it.
    Gone,
    /// No answer (offline, blocked, reset) or one that says nothing about the file.
    Network,
}

/// The failure an HTTP status of the chunk's download means (0: none was received).
pub fn failure_for_status(status: u16) -> ChunkFailure {
    match status {
        404 | 410 => ChunkFailure::Gone,
        _ => ChunkFailure::Network,
    }
}

/// Whether the browser's resource timing shows a wasm file under `/pkg/` answered 404 or 410
/// in this tab: the chunk that failed, or one it needs. `false` when the browser does not say.
fn a_chunk_is_gone() -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        use web_sys::js_sys::Reflect;
        let Some(entries) = web_sys::window()
            .and_then(|w| w.performance())
            .map(|p| p.get_entries_by_type("resource"))
        else {
            return false;
        };
        entries.iter().any(|entry| {
            let name = Reflect::get(&entry, &"name".into())
                .ok()
                .and_then(|n| n.as_string())
                .unwrap_or_default();
            let status = Reflect::get(&entry, &"responseStatus".into())
                .ok()
                .and_then(|s| s.dyn_into::<web_sys::js_sys::Number>().ok())
                .map(|n| n.value_of() as u16)
                .unwrap_or(0);
            name.contains("/pkg/")
                && name.ends_with(".wasm")
                && failure_for_status(status) == ChunkFailure::Gone
        })
    }
    #[cfg(not(target_arch = "wasm32"))]
    false
}

/// The failure as far as the browser can tell now.
fn current_failure() -> ChunkFailure {
    if a_chunk_is_gone() {
        ChunkFailure::Gone
    } else {
        ChunkFailure::Network
    }
}

/// The page's place when its chunk failed: the error, "Try again" (or "Reload the page" when
/// the chunk is gone), and the page itself once a retry loads it.
#[component]
pub fn ChunkLoadFailed(
    /// Loads the page's chunk again.
    load: LoadPage,
) -> impl IntoView {
    let failure = RwSignal::new(current_failure());
    // The failed download's timing entry can land a moment after the failure is reported.
    set_timeout(
        move || {
            let _ = failure.try_set(current_failure());
        },
        std::time::Duration::from_millis(300),
    );
    let busy = RwSignal::new(false);
    // The page, once a retry loaded it; taken out when it is first shown.
    let page = RwSignal::new_local(None::<AnyView>);
    let retry = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            match load().await {
                Ok(view) => page.set(Some(view)),
                Err(ChunkError) => {
                    failure.set(current_failure());
                    busy.set(false);
                }
            }
        });
    };
    move || {
        page.track();
        if let Some(view) = page.try_update_untracked(Option::take).flatten() {
            return view;
        }
        view! {
            <section class="page">
                <div class="alert error" role="alert" data-testid="chunk-error">
                    {move || match failure.get() {
                        ChunkFailure::Gone => view! {
                            <p>"This page could not be loaded: the portal has been updated since this tab was opened. Reload the page to continue."</p>
                            <p>
                                <button type="button" class="button secondary small" on:click=move |_| reload_page()>
                                    "Reload the page"
                                </button>
                            </p>
                        }
                        .into_any(),
                        ChunkFailure::Network => view! {
                            <p>"This page could not be loaded. The portal could not be reached. Check your connection and try again."</p>
                            <p>
                                <button
                                    type="button"
                                    class="button secondary small"
                                    disabled=move || busy.get()
                                    on:click=retry
                                >
                                    {move || if busy.get() { "Trying again…" } else { "Try again" }}
                                </button>
                                " "
                                <button type="button" class="button link small" on:click=move |_| reload_page()>
                                    "Reload the page"
                                </button>
                            </p>
                        }
                        .into_any(),
                    }}
                </div>
            </section>
        }
        .into_any()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_asks_for_a_reload_and_anything_else_for_a_retry() {
        assert_eq!(failure_for_status(404), ChunkFailure::Gone);
        assert_eq!(failure_for_status(410), ChunkFailure::Gone);
        for status in [0, 200, 500, 502, 503] {
            assert_eq!(
                failure_for_status(status),
                ChunkFailure::Network,
                "{status}"
            );
        }
    }
}
