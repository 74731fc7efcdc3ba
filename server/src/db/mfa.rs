//! Queries of the second factors: `user_totp`, `user_email_otp`, `email_codes`,
//! `recovery_codes`, and the user's count of wrong codes in a row.

use sqlx::{Any, Executor, Row};

/// A user's authenticator enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpEnrolment {
    /// The sealed secret.
    pub secret_sealed: String,
    /// When it was confirmed; `None` while pending.
    pub confirmed_at: Option<i64>,
    /// The last accepted time step (-1: none yet).
    pub last_step: i64,
}

/// The user's enrolment, confirmed or pending.
pub async fn find_totp<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
) -> Result<Option<TotpEnrolment>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT secret_sealed, confirmed_at, last_step \
         FROM user_totp WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await?;
    row.map(|r| {
        Ok(TotpEnrolment {
            secret_sealed: r.try_get("secret_sealed")?,
            confirmed_at: r.try_get("confirmed_at")?,
            last_step: r.try_get("last_step")?,
        })
    })
    .transpose()
}

/// Whether the user has a confirmed authenticator (a pending enrolment is not one).
pub async fn has_confirmed_totp<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
) -> Result<bool, sqlx::Error> {
    Ok(find_totp(db, user_id)
        .await?
        .is_some_and(|t| t.confirmed_at.is_some()))
}

/// Starts (or restarts) a pending enrolment. Never replaces a confirmed one: returns false then.
pub async fn upsert_pending_totp<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
    secret_sealed: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO user_totp (user_id, secret_sealed, confirmed_at, last_step, created_at) VALUES ($1, $2, NULL, -1, $3) \
         ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, last_step = -1, created_at = excluded.created_at \
         WHERE user_totp.confirmed_at IS NULL",
    )
    .bind(user_id)
    .bind(secret_sealed)
    .bind(now)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Uses time step `step` of a confirmed enrolment, atomically: true for exactly one caller,
/// and only if no later or equal step was used before (so a code cannot be replayed).
pub async fn claim_step<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
    step: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE user_totp SET last_step = $1 WHERE user_id = $2 AND last_step < $1 AND confirmed_at IS NOT NULL",
    )
    .bind(step)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Confirms a pending enrolment with time step `step`, atomically (same rule as [`claim_step`]).
pub async fn confirm_with_step<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
    step: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE user_totp SET last_step = $1, confirmed_at = $2 WHERE user_id = $3 AND last_step < $1 AND confirmed_at IS NULL",
    )
    .bind(step)
    .bind(now)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Reserves one of the `max` wrong codes in a row a user may enter, before the code is
/// checked: one conditional UPDATE, so concurrent requests cannot together take more than
/// `max`. Returns the count including this attempt, or `None` when the allowance is used up or
/// the code step is locked.
pub async fn reserve_code<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
    max: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query(
        "UPDATE users SET failed_codes = failed_codes + 1 \
         WHERE id = $1 AND codes_locked_at IS NULL AND failed_codes < $2 \
         RETURNING failed_codes",
    )
    .bind(user_id)
    .bind(max)
    .fetch_optional(db)
    .await?
    .map(|r| r.try_get("failed_codes"))
    .transpose()
}

/// Gives back a code reserved with [`reserve_code`] that was not checked.
pub async fn release_code<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET failed_codes = failed_codes - 1 \
         WHERE id = $1 AND failed_codes > 0 AND codes_locked_at IS NULL",
    )
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(())
}

