//! The form behind an emailed link, an invitation (`/invite/{token}`) or a password reset
//! (`/reset-password/{token}`): choose a password and send it with the link's token.
//!
//! The token is checked by the server when the password is sent; the browser only refuses
//! one that cannot be a token (a link cut short by a mail program, or one crafted to make the
//! request go to another API path).
//!
//! The form also works before the wasm has arrived, or without JavaScript: the server takes
//! its plain form post (`POST /invite/{token}`, `POST /reset-password/{token}`), sets the
//! password with the same code and redirects back with `?password_set=1`, or with
//! `?error=CODE` (`api::form_post`), which the form shows as it shows the JSON answers.

use leptos::{ev::SubmitEvent, html, prelude::*};
use leptos_router::hooks::use_query_map;

use crate::api::{
    auth::{accept_invitation, reset_password},
    form_post::FormRefusal,
    ApiError,
};
use crate::components::{
    form::{field_value, FormAlert, SubmitButton},
    new_password::{check_new_password, confirm_password_id, new_password_id, NewPasswordFields},
};

/// The query parameter a form post that set the password comes back with.
pub const PASSWORD_SET_PARAM: &str = "password_set";

/// The start of the ids of the form's inputs.
const ID_PREFIX: &str = "link";

/// The longest token accepted from a link (the server issues 43 characters).
pub const MAX_LINK_TOKEN_CHARS: usize = 128;

/// What the page says about a link that is not a token at all.
pub const MALFORMED_LINK_MESSAGE: &str = "This link is not complete. Open it again from the email; if your email program split it over two lines, copy the whole address into the browser.";

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// An invitation: the first password of a new account.
    Invitation,
    /// A password reset.
    Reset,
}

/// Where a link page stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Asking for the password.
    Form,
    /// The password is set.
    Done,
    /// The link cannot be used; the message says why.
    Invalid(String),
}

/// Whether `token` can be a link token: base64url characters, not empty, not too long. Other
/// characters (`/`, `.`, `%`, `?`) could steer the API request elsewhere, so they never reach it.
pub fn is_link_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= MAX_LINK_TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The state a link page starts in: the form, or at once the message for a malformed token.
pub fn initial_link_state(token: &str) -> LinkState {
    if is_link_token(token) {
        LinkState::Form
    } else {
        LinkState::Invalid(MALFORMED_LINK_MESSAGE.to_string())
    }
}

/// The state a link page starts in, given its token and its query: what a form post came back
/// with (the password set, or the link refused), else [`initial_link_state`].
pub fn link_state_after_form_post(token: &str, get: impl Fn(&str) -> Option<String>) -> LinkState {
    if get(PASSWORD_SET_PARAM).is_some() {
        return LinkState::Done;
    }
    match FormRefusal::from_query(get) {
        Some(r @ FormRefusal::InvalidLink) => LinkState::Invalid(r.message()),
        _ => initial_link_state(token),
    }
}

/// The form's errors after a refused form post: the new password's, the confirmation's and
/// the form's.
fn form_post_errors(
    get: impl Fn(&str) -> Option<String>,
) -> (Option<String>, Option<String>, Option<String>) {
    match FormRefusal::from_query(get) {
        Some(r @ FormRefusal::WeakPassword(_)) => (Some(r.message()), None, None),
        Some(r @ FormRefusal::PasswordMismatch) => (None, Some(r.message()), None),
        Some(r) if r.is_general() => (None, None, Some(r.message())),
        _ => (None, None, None),
    }
}

/// What a failed submission means for the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkFailure {
    /// The link was used, expired or replaced: the form is of no more use.
    InvalidLink(String),
    /// The server refused the password itself (too guessable, too long): shown at the field.
    Password(String),
    /// Anything else (network, server error): shown above the button.
    Other(String),
}

/// Sorts an error from accepting an invitation or completing a reset.
pub fn classify_link_error(error: &ApiError) -> LinkFailure {
    match error {
        _ if error.code() == Some("invalid_link") => LinkFailure::InvalidLink(error.to_string()),
        ApiError::Api {
            field: Some(field), ..
        } if field == "password" => LinkFailure::Password(error.to_string()),
        _ => LinkFailure::Other(error.to_string()),
    }
}

