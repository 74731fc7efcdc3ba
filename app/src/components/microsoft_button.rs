//! The "Sign in with Microsoft" button and the Microsoft logo, drawn after Microsoft's
//! identity-platform branding guidance: the four-square logo, Microsoft's wording, a light
//! button with dark text (a dark one in dark mode; see `.ms-button` in the CSS).
//!
//! The button is a plain link, so it works before hydration and without JavaScript; the
//! flow it starts (`/auth/microsoft/…`) is a server redirect, never a page of the app.

use leptos::prelude::*;

/// Microsoft's wording for the sign-in button.
pub const SIGN_IN_WITH_MICROSOFT: &str = "Sign in with Microsoft";

/// A link styled as Microsoft's sign-in button.
#[component]
pub fn MicrosoftButton(
    /// Where it leads (a `/auth/microsoft/…` path with its query).
    #[prop(into)]
    href: Signal<String>,
    /// The visible label (and accessible name).
    #[prop(optional)]
    label: Option<&'static str>,
    /// Extra classes (e.g. `full-width`).
    #[prop(optional)]
    class: &'static str,
) -> impl IntoView {
    view! {
        // `rel="external"`: the router must not treat the flow as a page of the app.
        <a class=format!("ms-button {class}") href=move || href.get() rel="external">
            <MicrosoftLogo />
            <span>{label.unwrap_or(SIGN_IN_WITH_MICROSOFT)}</span>
        </a>
    }
}

/// A form that posts `token` to `action` (a `/auth/microsoft/…` flow that takes a POST), with
/// a submit button styled as Microsoft's: for a secret that must not travel in a URL (an
/// invitation's token), and it works before hydration and without JavaScript.
#[component]
pub fn MicrosoftPostButton(
    /// The flow's path.
    action: &'static str,
    /// The form's `token` field.
    token: String,
    /// The visible label (and accessible name).
    label: &'static str,
) -> impl IntoView {
    view! {
        <form class="ms-form" method="post" action=action>
            <input type="hidden" name="token" value=token />
            <button type="submit" class="ms-button full-width">
                <MicrosoftLogo />
                <span>{label}</span>
            </button>
        </form>
    }
}

/// Microsoft's four-square logo, decorative (the text next to it names the action).
#[component]
pub fn MicrosoftLogo() -> impl IntoView {
    view! {
        <svg class="ms-logo" aria-hidden="true" focusable="false" viewBox="0 0 21 21" width="21" height="21">
            <rect x="1" y="1" width="9" height="9" fill="#f25022" />
            <rect x="11" y="1" width="9" height="9" fill="#7fba00" />
            <rect x="1" y="11" width="9" height="9" fill="#00a4ef" />
            <rect x="11" y="11" width="9" height="9" fill="#ffb900" />
        </svg>
    }
}
