//! The Security page's "Password" section: change the password (current, new, confirm).
//!
//! A change signs out every other session, so the page reloads its sessions list afterwards.
//! `/me` does not say whether the user has a password; people whose session signed in with
//! Microsoft Entra ID usually have none, so the section is left out for them.

use leptos::{ev::SubmitEvent, html, prelude::*};

use crate::api::{
    auth::{ChangePasswordRequest, MeUser, OkResponse},
    client, ApiError,
};
use crate::components::browser::in_browser;
use crate::components::{
    form::{described_by, Field, FormAlert, SubmitButton},
    new_password::{check_new_password, NewPasswordFields},
    user_menu::{use_current_user, MeState},
};
use crate::return_to::with_return_to;

use crate::api::error::is_signed_out;

/// The message after a change.
pub const PASSWORD_CHANGED_NOTICE: &str =
    "Password changed. Your other sessions have been signed out.";

/// Whether the section is shown to `user`: everyone but those signed in with single sign-on.
pub fn shows_password_section(user: &MeUser) -> bool {
    user.has_password && !user.auth_method.starts_with("entra")
}

/// What a failed change means for the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordChangeFailure {
    /// The current password is wrong (shown at its field).
    WrongCurrent(String),
    /// The new password was refused (shown at its field).
    RefusedNew(String),
    /// The session has ended: the only way on is to sign in again.
    SignedOut(String),
    /// Anything else (shown above the button).
    Other(String),
}

/// Sorts an error from `POST /api/v1/me/password`.
pub fn classify_password_change_error(error: &ApiError) -> PasswordChangeFailure {
    let message = error.to_string();
    if is_signed_out(error) {
        return PasswordChangeFailure::SignedOut(message);
    }
    match error {
        ApiError::Api {
            field: Some(field), ..
        } if field == "current_password" => PasswordChangeFailure::WrongCurrent(message),
        ApiError::Api {
            field: Some(field), ..
        } if field == "new_password" => PasswordChangeFailure::RefusedNew(message),
        _ => PasswordChangeFailure::Other(message),
    }
}

/// Changes the password (there is no client function for it in `api::auth`).
async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<OkResponse, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        "/me/password",
        &ChangePasswordRequest {
            current_password,
            new_password,
        },
    )
    .await
}

/// The section's state; it lives outside the part that waits for `/me`, so reloading `/me`
/// (after an authenticator change) keeps the notice and an open form.
#[derive(Clone, Copy)]
struct PasswordFlow {
    /// Whether the form is open.
    open: RwSignal<bool>,
    /// A success message (`role="status"`).
    notice: RwSignal<Option<String>>,
    /// Set when the session has ended.
    signed_out: RwSignal<Option<String>>,
    /// Notified after a change, so the sessions list reloads.
    sessions_changed: Trigger,
    heading: NodeRef<html::H2>,
}