/// A right code: the wrong ones in a row start again from zero (unless the step is locked).
pub async fn code_accepted<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET failed_codes = 0 WHERE id = $1 AND codes_locked_at IS NULL")
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Marks the code step locked at `now`; true for the one caller that locked it.
pub async fn lock_codes<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE users SET codes_locked_at = $1 WHERE id = $2 AND codes_locked_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Clears a lock and the count of wrong codes (a password reset, or an administrator);
/// returns whether the code step was locked.
pub async fn unlock_codes(
    conn: &mut sqlx::AnyConnection,
    user_id: &str,
) -> Result<bool, sqlx::Error> {
    let was_locked = sqlx::query(
        "UPDATE users SET codes_locked_at = NULL WHERE id = $1 AND codes_locked_at IS NOT NULL",
    )
    .bind(user_id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    sqlx::query("UPDATE users SET failed_codes = 0 WHERE id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(was_locked)
}

/// Removes the authenticator enrolment (the recovery codes stay: see [`delete_recovery_codes`]).
pub async fn delete_totp(conn: &mut sqlx::AnyConnection, user_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM user_totp WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Removes the user's recovery codes (their last second factor went).
pub async fn delete_recovery_codes(
    conn: &mut sqlx::AnyConnection,
    user_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The user's count of wrong codes in a row, and when it locked their codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeGuard {
    /// Wrong codes in a row (counting codes being checked); a right code resets it.
    pub failed_codes: i64,
    /// When the code step was locked (after too many wrong codes in a row).
    pub locked_at: Option<i64>,
}

/// The user's [`CodeGuard`] (zero and unlocked for an unknown user).
pub async fn code_guard<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
) -> Result<CodeGuard, sqlx::Error> {
    let row = sqlx::query("SELECT failed_codes, codes_locked_at FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(db)
        .await?;
    Ok(match row {
        Some(r) => CodeGuard {
            failed_codes: r.try_get("failed_codes")?,
            locked_at: r.try_get("codes_locked_at")?,
        },
        None => CodeGuard {
            failed_codes: 0,
            locked_at: None,
        },
    })
}

/// When the user turned e-mail codes on, if they did.
pub async fn email_otp_enabled_at<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query("SELECT enabled_at FROM user_email_otp WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(db)
        .await?
        .map(|r| r.try_get("enabled_at"))
        .transpose()
}

/// Turns e-mail codes on for the user; false when they already were.
pub async fn enable_email_otp(
    conn: &mut sqlx::AnyConnection,
    user_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO user_email_otp (user_id, enabled_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Turns e-mail codes off for the user (and drops a code in flight); false when they were off.
pub async fn disable_email_otp(
    conn: &mut sqlx::AnyConnection,
    user_id: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM email_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    let r = sqlx::query("DELETE FROM user_email_otp WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// An e-mail code to store: the one the user has outstanding from now on.
#[derive(Debug, Clone, Copy)]
pub struct NewEmailCode<'a> {
    /// `enrol`, `sign_in` or `step_up`.
    pub purpose: &'a str,
    /// The session it was sent for.
    pub session_id: &'a str,
    /// Its keyed hash.
    pub code_hash: &'a str,
    /// UTC ms.
    pub created_at: i64,
    /// UTC ms; not accepted from then on.
    pub expires_at: i64,
}

/// Stores `code` as the user's outstanding e-mail code, replacing (so invalidating) any
/// earlier one.
pub async fn replace_email_code<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
    code: NewEmailCode<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO email_codes (user_id, purpose, session_id, code_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (user_id) DO UPDATE SET purpose = excluded.purpose, session_id = excluded.session_id, \
         code_hash = excluded.code_hash, created_at = excluded.created_at, expires_at = excluded.expires_at",
    )
    .bind(user_id)
    .bind(code.purpose)
    .bind(code.session_id)
    .bind(code.code_hash)
    .bind(code.created_at)
    .bind(code.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Uses up the user's outstanding e-mail code if it is `code_hash`, was sent for `purpose` in
/// `session_id` and has not expired at `now`: one conditional DELETE, so true for exactly one
/// caller.
pub async fn use_email_code<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
    purpose: &str,
    session_id: &str,
    code_hash: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "DELETE FROM email_codes WHERE user_id = $1 AND purpose = $2 AND session_id = $3 \
         AND code_hash = $4 AND expires_at > $5",
    )
    .bind(user_id)
    .bind(purpose)
    .bind(session_id)
    .bind(code_hash)
    .bind(now)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Whether the user has an e-mail code outstanding for `purpose` in `session_id` (expired or
/// not), for telling "no code was sent" from "wrong code".
pub async fn has_email_code<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
    purpose: &str,
    session_id: &str,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "SELECT 1 AS one FROM email_codes WHERE user_id = $1 AND purpose = $2 AND session_id = $3",
    )
    .bind(user_id)
    .bind(purpose)
    .bind(session_id)
    .fetch_optional(db)
    .await?
    .is_some())
}

/// Replaces all of a user's recovery codes with `hashes`.
pub async fn replace_recovery_codes(
    tx: &mut sqlx::Transaction<'_, Any>,
    user_id: &str,
    hashes: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    for hash in hashes {
        sqlx::query(
            "INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)",
        )
        .bind(user_id)
        .bind(hash)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Marks an unused recovery code used, atomically; true for exactly one caller.
pub async fn use_recovery_code<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
    code_hash: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
        .bind(now)
        .bind(user_id)
        .bind(code_hash)
        .execute(db)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// How many unused recovery codes the user has.
pub async fn unused_recovery_codes<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .fetch_one(db)
        .await?
        .try_get("n")
}
