//! The signed-in user's own authenticator app and recovery codes: the changes, each written
//! with its audit entry in one transaction. The HTTP layer checks the session, the password
//! and code re-entered for the change (`verification`) and the code that confirms an
//! enrolment (`totp`) before calling these.

use serde_json::json;

use crate::{
    audit::{self, Event, RequestMeta},
    db::{self, users::User, Db},
};

use super::recovery;

/// Why a change to the user's authenticator was refused.
#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    /// A confirmed authenticator is already set up.
    #[error("an authenticator app is already set up")]
    AlreadyEnabled,
    /// E-mail codes are already on.
    #[error("e-mail codes are already on")]
    EmailAlreadyOn,
    /// The confirming code's time step was already used (or the enrolment was confirmed
    /// meanwhile).
    #[error("the code is not right")]
    InvalidCode,
    /// Anything the caller cannot fix.
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for MfaError {
    fn from(e: sqlx::Error) -> Self {
        MfaError::Internal(e.into())
    }
}

impl MfaError {
    /// The stable code the API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            MfaError::AlreadyEnabled => "mfa_already_enabled",
            MfaError::EmailAlreadyOn => "email_codes_already_on",
            MfaError::InvalidCode => "invalid_code",
            MfaError::Internal(_) => "internal",
        }
    }
}

/// Stores `secret_sealed` as `user`'s pending enrolment (replacing a pending one, never a
/// confirmed one: [`MfaError::AlreadyEnabled`]), audited as `mfa.enrolment_started`.
pub async fn start_enrolment(
    db: &Db,
    now: i64,
    meta: &RequestMeta,
    user: &User,
    secret_sealed: &str,
) -> Result<(), MfaError> {
    let mut tx = db.begin_write().await?;
    if !db::mfa::upsert_pending_totp(&mut *tx, &user.id, secret_sealed, now).await? {
        return Err(MfaError::AlreadyEnabled);
    }
    audit::record(
        &mut *tx,
        now,
        meta,
        Event::own(user, "mfa.enrolment_started", json!({})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Confirms `user`'s pending enrolment with the verified code's time `step` (atomically: a
/// step already used, or an enrolment confirmed meanwhile, is [`MfaError::InvalidCode`]),
/// gives them ten new recovery codes and audits `mfa.enabled`. Returns the codes, to be
/// shown once.
pub async fn confirm_enrolment(
    db: &Db,
    pepper: &[u8; 32],
    now: i64,
    meta: &RequestMeta,
    user: &User,
    step: i64,
) -> Result<Vec<String>, MfaError> {
    let mut tx = db.begin_write().await?;
    if !db::mfa::confirm_with_step(&mut *tx, &user.id, step, now).await? {
        return Err(MfaError::InvalidCode);
    }
    let codes = new_recovery_codes(&mut tx, pepper, &user.id).await?;
    audit::record(
        &mut *tx,
        now,
        meta,
        Event::own(user, "mfa.enabled", json!({"method": "totp"})),
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Removes `user`'s authenticator (and the recovery codes, unless e-mail codes stay on),
/// audited as `mfa.disabled`.
pub async fn disable(db: &Db, now: i64, meta: &RequestMeta, user: &User) -> Result<(), MfaError> {
    let mut tx = db.begin_write().await?;
    db::mfa::delete_totp(&mut tx, &user.id).await?;
    if db::mfa::email_otp_enabled_at(&mut *tx, &user.id)
        .await?
        .is_none()
    {
        db::mfa::delete_recovery_codes(&mut tx, &user.id).await?;
    }
    audit::record(
        &mut *tx,
        now,
        meta,
        Event::own(user, "mfa.disabled", json!({"method": "totp"})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Turns e-mail codes on for `user` (the caller checked the confirming code), audited as
/// `mfa.enabled`. A user who had no second factor gets ten recovery codes, returned to be
/// shown once; one who has an authenticator keeps theirs (the list is empty).
pub async fn enable_email(
    db: &Db,
    pepper: &[u8; 32],
    now: i64,
    meta: &RequestMeta,
    user: &User,
) -> Result<Vec<String>, MfaError> {
    let mut tx = db.begin_write().await?;
    if !db::mfa::enable_email_otp(&mut tx, &user.id, now).await? {
        return Err(MfaError::EmailAlreadyOn);
    }
    let has_totp = db::mfa::has_confirmed_totp(&mut *tx, &user.id).await?;
    let codes = if has_totp {
        Vec::new()
    } else {
        new_recovery_codes(&mut tx, pepper, &user.id).await?
    };
    audit::record(
        &mut *tx,
        now,
        meta,
        Event::own(user, "mfa.enabled", json!({"method": "email"})),
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Turns e-mail codes off for `user` (and removes the recovery codes, unless an authenticator
/// stays), audited as `mfa.disabled`. False when they were off.
pub async fn disable_email(
    db: &Db,
    now: i64,
    meta: &RequestMeta,
    user: &User,
) -> Result<bool, MfaError> {
    let mut tx = db.begin_write().await?;
    if !db::mfa::disable_email_otp(&mut tx, &user.id).await? {
        return Ok(false);
    }
    let keeps_totp = db::mfa::has_confirmed_totp(&mut *tx, &user.id).await?;
    if !keeps_totp {
        db::mfa::delete_recovery_codes(&mut tx, &user.id).await?;
    }
    audit::record(
        &mut *tx,
        now,
        meta,
        Event::own(user, "mfa.disabled", json!({"method": "email"})),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Replaces `user`'s recovery codes with ten new ones, audited as
/// `mfa.recovery_codes_regenerated`. Returns the codes, to be shown once.
pub async fn regenerate_recovery_codes(
    db: &Db,
    pepper: &[u8; 32],
    now: i64,
    meta: &RequestMeta,
    user: &User,
) -> Result<Vec<String>, MfaError> {
    let mut tx = db.begin_write().await?;
    let codes = new_recovery_codes(&mut tx, pepper, &user.id).await?;
    audit::record(
        &mut *tx,
        now,
        meta,
        Event::own(user, "mfa.recovery_codes_regenerated", json!({})),
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Makes 10 new recovery codes, stores their hashes in `tx`, returns them for showing once.
async fn new_recovery_codes(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    pepper: &[u8; 32],
    user_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let codes = recovery::generate_codes();
    let hashes: Vec<String> = codes
        .iter()
        .filter_map(|c| recovery::normalize(c))
        .map(|c| recovery::hash_code(&c, pepper))
        .collect();
    db::mfa::replace_recovery_codes(tx, user_id, &hashes).await?;
    Ok(codes)
}
