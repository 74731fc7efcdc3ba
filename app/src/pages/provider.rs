//! `/provider`: the carrier staff's console of customers and their single sign-on.
//!
//! A search box narrows the customers by name, slug or linked tenant id as one types; the
//! search lives in the URL (`?q=`) and runs on the server a page at a time ("Load more"),
//! and a live region says how many customers match. A table lists the customers found (name,
//! slug, users, SSO on/off, linked tenants) with "View as", which picks the customer in the
//! staff customer switcher and opens its overview. Below it each customer has a card to enable
//! or disable SSO, link a Microsoft Entra tenant by its id, and disable, enable or unlink each
//! tenant. Disabling SSO and unlinking a tenant end SSO sessions at once, so both ask for a
//! confirmation in place first. After a change the customer's row and card show the state the
//! API answered with.
//!
//! Buttons carry the customer (and tenant) in their accessible name ("Enable SSO for
//! Contoso"), so every one of them is unambiguous on a page full of customers.
//!
//! Here: the page, its access check and the search's URL. Beside it: `action` (what each
//! button does, and the one action in flight), `search` (the search box), `customers` (the
//! table and the cards' list), `card` (one customer's SSO and tenants) and `link_form`.

mod action;
mod card;
mod customers;
mod link_form;
mod mfa_form;
mod search;

use leptos::{html, prelude::*};
use leptos_meta::Title;
use leptos_router::{
    hooks::{use_navigate, use_query_map},
    NavigateOptions,
};

use crate::api::org::set_selected_org;
use crate::api::{
    client::percent_encode,
    sso::{
        search_provider_organisations, ProviderSearch, PROVIDER_PAGE_SIZE,
        PROVIDER_SEARCH_MAX_CHARS,
    },
};
use crate::components::{
    access::{page_access, AccessProblem, PageAccess},
    browser::{full_page_load, in_browser},
    empty_state::EmptyState,
    form::NeedsJavaScript,
    layout::is_staff,
    load_error::LoadError,
    user_menu::use_current_user,
};
use crate::format::format_count;
use crate::pages::overview::OVERVIEW_PATH;
use crate::pages::sso::LoadingCard;
use customers::ProviderResults;
use search::CustomerSearch;

/// This page's path.
pub const PROVIDER_PATH: &str = "/provider";

/// What a user who is not carrier staff sees.
pub const PROVIDER_FORBIDDEN_MESSAGE: &str =
    "Only carrier staff can use the provider console. If you need access, ask the carrier's portal team.";

