//! The overview: the first page after signing in.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status::SystemStatusCard;

/// The portal's landing page.
#[component]
pub fn OverviewPage() -> impl IntoView {
    view! {
        <Title text="Overview" />
        <section class="page">
            <h1>"Overview"</h1>
            <div class="card-grid">
                <SystemStatusCard />
            </div>
        </section>
    }
}
