//! `/sso`: the customer's single sign-on with Microsoft Entra ID, for organisation admins.
//!
//! It shows whether the carrier has enabled SSO, the connected tenants, a "Connect Microsoft
//! Entra ID" link that starts the admin-consent flow (`/auth/microsoft/consent`) and the
//! settings (just-in-time provisioning, default role, require SSO). The consent flow comes
//! back here with `?linked=TENANT` or `?error=CODE`.
//!
//! Other users see why they cannot use the page instead; the page asks the API only when
//! `/me` says the user is an organisation admin, and still explains a 403 `forbidden` answer.
//! The tenant-id helpers here are shared with the provider console.

use leptos::{ev::SubmitEvent, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::org::selected_org;
use crate::api::{
    sso::{
        self as sso_api, flow_error_message, update_settings, LinkedTenant, SsoSettings,
        SsoSettingsUpdate, MICROSOFT_CONSENT_PATH,
    },
    ApiError,
};
pub use crate::components::load_error::is_forbidden;
use crate::components::{
    access::{page_access, AccessProblem, PageAccess},
    browser::in_browser,
    form::{hint_id, FormAlert, NeedsJavaScript, SubmitButton},
    layout::is_organisation_admin,
    load_error::LoadError,
    user_menu::{use_current_user, MeState},
};
use crate::format::format_datetime_local;
use crate::pages::provider::provider_page_url;

/// This page's path.
pub const SSO_PATH: &str = "/sso";

/// What a user who is not an organisation admin sees.
pub const SSO_FORBIDDEN_MESSAGE: &str = "Only an administrator of your organisation can change single sign-on. Ask one of your organisation's portal administrators.";

/// What the page says for an unknown `?error=CODE` (the code itself is never shown).
pub const GENERAL_FLOW_ERROR: &str = "Connecting Microsoft Entra ID did not work. Try again; if it keeps happening, contact the carrier's support.";

/// The message after saving the settings.
pub const SETTINGS_SAVED: &str = "Single sign-on settings saved.";

/// The roles a just-in-time provisioned user may get: API value and label.
pub const ROLES: [(&str, &str); 3] = [
    ("admin", "Administrator"),
    ("engineer", "Engineer"),
    ("viewer", "Viewer"),
];

/// Why a tenant id was refused before it was sent.
pub const TENANT_ID_HINT: &str =
    "Enter the tenant ID as a GUID, like 72f988bf-86f1-41af-91ab-2d7cd011db47.";

/// A tenant id as the API wants it (a GUID in lower case) if `raw` is one; surrounding spaces
/// and braces (`{…}`, as some admin tools show it) are dropped.
pub fn normalize_tenant_id(raw: &str) -> Result<String, &'static str> {
    let trimmed = raw.trim();
    let inner = trimmed
        .strip_prefix('{')
        .and_then(|rest| rest.strip_suffix('}'))
        .unwrap_or(trimmed);
    let well_formed = inner.len() == 36
        && inner.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    if well_formed {
        Ok(inner.to_ascii_lowercase())
    } else {
        Err(TENANT_ID_HINT)
    }
}

/// "Waiting for approval", "Disabled" or "Active".
pub fn tenant_state_label(disabled: bool, pending_approval: bool) -> &'static str {
    if pending_approval {
        "Waiting for approval"
    } else if disabled {
        "Disabled"
    } else {
        "Active"
    }
}

/// Who linked a tenant, in words: an email, or the carrier for the command line (`cli`).
pub fn linked_by_label(linked_by: &str) -> String {
    match linked_by {
        "cli" => "The carrier".to_string(),
        "" => "Unknown".to_string(),
        other => other.to_string(),
    }
}

/// `role` when it is one of [`ROLES`], else `viewer` (the least access), so the form never
/// shows, and saves, a role nobody chose.
pub fn known_role(role: &str) -> String {
    if ROLES.iter().any(|(value, _)| *value == role) {
        role.to_string()
    } else {
        "viewer".to_string()
    }
}

/// The connect button's label: the first tenant, or another one.
pub fn connect_label(linked_tenants: usize) -> &'static str {
    if linked_tenants == 0 {
        "Connect Microsoft Entra ID"
    } else {
        "Connect another tenant"
    }
}

