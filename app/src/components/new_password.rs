//! Choosing a new password: the "new password" and "confirm" fields, and the checks the browser
//! makes before sending them.
//!
//! The server has the last word (it also estimates how guessable the password is, given the
//! person's own details); the browser only catches what needs no round trip: a password that
//! is too short or too long, and two entries that differ.

use leptos::{html, prelude::*};

use crate::components::form::{described_by, Field};

/// Fewest characters in a new password (the server's policy).
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Most characters in a new password (the server's policy).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The hint under a new-password field.
pub const NEW_PASSWORD_HINT: &str = "At least 12 characters. A few unrelated words work well. Avoid your name, email address and organisation.";

/// Why a new password is not sent: too short.
pub const TOO_SHORT: &str = "Use at least 12 characters. A few unrelated words work well.";

/// Why a new password is not sent: too long.
pub const TOO_LONG: &str = "Use at most 256 characters.";

/// Why a new password is not sent: the confirmation is empty.
pub const CONFIRM_EMPTY: &str = "Type the new password a second time.";

/// Why a new password is not sent: the two entries differ (the server's form post says the
/// same).
pub const MISMATCH: &str = crate::api::form_post::PASSWORD_MISMATCH_MESSAGE;

/// What is wrong with a new password and its confirmation, per field; nothing when both are
/// fine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NewPasswordCheck {
    /// The problem with the new password.
    pub password: Option<&'static str>,
    /// The problem with the confirmation.
    pub confirm: Option<&'static str>,
}

impl NewPasswordCheck {
    /// Whether the two may be sent.
    pub fn is_ok(&self) -> bool {
        self.password.is_none() && self.confirm.is_none()
    }
}

/// Checks a new password and its confirmation before they are sent.
///
/// Length counts characters as typed; the server counts them after NFKC normalisation, which
/// differs only for rare compatibility characters (ligatures, full-width forms), where the
/// server's answer is shown instead. Nothing is trimmed: spaces are part of a password.
pub fn check_new_password(password: &str, confirm: &str) -> NewPasswordCheck {
    let chars = password.chars().count();
    let password_problem = if chars < MIN_PASSWORD_CHARS {
        Some(TOO_SHORT)
    } else if chars > MAX_PASSWORD_CHARS {
        Some(TOO_LONG)
    } else {
        None
    };
    let confirm_problem = if confirm.is_empty() {
        Some(CONFIRM_EMPTY)
    } else if confirm != password {
        Some(MISMATCH)
    } else {
        None
    };
    NewPasswordCheck {
        password: password_problem,
        confirm: confirm_problem,
    }
}

/// The id of the new-password input for a form whose ids start with `prefix`.
pub fn new_password_id(prefix: &str) -> String {
    format!("{prefix}-new-password")
}

/// The id of the confirmation input for a form whose ids start with `prefix`.
pub fn confirm_password_id(prefix: &str) -> String {
    format!("{prefix}-confirm-password")
}

