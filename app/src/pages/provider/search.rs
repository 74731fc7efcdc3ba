//! The customer search box: it follows typing after a pause and keeps the search in the URL.

use leptos::{ev::SubmitEvent, html, prelude::*};
use leptos_router::{hooks::use_navigate, NavigateOptions};

use crate::api::sso::PROVIDER_SEARCH_MAX_CHARS;
use crate::components::form::{hint_id, SubmitButton};

use super::{provider_page_url, search_text, PROVIDER_PATH};

/// The search box's element id.
const SEARCH_INPUT_ID: &str = "customer-search";

/// How long typing pauses before the list follows.
const SEARCH_DELAY: std::time::Duration = std::time::Duration::from_millis(250);

/// The search box: the list follows as one types (after a short pause); Enter searches at
/// once. Either way the search goes into the URL (`?q=`); typing replaces the history entry
/// rather than adding one per letter.
#[component]
pub(super) fn CustomerSearch(
    q: Memo<String>,
    clear: Callback<()>,
    input_ref: NodeRef<html::Input>,
) -> impl IntoView {
    let text = RwSignal::new(q.get_untracked());
    // Back, forward or a link changed `?q=`: the box follows, unless it already says that.
    Effect::new(move |_| {
        let from_url = q.get();
        if search_text(&text.get_untracked()) != from_url {
            text.set(from_url);
        }
    });
    let navigate = use_navigate();
    let go = move |replace: bool| {
        let url = provider_page_url(&text.get_untracked());
        navigate(
            &url,
            NavigateOptions {
                replace,
                scroll: false,
                ..NavigateOptions::default()
            },
        );
    };
    // It reads the box when it fires, so a "Clear" in between is not undone.
    let mut search_soon = debounce(SEARCH_DELAY, {
        let go = go.clone();
        move |()| go(true)
    });
    let hint = hint_id(SEARCH_INPUT_ID);
    view! {
        <form
            class="card provider-search"
            role="search"
            method="get"
            action=PROVIDER_PATH
            on:submit=move |ev: SubmitEvent| {
                ev.prevent_default();
                go(false);
            }
        >
            <div class="field">
                <label class="field-label" for=SEARCH_INPUT_ID>"Search customers"</label>
                <p class="field-hint" id=hint.clone()>
                    "Part of a customer's name or slug, or a Microsoft Entra tenant ID. The list narrows as you type."
                </p>
                <div class="inline-form-row">
                    <input
                        id=SEARCH_INPUT_ID
                        name="q"
                        class="input"
                        type="search"
                        autocomplete="off"
                        autocapitalize="none"
                        spellcheck="false"
                        maxlength=PROVIDER_SEARCH_MAX_CHARS.to_string()
                        aria-describedby=hint
                        node_ref=input_ref
                        prop:value=move || text.get()
                        on:input=move |ev| {
                            text.set(event_target_value(&ev));
                            search_soon(());
                        }
                    />
                    <SubmitButton label="Search" busy_label="Searching…" />
                    <Show when=move || !text.with(|t| t.trim().is_empty())>
                        <button
                            type="button"
                            class="button secondary"
                            on:click=move |_| {
                                text.set(String::new());
                                clear.run(());
                            }
                        >
                            "Clear search"
                        </button>
                    </Show>
                </div>
            </div>
        </form>
    }
}