/// The message for an `?error=CODE` of a single sign-on flow: [`flow_error_message`], or
/// [`GENERAL_FLOW_ERROR`] for an unknown code.
pub fn flow_error_text(code: &str) -> &'static str {
    flow_error_message(code).unwrap_or(GENERAL_FLOW_ERROR)
}

/// How a browser flow that came back to a page ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowOutcome {
    /// It worked; the message says what changed.
    Success(String),
    /// It was refused; the message says why and whom to ask.
    Failure(&'static str),
}

/// The success message of `?linked=TENANT[&pending=1]`. The tenant is echoed only when it is
/// a GUID: the value comes from a URL anyone can craft.
pub fn linked_notice(tenant: &str, pending_approval: bool) -> String {
    let what = match normalize_tenant_id(tenant) {
        Ok(tenant) => format!("Tenant {tenant} is now connected."),
        Err(_) => "The tenant is now connected.".to_string(),
    };
    if pending_approval {
        format!("{what} The carrier approves new connections: its users can sign in with Microsoft once your account manager has approved it.")
    } else {
        format!("{what} Its users can sign in with Microsoft.")
    }
}

/// What the consent flow's return (`?linked=`, `&pending=1` or `?error=`) says; an error wins.
pub fn consent_outcome(
    linked: Option<&str>,
    pending: Option<&str>,
    error: Option<&str>,
) -> Option<FlowOutcome> {
    match (linked, error) {
        (_, Some(code)) => Some(FlowOutcome::Failure(flow_error_text(code))),
        (Some(tenant), None) => Some(FlowOutcome::Success(linked_notice(
            tenant,
            pending == Some("1"),
        ))),
        (None, None) => None,
    }
}

/// The message for a failed save.
pub fn settings_error_message(error: &ApiError) -> String {
    if is_forbidden(error) {
        SSO_FORBIDDEN_MESSAGE.to_string()
    } else {
        format!("The settings were not saved. {error}")
    }
}

