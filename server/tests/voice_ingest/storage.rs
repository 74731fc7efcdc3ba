//! What the import stores: rollups that equal a recomputation whatever the arrival order,
//! re-imports and overlapping files that change nothing, duplicates inside a large batch, ids
//! per organisation, and calls deleted with their service or organisation.

use portal::voice::ingest::{ImportOptions, HOUR_MS};

use crate::calls::{csv, generated_calls, import, org_with_services, small_batches, Cdr, BASE};
use crate::rollups::{assert_rollups_match_raw_calls, country_rollup, service_rollup};
use crate::support::{count, test_db};

#[tokio::test]
async fn rollups_equal_a_recomputation_whatever_the_arrival_order() {
    let t = test_db().await;
    let in_order = org_with_services(&t.db, "in-order").await;
    let shuffled = org_with_services(&t.db, "shuffled").await;
    let mut calls = generated_calls();
    calls.sort_by_key(|c| c.start);
    let report = import(&t.db, &in_order, &csv(&calls), ImportOptions::default()).await;
    assert_eq!(
        (report.stored, report.duplicates, report.refused),
        (calls.len() as u64, 0, 0)
    );

    // The same calls, newest first and interleaved, in batches of 7 over two imports.
    calls.reverse();
    let (odd, even): (Vec<_>, Vec<_>) = calls
        .iter()
        .cloned()
        .enumerate()
        .partition(|(i, _)| i % 2 == 1);
    let odd: Vec<Cdr> = odd.into_iter().map(|(_, c)| c).collect();
    let even: Vec<Cdr> = even.into_iter().map(|(_, c)| c).collect();
    assert_eq!(
        import(&t.db, &shuffled, &csv(&odd), small_batches(7))
            .await
            .stored,
        odd.len() as u64
    );
    assert_eq!(
        import(&t.db, &shuffled, &csv(&even), small_batches(7))
            .await
            .stored,
        even.len() as u64
    );

    assert_rollups_match_raw_calls(&t.db, &in_order).await;
    assert_rollups_match_raw_calls(&t.db, &shuffled).await;
    assert_eq!(
        service_rollup(&t.db, &in_order).await.len(),
        service_rollup(&t.db, &shuffled).await.len()
    );
    for ((key, a), b) in service_rollup(&t.db, &in_order)
        .await
        .iter()
        .zip(service_rollup(&t.db, &shuffled).await.values())
    {
        assert_eq!((a.0, a.2), (b.0, b.2), "{key:?}");
    }

    // The long calls count in every hour they overlap, with no calls started there.
    let rollup = service_rollup(&t.db, &in_order).await;
    let b = |h: i64| rollup[&("Trunk B".to_string(), BASE + h * HOUR_MS)].2;
    assert!(b(1) >= 1 && b(2) >= 1 && b(3) >= 1);
    let a = |h: i64| rollup[&("Trunk A".to_string(), BASE + h * HOUR_MS)].2;
    assert!(a(0) >= 1 && a(1) >= 1 && a(2) >= 1 && a(3) >= 1);
}

#[tokio::test]
async fn re_importing_a_file_changes_nothing() {
    let t = test_db().await;
    let org = org_with_services(&t.db, "contoso").await;
    let calls = generated_calls();
    let input = csv(&calls);
    let first = import(&t.db, &org, &input, small_batches(10)).await;
    assert_eq!((first.stored, first.duplicates), (calls.len() as u64, 0));
    let services = service_rollup(&t.db, &org).await;
    let countries = country_rollup(&t.db, &org).await;

    let again = import(&t.db, &org, &input, small_batches(10)).await;
    assert_eq!(
        (again.stored, again.duplicates, again.refused),
        (0, calls.len() as u64, 0)
    );
    assert_eq!(service_rollup(&t.db, &org).await, services);
    assert_eq!(country_rollup(&t.db, &org).await, countries);
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM calls").await,
        calls.len() as i64
    );

    // A file that overlaps what is stored (as after a crash mid-import) completes it; an id
    // repeated within one file is stored once.
    let mut more = calls[..5].to_vec();
    let mut extra = calls[0].clone();
    extra.id = "extra".into();
    more.push(extra.clone());
    more.push(extra);
    let report = import(&t.db, &org, &csv(&more), ImportOptions::default()).await;
    assert_eq!((report.stored, report.duplicates), (1, 6));
    assert_rollups_match_raw_calls(&t.db, &org).await;
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'calls.imported'"
        )
        .await,
        3
    );
}

#[tokio::test]
async fn stored_ids_in_the_middle_of_a_large_batch_are_duplicates() {
    // One 2,500-row batch is three insert statements (1,000 rows each); the middle one meets
    // 500 stored ids, so the ingest must tell exactly which of its rows were new.
    let t = test_db().await;
    let org = org_with_services(&t.db, "contoso").await;
    let call = |i: i64| Cdr {
        id: format!("big-{i:05}"),
        service: if i % 3 == 0 { "Trunk B" } else { "Trunk A" },
        start: BASE + i * 7_000,
        answer: Some(BASE + i * 7_000 + 2_000),
        end: BASE + i * 7_000 + 30_000 + (i % 11) * 60_000,
        result: "answered",
        mos: Some(4.0),
        country: "GB",
    };
    let stored_first: Vec<Cdr> = (1_250..1_750).map(call).collect();
    let first = import(&t.db, &org, &csv(&stored_first), ImportOptions::default()).await;
    assert_eq!(first.stored, 500);
    let all: Vec<Cdr> = (0..2_500).map(call).collect();
    let report = import(&t.db, &org, &csv(&all), ImportOptions::default()).await;
    assert_eq!((report.stored, report.duplicates), (2_000, 500));
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM calls").await, 2_500);
    assert_rollups_match_raw_calls(&t.db, &org).await;
}

