//! `/invite/{token}`: accept an invitation by choosing a password.
//!
//! The invitation (whose address, which organisation, until when) loads in the browser; the
//! server renders the frame and a placeholder. After the password is set the person signs in
//! as usual; nothing about the account is put in the sign-in URL.
//!
//! The password form itself is rendered by the server, so it also works before the wasm has
//! arrived, or without JavaScript (a plain form post that the server answers with a redirect
//! back here: `components::password_link`); the details (who, until when, "Accept with
//! Microsoft") load in the browser. A link found unusable on loading replaces the form.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::{
    auth::{invitation, InvitationInfo},
    sso::MICROSOFT_INVITATION_PATH,
    ApiError,
};
use crate::components::{
    browser::in_browser,
    microsoft_button::MicrosoftPostButton,
    password_link::{
        is_link_token, link_state_after_form_post, LinkDone, LinkPasswordForm, LinkPurpose,
        LinkState, MALFORMED_LINK_MESSAGE,
    },
};
use crate::format::format_datetime_local;
use crate::product::PRODUCT_NAME;

/// The label of the button that accepts with the organisation's Microsoft account.
pub const ACCEPT_WITH_MICROSOFT: &str = "Accept with Microsoft";

/// The heading before the invitation has loaded (and when it cannot be used).
pub const DEFAULT_HEADING: &str = "Accept your invitation";

/// What loading the invitation gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvitationLoad {
    /// The invitation can be accepted.
    Ready(InvitationInfo),
    /// The link is used, expired, replaced or malformed; the message says so.
    Invalid(String),
    /// It could not be loaded (network, server error); trying again may help.
    Failed(String),
}

impl From<Result<InvitationInfo, ApiError>> for InvitationLoad {
    fn from(result: Result<InvitationInfo, ApiError>) -> Self {
        match result {
            Ok(info) => InvitationLoad::Ready(info),
            Err(error) if error.code() == Some("invalid_link") => {
                InvitationLoad::Invalid(error.to_string())
            }
            Err(error) => InvitationLoad::Failed(error.to_string()),
        }
    }
}

/// The page heading: "Join {organisation}" once the invitation is known.
pub fn invitation_heading(info: Option<&InvitationInfo>) -> String {
    match info {
        Some(info) if !info.organisation.trim().is_empty() => {
            format!("Join {}", info.organisation.trim())
        }
        Some(_) => format!("Join the {PRODUCT_NAME}"),
        None => DEFAULT_HEADING.to_string(),
    }
}

/// The invitation page.
#[component]
pub fn InvitePage() -> impl IntoView {
    // The token is read once: the page is reached from an emailed link, and the server and
    // the browser see the same URL, so both render the same.
    let token = use_params_map()
        .with_untracked(|params| params.get("token"))
        .unwrap_or_default();
    let state = RwSignal::new(
        use_query_map().with_untracked(|q| link_state_after_form_post(&token, |name| q.get(name))),
    );
    let token = StoredValue::new(token);

    let info = LocalResource::new(move || {
        let token = token.get_value();
        async move {
            if is_link_token(&token) {
                InvitationLoad::from(invitation(token).await)
            } else {
                InvitationLoad::Invalid(MALFORMED_LINK_MESSAGE.to_string())
            }
        }
    });

    // A link that turns out to be used or expired ends the form, as a refused post would.
    Effect::new(move |_| {
        if let Some(InvitationLoad::Invalid(message)) = info.get() {
            if state.get_untracked() == LinkState::Form {
                state.set(LinkState::Invalid(message));
            }
        }
    });

    // `None` on the server and until the invitation has loaded, so both render the same.
    let heading = move || match info.get() {
        Some(InvitationLoad::Ready(info)) => invitation_heading(Some(&info)),
        _ => invitation_heading(None),
    };
    let email = Signal::derive(move || match info.get() {
        Some(InvitationLoad::Ready(info)) => Some(info.email),
        _ => None,
    });

    let skeleton = || {
        view! { <div class="skeleton" aria-busy="true" aria-label="Loading your invitation"></div> }
    };

    view! {
        <Title text=DEFAULT_HEADING />
        <section class="auth-card" aria-labelledby="invite-title">
            <h1 id="invite-title">{heading}</h1>
            {move || match state.get() {
                LinkState::Form => view! {
                    <Transition fallback=skeleton>
                        {move || Suspend::new(async move {
                            match in_browser(info).await {
                                InvitationLoad::Ready(details) => {
                                    view! { <InvitationDetails info=details token=token.get_value() /> }
                                        .into_any()
                                }
                                // The effect above puts the message in the form's place.
                                InvitationLoad::Invalid(_) => ().into_any(),
                                InvitationLoad::Failed(message) => {
                                    view! {
                                        <div class="alert error" role="alert">
                                            <p>"The invitation could not be loaded. " {message}</p>
                                            <p>
                                                <button type="button" class="button secondary small" on:click=move |_| info.refetch()>
                                                    "Try again"
                                                </button>
                                            </p>
                                        </div>
                                    }
                                        .into_any()
                                }
                            }
                        })}
                    </Transition>
                    <p class="muted">"Choose the password you will sign in with."</p>
                    <LinkPasswordForm
                        purpose=LinkPurpose::Invitation
                        token=token.get_value()
                        state=state
                        email=email
                        submit_label="Set password"
                    />
                }
                .into_any(),
                LinkState::Done => view! { <LinkDone purpose=LinkPurpose::Invitation /> }.into_any(),
                LinkState::Invalid(message) => view! { <InvalidInvitation message=message /> }.into_any(),
            }}
        </section>
    }
}

