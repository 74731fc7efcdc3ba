//! `/provider`: the carrier staff's console of customers and their single sign-on.
//!
//! A search box narrows the customers by name, slug or linked tenant id as one types; the
//! search lives in the URL (`?q=`) and runs on the server a page at a time ("Load more"),
//! and a live region says how many customers match. A table lists the customers found (name,
//! slug, users, SSO on/off, linked tenants) with "View as", which picks the customer in the
//! staff customer switcher and opens its overview. Below it each customer has a card to enable
//! or disable SSO, link a Microsoft Entra tenant by its id, and disable, enable or unlink each
//! tenant. Disabling SSO and unlinking a tenant end SSO sessions at once, so both ask for a
//! confirmation in place first. After a change the customer's row and card show the state the
//! API answered with.
//!
//! Buttons carry the customer (and tenant) in their accessible name ("Enable SSO for
//! Contoso"), so every one of them is unambiguous on a page full of customers.

use leptos::{ev::SubmitEvent, html, prelude::*};
use leptos_meta::Title;
use leptos_router::{
    hooks::{use_navigate, use_query_map},
    NavigateOptions,
};

use crate::api::org::{selected_org, set_selected_org};
use crate::api::{
    calls::percent_encode,
    sso::{
        approve_tenant, link_tenant, search_provider_organisations, set_sso_enabled,
        set_tenant_disabled, unlink_tenant, LinkedTenant, ProviderOrganisation,
        ProviderOrganisations, ProviderSearch, SsoSettings, PROVIDER_PAGE_SIZE,
        PROVIDER_SEARCH_MAX_CHARS,
    },
    ApiError,
};
use crate::components::{
    access::{page_access, AccessProblem, PageAccess},
    browser::{full_page_load, in_browser},
    data_table::LoadMore,
    empty_state::EmptyState,
    form::{described_by, hint_id, FormAlert, NeedsJavaScript},
    layout::is_staff,
    load_error::{is_forbidden, LoadError},
    user_menu::use_current_user,
};
use crate::format::{format_count, format_datetime_local};
use crate::pages::overview::OVERVIEW_PATH;
use crate::pages::sso::{linked_by_label, normalize_tenant_id, tenant_state_label, LoadingCard};

/// This page's path.
pub const PROVIDER_PATH: &str = "/provider";

/// What a user who is not carrier staff sees.
pub const PROVIDER_FORBIDDEN_MESSAGE: &str =
    "Only carrier staff can use the provider console. If you need access, ask the carrier's portal team.";

/// A change the console makes to a customer's single sign-on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderAction {
    /// Turn SSO on (`enabled`) or off for a customer.
    SetSso {
        /// The customer's slug.
        slug: String,
        /// The customer's name.
        name: String,
        /// The new state.
        enabled: bool,
    },
    /// Link a tenant to a customer.
    Link {
        /// The customer's slug.
        slug: String,
        /// The customer's name.
        name: String,
        /// The tenant id (a GUID, lower case).
        tenant_id: String,
    },
    /// Disable (`disabled`) or enable a linked tenant.
    SetTenantDisabled {
        /// The customer's slug.
        slug: String,
        /// The customer's name.
        name: String,
        /// The tenant id.
        tenant_id: String,
        /// The new state.
        disabled: bool,
    },
    /// Unlink a tenant from a customer.
    Unlink {
        /// The customer's slug.
        slug: String,
        /// The customer's name.
        name: String,
        /// The tenant id.
        tenant_id: String,
    },
    /// Approve a tenant the customer's admin linked through admin consent.
    Approve {
        /// The customer's slug.
        slug: String,
        /// The customer's name.
        name: String,
        /// The tenant id.
        tenant_id: String,
    },
}

impl ProviderAction {
    /// The customer it changes.
    pub fn slug(&self) -> &str {
        match self {
            ProviderAction::SetSso { slug, .. }
            | ProviderAction::Link { slug, .. }
            | ProviderAction::SetTenantDisabled { slug, .. }
            | ProviderAction::Unlink { slug, .. }
            | ProviderAction::Approve { slug, .. } => slug,
        }
    }

    /// Whether it ends sessions, so the person confirms it first.
    pub fn needs_confirmation(&self) -> bool {
        matches!(
            self,
            ProviderAction::SetSso { enabled: false, .. } | ProviderAction::Unlink { .. }
        )
    }

