//! Queries of `auth_failures`: the failed attempts that rate limits count, shared by every
//! portal instance through the database.

use sqlx::{Any, Executor, Row};

/// Records one attempt of `key` under `scope` at `now` before its outcome is known, and
/// returns the row's id: an attempt counts as a failure from the moment it starts, so two
/// concurrent attempts each see the other (see `auth::rate_limit::reserve`).
pub async fn reserve<'e, E: Executor<'e, Database = Any>>(
    db: E,
    scope: &str,
    key: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query("INSERT INTO auth_failures (scope, key, at) VALUES ($1, $2, $3) RETURNING id")
        .bind(scope)
        .bind(key)
        .bind(now)
        .fetch_one(db)
        .await?
        .try_get("id")
}

/// Failures of `key` under `scope` since `since` other than the row `except`: how many, and
/// the latest time.
pub async fn recent_except<'e, E: Executor<'e, Database = Any>>(
    db: E,
    scope: &str,
    key: &str,
    since: i64,
    except: i64,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, MAX(at) AS latest FROM auth_failures \
         WHERE scope = $1 AND key = $2 AND at > $3 AND id <> $4",
    )
    .bind(scope)
    .bind(key)
    .bind(since)
    .bind(except)
    .fetch_one(db)
    .await?;
    Ok((row.try_get("n")?, row.try_get("latest")?))
}

/// Deletes one recorded attempt (it succeeded, or was refused before it was tried).
pub async fn delete<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM auth_failures WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Forgets the failures of `key` under `scope` (after a success).
pub async fn clear<'e, E: Executor<'e, Database = Any>>(
    db: E,
    scope: &str,
    key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM auth_failures WHERE scope = $1 AND key = $2")
        .bind(scope)
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}

/// Deletes failures older than `before` (housekeeping).
pub async fn prune<'e, E: Executor<'e, Database = Any>>(
    db: E,
    before: i64,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM auth_failures WHERE at < $1")
        .bind(before)
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}
