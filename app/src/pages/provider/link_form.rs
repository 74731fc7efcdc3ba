//! The form that links a Microsoft Entra tenant to a customer by its id.

use leptos::{ev::SubmitEvent, html, prelude::*};

use crate::api::ApiError;
use crate::components::form::{described_by, hint_id, SubmitButton};
use crate::pages::sso::normalize_tenant_id;

use super::action::{perform, Console, ProviderAction};
use super::id_fragment;

/// The tenant id to link, checked before it is sent.
#[component]
pub(super) fn LinkTenantForm(
    console: Console,
    slug: String,
    name: String,
    sso_enabled: bool,
) -> impl IntoView {
    let input_id = format!("link-tenant-{}", id_fragment(&slug));
    let tenant = RwSignal::new(String::new());
    let field_error = RwSignal::new(None::<String>);
    let input_ref = NodeRef::<html::Input>::new();
    let link_name = ProviderAction::Link {
        slug: slug.clone(),
        name: name.clone(),
        tenant_id: String::new(),
    }
    .button_name();
    let submit_name = name.clone();
    let running_link = {
        let slug = slug.clone();
        move || {
            console
                .running
                .with(|r| matches!(r, Some(ProviderAction::Link { slug: s, .. }) if *s == slug))
        }
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if console.running.with_untracked(Option::is_some) {
            return;
        }
        let tenant_id = match normalize_tenant_id(&tenant.get_untracked()) {
            Ok(tenant_id) => tenant_id,
            Err(hint) => {
                field_error.set(Some(hint.to_string()));
                if let Some(input) = input_ref.get_untracked() {
                    let _ = input.focus();
                }
                return;
            }
        };
        field_error.set(None);
        console.message.set(None);
        let action = ProviderAction::Link {
            slug: slug.clone(),
            name: submit_name.clone(),
            tenant_id,
        };
        console.running.set(Some(action.clone()));
        leptos::task::spawn_local(async move {
            let result = perform(action.clone()).await;
            console.running.set(None);
            match result {
                Ok(settings) => console.succeeded(&action, settings),
                Err(ApiError::Api {
                    field: Some(field),
                    message,
                    ..
                }) if field == "tenant_id" => field_error.set(Some(message)),
                Err(error) => console.failed(&action, &error),
            }
        });
    };

    let hint_element_id = hint_id(&input_id);
    let error_element_id = format!("{input_id}-error");
    let describe_id = input_id.clone();
    let off_note = (!sso_enabled)
        .then(|| format!(" Single sign-on is off for {name}: enable it before linking a tenant."));
    view! {
        <form class="form link-tenant-form" method="post" on:submit=submit>
            <div class="field" class:has-error=move || field_error.with(Option::is_some)>
                <label class="field-label" for=input_id.clone()>
                    "Tenant ID"
                    <span class="visually-hidden">" for " {name.clone()}</span>
                </label>
                <p class="field-hint" id=hint_element_id>
                    "The customer's Directory (tenant) ID from the Microsoft Entra admin center, a GUID."
                    {off_note}
                </p>
                <div class="inline-form-row">
                    <input
                        id=input_id
                        name="tenant_id"
                        class="input mono"
                        type="text"
                        inputmode="text"
                        autocomplete="off"
                        autocapitalize="none"
                        spellcheck="false"
                        placeholder="00000000-0000-0000-0000-000000000000"
                        aria-invalid=move || field_error.with(Option::is_some).then_some("true")
                        aria-describedby=move || {
                            described_by(&describe_id, true, field_error.with(Option::is_some))
                        }
                        node_ref=input_ref
                        bind:value=tenant
                    />
                    <SubmitButton
                        label="Link tenant"
                        busy_label="Linking…"
                        busy=Signal::derive(running_link)
                        disabled=Signal::derive(move || console.running.with(Option::is_some))
                        accessible_name=link_name
                    />
                </div>
                {move || {
                    field_error
                        .get()
                        .map(|message| {
                            view! { <p class="field-error" id=error_element_id.clone() role="alert">{message}</p> }
                        })
                }}
            </div>
        </form>
    }
}
