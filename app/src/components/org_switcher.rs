//! The customer switcher for carrier staff: which customer's pages they are looking at.
//!
//! Staff act for a customer by adding `?org=SLUG` to the API's organisation-scoped routes.
//! The choice lives in the browser tab (`sessionStorage`, see `api::org`), and `api::client` adds it to every
//! request, so no page has to think about it. A page's URL may carry `?org=SLUG` too (a link
//! shared between colleagues); that choice is taken over when the page loads.
//!
//! Changing the customer reloads the current page, so that every resource on it loads again
//! for the new customer and nothing of the previous one stays on screen. The sign-in pages
//! forget the choice (see `AppLayout`), so the next person to sign in in this tab never
//! inherits it.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

use crate::api::org::{selected_org, set_selected_org};
use crate::api::sso::{
    provider_organisation, search_provider_organisations, ProviderOrganisation, ProviderSearch,
    PROVIDER_SEARCH_MAX_CHARS,
};
use crate::api::ApiError;
use crate::components::browser::full_page_load;
use crate::components::user_menu::{use_current_user, MeState};

/// Whether `me` is staff who have not chosen a customer yet: organisation-scoped pages then
/// have nothing to show (the API answers 400 `org_required`) and ask for the choice instead.
pub fn needs_customer_choice(me: &crate::api::auth::MeResponse, selected: Option<&str>) -> bool {
    me.user.staff && selected.is_none_or(str::is_empty)
}

/// What an organisation-scoped page shows staff before they choose a customer.
#[component]
pub fn ChooseCustomerFirst() -> impl IntoView {
    view! {
        <div class="empty-box" data-testid="choose-customer">
            <p class="empty-title">"Choose a customer to see this page."</p>
            <p class="muted">"As carrier staff you can view any customer's pages: pick one in “Viewing customer” above."</p>
        </div>
    }
}

/// `search` (a URL's query string, with or without `?`) without its `org` parameter, as a
/// query string to append to a path (`""` or `"?…"`).
pub fn query_without_org(search: &str) -> String {
    let kept: Vec<&str> = search
        .trim_start_matches('?')
        .split('&')
        .filter(|pair| !pair.is_empty() && *pair != "org" && !pair.starts_with("org="))
        .collect();
    if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    }
}

/// How many customers the switcher suggests at once; typing narrows them.
pub const SWITCHER_SUGGESTIONS: u32 = 20;

/// The customer the text typed in the switcher names, among `found` (a search for that
/// text): the one whose slug it is, else the only one found.
pub fn chosen_customer<'a>(
    found: &'a [ProviderOrganisation],
    total: i64,
    typed: &str,
) -> Option<&'a ProviderOrganisation> {
    let typed = typed.trim();
    found
        .iter()
        .find(|org| org.slug.eq_ignore_ascii_case(typed))
        .or_else(|| (total == 1).then(|| found.first()).flatten())
}

/// What the switcher says when the typed text names no single customer.
pub fn no_single_match(total: i64, typed: &str) -> String {
    let typed = typed.trim();
    match total {
        0 => format!("No customer matches “{typed}”. Try part of the name, the slug or a tenant ID."),
        n => format!("{n} customers match “{typed}”: pick one from the suggestions, or type more of the name."),
    }
}

/// Remembers `slug` as this tab's customer (or forgets it) and loads the current page
/// again, without a `?org=` of its own, so that everything on it is that customer's.
fn switch_to(slug: Option<&str>, path: &str, search: &str) {
    set_selected_org(slug);
    full_page_load(&format!("{path}{}", query_without_org(search)));
}

/// The `inputType` of an `input` event; `insertReplacementText` when a suggestion of a
/// `<datalist>` was picked. Through `Reflect` so the app needs no extra `web-sys` feature.
fn input_type(ev: &leptos::ev::Event) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::js_sys::Reflect::get(ev, &wasm_bindgen::JsValue::from_str("inputType"))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = ev;
        String::new()
    }
}

/// For staff: a bar above every page saying which customer they are viewing, with a search
/// box to change it. Nothing for anyone else.
#[component]
pub fn OrgSwitcher() -> impl IntoView {
    let current = use_current_user();
    let is_staff = move || matches!(current.me.get(), Some(MeState::SignedIn(me)) if me.user.staff);
    view! {
        <Show when=is_staff>
            <StaffOrgBar />
        </Show>
    }
}

