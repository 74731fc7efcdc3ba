//! A data table in the portal's look: a scrolling wrapper, a caption for screen readers,
//! column headers, and rows that become small cards below 640 px (`.stacked-table`, each cell
//! names its column with `data-label`); plus the "Load more" button of keyset-paginated lists.

use leptos::prelude::*;

/// A table with `columns` as headers and `children` as its `<tr>` rows.
#[component]
pub fn DataTable(
    /// Read by screen readers only, says what the table lists.
    caption: &'static str,
    /// The column headers; an empty one is a column without a visible title (actions).
    columns: Vec<&'static str>,
    /// For tests.
    testid: &'static str,
    /// The rows.
    children: Children,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="data-table stacked-table" data-testid=testid>
                <caption class="visually-hidden">{caption}</caption>
                <thead>
                    <tr>
                        {columns
                            .into_iter()
                            .map(|c| {
                                if c.is_empty() {
                                    view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> }
                                        .into_any()
                                } else {
                                    view! { <th scope="col">{c}</th> }.into_any()
                                }
                            })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}

/// "Load more" below a keyset-paginated list: shown while there is a next page, busy while it
/// loads; `shown` is how many rows are on the page, announced to screen readers.
#[component]
pub fn LoadMore(
    /// Whether the API gave a cursor for another page.
    #[prop(into)]
    has_more: Signal<bool>,
    /// A page is loading.
    #[prop(into)]
    busy: Signal<bool>,
    /// How many rows are shown.
    #[prop(into)]
    shown: Signal<usize>,
    /// What the rows are, singular and plural (`("number", "numbers")`).
    noun: (&'static str, &'static str),
    /// Loads the next page.
    #[prop(into)]
    on_more: Callback<()>,
) -> impl IntoView {
    view! {
        <div class="load-more">
            <p class="status-text" role="status">
                {move || shown_text(shown.get(), noun, has_more.get())}
            </p>
            <Show when=move || has_more.get()>
                <button
                    type="button"
                    class="button secondary"
                    disabled=move || busy.get()
                    aria-busy=move || busy.get().then_some("true")
                    on:click=move |_| on_more.run(())
                >
                    {move || if busy.get() { "Loading…" } else { "Load more" }}
                </button>
            </Show>
        </div>
    }
}

/// "Showing the first 50 numbers; more are available.", "Showing all 12 numbers." or
/// "Showing the only number." (`noun` is singular and plural).
pub fn shown_text(shown: usize, noun: (&str, &str), has_more: bool) -> String {
    let (one, many) = noun;
    let count = crate::format::format_count(i64::try_from(shown).unwrap_or(i64::MAX));
    if has_more {
        format!("Showing the first {count} {many}; more are available.")
    } else if shown == 1 {
        format!("Showing the only {one}.")
    } else {
        format!("Showing all {count} {many}.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_says_whether_more_are_available() {
        assert_eq!(
            shown_text(50, ("number", "numbers"), true),
            "Showing the first 50 numbers; more are available."
        );
        assert_eq!(
            shown_text(3, ("call", "calls"), false),
            "Showing all 3 calls."
        );
        assert_eq!(
            shown_text(1, ("call", "calls"), false),
            "Showing the only call."
        );
        assert_eq!(
            shown_text(1234, ("call", "calls"), false),
            "Showing all 1,234 calls."
        );
    }
}
