//! The customer switcher for carrier staff: which customer's pages they are looking at.
//!
//! Staff act for a customer by adding `?org=SLUG` to the API's organisation-scoped routes.
//! The choice lives in the browser tab (`sessionStorage`), and `api::client` adds it to every
//! request, so no page has to think about it. A page's URL may carry `?org=SLUG` too (a link
//! shared between colleagues); that choice is taken over when the page loads.
//!
//! Changing the customer reloads the current page, so that every resource on it loads again
//! for the new customer and nothing of the previous one stays on screen. The sign-in pages
//! forget the choice (see `AppLayout`), so the next person to sign in in this tab never
//! inherits it.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

use crate::api::client::SELECTED_ORG_KEY;
use crate::api::sso::{provider_organisations, ProviderOrganisation};
use crate::components::browser::full_page_load;
use crate::components::user_menu::{use_current_user, MeState};

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

/// The name of the customer `slug` among `organisations`, else the slug itself.
pub fn customer_name(organisations: &[ProviderOrganisation], slug: &str) -> String {
    organisations
        .iter()
        .find(|org| org.slug == slug)
        .map(|org| org.name.clone())
        .unwrap_or_else(|| slug.to_string())
}

/// For staff: a bar above every page saying which customer they are viewing, with a list to
/// change it. Nothing for anyone else.
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
    let organisations = LocalResource::new(provider_organisations);
    let on_change = move |ev: leptos::ev::Event| {
        let slug = event_target_value(&ev);
        set_selected_org((!slug.is_empty()).then_some(slug.as_str()));
        let path = location.pathname.get_untracked();
        let rest = query_without_org(&location.search.get_untracked());
        full_page_load(&format!("{path}{rest}"));
    };
    let selected_for_view = selected.clone();
    view! {
        <div class="org-bar" role="region" aria-label="Customer">
            <label for="org-switcher" class="org-bar-label">"Viewing customer"</label>
            <select id="org-switcher" class="org-bar-select" on:change=on_change>
                <option value="" selected=selected.is_none()>"Choose a customer…"</option>
                {move || {
                    let selected = selected_for_view.clone();
                    organisations
                        .get()
                        .and_then(Result::ok)
                        .map(|list| {
                            list.organisations
                                .into_iter()
                                .map(|org| {
                                    let is_selected = selected.as_deref() == Some(org.slug.as_str());
                                    view! {
                                        <option value=org.slug.clone() selected=is_selected>
                                            {format!("{} ({})", org.name, org.slug)}
                                        </option>
                                    }
                                })
                                .collect_view()
                        })
                }}
            </select>
            {match selected.clone() {
                Some(slug) => view! {
                    <span class="org-bar-current">
                        "You are acting for "
                        <strong>
                            {move || {
                                organisations
                                    .get()
                                    .and_then(Result::ok)
                                    .map(|list| customer_name(&list.organisations, &slug))
                                    .unwrap_or_else(|| slug.clone())
                            }}
                        </strong>
                        " as carrier staff, with an administrator's rights."
                    </span>
                }
                .into_any(),
                None => view! {
                    <span class="org-bar-current">
                        "Choose the customer whose services, numbers and calls you want to see."
                    </span>
                }
                .into_any(),
            }}
            {move || {
                organisations.get().and_then(Result::err).map(|error| {
                    view! {
                        <span class="org-bar-error" role="alert">
                            "The list of customers could not be loaded. " {error.to_string()}
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
            },
            organisation: None,
        };
        assert!(needs_customer_choice(&me(true), None));
        assert!(needs_customer_choice(&me(true), Some("")));
        assert!(!needs_customer_choice(&me(true), Some("contoso")));
        assert!(!needs_customer_choice(&me(false), None));
    }

    #[test]
    fn the_customer_is_named_when_known() {
        assert_eq!(customer_name(&[], "contoso"), "contoso");
    }
}
