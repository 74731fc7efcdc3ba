//! The row under a table row that asks "are you sure?" before a destructive action (deactivate
//! a user, revoke a token, delete an address) and says how it went: the error of the last
//! attempt (`role="alert"`), an optional notice (`role="status"`), and while `confirming` the
//! question with the action's button and a way back. Shown only when it has something to say.

use leptos::prelude::*;

/// The words of one confirmation.
#[derive(Debug, Clone, Copy)]
pub struct ConfirmWords {
    /// The group's accessible name, e.g. "Confirm deactivation".
    pub label: &'static str,
    /// The action's button, e.g. "Deactivate".
    pub confirm: &'static str,
    /// The button while the action runs, e.g. "Deactivating…".
    pub busy: &'static str,
    /// The button that changes nothing, e.g. "Cancel" or "Keep it".
    pub cancel: &'static str,
}

/// The confirmation row; see the module documentation.
#[component]
pub fn ConfirmRow(
    /// How many columns the table has (the row spans them all).
    columns: usize,
    /// The words of the question's buttons and group.
    words: ConfirmWords,
    /// The question, naming what the action applies to and what follows from it.
    #[prop(into)]
    question: String,
    /// Whether the question is open; "Cancel" closes it.
    confirming: RwSignal<bool>,
    /// The action is running.
    #[prop(into)]
    busy: Signal<bool>,
    /// The action.
    on_confirm: Callback<()>,
    /// What went wrong the last time.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// What went right, when the row says it (`None`: nothing to say).
    #[prop(optional, into)]
    notice: Option<Signal<Option<String>>>,
    /// A `data-testid` for the error, for tests that look for it.
    #[prop(optional)]
    error_testid: Option<&'static str>,
) -> impl IntoView {
    let has_notice = move || notice.is_some_and(|n| n.with(Option::is_some));
    let question = StoredValue::new(question);
    view! {
        <Show when=move || confirming.get() || error.with(Option::is_some) || has_notice()>
            <tr class="confirm-row">
                <td colspan=columns>
                    {move || error.get().map(|text| view! {
                        <p class="alert error" role="alert" data-testid=error_testid>{text}</p>
                    })}
                    {notice.map(|notice| view! {
                        <div role="status">
                            {move || notice.get().map(|text| view! { <p class="alert ok">{text}</p> })}
                        </div>
                    })}
                    <Show when=move || confirming.get()>
                        <div class="confirm-panel alert warn" role="group" aria-label=words.label>
                            <p>{question.get_value()}</p>
                            <div class="actions">
                                <button
                                    type="button"
                                    class="button danger small"
                                    disabled=move || busy.get()
                                    on:click=move |_| on_confirm.run(())
                                >
                                    {move || if busy.get() { words.busy } else { words.confirm }}
                                </button>
                                <button type="button" class="button secondary small" on:click=move |_| confirming.set(false)>
                                    {words.cancel}
                                </button>
                            </div>
                        </div>
                    </Show>
                </td>
            </tr>
        </Show>
    }
}