/// Until when the invitation works and, where the organisation signs in with Microsoft, the
/// button that accepts with the work account.
#[component]
fn InvitationDetails(info: InvitationInfo, token: String) -> impl IntoView {
    let InvitationInfo {
        expires_at,
        microsoft,
        ..
    } = info;
    let expires = format_datetime_local(&expires_at);
    view! {
        <p class="muted">
            "This invitation works until "
            <time datetime=expires_at.clone()>{expires}</time>
            "."
        </p>
        {microsoft.then(|| view! {
            <p>"Your organisation signs in with Microsoft: accept with your work account, and sign in with it from now on."</p>
            <div class="sso-sign-in">
                <MicrosoftPostButton
                    action=MICROSOFT_INVITATION_PATH
                    token=token.clone()
                    label=ACCEPT_WITH_MICROSOFT
                />
            </div>
            <p class="or-divider"><span>"or choose a password"</span></p>
        })}
    }
}

/// Why the invitation cannot be used, and what to do instead.
#[component]
fn InvalidInvitation(message: String) -> impl IntoView {
    view! {
        <div class="alert error" role="alert" data-testid="invalid-link">
            <p>{message}</p>
            <p>
                "If you have already chosen your password, sign in. Otherwise ask your organisation's administrator to invite you again."
            </p>
        </div>
        <p>
            <a class="button secondary full-width" href="/login">"Go to sign in"</a>
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::error::testing::api_error;

    fn info(organisation: &str) -> InvitationInfo {
        InvitationInfo {
            email: "ana@contoso.example".to_string(),
            organisation: organisation.to_string(),
            expires_at: "2025-12-04T10:37:00Z".to_string(),
            microsoft: false,
        }
    }

    #[test]
    fn the_heading_names_the_organisation() {
        assert_eq!(
            invitation_heading(Some(&info("Contoso Ltd"))),
            "Join Contoso Ltd"
        );
        assert_eq!(
            invitation_heading(Some(&info("  "))),
            "Join the Voice Customer Portal"
        );
        assert_eq!(invitation_heading(None), DEFAULT_HEADING);
    }

    #[test]
    fn a_used_invitation_is_invalid_and_other_failures_can_be_retried() {
        assert_eq!(
            InvitationLoad::from(Err(api_error(404, "invalid_link"))),
            InvitationLoad::Invalid("The server's words.".to_string())
        );
        assert_eq!(
            InvitationLoad::from(Err(api_error(500, "internal"))),
            InvitationLoad::Failed("The server's words.".to_string())
        );
        assert!(matches!(
            InvitationLoad::from(Err(ApiError::Network("offline".to_string()))),
            InvitationLoad::Failed(_)
        ));
        assert_eq!(
            InvitationLoad::from(Ok(info("Contoso Ltd"))),
            InvitationLoad::Ready(info("Contoso Ltd"))
        );
    }
}
