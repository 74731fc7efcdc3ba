//! What a verified Microsoft identity may do, once its ID token has passed every check: sign
//! in (the tenant check, then the user by (`tid`, `oid`), provisioned just in time where the
//! customer allows it), be linked to a signed-in local user, accept an invitation through its
//! link, or prove a tenant for admin consent.
//!
//! Every refusal is audited here with the token's tenant and creates nothing; the browser
//! flows (`http/microsoft.rs`) turn a refusal's code into the page that says why.

use serde_json::json;

use crate::{
    accounts::Actor,
    audit::{self, Event, RequestMeta},
    auth::entra::id_token::{EntraClaims, CONSUMER_TENANT},
    db::{
        self,
        sso::{Identity, Tenant},
        users::User,
        Db,
    },
};

use super::{link_tenant, LinkedBy, SsoError};

/// Why a verified identity could not do what its flow asked.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Refused, with the stable code the flow's page explains (`tenant_not_linked`, …).
    #[error("refused: {0}")]
    Refused(&'static str),
    /// The database or another failure the person cannot fix.
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for IdentityError {
    fn from(e: sqlx::Error) -> Self {
        IdentityError::Internal(e.into())
    }
}

type IdentityResult<T> = Result<T, IdentityError>;

/// How a flow's refusals are audited: the action, the acting user and the organisation.
struct Refusals<'a> {
    db: &'a Db,
    now: i64,
    meta: &'a RequestMeta,
    action: &'a str,
    actor: Option<&'a User>,
    org_id: Option<&'a str>,
}

impl Refusals<'_> {
    /// Audits the refusal (its `target` is the token's tenant) and refuses with `reason`.
    async fn refuse<T>(
        &self,
        reason: &'static str,
        org_id: Option<&str>,
        details: serde_json::Value,
    ) -> IdentityResult<T> {
        audit::record(
            self.db.pool(),
            self.now,
            self.meta,
            Event {
                actor: self.actor,
                action: self.action,
                target: details.get("tid").and_then(|v| v.as_str()),
                org_id: org_id.or(self.org_id),
                details: details.clone(),
            },
        )
        .await?;
        Err(IdentityError::Refused(reason))
    }
}

/// The identity row for verified `claims`, belonging to `user_id`.
fn identity_of(claims: &EntraClaims, user_id: &str, now: i64) -> Identity {
    Identity {
        tenant_id: claims.tid.clone(),
        object_id: claims.oid.clone(),
        user_id: user_id.to_string(),
        email: claims.email.clone(),
        created_at: now,
    }
}

/// The portal user a sign-in with `claims` is: the tenant must be linked to a customer whose
/// SSO is on, approved and not disabled; the user is found by (`tid`, `oid`), or provisioned
/// just in time when the customer allows it. Never by the token's address. Returns the user
/// and their organisation (whose policies the sign-in then applies).
pub async fn sign_in(
    db: &Db,
    now: i64,
    meta: &RequestMeta,
    claims: &EntraClaims,
) -> IdentityResult<(User, db::orgs::Organisation)> {
    let refusals = Refusals {
        db,
        now,
        meta,
        action: "auth.sso_refused",
        actor: None,
        org_id: None,
    };
    let refused = |reason: &'static str, org_id: Option<String>| {
        let refusals = &refusals;
        async move {
            let details = json!({"reason": reason, "tid": claims.tid, "oid": claims.oid, "email": claims.email});
            refusals.refuse(reason, org_id.as_deref(), details).await
        }
    };
    if claims.tid == CONSUMER_TENANT {
        return refused("consumer_account", None).await;
    }
    let Some(tenant) = db::sso::find_tenant(db.pool(), &claims.tid).await? else {
        return refused("tenant_not_linked", None).await;
    };
    if tenant.disabled_at.is_some() {
        return refused("tenant_disabled", Some(tenant.org_id)).await;
    }
    if tenant.approved_at.is_none() {
        return refused("tenant_pending", Some(tenant.org_id)).await;
    }
    let org = db::orgs::find_by_id(db.pool(), &tenant.org_id)
        .await?
        .filter(|o| o.sso_enabled);
    let Some(org) = org else {
        return refused("sso_disabled", Some(tenant.org_id)).await;
    };
    let user = match db::sso::user_by_identity(db.pool(), &claims.tid, &claims.oid).await? {
        // An identity whose user moved to another customer is not this tenant's to vouch for.
        Some(u) if u.org_id.as_deref() != Some(org.id.as_str()) => {
            return refused("user_not_provisioned", Some(org.id)).await;
        }
        Some(u) => {
            db::sso::update_identity_email(db.pool(), &claims.tid, &claims.oid, &claims.email)
                .await?;
            u
        }
        None => match provision(db, now, meta, &org, claims).await? {
            Some(u) => u,
            None => return refused("user_not_provisioned", Some(org.id)).await,
        },
    };
    if user.deactivated_at.is_some() {
        return refused("account_deactivated", Some(org.id)).await;
    }
    Ok((user, org))
}

