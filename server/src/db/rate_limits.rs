//! Queries of `auth_failures`: the failed attempts that rate limits count, shared by every
//! portal instance through the database.

use sqlx::{Any, Executor, Row};

/// Records one failure of `key` under `scope` at `now`.
pub async fn record<'e, E: Executor<'e, Database = Any>>(
    db: E,
    scope: &str,
    key: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO auth_failures (scope, key, at) VALUES ($1, $2, $3)")
        .bind(scope)
        .bind(key)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// Failures of `key` under `scope` since `since`: how many, and the latest time.
pub async fn recent<'e, E: Executor<'e, Database = Any>>(
    db: E,
    scope: &str,
    key: &str,
    since: i64,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    let row = sqlx::query("SELECT COUNT(*) AS n, MAX(at) AS latest FROM auth_failures WHERE scope = $1 AND key = $2 AND at > $3")
        .bind(scope)
        .bind(key)
        .bind(since)
        .fetch_one(db)
        .await?;
    Ok((row.try_get("n")?, row.try_get("latest")?))
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
