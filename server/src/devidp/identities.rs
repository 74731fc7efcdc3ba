//! Who can sign in at the emulator: the demo identities of the account picker (their tenants
//! match the demo data), accounts typed in under "Use another account", and which tenants a
//! `{tenant}` path segment admits.

use sha2::{Digest, Sha256};

/// Contoso's tenant ID: linked to a customer in the demo data.
pub const CONTOSO_TENANT: &str = "6f1c4a9e-3b52-4c1d-9a57-2e8f0b7d4c11";
/// Fabrikam's tenant ID: not linked in the demo data.
pub const FABRIKAM_TENANT: &str = "b3e9d0f4-8a61-4f2e-bc35-7d1a9c6e2f80";
/// The tenant ID of personal Microsoft accounts (Entra's real, fixed value).
pub const CONSUMER_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// A demo identity shown on the account picker.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Short stable name, the value the picker posts (e.g. "adele").
    pub key: &'static str,
    /// The identity's tenant ID (`tid`).
    pub tenant: &'static str,
    /// The identity's object ID (`oid`), fixed so demo data can refer to it.
    pub oid: &'static str,
    /// Display name (`name`).
    pub name: &'static str,
    /// Email address (`email` and `preferred_username`).
    pub email: &'static str,
    /// Whether the identity may grant admin consent for its tenant.
    pub admin: bool,
}

static DEMO_IDENTITIES: [Identity; 5] = [
    Identity {
        key: "adele",
        tenant: CONTOSO_TENANT,
        oid: "2c8f5a1e-7b3d-4e96-a0c4-5d1f9e8b7a62",
        name: "Adele Vance",
        email: "adele.vance@contoso.example",
        admin: true,
    },
    Identity {
        key: "megan",
        tenant: CONTOSO_TENANT,
        oid: "8e4b1d7a-3c5f-4a2e-9b60-1f7d2c9e4a85",
        name: "Megan Bowen",
        email: "megan.bowen@contoso.example",
        admin: false,
    },
    Identity {
        key: "lee",
        tenant: CONTOSO_TENANT,
        oid: "5a9c3e7f-1d2b-4f84-b6a1-9e0c7d3f5b28",
        name: "Lee Gu",
        email: "lee.gu@contoso.example",
        admin: false,
    },
    Identity {
        key: "alex",
        tenant: FABRIKAM_TENANT,
        oid: "d17e6b3a-9f4c-4e5d-8a2b-6c0f1e9d7b34",
        name: "Alex Wilber",
        email: "alex.wilber@fabrikam.example",
        admin: true,
    },
    // Personal accounts' oids start with zeros in Entra; this one does too.
    Identity {
        key: "personal",
        tenant: CONSUMER_TENANT,
        oid: "00000000-0000-0000-4a7c-2f91b3d6e058",
        name: "Sam Personal",
        email: "sam@outlook.example",
        admin: false,
    },
];

/// The demo identities, in the order the picker shows them.
pub fn demo_identities() -> &'static [Identity] {
    &DEMO_IDENTITIES
}

/// A human label for a tenant on the emulator's pages.
pub(super) fn tenant_label(tenant: &str) -> String {
    match tenant {
        CONTOSO_TENANT => "Contoso".to_owned(),
        FABRIKAM_TENANT => "Fabrikam".to_owned(),
        CONSUMER_TENANT => "Personal Microsoft accounts".to_owned(),
        other => format!("Tenant {other}"),
    }
}

/// The `{tenant}` segment of an endpoint path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TenantPath {
    /// `organizations`: work and school accounts of any tenant.
    Organizations,
    /// `common`: any account.
    Common,
    /// `consumers`: personal Microsoft accounts only.
    Consumers,
    /// One tenant, by its ID in lower case.
    Tenant(String),
}

impl TenantPath {
    /// Parses a path segment. Entra also accepts domain names; the emulator knows none, so
    /// anything but the three keywords and a hyphenated GUID is an unknown tenant.
    pub(super) fn parse(segment: &str) -> Option<TenantPath> {
        match segment {
            "organizations" => Some(TenantPath::Organizations),
            "common" => Some(TenantPath::Common),
            "consumers" => Some(TenantPath::Consumers),
            other => parse_tenant_id(other).map(TenantPath::Tenant),
        }
    }

    /// The segment as the emulator writes it in URLs.
    pub(super) fn segment(&self) -> &str {
        match self {
            TenantPath::Organizations => "organizations",
            TenantPath::Common => "common",
            TenantPath::Consumers => "consumers",
            TenantPath::Tenant(id) => id,
        }
    }

    /// What stands for the tenant in the discovery document's `issuer`: Entra publishes the
    /// `{tenantid}` template for the multi-tenant keywords and the real ID otherwise.
    pub(super) fn issuer_tenant(&self) -> &str {
        match self {
            TenantPath::Organizations | TenantPath::Common => "{tenantid}",
            TenantPath::Consumers => CONSUMER_TENANT,
            TenantPath::Tenant(id) => id,
        }
    }

    /// Whether an account of `tenant` may sign in through this path. `organizations` admits
    /// personal accounts too, unlike Entra: the demo keeps one picker for both keywords.
    pub(super) fn admits(&self, tenant: &str) -> bool {
        match self {
            TenantPath::Organizations | TenantPath::Common => true,
            TenantPath::Consumers => tenant == CONSUMER_TENANT,
            TenantPath::Tenant(id) => id == tenant,
        }
    }

    /// The one tenant this path stands for, if it stands for one.
    pub(super) fn single_tenant(&self) -> Option<&str> {
        match self {
            TenantPath::Organizations | TenantPath::Common => None,
            TenantPath::Consumers => Some(CONSUMER_TENANT),
            TenantPath::Tenant(id) => Some(id),
        }
    }
}

