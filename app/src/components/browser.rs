//! The few browser APIs the pages need beyond Leptos: full page loads, the clipboard, and
//! waiting for data that only loads in the browser (local date formatting is in `format`).
//!
//! Each one is called from event handlers or from data that only loads in the browser; on
//! other targets (the server, unit tests) they do nothing or return their input, so they can
//! never panic there.

/// Leaves the single-page app and loads `url` from the server (after a sign-in or sign-out the
/// whole page, user menu included, must start over with the new session).
pub fn full_page_load(url: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        if let Some(window) = web_sys::window() {
            // `assign` only fails for URLs the browser cannot parse; ours are local paths.
            let _ = window.location().assign(url);
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = url;
    }
}

/// Loads the current page again from the server (a chunk of the page's code is gone: the
/// portal was updated while the tab was open).
pub fn reload_page() {
    #[cfg(target_arch = "wasm32")]
    {
        if let Some(window) = web_sys::window() {
            // An error leaves the page as it is, with its message still shown.
            let _ = window.location().reload();
        }
    }
}

/// Waits for `resource` inside a `<Suspense>` or `<Transition>`: in the browser, its value once
/// loaded; on the server, never (a `LocalResource` only loads in the browser), after telling
/// the Suspense so, which is how it learns to send its fallback.
///
/// Use it instead of `.await` wherever a `Suspend` reads a `LocalResource`. On the server,
/// `.await` looks up the Suspense's notifier and panics when it is missing ("Reading from a
/// LocalResource outside Suspense"). Leptos 0.8 re-checks a Suspense's children from an effect
/// (`dry_resolve`), and that effect can run on another thread while the request's reactive
/// owner, and the notifier with it, is being dropped after the response has gone out; the
/// panic then says nothing about the page. Here the server notifies the Suspense when it can
/// and otherwise just stays pending; nothing registers a task either way, as with `.await`,
/// since a server-side `LocalResource` never starts loading.
pub async fn in_browser<T>(resource: leptos::prelude::LocalResource<T>) -> T
where
    T: Clone + 'static,
{
    #[cfg(feature = "ssr")]
    {
        use leptos::prelude::use_context;
        use leptos::reactive::computed::suspense::LocalResourceNotifier;

        if let Some(mut notifier) = use_context::<LocalResourceNotifier>() {
            notifier.notify();
        }
        let _ = resource;
        std::future::pending().await
    }
    #[cfg(not(feature = "ssr"))]
    {
        resource.await
    }
}

/// Whether the asynchronous Clipboard API is available (it needs a secure context).
pub fn clipboard_available() -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window()
            .map(|window| !window.navigator().clipboard().is_undefined())
            .unwrap_or(false)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        false
    }
}

/// [`clipboard_available`] as a signal: `false` on the server and at hydration (so both
/// render the same), then the browser's answer.
pub fn use_clipboard_available() -> leptos::prelude::ReadSignal<bool> {
    use leptos::prelude::*;
    let (available, set_available) = signal(false);
    Effect::new(move |_| set_available.set(clipboard_available()));
    available
}

/// Puts `text` on the clipboard and then calls `done` with whether that worked (the browser
/// may refuse, e.g. without permission).
pub fn copy_to_clipboard(text: &str, done: impl FnOnce(bool) + 'static) {
    #[cfg(target_arch = "wasm32")]
    {
        use std::{cell::RefCell, rc::Rc};
        use wasm_bindgen::closure::Closure;

        if !clipboard_available() {
            done(false);
            return;
        }
        let Some(window) = web_sys::window() else {
            done(false);
            return;
        };
        let promise = window.navigator().clipboard().write_text(text);
        // Exactly one of the two callbacks runs; both share the one `done`.
        let done = Rc::new(RefCell::new(Some(done)));
        let on_ok = {
            let done = Rc::clone(&done);
            Closure::once_aborting(move |_: wasm_bindgen::JsValue| {
                if let Some(done) = done.borrow_mut().take() {
                    done(true);
                }
            })
        };
        let on_err = Closure::once_aborting(move |_: wasm_bindgen::JsValue| {
            if let Some(done) = done.borrow_mut().take() {
                done(false);
            }
        });
        let _ = promise.then2(&on_ok, &on_err);
        // Handing the closures to the JS garbage collector: the promise owns them now.
        on_ok.forget();
        on_err.forget();
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = text;
        done(false);
    }
}