/// The customer's Single sign-on page.
#[component]
pub fn SsoPage() -> impl IntoView {
    let query = use_query_map();
    let outcome = Memo::new(move |_| {
        query.with(|q| {
            consent_outcome(
                q.get("linked").as_deref(),
                q.get("pending").as_deref(),
                q.get("error").as_deref(),
            )
        })
    });
    let me = use_current_user().me;

    view! {
        <Title text="Single sign-on" />
        <section class="page sso-page">
            <h1>"Single sign-on"</h1>
            <NeedsJavaScript />
            {move || outcome.get().map(|outcome| view! { <FlowOutcomeAlert outcome=outcome /> })}
            <Transition fallback=|| view! { <LoadingCard label="Loading single sign-on" /> }>
                {move || Suspend::new(async move {
                    let state = in_browser(me).await;
                    if matches!(&state, MeState::SignedIn(me) if me.user.staff) {
                        return view! { <StaffUseTheConsole /> }.into_any();
                    }
                    match page_access(&state, is_organisation_admin) {
                        PageAccess::Allowed => view! {
                            <SsoSettingsLoader />
                            <crate::pages::sign_in_policy::SignInPolicyCard />
                        }
                        .into_any(),
                        access => {
                            view! {
                                <AccessProblem
                                    access=access
                                    forbidden_message=SSO_FORBIDDEN_MESSAGE
                                    return_to=SSO_PATH
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

/// What carrier staff read here: this page is the customer administrator's; staff turn a
/// customer's single sign-on on and off and manage its tenants in the provider console, which
/// opens on the customer they are viewing.
#[component]
fn StaffUseTheConsole() -> impl IntoView {
    let href = provider_page_url(&selected_org().unwrap_or_default());
    view! {
        <div class="alert warn cta" data-testid="sso-staff">
            <p>
                "This page is for the customer's own administrators. As carrier staff you turn a customer's single sign-on on or off and link, disable or unlink its Microsoft Entra tenants in the provider console."
            </p>
            <a class="button" href=href>"Open the provider console"</a>
        </div>
    }
}

/// The outcome of a browser flow: a success (`role="status"`) or a refusal (`role="alert"`).
#[component]
pub fn FlowOutcomeAlert(
    /// What happened.
    outcome: FlowOutcome,
) -> impl IntoView {
    match outcome {
        FlowOutcome::Success(message) => view! {
            <div class="alert ok flow-outcome" role="status" data-testid="flow-success">
                <p>{message}</p>
            </div>
        }
        .into_any(),
        FlowOutcome::Failure(message) => view! {
            <div class="alert error flow-outcome" role="alert" data-testid="flow-error">
                <p>{message}</p>
            </div>
        }
        .into_any(),
    }
}

/// A placeholder card while something loads.
#[component]
pub fn LoadingCard(
    /// What is loading, for screen readers.
    label: &'static str,
) -> impl IntoView {
    view! { <div class="skeleton" aria-busy="true" aria-label=label></div> }
}

/// Loads `GET /api/v1/organisation/sso` and shows it, or why it cannot.
#[component]
fn SsoSettingsLoader() -> impl IntoView {
    let settings = LocalResource::new(sso_api::settings);
    view! {
        <Transition fallback=|| view! { <LoadingCard label="Loading single sign-on" /> }>
            {move || Suspend::new(async move {
                match in_browser(settings).await {
                    Ok(settings) => view! { <SsoOverview settings=settings /> }.into_any(),
                    Err(error) => {
                        view! {
                            <LoadError
                                error=error
                                what="Single sign-on settings"
                                return_to=SSO_PATH
                                forbidden_message=SSO_FORBIDDEN_MESSAGE
                                on_retry=Callback::new(move |()| settings.refetch())
                            />
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// Status and connect step, connected tenants, settings.
#[component]
fn SsoOverview(settings: SsoSettings) -> impl IntoView {
    let enabled = settings.enabled;
    let tenant_count = settings.tenants.len();
    let status = if enabled {
        view! {
            <p class="status-line">
                <span class="badge ok">"Enabled"</span>
                "The carrier has enabled single sign-on with Microsoft Entra ID for your organisation."
            </p>
            <p>
                "Connecting sends you to Microsoft, where a Global Administrator of your organisation's Microsoft Entra ID tenant grants the portal consent. Microsoft then sends you back and asks you to sign in once more, which proves that the tenant is yours; the tenant is then connected and its users can sign in with Microsoft."
            </p>
            <div class="actions">
                <a class="button" href=MICROSOFT_CONSENT_PATH rel="external">
                    {connect_label(tenant_count)}
                </a>
            </div>
        }
        .into_any()
    } else {
        view! {
            <p class="status-line">
                <span class="badge">"Not enabled"</span>
                "Single sign-on is not enabled for your organisation."
            </p>
            <div class="alert warn">
                <p>
                    "The carrier must enable single sign-on with Microsoft Entra ID for your organisation first. Contact your account manager at the carrier to ask for it; you can then connect your organisation's tenant here."
                </p>
            </div>
        }
        .into_any()
    };

    view! {
        <section
            class="card sso-section"
            aria-labelledby="sso-status-title"
            data-testid="sso-status"
            data-enabled=if enabled { "true" } else { "false" }
        >
            <header class="card-header">
                <h2 id="sso-status-title">"Microsoft Entra ID"</h2>
            </header>
            {status}
        </section>
        <section class="card sso-section" aria-labelledby="sso-tenants-title">
            <header class="card-header">
                <h2 id="sso-tenants-title">"Connected tenants"</h2>
            </header>
            <TenantsTable tenants=settings.tenants.clone() />
        </section>
        {enabled.then(|| view! { <SettingsForm settings=settings /> })}
    }
}

/// A linked tenant's id, when and by whom it was linked, and its state: the cells that start
/// a tenant's row here and in the provider console.
#[component]
pub fn TenantCells(tenant: LinkedTenant) -> impl IntoView {
    let LinkedTenant {
        tenant_id,
        linked_at,
        linked_by,
        disabled,
        pending_approval,
    } = tenant;
    let active = !disabled && !pending_approval;
    view! {
        <td data-label="Tenant ID"><span class="mono tenant-id">{tenant_id}</span></td>
        <td data-label="Linked">
            <time datetime=linked_at.clone()>{format_datetime_local(&linked_at)}</time>
        </td>
        <td data-label="Linked by">{linked_by_label(&linked_by)}</td>
        <td data-label="Status">
            <span class="badge" class:ok=active class:bad=disabled class:warn=pending_approval>
                {tenant_state_label(disabled, pending_approval)}
            </span>
        </td>
    }
}

/// The connected tenants, read-only.
#[component]
fn TenantsTable(tenants: Vec<LinkedTenant>) -> impl IntoView {
    if tenants.is_empty() {
        return view! {
            <p class="empty-state" data-testid="tenants-empty">
                "No Microsoft Entra ID tenant is connected yet."
            </p>
        }
        .into_any();
    }
    let rows = tenants
        .into_iter()
        .map(|tenant| {
            let tenant_id = tenant.tenant_id.clone();
            view! {
                <tr data-tenant-id=tenant_id>
                    <TenantCells tenant=tenant />
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="data-table stacked-table" data-testid="sso-tenants">
                <caption class="visually-hidden">"Connected Microsoft Entra ID tenants"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Tenant ID"</th>
                        <th scope="col">"Linked"</th>
                        <th scope="col">"Linked by"</th>
                        <th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The multi-factor evidence policies, as the settings form names them.
pub const MFA_EVIDENCE: [(&str, &str); 3] = [
    ("off", "Trust your Entra ID's own policy"),
    (
        "portal_factor",
        "Also ask for the portal authenticator code",
    ),
    ("required", "Refuse the sign-in"),
];

/// `value` when it is one of [`MFA_EVIDENCE`], else `off` (a newer server's policy shows as
/// the safe default rather than as nothing selected).
pub fn known_mfa_evidence(value: &str) -> String {
    MFA_EVIDENCE
        .iter()
        .find(|(v, _)| *v == value)
        .map_or("off", |(v, _)| v)
        .to_string()
}

/// Just-in-time provisioning, default role, require SSO, multi-factor evidence.
#[component]
fn SettingsForm(settings: SsoSettings) -> impl IntoView {
    let jit = RwSignal::new(settings.jit_provisioning);
    let role = RwSignal::new(known_role(&settings.default_role));
    let require = RwSignal::new(settings.require_sso);
    let evidence = RwSignal::new(known_mfa_evidence(&settings.mfa_evidence));
    let context = RwSignal::new(settings.auth_context.clone().unwrap_or_default());
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(None::<String>);
    let (notice, set_notice) = signal(None::<&'static str>);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        set_error.set(None);
        set_notice.set(None);
        let update = SsoSettingsUpdate {
            jit_provisioning: jit.get_untracked(),
            default_role: role.get_untracked(),
            require_sso: require.get_untracked(),
            mfa_evidence: Some(evidence.get_untracked()),
            auth_context: Some(context.get_untracked()).filter(|c| !c.trim().is_empty()),
        };
        leptos::task::spawn_local(async move {
            match update_settings(update).await {
                Ok(saved) => {
                    jit.set(saved.jit_provisioning);
                    role.set(known_role(&saved.default_role));
                    require.set(saved.require_sso);
                    evidence.set(known_mfa_evidence(&saved.mfa_evidence));
                    context.set(saved.auth_context.unwrap_or_default());
                    set_notice.set(Some(SETTINGS_SAVED));
                }
                Err(e) => set_error.set(Some(settings_error_message(&e))),
            }
            set_busy.set(false);
        });
    };

    let options = ROLES
        .iter()
        .map(|(value, label)| {
            let value = *value;
            view! {
                <option value=value selected=move || role.with(|r| r == value)>
                    {*label}
                </option>
            }
        })
        .collect_view();
    let evidence_options = MFA_EVIDENCE
        .iter()
        .map(|(value, label)| {
            let value = *value;
            view! {
                <option value=value selected=move || evidence.with(|e| e == value)>
                    {*label}
                </option>
            }
        })
        .collect_view();

    view! {
        <section class="card sso-section" aria-labelledby="sso-settings-title">
            <header class="card-header">
                <h2 id="sso-settings-title">"Settings"</h2>
            </header>
            <form class="form" method="post" on:submit=submit aria-busy=move || busy.get().then_some("true")>
                <div class="check-field">
                    <input
                        id="sso-jit"
                        name="jit_provisioning"
                        type="checkbox"
                        aria-describedby=hint_id("sso-jit")
                        bind:checked=jit
                    />
                    <div>
                        <label for="sso-jit">"Create accounts on first sign-in (just-in-time provisioning)"</label>
                        <p class="field-hint" id=hint_id("sso-jit")>
                            "People of a connected tenant who have no portal account get one the first time they sign in with Microsoft, with the default role below. When this is off, only people you invite can sign in."
                        </p>
                    </div>
                </div>
                <div class="field">
                    <label class="field-label" for="sso-default-role">"Default role"</label>
                    <p class="field-hint" id=hint_id("sso-default-role")>
                        "The role of accounts created at a first sign-in. You can change a person's role later."
                    </p>
                    <select
                        id="sso-default-role"
                        name="default_role"
                        class="input select"
                        aria-describedby=hint_id("sso-default-role")
                        on:change=move |ev| role.set(event_target_value(&ev))
                    >
                        {options}
                    </select>
                </div>
                <div class="check-field">
                    <input
                        id="sso-require"
                        name="require_sso"
                        type="checkbox"
                        aria-describedby=hint_id("sso-require")
                        bind:checked=require
                    />
                    <div>
                        <label for="sso-require">"Require single sign-on"</label>
                        <p class="field-hint" id=hint_id("sso-require")>
                            "Your organisation's users can then sign in only with Microsoft: users without a Microsoft identity can no longer sign in. Carrier staff and the carrier's own accounts are not affected."
                        </p>
                    </div>
                </div>
                <div class="field">
                    <label class="field-label" for="sso-mfa-evidence">"When Microsoft shows no second factor"</label>
                    <p class="field-hint" id=hint_id("sso-mfa-evidence")>
                        "The portal checks each Microsoft sign-in for proof of multi-factor authentication: the authentication context below, or Microsoft's own mark of it. Choose what it does when a sign-in shows none."
                    </p>
                    <select
                        id="sso-mfa-evidence"
                        name="mfa_evidence"
                        class="input select wide"
                        aria-describedby=hint_id("sso-mfa-evidence")
                        on:change=move |ev| evidence.set(event_target_value(&ev))
                    >
                        {evidence_options}
                    </select>
                </div>
                <div class="field">
                    <label class="field-label" for="sso-auth-context">"Authentication context (optional)"</label>
                    <p class="field-hint" id=hint_id("sso-auth-context")>
                        "The id of a Conditional Access authentication context in your Entra ID, such as c1, with a policy that requires multi-factor authentication. The portal asks Microsoft for it when a sign-in shows no second factor. Leave it empty if you have none."
                    </p>
                    <input
                        id="sso-auth-context"
                        name="auth_context"
                        type="text"
                        class="input narrow"
                        maxlength="3"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder="c1"
                        aria-describedby=hint_id("sso-auth-context")
                        bind:value=context
                    />
                </div>
                <FormAlert message=error />
                <div role="status" class="status-region">
                    {move || notice.get().map(|text| view! { <p class="alert ok">{text}</p> })}
                </div>
                <div class="actions">
                    <SubmitButton label="Save settings" busy_label="Saving…" busy=busy />
                </div>
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::auth::{MeResponse, MeUser};
    use crate::api::error::testing::api_error;

    fn me(role: Option<&str>, staff: bool) -> MeResponse {
        MeResponse {
            user: MeUser {
                id: "u1".to_string(),
                email: "ana@example.com".to_string(),
                name: "Ana".to_string(),
                role: role.map(str::to_string),
                staff,
                mfa_enabled: false,
                has_password: true,
                auth_method: "entra".to_string(),
                email_codes: false,
                mfa_methods_allowed: Vec::new(),
            },
            organisation: None,
        }
    }

    #[test]
    fn tenant_ids_are_guids_in_lower_case() {
        assert_eq!(
            normalize_tenant_id("72F988BF-86F1-41AF-91AB-2D7CD011DB47"),
            Ok("72f988bf-86f1-41af-91ab-2d7cd011db47".to_string())
        );
        assert_eq!(
            normalize_tenant_id("  {72f988bf-86f1-41af-91ab-2d7cd011db47} "),
            Ok("72f988bf-86f1-41af-91ab-2d7cd011db47".to_string())
        );
    }

    #[test]
    fn other_tenant_ids_are_refused() {
        for raw in [
            "",
            "contoso.onmicrosoft.com",
            "organizations",
            "common",
            "72f988bf86f141af91ab2d7cd011db47",
            "72f988bf-86f1-41af-91ab-2d7cd011db4",
            "72f988bf-86f1-41af-91ab-2d7cd011db477",
            "72f988bf-86f1-41af-91ab_2d7cd011db47",
            "g2f988bf-86f1-41af-91ab-2d7cd011db47",
            "{72f988bf-86f1-41af-91ab-2d7cd011db47",
            "72f988bf-86f1-41af-91ab-2d7cd011db47/../x",
            "７2f988bf-86f1-41af-91ab-2d7cd011db47",
        ] {
            assert_eq!(normalize_tenant_id(raw), Err(TENANT_ID_HINT), "{raw:?}");
        }
    }

    #[test]
    fn the_connect_button_names_the_next_step() {
        assert_eq!(connect_label(0), "Connect Microsoft Entra ID");
        assert_eq!(connect_label(1), "Connect another tenant");
    }

    #[test]
    fn tenants_read_as_words() {
        assert_eq!(tenant_state_label(false, false), "Active");
        assert_eq!(tenant_state_label(true, false), "Disabled");
        assert_eq!(tenant_state_label(false, true), "Waiting for approval");
        assert_eq!(linked_by_label("cli"), "The carrier");
        assert_eq!(linked_by_label("ana@example.com"), "ana@example.com");
        assert_eq!(known_role("engineer"), "engineer");
        assert_eq!(known_role("owner"), "viewer");
    }

    #[test]
    fn a_linked_tenant_is_announced_and_only_guids_are_echoed() {
        assert_eq!(
            consent_outcome(Some("72f988bf-86f1-41af-91ab-2d7cd011db47"), None, None),
            Some(FlowOutcome::Success(
                "Tenant 72f988bf-86f1-41af-91ab-2d7cd011db47 is now connected. Its users can sign in with Microsoft."
                    .to_string()
            ))
        );
        let Some(FlowOutcome::Success(waiting)) = consent_outcome(
            Some("72f988bf-86f1-41af-91ab-2d7cd011db47"),
            Some("1"),
            None,
        ) else {
            panic!("a success");
        };
        assert!(
            waiting.contains("once your account manager has approved it"),
            "{waiting}"
        );
        let Some(FlowOutcome::Success(message)) =
            consent_outcome(Some("Call +44 20 7946 0000 to verify"), None, None)
        else {
            panic!("a success");
        };
        assert!(message.starts_with("The tenant is now connected"));
        assert!(!message.contains("7946"));
    }

    #[test]
    fn a_refused_consent_says_why_and_an_error_wins() {
        assert_eq!(
            consent_outcome(None, None, Some("tenant_taken")),
            flow_error_message("tenant_taken").map(FlowOutcome::Failure)
        );
        assert_eq!(
            consent_outcome(Some("x"), None, Some("<script>")),
            Some(FlowOutcome::Failure(GENERAL_FLOW_ERROR))
        );
        assert_eq!(consent_outcome(None, None, None), None);
    }

    #[test]
    fn only_a_forbidden_answer_is_a_permission_problem() {
        assert!(is_forbidden(&api_error(403, "forbidden")));
        assert!(!is_forbidden(&api_error(403, "csrf")));
        assert!(!is_forbidden(&api_error(401, "unauthenticated")));
        assert_eq!(
            settings_error_message(&api_error(403, "forbidden")),
            SSO_FORBIDDEN_MESSAGE
        );
        assert_eq!(
            settings_error_message(&api_error(422, "invalid_role")),
            "The settings were not saved. The server's words."
        );
    }

    #[test]
    fn only_organisation_admins_may_use_the_page() {
        let access = |me: MeResponse| page_access(&MeState::SignedIn(me), is_organisation_admin);
        assert_eq!(access(me(Some("admin"), false)), PageAccess::Allowed);
        assert_eq!(access(me(Some("engineer"), false)), PageAccess::Forbidden);
        assert_eq!(access(me(None, true)), PageAccess::Forbidden);
        let signed_out = api_error(401, "unauthenticated");
        assert_eq!(
            page_access(
                &MeState::SignedOut(signed_out.clone()),
                is_organisation_admin
            ),
            PageAccess::SignedOut(signed_out)
        );
        assert_eq!(
            page_access(&MeState::NotRequested, is_organisation_admin),
            PageAccess::Unknown
        );
    }
}