/// An unknown identity of a linked tenant: a just-in-time account when the customer allows
/// it, else `None`. A pending invitation is never matched by the address in the token (any
/// tenant member can carry any `email` claim): the invitee accepts through their link
/// ([`accept_invitation`]).
async fn provision(
    db: &Db,
    now: i64,
    meta: &RequestMeta,
    org: &db::orgs::Organisation,
    claims: &EntraClaims,
) -> IdentityResult<Option<User>> {
    if !org.sso_jit {
        return Ok(None);
    }
    let user = User {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: Some(org.id.clone()),
        email: claims.email.clone(),
        login_email: None,
        name: claims.name.clone(),
        role: Some(org.sso_default_role.clone()),
        is_staff: false,
        password_hash: None,
        created_at: now,
        deactivated_at: None,
    };
    let mut tx = db.begin_write().await?;
    db::users::insert(&mut *tx, &user).await?;
    if let Err(e) = db::sso::insert_identity(&mut *tx, &identity_of(claims, &user.id, now)).await {
        // Two first sign-ins of one identity raced: the loser's insert fails; the winner's
        // user is the one to use.
        if !db::is_unique_violation(&e) {
            return Err(e.into());
        }
        drop(tx);
        return Ok(db::sso::user_by_identity(db.pool(), &claims.tid, &claims.oid).await?);
    }
    audit::record(&mut *tx, now, meta, Event {
        actor: Some(&user),
        action: "user.provisioned",
        target: Some(&user.id),
        org_id: Some(&org.id),
        details: json!({"method": "entra_jit", "tid": claims.tid, "oid": claims.oid, "email": user.email, "role": user.role}),
    }).await?;
    tx.commit().await?;
    Ok(Some(user))
}

