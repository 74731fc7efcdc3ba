//! A customer's card: its single sign-on switch, its tenants with their actions, and the
//! in-place confirmation of an action that ends sessions.

use leptos::{html, prelude::*};

use crate::api::sso::{LinkedTenant, ProviderOrganisation};
use crate::pages::sso::TenantCells;

use super::action::{Console, ProviderAction};
use super::link_form::LinkTenantForm;
use super::mfa_form::MfaEvidenceForm;
use super::{id_fragment, users_label};
use crate::pages::sign_in_policy::PolicyForm;

/// One customer: SSO on/off, its tenants, and the form to link one.
#[component]
pub(super) fn CustomerCard(console: Console, org: ProviderOrganisation) -> impl IntoView {
    let ProviderOrganisation {
        slug,
        name,
        users,
        sso,
        mfa_policy,
        ..
    } = org;
    let enabled = sso.enabled;
    let title_id = format!("org-{}-title", id_fragment(&slug));
    let toggle = ProviderAction::SetSso {
        slug: slug.clone(),
        name: name.clone(),
        enabled: !enabled,
    };
    let toggle_view = {
        let toggle = toggle.clone();
        move || {
            if console.is_pending(&toggle) {
                view! { <ConfirmPanel console=console action=toggle.clone() /> }.into_any()
            } else {
                view! {
                    <div class="actions">
                        <ActionButton
                            console=console
                            action=toggle.clone()
                            class=if enabled { "secondary danger" } else { "" }
                        />
                    </div>
                }
                .into_any()
            }
        }
    };
    let message_slug = slug.clone();
    let message = move || {
        console
            .message
            .with(|m| m.as_ref().filter(|m| m.slug == message_slug).cloned())
    };
    let success = {
        let message = message.clone();
        move || {
            message()
                .filter(|m| m.success)
                .map(|m| view! { <p class="alert ok">{m.text}</p> })
        }
    };
    let failure = move || {
        message()
            .filter(|m| !m.success)
            .map(|m| view! { <p class="alert error" role="alert">{m.text}</p> })
    };

    view! {
        <section
            class="card provider-org"
            aria-labelledby=title_id.clone()
            data-slug=slug.clone()
            data-sso=if enabled { "on" } else { "off" }
        >
            <header class="card-header">
                <h2 id=title_id.clone()>{name.clone()}</h2>
                <span class="mono muted small">{slug.clone()}</span>
            </header>
            <div role="status" class="status-region">{success}</div>
            <div class="form-alert-region">{failure}</div>
            <p class="status-line">
                <span class="badge" class:ok=enabled>{if enabled { "SSO on" } else { "SSO off" }}</span>
                {users_label(users)}
            </p>
            {toggle_view}
            <h3>"Microsoft Entra tenants"</h3>
            <ProviderTenantsTable console=console slug=slug.clone() name=name.clone() tenants=sso.tenants.clone() />
            <LinkTenantForm console=console slug=slug.clone() name=name.clone() sso_enabled=enabled />
            <h3>"Multi-factor evidence"</h3>
            <MfaEvidenceForm console=console slug=slug.clone() name=name.clone() sso=sso />
            <h3>"Two-step sign-in for passwords"</h3>
            <PolicyForm policy=mfa_policy customer=(slug.clone(), name) />
        </section>
    }
}

/// A customer's tenants, with their actions.
#[component]
fn ProviderTenantsTable(
    console: Console,
    slug: String,
    name: String,
    tenants: Vec<LinkedTenant>,
) -> impl IntoView {
    if tenants.is_empty() {
        return view! { <p class="empty-state">"No tenant is linked."</p> }.into_any();
    }
    let rows = tenants
        .into_iter()
        .map(|tenant| {
            let LinkedTenant {
                tenant_id,
                disabled,
                pending_approval,
                ..
            } = tenant.clone();
            // A link made through admin consent waits for staff: approving it comes first.
            let state_action = if pending_approval {
                ProviderAction::Approve {
                    slug: slug.clone(),
                    name: name.clone(),
                    tenant_id: tenant_id.clone(),
                }
            } else {
                ProviderAction::SetTenantDisabled {
                    slug: slug.clone(),
                    name: name.clone(),
                    tenant_id: tenant_id.clone(),
                    disabled: !disabled,
                }
            };
            let state_class = if pending_approval { "primary" } else { "secondary" };
            let unlink = ProviderAction::Unlink {
                slug: slug.clone(),
                name: name.clone(),
                tenant_id: tenant_id.clone(),
            };
            let confirming = {
                let unlink = unlink.clone();
                move || console.is_pending(&unlink)
            };
            let unlink_button = {
                let unlink = unlink.clone();
                let confirming = confirming.clone();
                move || {
                    (!confirming()).then(|| {
                        view! { <ActionButton console=console action=unlink.clone() class="secondary danger" /> }
                    })
                }
            };
            let confirm_row = move || {
                confirming().then(|| {
                    view! {
                        <tr class="confirm-row">
                            <td colspan="5">
                                <ConfirmPanel console=console action=unlink.clone() />
                            </td>
                        </tr>
                    }
                })
            };
            view! {
                <tr data-tenant-id=tenant_id.clone()>
                    <TenantCells tenant=tenant />
                    <td class="actions-cell">
                        <div class="actions">
                            <ActionButton console=console action=state_action class=state_class />
                            {unlink_button}
                        </div>
                    </td>
                </tr>
                {confirm_row}
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="data-table stacked-table">
                <caption class="visually-hidden">{format!("Tenants linked to {name}")}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Tenant ID"</th>
                        <th scope="col">"Linked"</th>
                        <th scope="col">"Linked by"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A button for one action, named after its customer (and tenant).
#[component]
fn ActionButton(
    console: Console,
    action: ProviderAction,
    /// Extra classes (`secondary`, `danger`).
    #[prop(optional)]
    class: &'static str,
) -> impl IntoView {
    let label = action.button_label();
    let name = action.button_name();
    let busy_action = action.clone();
    let is_busy = move || console.running.with(|r| r.as_ref() == Some(&busy_action));
    view! {
        <button
            type="button"
            class=format!("button small {class}")
            aria-label=name
            disabled=move || console.running.with(Option::is_some)
            aria-busy=move || is_busy().then_some("true")
            on:click=move |_| console.request(action.clone())
        >
            {label}
        </button>
    }
}

/// "Are you sure?" in place of the button, for the actions that end sessions.
#[component]
fn ConfirmPanel(console: Console, action: ProviderAction) -> impl IntoView {
    let Some((text, confirm_name)) = action.confirmation() else {
        return ().into_any();
    };
    let confirm_ref = NodeRef::<html::Button>::new();
    // The clicked button is gone; the keyboard continues at the decision.
    confirm_ref.on_load(|button| {
        let _ = button.focus();
    });
    view! {
        <div class="alert warn confirm-panel">
            <p>{text}</p>
            <div class="actions">
                <button
                    type="button"
                    class="button small"
                    aria-label=confirm_name
                    node_ref=confirm_ref
                    disabled=move || console.running.with(Option::is_some)
                    on:click=move |_| console.run(action.clone())
                >
                    "Confirm"
                </button>
                <button type="button" class="button secondary small" on:click=move |_| console.pending.set(None)>
                    "Cancel"
                </button>
            </div>
        </div>
    }
    .into_any()
}
