//! The console's actions and their state machine: what each button asks the API to do, what
//! it is called, whether it asks first, and the one action in flight at a time.

use leptos::prelude::*;

use crate::api::{
    sso::{
        approve_tenant, link_tenant, set_mfa_evidence, set_sso_enabled, set_tenant_disabled,
        unlink_tenant, ProviderOrganisation, SsoSettings,
    },
    ApiError,
};
use crate::components::load_error::is_forbidden;

use super::PROVIDER_FORBIDDEN_MESSAGE;

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
    /// Set what the customer's Microsoft sign-ins without multi-factor evidence get.
    SetMfaEvidence {
        /// The customer's slug.
        slug: String,
        /// The customer's name.
        name: String,
        /// `off`, `portal_factor` or `required`.
        policy: String,
        /// The authentication context (`c1` … `c99`), if any.
        auth_context: Option<String>,
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
            | ProviderAction::Approve { slug, .. }
            | ProviderAction::SetMfaEvidence { slug, .. } => slug,
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
            ProviderAction::SetMfaEvidence { .. } => "Save MFA policy",
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
            ProviderAction::SetMfaEvidence { name, .. } => format!("Save MFA policy for {name}"),
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
            ProviderAction::SetMfaEvidence { name, policy, .. } => format!(
                "{name}: Microsoft sign-ins without multi-factor evidence {}.",
                match policy.as_str() {
                    "portal_factor" => "now also need the portal authenticator code",
                    "required" => "are now refused",
                    _ => "are trusted as the tenant's own policy allows",
                }
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
            ProviderAction::SetMfaEvidence { name, .. } => {
                format!("The MFA policy of {name} could not be saved.")
            }
        };
        format!("{what} {error}")
    }
}

/// Sends `action` to the API.
pub(super) async fn perform(action: ProviderAction) -> Result<SsoSettings, ApiError> {
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
        ProviderAction::SetMfaEvidence {
            slug,
            policy,
            auth_context,
            ..
        } => set_mfa_evidence(slug, policy, auth_context).await,
    }
}

/// The last outcome, shown on its customer's card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OrgMessage {
    pub(super) slug: String,
    pub(super) text: String,
    pub(super) success: bool,
}

/// The console's shared state, handed to the table and each card.
#[derive(Clone, Copy)]
pub(super) struct Console {
    /// The customers on screen: the search's first page and any loaded after it.
    pub(super) rows: RwSignal<Vec<ProviderOrganisation>>,
    /// The action waiting for its confirmation.
    pub(super) pending: RwSignal<Option<ProviderAction>>,
    /// The action in flight (one at a time).
    pub(super) running: RwSignal<Option<ProviderAction>>,
    pub(super) message: RwSignal<Option<OrgMessage>>,
}

impl Console {
    /// A button was clicked: ask for confirmation first, or go ahead.
    pub(super) fn request(self, action: ProviderAction) {
        self.message.set(None);
        if action.needs_confirmation() {
            self.pending.set(Some(action));
        } else {
            self.run(action);
        }
    }

    /// Sends `action`, then shows the outcome and the customer's new state after a success.
    pub(super) fn run(self, action: ProviderAction) {
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
    pub(super) fn succeeded(self, action: &ProviderAction, settings: SsoSettings) {
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

    pub(super) fn failed(self, action: &ProviderAction, error: &ApiError) {
        self.message.set(Some(OrgMessage {
            slug: action.slug().to_string(),
            text: action.failure_message(error),
            success: false,
        }));
    }

    pub(super) fn is_pending(self, action: &ProviderAction) -> bool {
        self.pending.with(|p| p.as_ref() == Some(action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::error::testing::api_error;

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
}
