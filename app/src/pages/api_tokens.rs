//! `/api-tokens`: the organisation's API tokens for scripts and machines, for administrators
//! (and carrier staff acting for the customer). A new token's secret is shown once, right
//! after it is created, with a copy button; the list shows each token's scope, visible
//! prefix, expiry, last use and status; revoking asks for a confirmation in place.

use leptos::{ev::SubmitEvent, prelude::*};
use leptos_meta::Title;

use crate::api::{
    tokens::{
        create_token, list_tokens, revoke_token, ApiTokenInfo, CreateApiTokenResponse, TokenScope,
        TokenStatus, MAX_TOKEN_DAYS,
    },
    ApiError,
};
use crate::components::browser::in_browser;
use crate::components::form::FieldError;
use crate::components::{
    access::{can_administer, field_error, AccessGate},
    browser::{copy_to_clipboard, use_clipboard_available},
    confirm_row::{ConfirmRow, ConfirmWords},
    data_table::DataTable,
    empty_state::EmptyState,
    form::{described_by, hint_id, FormAlert, NeedsJavaScript, SubmitButton},
    load_error::LoadError,
    skeleton::SkeletonTable,
};
use crate::format::format_datetime_local;

/// This page's path.
pub const API_TOKENS_PATH: &str = "/api-tokens";

/// What someone who is not an administrator reads.
pub const API_TOKENS_FORBIDDEN_MESSAGE: &str =
    "Only an administrator of your organisation can manage API tokens. Ask one of your organisation's portal administrators.";

/// The scopes offered: value, label, what it allows.
pub const SCOPES: [(TokenScope, &str, &str); 3] = [
    (
        TokenScope::Read,
        "Read",
        "Reads the organisation's data, like a viewer.",
    ),
    (
        TokenScope::ReadWrite,
        "Read and write",
        "Reads and changes numbers, addresses and services, like an engineer.",
    ),
    (
        TokenScope::Ingest,
        "Ingest call records",
        "Only pushes call records; reads nothing.",
    ),
];

/// The validity a new token starts with, in days.
pub const DEFAULT_DAYS: u32 = 90;

/// A scope's label.
pub fn scope_label(scope: TokenScope) -> &'static str {
    SCOPES
        .iter()
        .find(|(s, _, _)| *s == scope)
        .map(|(_, label, _)| *label)
        .unwrap_or("Unknown")
}

/// A status's label and badge class.
pub fn token_status(status: TokenStatus) -> (&'static str, &'static str) {
    match status {
        TokenStatus::Active => ("Active", "badge ok"),
        TokenStatus::Expired => ("Expired", "badge warn"),
        TokenStatus::Revoked => ("Revoked", "badge bad"),
    }
}

/// The typed name and validity checked: `Err((field, message))` names the field at fault.
pub fn check_token_form(name: &str, days: &str) -> Result<(String, u32), (&'static str, String)> {
    let name = name.trim();
    if name.is_empty() {
        return Err((
            "name",
            "Give the token a name, like “Billing export”.".to_string(),
        ));
    }
    if name.chars().count() > 100 {
        return Err((
            "name",
            "The name is longer than 100 characters; shorten it.".to_string(),
        ));
    }
    match days.trim().parse::<u32>() {
        Ok(d) if (1..=MAX_TOKEN_DAYS).contains(&d) => Ok((name.to_string(), d)),
        _ => Err((
            "expires_in_days",
            format!("Enter a number of days from 1 to {MAX_TOKEN_DAYS}."),
        )),
    }
}

/// The reads the page makes when it first renders, for its route to start ahead.
pub fn first_reads() -> Vec<String> {
    vec![crate::api::tokens::LIST_PATH.to_string()]
}

