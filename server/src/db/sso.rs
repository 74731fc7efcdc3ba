//! Queries of the single sign-on tables: `sso_tenants`, `user_identities` and
//! `oidc_transactions`.

use sqlx::{any::AnyRow, Any, Executor, Row};

use super::users::{self, User, COLUMNS_U};

/// A Microsoft Entra tenant linked to a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// The tenant id (lower-case GUID).
    pub tenant_id: String,
    /// The customer.
    pub org_id: String,
    /// When it was linked, UTC ms.
    pub linked_at: i64,
    /// Who linked it: an email or `cli`.
    pub linked_by: String,
    /// When it was disabled, if it is.
    pub disabled_at: Option<i64>,
    /// When carrier staff approved it (linked by staff or the CLI: when it was linked);
    /// `None` while a link made through admin consent waits for them.
    pub approved_at: Option<i64>,
    /// Who approved it: a staff email, or `cli`.
    pub approved_by: Option<String>,
}

impl Tenant {
    /// Its users may sign in: approved and not disabled.
    pub fn admits_sign_in(&self) -> bool {
        self.approved_at.is_some() && self.disabled_at.is_none()
    }
}

fn tenant_from_row(row: &AnyRow) -> Result<Tenant, sqlx::Error> {
    Ok(Tenant {
        tenant_id: row.try_get("tenant_id")?,
        org_id: row.try_get("org_id")?,
        linked_at: row.try_get("linked_at")?,
        linked_by: row.try_get("linked_by")?,
        disabled_at: row.try_get("disabled_at")?,
        approved_at: row.try_get("approved_at")?,
        approved_by: row.try_get("approved_by")?,
    })
}

const TENANT_COLUMNS: &str =
    "tenant_id, org_id, linked_at, linked_by, disabled_at, approved_at, approved_by";

/// The tenant with this id, whichever customer it is linked to.
pub async fn find_tenant<'e, E: Executor<'e, Database = Any>>(
    db: E,
    tenant_id: &str,
) -> Result<Option<Tenant>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {TENANT_COLUMNS} FROM sso_tenants WHERE tenant_id = $1"
    ))
    .bind(tenant_id)
    .fetch_optional(db)
    .await?
    .as_ref()
    .map(tenant_from_row)
    .transpose()
}

/// The tenants of one customer, oldest first.
pub async fn tenants_of_org<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<Vec<Tenant>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {TENANT_COLUMNS} FROM sso_tenants WHERE org_id = $1 ORDER BY linked_at, tenant_id"
    ))
    .bind(org_id)
    .fetch_all(db)
    .await?
    .iter()
    .map(tenant_from_row)
    .collect()
}

/// Links a tenant; a tenant already linked (to anyone) is a unique violation.
pub async fn insert_tenant<'e, E: Executor<'e, Database = Any>>(
    db: E,
    t: &Tenant,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sso_tenants (tenant_id, org_id, linked_at, linked_by, disabled_at, approved_at, approved_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&t.tenant_id)
    .bind(&t.org_id)
    .bind(t.linked_at)
    .bind(&t.linked_by)
    .bind(t.disabled_at)
    .bind(t.approved_at)
    .bind(t.approved_by.as_deref())
    .execute(db)
    .await?;
    Ok(())
}

/// Approves a tenant waiting for approval; returns whether it was waiting.
pub async fn approve_tenant<'e, E: Executor<'e, Database = Any>>(
    db: E,
    tenant_id: &str,
    now: i64,
    by: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE sso_tenants SET approved_at = $1, approved_by = $2 \
         WHERE tenant_id = $3 AND approved_at IS NULL",
    )
    .bind(now)
    .bind(by)
    .bind(tenant_id)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Disables (`Some(time)`) or re-enables (`None`) a tenant.
pub async fn set_tenant_disabled<'e, E: Executor<'e, Database = Any>>(
    db: E,
    tenant_id: &str,
    disabled_at: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sso_tenants SET disabled_at = $1 WHERE tenant_id = $2")
        .bind(disabled_at)
        .bind(tenant_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Unlinks a tenant.
pub async fn delete_tenant<'e, E: Executor<'e, Database = Any>>(
    db: E,
    tenant_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sso_tenants WHERE tenant_id = $1")
        .bind(tenant_id)
        .execute(db)
        .await?;
    Ok(())
}

/// A Microsoft identity of a portal user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The Entra tenant.
    pub tenant_id: String,
    /// The user's object id in that tenant.
    pub object_id: String,
    /// The portal user.
    pub user_id: String,
    /// Display address from the last sign-in.
    pub email: String,
    /// When it was linked, UTC ms.
    pub created_at: i64,
}

/// The portal user behind (`tenant_id`, `object_id`), if any.
pub async fn user_by_identity<'e, E: Executor<'e, Database = Any>>(
    db: E,
    tenant_id: &str,
    object_id: &str,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS_U} FROM user_identities i JOIN users u ON u.id = i.user_id \
         WHERE i.tenant_id = $1 AND i.object_id = $2"
    ))
    .bind(tenant_id)
    .bind(object_id)
    .fetch_optional(db)
    .await?
    .as_ref()
    .map(users::from_row_u)
    .transpose()
}

