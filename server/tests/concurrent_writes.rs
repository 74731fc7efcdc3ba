//! Writes that meet: a transaction that reads and then writes while another connection
//! commits. Found by `make soak` (issue 18): on SQLite a deferred transaction that has read
//! gets SQLITE_BUSY at its first write when another connection committed since its read, and
//! the busy timeout does not help (waiting cannot make its snapshot current again). Under
//! load, people editing numbers while an ingest client stored batches got 503. Write
//! transactions now begin with `BEGIN IMMEDIATE` on SQLite ([`Db::begin_write`]), so the
//! other writer waits for the lock instead.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use support::{count, create_org, test_db};

#[tokio::test]
async fn a_transaction_that_reads_then_writes_survives_another_commit_in_between() {
    let t = test_db().await;
    let db = &t.db;
    create_org(db, "contoso").await;

    let mut tx = db.begin_write().await.unwrap();
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organisations")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    // Another connection writes meanwhile (an ingest batch, a session's last-seen time).
    let pool = db.pool().clone();
    let other = tokio::spawn(async move {
        sqlx::query(
            "INSERT INTO organisations (id, slug, name, created_at) \
             VALUES ('org-other', 'other', 'Other', 0)",
        )
        .execute(&pool)
        .await
    });
    // Long enough for the other write to commit, were it not waiting for this transaction.
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::query("UPDATE organisations SET name = 'Contoso Ltd' WHERE slug = 'contoso'")
        .execute(&mut *tx)
        .await
        .expect("the write after the read is not refused");
    tx.commit().await.unwrap();
    other
        .await
        .unwrap()
        .expect("the other write waits its turn and succeeds");

    assert_eq!(
        count(db, "SELECT COUNT(*) FROM organisations").await,
        before + 1
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM organisations WHERE name = 'Contoso Ltd'"
        )
        .await,
        1
    );
}

/// The state a failed COMMIT leaves on SQLite (the full-disk case): the database has ended the
/// transaction, sqlx's own ROLLBACK then fails, and the connection goes back to the pool
/// believing it is still in one. Made here on every pooled connection at once by ending each
/// transaction behind sqlx's back; every write transaction afterwards must still begin.
#[tokio::test]
async fn a_connection_that_believes_it_is_in_a_transaction_is_not_handed_out() {
    let t = test_db().await;
    let db = &t.db;
    let n = db.pool_max() as usize;
    let mut stale = Vec::new();
    for _ in 0..n {
        stale.push(db.pool().begin().await.unwrap());
    }
    for tx in &mut stale {
        sqlx::query("ROLLBACK").execute(&mut **tx).await.unwrap();
    }
    drop(stale);

    for i in 0..n {
        let mut tx = db
            .begin_write()
            .await
            .expect("a write transaction begins on a sound connection");
        sqlx::query(&format!(
            "INSERT INTO organisations (id, slug, name, created_at) \
             VALUES ('org-{i}', 'org-{i}', 'Org {i}', 0)"
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM organisations").await,
        n as i64
    );
}
