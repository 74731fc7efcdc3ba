//! Managing an organisation's users from the portal: role changes, deactivation, unlocking
//! sign-in codes and naming break-glass administrators, each by an admin (or staff) acting for
//! the organisation.
//!
//! An organisation always keeps one active admin. Role changes and deactivation check that
//! rule and make the change in one transaction that first takes the organisation row's write
//! lock (`db::org_users::lock_org`) and reads the user again under it, so two admins demoting
//! each other at once cannot both succeed. The audit entry is written in the same
//! transaction, and the user is read back before it commits.

use serde_json::json;

use crate::{
    audit::Acting,
    db::{self, org_users::OrgUser, Db},
};

use super::{unlock_user_codes, Actor};

/// Why a change to an organisation's user was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserChangeError {
    /// The organisation has no user with this id.
    #[error("the organisation has no user with this id")]
    NotFound,
    /// The change would leave the organisation without an active admin.
    #[error("the user is the organisation's only active administrator")]
    LastAdmin,
    /// A deactivated user's role cannot change.
    #[error("the user is deactivated; their role cannot change")]
    UserDeactivated,
    /// A user cannot deactivate their own account.
    #[error("a user cannot deactivate their own account")]
    CannotDeactivateSelf,
    /// The user is already deactivated.
    #[error("the user is already deactivated")]
    AlreadyDeactivated,
    /// The user's sign-in codes are not locked, so there is nothing to unlock.
    #[error("the user's sign-in codes are not locked")]
    CodesNotLocked,
    /// Only an active admin can be a break-glass administrator.
    #[error("only an active administrator can be a break-glass administrator")]
    BreakGlassNeedsAdmin,
    /// A break-glass administrator needs an authenticator app.
    #[error("a break-glass administrator needs an authenticator app")]
    BreakGlassNeedsAuthenticator,
    /// The organisation has its [`MAX_BREAK_GLASS`] break-glass administrators.
    #[error("the organisation already has {MAX_BREAK_GLASS} break-glass administrators")]
    BreakGlassLimit,
    /// Anything the caller cannot fix.
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for UserChangeError {
    fn from(e: sqlx::Error) -> Self {
        UserChangeError::Internal(e.into())
    }
}

impl From<super::AccountError> for UserChangeError {
    fn from(e: super::AccountError) -> Self {
        UserChangeError::Internal(e.into())
    }
}

impl UserChangeError {
    /// The stable code the API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            UserChangeError::NotFound => "not_found",
            UserChangeError::LastAdmin => "last_admin",
            UserChangeError::UserDeactivated => "user_deactivated",
            UserChangeError::CannotDeactivateSelf => "cannot_deactivate_self",
            UserChangeError::AlreadyDeactivated => "already_deactivated",
            UserChangeError::CodesNotLocked => "codes_not_locked",
            UserChangeError::BreakGlassNeedsAdmin => "break_glass_needs_admin",
            UserChangeError::BreakGlassNeedsAuthenticator => "break_glass_needs_authenticator",
            UserChangeError::BreakGlassLimit => "break_glass_limit",
            UserChangeError::Internal(_) => "internal",
        }
    }
}

/// A user after a change, and whether anything changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// The user as now stored.
    pub user: OrgUser,
    /// False when the user already was as asked (nothing was written or audited).
    pub changed: bool,
}

/// The organisation's user `id` read through `conn`, or [`UserChangeError::NotFound`].
async fn find(
    conn: &mut sqlx::AnyConnection,
    org_id: &str,
    id: &str,
) -> Result<OrgUser, UserChangeError> {
    db::org_users::find(&mut *conn, org_id, id)
        .await?
        .ok_or(UserChangeError::NotFound)
}

/// Refuses ([`UserChangeError::LastAdmin`]) a change that takes `user`, an admin, away from
/// the organisation's active admins when no other one is left.
async fn keep_an_admin(
    conn: &mut sqlx::AnyConnection,
    org_id: &str,
    user: &OrgUser,
) -> Result<(), UserChangeError> {
    if user.role == "admin"
        && db::org_users::other_active_admins(&mut *conn, org_id, &user.id).await? == 0
    {
        return Err(UserChangeError::LastAdmin);
    }
    Ok(())
}

/// Gives the organisation's user `id` the role `role` (`admin`, `engineer` or `viewer`),
/// audited as `user.role_changed`. A user who already has the role is returned unchanged;
/// a deactivated user's role does not change, nor does the last active admin's.
pub async fn set_role(
    db: &Db,
    acting: &Acting,
    now: i64,
    id: &str,
    role: &str,
) -> Result<Changed, UserChangeError> {
    let mut tx = db.begin_write().await?;
    db::org_users::lock_org(&mut *tx, &acting.org_id).await?;
    // Read again under the lock: the check below must see what the update will change.
    let before = find(&mut tx, &acting.org_id, id).await?;
    if before.role == role {
        return Ok(Changed {
            user: before,
            changed: false,
        });
    }
    if before.deactivated_at.is_some() {
        return Err(UserChangeError::UserDeactivated);
    }
    keep_an_admin(&mut tx, &acting.org_id, &before).await?;
    db::org_users::set_role(&mut *tx, id, role).await?;
    acting
        .record(
            &mut *tx,
            now,
            "user.role_changed",
            Some(id),
            json!({
                "email": before.email,
                "before": {"role": before.role},
                "after": {"role": role},
            }),
        )
        .await?;
    let after = find(&mut tx, &acting.org_id, id).await?;
    tx.commit().await?;
    Ok(Changed {
        user: after,
        changed: true,
    })
}

