//! `/login/mfa`: the second step of a password sign-in, a code from the authenticator app, a
//! code sent by e-mail (`?kind=email`, where a sign-in whose factor is e-mail lands: its code
//! went out with the password step) or one of the recovery codes (`?kind=recovery`).
//!
//! The pending sign-in lives on the server for 5 minutes and survives 4 wrong codes; after
//! that it is gone and the person has to start again at `/login`.
//!
//! The code form also works before the wasm has arrived, or without JavaScript: the server
//! takes its plain form post (`POST /login/mfa`), runs the same code step and redirects on, or
//! back here with `?error=CODE` (or `?recovery_codes_left=N` after a recovery code), which the
//! page shows as it shows the JSON answers.

use leptos::{ev::SubmitEvent, html, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{
    auth::{
        send_sign_in_email_code, sign_in_mfa_methods, submit_mfa_code, SignInResponse,
        SignInStatus, MFA_EMAIL_PATH, MFA_PATH, MFA_RECOVERY_PATH,
    },
    form_post::FormRefusal,
    ApiError,
};
use crate::components::form::{
    field_value, normalize_email_code, normalize_recovery_code, normalize_totp_code, CodeInput,
    CodeKind, Field, FormAlert, SubmitButton,
};
use crate::pages::forgot_password::FORGOT_PASSWORD_PATH;
use crate::pages::sign_in::{go_to, next_step, NextStep};
use crate::return_to::{sanitize_return_to, with_return_to};

/// Where a new sign-in starts.
const SIGN_IN_PATH: &str = "/login";

/// The query parameter that says a form post signed in with a recovery code, and how many are
/// left (the number is all it carries: a crafted one only changes what this page says).
pub const RECOVERY_CODES_LEFT_PARAM: &str = "recovery_codes_left";

/// The page asking for the other kind of code than `kind`, keeping `return_to`: the switch
/// between a code and a recovery code is a plain link (`?kind=recovery`), so it also works
/// without JavaScript; from a recovery code it goes back to `base` (the app or e-mail).
pub fn other_kind_href(kind: CodeKind, base: CodeKind, return_to: &str) -> String {
    match (kind, base) {
        (CodeKind::Totp | CodeKind::Email, _) => with_return_to(MFA_RECOVERY_PATH, return_to),
        (CodeKind::Recovery, CodeKind::Email) => with_return_to(MFA_EMAIL_PATH, return_to),
        (CodeKind::Recovery, _) => with_return_to(MFA_PATH, return_to),
    }
}

/// The kind of code the page asks for first, from its `kind` parameter.
pub fn kind_of_param(kind: Option<&str>) -> CodeKind {
    match kind {
        Some("recovery") => CodeKind::Recovery,
        Some("email") => CodeKind::Email,
        _ => CodeKind::Totp,
    }
}

/// At or below this many unused recovery codes the person is told to make new ones.
pub const FEW_RECOVERY_CODES: u32 = 2;

/// What a failed code submission means for the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaFailure {
    /// The code was wrong; the pending sign-in is still there.
    WrongCode,
    /// The pending sign-in is gone (too many wrong codes, too slow, or none): start again.
    SignInGone,
    /// The account's codes are locked after too many wrong codes in a row: a password reset
    /// (or an administrator) unlocks them.
    CodesLocked,
    /// Anything else (rate limit, network): the message says what to do.
    Other,
}

/// Sorts an error from `POST /api/v1/auth/mfa`.
pub fn classify_mfa_error(error: &ApiError) -> MfaFailure {
    match error.code() {
        Some("invalid_code") => MfaFailure::WrongCode,
        Some("unauthenticated" | "mfa_expired") => MfaFailure::SignInGone,
        Some("codes_locked") => MfaFailure::CodesLocked,
        _ => MfaFailure::Other,
    }
}

/// The message after a recovery code was accepted, and whether it is a warning (few left).
pub fn recovery_codes_left_message(remaining: u32) -> (String, bool) {
    let codes = if remaining == 1 { "code" } else { "codes" };
    let mut message =
        format!("Recovery code accepted. You have {remaining} recovery {codes} left.");
    let warn = remaining <= FEW_RECOVERY_CODES;
    if warn {
        message.push_str(
            " Generate new recovery codes on the Security page so you are not locked out.",
        );
    }
    (message, warn)
}

/// Where the page stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum MfaView {
    /// Asking for a code.
    Form,
    /// Signed in with a recovery code; shows how many are left before continuing.
    RecoveryAccepted(u32),
    /// The pending sign-in is gone; the message says why.
    SignInGone(String),
    /// The account's codes are locked; the message says how to unlock them.
    CodesLocked(String),
}

