//! Who is signed in: the `/api/v1/me` answer shared with the pages through context, and the
//! user menu in the top bar (email, organisation, "Sign out").
//!
//! The layout loads `/me` once, in the browser, and only on pages that need a full session:
//! on the sign-in pages it would answer 401 by design.

use leptos::prelude::*;

use crate::api::{
    auth::{logout, me, MeResponse},
    ApiError,
};
use crate::components::browser::full_page_load;

/// Where signing out leads.
pub const SIGN_IN_PATH: &str = "/login";

/// What is known about the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeState {
    /// Not asked: this page works without a full session (sign-in pages).
    NotRequested,
    /// Signed in.
    SignedIn(MeResponse),
    /// No full session; the error says why (`unauthenticated`, `mfa_required`,
    /// `mfa_enrolment_required`).
    SignedOut(ApiError),
    /// `/me` could not be loaded (network, server error).
    Failed(ApiError),
}

impl From<Result<MeResponse, ApiError>> for MeState {
    fn from(result: Result<MeResponse, ApiError>) -> Self {
        match result {
            Ok(me) => MeState::SignedIn(me),
            Err(error) if error.status() == Some(401) => MeState::SignedOut(error),
            Err(error) => MeState::Failed(error),
        }
    }
}

/// The signed-in user for the current page, provided by the layout.
#[derive(Clone, Copy)]
pub struct CurrentUser {
    /// Loads in the browser; refetch after changing something `/me` reports (MFA on/off).
    pub me: LocalResource<MeState>,
}

/// Creates the `/me` resource and provides it to everything below. While `skip` is true
/// (the sign-in pages) nothing is requested.
pub fn provide_current_user(skip: Signal<bool>) -> CurrentUser {
    let me = LocalResource::new(move || {
        let skip = skip.get();
        async move {
            if skip {
                MeState::NotRequested
            } else {
                MeState::from(me().await)
            }
        }
    });
    let current = CurrentUser { me };
    provide_context(current);
    current
}

/// The layout's [`CurrentUser`]; a page outside the layout (tests) gets its own.
pub fn use_current_user() -> CurrentUser {
    use_context::<CurrentUser>().unwrap_or_else(|| CurrentUser {
        me: LocalResource::new(|| async { MeState::from(me().await) }),
    })
}

/// The line under the email: the organisation's name, or "Carrier staff".
pub fn organisation_label(me: &MeResponse) -> String {
    match &me.organisation {
        Some(organisation) if !me.user.staff => organisation.name.clone(),
        _ if me.user.staff => "Carrier staff".to_string(),
        _ => String::new(),
    }
}

/// Whether a failed sign-out still means the session is over (it had already ended).
pub fn sign_out_finished(result: &Result<(), ApiError>) -> bool {
    match result {
        Ok(()) => true,
        Err(error) => error.status() == Some(401),
    }
}

/// The user's identity and a "Sign out" button; nothing while loading or when signed out.
///
/// The layout shows one in the top bar (wide screens) and one in the navigation panel (small
/// screens, where the top bar has no room); CSS shows one of them at a time.
#[component]
pub fn UserMenu(
    /// `topbar` or `sidenav`: where it sits, for styling.
    placement: &'static str,
) -> impl IntoView {
    let current = use_current_user();
    let (signing_out, set_signing_out) = signal(false);
    let (error, set_error) = signal(None::<String>);

    let sign_out = move |_| {
        set_signing_out.set(true);
        set_error.set(None);
        leptos::task::spawn_local(async move {
            let result = logout().await.map(|_| ());
            if sign_out_finished(&result) {
                full_page_load(SIGN_IN_PATH);
            } else {
                set_signing_out.set(false);
                if let Err(e) = result {
                    set_error.set(Some(format!("Signing out did not work: {e}")));
                }
            }
        });
    };

    move || match current.me.get() {
        Some(MeState::SignedIn(me)) => {
            let organisation = organisation_label(&me);
            let email = me.user.email.clone();
            view! {
                <div class=format!("user-menu-body user-menu-{placement}")>
                    <p class="user-identity" title=email.clone()>
                        <span class="user-email">{email.clone()}</span>
                        {(!organisation.is_empty())
                            .then(|| view! { <span class="user-org">{organisation}</span> })}
                    </p>
                    <button
                        type="button"
                        class="button secondary small"
                        disabled=move || signing_out.get()
                        aria-busy=move || signing_out.get().then_some("true")
                        on:click=sign_out
                    >
                        {move || if signing_out.get() { "Signing out…" } else { "Sign out" }}
                    </button>
                    {move || {
                        error
                            .get()
                            .map(|message| {
                                view! { <p class="alert error user-menu-error" role="alert">{message}</p> }
                            })
                    }}
                </div>
            }
            .into_any()
        }
        _ => ().into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::auth::{MeUser, OrganisationSummary};
    use crate::api::error::testing::api_error;

    fn me(staff: bool, organisation: Option<&str>) -> MeResponse {
        MeResponse {
            user: MeUser {
                id: "u1".to_string(),
                email: "ana@example.com".to_string(),
                name: "Ana".to_string(),
                role: (!staff).then(|| "admin".to_string()),
                staff,
                mfa_enabled: false,
                has_password: true,
                auth_method: "password".to_string(),
                email_codes: false,
                mfa_methods_allowed: Vec::new(),
            },
            organisation: organisation.map(|name| OrganisationSummary {
                id: "o1".to_string(),
                slug: "contoso".to_string(),
                name: name.to_string(),
            }),
        }
    }

    #[test]
    fn customers_see_their_organisation_and_staff_see_their_role() {
        assert_eq!(
            organisation_label(&me(false, Some("Contoso Ltd"))),
            "Contoso Ltd"
        );
        assert_eq!(organisation_label(&me(true, None)), "Carrier staff");
        assert_eq!(organisation_label(&me(false, None)), "");
    }

    #[test]
    fn a_401_means_signed_out_and_anything_else_failed() {
        assert_eq!(
            MeState::from(Err(api_error(401, "unauthenticated"))),
            MeState::SignedOut(api_error(401, "unauthenticated"))
        );
        assert_eq!(
            MeState::from(Err(api_error(500, "internal"))),
            MeState::Failed(api_error(500, "internal"))
        );
        assert!(matches!(
            MeState::from(Err(ApiError::Network("x".to_string()))),
            MeState::Failed(_)
        ));
        assert!(matches!(
            MeState::from(Ok(me(false, None))),
            MeState::SignedIn(_)
        ));
    }

    #[test]
    fn signing_out_of_an_ended_session_counts_as_done() {
        assert!(sign_out_finished(&Ok(())));
        assert!(sign_out_finished(&Err(api_error(401, "unauthenticated"))));
        assert!(!sign_out_finished(&Err(api_error(403, "csrf"))));
        assert!(!sign_out_finished(&Err(ApiError::Network("x".to_string()))));
    }
}
