//! Loading placeholders: grey blocks in the shape of what is coming (a table's rows, a card),
//! marked `aria-busy` with a label so screen readers say what is loading instead of reading
//! nothing. The shimmer stops for people who ask for reduced motion (see `style/main.css`).

use leptos::prelude::*;

/// Placeholder rows for a table that is loading.
#[component]
pub fn SkeletonTable(
    /// What is loading, for screen readers ("Loading numbers").
    label: &'static str,
    /// How many placeholder rows to show.
    #[prop(default = 5)]
    rows: usize,
) -> impl IntoView {
    view! {
        <div class="skeleton-table" role="status" aria-busy="true" aria-label=label>
            {(0..rows).map(|_| view! { <div class="skeleton skeleton-row"></div> }).collect_view()}
        </div>
    }
}

/// One placeholder block (a card, a panel).
#[component]
pub fn SkeletonBlock(
    /// What is loading, for screen readers.
    label: &'static str,
) -> impl IntoView {
    view! { <div class="skeleton skeleton-block" role="status" aria-busy="true" aria-label=label></div> }
}