/// Where the page starts, given its query: the form, or what a form post came back with (the
/// view and the form's message).
fn initial_view(get: impl Fn(&str) -> Option<String>) -> (MfaView, Option<String>) {
    if let Some(left) = get(RECOVERY_CODES_LEFT_PARAM).and_then(|n| n.parse().ok()) {
        return (MfaView::RecoveryAccepted(left), None);
    }
    match FormRefusal::from_query(get) {
        Some(r @ (FormRefusal::MfaExpired | FormRefusal::SignInDropped)) => {
            (MfaView::SignInGone(r.message()), None)
        }
        Some(r @ FormRefusal::CodesLocked) => (MfaView::CodesLocked(r.message()), None),
        Some(r @ FormRefusal::InvalidCode) => (MfaView::Form, Some(r.message())),
        Some(r) if r.is_general() => (MfaView::Form, Some(r.message())),
        _ => (MfaView::Form, None),
    }
}

/// Handles a successful answer: where to go, or what to show first.
fn after_success(answer: &SignInResponse, return_to: &str) -> Result<NextStep, MfaView> {
    match (answer.status, answer.recovery_codes_remaining) {
        (SignInStatus::SignedIn, Some(remaining)) => Err(MfaView::RecoveryAccepted(remaining)),
        (status, _) => Ok(next_step(status, return_to)),
    }
}

