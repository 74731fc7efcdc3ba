//! The Security page's "Sessions" section: where the person is signed in, with a way to
//! sign each session out. Signing out the current one ends on the sign-in page.

use leptos::prelude::*;

use crate::api::{
    auth::{revoke_session, sessions, SessionInfo, SessionsResponse},
    error::is_signed_out,
    ApiError,
};
use crate::components::browser::in_browser;
use crate::components::{
    browser::full_page_load, form::FormAlert, load_error::LoadError, user_menu::SIGN_IN_PATH,
};
use crate::format::format_datetime_local;

use super::microsoft::SECURITY_PATH;

/// How a session signed in, in words.
pub fn auth_method_label(method: &str) -> String {
    match method {
        "password" => "Password".to_string(),
        "password+totp" => "Password and authenticator app".to_string(),
        "password+email" => "Password and code by e-mail".to_string(),
        "break_glass+totp" => "Break-glass: password and authenticator app".to_string(),
        "entra" => "Microsoft Entra ID".to_string(),
        "entra+totp" => "Microsoft Entra ID and authenticator app".to_string(),
        other => other.to_string(),
    }
}

/// What the page does after trying to sign a session out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeOutcome {
    /// This device was signed out: load the sign-in page.
    SignedOutHere,
    /// Another session ended (or had already): reload the list.
    Reload,
    /// It did not work; the message says why.
    Failed(String),
}

/// Sorts the answer to `DELETE /api/v1/me/sessions/{id}`.
pub fn revoke_outcome(current: bool, result: Result<(), ApiError>) -> RevokeOutcome {
    match result {
        Ok(()) if current => RevokeOutcome::SignedOutHere,
        Ok(()) => RevokeOutcome::Reload,
        // Our own session is already gone either way.
        Err(error) if is_signed_out(&error) => RevokeOutcome::SignedOutHere,
        // Someone (or the expiry) ended it first: the list is simply out of date.
        Err(error) if error.status() == Some(404) && !current => RevokeOutcome::Reload,
        Err(error) => {
            RevokeOutcome::Failed(format!("The session could not be signed out. {error}"))
        }
    }
}

