//! The wasm entry point: hydrates the server-rendered portal in the browser.
//!
//! Every page is a lazily loaded chunk (`app::routes`), so hydration waits until the chunk of
//! the page on screen has loaded (`hydrate_lazy`), then hydrates it like the rest.

/// Called by the hydration script cargo-leptos generates.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
