//! Single sign-on administration: turning SSO on for a customer, linking, disabling and
//! unlinking Entra tenants, and the customer's own SSO settings. Shared by the CLI, the
//! provider console API and the consent flow, so every path applies the same rules and
//! writes the same audit entries.
//!
//! Ending sessions: turning SSO off, and disabling or unlinking a tenant, delete the affected
//! sessions in the same transaction. A running portal also drops its 2-second session cache
//! when it makes the change itself (the caller does that: see `http::provider`).

pub mod identity;

use serde_json::json;

use crate::{
    accounts::Actor,
    auth::entra::id_token::{is_guid, CONSUMER_TENANT},
    db::{self, audit::NewAuditEntry, orgs::Organisation, sso::Tenant, Db},
};

/// Why an SSO administration step was refused.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// No such organisation.
    #[error("there is no organisation with the slug {0:?}")]
    UnknownOrg(String),
    /// Not a tenant GUID, or one that can never be a customer's.
    #[error("{0:?} is not a Microsoft Entra organisation tenant id: use the tenant's GUID, like 72f988bf-86f1-41af-91ab-2d7cd011db47 (not common, organizations, consumers or the personal-accounts tenant)")]
    InvalidTenant(String),
    /// SSO is off for the organisation.
    #[error("single sign-on is not enabled for {0}; enable it first (`portal org sso enable --org {0}`)")]
    SsoDisabled(String),
    /// The tenant belongs to another customer.
    #[error("the tenant {0} is already linked to another customer")]
    TenantTaken(String),
    /// The tenant is not linked to this organisation.
    #[error("the tenant {tenant} is not linked to {org}")]
    NotLinked {
        /// Tenant id.
        tenant: String,
        /// Organisation slug.
        org: String,
    },
    /// A role name that does not exist.
    #[error("{0:?} is not a role: use admin, engineer or viewer")]
    InvalidRole(String),
    /// Not one of the multi-factor evidence policies.
    #[error("{0:?} is not a multi-factor evidence policy: use off, portal_factor or required")]
    InvalidMfaEvidence(String),
    /// Not a Conditional Access authentication context id.
    #[error("{0:?} is not an authentication context id: Entra names them c1 to c99")]
    InvalidAuthContext(String),
    /// Anything the caller cannot fix.
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for SsoError {
    fn from(e: sqlx::Error) -> Self {
        SsoError::Internal(e.into())
    }
}

impl SsoError {
    /// The stable code the API and the flows use.
    pub fn code(&self) -> &'static str {
        match self {
            SsoError::UnknownOrg(_) => "not_found",
            SsoError::InvalidTenant(_) => "invalid_tenant",
            SsoError::SsoDisabled(_) => "sso_disabled",
            SsoError::TenantTaken(_) => "tenant_taken",
            SsoError::NotLinked { .. } => "not_found",
            SsoError::InvalidRole(_) => "invalid_role",
            SsoError::InvalidMfaEvidence(_) => "invalid_mfa_evidence",
            SsoError::InvalidAuthContext(_) => "invalid_auth_context",
            SsoError::Internal(_) => "internal",
        }
    }
}

/// Checks and lower-cases a tenant id: a GUID, and not the consumer tenant.
pub fn normalize_tenant_id(raw: &str) -> Result<String, SsoError> {
    let t = raw.trim().to_ascii_lowercase();
    if !is_guid(&t) || t == CONSUMER_TENANT {
        return Err(SsoError::InvalidTenant(raw.trim().to_string()));
    }
    Ok(t)
}

async fn org_by_slug(db: &Db, slug: &str) -> Result<Organisation, SsoError> {
    db::orgs::find_by_slug(db.pool(), slug)
        .await?
        .ok_or_else(|| SsoError::UnknownOrg(slug.to_string()))
}

fn entry<'a>(
    actor: Actor<'a>,
    org: &'a Organisation,
    action: &'a str,
    target: Option<&'a str>,
    details: serde_json::Value,
) -> NewAuditEntry<'a> {
    NewAuditEntry {
        actor_user_id: actor.user_id,
        actor_label: actor.label,
        org_id: Some(&org.id),
        action,
        target,
        details,
        ..Default::default()
    }
}

