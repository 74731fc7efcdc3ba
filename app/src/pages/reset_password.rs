//! `/reset-password/{token}`: choose a new password with the link from a reset email.
//!
//! Nothing is loaded first: the server checks the link when the password is sent. A reset
//! ends every session of the account, and does not replace the authenticator app: signing in
//! afterwards still asks for its code.
//!
//! The form also works before the wasm has arrived, or without JavaScript (a plain form post
//! that the server answers with a redirect back here: `components::password_link`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::password_link::{
    link_state_after_form_post, LinkDone, LinkPasswordForm, LinkPurpose, LinkState,
};
use crate::pages::forgot_password::FORGOT_PASSWORD_PATH;

/// The password-reset page.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    // Read once, like the invitation page: the server and the browser see the same URL.
    let token = use_params_map()
        .with_untracked(|params| params.get("token"))
        .unwrap_or_default();
    let state = RwSignal::new(
        use_query_map().with_untracked(|q| link_state_after_form_post(&token, |name| q.get(name))),
    );
    let token = StoredValue::new(token);

    view! {
        <Title text="Choose a new password" />
        <section class="auth-card" aria-labelledby="reset-title">
            <h1 id="reset-title">"Choose a new password"</h1>
            {move || match state.get() {
                LinkState::Form => view! {
                    <p class="muted">
                        "Choose the password you will sign in with from now on. Saving it signs you out on every device."
                    </p>
                    <LinkPasswordForm
                        purpose=LinkPurpose::Reset
                        token=token.get_value()
                        state=state
                        submit_label="Change password"
                    />
                }
                .into_any(),
                LinkState::Done => view! { <LinkDone purpose=LinkPurpose::Reset /> }.into_any(),
                LinkState::Invalid(message) => view! {
                    <div class="alert error" role="alert" data-testid="invalid-link">
                        <p>{message}</p>
                    </div>
                    <p>
                        <a class="button full-width" href=FORGOT_PASSWORD_PATH>"Ask for a new link"</a>
                    </p>
                    <p class="muted small auth-footer-link">
                        <a href="/login">"Back to sign in"</a>
                    </p>
                }
                .into_any(),
            }}
        </section>
    }
}