    /// The visible label of its button.
    pub fn button_label(&self) -> &'static str {
        match self {
            ProviderAction::SetSso { enabled: true, .. } => "Enable SSO",
            ProviderAction::SetSso { enabled: false, .. } => "Disable SSO",
            ProviderAction::Link { .. } => "Link tenant",
            ProviderAction::SetTenantDisabled { disabled: true, .. } => "Disable",
            ProviderAction::SetTenantDisabled {
                disabled: false, ..
            } => "Enable",
            ProviderAction::Unlink { .. } => "Unlink",
            ProviderAction::Approve { .. } => "Approve",
        }
    }

    /// The accessible name of its button: the label with the customer (and tenant).
    pub fn button_name(&self) -> String {
        match self {
            ProviderAction::SetSso {
                name,
                enabled: true,
                ..
            } => format!("Enable SSO for {name}"),
            ProviderAction::SetSso {
                name,
                enabled: false,
                ..
            } => format!("Disable SSO for {name}"),
            ProviderAction::Link { name, .. } => format!("Link tenant to {name}"),
            ProviderAction::SetTenantDisabled {
                name,
                tenant_id,
                disabled: true,
                ..
            } => format!("Disable tenant {tenant_id} for {name}"),
            ProviderAction::SetTenantDisabled {
                name,
                tenant_id,
                disabled: false,
                ..
            } => format!("Enable tenant {tenant_id} for {name}"),
            ProviderAction::Unlink {
                name, tenant_id, ..
            } => format!("Unlink tenant {tenant_id} from {name}"),
            ProviderAction::Approve {
                name, tenant_id, ..
            } => format!("Approve tenant {tenant_id} for {name}"),
        }
    }

    /// What the confirmation says, and the accessible name of its "Confirm" button; `None`
    /// when no confirmation is needed.
    pub fn confirmation(&self) -> Option<(String, String)> {
        match self {
            ProviderAction::SetSso {
                name,
                enabled: false,
                ..
            } => Some((
                format!("Disabling single sign-on for {name} ends the SSO sessions of all its users at once, and nobody can sign in with Microsoft until it is enabled again. Linked tenants stay linked."),
                format!("Confirm disabling SSO for {name}"),
            )),
            ProviderAction::Unlink {
                name, tenant_id, ..
            } => Some((
                format!("Unlinking tenant {tenant_id} from {name} ends the SSO sessions of that tenant's users at once; they cannot sign in with Microsoft until the tenant is linked again."),
                format!("Confirm unlinking tenant {tenant_id} from {name}"),
            )),
            _ => None,
        }
    }

    /// The message after it worked.
    pub fn done_notice(&self) -> String {
        match self {
            ProviderAction::SetSso {
                name,
                enabled: true,
                ..
            } => format!("Single sign-on is now enabled for {name}."),
            ProviderAction::SetSso {
                name,
                enabled: false,
                ..
            } => format!("Single sign-on is now disabled for {name}; its SSO sessions have ended."),
            ProviderAction::Link {
                name, tenant_id, ..
            } => format!("Tenant {tenant_id} is now linked to {name}."),
            ProviderAction::SetTenantDisabled {
                name,
                tenant_id,
                disabled: true,
                ..
            } => format!(
                "Tenant {tenant_id} is now disabled for {name}; its users' SSO sessions have ended."
            ),
            ProviderAction::SetTenantDisabled {
                name,
                tenant_id,
                disabled: false,
                ..
            } => format!("Tenant {tenant_id} is enabled again for {name}."),
            ProviderAction::Unlink {
                name, tenant_id, ..
            } => format!("Tenant {tenant_id} is no longer linked to {name}."),
            ProviderAction::Approve {
                name, tenant_id, ..
            } => format!(
                "Tenant {tenant_id} is approved for {name}: its users can sign in with Microsoft."
            ),
        }
    }

    /// The message after it failed with `error` (the server's message says why).
    pub fn failure_message(&self, error: &ApiError) -> String {
        if is_forbidden(error) {
            return PROVIDER_FORBIDDEN_MESSAGE.to_string();
        }
        let what = match self {
            ProviderAction::SetSso {
                name,
                enabled: true,
                ..
            } => format!("Single sign-on could not be enabled for {name}."),
            ProviderAction::SetSso {
                name,
                enabled: false,
                ..
            } => format!("Single sign-on could not be disabled for {name}."),
            ProviderAction::Link {
                name, tenant_id, ..
            } => format!("Tenant {tenant_id} could not be linked to {name}."),
            ProviderAction::SetTenantDisabled {
                tenant_id,
                disabled: true,
                ..
            } => format!("Tenant {tenant_id} could not be disabled."),
            ProviderAction::SetTenantDisabled {
                tenant_id,
                disabled: false,
                ..
            } => format!("Tenant {tenant_id} could not be enabled."),
            ProviderAction::Unlink { tenant_id, .. } => {
                format!("Tenant {tenant_id} could not be unlinked.")
            }
            ProviderAction::Approve { tenant_id, .. } => {
                format!("Tenant {tenant_id} could not be approved.")
            }
        };
        format!("{what} {error}")
    }
}