/// Stores an identity; one already stored is a unique violation.
pub async fn insert_identity<'e, E: Executor<'e, Database = Any>>(
    db: E,
    i: &Identity,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO user_identities (tenant_id, object_id, user_id, email, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&i.tenant_id)
    .bind(&i.object_id)
    .bind(&i.user_id)
    .bind(&i.email)
    .bind(i.created_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Refreshes the display address the identity provider sent.
pub async fn update_identity_email<'e, E: Executor<'e, Database = Any>>(
    db: E,
    tenant_id: &str,
    object_id: &str,
    email: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE user_identities SET email = $1 WHERE tenant_id = $2 AND object_id = $3 AND email <> $1",
    )
    .bind(email)
    .bind(tenant_id)
    .bind(object_id)
    .execute(db)
    .await?;
    Ok(())
}

/// A user's identities, oldest first.
pub async fn identities_of_user<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
) -> Result<Vec<Identity>, sqlx::Error> {
    sqlx::query(
        "SELECT tenant_id, object_id, user_id, email, created_at FROM user_identities \
         WHERE user_id = $1 ORDER BY created_at, tenant_id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?
    .iter()
    .map(|r| {
        Ok(Identity {
            tenant_id: r.try_get("tenant_id")?,
            object_id: r.try_get("object_id")?,
            user_id: r.try_get("user_id")?,
            email: r.try_get("email")?,
            created_at: r.try_get("created_at")?,
        })
    })
    .collect()
}

/// An authorization request in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// SHA-256 (hex) of the `__Host-portal_oidc` cookie value.
    pub cookie_hash: String,
    /// `login`, `link`, `consent` or `consent_proof`.
    pub purpose: String,
    /// The `state` sent to the identity provider.
    pub state: String,
    /// The `nonce` sent (empty for `consent`, which gets no ID token).
    pub nonce: String,
    /// The PKCE verifier (empty for `consent`).
    pub pkce_verifier: String,
    /// Where to go afterwards (already sanitised).
    pub return_to: String,
    /// The customer being set up (`consent`, `consent_proof`).
    pub org_id: Option<String>,
    /// The signed-in user who started it (`link`, `consent`, `consent_proof`).
    pub user_id: Option<String>,
    /// The tenant the proof sign-in must come from (`consent_proof`).
    pub tenant_id: Option<String>,
    /// Start, UTC ms.
    pub created_at: i64,
    /// End, UTC ms.
    pub expires_at: i64,
}

/// How many flows are in flight (transactions not yet expired) at `now`.
pub async fn live_transactions<'e, E: Executor<'e, Database = Any>>(
    db: E,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM oidc_transactions WHERE expires_at > $1")
        .bind(now)
        .fetch_one(db)
        .await?
        .try_get("n")
}

/// Stores a transaction.
pub async fn insert_transaction<'e, E: Executor<'e, Database = Any>>(
    db: E,
    t: &Transaction,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oidc_transactions (cookie_hash, purpose, state, nonce, pkce_verifier, return_to, org_id, user_id, tenant_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&t.cookie_hash)
    .bind(&t.purpose)
    .bind(&t.state)
    .bind(&t.nonce)
    .bind(&t.pkce_verifier)
    .bind(&t.return_to)
    .bind(&t.org_id)
    .bind(&t.user_id)
    .bind(&t.tenant_id)
    .bind(t.created_at)
    .bind(t.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Removes and returns the transaction of this cookie: a transaction is usable once, even
/// when two requests race for it (only one `DELETE … RETURNING` gets the row).
pub async fn take_transaction<'e, E: Executor<'e, Database = Any>>(
    db: E,
    cookie_hash: &str,
) -> Result<Option<Transaction>, sqlx::Error> {
    sqlx::query(
        "DELETE FROM oidc_transactions WHERE cookie_hash = $1 \
         RETURNING cookie_hash, purpose, state, nonce, pkce_verifier, return_to, org_id, user_id, tenant_id, created_at, expires_at",
    )
    .bind(cookie_hash)
    .fetch_optional(db)
    .await?
    .map(|r| {
        Ok(Transaction {
            cookie_hash: r.try_get("cookie_hash")?,
            purpose: r.try_get("purpose")?,
            state: r.try_get("state")?,
            nonce: r.try_get("nonce")?,
            pkce_verifier: r.try_get("pkce_verifier")?,
            return_to: r.try_get("return_to")?,
            org_id: r.try_get("org_id")?,
            user_id: r.try_get("user_id")?,
            tenant_id: r.try_get("tenant_id")?,
            created_at: r.try_get("created_at")?,
            expires_at: r.try_get("expires_at")?,
        })
    })
    .transpose()
}

/// Deletes transactions that ended before `now`; returns how many.
pub async fn delete_expired_transactions<'e, E: Executor<'e, Database = Any>>(
    db: E,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM oidc_transactions WHERE expires_at < $1")
        .bind(now)
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}

/// The tenants of the customers `org_ids`, oldest first within each customer (for one page
/// of the provider console).
pub async fn tenants_of_orgs<'e, E>(db: E, org_ids: &[String]) -> Result<Vec<Tenant>, sqlx::Error>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let mut tenants = Vec::new();
    // Each customer's tenants come from one chunk, so their order holds.
    for chunk in org_ids.chunks(super::orgs::IN_LIST_CHUNK) {
        let sql = format!(
            "SELECT {TENANT_COLUMNS} FROM sso_tenants WHERE org_id IN ({}) ORDER BY linked_at, tenant_id",
            super::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id.clone());
        }
        for row in query.fetch_all(db).await? {
            tenants.push(tenant_from_row(&row)?);
        }
    }
    Ok(tenants)
}