/// The API tokens page.
#[component]
pub fn ApiTokensPage() -> impl IntoView {
    view! {
        <Title text="API tokens" />
        <section class="page data-page tokens-page">
            <h1>"API tokens"</h1>
            <p class="page-intro muted">
                "Scripts and machines use a token as "
                <code>"Authorization: Bearer …"</code>
                " to read your data or push call records. Give each one only the scope it needs and revoke it when it is no longer used."
            </p>
            <NeedsJavaScript />
            <AccessGate
                allowed=can_administer
                forbidden_message=API_TOKENS_FORBIDDEN_MESSAGE
                return_to=API_TOKENS_PATH
                loading_label="Loading API tokens"
                page=|_| view! { <TokensView /> }.into_any()
            />
        </section>
    }
}

#[component]
fn TokensView() -> impl IntoView {
    let tokens = LocalResource::new(list_tokens);
    let created = RwSignal::new(None::<CreateApiTokenResponse>);
    view! {
        <CreateTokenForm on_created=Callback::new(move |response| {
            created.set(Some(response));
            tokens.refetch();
        }) />
        {move || created.get().map(|response| view! { <NewSecret response=response on_done=Callback::new(move |()| created.set(None)) /> })}
        <section class="card" aria-labelledby="tokens-list-title">
            <header class="card-header">
                <h2 id="tokens-list-title">"Tokens"</h2>
            </header>
            <Transition fallback=|| view! { <SkeletonTable label="Loading API tokens" /> }>
                {move || Suspend::new(async move {
                    match in_browser(tokens).await {
                        Ok(list) if list.tokens.is_empty() => view! {
                            <EmptyState
                                title="No API tokens yet.".to_string()
                                hint="Create one above for each script or machine that talks to the portal."
                                testid="tokens-empty"
                            />
                        }
                        .into_any(),
                        Ok(list) => {
                            let rows = list
                                .tokens
                                .into_iter()
                                .map(|t| view! { <TokenRow token=t /> })
                                .collect_view();
                            view! {
                                <DataTable
                                    caption="API tokens, newest first"
                                    columns=vec!["Name", "Scope", "Prefix", "Created", "Expires", "Last used", "Status", ""]
                                    testid="tokens-table"
                                >
                                    {rows}
                                </DataTable>
                            }
                            .into_any()
                        }
                        Err(error) => view! {
                            <LoadError
                                error=error
                                what="The API tokens"
                                return_to=API_TOKENS_PATH
                                forbidden_message=API_TOKENS_FORBIDDEN_MESSAGE
                                on_retry=Callback::new(move |()| tokens.refetch())
                            />
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn CreateTokenForm(on_created: Callback<CreateApiTokenResponse>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let scope = RwSignal::new("read".to_string());
    let days = RwSignal::new(DEFAULT_DAYS.to_string());
    let (busy, set_busy) = signal(false);
    let error = RwSignal::new(None::<ApiError>);
    let local = RwSignal::new(None::<(&'static str, String)>);
    let at = move |field: &'static str| {
        Signal::derive(move || {
            local
                .with(|l| {
                    l.as_ref()
                        .filter(|(f, _)| *f == field)
                        .map(|(_, m)| m.clone())
                })
                .or_else(|| error.with(|e| e.as_ref().and_then(|e| field_error(e, field))))
        })
    };
    let name_error = at("name");
    let days_error = at("expires_in_days");
    let form_error = Signal::derive(move || {
        error.with(|e| {
            e.as_ref()
                .filter(|e| {
                    field_error(e, "name").is_none() && field_error(e, "expires_in_days").is_none()
                })
                .map(|e| format!("The token was not created. {e}"))
        })
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        let (token_name, valid_days) =
            match check_token_form(&name.get_untracked(), &days.get_untracked()) {
                Ok(ok) => ok,
                Err(problem) => {
                    local.set(Some(problem));
                    return;
                }
            };
        local.set(None);
        let chosen = TokenScope::parse(&scope.get_untracked()).unwrap_or(TokenScope::Read);
        set_busy.set(true);
        leptos::task::spawn_local(async move {
            match create_token(token_name, chosen, valid_days).await {
                Ok(response) => {
                    name.set(String::new());
                    on_created.run(response);
                }
                Err(e) => error.set(Some(e)),
            }
            set_busy.set(false);
        });
    };
    view! {
        <section class="card" aria-labelledby="token-create-title">
            <header class="card-header">
                <h2 id="token-create-title">"Create a token"</h2>
            </header>
            <form class="form inline-form" on:submit=submit novalidate aria-busy=move || busy.get().then_some("true")>
                <div class="field grow" class:has-error=move || name_error.with(Option::is_some)>
                    <label class="field-label" for="token-name">"Name"</label>
                    <input
                        id="token-name"
                        class="input"
                        type="text"
                        maxlength="100"
                        autocomplete="off"
                        aria-invalid=move || name_error.with(Option::is_some).then_some("true")
                        aria-describedby=move || described_by("token-name", false, name_error.with(Option::is_some))
                        bind:value=name
                    />
                    <FieldError id="token-name" message=name_error />
                </div>
                <div class="field">
                    <label class="field-label" for="token-scope">"Scope"</label>
                    <select
                        id="token-scope"
                        class="input select"
                        aria-describedby=hint_id("token-scope")
                        on:change=move |ev| scope.set(event_target_value(&ev))
                    >
                        {SCOPES
                            .iter()
                            .map(|(s, label, _)| view! { <option value=s.as_str() selected=*s == TokenScope::Read>{*label}</option> })
                            .collect_view()}
                    </select>
                </div>
                <div class="field" class:has-error=move || days_error.with(Option::is_some)>
                    <label class="field-label" for="token-days">"Valid for (days)"</label>
                    <input
                        id="token-days"
                        class="input narrow"
                        type="number"
                        min="1"
                        max=MAX_TOKEN_DAYS.to_string()
                        inputmode="numeric"
                        aria-invalid=move || days_error.with(Option::is_some).then_some("true")
                        aria-describedby=move || described_by("token-days", false, days_error.with(Option::is_some))
                        bind:value=days
                    />
                    <FieldError id="token-days" message=days_error />
                </div>
                <div class="actions">
                    <SubmitButton label="Create token" busy_label="Creating…" busy=busy />
                </div>
                <p class="field-hint full-row" id=hint_id("token-scope")>
                    {move || {
                        let chosen = TokenScope::parse(&scope.get()).unwrap_or(TokenScope::Read);
                        SCOPES.iter().find(|(s, _, _)| *s == chosen).map(|(_, _, what)| *what).unwrap_or_default()
                    }}
                </p>
                <FormAlert message=form_error />
            </form>
        </section>
    }
}

/// The new token's secret, shown once.
#[component]
fn NewSecret(response: CreateApiTokenResponse, on_done: Callback<()>) -> impl IntoView {
    let clipboard = use_clipboard_available();
    let (copied, set_copied) = signal(None::<bool>);
    let secret = response.secret.clone();
    let copy = move |_| {
        copy_to_clipboard(&secret, move |ok| set_copied.set(Some(ok)));
    };
    view! {
        <section class="card secret-card" aria-labelledby="token-secret-title" data-testid="token-secret">
            <header class="card-header">
                <h2 id="token-secret-title">{format!("Token “{}” created", response.token.name)}</h2>
            </header>
            <div class="alert warn">
                <p>"Copy the token now and keep it somewhere safe: it is shown only this once. If it is lost, revoke it and create a new one."</p>
            </div>
            <div class="secret-row">
                <label class="visually-hidden" for="token-secret-value">"The new token"</label>
                <input id="token-secret-value" class="input mono secret-key" type="text" readonly value=response.secret.clone() />
                <Show when=move || clipboard.get()>
                    <button type="button" class="button secondary" on:click=copy.clone()>"Copy"</button>
                </Show>
            </div>
            <p role="status" class="status-text">
                {move || copied.get().map(|ok| if ok { "Copied to the clipboard." } else { "Copying did not work; select the token and copy it yourself." })}
            </p>
            <div class="actions">
                <button type="button" class="button" on:click=move |_| on_done.run(())>"I have saved it"</button>
            </div>
        </section>
    }
}

#[component]
fn TokenRow(token: ApiTokenInfo) -> impl IntoView {
    let current = RwSignal::new(token.clone());
    let confirming = RwSignal::new(false);
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(None::<String>);
    let id = token.id.clone();
    let name = token.name.clone();
    let revoke = {
        let id = id.clone();
        Callback::new(move |()| {
            set_busy.set(true);
            set_error.set(None);
            let id = id.clone();
            leptos::task::spawn_local(async move {
                match revoke_token(id).await {
                    Ok(updated) => current.set(updated),
                    Err(e) => set_error.set(Some(format!("The token was not revoked. {e}"))),
                }
                confirming.set(false);
                set_busy.set(false);
            });
        })
    };
    let confirm_text = format!(
        "Revoke “{}”? Anything using it stops working at once.",
        token.name
    );
    let last_used = token
        .last_used_at
        .as_deref()
        .map(format_datetime_local)
        .unwrap_or_else(|| "Never".to_string());
    view! {
        <tr data-token-id=id.clone()>
            <td data-label="Name">
                <strong>{token.name.clone()}</strong>
                <span class="muted small">" by " {token.created_by.clone()}</span>
            </td>
            <td data-label="Scope">{scope_label(token.scope)}</td>
            <td data-label="Prefix"><span class="mono">{token.prefix.clone()} "…"</span></td>
            <td data-label="Created"><time datetime=token.created_at.clone()>{format_datetime_local(&token.created_at)}</time></td>
            <td data-label="Expires"><time datetime=token.expires_at.clone()>{format_datetime_local(&token.expires_at)}</time></td>
            <td data-label="Last used">{last_used}</td>
            <td data-label="Status">
                {move || {
                    let (label, class) = token_status(current.with(|t| t.status));
                    view! { <span class=class data-testid="token-status">{label}</span> }
                }}
            </td>
            <td class="actions-cell">
                <Show when=move || current.with(|t| t.status == TokenStatus::Active)>
                    <button
                        type="button"
                        class="button secondary small danger"
                        aria-label=format!("Revoke {name}")
                        aria-expanded=move || if confirming.get() { "true" } else { "false" }
                        on:click=move |_| confirming.update(|c| *c = !*c)
                    >
                        "Revoke"
                    </button>
                </Show>
            </td>
        </tr>
        <ConfirmRow
            columns=8
            words=ConfirmWords {
                label: "Confirm revocation",
                confirm: "Revoke token",
                busy: "Revoking…",
                cancel: "Keep it",
            }
            question=confirm_text
            confirming=confirming
            busy=busy
            on_confirm=revoke
            error=error
        />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_names_the_field_at_fault() {
        assert_eq!(
            check_token_form(" Billing ", "30"),
            Ok(("Billing".to_string(), 30))
        );
        assert_eq!(check_token_form("", "30").map_err(|e| e.0), Err("name"));
        assert_eq!(
            check_token_form(&"x".repeat(101), "30").map_err(|e| e.0),
            Err("name")
        );
        for days in ["0", "366", "", "ten", "-1"] {
            assert_eq!(
                check_token_form("Billing", days).map_err(|e| e.0),
                Err("expires_in_days"),
                "{days}"
            );
        }
        assert_eq!(check_token_form("Billing", "365").map(|r| r.1), Ok(365));
    }

    #[test]
    fn scopes_and_statuses_read_as_words() {
        assert_eq!(scope_label(TokenScope::ReadWrite), "Read and write");
        assert_eq!(token_status(TokenStatus::Revoked), ("Revoked", "badge bad"));
        assert_eq!(token_status(TokenStatus::Active).0, "Active");
    }
}
