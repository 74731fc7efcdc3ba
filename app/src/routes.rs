//! The page routes, each a lazily loaded wasm chunk.
//!
//! A release build is split (`cargo leptos build --release --split`): the main wasm holds the
//! shell (layout, router, API client, the "not found" page) and each page's code sits in the
//! chunk of its group, which the browser downloads when a page of the group is first shown. A
//! first visit so downloads the shell and one group, not the whole portal.
//!
//! Four groups rather than a chunk per page: the splitter gives code that several split points
//! use a chunk per set of users, so 19 split points made 340 small files, each compressed on its
//! own at about twice the cost of the same code in one file (docs/ARCHITECTURE.md, "Lazy
//! routes"). A group is a set of pages a person uses together and that share components.
//!
//! Each route is a [`LazyRoute`]. When the router picks it, its data half (`data`) runs first
//! and starts the page's first API reads ([`crate::api::prefetch`]); then the chunk loads
//! (`preload`, `view`), in parallel with those reads. On the server nothing is split: the page
//! renders at once, and its chunk is named to the hydration scripts, which add preload links
//! for it to the HTML so that a first visit fetches the chunk alongside the main wasm.
//!
//! A chunk that fails to load (offline, or the portal was updated and the file is gone) shows
//! [`ChunkLoadFailed`] in the page's place, never a panic: the split functions are declared
//! `fallible`, and a failure is not cached, so "Try again" loads afresh.

use leptos::prelude::*;
use leptos_router::LazyRoute;

use crate::api::auth::MeResponse;
use crate::api::org::selected_org;
use crate::api::prefetch::prefetch;
use crate::components::access::{any_user, can_administer};
use crate::components::chunk_error::{ChunkError, ChunkLoadFailed};
use crate::components::layout::is_staff;
use crate::components::org_switcher::needs_customer_choice;
use crate::components::user_menu::{CurrentUser, MeState};
use crate::pages;

/// Who a route's reads are started for.
#[derive(Clone, Copy)]
enum Reader {
    /// Anyone the page's access rule lets in, when the page is about one organisation: not staff
    /// who have not chosen a customer (the page asks them to choose first).
    OrgPage(fn(&MeResponse) -> bool),
    /// Anyone the rule lets in (the user's own account, the provider console).
    AnyPage(fn(&MeResponse) -> bool),
}

/// Starts the page's first reads (`reads`), but only when the signed-in user is already known
/// (the layout's `/me` has loaded, as it has on every navigation after the first page) and the
/// page would make them for this user: a read the page would not make (a viewer on an
/// administrators' page) would only earn a 403. On a first visit nothing is started here; the
/// page reads as it hydrates, and its chunk was already preloaded with the HTML.
fn prefetch_for(reader: Reader, reads: impl FnOnce() -> Vec<String>) {
    let Some(current) = use_context::<CurrentUser>() else {
        return;
    };
    let Some(MeState::SignedIn(me)) = current.me.get_untracked() else {
        return;
    };
    let wanted = match reader {
        Reader::OrgPage(allowed) => {
            allowed(&me) && !needs_customer_choice(&me, selected_org().as_deref())
        }
        Reader::AnyPage(allowed) => allowed(&me),
    };
    if wanted {
        for path in reads() {
            prefetch(&path);
        }
    }
}

/// Declares the route `$route`, whose page `$page` lives in the wasm chunk `$chunk` (shared by
/// the pages of one group), and whose data half runs `$data`; `$module` is a Rust module name
/// unique to the route.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident, $module:ident in $chunk:ident, $page:path, $data:expr) => {
        $(#[$doc])*
        pub struct $route;

        mod $module {
            use super::*;

            /// Renders the page; on wasm, loads its chunk first.
            #[leptos::wasm_split::wasm_split(
                $chunk,
                wasm_split_path = ::leptos::wasm_split,
                fallible,
                preload(preload)
            )]
            pub fn load() -> Result<AnyView, ChunkError> {
                use $page as Page;
                Ok(view! { <Page /> }.into_any())
            }
        }

        impl LazyRoute for $route {
            fn data() -> Self {
                let data: fn() = $data;
                data();
                $route
            }

            async fn view(_: Self) -> AnyView {
                leptos::prefetch_lazy_fn_on_server(stringify!($chunk));
                match $module::load().await {
                    Ok(view) => view,
                    Err(ChunkError) => view! {
                        <ChunkLoadFailed load=|| Box::pin($module::load()) />
                    }
                    .into_any(),
                }
            }

            async fn preload() {
                // A failure shows in `view`, which tries the load again.
                let _ = $module::preload().await;
            }
        }
    };
}