/// The password form of a link page. Sets `state` to [`LinkState::Done`] or
/// [`LinkState::Invalid`] when the server has answered.
#[component]
pub fn LinkPasswordForm(
    /// What the link is for (chooses the API call).
    purpose: LinkPurpose,
    /// The token from the link (checked with [`is_link_token`]).
    #[prop(into)]
    token: String,
    /// The page's state.
    state: RwSignal<LinkState>,
    /// The account's address, shown read-only (and offered to password managers as the user
    /// name the new password belongs to) once known.
    #[prop(optional, into)]
    email: Signal<Option<String>>,
    /// The submit button's label.
    submit_label: &'static str,
) -> impl IntoView {
    let token = StoredValue::new(token);
    let (first_password_error, first_confirm_error, first_error) =
        use_query_map().with_untracked(|q| form_post_errors(|name| q.get(name)));
    let password = field_value(&new_password_id(ID_PREFIX), String::new);
    let confirm = field_value(&confirm_password_id(ID_PREFIX), String::new);
    let (busy, set_busy) = signal(false);
    let password_error = RwSignal::new(first_password_error);
    let confirm_error = RwSignal::new(first_confirm_error);
    let (error, set_error) = signal(first_error);
    let password_ref = NodeRef::<html::Input>::new();
    let confirm_ref = NodeRef::<html::Input>::new();

    let focus = move |input: NodeRef<html::Input>| {
        if let Some(input) = input.get_untracked() {
            let _ = input.focus();
        }
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        set_error.set(None);
        let typed = password.get_untracked();
        let check = check_new_password(&typed, &confirm.get_untracked());
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
        let token = token.get_value();
        leptos::task::spawn_local(async move {
            let result = match purpose {
                LinkPurpose::Invitation => accept_invitation(token, typed).await,
                LinkPurpose::Reset => reset_password(token, typed).await,
            };
            set_busy.set(false);
            match result {
                Ok(_) => state.set(LinkState::Done),
                Err(e) => match classify_link_error(&e) {
                    LinkFailure::InvalidLink(message) => state.set(LinkState::Invalid(message)),
                    LinkFailure::Password(message) => {
                        // A different password is needed: both fields start over.
                        password.set(String::new());
                        confirm.set(String::new());
                        password_error.set(Some(message));
                        focus(password_ref);
                    }
                    LinkFailure::Other(message) => set_error.set(Some(message)),
                },
            }
        });
    };

    let email_field =
        move || {
            email.get().map(|email| view! {
            <div class="field">
                <label class="field-label" for="link-email">"Email address"</label>
                <input
                    id="link-email"
                    name="username"
                    class="input"
                    type="email"
                    autocomplete="username"
                    readonly
                    aria-describedby="link-email-hint"
                    value=email
                />
                <p class="field-hint" id="link-email-hint">"You sign in with this address."</p>
            </div>
        })
        };

    view! {
        <form class="form" method="post" on:submit=submit aria-busy=move || busy.get().then_some("true")>
            {email_field}
            <NewPasswordFields
                id_prefix=ID_PREFIX
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
            <SubmitButton label=submit_label busy_label="Saving…" busy=busy class="full-width" works_without_js=true />
        </form>
    }
}

/// The confirmation after a link set the password, with the way on to the sign-in page.
/// Keyboard focus moves to the message (the form that had it is gone).
#[component]
pub fn LinkDone(
    /// What the link was for (chooses the words).
    purpose: LinkPurpose,
) -> impl IntoView {
    let message = NodeRef::<html::Div>::new();
    message.on_load(|element| {
        let _ = element.focus();
    });
    let (headline, detail) = link_done_text(purpose);
    view! {
        <div class="alert ok" role="status" tabindex="-1" node_ref=message data-testid="password-set">
            <p><strong>{headline}</strong></p>
            <p>{detail}</p>
        </div>
        <p>
            <a class="button full-width" href="/login">"Sign in"</a>
        </p>
    }
}