/// An element id made from a slug: letters, digits, `-` and `_` kept, anything else `-`.
pub fn id_fragment(slug: &str) -> String {
    slug.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// "1 user", "12 users".
pub fn users_label(users: i64) -> String {
    if users == 1 {
        "1 user".to_string()
    } else {
        format!("{users} users")
    }
}

/// Sends `action` to the API.
async fn perform(action: ProviderAction) -> Result<SsoSettings, ApiError> {
    match action {
        ProviderAction::SetSso { slug, enabled, .. } => set_sso_enabled(slug, enabled).await,
        ProviderAction::Link {
            slug, tenant_id, ..
        } => link_tenant(slug, tenant_id).await,
        ProviderAction::SetTenantDisabled {
            slug,
            tenant_id,
            disabled,
            ..
        } => set_tenant_disabled(slug, tenant_id, disabled).await,
        ProviderAction::Unlink {
            slug, tenant_id, ..
        } => unlink_tenant(slug, tenant_id).await,
        ProviderAction::Approve {
            slug, tenant_id, ..
        } => approve_tenant(slug, tenant_id).await,
    }
}

/// The last outcome, shown on its customer's card.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OrgMessage {
    slug: String,
    text: String,
    success: bool,
}

/// The console's shared state, handed to the table and each card.
#[derive(Clone, Copy)]
struct Console {
    /// The customers on screen: the search's first page and any loaded after it.
    rows: RwSignal<Vec<ProviderOrganisation>>,
    /// The action waiting for its confirmation.
    pending: RwSignal<Option<ProviderAction>>,
    /// The action in flight (one at a time).
    running: RwSignal<Option<ProviderAction>>,
    message: RwSignal<Option<OrgMessage>>,
}

impl Console {
    /// A button was clicked: ask for confirmation first, or go ahead.
    fn request(self, action: ProviderAction) {
        self.message.set(None);
        if action.needs_confirmation() {
            self.pending.set(Some(action));
        } else {
            self.run(action);
        }
    }

    /// Sends `action`, then shows the outcome and the customer's new state after a success.
    fn run(self, action: ProviderAction) {
        if self.running.with_untracked(Option::is_some) {
            return;
        }
        self.pending.set(None);
        self.message.set(None);
        self.running.set(Some(action.clone()));
        leptos::task::spawn_local(async move {
            let result = perform(action.clone()).await;
            self.running.set(None);
            match result {
                Ok(settings) => self.succeeded(&action, settings),
                Err(error) => self.failed(&action, &error),
            }
        });
    }

    /// The API answered with the customer's settings after the change: they replace the
    /// customer's row in place (a reload would drop the pages loaded with "Load more").
    fn succeeded(self, action: &ProviderAction, settings: SsoSettings) {
        self.message.set(Some(OrgMessage {
            slug: action.slug().to_string(),
            text: action.done_notice(),
            success: true,
        }));
        self.rows.update(|rows| {
            if let Some(org) = rows.iter_mut().find(|org| org.slug == action.slug()) {
                org.sso = settings;
            }
        });
    }

    fn failed(self, action: &ProviderAction, error: &ApiError) {
        self.message.set(Some(OrgMessage {
            slug: action.slug().to_string(),
            text: action.failure_message(error),
            success: false,
        }));
    }

    fn is_pending(self, action: &ProviderAction) -> bool {
        self.pending.with(|p| p.as_ref() == Some(action))
    }
}

