//! `/users`: the organisation's users with their role, whether they use an authenticator app
//! (MFA) and whether a Microsoft identity is linked (single sign-on). Administrators (and
//! carrier staff acting for the customer) invite people by email, change roles and deactivate
//! users; deactivating asks for a confirmation in place. Others see the list only.
//!
//! The API refuses what would leave the organisation without an administrator, and
//! deactivating oneself; its message is shown on the row.

use leptos::{ev::SubmitEvent, prelude::*};
use leptos_meta::Title;

use crate::api::{
    users::{
        change_role, deactivate_user, invite_user, list_users, set_break_glass, unlock_codes,
        OrgUserInfo,
    },
    ApiError,
};
use crate::components::browser::in_browser;
use crate::components::form::FieldError;
use crate::components::{
    access::{any_user, can_administer, field_error, AccessGate},
    confirm_row::{ConfirmRow, ConfirmWords},
    data_table::DataTable,
    empty_state::EmptyState,
    form::{described_by, hint_id, FormAlert, NeedsJavaScript, SubmitButton},
    load_error::LoadError,
    skeleton::SkeletonTable,
};
use crate::format::{format_date_local, format_datetime_local};
use crate::pages::sso::ROLES;

/// This page's path.
pub const USERS_PATH: &str = "/users";

/// A role's label.
pub fn role_label(role: &str) -> &str {
    ROLES
        .iter()
        .find(|(value, _)| *value == role)
        .map(|(_, label)| *label)
        .unwrap_or(role)
}

/// What a role may do, in a few words (the invite form's hint).
pub const ROLES_HINT: &str = "Viewers see everything; engineers also change numbers, emergency addresses and services; administrators also manage users, API tokens and single sign-on.";

/// Whether `email` looks like an address worth sending (the server decides the rest).
pub fn plausible_email(email: &str) -> bool {
    let email = email.trim();
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// The MFA column's badge and its class: codes locked (after too many wrong codes in a row),
/// on, or off.
pub fn mfa_badge(user: &OrgUserInfo) -> (&'static str, &'static str) {
    if user.codes_locked {
        ("Codes locked", "bad")
    } else if user.mfa_enabled {
        ("On", "ok")
    } else {
        ("Off", "warn")
    }
}

/// The user's status: "Active" or "Deactivated".
pub fn user_status_label(user: &OrgUserInfo) -> &'static str {
    if user.deactivated {
        "Deactivated"
    } else {
        "Active"
    }
}

/// The reads the page makes when it first renders, for its route to start ahead.
pub fn first_reads() -> Vec<String> {
    vec![crate::api::users::LIST_PATH.to_string()]
}

/// The users page.
#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <Title text="Users" />
        <section class="page data-page users-page">
            <h1>"Users"</h1>
            <NeedsJavaScript />
            <AccessGate
                allowed=any_user
                forbidden_message="You cannot see this organisation's users."
                return_to=USERS_PATH
                loading_label="Loading users"
                page=|me| {
                    let self_id = me.user.id.clone();
                    view! { <UsersView admin=can_administer(&me) self_id=self_id /> }.into_any()
                }
            />
        </section>
    }
}