/// The "Password" section; nothing until `/me` has loaded, and nothing for single sign-on
/// sessions.
#[component]
pub fn PasswordSection(
    /// Notified after a change (the other sessions have ended).
    sessions_changed: Trigger,
) -> impl IntoView {
    let me = use_current_user().me;
    let flow = PasswordFlow {
        open: RwSignal::new(false),
        notice: RwSignal::new(None),
        signed_out: RwSignal::new(None),
        sessions_changed,
        heading: NodeRef::new(),
    };
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match in_browser(me).await {
                    MeState::SignedIn(me) if shows_password_section(&me.user) => {
                        view! { <PasswordCard flow=flow email=me.user.email /> }.into_any()
                    }
                    // The authenticator section above explains a missing session.
                    _ => ().into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn PasswordCard(flow: PasswordFlow, email: String) -> impl IntoView {
    let email = StoredValue::new(email);
    let open_form = move |_| {
        flow.notice.set(None);
        flow.open.set(true);
    };
    view! {
        <section class="card security-section" aria-labelledby="password-title" data-testid="password-section">
            <header class="card-header">
                <h2 id="password-title" tabindex="-1" node_ref=flow.heading>"Password"</h2>
            </header>
            <div role="status" class="status-region">
                {move || flow.notice.get().map(|text| view! { <p class="alert ok">{text}</p> })}
            </div>
            {move || {
                if let Some(message) = flow.signed_out.get() {
                    view! {
                        <div class="alert error" role="alert">
                            <p>{message}</p>
                            <p>
                                <a href=with_return_to("/login", "/security") rel="external">"Sign in again"</a>
                            </p>
                        </div>
                    }
                        .into_any()
                } else if flow.open.get() {
                    view! { <ChangePasswordForm flow=flow email=email.get_value() /> }.into_any()
                } else {
                    view! {
                        <p class="muted">
                            "Changing your password signs you out everywhere else."
                        </p>
                        <div class="actions">
                            <button type="button" class="button secondary" on:click=open_form>
                                "Change password"
                            </button>
                        </div>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// Current password, new password, confirmation.
#[component]
fn ChangePasswordForm(flow: PasswordFlow, email: String) -> impl IntoView {
    let current = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(None::<String>);
    let current_error = RwSignal::new(None::<String>);
    let password_error = RwSignal::new(None::<String>);
    let confirm_error = RwSignal::new(None::<String>);
    let current_ref = NodeRef::<html::Input>::new();
    let password_ref = NodeRef::<html::Input>::new();
    let confirm_ref = NodeRef::<html::Input>::new();
    // The form appears after a click, where `autofocus` does not apply.
    current_ref.on_load(|input| {
        let _ = input.focus();
    });

    let focus = move |input: NodeRef<html::Input>| {
        if let Some(input) = input.get_untracked() {
            let _ = input.focus();
        }
    };

    let close = move || {
        flow.open.set(false);
        let heading = flow.heading;
        request_animation_frame(move || {
            if let Some(heading) = heading.get_untracked() {
                let _ = heading.focus();
            }
        });
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        set_error.set(None);
        current_error.set(None);
        let typed_current = current.get_untracked();
        let typed_new = password.get_untracked();
        let check = check_new_password(&typed_new, &confirm.get_untracked());
        password_error.set(check.password.map(str::to_string));
        confirm_error.set(check.confirm.map(str::to_string));
        if !check.is_ok() {
            focus(if check.password.is_some() {
                password_ref
            } else {
                confirm_ref
            });
            return;
        }
        set_busy.set(true);
        leptos::task::spawn_local(async move {
            let result = change_password(typed_current, typed_new).await;
            set_busy.set(false);
            match result {
                Ok(_) => {
                    flow.notice.set(Some(PASSWORD_CHANGED_NOTICE.to_string()));
                    flow.sessions_changed.notify();
                    close();
                }
                Err(e) => match classify_password_change_error(&e) {
                    PasswordChangeFailure::WrongCurrent(message) => {
                        current.set(String::new());
                        current_error.set(Some(message));
                        focus(current_ref);
                    }
                    PasswordChangeFailure::RefusedNew(message) => {
                        password.set(String::new());
                        confirm.set(String::new());
                        password_error.set(Some(message));
                        focus(password_ref);
                    }
                    PasswordChangeFailure::SignedOut(message) => flow.signed_out.set(Some(message)),
                    PasswordChangeFailure::Other(message) => set_error.set(Some(message)),
                },
            }
        });
    };

    let current_invalid = move || current_error.with(Option::is_some);

    view! {
        <form class="form" method="post" on:submit=submit aria-busy=move || busy.get().then_some("true")>
            // Tells password managers which account the new password belongs to.
            <input type="email" name="username" autocomplete="username" value=email hidden readonly />
            <Field label="Current password" for_id="change-current-password" error=current_error>
                <input
                    id="change-current-password"
                    name="current-password"
                    class="input"
                    type="password"
                    autocomplete="current-password"
                    required
                    aria-invalid=move || current_invalid().then_some("true")
                    aria-describedby=move || described_by("change-current-password", false, current_invalid())
                    node_ref=current_ref
                    bind:value=current
                />
            </Field>
            <NewPasswordFields
                id_prefix="change"
                label="New password"
                confirm_label="Confirm the new password"
                password=password
                confirm=confirm
                password_error=password_error
                confirm_error=confirm_error
                password_ref=password_ref
                confirm_ref=confirm_ref
            />
            <FormAlert message=error />
            <div class="actions">
                <SubmitButton label="Change password" busy_label="Changing…" busy=busy />
                <button type="button" class="button secondary" on:click=move |_| close()>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::error::testing::api_error_on as api_error;

    fn user(auth_method: &str) -> MeUser {
        MeUser {
            id: "u1".to_string(),
            email: "ana@example.com".to_string(),
            name: "Ana".to_string(),
            role: Some("admin".to_string()),
            staff: false,
            mfa_enabled: false,
            has_password: true,
            auth_method: auth_method.to_string(),
            email_codes: false,
            mfa_methods_allowed: Vec::new(),
        }
    }

    #[test]
    fn single_sign_on_users_do_not_see_the_section() {
        assert!(shows_password_section(&user("password")));
        assert!(shows_password_section(&user("password+totp")));
        assert!(!shows_password_section(&user("entra")));
        assert!(!shows_password_section(&user("entra+totp")));
        let no_password = MeUser {
            has_password: false,
            ..user("password")
        };
        assert!(!shows_password_section(&no_password));
    }

    #[test]
    fn a_wrong_current_password_goes_to_its_field() {
        assert_eq!(
            classify_password_change_error(&api_error(
                401,
                "invalid_password",
                Some("current_password")
            )),
            PasswordChangeFailure::WrongCurrent("The server's words.".to_string())
        );
    }

    #[test]
    fn a_refused_new_password_goes_to_its_field() {
        assert_eq!(
            classify_password_change_error(&api_error(422, "weak_password", Some("new_password"))),
            PasswordChangeFailure::RefusedNew("The server's words.".to_string())
        );
    }

    #[test]
    fn an_ended_session_asks_to_sign_in_again() {
        assert_eq!(
            classify_password_change_error(&api_error(401, "unauthenticated", None)),
            PasswordChangeFailure::SignedOut("The server's words.".to_string())
        );
    }

    #[test]
    fn other_failures_are_shown_above_the_button() {
        assert_eq!(
            classify_password_change_error(&api_error(429, "rate_limited", None)),
            PasswordChangeFailure::Other("The server's words.".to_string())
        );
        assert!(matches!(
            classify_password_change_error(&ApiError::Network("offline".to_string())),
            PasswordChangeFailure::Other(_)
        ));
    }
}