/// The new password and its confirmation, each labelled, with the length hint and the errors
/// (the browser's checks and the server's answer).
#[component]
pub fn NewPasswordFields(
    /// Starts the inputs' ids, unique on the page (`invite` → `invite-new-password`).
    id_prefix: &'static str,
    /// The new password's label.
    label: &'static str,
    /// The confirmation's label.
    confirm_label: &'static str,
    /// The typed password.
    password: RwSignal<String>,
    /// The typed confirmation.
    confirm: RwSignal<String>,
    /// The new password's error.
    #[prop(into)]
    password_error: Signal<Option<String>>,
    /// The confirmation's error.
    #[prop(into)]
    confirm_error: Signal<Option<String>>,
    /// Lets the form focus the new password.
    #[prop(optional)]
    password_ref: NodeRef<html::Input>,
    /// Lets the form focus the confirmation.
    #[prop(optional)]
    confirm_ref: NodeRef<html::Input>,
    /// Focus the new password on page load.
    #[prop(optional)]
    autofocus: bool,
) -> impl IntoView {
    let password_id = new_password_id(id_prefix);
    let confirm_id = confirm_password_id(id_prefix);
    let password_describe_id = password_id.clone();
    let confirm_describe_id = confirm_id.clone();
    let password_invalid = move || password_error.with(Option::is_some);
    let confirm_invalid = move || confirm_error.with(Option::is_some);

    view! {
        <Field label=label for_id=password_id.clone() hint=NEW_PASSWORD_HINT error=password_error>
            <input
                id=password_id
                name="new-password"
                class="input"
                type="password"
                autocomplete="new-password"
                required
                autofocus=autofocus
                aria-invalid=move || password_invalid().then_some("true")
                aria-describedby=move || described_by(&password_describe_id, true, password_invalid())
                node_ref=password_ref
                bind:value=password
            />
        </Field>
        <Field label=confirm_label for_id=confirm_id.clone() error=confirm_error>
            <input
                id=confirm_id
                name="confirm-password"
                class="input"
                type="password"
                autocomplete="new-password"
                required
                aria-invalid=move || confirm_invalid().then_some("true")
                aria-describedby=move || described_by(&confirm_describe_id, false, confirm_invalid())
                node_ref=confirm_ref
                bind:value=confirm
            />
        </Field>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "violet tugboat orbit";

    #[test]
    fn a_long_enough_password_typed_twice_passes() {
        let check = check_new_password(GOOD, GOOD);
        assert!(check.is_ok());
        assert_eq!(check, NewPasswordCheck::default());
    }

    #[test]
    fn twelve_characters_is_the_minimum() {
        assert!(check_new_password("abcdefghijkl", "abcdefghijkl").is_ok());
        let check = check_new_password("abcdefghijk", "abcdefghijk");
        assert_eq!(check.password, Some(TOO_SHORT));
        assert_eq!(check.confirm, None);
        assert!(!check.is_ok());
    }

    #[test]
    fn characters_are_counted_not_bytes() {
        // 11 characters, 22 bytes.
        let short = "ééééééééééé";
        assert_eq!(check_new_password(short, short).password, Some(TOO_SHORT));
        let long_enough = "éééééééééééé";
        assert!(check_new_password(long_enough, long_enough).is_ok());
    }

    #[test]
    fn more_than_256_characters_is_too_long() {
        let max = "a".repeat(MAX_PASSWORD_CHARS);
        assert!(check_new_password(&max, &max).is_ok());
        let over = "a".repeat(MAX_PASSWORD_CHARS + 1);
        assert_eq!(check_new_password(&over, &over).password, Some(TOO_LONG));
    }

    #[test]
    fn the_confirmation_must_match_exactly() {
        assert_eq!(
            check_new_password(GOOD, "violet tugboat orbi").confirm,
            Some(MISMATCH)
        );
        assert_eq!(
            check_new_password(GOOD, "Violet tugboat orbit").confirm,
            Some(MISMATCH)
        );
        assert_eq!(
            check_new_password(GOOD, " violet tugboat orbit").confirm,
            Some(MISMATCH)
        );
        assert_eq!(check_new_password(GOOD, "").confirm, Some(CONFIRM_EMPTY));
    }

    #[test]
    fn both_problems_are_reported_at_once() {
        let check = check_new_password("short", "other");
        assert_eq!(check.password, Some(TOO_SHORT));
        assert_eq!(check.confirm, Some(MISMATCH));
    }

    #[test]
    fn spaces_are_part_of_the_password() {
        // Twelve characters only with the surrounding spaces.
        let padded = "  abcdefghij";
        assert!(check_new_password(padded, padded).is_ok());
    }

    #[test]
    fn the_messages_name_the_policy_limits() {
        assert!(NEW_PASSWORD_HINT.contains(&MIN_PASSWORD_CHARS.to_string()));
        assert!(TOO_SHORT.contains(&MIN_PASSWORD_CHARS.to_string()));
        assert!(TOO_LONG.contains(&MAX_PASSWORD_CHARS.to_string()));
    }

    #[test]
    fn field_ids_follow_the_prefix() {
        assert_eq!(new_password_id("invite"), "invite-new-password");
        assert_eq!(confirm_password_id("invite"), "invite-confirm-password");
    }
}
