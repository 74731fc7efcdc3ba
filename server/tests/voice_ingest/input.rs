//! What the import reads: text stored exactly as sent, invalid rows refused with their line
//! and field, strict mode writing nothing, a wrong header or unknown organisation, NDJSON.

use portal::{
    accounts::Actor,
    voice::{
        cdr::{CdrReader, Format, InputError, HEADER},
        ingest::{self, ImportOptions, IngestError, HOUR_MS},
    },
};
use sqlx::Row;

use crate::calls::{csv, generated_calls, import, org_with_services, BASE};
use crate::rollups::{assert_rollups_match_raw_calls, service_rollup};
use crate::support::{count, test_db};

#[tokio::test]
async fn text_with_quotes_commas_braces_and_backslashes_is_stored_as_sent() {
    // PostgreSQL receives the batch as array literals: quoting must not change a value.
    let t = test_db().await;
    let org = org_with_services(&t.db, "contoso").await;
    let reason = r#"Busy, "really" \ {here} NULL"#;
    let input = format!(
        "{}\nid \"1\",Trunk A,2026-03-01T09:00:00Z,,2026-03-01T09:00:05Z,inbound,+441134960000,+4930901820,busy,486,\"{}\",,,,DE\n",
        HEADER.join(","),
        reason.replace('"', "\"\"")
    );
    let report = import(&t.db, &org, &input, ImportOptions::default()).await;
    assert_eq!((report.stored, report.refused), (1, 0), "{report:?}");
    let row = sqlx::query("SELECT id, sip_reason, mos FROM calls")
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("id"), "id \"1\"");
    assert_eq!(row.get::<String, _>("sip_reason"), reason);
    assert_eq!(row.get::<Option<f64>, _>("mos"), None);
}

#[tokio::test]
async fn invalid_rows_are_refused_and_the_rest_stored() {
    let t = test_db().await;
    let org = org_with_services(&t.db, "contoso").await;
    let calls = generated_calls()[..4].to_vec();
    let mut input = csv(&calls);
    // Line 6: ends before it starts; line 7: a service of another organisation.
    let mut bad = calls[0].clone();
    bad.id = "bad-1".into();
    bad.end = bad.start - 1;
    bad.answer = None;
    bad.result = "failed";
    input.push_str(&bad.csv());
    input.push('\n');
    input.push_str(
        &calls[1]
            .csv()
            .replace("call-", "other-")
            .replace("Trunk A", "Nope")
            .replace("Trunk B", "Nope"),
    );
    input.push('\n');
    let report = import(&t.db, &org, &input, ImportOptions::default()).await;
    assert_eq!((report.stored, report.refused), (4, 2));
    let reasons: Vec<(u64, &str)> = report
        .refusals
        .iter()
        .map(|r| (r.line, r.field.as_str()))
        .collect();
    assert_eq!(reasons, vec![(6, "end"), (7, "service")]);
}

#[tokio::test]
async fn strict_mode_writes_nothing_when_a_row_is_invalid() {
    let t = test_db().await;
    let org = org_with_services(&t.db, "contoso").await;
    let calls = generated_calls();
    let mut input = csv(&calls);
    input.push_str(
        &calls[0]
            .csv()
            .replace("call-000", "late-bad")
            .replace(",+441134960000,", ",0044,"),
    );
    input.push('\n');
    let strict = ImportOptions {
        strict: true,
        batch_rows: 10,
        ..ImportOptions::default()
    };
    let report = import(&t.db, &org, &input, strict.clone()).await;
    assert!(report.rolled_back);
    assert_eq!((report.stored, report.refused), (0, 1));
    assert_eq!(report.refusals[0].field, "from");
    assert_eq!(report.refusals[0].line, calls.len() as u64 + 2);
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM calls").await, 0);
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM call_hourly_by_service").await,
        0
    );
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM call_hourly_by_country").await,
        0
    );

    // A clean file in strict mode is stored whole.
    let report = import(&t.db, &org, &csv(&calls), strict).await;
    assert!(!report.rolled_back);
    assert_eq!(report.stored, calls.len() as u64);
    assert_rollups_match_raw_calls(&t.db, &org).await;
}

#[tokio::test]
async fn a_wrong_header_or_unknown_org_is_refused() {
    let t = test_db().await;
    org_with_services(&t.db, "contoso").await;
    let input = csv(&generated_calls()[..3]).replacen("id,service", "call_id,service", 1);
    assert!(matches!(
        CdrReader::new(Format::Csv, input.as_bytes()),
        Err(InputError::WrongHeader { .. })
    ));
    let e = ingest::find_org(&t.db, "nobody").await.unwrap_err();
    assert!(matches!(e, IngestError::UnknownOrg(_)));
    assert_eq!(e.code(), "unknown_org");
}

#[tokio::test]
async fn ndjson_imports_like_csv() {
    let t = test_db().await;
    let org = org_with_services(&t.db, "contoso").await;
    let input = r#"{"id":"n-1","service":"Trunk A","start":"2026-03-01T09:00:00Z","answer":"2026-03-01T09:00:02.5+00:00","end":"2026-03-01T10:00:02Z","direction":"inbound","from":"+441134960000","to":"+4930901820","result":"answered","sip_code":200,"sip_reason":"OK","mos":4.1,"jitter_ms":2,"packet_loss_pct":0.5,"country":"GB"}
{"id":"n-2","service":"Trunk A","start":"2026-03-01T09:30:00Z","end":"2026-03-01T09:30:10Z","direction":"outbound","from":"+441134960000","to":"+4930901820","result":"busy","sip_code":486,"country":"DE"}
"#;
    let report = ingest::import(
        &t.db,
        Actor::CLI,
        &org,
        Format::Ndjson,
        input.as_bytes(),
        &ImportOptions::default(),
        |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!((report.stored, report.refused), (2, 0));
    let row = sqlx::query("SELECT answered_at, mos, sip_reason FROM calls WHERE id = 'n-1'")
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>("answered_at"), BASE + 9 * HOUR_MS + 2_500);
    assert_eq!(row.get::<f64, _>("mos"), 4.1);
    assert_rollups_match_raw_calls(&t.db, &org).await;
    let rollup = service_rollup(&t.db, &org).await;
    assert_eq!(rollup[&("Trunk A".to_string(), BASE + 9 * HOUR_MS)].2, 2);
    assert_eq!(rollup[&("Trunk A".to_string(), BASE + 10 * HOUR_MS)].2, 1);
}