/// Nothing to read ahead: the page is a form, or reads only after the person acts.
fn no_reads() {}

lazy_page!(
    /// `/`
    Overview, page_overview in pages_monitor, pages::overview::OverviewPage,
    || prefetch_for(Reader::OrgPage(any_user), pages::overview::first_reads)
);
lazy_page!(
    /// `/login`
    SignIn, page_sign_in in pages_auth, pages::sign_in::SignInPage, no_reads
);
lazy_page!(
    /// `/login/mfa`
    Mfa, page_mfa in pages_auth, pages::mfa::MfaPage, no_reads
);
lazy_page!(
    /// `/login/forgot`
    ForgotPassword, page_forgot_password in pages_auth, pages::forgot_password::ForgotPasswordPage, no_reads
);
lazy_page!(
    /// `/invite/:token`
    Invite, page_invite in pages_auth, pages::invite::InvitePage, no_reads
);
lazy_page!(
    /// `/reset-password/:token`
    ResetPassword, page_reset_password in pages_auth, pages::reset_password::ResetPasswordPage, no_reads
);
lazy_page!(
    /// `/security`
    Security, page_security in pages_admin, pages::security::SecurityPage,
    || prefetch_for(Reader::AnyPage(any_user), pages::security::first_reads)
);
lazy_page!(
    /// `/sso` (reads nothing ahead: what it loads depends on the organisation's sign-in state)
    Sso, page_sso in pages_admin, pages::sso::SsoPage, no_reads
);
lazy_page!(
    /// `/provider`
    Provider, page_provider in pages_admin, pages::provider::ProviderPage,
    || prefetch_for(Reader::AnyPage(is_staff), pages::provider::first_reads)
);
lazy_page!(
    /// `/services`
    Services, page_services in pages_monitor, pages::services::ServicesPage,
    || prefetch_for(Reader::OrgPage(any_user), pages::services::first_reads)
);
lazy_page!(
    /// `/services/:id`
    ServiceDetail, page_service_detail in pages_monitor, pages::service_detail::ServiceDetailPage,
    || {
        let id = leptos_router::hooks::use_params_map()
            .with_untracked(|p| p.get("id").unwrap_or_default());
        prefetch_for(Reader::OrgPage(any_user), || {
            pages::service_detail::first_reads(&id)
        });
    }
);
lazy_page!(
    /// `/analytics`
    Analytics, page_analytics in pages_monitor, pages::analytics::AnalyticsPage,
    || prefetch_for(Reader::OrgPage(any_user), pages::analytics::first_reads)
);
lazy_page!(
    /// `/porting`
    Porting, page_porting in pages_voice, pages::porting::PortingPage,
    || prefetch_for(Reader::OrgPage(any_user), pages::porting::first_reads)
);
lazy_page!(
    /// `/numbers`
    Numbers, page_numbers in pages_voice, pages::numbers::NumbersPage,
    || prefetch_for(Reader::OrgPage(any_user), pages::numbers::first_reads)
);
lazy_page!(
    /// `/emergency-addresses`
    EmergencyAddresses, page_emergency_addresses in pages_voice,
    pages::emergency_addresses::EmergencyAddressesPage,
    || prefetch_for(Reader::OrgPage(any_user), pages::emergency_addresses::first_reads)
);
lazy_page!(
    /// `/calls`
    Calls, page_calls in pages_voice, pages::calls::CallsPage,
    || prefetch_for(Reader::OrgPage(any_user), pages::calls::first_reads)
);
lazy_page!(
    /// `/users`
    Users, page_users in pages_admin, pages::users::UsersPage,
    || prefetch_for(Reader::OrgPage(any_user), pages::users::first_reads)
);
lazy_page!(
    /// `/api-tokens`
    ApiTokens, page_api_tokens in pages_admin, pages::api_tokens::ApiTokensPage,
    || prefetch_for(Reader::OrgPage(can_administer), pages::api_tokens::first_reads)
);
lazy_page!(
    /// `/audit`
    Audit, page_audit in pages_admin, pages::audit::AuditPage,
    || prefetch_for(Reader::OrgPage(can_administer), pages::audit::first_reads)
);