/// The bar itself. A carrier has thousands of customers, so the box searches the server
/// (`GET /api/v1/provider/organisations?q=&limit=`) as staff type and offers the first
/// [`SWITCHER_SUGGESTIONS`] as the input's suggestions; picking one, or pressing Enter on a
/// slug or on text only one customer matches, switches to it.
#[component]
fn StaffOrgBar() -> impl IntoView {
    let location = use_location();
    let query = use_query_map();
    // A `?org=` in the page's URL wins over the tab's earlier choice (a shared link).
    if let Some(slug) = query
        .with_untracked(|q| q.get("org"))
        .filter(|s| !s.is_empty())
    {
        if selected_org().as_deref() != Some(slug.as_str()) {
            set_selected_org(Some(&slug));
            // Resources of this page may already have asked without it: start over.
            full_page_load(&format!(
                "{}{}",
                location.pathname.get_untracked(),
                query_without_org(&location.search.get_untracked())
            ));
        }
    }
    let selected = selected_org();
    let chosen = LocalResource::new({
        let selected = selected.clone();
        move || {
            let selected = selected.clone();
            async move {
                match selected {
                    Some(slug) => provider_organisation(&slug).await.map(Some),
                    None => Ok(None),
                }
            }
        }
    });
    let typed = RwSignal::new(selected.clone().unwrap_or_default());
    // `None` until staff first use the box: a page load asks for no suggestions.
    let search_text = RwSignal::new(None::<String>);
    let suggestions = LocalResource::new(move || {
        let q = search_text.get();
        async move {
            let Some(q) = q else {
                return Ok(None);
            };
            search_provider_organisations(&ProviderSearch {
                q,
                cursor: None,
                limit: Some(SWITCHER_SUGGESTIONS),
            })
            .await
            .map(Some)
        }
    });
    let hint = RwSignal::new(String::new());
    let mut search_soon = debounce(std::time::Duration::from_millis(200), move |()| {
        search_text.set(Some(typed.get_untracked().trim().to_string()));
    });
    let here = move || {
        (
            location.pathname.get_untracked(),
            location.search.get_untracked(),
        )
    };
    // Enter: the slug typed, or the only customer the text matches; else say why not.
    let resolve = move || {
        let text = typed.get_untracked().trim().to_string();
        if text.is_empty() || selected_org().as_deref() == Some(text.as_str()) {
            return;
        }
        hint.set("Looking for the customer…".to_string());
        leptos::task::spawn_local(async move {
            let search = ProviderSearch {
                q: text.clone(),
                cursor: None,
                limit: Some(SWITCHER_SUGGESTIONS),
            };
            match search_provider_organisations(&search).await {
                Ok(found) => match chosen_customer(&found.organisations, found.total, &text) {
                    Some(org) => {
                        let (path, search) = here();
                        switch_to(Some(&org.slug), &path, &search);
                    }
                    None => hint.set(no_single_match(found.total, &text)),
                },
                Err(error) => hint.set(format!(
                    "The customers could not be searched. {error} Try again in a moment."
                )),
            }
        });
    };
    let on_input = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        typed.set(value.clone());
        hint.set(String::new());
        // A picked suggestion switches at once; typing searches.
        let picked = input_type(&ev) == "insertReplacementText"
            && suggestions.with_untracked(|found| {
                matches!(found, Some(Ok(Some(found))) if found.organisations.iter().any(|org| org.slug == value))
            });
        if picked {
            let (path, search) = here();
            switch_to(Some(&value), &path, &search);
        } else {
            search_soon(());
        }
    };
    let stop = move |_| {
        let (path, search) = here();
        switch_to(None, &path, &search);
    };
    view! {
        <div class="org-bar" role="region" aria-label="Customer">
            <label for="org-switcher" class="org-bar-label">"Viewing customer"</label>
            <input
                id="org-switcher"
                class="input org-bar-input"
                type="search"
                list="org-switcher-options"
                autocomplete="off"
                autocapitalize="none"
                spellcheck="false"
                maxlength=PROVIDER_SEARCH_MAX_CHARS.to_string()
                placeholder="Name, slug or tenant ID"
                aria-describedby="org-bar-hint"
                prop:value=move || typed.get()
                on:input=on_input
                on:focus=move |_| {
                    if search_text.with_untracked(Option::is_none) {
                        search_text.set(Some(String::new()));
                    }
                }
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" {
                        ev.prevent_default();
                        resolve();
                    }
                }
            />
            <datalist id="org-switcher-options">
                {move || {
                    suggestions
                        .get()
                        .and_then(Result::ok)
                        .flatten()
                        .map(|found| {
                            found
                                .organisations
                                .into_iter()
                                .map(|org| view! { <option value=org.slug>{org.name}</option> })
                                .collect_view()
                        })
                }}
            </datalist>
            {selected.is_some().then(|| view! {
                <button type="button" class="button secondary small" on:click=stop>"Stop viewing"</button>
            })}
            <span class="org-bar-current">
                {move || {
                    const ACTING: &str = " as carrier staff, with an administrator's rights.";
                    let (before, name, after) = match (selected.clone(), chosen.get()) {
                        (None, _) => ("Search for the customer whose services, numbers and calls you want to see, then pick it.", String::new(), ""),
                        (Some(slug), Some(Ok(Some(org)))) if org.slug == slug => ("You are acting for ", org.name, ACTING),
                        (Some(slug), Some(Err(ApiError::Api { status: 404, .. }))) => ("There is no customer ", format!("“{slug}”"), " any more. Choose another, or stop viewing."),
                        (Some(slug), _) => ("You are acting for ", slug, ACTING),
                    };
                    view! { {before} <strong>{name}</strong> {after} }
                }}
            </span>
            <span id="org-bar-hint" class="org-bar-hint" role="status">{move || hint.get()}</span>
            {move || {
                suggestions.get().and_then(Result::err).map(|error| {
                    view! {
                        <span class="org-bar-error" role="alert">
                            "The customers could not be searched. " {error.to_string()}
                            " Reload the page to try again."
                        </span>
                    }
                })
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_org_parameter_is_dropped_and_the_rest_kept() {
        assert_eq!(query_without_org(""), "");
        assert_eq!(query_without_org("?org=contoso"), "");
        assert_eq!(query_without_org("?a=1&org=contoso&b=2"), "?a=1&b=2");
        assert_eq!(query_without_org("a=1"), "?a=1");
        assert_eq!(query_without_org("?organisation=x"), "?organisation=x");
    }

    #[test]
    fn only_staff_without_a_choice_are_asked_to_choose() {
        use crate::api::auth::{MeResponse, MeUser};
        let me = |staff: bool| MeResponse {
            user: MeUser {
                id: "u".into(),
                email: "e@x.example".into(),
                name: "E".into(),
                role: None,
                staff,
                mfa_enabled: false,
                has_password: true,
                auth_method: "password".into(),
                email_codes: false,
                mfa_methods_allowed: Vec::new(),
            },
            organisation: None,
        };
        assert!(needs_customer_choice(&me(true), None));
        assert!(needs_customer_choice(&me(true), Some("")));
        assert!(!needs_customer_choice(&me(true), Some("contoso")));
        assert!(!needs_customer_choice(&me(false), None));
    }

    fn org(slug: &str, name: &str) -> ProviderOrganisation {
        ProviderOrganisation {
            id: format!("id-{slug}"),
            slug: slug.into(),
            name: name.into(),
            users: 0,
            mfa_policy: crate::api::audit::MfaPolicy {
                required: false,
                methods: vec!["totp".into()],
            },
            sso: crate::api::sso::SsoSettings {
                enabled: false,
                jit_provisioning: true,
                default_role: "viewer".into(),
                require_sso: false,
                mfa_evidence: "off".into(),
                auth_context: None,
                tenants: vec![],
            },
        }
    }

    #[test]
    fn enter_takes_the_slug_typed_or_the_only_match() {
        let found = [
            org("contoso", "Contoso Ltd"),
            org("contoso-uk", "Contoso UK"),
        ];
        // The slug wins over other matches, in any case and with spaces around it.
        assert_eq!(
            chosen_customer(&found, 2, " Contoso ").map(|o| o.slug.as_str()),
            Some("contoso")
        );
        assert_eq!(
            chosen_customer(&found, 2, "contoso-uk").map(|o| o.slug.as_str()),
            Some("contoso-uk")
        );
        // Text two customers match names neither.
        assert!(chosen_customer(&found, 2, "conto").is_none());
        // Text one customer matches (its name, or a tenant ID) names it.
        assert_eq!(
            chosen_customer(&found[1..], 1, "UK").map(|o| o.slug.as_str()),
            Some("contoso-uk")
        );
        assert!(chosen_customer(&[], 0, "nobody").is_none());
        assert!(no_single_match(0, " nobody ").starts_with("No customer matches “nobody”."));
        assert!(no_single_match(2, "conto").starts_with("2 customers match “conto”"));
    }
}
