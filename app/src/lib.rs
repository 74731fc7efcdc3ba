//! The Voice Customer Portal's user interface: the HTML shell, the route table and the API
//! types shared by the browser (hydrate) and the server (ssr).

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod format;
pub mod pages;
pub mod product;
pub mod return_to;
pub mod routes;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, Lazy,
};

use crate::components::layout::AppLayout;
use crate::pages::not_found::NotFoundPage;
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
                    <Route path=path!("/") view={Lazy::<routes::Overview>::new()} />
                    <Route path=path!("/login") view={Lazy::<routes::SignIn>::new()} />
                    <Route path=path!("/login/mfa") view={Lazy::<routes::Mfa>::new()} />
                    <Route path=path!("/login/forgot") view={Lazy::<routes::ForgotPassword>::new()} />
                    <Route path=path!("/invite/:token") view={Lazy::<routes::Invite>::new()} />
                    <Route path=path!("/reset-password/:token") view={Lazy::<routes::ResetPassword>::new()} />
                    <Route path=path!("/security") view={Lazy::<routes::Security>::new()} />
                    <Route path=path!("/sso") view={Lazy::<routes::Sso>::new()} />
                    <Route path=path!("/provider") view={Lazy::<routes::Provider>::new()} />
                    <Route path=path!("/services") view={Lazy::<routes::Services>::new()} />
                    <Route path=path!("/services/:id") view={Lazy::<routes::ServiceDetail>::new()} />
                    <Route path=path!("/analytics") view={Lazy::<routes::Analytics>::new()} />
                    <Route path=path!("/porting") view={Lazy::<routes::Porting>::new()} />
                    // Numbers, emergency addresses, calls, users, API tokens, audit log.
                    <Route path=path!("/numbers") view={Lazy::<routes::Numbers>::new()} />
                    <Route path=path!("/emergency-addresses") view={Lazy::<routes::EmergencyAddresses>::new()} />
                    <Route path=path!("/calls") view={Lazy::<routes::Calls>::new()} />
                    <Route path=path!("/users") view={Lazy::<routes::Users>::new()} />
                    <Route path=path!("/api-tokens") view={Lazy::<routes::ApiTokens>::new()} />
                    <Route path=path!("/audit") view={Lazy::<routes::Audit>::new()} />
                </Routes>
            </AppLayout>
        </Router>
    }
}
