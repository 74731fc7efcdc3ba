//! Why something a page loads from the API is not shown, in one place: the user may not see
//! it ("forbidden", with the page's own explanation), the session is gone ("Sign in again",
//! back to the page), or the load failed ("… could not be loaded", with "Try again").
//!
//! The three alerts are also components of their own, for pages that learn the same three
//! outcomes another way (from `/me`, see `components::access::AccessProblem`).

use leptos::prelude::*;

use crate::api::{error::is_signed_out, ApiError};
use crate::components::user_menu::SIGN_IN_PATH;
use crate::return_to::with_return_to;

/// What a load error means for the person, and so which alert they see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadErrorKind {
    /// Signed in, but not allowed to see this.
    Forbidden,
    /// No (full) session any more: the way on is to sign in again.
    SignedOut,
    /// Anything else: the load may work when tried again.
    Failed,
}

/// Whether the API refused because the user may not do this.
pub fn is_forbidden(error: &ApiError) -> bool {
    error.status() == Some(403) && error.code() == Some("forbidden")
}

/// Sorts a load error. `forbidden_explained` says whether the page has its own message for a
/// 403 `forbidden` answer; without one it is shown like any other failure. Every 401 of a
/// load means the session is gone (a load sends no password or code that could be wrong), and
/// so do the codes of [`is_signed_out`] whatever their status.
pub fn load_error_kind(error: &ApiError, forbidden_explained: bool) -> LoadErrorKind {
    if forbidden_explained && is_forbidden(error) {
        LoadErrorKind::Forbidden
    } else if error.status() == Some(401) || is_signed_out(error) {
        LoadErrorKind::SignedOut
    } else {
        LoadErrorKind::Failed
    }
}

/// The first words of a failed load's alert: "`what` could not be loaded. ", followed by the
/// error's own message.
pub fn load_failed_text(what: &str) -> String {
    format!("{what} could not be loaded. ")
}

/// The alert for a failed load: the right one of the three below for `error`.
#[component]
pub fn LoadError(
    /// Why the load failed.
    error: ApiError,
    /// What could not be loaded, as the start of a sentence ("Your sessions").
    what: &'static str,
    /// This page's path, where "Sign in again" comes back to.
    return_to: &'static str,
    /// The page's explanation of a 403 `forbidden` answer; without it such an answer is a
    /// failure like any other.
    #[prop(optional)]
    forbidden_message: Option<&'static str>,
    /// Loads again ("Try again").
    #[prop(into)]
    on_retry: Callback<()>,
) -> impl IntoView {
    match (
        load_error_kind(&error, forbidden_message.is_some()),
        forbidden_message,
    ) {
        (LoadErrorKind::Forbidden, Some(message)) => {
            view! { <ForbiddenAlert message=message /> }.into_any()
        }
        (LoadErrorKind::SignedOut, _) => {
            view! { <SignInAgainAlert error=error return_to=return_to /> }.into_any()
        }
        _ => view! { <LoadFailedAlert error=error what=what on_retry=on_retry /> }.into_any(),
    }
}

/// The user may not see this page or part: the page's explanation.
#[component]
pub fn ForbiddenAlert(
    /// Why not, and whom to ask.
    message: &'static str,
) -> impl IntoView {
    view! {
        <div class="alert warn" role="alert" data-testid="forbidden">
            <p>{message}</p>
        </div>
    }
}

/// The session is gone: the server's words and a "Sign in again" link back to the page.
#[component]
pub fn SignInAgainAlert(
    /// Why the session is gone.
    error: ApiError,
    /// The page to come back to after signing in.
    return_to: &'static str,
) -> impl IntoView {
    view! {
        <div class="alert error" role="alert">
            <p>{error.to_string()}</p>
            <p>
                <a href=with_return_to(SIGN_IN_PATH, return_to) rel="external">"Sign in again"</a>
            </p>
        </div>
    }
}

/// A load failed: what, why, and a "Try again" button.
#[component]
pub fn LoadFailedAlert(
    /// Why it failed.
    error: ApiError,
    /// What could not be loaded, as the start of a sentence.
    what: &'static str,
    /// Loads again.
    #[prop(into)]
    on_retry: Callback<()>,
) -> impl IntoView {
    view! {
        <div class="alert error" role="alert">
            <p>{load_failed_text(what)} {error.to_string()}</p>
            <p>
                <button type="button" class="button secondary small" on:click=move |_| on_retry.run(())>
                    "Try again"
                </button>
            </p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::error::testing::api_error;

    #[test]
    fn a_forbidden_answer_is_explained_only_where_the_page_can() {
        let forbidden = api_error(403, "forbidden");
        assert_eq!(load_error_kind(&forbidden, true), LoadErrorKind::Forbidden);
        assert_eq!(load_error_kind(&forbidden, false), LoadErrorKind::Failed);
        // A refused same-origin check is not a permission problem.
        assert_eq!(
            load_error_kind(&api_error(403, "csrf"), true),
            LoadErrorKind::Failed
        );
        assert!(is_forbidden(&forbidden));
        assert!(!is_forbidden(&api_error(401, "unauthenticated")));
    }

    #[test]
    fn a_lost_session_asks_to_sign_in_again() {
        for code in ["unauthenticated", "mfa_required", "mfa_expired", "other"] {
            assert_eq!(
                load_error_kind(&api_error(401, code), true),
                LoadErrorKind::SignedOut,
                "{code}"
            );
        }
        assert_eq!(
            load_error_kind(&ApiError::UnexpectedResponse { status: 401 }, false),
            LoadErrorKind::SignedOut
        );
    }

    #[test]
    fn anything_else_can_be_tried_again() {
        for error in [
            api_error(500, "internal"),
            api_error(429, "rate_limited"),
            api_error(404, "not_found"),
            ApiError::Network("offline".to_string()),
            ApiError::UnexpectedResponse { status: 502 },
        ] {
            assert_eq!(load_error_kind(&error, true), LoadErrorKind::Failed);
        }
    }

    #[test]
    fn the_failure_says_what_could_not_be_loaded() {
        assert_eq!(
            load_failed_text("Your sessions"),
            "Your sessions could not be loaded. "
        );
    }
}
