//! Who may do what on the data pages (viewer < engineer < admin; carrier staff act for any
//! customer with an admin's rights), and the gate those pages render through: it waits for
//! `/me`, explains a refusal or a lost session, and otherwise hands the signed-in user to the
//! page so it can leave out controls the user may not use.
//!
//! The server checks every change again; hiding a control only spares people a refusal.

use leptos::prelude::*;

use crate::api::{auth::MeResponse, ApiError};
use crate::components::browser::in_browser;
use crate::components::load_error::{ForbiddenAlert, LoadFailedAlert, SignInAgainAlert};
use crate::components::skeleton::SkeletonTable;
use crate::components::user_menu::{use_current_user, MeState};

/// Whether `me` may change numbers, emergency addresses and services (engineers, admins,
/// staff).
pub fn can_edit(me: &MeResponse) -> bool {
    me.user.staff || matches!(me.user.role.as_deref(), Some("engineer" | "admin"))
}

/// Whether `me` may manage users and API tokens, and read the audit log (admins, staff).
pub fn can_administer(me: &MeResponse) -> bool {
    me.user.staff || me.user.role.as_deref() == Some("admin")
}

/// Any signed-in user.
pub fn any_user(_: &MeResponse) -> bool {
    true
}

/// The API's complaint about `field` of a refused request, if that is what it was about.
pub fn field_error(error: &ApiError, field: &str) -> Option<String> {
    match error {
        ApiError::Api {
            field: Some(f),
            message,
            ..
        } if f == field => Some(message.clone()),
        _ => None,
    }
}

/// Whether the refusal names one of `fields` (so it is shown there, not above the form).
pub fn is_about_a_field(error: &ApiError, fields: &[&str]) -> bool {
    fields.iter().any(|f| field_error(error, f).is_some())
}

/// Renders `page(me)` once `/me` has loaded and `allowed(me)` holds; else why not.
#[component]
pub fn AccessGate<F>(
    /// Who may see the page.
    allowed: fn(&MeResponse) -> bool,
    /// What someone who may not reads.
    forbidden_message: &'static str,
    /// The page's path, to come back to after signing in again.
    return_to: &'static str,
    /// What is loading, for screen readers.
    loading_label: &'static str,
    /// The page's content for the signed-in user.
    page: F,
) -> impl IntoView
where
    F: Fn(MeResponse) -> AnyView + Clone + Send + Sync + 'static,
{
    let me = use_current_user().me;
    view! {
        <Transition fallback=move || view! { <SkeletonTable label=loading_label /> }>
            {move || {
                let page = page.clone();
                Suspend::new(async move {
                    let state = in_browser(me).await;
                    match page_access(&state, allowed) {
                        PageAccess::Allowed => match state {
                            MeState::SignedIn(user) => page(user),
                            _ => ().into_any(),
                        },
                        access => view! {
                            <AccessProblem
                                access=access
                                forbidden_message=forbidden_message
                                return_to=return_to
                                me=me
                            />
                        }
                        .into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// Whether a page restricted to some users may be shown, from the `/me` state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageAccess {
    /// The user may use the page.
    Allowed,
    /// Signed in, but not allowed.
    Forbidden,
    /// No full session; the error says why.
    SignedOut(ApiError),
    /// `/me` could not be loaded.
    Failed(ApiError),
    /// `/me` was not requested (a sign-in page); nothing to show.
    Unknown,
}

/// The access `allowed` grants for `state`.
pub fn page_access(state: &MeState, allowed: fn(&MeResponse) -> bool) -> PageAccess {
    match state {
        MeState::SignedIn(me) if allowed(me) => PageAccess::Allowed,
        MeState::SignedIn(_) => PageAccess::Forbidden,
        MeState::SignedOut(error) => PageAccess::SignedOut(error.clone()),
        MeState::Failed(error) => PageAccess::Failed(error.clone()),
        MeState::NotRequested => PageAccess::Unknown,
    }
}

/// Why a restricted page shows nothing else: not allowed, signed out, or `/me` failed.
#[component]
pub fn AccessProblem(
    /// The access that was refused.
    access: PageAccess,
    /// What a signed-in user without access reads.
    forbidden_message: &'static str,
    /// The page to come back to after signing in again.
    return_to: &'static str,
    /// The `/me` resource, to try again.
    me: LocalResource<MeState>,
) -> impl IntoView {
    match access {
        PageAccess::Allowed | PageAccess::Unknown => ().into_any(),
        PageAccess::Forbidden => view! { <ForbiddenAlert message=forbidden_message /> }.into_any(),
        PageAccess::SignedOut(error) => {
            view! { <SignInAgainAlert error=error return_to=return_to /> }.into_any()
        }
        PageAccess::Failed(error) => view! {
            <LoadFailedAlert error=error what="This page" on_retry=Callback::new(move |()| me.refetch()) />
        }
        .into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::auth::MeUser;

    pub(crate) fn me(role: Option<&str>, staff: bool) -> MeResponse {
        MeResponse {
            user: MeUser {
                id: "u1".to_string(),
                email: "ana@example.com".to_string(),
                name: "Ana".to_string(),
                role: role.map(str::to_string),
                staff,
                mfa_enabled: false,
                has_password: true,
                auth_method: "password".to_string(),
                email_codes: false,
                mfa_methods_allowed: Vec::new(),
            },
            organisation: None,
        }
    }

    #[test]
    fn engineers_admins_and_staff_edit_viewers_do_not() {
        assert!(can_edit(&me(Some("engineer"), false)));
        assert!(can_edit(&me(Some("admin"), false)));
        assert!(can_edit(&me(None, true)));
        assert!(!can_edit(&me(Some("viewer"), false)));
        assert!(!can_edit(&me(Some("owner"), false)));
    }

    #[test]
    fn only_admins_and_staff_administer() {
        assert!(can_administer(&me(Some("admin"), false)));
        assert!(can_administer(&me(None, true)));
        assert!(!can_administer(&me(Some("engineer"), false)));
        assert!(!can_administer(&me(Some("viewer"), false)));
    }

    #[test]
    fn field_errors_are_found_by_field() {
        let error = ApiError::Api {
            status: 422,
            code: "invalid_field".to_string(),
            message: "Too long.".to_string(),
            field: Some("assignment".to_string()),
            request_id: None,
        };
        assert_eq!(
            field_error(&error, "assignment"),
            Some("Too long.".to_string())
        );
        assert_eq!(field_error(&error, "service_id"), None);
        assert!(is_about_a_field(&error, &["service_id", "assignment"]));
        assert!(!is_about_a_field(
            &ApiError::Network("x".into()),
            &["assignment"]
        ));
    }
}