/// Deactivates the organisation's user `id` and deletes every session of theirs, audited as
/// `user.deactivated`. Nobody deactivates themselves, a deactivated user stays as they are
/// (refused), and the last active admin is not deactivated.
pub async fn deactivate(
    db: &Db,
    acting: &Acting,
    now: i64,
    id: &str,
) -> Result<OrgUser, UserChangeError> {
    if acting.user_id.as_deref() == Some(id) {
        return Err(UserChangeError::CannotDeactivateSelf);
    }
    let mut tx = db.begin_write().await?;
    db::org_users::lock_org(&mut *tx, &acting.org_id).await?;
    let before = find(&mut tx, &acting.org_id, id).await?;
    if before.deactivated_at.is_some() {
        return Err(UserChangeError::AlreadyDeactivated);
    }
    keep_an_admin(&mut tx, &acting.org_id, &before).await?;
    db::org_users::deactivate(&mut *tx, id, now).await?;
    let sessions_ended = db::users::end_all_sessions(&mut *tx, id).await?;
    acting
        .record(
            &mut *tx,
            now,
            "user.deactivated",
            Some(id),
            json!({
                "email": before.email,
                "before": {"deactivated": false, "role": before.role},
                "after": {"deactivated": true},
                "sessions_ended": sessions_ended,
            }),
        )
        .await?;
    let after = find(&mut tx, &acting.org_id, id).await?;
    tx.commit().await?;
    Ok(after)
}

/// Break-glass administrators an organisation may name: a few, so each use stands out.
pub const MAX_BREAK_GLASS: i64 = 3;

/// Makes the organisation's user `id` a break-glass administrator (`on`), or no longer one,
/// audited as `user.break_glass_changed`. Only an active admin with an authenticator app can
/// be one, and at most [`MAX_BREAK_GLASS`] per organisation (checked under the organisation
/// row's lock, so two admins naming a fourth at once cannot both succeed). A user who already
/// is as asked is returned unchanged.
pub async fn set_break_glass(
    db: &Db,
    acting: &Acting,
    now: i64,
    id: &str,
    on: bool,
) -> Result<Changed, UserChangeError> {
    let mut tx = db.begin_write().await?;
    db::org_users::lock_org(&mut *tx, &acting.org_id).await?;
    let before = find(&mut tx, &acting.org_id, id).await?;
    if before.break_glass == on {
        return Ok(Changed {
            user: before,
            changed: false,
        });
    }
    if on {
        if before.role != "admin" || before.deactivated_at.is_some() {
            return Err(UserChangeError::BreakGlassNeedsAdmin);
        }
        let has_totp = db::mfa::has_confirmed_totp(&mut *tx, id).await?;
        if !has_totp {
            return Err(UserChangeError::BreakGlassNeedsAuthenticator);
        }
        if db::org_users::other_break_glass(&mut *tx, &acting.org_id, id).await? >= MAX_BREAK_GLASS
        {
            return Err(UserChangeError::BreakGlassLimit);
        }
    }
    db::org_users::set_break_glass(&mut *tx, id, on).await?;
    acting
        .record(
            &mut *tx,
            now,
            "user.break_glass_changed",
            Some(id),
            json!({
                "email": before.email,
                "before": {"break_glass": before.break_glass},
                "after": {"break_glass": on},
            }),
        )
        .await?;
    let after = find(&mut tx, &acting.org_id, id).await?;
    tx.commit().await?;
    Ok(Changed {
        user: after,
        changed: true,
    })
}

/// Unlocks the sign-in codes of the organisation's user `id` (locked after too many wrong
/// codes in a row), audited as `mfa.codes_unlocked` by [`unlock_user_codes`]; refused with
/// [`UserChangeError::CodesNotLocked`] when they are not locked. Returns the user as now
/// stored.
pub async fn unlock_codes(db: &Db, acting: &Acting, id: &str) -> Result<OrgUser, UserChangeError> {
    let user = db::users::find_by_id(db.pool(), id)
        .await?
        .ok_or(UserChangeError::NotFound)?;
    let actor = Actor {
        user_id: acting.user_id.as_deref(),
        label: &acting.label,
    };
    if !unlock_user_codes(db, actor, &acting.meta, &user).await? {
        return Err(UserChangeError::CodesNotLocked);
    }
    db::org_users::find(db.pool(), &acting.org_id, id)
        .await?
        .ok_or(UserChangeError::NotFound)
}