/// The "Sessions" section.
#[component]
pub fn SessionsSection(
    /// Reloads the list when notified (after a change elsewhere on the page ended sessions).
    #[prop(optional, into)]
    reload: Option<Trigger>,
) -> impl IntoView {
    let list = LocalResource::new(move || {
        if let Some(reload) = reload {
            reload.track();
        }
        sessions()
    });
    let (error, set_error) = signal(None::<String>);
    let revoking = RwSignal::new(None::<String>);

    let revoke = move |session_id: String, current: bool| {
        revoking.set(Some(session_id.clone()));
        set_error.set(None);
        leptos::task::spawn_local(async move {
            let result = revoke_session(session_id).await.map(|_| ());
            match revoke_outcome(current, result) {
                RevokeOutcome::SignedOutHere => full_page_load(SIGN_IN_PATH),
                RevokeOutcome::Reload => {
                    revoking.set(None);
                    list.refetch();
                }
                RevokeOutcome::Failed(message) => {
                    revoking.set(None);
                    set_error.set(Some(message));
                }
            }
        });
    };

    let skeleton = || {
        view! { <div class="skeleton" aria-busy="true" aria-label="Loading your sessions"></div> }
    };

    view! {
        <section class="card security-section" aria-labelledby="sessions-title">
            <header class="card-header">
                <h2 id="sessions-title">"Sessions"</h2>
                <button type="button" class="button secondary small" on:click=move |_| list.refetch()>
                    "Refresh"
                </button>
            </header>
            <p class="muted">
                "The browsers and devices where you are signed in. Sign out of any you do not recognise."
            </p>
            <FormAlert message=error />
            <Transition fallback=skeleton>
                {move || Suspend::new(async move {
                    match in_browser(list).await {
                        Ok(SessionsResponse { sessions }) if sessions.is_empty() => {
                            view! { <p class="empty-state">"You have no active sessions."</p> }.into_any()
                        }
                        Ok(SessionsResponse { sessions }) => {
                            view! { <SessionsTable sessions=sessions revoking=revoking on_revoke=revoke /> }
                                .into_any()
                        }
                        Err(error) => {
                            view! {
                                <LoadError
                                    error=error
                                    what="Your sessions"
                                    return_to=SECURITY_PATH
                                    on_retry=Callback::new(move |()| list.refetch())
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

/// The sessions as a table; below 640 px each row becomes a small card (see the CSS).
#[component]
fn SessionsTable(
    sessions: Vec<SessionInfo>,
    revoking: RwSignal<Option<String>>,
    on_revoke: impl Fn(String, bool) + Copy + 'static,
) -> impl IntoView {
    let rows = sessions
        .into_iter()
        .map(|session| {
            let SessionInfo {
                id,
                created_at,
                last_seen_at,
                ip,
                device,
                auth_method,
                current,
            } = session;
            let busy_id = id.clone();
            let is_busy = move || revoking.with(|r| r.as_deref() == Some(busy_id.as_str()));
            let is_busy_attr = is_busy.clone();
            let click_id = id.clone();
            let device_label = if device.is_empty() {
                "Unknown browser".to_string()
            } else {
                device
            };
            let hidden_context = if current {
                " (this device)".to_string()
            } else {
                format!(" ({device_label})")
            };
            view! {
                <tr class:current-session=current data-session-id=id>
                    <td data-label="Device">
                        <span class="session-device">{device_label}</span>
                        {current.then(|| view! { <span class="badge ok">"This device"</span> })}
                    </td>
                    <td data-label="IP address">
                        {match ip {
                            Some(ip) => view! { <span class="mono">{ip}</span> }.into_any(),
                            None => view! { <span class="muted">"Unknown"</span> }.into_any(),
                        }}
                    </td>
                    <td data-label="Signed in">
                        <time datetime=created_at.clone()>{format_datetime_local(&created_at)}</time>
                    </td>
                    <td data-label="Last active">
                        <time datetime=last_seen_at.clone()>{format_datetime_local(&last_seen_at)}</time>
                    </td>
                    <td data-label="Method">{auth_method_label(&auth_method)}</td>
                    <td class="actions-cell">
                        <button
                            type="button"
                            class="button secondary small"
                            disabled=move || revoking.with(Option::is_some)
                            aria-busy=move || is_busy_attr().then_some("true")
                            on:click=move |_| on_revoke(click_id.clone(), current)
                        >
                            {move || if is_busy() { "Signing out…" } else { "Sign out" }}
                            <span class="visually-hidden">{hidden_context.clone()}</span>
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <div class="table-wrap">
            <table class="data-table sessions-table" data-testid="sessions">
                <caption class="visually-hidden">"Your sessions, newest first"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Device"</th>
                        <th scope="col">"IP address"</th>
                        <th scope="col">"Signed in"</th>
                        <th scope="col">"Last active"</th>
                        <th scope="col">"Method"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
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
    use crate::api::error::testing::api_error;

    #[test]
    fn methods_read_as_words() {
        assert_eq!(auth_method_label("password"), "Password");
        assert_eq!(
            auth_method_label("password+totp"),
            "Password and authenticator app"
        );
        assert_eq!(auth_method_label("entra"), "Microsoft Entra ID");
        assert_eq!(auth_method_label("passkey"), "passkey");
    }

    #[test]
    fn signing_out_this_device_ends_on_the_sign_in_page() {
        assert_eq!(revoke_outcome(true, Ok(())), RevokeOutcome::SignedOutHere);
        assert_eq!(
            revoke_outcome(false, Err(api_error(401, "unauthenticated"))),
            RevokeOutcome::SignedOutHere
        );
    }

    #[test]
    fn signing_out_another_session_reloads_the_list() {
        assert_eq!(revoke_outcome(false, Ok(())), RevokeOutcome::Reload);
        assert_eq!(
            revoke_outcome(false, Err(api_error(404, "not_found"))),
            RevokeOutcome::Reload
        );
    }

    #[test]
    fn other_failures_are_shown() {
        assert_eq!(
            revoke_outcome(false, Err(api_error(403, "csrf"))),
            RevokeOutcome::Failed(
                "The session could not be signed out. The server's words.".to_string()
            )
        );
        assert!(matches!(
            revoke_outcome(true, Err(ApiError::Network("x".to_string()))),
            RevokeOutcome::Failed(_)
        ));
    }
}