/// An element id made from a slug: letters, digits, `-` and `_` kept, anything else `-`.
pub fn id_fragment(slug: &str) -> String {
    slug.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// "1 user", "12 users".
pub fn users_label(users: i64) -> String {
    if users == 1 {
        "1 user".to_string()
    } else {
        format!("{users} users")
    }
}

/// The search as the page's URL carries it (`?q=`): trimmed, and cut to the length the API
/// accepts (the box itself allows no more; a longer one can only come from an edited URL).
pub fn search_text(raw: &str) -> String {
    raw.trim()
        .chars()
        .take(PROVIDER_SEARCH_MAX_CHARS)
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// The console's own URL for the search `q`, so a link or a reload keeps it.
pub fn provider_page_url(q: &str) -> String {
    let q = search_text(q);
    if q.is_empty() {
        PROVIDER_PATH.to_string()
    } else {
        format!("{PROVIDER_PATH}?q={}", percent_encode(&q))
    }
}

/// What the live region says once a search has answered: how many customers match.
pub fn match_count_text(total: i64, q: &str) -> String {
    let count = format_count(total);
    match (q.is_empty(), total) {
        (true, 0) => "There are no customers yet.".to_string(),
        (true, 1) => "1 customer.".to_string(),
        (true, _) => format!("{count} customers."),
        (false, 0) => format!("No customer matches “{q}”."),
        (false, 1) => format!("1 customer matches “{q}”."),
        (false, _) => format!("{count} customers match “{q}”."),
    }
}

/// Where "View as" goes: the overview, with the customer in the URL as well, so the link
/// also works opened in a new tab (the customer switcher takes `?org=` over on load).
pub fn view_as_href(slug: &str) -> String {
    format!("{OVERVIEW_PATH}?org={}", percent_encode(slug))
}

/// Selects `slug` in the staff customer switcher (the same tab storage it uses) and opens
/// that customer's overview with a full page load, as the switcher does when its choice
/// changes, so the top bar and every resource start over for that customer.
fn view_as(slug: &str) {
    set_selected_org(Some(slug));
    full_page_load(OVERVIEW_PATH);
}

/// Whether a click on a link is a plain one (no new tab or window asked for).
fn is_plain_click(ev: &leptos::ev::MouseEvent) -> bool {
    ev.button() == 0 && !(ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key())
}

/// The reads the page makes when it first renders, for its route to start ahead.
/// The search comes from the address's query, as the page's own.
pub fn first_reads() -> Vec<String> {
    let q = use_query_map().with_untracked(|p| search_text(&p.get("q").unwrap_or_default()));
    vec![crate::api::sso::search_path(&first_search(q))]
}

/// The first page of customers `q` finds.
fn first_search(q: String) -> ProviderSearch {
    ProviderSearch {
        q,
        cursor: None,
        limit: Some(PROVIDER_PAGE_SIZE),
    }
}

/// The provider console.
#[component]
pub fn ProviderPage() -> impl IntoView {
    let me = use_current_user().me;
    view! {
        <Title text="Provider console" />
        <section class="page provider-page">
            <h1>"Provider console"</h1>
            <NeedsJavaScript />
            <Transition fallback=|| view! { <LoadingCard label="Loading the provider console" /> }>
                {move || Suspend::new(async move {
                    match page_access(&in_browser(me).await, is_staff) {
                        PageAccess::Allowed => view! { <ProviderConsole /> }.into_any(),
                        access => {
                            view! {
                                <AccessProblem
                                    access=access
                                    forbidden_message=PROVIDER_FORBIDDEN_MESSAGE
                                    return_to=PROVIDER_PATH
                                    me=me
                                />
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

/// The search, the customers and their cards.
///
/// The search runs on the server (`GET /api/v1/provider/organisations?q=&limit=&cursor=`), a
/// page at a time: a carrier has thousands of customers, too many to download, and draw with
/// their cards, to find one.
#[component]
fn ProviderConsole() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.with(|p| search_text(&p.get("q").unwrap_or_default())));
    let results = LocalResource::new(move || {
        let q = q.get();
        async move {
            let search = first_search(q.clone());
            search_provider_organisations(&search)
                .await
                .map(|page| (q, page))
        }
    });
    let search_ref = NodeRef::<html::Input>::new();
    let navigate = use_navigate();
    let clear = Callback::new(move |()| {
        navigate(
            PROVIDER_PATH,
            NavigateOptions {
                scroll: false,
                ..NavigateOptions::default()
            },
        );
        // The clicked "Clear search" goes away; the keyboard continues in the search box.
        if let Some(input) = search_ref.get_untracked() {
            let _ = input.focus();
        }
    });
    view! {
        <p class="muted">
            "Every customer of the portal. Enable single sign-on for a customer, then link its Microsoft Entra ID tenant here or let its administrator connect it from their Single sign-on page. “View as” opens a customer's own pages."
        </p>
        <CustomerSearch q=q clear=clear input_ref=search_ref />
        // Outside the list, so it exists before its text changes and screen readers read
        // each new count.
        <p class="status-text provider-count" role="status" data-testid="customer-count">
            {move || {
                results
                    .get()
                    .and_then(Result::ok)
                    .map(|(q, page)| match_count_text(page.total, &q))
            }}
        </p>
        <Transition fallback=|| view! { <LoadingCard label="Loading customers" /> }>
            {move || Suspend::new(async move {
                match in_browser(results).await {
                    Ok((q, page)) if page.organisations.is_empty() && !q.is_empty() => {
                        view! {
                            <EmptyState
                                title=format!("No customer matches “{q}”.")
                                hint="Check the spelling, or search by slug or Microsoft Entra tenant ID. Clear the search to see every customer."
                                testid="customers-empty"
                            >
                                <button type="button" class="button secondary" on:click=move |_| clear.run(())>
                                    "Clear search"
                                </button>
                            </EmptyState>
                        }
                            .into_any()
                    }
                    Ok((_, page)) if page.organisations.is_empty() => {
                        view! {
                            <p class="empty-state card" data-testid="customers-empty">
                                "There are no customers yet. Create one with " <code>"portal org create"</code> "."
                            </p>
                        }
                            .into_any()
                    }
                    Ok((q, page)) => view! { <ProviderResults q=q page=page /> }.into_any(),
                    Err(error) => {
                        view! {
                            <LoadError
                                error=error
                                what="The customers"
                                return_to=PROVIDER_PATH
                                forbidden_message=PROVIDER_FORBIDDEN_MESSAGE
                                on_retry=Callback::new(move |()| results.refetch())
                            />
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_make_safe_element_ids() {
        assert_eq!(id_fragment("contoso-ltd"), "contoso-ltd");
        assert_eq!(id_fragment("Fabrikam Inc."), "fabrikam-inc-");
        assert_eq!(id_fragment("a\"b<c"), "a-b-c");
    }

    #[test]
    fn the_search_in_the_url_is_trimmed_and_bounded() {
        assert_eq!(search_text("  Contoso  "), "Contoso");
        assert_eq!(search_text(""), "");
        assert_eq!(search_text(" \t "), "");
        let long = "é".repeat(PROVIDER_SEARCH_MAX_CHARS + 10);
        assert_eq!(
            search_text(&long).chars().count(),
            PROVIDER_SEARCH_MAX_CHARS
        );
        // Cut at the limit, then no trailing space is left behind.
        let spaced = format!("{} x", "a".repeat(PROVIDER_SEARCH_MAX_CHARS - 1));
        assert_eq!(
            search_text(&spaced),
            "a".repeat(PROVIDER_SEARCH_MAX_CHARS - 1)
        );
    }

    #[test]
    fn the_page_url_keeps_the_search() {
        assert_eq!(provider_page_url(""), "/provider");
        assert_eq!(provider_page_url("   "), "/provider");
        assert_eq!(provider_page_url(" Contoso "), "/provider?q=Contoso");
        assert_eq!(
            provider_page_url("50% & co"),
            "/provider?q=50%25%20%26%20co"
        );
    }

    #[test]
    fn the_count_says_how_many_match() {
        assert_eq!(match_count_text(0, ""), "There are no customers yet.");
        assert_eq!(match_count_text(1, ""), "1 customer.");
        assert_eq!(match_count_text(12, ""), "12 customers.");
        assert_eq!(match_count_text(0, "zz"), "No customer matches “zz”.");
        assert_eq!(match_count_text(1, "con"), "1 customer matches “con”.");
        assert_eq!(match_count_text(3, "con"), "3 customers match “con”.");
    }

    #[test]
    fn view_as_opens_the_overview_for_that_customer() {
        assert_eq!(view_as_href("contoso"), "/?org=contoso");
        assert_eq!(view_as_href("a b&c"), "/?org=a%20b%26c");
    }

    #[test]
    fn user_counts_read_as_words() {
        assert_eq!(users_label(0), "0 users");
        assert_eq!(users_label(1), "1 user");
        assert_eq!(users_label(12), "12 users");
    }
}
