//! The Voice Customer Portal's user interface: the HTML shell, the route table and the API
//! types shared by the browser (hydrate) and the server (ssr).

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod format;
pub mod pages;
pub mod product;
pub mod return_to;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

use crate::components::layout::AppLayout;
use crate::pages::{
    analytics::AnalyticsPage, api_tokens::ApiTokensPage, audit::AuditPage, calls::CallsPage,
    emergency_addresses::EmergencyAddressesPage, forgot_password::ForgotPasswordPage,
    invite::InvitePage, mfa::MfaPage, not_found::NotFoundPage, numbers::NumbersPage,
    overview::OverviewPage, porting::PortingPage, provider::ProviderPage,
    reset_password::ResetPasswordPage, security::SecurityPage, service_detail::ServiceDetailPage,
    services::ServicesPage, sign_in::SignInPage, sso::SsoPage, users::UsersPage,
};
use crate::product::PRODUCT_NAME;

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                // The CSS under its hashed name when the build hashed it (cached for a year).
                <HashedStylesheet options=options.clone() id="leptos" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The portal's root component: the layout and the route table.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { PRODUCT_NAME.to_string() } else { format!("{page} · {PRODUCT_NAME}") }
        } />
        <Router>
            <AppLayout>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=OverviewPage />
                    <Route path=path!("/login") view=SignInPage />
                    <Route path=path!("/login/mfa") view=MfaPage />
                    <Route path=path!("/login/forgot") view=ForgotPasswordPage />
                    <Route path=path!("/invite/:token") view=InvitePage />
                    <Route path=path!("/reset-password/:token") view=ResetPasswordPage />
                    <Route path=path!("/security") view=SecurityPage />
                    <Route path=path!("/sso") view=SsoPage />
                    <Route path=path!("/provider") view=ProviderPage />
                    <Route path=path!("/services") view=ServicesPage />
                    <Route path=path!("/services/:id") view=ServiceDetailPage />
                    <Route path=path!("/analytics") view=AnalyticsPage />
                    <Route path=path!("/porting") view=PortingPage />
                    // Numbers, emergency addresses, calls, users, API tokens, audit log.
                    <Route path=path!("/numbers") view=NumbersPage />
                    <Route path=path!("/emergency-addresses") view=EmergencyAddressesPage />
                    <Route path=path!("/calls") view=CallsPage />
                    <Route path=path!("/users") view=UsersPage />
                    <Route path=path!("/api-tokens") view=ApiTokensPage />
                    <Route path=path!("/audit") view=AuditPage />
                </Routes>
            </AppLayout>
        </Router>
    }
}