/// The headline and the sentence after a link set the password.
pub fn link_done_text(purpose: LinkPurpose) -> (&'static str, &'static str) {
    match purpose {
        LinkPurpose::Invitation => (
            "Your password is set.",
            "Sign in with your email address and your new password.",
        ),
        LinkPurpose::Reset => (
            "Your password has been changed.",
            "Sign in with it; if you use an authenticator app you will still need it.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::error::testing::api_error_on as api_error;
    use crate::api::form_post::testing::query;

    #[test]
    fn issued_tokens_are_accepted() {
        // What the server issues: 32 bytes in unpadded base64url.
        assert!(is_link_token("q1Zx-7_kP0aB9cD3eF5gH7iJ1kL3mN5oP7qR9sT1uVw"));
        assert!(is_link_token("a"));
        assert!(is_link_token(&"a".repeat(MAX_LINK_TOKEN_CHARS)));
    }

    #[test]
    fn anything_that_could_change_the_request_is_refused() {
        for token in [
            "",
            "..",
            "../../me/password",
            "abc/def",
            "abc%2Fdef",
            "abc?x=1",
            "abc#x",
            "abc def",
            "abc=",
            "äbc",
        ] {
            assert!(!is_link_token(token), "{token:?}");
        }
        assert!(!is_link_token(&"a".repeat(MAX_LINK_TOKEN_CHARS + 1)));
    }

    #[test]
    fn a_malformed_token_starts_with_the_message() {
        assert_eq!(initial_link_state("abc"), LinkState::Form);
        assert_eq!(
            initial_link_state("abc/def"),
            LinkState::Invalid(MALFORMED_LINK_MESSAGE.to_string())
        );
    }

    #[test]
    fn a_form_post_comes_back_to_the_state_the_json_answer_gives() {
        assert_eq!(
            link_state_after_form_post("abc", query("")),
            LinkState::Form
        );
        assert_eq!(
            link_state_after_form_post("abc", query("password_set=1")),
            LinkState::Done
        );
        assert_eq!(
            link_state_after_form_post("abc", query("error=invalid_link")),
            LinkState::Invalid(FormRefusal::InvalidLink.message())
        );
        assert_eq!(
            link_state_after_form_post("a/b", query("")),
            LinkState::Invalid(MALFORMED_LINK_MESSAGE.to_string())
        );
        assert_eq!(
            form_post_errors(query("error=password_mismatch")),
            (None, Some(FormRefusal::PasswordMismatch.message()), None)
        );
        assert_eq!(
            form_post_errors(query("error=weak_password&reason=too_short")),
            (
                Some(crate::api::form_post::PASSWORD_TOO_SHORT_MESSAGE.to_string()),
                None,
                None
            )
        );
        assert_eq!(
            form_post_errors(query("error=invalid_code")),
            (None, None, None)
        );
    }

    #[test]
    fn a_used_link_ends_the_form() {
        assert_eq!(
            classify_link_error(&api_error(404, "invalid_link", None)),
            LinkFailure::InvalidLink("The server's words.".to_string())
        );
    }

    #[test]
    fn a_refused_password_goes_to_its_field() {
        assert_eq!(
            classify_link_error(&api_error(422, "weak_password", Some("password"))),
            LinkFailure::Password("The server's words.".to_string())
        );
        assert_eq!(
            classify_link_error(&api_error(422, "invalid_field", Some("password"))),
            LinkFailure::Password("The server's words.".to_string())
        );
    }

    #[test]
    fn other_failures_are_shown_above_the_button() {
        assert_eq!(
            classify_link_error(&api_error(500, "internal", None)),
            LinkFailure::Other("The server's words.".to_string())
        );
        assert!(matches!(
            classify_link_error(&ApiError::Network("offline".to_string())),
            LinkFailure::Other(_)
        ));
        assert!(matches!(
            classify_link_error(&api_error(422, "malformed_json", Some("body"))),
            LinkFailure::Other(_)
        ));
    }

    #[test]
    fn the_confirmation_fits_the_link() {
        assert_eq!(
            link_done_text(LinkPurpose::Invitation).0,
            "Your password is set."
        );
        let (headline, detail) = link_done_text(LinkPurpose::Reset);
        assert_eq!(headline, "Your password has been changed.");
        assert!(detail.contains("authenticator app"));
    }
}
