//! `/login/forgot`: ask for a password-reset link by email.
//!
//! The answer is the same whether or not the address has an account, so the page cannot be
//! used to find out who has one: after any accepted request it shows one message.
//!
//! The form also works before the wasm has arrived, or without JavaScript: the server takes
//! its plain form post (`POST /login/forgot`) through the same request code and redirects back
//! here with `?requested=1`, or with `?error=CODE` and the typed address.

use leptos::{ev::SubmitEvent, html, prelude::*};
use leptos_meta::Title;

use leptos_router::hooks::use_query_map;

use crate::api::{
    auth::request_password_reset,
    form_post::{FormRefusal, EMAIL_PARAM},
    ApiError,
};
use crate::components::form::{described_by, field_value, Field, FormAlert, SubmitButton};

/// This page's path (a `/login/…` path, so the server serves it without a session).
pub const FORGOT_PASSWORD_PATH: &str = "/login/forgot";

/// The query parameter a form post that was accepted comes back with.
pub const REQUESTED_PARAM: &str = "requested";

/// What the page says after a request was accepted, whoever the address belongs to.
pub const RESET_REQUESTED_MESSAGE: &str =
    "If an account uses this address, we have sent it a link. It works once, for 30 minutes.";

/// Where a refused request's message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetRequestFailure {
    /// The address is not one (shown at the field).
    Email(String),
    /// Anything else, e.g. too many requests (shown above the button).
    Other(String),
}

/// Sorts an error from `POST /api/v1/auth/password-reset`.
pub fn classify_reset_request_error(error: &ApiError) -> ResetRequestFailure {
    match error {
        ApiError::Api {
            field: Some(field), ..
        } if field == "email" => ResetRequestFailure::Email(error.to_string()),
        _ => ResetRequestFailure::Other(error.to_string()),
    }
}

/// What a form post of the page came back with: whether the request was accepted, and the
/// refusal (the address's, or the form's) otherwise.
fn form_post_outcome(get: impl Fn(&str) -> Option<String>) -> (bool, Option<ResetRequestFailure>) {
    if get(REQUESTED_PARAM).is_some() {
        return (true, None);
    }
    let failure = match FormRefusal::from_query(get) {
        Some(r @ FormRefusal::InvalidEmail) => Some(ResetRequestFailure::Email(r.message())),
        Some(r) if r.is_general() => Some(ResetRequestFailure::Other(r.message())),
        _ => None,
    };
    (false, failure)
}

/// The "forgot your password" page.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let (requested, failure) = query.with_untracked(|q| form_post_outcome(|name| q.get(name)));
    let kept_email = failure
        .as_ref()
        .and_then(|_| query.with_untracked(|q| q.get(EMAIL_PARAM)))
        .unwrap_or_default();
    let email = field_value("forgot-email", || kept_email);
    let sent = RwSignal::new(requested);
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(match &failure {
        Some(ResetRequestFailure::Other(message)) => Some(message.clone()),
        _ => None,
    });
    let email_error = RwSignal::new(match failure {
        Some(ResetRequestFailure::Email(message)) => Some(message),
        _ => None,
    });
    let email_input = NodeRef::<html::Input>::new();

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        set_error.set(None);
        email_error.set(None);
        let address = email.get_untracked().trim().to_string();
        leptos::task::spawn_local(async move {
            let result = request_password_reset(address).await;
            set_busy.set(false);
            match result {
                Ok(_) => sent.set(true),
                Err(e) => match classify_reset_request_error(&e) {
                    ResetRequestFailure::Email(message) => {
                        email_error.set(Some(message));
                        if let Some(input) = email_input.get_untracked() {
                            let _ = input.focus();
                        }
                    }
                    ResetRequestFailure::Other(message) => set_error.set(Some(message)),
                },
            }
        });
    };

    let start_over = move || {
        email.set(String::new());
        sent.set(false);
        // The form is back on the next frame; `autofocus` only applies on page load.
        request_animation_frame(move || {
            if let Some(input) = email_input.get_untracked() {
                let _ = input.focus();
            }
        });
    };

    let email_invalid = move || email_error.with(Option::is_some);

    view! {
        <Title text="Reset your password" />
        <section class="auth-card" aria-labelledby="forgot-title">
            <h1 id="forgot-title">"Reset your password"</h1>
            {move || {
                if sent.get() {
                    view! { <ResetRequested on_start_over=start_over /> }.into_any()
                } else {
                    view! {
                        <p class="muted">
                            "Enter the email address you sign in with. We will email you a link to choose a new password."
                        </p>
                        <form class="form" method="post" on:submit=submit aria-busy=move || busy.get().then_some("true")>
                            <Field label="Email address" for_id="forgot-email" error=email_error>
                                <input
                                    id="forgot-email"
                                    name="email"
                                    class="input"
                                    type="email"
                                    autocomplete="username"
                                    spellcheck="false"
                                    autocapitalize="none"
                                    required
                                    autofocus
                                    aria-invalid=move || email_invalid().then_some("true")
                                    aria-describedby=move || described_by("forgot-email", false, email_invalid())
                                    node_ref=email_input
                                    // Rendered by the server too, so an address kept after a refused post shows without the wasm.
                                    value=email.get_untracked()
                                    bind:value=email
                                />
                            </Field>
                            <FormAlert message=error />
                            <SubmitButton label="Send link" busy_label="Sending…" busy=busy class="full-width" works_without_js=true />
                        </form>
                    }
                        .into_any()
                }
            }}
            <p class="muted small auth-footer-link">
                <a href="/login">"Back to sign in"</a>
            </p>
        </section>
    }
}