/// Turns SSO on or off for the organisation `slug`; off ends its SSO sessions. Returns the
/// number of sessions ended.
pub async fn set_enabled(
    db: &Db,
    actor: Actor<'_>,
    slug: &str,
    enabled: bool,
) -> Result<u64, SsoError> {
    let org = org_by_slug(db, slug).await?;
    let mut tx = db.begin_write().await?;
    db::orgs::set_sso_enabled(&mut *tx, &org.id, enabled).await?;
    let ended = if enabled {
        0
    } else {
        db::sessions::delete_sso_for_org(&mut *tx, &org.id).await?
    };
    db::audit::insert(
        &mut *tx,
        crate::clock::system_now_ms(),
        &entry(
            actor,
            &org,
            if enabled { "sso.enabled" } else { "sso.disabled" },
            Some(&org.slug),
            json!({"before": {"enabled": org.sso_enabled}, "after": {"enabled": enabled}, "sessions_ended": ended}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(ended)
}

/// How a tenant link came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkedBy {
    /// Carrier staff (the CLI, the provider console, the demo seed): approved at once. The
    /// text says where, for the audit log.
    Carrier(&'static str),
    /// A customer admin's consent, proven by their sign-in against the tenant: it waits for
    /// carrier staff to approve it, as the carrier's account manager enables SSO.
    AdminConsent,
}

impl LinkedBy {
    fn how(self) -> &'static str {
        match self {
            LinkedBy::Carrier(how) => how,
            LinkedBy::AdminConsent => "admin_consent",
        }
    }
}

/// Links `tenant` to the organisation `slug`. Refused while SSO is off, and when the tenant
/// is linked to another customer. A carrier link is approved at once (and approves a link
/// of the same organisation that was waiting); a link through admin consent waits for staff
/// ([`approve_tenant`]). Linking a tenant the organisation already has changes nothing else.
pub async fn link_tenant(
    db: &Db,
    actor: Actor<'_>,
    slug: &str,
    tenant: &str,
    by: LinkedBy,
) -> Result<Tenant, SsoError> {
    let tenant_id = normalize_tenant_id(tenant)?;
    let org = org_by_slug(db, slug).await?;
    if !org.sso_enabled {
        return Err(SsoError::SsoDisabled(org.slug));
    }
    if let Some(existing) = db::sso::find_tenant(db.pool(), &tenant_id).await? {
        if existing.org_id != org.id {
            return Err(SsoError::TenantTaken(tenant_id));
        }
        if existing.approved_at.is_none() && matches!(by, LinkedBy::Carrier(_)) {
            return approve_tenant(db, actor, slug, &tenant_id).await;
        }
        return Ok(existing);
    }
    let now = crate::clock::system_now_ms();
    let approved = matches!(by, LinkedBy::Carrier(_));
    let t = Tenant {
        tenant_id: tenant_id.clone(),
        org_id: org.id.clone(),
        linked_at: now,
        linked_by: actor.label.to_string(),
        disabled_at: None,
        approved_at: approved.then_some(now),
        approved_by: approved.then(|| actor.label.to_string()),
    };
    let mut tx = db.begin_write().await?;
    if let Err(e) = db::sso::insert_tenant(&mut *tx, &t).await {
        // Two links racing: the loser sees the unique violation.
        return Err(if db::is_unique_violation(&e) {
            SsoError::TenantTaken(tenant_id)
        } else {
            e.into()
        });
    }
    db::audit::insert(
        &mut *tx,
        t.linked_at,
        &entry(
            actor,
            &org,
            if approved {
                "sso.tenant_linked"
            } else {
                "sso.tenant_link_requested"
            },
            Some(&tenant_id),
            json!({"tid": tenant_id, "how": by.how(), "approved": approved}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(t)
}

/// Approves a tenant linked through admin consent (carrier staff): its users can sign in from
/// now on. Approving an approved tenant changes nothing.
pub async fn approve_tenant(
    db: &Db,
    actor: Actor<'_>,
    slug: &str,
    tenant: &str,
) -> Result<Tenant, SsoError> {
    let org = org_by_slug(db, slug).await?;
    let t = linked_tenant(db, &org, tenant).await?;
    if !org.sso_enabled {
        return Err(SsoError::SsoDisabled(org.slug));
    }
    let now = crate::clock::system_now_ms();
    let mut tx = db.begin_write().await?;
    if db::sso::approve_tenant(&mut *tx, &t.tenant_id, now, actor.label).await? {
        db::audit::insert(
            &mut *tx,
            now,
            &entry(
                actor,
                &org,
                "sso.tenant_approved",
                Some(&t.tenant_id),
                json!({"tid": t.tenant_id, "linked_by": t.linked_by}),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    linked_tenant(db, &org, tenant).await
}

async fn linked_tenant(db: &Db, org: &Organisation, tenant: &str) -> Result<Tenant, SsoError> {
    let tenant_id = normalize_tenant_id(tenant)?;
    db::sso::find_tenant(db.pool(), &tenant_id)
        .await?
        .filter(|t| t.org_id == org.id)
        .ok_or_else(|| SsoError::NotLinked {
            tenant: tenant_id,
            org: org.slug.clone(),
        })
}

/// Disables (or enables again) a linked tenant; disabling ends its sessions at once.
/// Returns the number of sessions ended.
pub async fn set_tenant_disabled(
    db: &Db,
    actor: Actor<'_>,
    slug: &str,
    tenant: &str,
    disabled: bool,
) -> Result<u64, SsoError> {
    let org = org_by_slug(db, slug).await?;
    let t = linked_tenant(db, &org, tenant).await?;
    let now = crate::clock::system_now_ms();
    let mut tx = db.begin_write().await?;
    db::sso::set_tenant_disabled(&mut *tx, &t.tenant_id, disabled.then_some(now)).await?;
    let ended = if disabled {
        db::sessions::delete_for_tenant(&mut *tx, &t.tenant_id).await?
    } else {
        0
    };
    db::audit::insert(
        &mut *tx,
        now,
        &entry(
            actor,
            &org,
            if disabled {
                "sso.tenant_disabled"
            } else {
                "sso.tenant_enabled"
            },
            Some(&t.tenant_id),
            json!({"tid": t.tenant_id, "sessions_ended": ended}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(ended)
}

/// Unlinks a tenant and ends its sessions. Its users keep their portal accounts and
/// identities, so linking the tenant again restores them. Returns the sessions ended.
pub async fn unlink_tenant(
    db: &Db,
    actor: Actor<'_>,
    slug: &str,
    tenant: &str,
) -> Result<u64, SsoError> {
    let org = org_by_slug(db, slug).await?;
    let t = linked_tenant(db, &org, tenant).await?;
    let mut tx = db.begin_write().await?;
    db::sso::delete_tenant(&mut *tx, &t.tenant_id).await?;
    let ended = db::sessions::delete_for_tenant(&mut *tx, &t.tenant_id).await?;
    db::audit::insert(
        &mut *tx,
        crate::clock::system_now_ms(),
        &entry(
            actor,
            &org,
            "sso.tenant_unlinked",
            Some(&t.tenant_id),
            json!({"tid": t.tenant_id, "sessions_ended": ended}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(ended)
}

/// The customer's own choices: just-in-time provisioning, its role, "require SSO" and, when
/// `mfa_evidence` is given, the multi-factor evidence policy with its authentication context.
pub async fn update_settings(
    db: &Db,
    actor: Actor<'_>,
    org: &Organisation,
    jit: bool,
    default_role: &str,
    required: bool,
    mfa_evidence: Option<(&str, Option<&str>)>,
) -> Result<(), SsoError> {
    if !matches!(default_role, "admin" | "engineer" | "viewer") {
        return Err(SsoError::InvalidRole(default_role.to_string()));
    }
    let evidence = match mfa_evidence {
        Some((policy, context)) => (policy, check_mfa_evidence(policy, context)?),
        None => (org.sso_mfa_evidence.as_str(), org.sso_auth_context.clone()),
    };
    let mut tx = db.begin_write().await?;
    db::orgs::set_sso_settings(&mut *tx, &org.id, jit, default_role, required).await?;
    db::orgs::set_sso_mfa_evidence(&mut *tx, &org.id, evidence.0, evidence.1.as_deref()).await?;
    db::audit::insert(
        &mut *tx,
        crate::clock::system_now_ms(),
        &entry(
            actor,
            org,
            "sso.settings_changed",
            Some(&org.slug),
            json!({
                "before": {"jit_provisioning": org.sso_jit, "default_role": org.sso_default_role, "require_sso": org.sso_required,
                           "mfa_evidence": org.sso_mfa_evidence, "auth_context": org.sso_auth_context},
                "after": {"jit_provisioning": jit, "default_role": default_role, "require_sso": required,
                          "mfa_evidence": evidence.0, "auth_context": evidence.1},
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The multi-factor evidence policies (see `migrations/*/0009_entra_mfa_evidence.sql`).
pub const MFA_EVIDENCE_POLICIES: [&str; 3] = ["off", "portal_factor", "required"];

/// Checks a policy name and an authentication context id (`c1` … `c99`, any case; `None` or
/// blank: none), giving the context as stored.
pub fn check_mfa_evidence(
    policy: &str,
    auth_context: Option<&str>,
) -> Result<Option<String>, SsoError> {
    if !MFA_EVIDENCE_POLICIES.contains(&policy) {
        return Err(SsoError::InvalidMfaEvidence(policy.to_string()));
    }
    let Some(raw) = auth_context.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let context = raw.to_ascii_lowercase();
    let number = context.strip_prefix('c').unwrap_or("");
    let valid = !number.starts_with('0')
        && (1..=2).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
        && number.parse::<u8>().is_ok_and(|n| (1..=99).contains(&n));
    if !valid {
        return Err(SsoError::InvalidAuthContext(raw.to_string()));
    }
    Ok(Some(context))
}

/// Sets what an SSO sign-in of `org` without multi-factor evidence gets.
pub async fn set_mfa_evidence(
    db: &Db,
    actor: Actor<'_>,
    org: &Organisation,
    policy: &str,
    auth_context: Option<&str>,
) -> Result<(), SsoError> {
    let context = check_mfa_evidence(policy, auth_context)?;
    let mut tx = db.begin_write().await?;
    db::orgs::set_sso_mfa_evidence(&mut *tx, &org.id, policy, context.as_deref()).await?;
    db::audit::insert(
        &mut *tx,
        crate::clock::system_now_ms(),
        &entry(
            actor,
            org,
            "sso.mfa_evidence_changed",
            Some(&org.slug),
            json!({
                "before": {"mfa_evidence": org.sso_mfa_evidence, "auth_context": org.sso_auth_context},
                "after": {"mfa_evidence": policy, "auth_context": context},
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// [`set_mfa_evidence`] for the organisation `slug` (the CLI and the provider console).
pub async fn set_mfa_evidence_of(
    db: &Db,
    actor: Actor<'_>,
    slug: &str,
    policy: &str,
    auth_context: Option<&str>,
) -> Result<(), SsoError> {
    let org = org_by_slug(db, slug).await?;
    set_mfa_evidence(db, actor, &org, policy, auth_context).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mfa_evidence_policies_and_contexts() {
        for p in MFA_EVIDENCE_POLICIES {
            assert!(check_mfa_evidence(p, None).is_ok());
        }
        assert!(matches!(
            check_mfa_evidence("on", None),
            Err(SsoError::InvalidMfaEvidence(_))
        ));
        for (raw, want) in [("c1", "c1"), (" C25 ", "c25"), ("c99", "c99")] {
            assert_eq!(
                check_mfa_evidence("required", Some(raw))
                    .ok()
                    .flatten()
                    .as_deref(),
                Some(want)
            );
        }
        assert_eq!(check_mfa_evidence("off", Some("  ")).ok().flatten(), None);
        for bad in [
            "c0", "c100", "c01", "1", "c", "cx", "c-1", "d1", "c1 c2", "c+1",
        ] {
            assert!(
                matches!(
                    check_mfa_evidence("required", Some(bad)),
                    Err(SsoError::InvalidAuthContext(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn tenant_ids_are_organisation_guids() {
        assert_eq!(
            normalize_tenant_id(" 6F1C4A9E-3B52-4C1D-9A57-2E8F0B7D4C11 ")
                .ok()
                .as_deref(),
            Some("6f1c4a9e-3b52-4c1d-9a57-2e8f0b7d4c11")
        );
        for bad in [
            "common",
            "organizations",
            "consumers",
            CONSUMER_TENANT,
            "9188040D-6C67-4C5B-B112-36A304B66DAD",
            "contoso.onmicrosoft.com",
            "",
        ] {
            assert!(normalize_tenant_id(bad).is_err(), "{bad}");
        }
    }
}