#[component]
fn UsersView(admin: bool, self_id: String) -> impl IntoView {
    let users = LocalResource::new(list_users);
    let self_id = StoredValue::new(self_id);
    view! {
        {admin.then(|| view! { <InviteForm on_invited=Callback::new(move |()| users.refetch()) /> })}
        <Transition fallback=|| view! { <SkeletonTable label="Loading users" /> }>
            {move || Suspend::new(async move {
                match in_browser(users).await {
                    Ok(list) if list.users.is_empty() => view! {
                        <EmptyState
                            title="Your organisation has no users yet.".to_string()
                            hint="Invite the first person with the form above."
                            testid="users-empty"
                        />
                    }
                    .into_any(),
                    Ok(list) => {
                        let mut columns = vec!["User", "Role", "MFA", "Single sign-on", "Status", "Since"];
                        if admin {
                            columns.push("");
                        }
                        let rows = list
                            .users
                            .into_iter()
                            .map(|u| {
                                let is_self = self_id.with_value(|id| *id == u.id);
                                view! { <UserRow user=u admin=admin is_self=is_self /> }
                            })
                            .collect_view();
                        view! {
                            <DataTable caption="Users, oldest first" columns=columns testid="users-table">
                                {rows}
                            </DataTable>
                        }
                        .into_any()
                    }
                    Err(error) => view! {
                        <LoadError
                            error=error
                            what="The users"
                            return_to=USERS_PATH
                            on_retry=Callback::new(move |()| users.refetch())
                        />
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn InviteForm(on_invited: Callback<()>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let role = RwSignal::new("viewer".to_string());
    let (busy, set_busy) = signal(false);
    let error = RwSignal::new(None::<ApiError>);
    let (local, set_local) = signal(None::<String>);
    let (notice, set_notice) = signal(None::<String>);
    let email_error = Signal::derive(move || {
        local
            .get()
            .or_else(|| error.with(|e| e.as_ref().and_then(|e| field_error(e, "email"))))
    });
    let form_error = Signal::derive(move || {
        error.with(|e| {
            e.as_ref()
                .filter(|e| field_error(e, "email").is_none())
                .map(|e| format!("The invitation was not sent. {e}"))
        })
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        set_notice.set(None);
        let address = email.get_untracked().trim().to_string();
        if !plausible_email(&address) {
            set_local.set(Some(
                "Enter an email address, like ana@example.com.".to_string(),
            ));
            return;
        }
        set_local.set(None);
        set_busy.set(true);
        let chosen = role.get_untracked();
        leptos::task::spawn_local(async move {
            match invite_user(address, chosen).await {
                Ok(sent) => {
                    set_notice.set(Some(format!(
                        "Invitation sent to {}. The link works until {}.",
                        sent.email,
                        format_datetime_local(&sent.expires_at)
                    )));
                    email.set(String::new());
                    on_invited.run(());
                }
                Err(e) => error.set(Some(e)),
            }
            set_busy.set(false);
        });
    };
    view! {
        <section class="card" aria-labelledby="invite-title">
            <header class="card-header">
                <h2 id="invite-title">"Invite someone"</h2>
            </header>
            <form class="form inline-form" on:submit=submit novalidate aria-busy=move || busy.get().then_some("true")>
                <div class="field grow" class:has-error=move || email_error.with(Option::is_some)>
                    <label class="field-label" for="invite-email">"Email address"</label>
                    <input
                        id="invite-email"
                        class="input"
                        type="email"
                        autocomplete="off"
                        required
                        aria-invalid=move || email_error.with(Option::is_some).then_some("true")
                        aria-describedby=move || described_by("invite-email", false, email_error.with(Option::is_some))
                        bind:value=email
                    />
                    <FieldError id="invite-email" message=email_error />
                </div>
                <div class="field">
                    <label class="field-label" for="invite-role">"Role"</label>
                    <select
                        id="invite-role"
                        class="input select"
                        aria-describedby=hint_id("invite-role")
                        on:change=move |ev| role.set(event_target_value(&ev))
                    >
                        {ROLES
                            .iter()
                            .map(|(value, label)| view! { <option value=*value selected=*value == "viewer">{*label}</option> })
                            .collect_view()}
                    </select>
                </div>
                <div class="actions">
                    <SubmitButton label="Send invitation" busy_label="Sending…" busy=busy />
                </div>
                <p class="field-hint full-row" id=hint_id("invite-role")>{ROLES_HINT}</p>
                <FormAlert message=form_error />
                <div role="status" class="status-region full-row">
                    {move || notice.get().map(|text| view! { <p class="alert ok">{text}</p> })}
                </div>
            </form>
        </section>
    }
}

#[component]
fn UserRow(user: OrgUserInfo, admin: bool, is_self: bool) -> impl IntoView {
    let current = RwSignal::new(user.clone());
    let chosen = RwSignal::new(user.role.clone());
    let confirming = RwSignal::new(false);
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(None::<String>);
    let (notice, set_notice) = signal(None::<String>);
    let id = user.id.clone();
    let who = if user.name.is_empty() {
        user.email.clone()
    } else {
        user.name.clone()
    };

    let save_role = {
        let id = id.clone();
        move |_| {
            let role = chosen.get_untracked();
            if role == current.with_untracked(|u| u.role.clone()) {
                return;
            }
            set_busy.set(true);
            set_error.set(None);
            set_notice.set(None);
            let id = id.clone();
            leptos::task::spawn_local(async move {
                match change_role(id, role).await {
                    Ok(updated) => {
                        set_notice.set(Some(format!(
                            "Role changed to {}.",
                            role_label(&updated.role)
                        )));
                        current.set(updated);
                    }
                    Err(e) => {
                        chosen.set(current.with_untracked(|u| u.role.clone()));
                        set_error.set(Some(format!("The role was not changed. {e}")));
                    }
                }
                set_busy.set(false);
            });
        }
    };
    let deactivate = {
        let id = id.clone();
        Callback::new(move |()| {
            set_busy.set(true);
            set_error.set(None);
            let id = id.clone();
            leptos::task::spawn_local(async move {
                match deactivate_user(id).await {
                    Ok(updated) => {
                        set_notice.set(Some("Deactivated; their sessions have ended.".to_string()));
                        current.set(updated);
                    }
                    Err(e) => set_error.set(Some(format!("The user was not deactivated. {e}"))),
                }
                confirming.set(false);
                set_busy.set(false);
            });
        })
    };
    let unlock = {
        let id = id.clone();
        move |_| {
            set_busy.set(true);
            set_error.set(None);
            set_notice.set(None);
            let id = id.clone();
            leptos::task::spawn_local(async move {
                match unlock_codes(id).await {
                    Ok(updated) => {
                        set_notice.set(Some(
                            "Sign-in codes unlocked: their authenticator and recovery codes work again."
                                .to_string(),
                        ));
                        current.set(updated);
                    }
                    Err(e) => set_error.set(Some(format!("The codes were not unlocked. {e}"))),
                }
                set_busy.set(false);
            });
        }
    };
    let toggle_glass = {
        let id = id.clone();
        move |_| {
            let on = !current.with_untracked(|u| u.break_glass);
            set_busy.set(true);
            set_error.set(None);
            set_notice.set(None);
            let id = id.clone();
            leptos::task::spawn_local(async move {
                match set_break_glass(id, on).await {
                    Ok(updated) => {
                        set_notice.set(Some(
                            if on {
                                "Now a break-glass administrator: they can sign in with their password and authenticator app even while single sign-on is required. Every use is mailed to the other administrators."
                            } else {
                                "No longer a break-glass administrator."
                            }
                            .to_string(),
                        ));
                        current.set(updated);
                    }
                    Err(e) => set_error.set(Some(format!("Nothing was changed. {e}"))),
                }
                set_busy.set(false);
            });
        }
    };
    let unlock_button = admin.then(|| {
        let who = who.clone();
        view! {
            <Show when=move || current.with(|u| u.codes_locked)>
                <button
                    type="button"
                    class="button secondary small"
                    aria-label=format!("Unlock the sign-in codes of {who}")
                    disabled=move || busy.get()
                    on:click=unlock.clone()
                >
                    "Unlock"
                </button>
            </Show>
        }
    });
    let confirm_text =
        format!("Deactivate {who}? They are signed out everywhere and can no longer sign in.");
    let select_id = format!("role-{id}");
    let role_cell = if admin {
        let who = who.clone();
        view! {
            <div class="inline-edit">
                <label class="visually-hidden" for=select_id.clone()>{format!("Role of {who}")}</label>
                <select
                    id=select_id.clone()
                    class="input select compact"
                    disabled=move || busy.get() || current.with(|u| u.deactivated)
                    on:change=move |ev| chosen.set(event_target_value(&ev))
                >
                    {ROLES
                        .iter()
                        .map(|(value, label)| {
                            let value = *value;
                            view! { <option value=value selected=move || chosen.with(|r| r == value)>{*label}</option> }
                        })
                        .collect_view()}
                </select>
                <Show when=move || chosen.get() != current.with(|u| u.role.clone())>
                    <button type="button" class="button small" disabled=move || busy.get() on:click=save_role.clone()>
                        "Save role"
                    </button>
                </Show>
            </div>
        }
        .into_any()
    } else {
        view! { <span>{move || role_label(&current.with(|u| u.role.clone())).to_string()}</span> }
            .into_any()
    };
    let actions = admin.then(|| {
        let who = who.clone();
        let who_glass = StoredValue::new(who.clone());
        view! {
            <td class="actions-cell stacked-actions">
                <Show when=move || current.with(|u| u.role == "admin" && !u.deactivated && (u.mfa_enabled || u.break_glass))>
                    <button
                        type="button"
                        class="button secondary small"
                        aria-label=move || {
                            let action = if current.with(|u| u.break_glass) { "Remove" } else { "Make" };
                            format!("{action} {} a break-glass administrator", who_glass.get_value())
                        }
                        disabled=move || busy.get()
                        on:click=toggle_glass.clone()
                    >
                        {move || if current.with(|u| u.break_glass) { "Remove break-glass" } else { "Make break-glass" }}
                    </button>
                </Show>
                <Show when=move || !current.with(|u| u.deactivated) && !is_self>
                    <button
                        type="button"
                        class="button secondary small danger"
                        aria-label=format!("Deactivate {who}")
                        aria-expanded=move || if confirming.get() { "true" } else { "false" }
                        on:click=move |_| confirming.update(|c| *c = !*c)
                    >
                        "Deactivate"
                    </button>
                </Show>
            </td>
        }
    });
    let columns = if admin { 7 } else { 6 };
    view! {
        <tr data-user-id=id.clone() data-email=user.email.clone()>
            <td data-label="User">
                <div class="user-cell">
                    {(!user.name.is_empty()).then(|| view! { <strong>{user.name.clone()}</strong> })}
                    <span class="muted">{user.email.clone()}</span>
                    {is_self.then(|| view! { <span class="badge">"You"</span> })}
                </div>
            </td>
            <td data-label="Role">{role_cell}</td>
            <td data-label="MFA">
                <div class="inline-edit">
                    {move || {
                        let (label, class) = mfa_badge(&current.get());
                        view! { <span class=format!("badge {class}")>{label}</span> }
                    }}
                    {unlock_button}
                </div>
            </td>
            <td data-label="Single sign-on">
                {if user.sso_identity { "Microsoft identity linked" } else { "Not linked" }}
                <Show when=move || current.with(|u| u.break_glass)>
                    " " <span class="badge warn" title="Signs in with password and authenticator app even while single sign-on is required">"Break-glass"</span>
                </Show>
            </td>
            <td data-label="Status">
                <span class="badge" class:ok=move || !current.with(|u| u.deactivated) class:bad=move || current.with(|u| u.deactivated)>
                    {move || user_status_label(&current.get())}
                </span>
            </td>
            <td data-label="Since">
                // The day is what matters here; the time is in the tooltip.
                <time datetime=user.created_at.clone() title=format_datetime_local(&user.created_at)>
                    {format_date_local(&user.created_at)}
                </time>
            </td>
            {actions}
        </tr>
        <ConfirmRow
            columns=columns
            words=ConfirmWords {
                label: "Confirm deactivation",
                confirm: "Deactivate",
                busy: "Deactivating…",
                cancel: "Cancel",
            }
            question=confirm_text
            confirming=confirming
            busy=busy
            on_confirm=deactivate
            error=error
            notice=notice
        />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_as_words() {
        assert_eq!(role_label("admin"), "Administrator");
        assert_eq!(role_label("viewer"), "Viewer");
        assert_eq!(role_label("owner"), "owner");
    }

    #[test]
    fn only_plausible_addresses_are_sent() {
        assert!(plausible_email("ana@example.com"));
        assert!(plausible_email(" ana@example.com "));
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a na@example.com",
            "ana@.com",
        ] {
            assert!(!plausible_email(bad), "{bad}");
        }
    }
}