/// The search as the page's URL carries it (`?q=`): trimmed, and cut to the length the API
/// accepts (the box itself allows no more; a longer one can only come from an edited URL).
pub fn search_text(raw: &str) -> String {
    raw.trim()
        .chars()
        .take(PROVIDER_SEARCH_MAX_CHARS)
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// The console's own URL for the search `q`, so a link or a reload keeps it.
pub fn provider_page_url(q: &str) -> String {
    let q = search_text(q);
    if q.is_empty() {
        PROVIDER_PATH.to_string()
    } else {
        format!("{PROVIDER_PATH}?q={}", percent_encode(&q))
    }
}

/// What the live region says once a search has answered: how many customers match.
pub fn match_count_text(total: i64, q: &str) -> String {
    let count = format_count(total);
    match (q.is_empty(), total) {
        (true, 0) => "There are no customers yet.".to_string(),
        (true, 1) => "1 customer.".to_string(),
        (true, _) => format!("{count} customers."),
        (false, 0) => format!("No customer matches “{q}”."),
        (false, 1) => format!("1 customer matches “{q}”."),
        (false, _) => format!("{count} customers match “{q}”."),
    }
}

/// Where "View as" goes: the overview, with the customer in the URL as well, so the link
/// also works opened in a new tab (the customer switcher takes `?org=` over on load).
pub fn view_as_href(slug: &str) -> String {
    format!("{OVERVIEW_PATH}?org={}", percent_encode(slug))
}

/// Selects `slug` in the staff customer switcher (the same tab storage it uses) and opens
/// that customer's overview with a full page load, as the switcher does when its choice
/// changes, so the top bar and every resource start over for that customer.
fn view_as(slug: &str) {
    set_selected_org(Some(slug));
    full_page_load(OVERVIEW_PATH);
}

/// Whether a click on a link is a plain one (no new tab or window asked for).
fn is_plain_click(ev: &leptos::ev::MouseEvent) -> bool {
    ev.button() == 0 && !(ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key())
}

/// What decides whether a customer's row and card must be drawn again: its SSO state and
/// tenants change with the console's actions; its name and users do not.
fn render_key(org: &ProviderOrganisation) -> (String, bool, Vec<(String, bool, bool)>) {
    (
        org.slug.clone(),
        org.sso.enabled,
        org.sso
            .tenants
            .iter()
            .map(|t| (t.tenant_id.clone(), t.disabled, t.pending_approval))
            .collect(),
    )
}

/// The provider console.
#[component]
pub fn ProviderPage() -> impl IntoView {
    let me = use_current_user().me;
    view! {
        <Title text="Provider console" />
        <section class="page provider-page">
            <h1>"Provider console"</h1>
            <NeedsJavaScript />
            <Transition fallback=|| view! { <LoadingCard label="Loading the provider console" /> }>
                {move || Suspend::new(async move {
                    match page_access(&in_browser(me).await, is_staff) {
                        PageAccess::Allowed => view! { <ProviderConsole /> }.into_any(),
                        access => {
                            view! {
                                <AccessProblem
                                    access=access
                                    forbidden_message=PROVIDER_FORBIDDEN_MESSAGE
                                    return_to=PROVIDER_PATH
                                    me=me
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

/// The search, the customers and their cards.
///
/// The search runs on the server (`GET /api/v1/provider/organisations?q=&limit=&cursor=`), a
/// page at a time: a carrier has thousands of customers, too many to download, and draw with
/// their cards, to find one.
#[component]
fn ProviderConsole() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.with(|p| search_text(&p.get("q").unwrap_or_default())));
    let results = LocalResource::new(move || {
        let q = q.get();
        async move {
            let search = ProviderSearch {
                q: q.clone(),
                cursor: None,
                limit: Some(PROVIDER_PAGE_SIZE),
            };
            search_provider_organisations(&search)
                .await
                .map(|page| (q, page))
        }
    });
    let search_ref = NodeRef::<html::Input>::new();
    let navigate = use_navigate();
    let clear = Callback::new(move |()| {
        navigate(
            PROVIDER_PATH,
            NavigateOptions {
                scroll: false,
                ..NavigateOptions::default()
            },
        );
        // The clicked "Clear search" goes away; the keyboard continues in the search box.
        if let Some(input) = search_ref.get_untracked() {
            let _ = input.focus();
        }
    });
    view! {
        <p class="muted">
            "Every customer of the portal. Enable single sign-on for a customer, then link its Microsoft Entra ID tenant here or let its administrator connect it from their Single sign-on page. “View as” opens a customer's own pages."
        </p>
        <CustomerSearch q=q clear=clear input_ref=search_ref />
        // Outside the list, so it exists before its text changes and screen readers read
        // each new count.
        <p class="status-text provider-count" role="status" data-testid="customer-count">
            {move || {
                results
                    .get()
                    .and_then(Result::ok)
                    .map(|(q, page)| match_count_text(page.total, &q))
            }}
        </p>
        <Transition fallback=|| view! { <LoadingCard label="Loading customers" /> }>
            {move || Suspend::new(async move {
                match in_browser(results).await {
                    Ok((q, page)) if page.organisations.is_empty() && !q.is_empty() => {
                        view! {
                            <EmptyState
                                title=format!("No customer matches “{q}”.")
                                hint="Check the spelling, or search by slug or Microsoft Entra tenant ID. Clear the search to see every customer."
                                testid="customers-empty"
                            >
                                <button type="button" class="button secondary" on:click=move |_| clear.run(())>
                                    "Clear search"
                                </button>
                            </EmptyState>
                        }
                            .into_any()
                    }
                    Ok((_, page)) if page.organisations.is_empty() => {
                        view! {
                            <p class="empty-state card" data-testid="customers-empty">
                                "There are no customers yet. Create one with " <code>"portal org create"</code> "."
                            </p>
                        }
                            .into_any()
                    }
                    Ok((q, page)) => view! { <ProviderResults q=q page=page /> }.into_any(),
                    Err(error) => {
                        view! {
                            <LoadError
                                error=error
                                what="The customers"
                                return_to=PROVIDER_PATH
                                forbidden_message=PROVIDER_FORBIDDEN_MESSAGE
                                on_retry=Callback::new(move |()| results.refetch())
                            />
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The search box's element id.
const SEARCH_INPUT_ID: &str = "customer-search";

/// How long typing pauses before the list follows.
const SEARCH_DELAY: std::time::Duration = std::time::Duration::from_millis(250);

/// The search box: the list follows as one types (after a short pause); Enter searches at
/// once. Either way the search goes into the URL (`?q=`); typing replaces the history entry
/// rather than adding one per letter.
#[component]
fn CustomerSearch(
    q: Memo<String>,
    clear: Callback<()>,
    input_ref: NodeRef<html::Input>,
) -> impl IntoView {
    let text = RwSignal::new(q.get_untracked());
    // Back, forward or a link changed `?q=`: the box follows, unless it already says that.
    Effect::new(move |_| {
        let from_url = q.get();
        if search_text(&text.get_untracked()) != from_url {
            text.set(from_url);
        }
    });
    let navigate = use_navigate();
    let go = move |replace: bool| {
        let url = provider_page_url(&text.get_untracked());
        navigate(
            &url,
            NavigateOptions {
                replace,
                scroll: false,
                ..NavigateOptions::default()
            },
        );
    };
    // It reads the box when it fires, so a "Clear" in between is not undone.
    let mut search_soon = debounce(SEARCH_DELAY, {
        let go = go.clone();
        move |()| go(true)
    });
    let hint = hint_id(SEARCH_INPUT_ID);
    view! {
        <form
            class="card provider-search"
            role="search"
            method="get"
            action=PROVIDER_PATH
            on:submit=move |ev: SubmitEvent| {
                ev.prevent_default();
                go(false);
            }
        >
            <div class="field">
                <label class="field-label" for=SEARCH_INPUT_ID>"Search customers"</label>
                <p class="field-hint" id=hint.clone()>
                    "Part of a customer's name or slug, or a Microsoft Entra tenant ID. The list narrows as you type."
                </p>
                <div class="inline-form-row">
                    <input
                        id=SEARCH_INPUT_ID
                        name="q"
                        class="input"
                        type="search"
                        autocomplete="off"
                        autocapitalize="none"
                        spellcheck="false"
                        maxlength=PROVIDER_SEARCH_MAX_CHARS.to_string()
                        aria-describedby=hint
                        node_ref=input_ref
                        prop:value=move || text.get()
                        on:input=move |ev| {
                            text.set(event_target_value(&ev));
                            search_soon(());
                        }
                    />
                    <button type="submit" class="button">"Search"</button>
                    <Show when=move || !text.with(|t| t.trim().is_empty())>
                        <button
                            type="button"
                            class="button secondary"
                            on:click=move |_| {
                                text.set(String::new());
                                clear.run(());
                            }
                        >
                            "Clear search"
                        </button>
                    </Show>
                </div>
            </div>
        </form>
    }
}

/// The customers the search found: the table, "Load more" and a card per customer.
///
/// Each search's answer gets its own [`Console`], made and dropped with these results, so
/// nothing of the previous search (rows, a confirmation, a message) outlives it.
#[component]
fn ProviderResults(q: String, page: ProviderOrganisations) -> impl IntoView {
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

/// One customer: SSO on/off, its tenants, and the form to link one.
#[component]
fn CustomerCard(console: Console, org: ProviderOrganisation) -> impl IntoView {
    let ProviderOrganisation {
        slug,
        name,
        users,
        sso,
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
            <ProviderTenantsTable console=console slug=slug.clone() name=name.clone() tenants=sso.tenants />
            <LinkTenantForm console=console slug=slug.clone() name=name sso_enabled=enabled />
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
                linked_at,
                linked_by,
                disabled,
                pending_approval,
            } = tenant;
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
            let active = !disabled && !pending_approval;
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
                    <td data-label="Tenant ID"><span class="mono tenant-id">{tenant_id.clone()}</span></td>
                    <td data-label="Linked">
                        <time datetime=linked_at.clone()>{format_datetime_local(&linked_at)}</time>
                    </td>
                    <td data-label="Linked by">{linked_by_label(&linked_by)}</td>
                    <td data-label="Status">
                        <span class="badge" class:ok=active class:bad=disabled class:warn=pending_approval>
                            {tenant_state_label(disabled, pending_approval)}
                        </span>
                    </td>
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

/// The tenant id to link, checked before it is sent.
#[component]
fn LinkTenantForm(
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
                    <button
                        type="submit"
                        class="button"
                        aria-label=link_name
                        disabled=move || console.running.with(Option::is_some)
                        aria-busy=move || running_link().then_some("true")
                    >
                        "Link tenant"
                    </button>
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

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    fn set_sso(enabled: bool) -> ProviderAction {
        ProviderAction::SetSso {
            slug: "contoso".to_string(),
            name: "Contoso".to_string(),
            enabled,
        }
    }

    fn set_tenant(disabled: bool) -> ProviderAction {
        ProviderAction::SetTenantDisabled {
            slug: "contoso".to_string(),
            name: "Contoso".to_string(),
            tenant_id: TENANT.to_string(),
            disabled,
        }
    }

    fn unlink() -> ProviderAction {
        ProviderAction::Unlink {
            slug: "contoso".to_string(),
            name: "Contoso".to_string(),
            tenant_id: TENANT.to_string(),
        }
    }

    fn api_error(status: u16, code: &str) -> ApiError {
        ApiError::Api {
            status,
            code: code.to_string(),
            message: "The server's words.".to_string(),
            field: None,
            request_id: None,
        }
    }

    #[test]
    fn buttons_are_named_after_the_customer_and_tenant() {
        assert_eq!(set_sso(true).button_name(), "Enable SSO for Contoso");
        assert_eq!(set_sso(false).button_name(), "Disable SSO for Contoso");
        assert_eq!(
            set_tenant(true).button_name(),
            format!("Disable tenant {TENANT} for Contoso")
        );
        assert_eq!(
            set_tenant(false).button_name(),
            format!("Enable tenant {TENANT} for Contoso")
        );
        assert_eq!(
            unlink().button_name(),
            format!("Unlink tenant {TENANT} from Contoso")
        );
        // The accessible name starts with the visible label (WCAG 2.5.3).
        for action in [set_sso(true), set_sso(false), set_tenant(true), unlink()] {
            assert!(action.button_name().starts_with(action.button_label()));
        }
    }

    #[test]
    fn no_name_contains_another_so_playwright_finds_exactly_one() {
        let link = ProviderAction::Link {
            slug: "contoso".to_string(),
            name: "Contoso".to_string(),
            tenant_id: TENANT.to_string(),
        };
        let names: Vec<String> = [
            set_sso(true),
            set_sso(false),
            set_tenant(true),
            set_tenant(false),
            unlink(),
            link,
        ]
        .iter()
        .map(ProviderAction::button_name)
        .chain(
            [set_sso(false), unlink()]
                .iter()
                .filter_map(|a| a.confirmation().map(|c| c.1)),
        )
        .map(|n| n.to_lowercase())
        .collect();
        for (i, a) in names.iter().enumerate() {
            for (j, b) in names.iter().enumerate() {
                assert!(i == j || !a.contains(b.as_str()), "{a:?} contains {b:?}");
            }
        }
    }

    #[test]
    fn only_the_actions_that_end_sessions_ask_first() {
        assert!(set_sso(false).needs_confirmation());
        assert!(unlink().needs_confirmation());
        assert!(!set_sso(true).needs_confirmation());
        assert!(!set_tenant(true).needs_confirmation());
        assert!(set_sso(true).confirmation().is_none());
        let (text, name) = set_sso(false).confirmation().unwrap_or_default();
        assert!(text.contains("ends the SSO sessions"));
        assert_eq!(name, "Confirm disabling SSO for Contoso");
    }

    #[test]
    fn outcomes_say_what_changed() {
        assert_eq!(
            set_sso(true).done_notice(),
            "Single sign-on is now enabled for Contoso."
        );
        assert_eq!(
            unlink().done_notice(),
            format!("Tenant {TENANT} is no longer linked to Contoso.")
        );
        assert_eq!(
            set_sso(true).failure_message(&api_error(409, "conflict")),
            "Single sign-on could not be enabled for Contoso. The server's words."
        );
        assert_eq!(
            unlink().failure_message(&api_error(403, "forbidden")),
            PROVIDER_FORBIDDEN_MESSAGE
        );
    }

    #[test]
    fn every_action_belongs_to_its_customer() {
        for action in [set_sso(true), set_tenant(false), unlink()] {
            assert_eq!(action.slug(), "contoso");
        }
    }

    #[test]
    fn slugs_make_safe_element_ids() {
        assert_eq!(id_fragment("contoso-ltd"), "contoso-ltd");
        assert_eq!(id_fragment("Fabrikam Inc."), "fabrikam-inc-");
        assert_eq!(id_fragment("a\"b<c"), "a-b-c");
    }

    #[test]
    fn the_search_in_the_url_is_trimmed_and_bounded() {
        assert_eq!(search_text("  Contoso  "), "Contoso");
        assert_eq!(search_text(""), "");
        assert_eq!(search_text(" \t "), "");
        let long = "é".repeat(PROVIDER_SEARCH_MAX_CHARS + 10);
        assert_eq!(
            search_text(&long).chars().count(),
            PROVIDER_SEARCH_MAX_CHARS
        );
        // Cut at the limit, then no trailing space is left behind.
        let spaced = format!("{} x", "a".repeat(PROVIDER_SEARCH_MAX_CHARS - 1));
        assert_eq!(
            search_text(&spaced),
            "a".repeat(PROVIDER_SEARCH_MAX_CHARS - 1)
        );
    }

    #[test]
    fn the_page_url_keeps_the_search() {
        assert_eq!(provider_page_url(""), "/provider");
        assert_eq!(provider_page_url("   "), "/provider");
        assert_eq!(provider_page_url(" Contoso "), "/provider?q=Contoso");
        assert_eq!(
            provider_page_url("50% & co"),
            "/provider?q=50%25%20%26%20co"
        );
    }

    #[test]
    fn the_count_says_how_many_match() {
        assert_eq!(match_count_text(0, ""), "There are no customers yet.");
        assert_eq!(match_count_text(1, ""), "1 customer.");
        assert_eq!(match_count_text(12, ""), "12 customers.");
        assert_eq!(match_count_text(0, "zz"), "No customer matches “zz”.");
        assert_eq!(match_count_text(1, "con"), "1 customer matches “con”.");
        assert_eq!(match_count_text(3, "con"), "3 customers match “con”.");
    }

    #[test]
    fn view_as_opens_the_overview_for_that_customer() {
        assert_eq!(view_as_href("contoso"), "/?org=contoso");
        assert_eq!(view_as_href("a b&c"), "/?org=a%20b%26c");
    }

    #[test]
    fn a_customer_is_drawn_again_when_its_sso_changes() {
        let org = |enabled: bool, disabled: bool| ProviderOrganisation {
            id: "1".to_string(),
            slug: "contoso".to_string(),
            name: "Contoso".to_string(),
            users: 3,
            sso: SsoSettings {
                enabled,
                jit_provisioning: true,
                default_role: "viewer".to_string(),
                require_sso: false,
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

    #[test]
    fn user_counts_read_as_words() {
        assert_eq!(users_label(0), "0 users");
        assert_eq!(users_label(1), "1 user");
        assert_eq!(users_label(12), "12 users");
    }
}
