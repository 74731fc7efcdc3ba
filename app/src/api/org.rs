//! The customer carrier staff act for in this browser tab: kept in `sessionStorage`, so it
//! lasts as long as the tab and is never shared with another one. `client` adds it to every
//! organisation-scoped request as `?org=SLUG`; the customer switcher sets it.

/// The key under which the browser tab keeps the customer staff act for.
pub const SELECTED_ORG_KEY: &str = "portal.org";

/// The customer staff chose in this browser tab; `None` on the server and without a choice.
pub fn selected_org() -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        session_storage_call("getItem", &[SELECTED_ORG_KEY])
            .and_then(|value| value.as_string())
            .filter(|slug| !slug.is_empty())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = SELECTED_ORG_KEY;
        None
    }
}

/// Remembers (or, with `None`, forgets) the customer staff act for in this tab.
pub fn set_selected_org(slug: Option<&str>) {
    #[cfg(target_arch = "wasm32")]
    {
        match slug {
            Some(slug) => session_storage_call("setItem", &[SELECTED_ORG_KEY, slug]),
            None => session_storage_call("removeItem", &[SELECTED_ORG_KEY]),
        };
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = slug;
    }
}

/// Calls `sessionStorage[method](...args)`; `None` when storage is unavailable (private
/// modes may refuse it). Through `Reflect` so the app needs no extra `web-sys` feature.
#[cfg(target_arch = "wasm32")]
fn session_storage_call(method: &str, args: &[&str]) -> Option<wasm_bindgen::JsValue> {
    use wasm_bindgen::{JsCast, JsValue};
    use web_sys::js_sys::{Array, Function, Reflect};

    let window = web_sys::window()?;
    let storage = Reflect::get(&window, &JsValue::from_str("sessionStorage")).ok()?;
    let function = Reflect::get(&storage, &JsValue::from_str(method))
        .ok()?
        .dyn_into::<Function>()
        .ok()?;
    let args: Array = args.iter().map(|arg| JsValue::from_str(arg)).collect();
    function.apply(&storage, &args).ok()
}