/// A tenant ID in its canonical form (lower-case, hyphenated), or `None` if `text` is not a
/// hyphenated GUID.
pub(super) fn parse_tenant_id(text: &str) -> Option<String> {
    // uuid also accepts the simple, braced and URN forms; Entra's tenant IDs are hyphenated.
    if text.len() != 36 {
        return None;
    }
    uuid::Uuid::parse_str(text)
        .ok()
        .map(|id| id.hyphenated().to_string())
}

/// The person an authorization code is issued for: a demo identity or one typed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Account {
    pub(super) tenant: String,
    pub(super) oid: String,
    pub(super) name: String,
    pub(super) email: String,
    /// For a B2B guest of `tenant`: the tenant the person really belongs to. Their tokens
    /// carry `tenant` as `tid` but name the home tenant in `idp`, with `acct` 1, like Entra's.
    pub(super) home_tenant: Option<String>,
}

impl From<&Identity> for Account {
    fn from(identity: &Identity) -> Self {
        Account {
            tenant: identity.tenant.to_owned(),
            oid: identity.oid.to_owned(),
            name: identity.name.to_owned(),
            email: identity.email.to_owned(),
            home_tenant: None,
        }
    }
}

impl Account {
    /// An account typed in under "Use another account". Its oid is derived from tenant and
    /// email, so signing in again with the same details is the same user. A `guest_of` tenant
    /// (empty for none) makes it a B2B guest of `tenant` from that home tenant.
    pub(super) fn other(
        tenant: &str,
        name: &str,
        email: &str,
        guest_of: &str,
    ) -> Result<Account, String> {
        let tenant = parse_tenant_id(tenant.trim()).ok_or_else(|| {
            "Enter the tenant ID as a GUID, for example 6f1c4a9e-3b52-4c1d-9a57-2e8f0b7d4c11."
                .to_owned()
        })?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err("Enter a name of 1 to 100 characters.".to_owned());
        }
        let email = email.trim();
        let well_formed = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
        if !well_formed {
            return Err("Enter an email address such as someone@example.com.".to_owned());
        }
        let home_tenant = match guest_of.trim() {
            "" => None,
            home => {
                let home = parse_tenant_id(home).ok_or_else(|| {
                    "Enter the guest's home tenant ID as a GUID, or leave it empty.".to_owned()
                })?;
                if home == tenant {
                    return Err(
                        "A guest's home tenant is another tenant than the one signed in to."
                            .to_owned(),
                    );
                }
                Some(home)
            }
        };
        Ok(Account {
            oid: derived_oid(&tenant, email),
            tenant,
            name: name.to_owned(),
            email: email.to_owned(),
            home_tenant,
        })
    }
}

/// A stable object ID for a typed-in account: a UUID made of the first 16 bytes of
/// SHA-256(tenant + lower-cased email).
pub(super) fn derived_oid(tenant: &str, email: &str) -> String {
    let digest = Sha256::new()
        .chain_update(tenant.as_bytes())
        .chain_update(email.to_lowercase().as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_segments_parse_like_entra() {
        assert_eq!(
            TenantPath::parse("organizations"),
            Some(TenantPath::Organizations)
        );
        assert_eq!(
            TenantPath::parse("6F1C4A9E-3B52-4C1D-9A57-2E8F0B7D4C11"),
            Some(TenantPath::Tenant(CONTOSO_TENANT.to_owned()))
        );
        assert_eq!(TenantPath::parse("contoso.onmicrosoft.com"), None);
        assert_eq!(TenantPath::parse("6f1c4a9e3b524c1d9a572e8f0b7d4c11"), None);
        assert_eq!(
            TenantPath::Organizations.issuer_tenant(),
            "{tenantid}",
            "the multi-tenant issuer is a template"
        );
    }

    #[test]
    fn typed_in_accounts_get_a_stable_oid() {
        let a = Account::other(FABRIKAM_TENANT, "Pat", "Pat@Fabrikam.example", "").unwrap();
        let b = Account::other(FABRIKAM_TENANT, "Pat", "pat@fabrikam.example", "").unwrap();
        assert_eq!(a.oid, b.oid);
        assert!(uuid::Uuid::parse_str(&a.oid).is_ok());
        let c = Account::other(CONTOSO_TENANT, "Pat", "pat@fabrikam.example", "").unwrap();
        assert_ne!(a.oid, c.oid);
        assert!(Account::other("nope", "Pat", "pat@x.example", "").is_err());
        assert!(Account::other(CONTOSO_TENANT, " ", "pat@x.example", "").is_err());
        assert!(Account::other(CONTOSO_TENANT, "Pat", "no-at-sign", "").is_err());
        let guest = Account::other(
            CONTOSO_TENANT,
            "Pat",
            "pat@fabrikam.example",
            FABRIKAM_TENANT,
        )
        .unwrap();
        assert_eq!(guest.tenant, CONTOSO_TENANT);
        assert_eq!(guest.home_tenant.as_deref(), Some(FABRIKAM_TENANT));
        assert!(Account::other(CONTOSO_TENANT, "Pat", "p@x.example", CONTOSO_TENANT).is_err());
        assert!(Account::other(CONTOSO_TENANT, "Pat", "p@x.example", "nope").is_err());
    }

    #[test]
    fn demo_identities_have_guid_oids_and_unique_keys() {
        for (i, identity) in demo_identities().iter().enumerate() {
            assert_eq!(parse_tenant_id(identity.oid).as_deref(), Some(identity.oid));
            assert_eq!(
                parse_tenant_id(identity.tenant).as_deref(),
                Some(identity.tenant)
            );
            assert!(demo_identities()[..i].iter().all(|o| o.key != identity.key));
        }
    }
}
