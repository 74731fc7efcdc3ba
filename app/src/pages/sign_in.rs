//! `/login`: sign in with email and password.
//!
//! The first step of a password sign-in; depending on the answer the browser then loads the
//! page it came from (`?return_to=`), asks for the authenticator code (`/login/mfa`) or sets
//! up an authenticator app first (`/security?enrol=required`). Above the form, "Sign in with
//! Microsoft" starts single sign-on with Microsoft Entra ID (a plain link, so it works without
//! JavaScript); its refusals come back here as `?error=CODE` and are shown prominently.
//!
//! The form also works before the wasm has arrived, or without JavaScript: the server takes
//! its plain form post (`POST /login`), runs the same sign-in and redirects to the next step,
//! or back here with `?error=CODE` (`api::form_post`), shown where the JSON answer's message
//! would be, with the typed address kept. What was typed before the page hydrated survives
//! hydration.

use leptos::{ev::SubmitEvent, html, prelude::*};
use leptos_meta::Title;
use leptos_router::{
    hooks::{use_navigate, use_query_map},
    NavigateOptions,
};

pub use crate::api::auth::{ENROL_REQUIRED_PATH, MFA_PATH};
use crate::api::{
    auth::{login, sign_in_answer_path, sign_in_step_path, SignInStatus},
    form_post::{FormRefusal, EMAIL_PARAM},
    sso::{flow_error_message, MICROSOFT_LOGIN_PATH},
    ApiError,
};
use crate::components::{
    browser::full_page_load,
    form::{field_value, Field, FormAlert, SubmitButton},
    microsoft_button::MicrosoftButton,
};
use crate::pages::forgot_password::FORGOT_PASSWORD_PATH;
use crate::return_to::{sanitize_return_to, with_return_to};

/// What the browser does after a successful sign-in step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    /// A full page load (the session is complete; everything starts over with it).
    Load(String),
    /// A move inside the app to the next sign-in step.
    Navigate(String),
}

/// Where a sign-in step that answered `status` leads; `return_to` is already sanitised.
pub fn next_step(status: SignInStatus, return_to: &str) -> NextStep {
    let path = sign_in_step_path(status, return_to);
    match status {
        SignInStatus::SignedIn => NextStep::Load(path),
        SignInStatus::MfaRequired | SignInStatus::MfaEnrolmentRequired => NextStep::Navigate(path),
    }
}

/// The refusal of a form post of this page's form (`?error=CODE`), which the page shows where
/// the JSON answer's message goes. "Require SSO" is left to the single sign-on refusals above
/// the form, which say the same.
pub fn sign_in_form_refusal(get: impl Fn(&str) -> Option<String>) -> Option<FormRefusal> {
    FormRefusal::from_query(get).filter(|r| {
        r.is_general()
            || matches!(
                r,
                FormRefusal::InvalidEmail
                    | FormRefusal::MissingPassword
                    | FormRefusal::InvalidCredentials
            )
    })
}

/// Follows a [`NextStep`].
pub fn go_to(step: NextStep, navigate: impl Fn(&str, NavigateOptions)) {
    match step {
        NextStep::Load(url) => full_page_load(&url),
        NextStep::Navigate(url) => navigate(&url, NavigateOptions::default()),
    }
}

/// The general message for an unknown `?error=CODE`.
pub const GENERAL_SIGN_IN_ERROR: &str = "Signing in did not work. Try again; if it keeps happening, contact your organisation's administrator.";

/// The message for a `?error=CODE` that sent the person back to this page: a refused single
/// sign-on (the messages of [`flow_error_message`], which say why and whom to ask) or an ended
/// session. Unknown codes get [`GENERAL_SIGN_IN_ERROR`]: the code comes from the URL, so its
/// text is never shown.
pub fn sign_in_error_message(code: &str) -> &'static str {
    match code {
        "session_expired" | "unauthenticated" => "Your session has ended. Sign in again.",
        "mfa_expired" => "Signing in took too long. Sign in again.",
        _ => flow_error_message(canonical_flow_code(code)).unwrap_or(GENERAL_SIGN_IN_ERROR),
    }
}

/// Older or alternative spellings of the single sign-on codes, mapped to the codes that
/// [`flow_error_message`] knows; other codes are returned unchanged.
fn canonical_flow_code(code: &str) -> &str {
    match code {
        "sso_not_enabled" => "sso_disabled",
        "unknown_tenant" => "tenant_not_linked",
        "user_not_found" | "not_invited" | "provisioning_disabled" => "user_not_provisioned",
        "account_disabled" | "user_deactivated" => "account_deactivated",
        "invalid_state" => "state_mismatch",
        "sso_expired" | "login_expired" => "expired",
        other => other,
    }
}

