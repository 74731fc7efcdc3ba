//! The page for an address that is not part of the portal.

use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for any unknown path, with status 404.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <Title text="Page not found" />
        <section class="page">
            <h1>"Page not found"</h1>
            <p>"There is no page at this address. Check the link, or go back to the overview."</p>
            <p>
                <a class="button" href="/">"Go to the overview"</a>
            </p>
        </section>
    }
}
