//! The wasm entry point: hydrates the server-rendered portal in the browser.
//!
//! Every page is a lazily loaded chunk (`app::routes`): the entry point loads the chunk of the
//! page on screen first (its HTML already preloads it), then hydrates.

/// Called by the hydration script cargo-leptos generates.
///
/// What `leptos::mount::hydrate_lazy` does, plus one step it misses. Leptos 0.8.23's
/// `hydrate_from_async` marks hydration complete on `Owner::current_shared_context()` after
/// its `.await`, where no owner is current any more, so the app's shared context keeps saying
/// "hydrating" for the rest of the tab's life. A `<Suspense>` or `<Transition>` that renders
/// again later (a page whose `/me` arrives after hydration, the staff customer switcher) then
/// tries to hydrate server HTML that is not there and panics in tachys (`unreachable` in
/// `failed_to_cast_element`), which stops the whole app. Here the context is taken while the
/// app is built, inside the root owner, and marked complete once hydration has finished.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    use std::{cell::RefCell, rc::Rc};

    console_error_panic_hook::set_once();
    // An error only means the executor is already set up.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    any_spawner::Executor::spawn_local(async {
        // The page's chunk first (see `app::routes::load_chunk_for`). When it cannot be loaded
        // (offline; or a deploy replaced it after the HTML was sent), the page stays as the
        // server rendered it: readable, its links working as plain links and the sign-in forms
        // posting without JavaScript. Hydrating would need the missing code.
        let path = web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .unwrap_or_default();
        if app::routes::load_chunk_for(&path).await.is_err()
            && app::routes::load_chunk_for(&path).await.is_err()
        {
            web_sys::console::error_1(
                &"This page's code could not be loaded; it stays as the server sent it. Reload the page to try again."
                    .into(),
            );
            return;
        }
        let shared = Rc::new(RefCell::new(None));
        let seen = Rc::clone(&shared);
        let handle = leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), move || {
            *seen.borrow_mut() = leptos::reactive::owner::Owner::current_shared_context();
            app::App()
        })
        .await;
        if let Some(context) = shared.take() {
            context.hydration_complete();
        }
        handle.forget();
    });
}
