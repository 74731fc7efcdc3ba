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

use crate::api::prefetch::prefetch;
use crate::components::chunk_error::{ChunkError, ChunkLoadFailed};
use crate::pages;

/// Starts each of `paths` (the page's first reads).
fn prefetch_all(paths: Vec<String>) {
    for path in paths {
        prefetch(&path);
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
    || prefetch_all(pages::overview::first_reads())
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
    || prefetch_all(pages::security::first_reads())
);
lazy_page!(
    /// `/sso`
    Sso, page_sso in pages_admin, pages::sso::SsoPage,
    || prefetch_all(pages::sso::first_reads())
);
lazy_page!(
    /// `/provider`
    Provider, page_provider in pages_admin, pages::provider::ProviderPage,
    || prefetch_all(pages::provider::first_reads())
);
lazy_page!(
    /// `/services`
    Services, page_services in pages_monitor, pages::services::ServicesPage,
    || prefetch_all(pages::services::first_reads())
);
lazy_page!(
    /// `/services/:id`
    ServiceDetail, page_service_detail in pages_monitor, pages::service_detail::ServiceDetailPage,
    || {
        let id = leptos_router::hooks::use_params_map()
            .with_untracked(|p| p.get("id").unwrap_or_default());
        prefetch_all(pages::service_detail::first_reads(&id));
    }
);
lazy_page!(
    /// `/analytics`
    Analytics, page_analytics in pages_monitor, pages::analytics::AnalyticsPage,
    || prefetch_all(pages::analytics::first_reads())
);
lazy_page!(
    /// `/porting`
    Porting, page_porting in pages_voice, pages::porting::PortingPage,
    || prefetch_all(pages::porting::first_reads())
);
lazy_page!(
    /// `/numbers`
    Numbers, page_numbers in pages_voice, pages::numbers::NumbersPage,
    || prefetch_all(pages::numbers::first_reads())
);
lazy_page!(
    /// `/emergency-addresses`
    EmergencyAddresses, page_emergency_addresses in pages_voice,
    pages::emergency_addresses::EmergencyAddressesPage,
    || prefetch_all(pages::emergency_addresses::first_reads())
);
lazy_page!(
    /// `/calls`
    Calls, page_calls in pages_voice, pages::calls::CallsPage,
    || prefetch_all(pages::calls::first_reads())
);
lazy_page!(
    /// `/users`
    Users, page_users in pages_admin, pages::users::UsersPage,
    || prefetch_all(pages::users::first_reads())
);
lazy_page!(
    /// `/api-tokens`
    ApiTokens, page_api_tokens in pages_admin, pages::api_tokens::ApiTokensPage,
    || prefetch_all(pages::api_tokens::first_reads())
);
lazy_page!(
    /// `/audit`
    Audit, page_audit in pages_admin, pages::audit::AuditPage,
    || prefetch_all(pages::audit::first_reads())
);