/// Binds the invitee's verified identity to the invited account `invited_user_id` of
/// `org_id` (when the tenant is one of that customer's, approved and enabled, and the
/// identity is nobody's yet), using the invitation up. Returns the invited user, to sign in.
pub async fn accept_invitation(
    db: &Db,
    now: i64,
    meta: &RequestMeta,
    org_id: &str,
    invited_user_id: &str,
    claims: &EntraClaims,
) -> IdentityResult<User> {
    let refusals = Refusals {
        db,
        now,
        meta,
        action: "auth.sso_refused",
        actor: None,
        org_id: Some(org_id),
    };
    let refused = |reason: &'static str| {
        let details = json!({"reason": reason, "flow": "invitation", "invited_user": invited_user_id, "tid": claims.tid, "oid": claims.oid, "email": claims.email});
        let refusals = &refusals;
        async move { refusals.refuse(reason, None, details).await }
    };
    if claims.tid == CONSUMER_TENANT {
        return refused("consumer_account").await;
    }
    match db::sso::find_tenant(db.pool(), &claims.tid).await? {
        None => return refused("wrong_tenant").await,
        Some(t) if t.org_id != org_id => return refused("wrong_tenant").await,
        Some(t) if t.disabled_at.is_some() => return refused("tenant_disabled").await,
        Some(t) if t.approved_at.is_none() => return refused("tenant_pending").await,
        Some(_) => {}
    }
    let org = db::orgs::find_by_id(db.pool(), org_id)
        .await?
        .filter(|o| o.sso_enabled);
    if org.is_none() {
        return refused("sso_disabled").await;
    }
    let Some(user) = db::users::find_by_id(db.pool(), invited_user_id)
        .await?
        .filter(|u| u.deactivated_at.is_none() && u.org_id.as_deref() == Some(org_id))
    else {
        return refused("invitation_invalid").await;
    };
    if db::sso::user_by_identity(db.pool(), &claims.tid, &claims.oid)
        .await?
        .is_some()
    {
        return refused("identity_taken").await;
    }
    let mut tx = db.begin_write().await?;
    if !db::tokens::consume_pending_invitation(&mut *tx, &user.id, now).await? {
        drop(tx);
        return refused("invitation_invalid").await;
    }
    if let Err(e) = db::sso::insert_identity(&mut *tx, &identity_of(claims, &user.id, now)).await {
        drop(tx);
        return if db::is_unique_violation(&e) {
            refused("identity_taken").await
        } else {
            Err(e.into())
        };
    }
    audit::record(
        &mut *tx,
        now,
        meta,
        Event::own(
            &user,
            "auth.sso_invitation_accepted",
            json!({"tid": claims.tid, "oid": claims.oid, "microsoft_email": claims.email}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// Adds the verified identity to the signed-in local `user` (a tenant of their own customer
/// only, and an identity nobody else has).
pub async fn link(
    db: &Db,
    now: i64,
    meta: &RequestMeta,
    user: &User,
    claims: &EntraClaims,
) -> IdentityResult<()> {
    let refusals = Refusals {
        db,
        now,
        meta,
        action: "auth.sso_link_failed",
        actor: Some(user),
        org_id: None,
    };
    let refused = |reason: &'static str| {
        let details = json!({"reason": reason, "tid": claims.tid, "oid": claims.oid});
        let refusals = &refusals;
        async move { refusals.refuse(reason, None, details).await }
    };
    let tenant = db::sso::find_tenant(db.pool(), &claims.tid).await?;
    let ours = tenant.filter(|t| t.admits_sign_in() && Some(&t.org_id) == user.org_id.as_ref());
    if ours.is_none() {
        return refused("wrong_tenant").await;
    }
    match db::sso::user_by_identity(db.pool(), &claims.tid, &claims.oid).await? {
        Some(other) if other.id != user.id => refused("identity_taken").await,
        Some(_) => Ok(()),
        None => {
            let mut tx = db.begin_write().await?;
            let inserted =
                db::sso::insert_identity(&mut *tx, &identity_of(claims, &user.id, now)).await;
            if let Err(e) = inserted {
                drop(tx);
                return if db::is_unique_violation(&e) {
                    refused("identity_taken").await
                } else {
                    Err(e.into())
                };
            }
            audit::record(
                &mut *tx,
                now,
                meta,
                Event::own(
                    user,
                    "auth.sso_linked",
                    json!({"tid": claims.tid, "oid": claims.oid}),
                ),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        }
    }
}

/// The admin's proof sign-in for admin consent: links the tenant to `org_id` (waiting for
/// carrier staff) only when the verified `tid` is the one the consent redirect claimed and
/// the token is a member's, not a guest's.
pub async fn prove_consent(
    db: &Db,
    now: i64,
    meta: &RequestMeta,
    admin: &User,
    org_id: &str,
    claimed_tid: Option<&str>,
    claims: &EntraClaims,
) -> IdentityResult<Tenant> {
    let refusals = Refusals {
        db,
        now,
        meta,
        action: "sso.consent_failed",
        actor: Some(admin),
        org_id: Some(org_id),
    };
    let refused = |reason: &'static str| {
        let details = json!({"reason": reason, "tid": claims.tid, "claimed_tid": claimed_tid});
        let refusals = &refusals;
        async move { refusals.refuse(reason, None, details).await }
    };
    if claimed_tid != Some(claims.tid.as_str()) {
        return refused("tenant_mismatch").await;
    }
    // A guest's token carries the host tenant's `tid` too: membership of the tenant is what
    // the proof must show, so a guest (of any kind) cannot link someone else's tenant.
    if claims.guest {
        return refused("guest_account").await;
    }
    let Some(org) = db::orgs::find_by_id(db.pool(), org_id).await? else {
        return refused("forbidden").await;
    };
    let actor = Actor {
        user_id: Some(&admin.id),
        label: &admin.email,
    };
    match link_tenant(db, actor, &org.slug, &claims.tid, LinkedBy::AdminConsent).await {
        Ok(t) => Ok(t),
        Err(SsoError::SsoDisabled(_)) => refused("sso_disabled").await,
        Err(SsoError::TenantTaken(_)) => refused("tenant_taken").await,
        Err(SsoError::InvalidTenant(_)) => refused("invalid_tenant").await,
        Err(e) => Err(IdentityError::Internal(anyhow::anyhow!(e))),
    }
}