/// The message after a request; focus moves to it (the form that had focus is gone).
#[component]
fn ResetRequested(on_start_over: impl Fn() + 'static) -> impl IntoView {
    let message = NodeRef::<html::Div>::new();
    message.on_load(|element| {
        let _ = element.focus();
    });
    view! {
        <div class="alert ok" role="status" tabindex="-1" node_ref=message data-testid="reset-requested">
            <p>{RESET_REQUESTED_MESSAGE}</p>
            <p>"Nothing after a few minutes? Check your spam folder, or check the address and try again."</p>
        </div>
        // A link, so it also starts over without JavaScript.
        <a
            class="button link"
            href=FORGOT_PASSWORD_PATH
            on:click=move |ev| {
                ev.prevent_default();
                on_start_over();
            }
        >
            "Use a different address"
        </a>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::error::testing::api_error_on as api_error;
    use crate::api::form_post::testing::query;

    #[test]
    fn an_invalid_address_goes_to_the_field() {
        assert_eq!(
            classify_reset_request_error(&api_error(422, "invalid_field", Some("email"))),
            ResetRequestFailure::Email("The server's words.".to_string())
        );
    }

    #[test]
    fn a_rate_limit_shows_the_servers_message() {
        assert_eq!(
            classify_reset_request_error(&api_error(429, "rate_limited", None)),
            ResetRequestFailure::Other("The server's words.".to_string())
        );
        assert!(matches!(
            classify_reset_request_error(&ApiError::Network("offline".to_string())),
            ResetRequestFailure::Other(_)
        ));
    }

    #[test]
    fn the_confirmation_does_not_say_whether_the_account_exists() {
        assert!(RESET_REQUESTED_MESSAGE.starts_with("If an account uses this address"));
        assert!(RESET_REQUESTED_MESSAGE.contains("30 minutes"));
    }

    #[test]
    fn a_form_post_comes_back_to_what_the_json_answer_shows() {
        assert_eq!(form_post_outcome(query("requested=1")), (true, None));
        assert_eq!(
            form_post_outcome(query("error=invalid_email")),
            (
                false,
                Some(ResetRequestFailure::Email(
                    FormRefusal::InvalidEmail.message()
                ))
            )
        );
        assert_eq!(
            form_post_outcome(query("error=rate_limited&retry_after=30")),
            (
                false,
                Some(ResetRequestFailure::Other(
                    "Too many attempts. Wait 1 minute and try again.".to_string()
                ))
            )
        );
        assert_eq!(
            form_post_outcome(query("error=invalid_code")),
            (false, None)
        );
    }

    #[test]
    fn the_page_is_under_login_so_it_needs_no_session() {
        assert!(FORGOT_PASSWORD_PATH.starts_with("/login/"));
    }
}