/// Where "Sign in with Microsoft" leads: the Microsoft flow, with the (sanitised) page to
/// return to.
pub fn microsoft_sign_in_href(return_to: &str) -> String {
    with_return_to(MICROSOFT_LOGIN_PATH, return_to)
}

/// The sign-in form.
#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let return_to =
        Memo::new(move |_| query.with(|q| sanitize_return_to(q.get("return_to").as_deref())));
    // A refused form post: its message goes where a JSON answer's would, the address stays.
    let refusal = query.with_untracked(|q| sign_in_form_refusal(|name| q.get(name)));
    let kept_email = refusal
        .and_then(|_| query.with_untracked(|q| q.get(EMAIL_PARAM)))
        .unwrap_or_default();
    let redirect_error = Memo::new(move |_| {
        query.with(|q| {
            if sign_in_form_refusal(|name| q.get(name)).is_some() {
                return None;
            }
            q.get("error").map(|code| sign_in_error_message(&code))
        })
    });
    let microsoft_href = Signal::derive(move || microsoft_sign_in_href(&return_to.get()));

    let email_kept = !kept_email.is_empty();
    let email = field_value("sign-in-email", || kept_email);
    let password = field_value("sign-in-password", String::new);
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(refusal.map(FormRefusal::message));
    let (error_field, set_error_field) =
        signal(refusal.and_then(FormRefusal::field).map(str::to_string));
    let navigate = use_navigate();
    let password_input = NodeRef::<html::Input>::new();

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        set_error.set(None);
        set_error_field.set(None);
        let email = email.get_untracked().trim().to_string();
        let typed_password = password.get_untracked();
        let return_to = return_to.get_untracked();
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match login(email, typed_password).await {
                Ok(answer) => {
                    let step = if answer.email_code_sent {
                        NextStep::Navigate(sign_in_answer_path(&answer, &return_to))
                    } else {
                        next_step(answer.status, &return_to)
                    };
                    // A full page load keeps the button busy until the new page replaces this one.
                    if matches!(step, NextStep::Navigate(_)) {
                        set_busy.set(false);
                    }
                    go_to(step, navigate);
                }
                Err(e) => {
                    set_error_field.set(match &e {
                        ApiError::Api { field, .. } => field.clone(),
                        _ => None,
                    });
                    if e.code() == Some("invalid_credentials") {
                        // Retype the password; the address is usually right.
                        password.set(String::new());
                        if let Some(input) = password_input.get_untracked() {
                            let _ = input.focus();
                        }
                    }
                    set_error.set(Some(e.to_string()));
                    set_busy.set(false);
                }
            }
        });
    };

    let email_invalid = move || error_field.get().as_deref() == Some("email");
    let password_invalid = move || error_field.get().as_deref() == Some("password");

    view! {
        <Title text="Sign in" />
        <section class="auth-card" aria-labelledby="sign-in-title">
            <h1 id="sign-in-title">"Sign in"</h1>
            {move || {
                redirect_error
                    .get()
                    .map(|message| {
                        view! {
                            <div class="alert error sign-in-refusal" role="alert" data-testid="sign-in-error">
                                <p>{message}</p>
                            </div>
                        }
                    })
            }}
            <div class="sso-sign-in">
                <MicrosoftButton href=microsoft_href class="full-width" />
            </div>
            <p class="or-divider">
                <span>"or"</span>
            </p>
            <form class="form" method="post" on:submit=submit aria-busy=move || busy.get().then_some("true")>
                <Field label="Email address" for_id="sign-in-email">
                    <input
                        id="sign-in-email"
                        name="email"
                        class="input"
                        type="email"
                        autocomplete="username"
                        spellcheck="false"
                        autocapitalize="none"
                        required
                        autofocus=!email_kept
                        aria-invalid=move || email_invalid().then_some("true")
                        // Rendered by the server too, so an address kept after a refused post shows without the wasm.
                        value=email.get_untracked()
                        bind:value=email
                    />
                </Field>
                <Field label="Password" for_id="sign-in-password">
                    <input
                        id="sign-in-password"
                        name="password"
                        class="input"
                        type="password"
                        autocomplete="current-password"
                        required
                        autofocus=email_kept
                        aria-invalid=move || password_invalid().then_some("true")
                        node_ref=password_input
                        bind:value=password
                    />
                </Field>
                <FormAlert message=error />
                <SubmitButton label="Sign in" busy_label="Signing in…" busy=busy class="full-width" works_without_js=true />
            </form>
            <p class="auth-footer-link">
                <a href=FORGOT_PASSWORD_PATH>"Forgot your password?"</a>
            </p>
            <div class="auth-alternatives" data-testid="sign-in-alternatives">
                <hr class="divider" />
                <p class="muted small">
                    "Trouble signing in? Contact your organisation's portal administrator."
                </p>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::form_post::testing::query;

    #[test]
    fn a_complete_sign_in_loads_the_return_page() {
        assert_eq!(
            next_step(SignInStatus::SignedIn, "/calls?result=failed"),
            NextStep::Load("/calls?result=failed".to_string())
        );
        assert_eq!(
            next_step(SignInStatus::SignedIn, "/"),
            NextStep::Load("/".to_string())
        );
    }

    #[test]
    fn the_code_step_keeps_the_return_page() {
        assert_eq!(
            next_step(SignInStatus::MfaRequired, "/calls?result=failed"),
            NextStep::Navigate("/login/mfa?return_to=/calls%3Fresult%3Dfailed".to_string())
        );
        assert_eq!(
            next_step(SignInStatus::MfaRequired, "/"),
            NextStep::Navigate("/login/mfa".to_string())
        );
    }

    #[test]
    fn a_required_enrolment_goes_to_the_security_page() {
        assert_eq!(
            next_step(SignInStatus::MfaEnrolmentRequired, "/numbers"),
            NextStep::Navigate("/security?enrol=required&return_to=/numbers".to_string())
        );
        assert_eq!(
            next_step(SignInStatus::MfaEnrolmentRequired, "/"),
            NextStep::Navigate("/security?enrol=required".to_string())
        );
    }

    #[test]
    fn a_refused_form_post_is_shown_with_the_json_answers_words() {
        assert_eq!(
            sign_in_form_refusal(query("error=invalid_credentials")),
            Some(FormRefusal::InvalidCredentials)
        );
        assert_eq!(
            sign_in_form_refusal(query("error=rate_limited&retry_after=90")),
            Some(FormRefusal::RateLimited {
                retry_after_secs: 90
            })
        );
        // Single sign-on's refusals stay above the form.
        assert_eq!(sign_in_form_refusal(query("error=rate_limited")), None);
        assert_eq!(sign_in_form_refusal(query("error=sso_required")), None);
        assert_eq!(sign_in_form_refusal(query("error=tenant_not_linked")), None);
        // Another form's refusal is not this one's.
        assert_eq!(sign_in_form_refusal(query("error=invalid_code")), None);
    }

    #[test]
    fn known_error_codes_have_their_own_message() {
        assert!(sign_in_error_message("tenant_not_linked").contains("not connected"));
        assert!(sign_in_error_message("account_disabled").contains("deactivated"));
        assert!(sign_in_error_message("session_expired").contains("Sign in again"));
    }

    #[test]
    fn single_sign_on_refusals_use_the_flow_messages() {
        for code in [
            "tenant_not_linked",
            "tenant_disabled",
            "sso_disabled",
            "consumer_account",
            "user_not_provisioned",
            "sso_required",
            "idp_unavailable",
            "state_mismatch",
        ] {
            assert_eq!(
                Some(sign_in_error_message(code)),
                flow_error_message(code),
                "{code}"
            );
        }
        // The refused tenant says why and whom to ask.
        let message = sign_in_error_message("tenant_not_linked");
        assert!(message.contains("not connected") && message.contains("Ask"));
    }

    #[test]
    fn older_spellings_map_to_the_flow_messages() {
        assert_eq!(
            Some(sign_in_error_message("unknown_tenant")),
            flow_error_message("tenant_not_linked")
        );
        assert_eq!(
            Some(sign_in_error_message("user_deactivated")),
            flow_error_message("account_deactivated")
        );
    }

    #[test]
    fn unknown_error_codes_get_a_general_message_without_the_code() {
        let message = sign_in_error_message("call_0800_FRAUD");
        assert!(message.starts_with("Signing in did not work"));
        assert!(!message.contains("FRAUD"));
        assert_eq!(sign_in_error_message(""), GENERAL_SIGN_IN_ERROR);
    }

    #[test]
    fn the_microsoft_button_keeps_the_return_page() {
        assert_eq!(microsoft_sign_in_href("/"), "/auth/microsoft/login");
        assert_eq!(
            microsoft_sign_in_href("/calls?result=failed"),
            "/auth/microsoft/login?return_to=/calls%3Fresult%3Dfailed"
        );
    }
}
