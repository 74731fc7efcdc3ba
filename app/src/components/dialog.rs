//! A modal dialog: a panel over a dimmed page, `role="dialog"` with `aria-modal` and a title
//! that labels it. Opening moves the keyboard focus into the panel, Tab stays inside it (two
//! focus guards send it back to the panel), Escape or the close button closes it, and closing
//! gives the focus back to whatever had it before (usually the button that opened it).

use leptos::{html, prelude::*};

/// The id of a dialog's title element.
pub fn dialog_title_id(id: &str) -> String {
    format!("{id}-title")
}

/// The element that has the keyboard focus, to return it on close.
#[cfg(target_arch = "wasm32")]
fn focused_element() -> Option<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast;
    web_sys::window()?
        .document()?
        .active_element()?
        .dyn_into::<web_sys::HtmlElement>()
        .ok()
}

/// A modal dialog, rendered while `open` is true.
#[component]
pub fn Dialog(
    /// A page-unique id; the title gets `{id}-title`.
    id: &'static str,
    /// The visible title.
    #[prop(into)]
    title: Signal<String>,
    /// Whether it is shown.
    #[prop(into)]
    open: Signal<bool>,
    /// Asked to close (Escape, the close button, a click on the backdrop).
    #[prop(into)]
    on_close: Callback<()>,
    /// The content (usually a form).
    children: ChildrenFn,
) -> impl IntoView {
    let panel = NodeRef::<html::Div>::new();
    // Where the focus was before opening; only ever set in the browser.
    #[cfg(target_arch = "wasm32")]
    let previous = StoredValue::new_local(None::<web_sys::HtmlElement>);
    Effect::new(move |was_open: Option<bool>| {
        let is_open = open.get();
        #[cfg(target_arch = "wasm32")]
        {
            if is_open && was_open != Some(true) {
                previous.set_value(focused_element());
            }
            if !is_open && was_open == Some(true) {
                if let Some(element) = previous.get_value() {
                    let _ = element.focus();
                }
            }
        }
        #[cfg(not(target_arch = "wasm32"))]
        let _ = was_open;
        is_open
    });
    // Focus the panel once it is in the page.
    Effect::new(move |_| {
        if let Some(panel) = panel.get() {
            let _ = panel.focus();
        }
    });
    let focus_panel = move |_| {
        if let Some(panel) = panel.get_untracked() {
            let _ = panel.focus();
        }
    };
    let children = StoredValue::new(children);
    view! {
        <Show when=move || open.get()>
            <div class="dialog-backdrop" on:click=move |_| on_close.run(())></div>
            <div class="dialog-layer">
                <span tabindex="0" class="focus-guard" on:focus=focus_panel></span>
                <div
                    class="dialog"
                    id=id
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby=dialog_title_id(id)
                    tabindex="-1"
                    node_ref=panel
                    on:keydown=move |ev| {
                        if ev.key() == "Escape" {
                            ev.stop_propagation();
                            on_close.run(());
                        }
                    }
                >
                    <header class="dialog-header">
                        <h2 id=dialog_title_id(id)>{move || title.get()}</h2>
                        <button
                            type="button"
                            class="button secondary small dialog-close"
                            aria-label="Close"
                            on:click=move |_| on_close.run(())
                        >
                            <svg aria-hidden="true" viewBox="0 0 24 24" width="18" height="18">
                                <path d="M6 6l12 12M18 6L6 18" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
                            </svg>
                        </button>
                    </header>
                    <div class="dialog-body">{move || children.with_value(|c| c())}</div>
                </div>
                <span tabindex="0" class="focus-guard" on:focus=focus_panel></span>
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_id_derives_from_the_dialog_id() {
        assert_eq!(dialog_title_id("edit-number"), "edit-number-title");
    }
}
