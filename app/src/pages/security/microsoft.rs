//! The Security page's "Microsoft account" section: the Microsoft Entra identities linked to
//! the signed-in user, and a "Link your Microsoft account" link (`/auth/microsoft/link`) when
//! the organisation allows it. The link flow comes back to `/security` with
//! `?linked=microsoft` or `?error=CODE`.
//!
//! Carrier staff have no organisation and so nothing to link: they do not see the section.

use leptos::prelude::*;

use crate::api::{
    auth::MeResponse,
    sso::{
        self as sso_api, flow_error_message, IdentitiesResponse, LinkedIdentity,
        MICROSOFT_LINK_PATH,
    },
};
use crate::components::browser::in_browser;
use crate::components::{
    load_error::LoadError,
    microsoft_button::MicrosoftButton,
    user_menu::{use_current_user, MeState},
};
use crate::format::format_datetime_local;
use crate::pages::sso::{FlowOutcome, FlowOutcomeAlert};
use crate::return_to::with_return_to;

/// The Security page's path (where the link flow returns).
pub const SECURITY_PATH: &str = "/security";

/// The message after `?linked=microsoft`.
pub const LINKED_NOTICE: &str =
    "Your Microsoft account is now linked. You can sign in with Microsoft from now on.";

/// The message for an unknown `?error=CODE` (the code itself is never shown).
pub const GENERAL_LINK_ERROR: &str = "Linking your Microsoft account did not work. Try again; if it keeps happening, contact your organisation's administrator.";

/// The link button's label.
pub const LINK_LABEL: &str = "Link your Microsoft account";

/// The link button's label once an account is linked.
pub const LINK_ANOTHER_LABEL: &str = "Link another Microsoft account";

/// What the link flow's return (`?linked=microsoft` or `?error=CODE`) says; an error wins.
pub fn link_outcome(linked: Option<&str>, error: Option<&str>) -> Option<FlowOutcome> {
    match (linked, error) {
        (_, Some(code)) => Some(FlowOutcome::Failure(
            flow_error_message(code).unwrap_or(GENERAL_LINK_ERROR),
        )),
        (Some("microsoft"), None) => Some(FlowOutcome::Success(LINKED_NOTICE.to_string())),
        _ => None,
    }
}

/// Where "Link your Microsoft account" leads: the link flow, back to this page.
pub fn link_href() -> String {
    with_return_to(MICROSOFT_LINK_PATH, SECURITY_PATH)
}

/// Whether `me` sees the section: every organisation user, not carrier staff.
pub fn shows_microsoft_section(me: &MeResponse) -> bool {
    !me.user.staff
}

/// The "Microsoft account" section; nothing until `/me` has loaded, and nothing for staff.
#[component]
pub fn MicrosoftSection(
    /// How a link flow that returned to the page ended.
    outcome: Option<FlowOutcome>,
) -> impl IntoView {
    let me = use_current_user().me;
    let outcome = StoredValue::new(outcome);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match in_browser(me).await {
                    MeState::SignedIn(me) if shows_microsoft_section(&me) => {
                        view! { <MicrosoftCard outcome=outcome.get_value() /> }.into_any()
                    }
                    // The authenticator section above explains a missing session.
                    _ => ().into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn MicrosoftCard(outcome: Option<FlowOutcome>) -> impl IntoView {
    let identities = LocalResource::new(sso_api::identities);
    let skeleton = || {
        view! { <div class="skeleton skeleton-short" aria-busy="true" aria-label="Loading your Microsoft account"></div> }
    };
    view! {
        <section class="card security-section" aria-labelledby="microsoft-title" data-testid="microsoft-section">
            <header class="card-header">
                <h2 id="microsoft-title">"Microsoft account"</h2>
            </header>
            {outcome.map(|outcome| view! { <FlowOutcomeAlert outcome=outcome /> })}
            <Transition fallback=skeleton>
                {move || Suspend::new(async move {
                    match in_browser(identities).await {
                        Ok(answer) => view! { <Identities answer=answer /> }.into_any(),
                        Err(error) => {
                            view! {
                                <LoadError
                                    error=error
                                    what="Your Microsoft account"
                                    return_to=SECURITY_PATH
                                    on_retry=Callback::new(move |()| identities.refetch())
                                />
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Identities(answer: IdentitiesResponse) -> impl IntoView {
    let IdentitiesResponse {
        identities,
        can_link,
    } = answer;
    let intro = match (identities.is_empty(), can_link) {
        (true, true) => "Link your Microsoft work account to sign in to the portal with Microsoft.",
        (true, false) => "No Microsoft account is linked. Linking one becomes possible once your organisation has connected Microsoft Entra ID to the portal.",
        (false, _) => "You can sign in with Microsoft using these accounts.",
    };
    let label = if identities.is_empty() {
        LINK_LABEL
    } else {
        LINK_ANOTHER_LABEL
    };
    let table =
        (!identities.is_empty()).then(|| view! { <IdentitiesTable identities=identities /> });
    let link = can_link.then(|| {
        view! {
            <div class="actions">
                <MicrosoftButton href=Signal::derive(link_href) label=label />
            </div>
        }
    });
    view! {
        <p class="muted">{intro}</p>
        {table}
        {link}
    }
}

#[component]
fn IdentitiesTable(identities: Vec<LinkedIdentity>) -> impl IntoView {
    let rows = identities
        .into_iter()
        .map(|identity| {
            let LinkedIdentity {
                tenant_id,
                email,
                linked_at,
            } = identity;
            view! {
                <tr>
                    <td data-label="Tenant"><span class="mono tenant-id">{tenant_id}</span></td>
                    <td data-label="Email">{email}</td>
                    <td data-label="Linked">
                        <time datetime=linked_at.clone()>{format_datetime_local(&linked_at)}</time>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="data-table stacked-table" data-testid="microsoft-identities">
                <caption class="visually-hidden">"Your linked Microsoft accounts"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Tenant"</th>
                        <th scope="col">"Email"</th>
                        <th scope="col">"Linked"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::auth::MeUser;

    #[test]
    fn a_linked_account_is_announced() {
        assert_eq!(
            link_outcome(Some("microsoft"), None),
            Some(FlowOutcome::Success(LINKED_NOTICE.to_string()))
        );
        assert_eq!(link_outcome(Some("something-else"), None), None);
        assert_eq!(link_outcome(None, None), None);
    }

    #[test]
    fn a_refused_link_says_why_without_echoing_the_code() {
        assert_eq!(
            link_outcome(None, Some("identity_taken")),
            flow_error_message("identity_taken").map(FlowOutcome::Failure)
        );
        assert_eq!(
            link_outcome(Some("microsoft"), Some("call_0800_FRAUD")),
            Some(FlowOutcome::Failure(GENERAL_LINK_ERROR))
        );
    }

    #[test]
    fn the_link_returns_to_the_security_page() {
        assert_eq!(link_href(), "/auth/microsoft/link?return_to=/security");
    }

    #[test]
    fn staff_do_not_see_the_section() {
        let user = |staff: bool| MeResponse {
            user: MeUser {
                id: "u1".to_string(),
                email: "ana@example.com".to_string(),
                name: "Ana".to_string(),
                role: (!staff).then(|| "viewer".to_string()),
                staff,
                mfa_enabled: false,
                has_password: true,
                auth_method: "password".to_string(),
                email_codes: false,
                mfa_methods_allowed: Vec::new(),
            },
            organisation: None,
        };
        assert!(shows_microsoft_section(&user(false)));
        assert!(!shows_microsoft_section(&user(true)));
    }
}