#[tokio::test]
async fn deleting_a_service_or_an_organisation_deletes_its_calls() {
    let t = test_db().await;
    let org = org_with_services(&t.db, "contoso").await;
    let other = org_with_services(&t.db, "fabrikam").await;
    let calls = generated_calls();
    import(&t.db, &org, &csv(&calls), ImportOptions::default()).await;
    import(&t.db, &other, &csv(&calls), ImportOptions::default()).await;
    let total = count(&t.db, "SELECT COUNT(*) FROM calls").await;
    let on_b: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM calls c JOIN services s ON s.id = c.service_id \
         WHERE s.org_id = $1 AND s.name = 'Trunk B'",
    )
    .bind(&org)
    .fetch_one(t.db.pool())
    .await
    .unwrap();
    assert!(on_b > 0);
    sqlx::query("DELETE FROM services WHERE org_id = $1 AND name = 'Trunk B'")
        .bind(&org)
        .execute(t.db.pool())
        .await
        .unwrap();
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM calls").await,
        total - on_b
    );
    sqlx::query("DELETE FROM organisations WHERE id = $1")
        .bind(&org)
        .execute(t.db.pool())
        .await
        .unwrap();
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM calls").await,
        calls.len() as i64
    );
}

#[tokio::test]
async fn the_same_id_in_two_organisations_is_two_calls() {
    let t = test_db().await;
    let a = org_with_services(&t.db, "org-a").await;
    let b = org_with_services(&t.db, "org-b").await;
    let calls = generated_calls()[..10].to_vec();
    assert_eq!(
        import(&t.db, &a, &csv(&calls), ImportOptions::default())
            .await
            .stored,
        10
    );
    let report = import(&t.db, &b, &csv(&calls), ImportOptions::default()).await;
    assert_eq!((report.stored, report.duplicates), (10, 0));
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM calls").await, 20);
    assert_eq!(
        service_rollup(&t.db, &a).await.len(),
        service_rollup(&t.db, &b).await.len()
    );
    assert_rollups_match_raw_calls(&t.db, &a).await;
    assert_rollups_match_raw_calls(&t.db, &b).await;
}

/// Input that cancels `stop` once `after` bytes have been read from it, as SIGTERM would
/// arrive in the middle of an upload.
struct StopsHalfway {
    input: std::io::Cursor<Vec<u8>>,
    after: u64,
    stop: tokio_util::sync::CancellationToken,
}

impl std::io::Read for StopsHalfway {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.input.position() >= self.after {
            self.stop.cancel();
        }
        // Small reads, so the stop lands between batches rather than after the last one.
        let n = buf.len().min(512);
        self.input.read(&mut buf[..n])
    }
}

#[tokio::test]
async fn a_stop_in_the_middle_keeps_whole_batches_and_a_rerun_completes_the_import() {
    let t = test_db().await;
    let org = org_with_services(&t.db, "stopped").await;
    let calls = generated_calls();
    let input = csv(&calls);
    for strict in [false, true] {
        let mut options = small_batches(10);
        options.strict = strict;
        let stop = options.stop.clone();
        let reader = StopsHalfway {
            input: std::io::Cursor::new(input.as_bytes().to_vec()),
            after: input.len() as u64 / 2,
            stop,
        };
        let before = count(&t.db, "SELECT COUNT(*) FROM calls").await;
        let report = portal::voice::ingest::import(
            &t.db,
            portal::accounts::Actor::CLI,
            &org,
            portal::voice::cdr::Format::Csv,
            reader,
            &options,
            |_, _| {},
        )
        .await
        .unwrap();
        assert!(report.interrupted, "strict: {strict}");
        let stored = count(&t.db, "SELECT COUNT(*) FROM calls").await - before;
        assert_eq!(stored as u64, report.stored, "strict: {strict}");
        if strict {
            assert_eq!(stored, 0, "strict mode rolls back");
        } else {
            assert!(stored > 0 && (stored as usize) < calls.len(), "{stored}");
            assert_eq!(stored % 10, 0, "whole batches only: {stored}");
        }
    }
    // The same file again completes it: what was stored counts as duplicates.
    let done = count(&t.db, "SELECT COUNT(*) FROM calls").await as u64;
    let report = import(&t.db, &org, &input, ImportOptions::default()).await;
    assert!(!report.interrupted);
    assert_eq!(report.duplicates, done);
    assert_eq!(report.stored + report.duplicates, calls.len() as u64);
    assert_rollups_match_raw_calls(&t.db, &org).await;
}
