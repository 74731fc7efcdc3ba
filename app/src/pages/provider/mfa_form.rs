//! The form that sets what a customer's Microsoft sign-ins without multi-factor evidence get
//! (the same policy the customer's admins set on their Single sign-on page).

use leptos::{ev::SubmitEvent, prelude::*};

use crate::api::{sso::SsoSettings, ApiError};
use crate::components::form::{hint_id, SubmitButton};
use crate::pages::sso::{known_mfa_evidence, MFA_EVIDENCE};

use super::action::{perform, Console, ProviderAction};
use super::id_fragment;

/// The policy and the authentication context, saved together.
#[component]
pub(super) fn MfaEvidenceForm(
    console: Console,
    slug: String,
    name: String,
    sso: SsoSettings,
) -> impl IntoView {
    let id = id_fragment(&slug);
    let select_id = format!("mfa-evidence-{id}");
    let context_id = format!("auth-context-{id}");
    let policy = RwSignal::new(known_mfa_evidence(&sso.mfa_evidence));
    let context = RwSignal::new(sso.auth_context.unwrap_or_default());
    let field_error = RwSignal::new(None::<String>);
    let save_name = ProviderAction::SetMfaEvidence {
        slug: slug.clone(),
        name: name.clone(),
        policy: String::new(),
        auth_context: None,
    }
    .button_name();
    let running_save = {
        let slug = slug.clone();
        move || {
            console.running.with(
                |r| matches!(r, Some(ProviderAction::SetMfaEvidence { slug: s, .. }) if *s == slug),
            )
        }
    };
    let submit_name = name.clone();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if console.running.with_untracked(Option::is_some) {
            return;
        }
        field_error.set(None);
        console.message.set(None);
        let action = ProviderAction::SetMfaEvidence {
            slug: slug.clone(),
            name: submit_name.clone(),
            policy: policy.get_untracked(),
            auth_context: Some(context.get_untracked()).filter(|c| !c.trim().is_empty()),
        };
        console.running.set(Some(action.clone()));
        leptos::task::spawn_local(async move {
            let result = perform(action.clone()).await;
            console.running.set(None);
            match result {
                Ok(settings) => {
                    policy.set(known_mfa_evidence(&settings.mfa_evidence));
                    context.set(settings.auth_context.clone().unwrap_or_default());
                    console.succeeded(&action, settings);
                }
                Err(ApiError::Api {
                    field: Some(field),
                    message,
                    ..
                }) if field == "auth_context" || field == "mfa_evidence" => {
                    field_error.set(Some(message))
                }
                Err(error) => console.failed(&action, &error),
            }
        });
    };
    let options = MFA_EVIDENCE
        .iter()
        .map(|(value, label)| {
            let value = *value;
            view! { <option value=value selected=move || policy.with(|p| p == value)>{*label}</option> }
        })
        .collect_view();
    let error_id = format!("{context_id}-error");
    let context_hint = hint_id(&context_id);
    let described = {
        let error_id = error_id.clone();
        let context_hint = context_hint.clone();
        move || {
            if field_error.with(Option::is_some) {
                format!("{context_hint} {error_id}")
            } else {
                context_hint.clone()
            }
        }
    };
    view! {
        <form class="form mfa-evidence-form" method="post" on:submit=submit>
            <div class="field">
                <label class="field-label" for=select_id.clone()>
                    "When Microsoft shows no second factor"
                    <span class="visually-hidden">" for " {name.clone()}</span>
                </label>
                <select
                    id=select_id
                    name="mfa_evidence"
                    class="input select wide"
                    on:change=move |ev| policy.set(event_target_value(&ev))
                >
                    {options}
                </select>
            </div>
            <div class="field" class:has-error=move || field_error.with(Option::is_some)>
                <label class="field-label" for=context_id.clone()>
                    "Authentication context (optional)"
                    <span class="visually-hidden">" for " {name.clone()}</span>
                </label>
                <p class="field-hint" id=context_hint>
                    "The customer's Conditional Access authentication context id, such as c1. The portal asks Microsoft for it when a sign-in shows no second factor."
                </p>
                <div class="inline-form-row">
                    <input
                        id=context_id
                        name="auth_context"
                        class="input mono narrow"
                        type="text"
                        maxlength="3"
                        autocomplete="off"
                        autocapitalize="none"
                        spellcheck="false"
                        placeholder="c1"
                        aria-invalid=move || field_error.with(Option::is_some).then_some("true")
                        aria-describedby=described
                        bind:value=context
                    />
                    <SubmitButton
                        label="Save MFA policy"
                        busy_label="Saving…"
                        busy=Signal::derive(running_save)
                        disabled=Signal::derive(move || console.running.with(Option::is_some))
                        accessible_name=save_name
                    />
                </div>
                {move || {
                    field_error
                        .get()
                        .map(|message| {
                            view! { <p class="field-error" id=error_id.clone() role="alert">{message}</p> }
                        })
                }}
            </div>
        </form>
    }
}