/// The chunk of the page at a URL path, as the `lazy_page!` declarations above place each page
/// (keep the two in step; the test below lists every route of `crate::App`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk {
    /// The sign-in pages.
    Auth,
    /// Overview, analytics, services.
    Monitor,
    /// Numbers, emergency addresses, calls, porting.
    Voice,
    /// Users, API tokens, audit log, single sign-on, security, provider console.
    Admin,
}

/// The chunk the page at `path` needs; `None` for a path no route matches (the "not found"
/// page is in the main wasm).
pub fn chunk_of(path: &str) -> Option<Chunk> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        [""] => Some(Chunk::Monitor),
        ["login"] | ["login", "mfa" | "forgot"] | ["invite" | "reset-password", _] => {
            Some(Chunk::Auth)
        }
        ["services" | "analytics"] | ["services", _] => Some(Chunk::Monitor),
        ["numbers" | "emergency-addresses" | "calls" | "porting"] => Some(Chunk::Voice),
        ["security" | "sso" | "provider" | "users" | "api-tokens" | "audit"] => Some(Chunk::Admin),
        _ => None,
    }
}

/// Loads the chunk of the page at `path` (nothing for a path without one).
///
/// The entry point calls it before hydrating: Leptos' asynchronous hydration (`hydrate_lazy`)
/// otherwise pauses halfway to download the chunk, and a resource that resolves in that pause
/// (the layout's `/me`) re-renders parts still marked as hydrating, which panics in tachys.
/// With the chunk already there, hydration runs through without a pause.
pub async fn load_chunk_for(path: &str) -> Result<(), ChunkError> {
    match chunk_of(path) {
        Some(Chunk::Auth) => page_sign_in::preload().await?,
        Some(Chunk::Monitor) => page_overview::preload().await?,
        Some(Chunk::Voice) => page_numbers::preload().await?,
        Some(Chunk::Admin) => page_users::preload().await?,
        None => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_names_the_chunk_its_page_is_in() {
        for (path, chunk) in [
            ("/", Chunk::Monitor),
            ("/login", Chunk::Auth),
            ("/login/mfa", Chunk::Auth),
            ("/login/forgot", Chunk::Auth),
            ("/invite/abc", Chunk::Auth),
            ("/reset-password/abc", Chunk::Auth),
            ("/security", Chunk::Admin),
            ("/sso", Chunk::Admin),
            ("/provider", Chunk::Admin),
            ("/services", Chunk::Monitor),
            ("/services/svc-1", Chunk::Monitor),
            ("/analytics", Chunk::Monitor),
            ("/porting", Chunk::Voice),
            ("/numbers", Chunk::Voice),
            ("/emergency-addresses", Chunk::Voice),
            ("/calls", Chunk::Voice),
            ("/users", Chunk::Admin),
            ("/api-tokens", Chunk::Admin),
            ("/audit", Chunk::Admin),
        ] {
            assert_eq!(chunk_of(path), Some(chunk), "{path}");
        }
    }

    #[test]
    fn a_path_without_a_route_needs_no_chunk() {
        for path in [
            "/nope",
            "/login/other",
            "/services/a/b",
            "/invite",
            "/numbers/x",
        ] {
            assert_eq!(chunk_of(path), None, "{path}");
        }
    }
}
