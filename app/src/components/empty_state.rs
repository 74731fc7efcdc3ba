//! What a list shows when it has nothing in it: a short statement and what to do about it
//! (create the first item, widen the filters), never an empty table.

use leptos::prelude::*;

/// An empty list's message and the next step.
#[component]
pub fn EmptyState(
    /// What is not there ("No numbers match these filters.").
    title: String,
    /// What to do about it.
    #[prop(optional, into)]
    hint: Option<String>,
    /// An action (a button or link), if there is one.
    #[prop(optional)]
    children: Option<Children>,
    /// For tests.
    #[prop(optional)]
    testid: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class="empty-box" data-testid=testid.unwrap_or("empty-state")>
            <p class="empty-title">{title}</p>
            {hint.map(|hint| view! { <p class="muted">{hint}</p> })}
            {children.map(|children| view! { <div class="actions">{children()}</div> })}
        </div>
    }
}
