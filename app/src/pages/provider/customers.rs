//! The customers found: the table with "View as", "Load more", and a card per customer.

use leptos::prelude::*;

use crate::api::org::selected_org;
use crate::api::sso::{
    search_provider_organisations, ProviderOrganisation, ProviderOrganisations, ProviderSearch,
    PROVIDER_PAGE_SIZE,
};
use crate::components::{data_table::LoadMore, form::FormAlert};
use crate::format::format_count;

use super::action::Console;
use super::card::CustomerCard;
use super::{is_plain_click, view_as, view_as_href};

/// What decides whether a customer's row and card must be drawn again: its SSO state, MFA
/// evidence policy and tenants change with the console's actions; its name and users do not.
type RenderKey = (
    String,
    bool,
    String,
    Option<String>,
    Vec<(String, bool, bool)>,
);

fn render_key(org: &ProviderOrganisation) -> RenderKey {
    (
        org.slug.clone(),
        org.sso.enabled,
        org.sso.mfa_evidence.clone(),
        org.sso.auth_context.clone(),
        org.sso
            .tenants
            .iter()
            .map(|t| (t.tenant_id.clone(), t.disabled, t.pending_approval))
            .collect(),
    )
}

/// The customers the search found: the table, "Load more" and a card per customer.
///
/// Each search's answer gets its own [`Console`], made and dropped with these results, so
/// nothing of the previous search (rows, a confirmation, a message) outlives it.
#[component]
pub(super) fn ProviderResults(q: String, page: ProviderOrganisations) -> impl IntoView {
    let console = Console {
        rows: RwSignal::new(page.organisations),
        pending: RwSignal::new(None),
        running: RwSignal::new(None),
        message: RwSignal::new(None),
    };
    let cursor = RwSignal::new(page.next_cursor);
    let (busy, set_busy) = signal(false);
    let (more_error, set_more_error) = signal(None::<String>);
    let load_more = Callback::new(move |()| {
        let Some(after) = cursor.get_untracked() else {
            return;
        };
        set_busy.set(true);
        set_more_error.set(None);
        let search = ProviderSearch {
            q: q.clone(),
            cursor: Some(after),
            limit: Some(PROVIDER_PAGE_SIZE),
        };
        leptos::task::spawn_local(async move {
            match search_provider_organisations(&search).await {
                Ok(next) => {
                    console.rows.update(|rows| rows.extend(next.organisations));
                    cursor.set(next.next_cursor);
                }
                Err(error) => set_more_error.set(Some(format!(
                    "More customers could not be loaded. {error} Try “Load more” again."
                ))),
            }
            set_busy.set(false);
        });
    });
    view! {
        <div class="provider-results">
            <CustomersTable console=console />
            <FormAlert message=more_error />
            <LoadMore
                has_more=Signal::derive(move || cursor.with(Option::is_some))
                busy=busy
                shown=Signal::derive(move || console.rows.with(Vec::len))
                noun=("customer", "customers")
                on_more=load_more
            />
            <For
                each=move || console.rows.get()
                key=render_key
                children=move |org| view! { <CustomerCard console=console org=org /> }
            />
        </div>
    }
}

/// The customers in brief, each with "View as".
#[component]
fn CustomersTable(console: Console) -> impl IntoView {
    // Read once: choosing another customer reloads the page (here or in the switcher).
    let viewing = selected_org();
    view! {
        <section class="card" aria-labelledby="customers-title">
            <header class="card-header">
                <h2 id="customers-title">"Customers"</h2>
            </header>
            <div class="table-wrap">
                <table class="data-table stacked-table customers-table" data-testid="customers">
                    <caption class="visually-hidden">"Customers, by name"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Customer"</th>
                            <th scope="col">"Slug"</th>
                            <th scope="col">"Users"</th>
                            <th scope="col">"SSO"</th>
                            <th scope="col">"Tenants"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || console.rows.get()
                            key=render_key
                            children=move |org| {
                                let current = viewing.as_deref() == Some(org.slug.as_str());
                                view! { <CustomerRow org=org current=current /> }
                            }
                        />
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// One customer in the table.
#[component]
fn CustomerRow(
    org: ProviderOrganisation,
    /// Staff are viewing this customer's pages (the switcher's choice).
    current: bool,
) -> impl IntoView {
    let ProviderOrganisation {
        slug,
        name,
        users,
        sso,
        ..
    } = org;
    let enabled = sso.enabled;
    let view_slug = slug.clone();
    view! {
        <tr data-slug=slug.clone() data-sso=if enabled { "on" } else { "off" } class:current-customer=current>
            <th scope="row" data-label="Customer">
                <span class="customer-name">{name.clone()}</span>
                {current.then(|| view! { <span class="badge viewing">"Viewing"</span> })}
            </th>
            <td data-label="Slug"><span class="mono">{slug.clone()}</span></td>
            <td data-label="Users">{format_count(users)}</td>
            <td data-label="SSO">
                <span class="badge" class:ok=enabled>{if enabled { "On" } else { "Off" }}</span>
            </td>
            <td data-label="Tenants">{format_count(i64::try_from(sso.tenants.len()).unwrap_or(i64::MAX))}</td>
            <td class="actions-cell">
                // `target="_self"` keeps the router from handling the link itself: the click
                // handler below (or, without it, the browser) loads the page afresh.
                <a
                    class="button secondary small"
                    href=view_as_href(&slug)
                    target="_self"
                    on:click=move |ev| {
                        if is_plain_click(&ev) {
                            ev.prevent_default();
                            view_as(&view_slug);
                        }
                    }
                >
                    "View as"
                    <span class="visually-hidden">{format!(" {name}")}</span>
                </a>
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::sso::{LinkedTenant, SsoSettings};

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    #[test]
    fn a_customer_is_drawn_again_when_its_sso_changes() {
        let org = |enabled: bool, disabled: bool| ProviderOrganisation {
            id: "1".to_string(),
            slug: "contoso".to_string(),
            name: "Contoso".to_string(),
            users: 3,
            mfa_policy: crate::api::audit::MfaPolicy {
                required: false,
                methods: vec!["totp".into()],
            },
            sso: SsoSettings {
                enabled,
                jit_provisioning: true,
                default_role: "viewer".to_string(),
                require_sso: false,
                mfa_evidence: "off".into(),
                auth_context: None,
                tenants: vec![LinkedTenant {
                    tenant_id: TENANT.to_string(),
                    linked_at: "2026-01-01T00:00:00Z".to_string(),
                    linked_by: "cli".to_string(),
                    disabled,
                    pending_approval: false,
                }],
            },
        };
        assert_eq!(render_key(&org(true, false)), render_key(&org(true, false)));
        let mut waiting = org(true, false);
        waiting.sso.tenants[0].pending_approval = true;
        assert_ne!(render_key(&waiting), render_key(&org(true, false)));
        assert_ne!(
            render_key(&org(true, false)),
            render_key(&org(false, false))
        );
        assert_ne!(render_key(&org(true, false)), render_key(&org(true, true)));
    }
}