/// The code form.
#[component]
pub fn MfaPage() -> impl IntoView {
    let query = use_query_map();
    let return_to =
        Memo::new(move |_| query.with(|q| sanitize_return_to(q.get("return_to").as_deref())));
    let navigate = use_navigate();

    let (first_view, first_error) = query.with_untracked(|q| initial_view(|name| q.get(name)));
    let page = RwSignal::new(first_view);
    let first_kind = kind_of_param(query.with_untracked(|q| q.get("kind")).as_deref());
    let kind = RwSignal::new(first_kind);
    // The code the person switches back to from a recovery code.
    let base = RwSignal::new(if first_kind == CodeKind::Email {
        CodeKind::Email
    } else {
        CodeKind::Totp
    });
    // Whether e-mail codes work for this sign-in (asked in the browser only).
    let methods = LocalResource::new(|| async { sign_in_mfa_methods().await.ok() });
    let email_usable = move || {
        methods
            .get()
            .flatten()
            .is_some_and(|m| m.usable.iter().any(|u| u == "email"))
    };
    let (notice, set_notice) = signal(None::<String>);
    let (sending, set_sending) = signal(false);
    let code = field_value("mfa-code", String::new);
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(first_error);
    let (field_error, set_field_error) = signal(None::<String>);
    let input_ref = NodeRef::<html::Input>::new();

    let focus_input = move || {
        request_animation_frame(move || {
            if let Some(input) = input_ref.get_untracked() {
                let _ = input.focus();
            }
        });
    };

    let toggle_kind = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        kind.update(|k| {
            *k = match k {
                CodeKind::Totp | CodeKind::Email => CodeKind::Recovery,
                CodeKind::Recovery => base.get_untracked(),
            }
        });
        code.set(String::new());
        set_error.set(None);
        set_field_error.set(None);
        set_notice.set(None);
        focus_input();
    };

    // "Send a new code" / "E-mail me a code instead": a new code replaces the last one.
    let send_code = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        if sending.get_untracked() {
            return;
        }
        set_sending.set(true);
        set_error.set(None);
        set_notice.set(None);
        leptos::task::spawn_local(async move {
            let sent = send_sign_in_email_code().await;
            set_sending.set(false);
            match sent {
                Ok(sent) => {
                    base.set(CodeKind::Email);
                    kind.set(CodeKind::Email);
                    code.set(String::new());
                    set_notice.set(Some(format!(
                        "A new code is on its way to {}. It works for 10 minutes; earlier codes no longer work.",
                        sent.sent_to
                    )));
                    focus_input();
                }
                Err(e) => match classify_mfa_error(&e) {
                    MfaFailure::SignInGone => page.set(MfaView::SignInGone(e.to_string())),
                    _ => set_error.set(Some(e.to_string())),
                },
            }
        });
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let typed = code.get_untracked();
        let normalized = match kind.get_untracked() {
            CodeKind::Totp => normalize_totp_code(&typed),
            CodeKind::Email => normalize_email_code(&typed),
            CodeKind::Recovery => normalize_recovery_code(&typed),
        };
        let normalized = match normalized {
            Ok(value) => value,
            Err(hint) => {
                set_field_error.set(Some(hint.to_string()));
                focus_input();
                return;
            }
        };
        set_field_error.set(None);
        set_error.set(None);
        set_busy.set(true);
        let return_to = return_to.get_untracked();
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match submit_mfa_code(normalized).await {
                Ok(answer) => match after_success(&answer, &return_to) {
                    Ok(step) => {
                        if matches!(step, NextStep::Navigate(_)) {
                            set_busy.set(false);
                        }
                        go_to(step, navigate);
                    }
                    Err(view) => {
                        set_busy.set(false);
                        page.set(view);
                    }
                },
                Err(e) => {
                    set_busy.set(false);
                    match classify_mfa_error(&e) {
                        MfaFailure::SignInGone => page.set(MfaView::SignInGone(e.to_string())),
                        MfaFailure::CodesLocked => page.set(MfaView::CodesLocked(e.to_string())),
                        MfaFailure::WrongCode => {
                            code.set(String::new());
                            set_error.set(Some(e.to_string()));
                            focus_input();
                        }
                        MfaFailure::Other => set_error.set(Some(e.to_string())),
                    }
                }
            }
        });
    };

    let sign_in_again = move || with_return_to(SIGN_IN_PATH, &return_to.get());

    view! {
        <Title text="Enter your code" />
        <section class="auth-card" aria-labelledby="mfa-title">
            <h1 id="mfa-title">"Two-step verification"</h1>
            {move || match page.get() {
                MfaView::Form => {
                    view! {
                        <form class="form" method="post" on:submit=submit.clone() aria-busy=move || busy.get().then_some("true")>
                            <p class="muted">
                                {move || match kind.get() {
                                    CodeKind::Totp => "Open your authenticator app and enter the 6-digit code it shows for the portal.",
                                    CodeKind::Email => "We e-mailed you an 8-digit code. Enter it here: it works once, for 10 minutes.",
                                    CodeKind::Recovery => "Enter one of the recovery codes you saved when you set up your second factor. Each code works once.",
                                }}
                            </p>
                            {move || notice.get().map(|text| view! { <p class="alert ok" role="status">{text}</p> })}
                            {move || {
                                let kind = kind.get();
                                let label = match kind {
                                    CodeKind::Totp => "Authentication code",
                                    CodeKind::Email => "Code from the e-mail",
                                    CodeKind::Recovery => "Recovery code",
                                };
                                view! {
                                    <Field label=label for_id="mfa-code" error=field_error>
                                        <CodeInput
                                            id="mfa-code"
                                            kind=kind
                                            value=code
                                            autofocus=true
                                            invalid=Signal::derive(move || field_error.with(Option::is_some))
                                            input_ref=input_ref
                                        />
                                    </Field>
                                }
                            }}
                            <FormAlert message=error />
                            <SubmitButton label="Verify" busy_label="Verifying…" busy=busy class="full-width" works_without_js=true />
                            {move || {
                                let offer = match kind.get() {
                                    CodeKind::Email => Some("Send a new code"),
                                    CodeKind::Totp if email_usable() => Some("E-mail me a code instead"),
                                    _ => None,
                                };
                                offer.map(|label| view! {
                                    <button
                                        type="button"
                                        class="button link"
                                        data-testid="send-email-code"
                                        disabled=move || sending.get()
                                        on:click=send_code
                                    >
                                        {move || if sending.get() { "Sending…" } else { label }}
                                    </button>
                                })
                            }}
                            // A link, so it also switches without JavaScript.
                            <a
                                class="button link"
                                href=move || other_kind_href(kind.get(), base.get(), &return_to.get())
                                on:click=toggle_kind
                            >
                                {move || match (kind.get(), base.get()) {
                                    (CodeKind::Totp | CodeKind::Email, _) => "Use a recovery code instead",
                                    (CodeKind::Recovery, CodeKind::Email) => "Use the code from the e-mail instead",
                                    (CodeKind::Recovery, _) => "Use your authenticator app instead",
                                }}
                            </a>
                        </form>
                        <p class="muted small auth-footer-link">
                            <a href=sign_in_again rel="external">"Start again"</a>
                        </p>
                    }
                        .into_any()
                }
                MfaView::RecoveryAccepted(remaining) => {
                    let (message, warn) = recovery_codes_left_message(remaining);
                    view! {
                        <div class="alert" class:ok=!warn class:warn=warn role="status">
                            <p>{message}</p>
                            {warn.then(|| view! {
                                <p>
                                    <a href="/security" rel="external">"Go to the Security page"</a>
                                </p>
                            })}
                        </div>
                        <p>
                            <a class="button full-width" href=move || return_to.get() rel="external">
                                "Continue"
                            </a>
                        </p>
                    }
                        .into_any()
                }
                MfaView::CodesLocked(message) => {
                    view! {
                        <div class="alert error" role="alert" data-testid="codes-locked">
                            <p>{message}</p>
                        </div>
                        <p>
                            <a class="button full-width" href=FORGOT_PASSWORD_PATH rel="external">
                                "Reset your password"
                            </a>
                        </p>
                    }
                        .into_any()
                }
                MfaView::SignInGone(message) => {
                    view! {
                        <div class="alert error" role="alert">
                            <p>{message}</p>
                            <p>"For your security, sign in again with your email and password."</p>
                        </div>
                        <p>
                            <a class="button full-width" href=sign_in_again rel="external">
                                "Sign in again"
                            </a>
                        </p>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::error::testing::api_error;
    use crate::api::form_post::testing::query;

    #[test]
    fn errors_are_sorted_by_what_the_person_can_do() {
        assert_eq!(
            classify_mfa_error(&api_error(401, "invalid_code")),
            MfaFailure::WrongCode
        );
        assert_eq!(
            classify_mfa_error(&api_error(401, "unauthenticated")),
            MfaFailure::SignInGone
        );
        assert_eq!(
            classify_mfa_error(&api_error(401, "mfa_expired")),
            MfaFailure::SignInGone
        );
        assert_eq!(
            classify_mfa_error(&api_error(403, "codes_locked")),
            MfaFailure::CodesLocked
        );
        assert_eq!(
            classify_mfa_error(&api_error(429, "rate_limited")),
            MfaFailure::Other
        );
        assert_eq!(
            classify_mfa_error(&ApiError::Network("offline".to_string())),
            MfaFailure::Other
        );
    }

    #[test]
    fn many_recovery_codes_left_is_good_news() {
        let (message, warn) = recovery_codes_left_message(7);
        assert_eq!(
            message,
            "Recovery code accepted. You have 7 recovery codes left."
        );
        assert!(!warn);
    }

    #[test]
    fn few_recovery_codes_left_is_a_warning() {
        let (message, warn) = recovery_codes_left_message(2);
        assert!(message.starts_with("Recovery code accepted. You have 2 recovery codes left."));
        assert!(message.contains("Security page"));
        assert!(warn);
        let (message, warn) = recovery_codes_left_message(1);
        assert!(message.starts_with("Recovery code accepted. You have 1 recovery code left."));
        assert!(warn);
        let (message, _) = recovery_codes_left_message(0);
        assert!(message.starts_with("Recovery code accepted. You have 0 recovery codes left."));
    }

    #[test]
    fn a_recovery_code_sign_in_stops_to_say_how_many_are_left() {
        let answer = SignInResponse {
            status: SignInStatus::SignedIn,
            recovery_codes_remaining: Some(3),
            email_code_sent: false,
        };
        assert_eq!(
            after_success(&answer, "/calls"),
            Err(MfaView::RecoveryAccepted(3))
        );
    }

    #[test]
    fn a_form_post_comes_back_to_the_view_the_json_answer_shows() {
        assert_eq!(initial_view(query("")), (MfaView::Form, None));
        assert_eq!(
            initial_view(query("error=invalid_code")),
            (MfaView::Form, Some(FormRefusal::InvalidCode.message()))
        );
        assert_eq!(
            initial_view(query("error=sign_in_dropped")),
            (
                MfaView::SignInGone(FormRefusal::SignInDropped.message()),
                None
            )
        );
        assert_eq!(
            initial_view(query("error=codes_locked")),
            (
                MfaView::CodesLocked(FormRefusal::CodesLocked.message()),
                None
            )
        );
        assert_eq!(
            initial_view(query("recovery_codes_left=2")),
            (MfaView::RecoveryAccepted(2), None)
        );
        // Another form's refusal, or a number that is not one, shows the form.
        assert_eq!(
            initial_view(query("error=invalid_link")),
            (MfaView::Form, None)
        );
        assert_eq!(
            initial_view(query("recovery_codes_left=-1")),
            (MfaView::Form, None)
        );
    }

    #[test]
    fn the_switch_between_kinds_of_code_is_a_link_that_keeps_the_return_page() {
        assert_eq!(
            other_kind_href(CodeKind::Totp, CodeKind::Totp, "/calls"),
            "/login/mfa?kind=recovery&return_to=/calls"
        );
        assert_eq!(
            other_kind_href(CodeKind::Recovery, CodeKind::Totp, "/"),
            "/login/mfa"
        );
        assert_eq!(
            other_kind_href(CodeKind::Recovery, CodeKind::Email, "/"),
            "/login/mfa?kind=email"
        );
        assert_eq!(
            other_kind_href(CodeKind::Email, CodeKind::Email, "/"),
            "/login/mfa?kind=recovery"
        );
        assert_eq!(kind_of_param(Some("email")), CodeKind::Email);
        assert_eq!(kind_of_param(Some("x")), CodeKind::Totp);
    }

    #[test]
    fn a_code_sign_in_goes_straight_on() {
        let answer = SignInResponse {
            status: SignInStatus::SignedIn,
            recovery_codes_remaining: None,
            email_code_sent: false,
        };
        assert_eq!(
            after_success(&answer, "/calls"),
            Ok(NextStep::Load("/calls".to_string()))
        );
    }
}
