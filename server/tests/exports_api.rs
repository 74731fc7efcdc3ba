//! `GET /api/v1/calls/export.csv` and `GET /api/v1/numbers/export.csv` over the real router:
//! the CSV headers, every row across several chunks in the list order, quoting, the list
//! endpoints' filters and their 422s (before any CSV), isolation between customers through
//! sessions and API tokens, who may export, and the round trip: `portal calls import` of a
//! calls export finds every row a duplicate.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::{Command, Stdio};

use portal::{clock::rfc3339_ms, voice::cdr::HEADER};
use sqlx::Row;
use support::{
    api::{api_token, get_bearer},
    voice::{customer, ingest_rows, insert_number},
    TestApp, TestResponse,
};

/// 2026-03-01T00:00:00Z.
const BASE: i64 = 1_772_323_200_000;
const MIN: i64 = 60_000;
/// The range that holds every call of these tests.
const RANGE: &str = "from=2026-02-28T00:00:00Z&to=2026-03-10T00:00:00Z";
/// More calls than one export chunk (5,000) holds, twice over.
const CALLS: i64 = 12_345;

/// One CSV line of the exchange format, quoted by the csv writer.
fn line(fields: &[String]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(fields).unwrap();
    String::from_utf8(w.into_inner().unwrap())
        .unwrap()
        .trim_end()
        .to_string()
}

/// Call `i`: every fifth unanswered with a reason holding a comma, every third without
/// quality figures, every seventh inbound, and pairs sharing a start time (ties in the order).
fn cdr(i: i64, service: &str) -> String {
    let start = BASE + (i / 2) * MIN + 1_250;
    let answered = i % 5 != 0;
    let quality = i % 3 != 0;
    line(&[
        format!("call-{i:05}"),
        service.to_string(),
        rfc3339_ms(start),
        if answered {
            rfc3339_ms(start + 4_000)
        } else {
            String::new()
        },
        rfc3339_ms(start + 95_500),
        if i % 7 == 0 { "inbound" } else { "outbound" }.to_string(),
        "+441134960000".to_string(),
        format!("+49309018{:04}", i % 10_000),
        if answered { "answered" } else { "busy" }.to_string(),
        if answered { "200" } else { "486" }.to_string(),
        if answered {
            "OK"
        } else {
            "Busy Here, try later"
        }
        .to_string(),
        if quality {
            format!("{:.1}", 3.0 + (i % 20) as f64 / 10.0)
        } else {
            String::new()
        },
        if quality {
            "2.5".to_string()
        } else {
            String::new()
        },
        if quality {
            "0.25".to_string()
        } else {
            String::new()
        },
        "DE".to_string(),
    ])
}

fn records(res: &TestResponse) -> Vec<csv::StringRecord> {
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("text/csv; charset=utf-8"));
    let disposition = res.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"") && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let mut r = csv::Reader::from_reader(res.body.as_slice());
    let mut rows = vec![r.headers().unwrap().clone()];
    rows.extend(r.records().map(Result::unwrap));
    rows
}

fn column(rows: &[csv::StringRecord], i: usize) -> Vec<String> {
    rows[1..].iter().map(|r| r[i].to_string()).collect()
}

fn portal(db_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .env_remove("PORTAL_ENV")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

async fn call_count(app: &TestApp) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM calls")
        .fetch_one(app.db.db.pool())
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

#[tokio::test]
async fn the_calls_export_holds_every_call_and_reimports_as_duplicates() {
    let app = TestApp::new().await;
    let service = "London, \"Main\" trunk";
    let a = customer(&app, "contoso", &[(service, 30)]).await;
    let rows: Vec<String> = (0..CALLS).map(|i| cdr(i, service)).collect();
    ingest_rows(&app, &a.org_id, &rows).await;

    let res = app
        .get_with(&format!("/api/v1/calls/export.csv?{RANGE}"), &a.cookie)
        .await;
    let text = res.text();
    assert!(
        text.starts_with(&format!("{}\n", HEADER.join(","))),
        "{}",
        &text[..200]
    );
    let exported = records(&res);
    assert_eq!(exported.len() as i64, CALLS + 1);
    // Newest first by (start, id): the ids descend.
    let mut expected: Vec<String> = (0..CALLS).map(|i| format!("call-{i:05}")).collect();
    expected.reverse();
    assert_eq!(column(&exported, 0), expected);
    // Fields as the exchange format writes them.
    let last = exported.iter().find(|r| &r[0] == "call-00010").unwrap();
    assert_eq!(&last[1], service);
    assert_eq!(&last[2], "2026-03-01T00:05:01.25Z");
    assert_eq!(&last[3], "");
    assert_eq!(&last[4], "2026-03-01T00:06:36.75Z");
    assert_eq!(&last[8], "busy");
    assert_eq!(&last[9], "486");
    assert_eq!(&last[10], "Busy Here, try later");
    assert_eq!(&last[11], "4");
    assert_eq!(&last[14], "DE");
    let no_quality = exported.iter().find(|r| &r[0] == "call-00003").unwrap();
    assert_eq!(&no_quality[3], "2026-03-01T00:01:05.25Z");
    assert_eq!(
        (&no_quality[11], &no_quality[12], &no_quality[13]),
        ("", "", "")
    );

    // The same rows as the list endpoint's first page.
    let page = app
        .get_with(&format!("/api/v1/calls?{RANGE}&limit=500"), &a.cookie)
        .await
        .json();
    let listed: Vec<String> = page["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed[..], column(&exported, 0)[..500]);

    // `portal calls import` of the export: every row a duplicate, nothing changed.
    let file = app.db.dir_path().join("export.csv");
    std::fs::write(&file, &res.body).unwrap();
    let before = call_count(&app).await;
    let out = portal(
        &app.db.url,
        &[
            "calls",
            "import",
            file.to_str().unwrap(),
            "--org",
            "contoso",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("0 stored, {CALLS} duplicates, 0 refused")),
        "{stdout}"
    );
    assert_eq!(call_count(&app).await, before);
}

#[tokio::test]
async fn the_calls_export_applies_the_list_filters_and_their_errors() {
    let app = TestApp::new().await;
    let a = customer(&app, "contoso", &[("Trunk A", 30)]).await;
    let rows: Vec<String> = (0..60).map(|i| cdr(i, "Trunk A")).collect();
    ingest_rows(&app, &a.org_id, &rows).await;
    let export = |q: String| {
        let cookie = a.cookie.clone();
        let app = &app;
        async move {
            app.get_with(&format!("/api/v1/calls/export.csv?{q}"), &cookie)
                .await
        }
    };
    let inbound = records(&export(format!("{RANGE}&direction=inbound")).await);
    assert_eq!(
        column(&inbound, 0),
        [
            "call-00056",
            "call-00049",
            "call-00042",
            "call-00035",
            "call-00028",
            "call-00021",
            "call-00014",
            "call-00007",
            "call-00000"
        ]
    );
    let busy = records(&export(format!("{RANGE}&result=busy&min_mos=4.5")).await);
    // Busy: every fifth; MOS ≥ 4.5: i mod 20 ≥ 15 and not a multiple of 3 (no MOS).
    assert_eq!(column(&busy, 0), ["call-00055", "call-00035"]);
    let by_number = records(&export(format!("{RANGE}&number=%2B493090180012")).await);
    assert_eq!(column(&by_number, 0), ["call-00012"]);
    let by_service = records(&export(format!("{RANGE}&service={}", a.trunk)).await);
    assert_eq!(by_service.len(), 61);
    assert_eq!(
        records(&export(format!("{RANGE}&service=other")).await).len(),
        1
    );
    // The default range is the list's: the 24 hours before now, which holds none of these.
    assert_eq!(records(&export(String::new()).await).len(), 1);
    // `limit` does not cut an export short.
    assert_eq!(records(&export(format!("{RANGE}&limit=5")).await).len(), 61);

    for q in [
        "from=yesterday",
        "to=2026-03-01",
        "from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z",
        "direction=sideways",
        "result=ok",
        "number=12345",
        "country=UK",
        "min_mos=6",
        "limit=0",
        "cursor=nonsense",
        "service=",
    ] {
        let listed = app.get_with(&format!("/api/v1/calls?{q}"), &a.cookie).await;
        let exported = export(q.to_string()).await;
        assert_eq!(exported.status, 422, "{q}: {}", exported.text());
        assert_eq!(
            exported.header("content-type"),
            Some("application/json"),
            "{q}"
        );
        assert_eq!(exported.json(), listed.json(), "{q}");
    }
}

#[tokio::test]
async fn exports_hold_only_the_callers_organisation() {
    let app = TestApp::new().await;
    let a = customer(&app, "contoso", &[("Trunk A", 30)]).await;
    let b = customer(&app, "fabrikam", &[("Trunk A", 30)]).await;
    ingest_rows(&app, &a.org_id, &[cdr(1, "Trunk A"), cdr(2, "Trunk A")]).await;
    ingest_rows(&app, &b.org_id, &[cdr(2, "Trunk A"), cdr(3, "Trunk A")]).await;
    insert_number(&app, &a.org_id, "+442079460001", "GB", "active").await;
    insert_number(&app, &b.org_id, "+442079460002", "GB", "active").await;

    let a_token = api_token(&app, &a.cookie, "read").await;
    let b_token = api_token(&app, &b.cookie, "read_write").await;
    let calls = format!("/api/v1/calls/export.csv?{RANGE}");
    for (cookie, token, ids, number) in [
        (
            &a.cookie,
            &a_token,
            ["call-00002", "call-00001"],
            "+442079460001",
        ),
        (
            &b.cookie,
            &b_token,
            ["call-00003", "call-00002"],
            "+442079460002",
        ),
    ] {
        for res in [
            app.get_with(&calls, cookie).await,
            get_bearer(&app, &calls, token).await,
        ] {
            assert_eq!(column(&records(&res), 0), ids);
        }
        for res in [
            app.get_with("/api/v1/numbers/export.csv", cookie).await,
            get_bearer(&app, "/api/v1/numbers/export.csv", token).await,
        ] {
            assert_eq!(column(&records(&res), 0), [number]);
        }
    }
    // Another organisation's service id filters to nothing.
    let res = app
        .get_with(&format!("{calls}&service={}", b.trunk), &a.cookie)
        .await;
    assert_eq!(records(&res).len(), 1);

    // An ingest token reads nothing; without credentials, 401.
    let ingest = api_token(&app, &a.cookie, "ingest").await;
    for path in [calls.as_str(), "/api/v1/numbers/export.csv"] {
        let res = get_bearer(&app, path, &ingest).await;
        assert_eq!(res.status, 403, "{}", res.text());
        assert_eq!(res.json()["error"]["code"], "insufficient_scope");
        let res = app.get(path).await;
        assert_eq!(res.status, 401);
    }
}

#[tokio::test]
async fn the_numbers_export_holds_every_number_with_the_list_filters() {
    let app = TestApp::new().await;
    let a = customer(&app, "contoso", &[("Trunk A", 30)]).await;
    // More numbers than one chunk, in one statement per hundred.
    let total = 1_234;
    for first in (0..total).step_by(100) {
        let values: Vec<String> = (first..(first + 100).min(total))
            .map(|i| {
                let (country, status) = if i % 4 == 0 {
                    ("DE", "reserved")
                } else {
                    ("GB", "active")
                };
                format!(
                    "('+4420794{i:05}', '{}', 'geographic', '{country}', '{status}', 1000, 1000)",
                    a.org_id
                )
            })
            .collect();
        sqlx::query(&format!(
            "INSERT INTO numbers (e164, org_id, number_type, country, status, created_at, updated_at) VALUES {}",
            values.join(", ")
        ))
        .execute(app.db.db.pool())
        .await
        .unwrap();
    }
    sqlx::query(
        "UPDATE numbers SET assignment = 'Reception, \"front\" desk', service_id = $1 \
         WHERE e164 = '+442079400001'",
    )
    .bind(&a.trunk)
    .execute(app.db.db.pool())
    .await
    .unwrap();

    let export = |q: &str| {
        let path = format!("/api/v1/numbers/export.csv?{q}");
        let cookie = a.cookie.clone();
        let app = &app;
        async move { app.get_with(&path, &cookie).await }
    };
    let all = records(&export("").await);
    assert_eq!(
        all[0].iter().collect::<Vec<_>>(),
        [
            "e164",
            "number_type",
            "country",
            "status",
            "service_id",
            "service",
            "assignment",
            "emergency_calling",
            "emergency_address_id",
            "emergency_address",
            "created_at",
            "updated_at"
        ]
    );
    let expected: Vec<String> = (0..total).map(|i| format!("+4420794{i:05}")).collect();
    assert_eq!(column(&all, 0), expected, "every number, by E.164");
    let one = &all[2];
    assert_eq!(&one[4], a.trunk.as_str());
    assert_eq!(&one[5], "Trunk A");
    assert_eq!(&one[6], "Reception, \"front\" desk");
    assert_eq!(&one[7], "false");
    assert_eq!(&one[10], "1970-01-01T00:00:01Z");

    assert_eq!(records(&export("country=de").await).len() as i64, 1 + 309);
    assert_eq!(
        records(&export("status=active&country=GB").await).len(),
        1 + 925
    );
    assert_eq!(
        column(&records(&export("q=reception").await), 0),
        ["+442079400001"]
    );
    assert_eq!(
        records(&export("unassigned=true").await).len() as i64,
        total
    );
    assert_eq!(records(&export("limit=3").await).len() as i64, 1 + total);

    for q in [
        "country=UK",
        "status=lost",
        "cursor=%%%",
        "limit=zero",
        "unassigned=maybe",
    ] {
        let listed = app
            .get_with(&format!("/api/v1/numbers?{q}"), &a.cookie)
            .await;
        let exported = export(q).await;
        assert_eq!(exported.status, 422, "{q}: {}", exported.text());
        assert_eq!(exported.json(), listed.json(), "{q}");
    }
}

/// A call with the customer's own text in its id and SIP reason.
fn hostile_cdr(i: i64, id: &str, service: &str, reason: &str) -> String {
    let start = BASE + i * MIN;
    line(&[
        id.to_string(),
        service.to_string(),
        rfc3339_ms(start),
        String::new(),
        rfc3339_ms(start + 9_000),
        "outbound".to_string(),
        "+441134960000".to_string(),
        "+4930901820".to_string(),
        "failed".to_string(),
        "503".to_string(),
        reason.to_string(),
        String::new(),
        String::new(),
        String::new(),
        "DE".to_string(),
    ])
}

/// Whether a spreadsheet would read `cell` as a formula (OWASP's list).
fn runs_as_formula(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

#[tokio::test]
async fn exported_text_cannot_run_in_a_spreadsheet_and_reimports_as_the_same_calls() {
    let app = TestApp::new().await;
    let service = "=HYPERLINK(\"http://evil.example\",\"London\")";
    let a = customer(&app, "contoso", &[(service, 30)]).await;
    let calls = [
        ("=cmd|' /C calc'!A0", "+1 unreachable"),
        ("@SUM(1+1)", "-2"),
        ("-42", "\rCR first"),
        ("+4420", "\tTab first"),
        ("'quoted", "''twice"),
        ("plain", "Service Unavailable"),
    ];
    let rows: Vec<String> = calls
        .iter()
        .enumerate()
        .map(|(i, (id, reason))| hostile_cdr(i as i64, id, service, reason))
        .collect();
    ingest_rows(&app, &a.org_id, &rows).await;

    let res = app
        .get_with(&format!("/api/v1/calls/export.csv?{RANGE}"), &a.cookie)
        .await;
    let exported = records(&res);
    assert_eq!(exported.len(), calls.len() + 1);
    for record in &exported[1..] {
        for i in [0, 1, 10] {
            assert!(!runs_as_formula(&record[i]), "{:?}", &record[i]);
        }
    }
    let first = exported.iter().find(|r| r[0].contains("calc")).unwrap();
    assert_eq!(&first[0], "'=cmd|' /C calc'!A0");
    assert_eq!(&first[1], &format!("'{service}"));
    assert_eq!(&first[10], "'+1 unreachable");

    // Imported into another customer whose service has the same name: the same calls, and
    // that customer's export is the same file.
    let b = customer(&app, "fabrikam", &[(service, 30)]).await;
    let file = app.db.dir_path().join("hostile.csv");
    std::fs::write(&file, &res.body).unwrap();
    let out = portal(
        &app.db.url,
        &[
            "calls",
            "import",
            file.to_str().unwrap(),
            "--org",
            "fabrikam",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("6 stored, 0 duplicates, 0 refused"),
        "{stdout}"
    );
    let stored = |org_id: String| {
        let app = &app;
        async move {
            sqlx::query(
                "SELECT id, started_at, answered_at, ended_at, direction, from_number, \
                 to_number, result, sip_code, sip_reason, country FROM calls \
                 WHERE org_id = $1 ORDER BY started_at",
            )
            .bind(org_id)
            .fetch_all(app.db.db.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r.try_get::<String, _>("id").unwrap(),
                    r.try_get::<i64, _>("started_at").unwrap(),
                    r.try_get::<Option<i64>, _>("answered_at").unwrap(),
                    r.try_get::<i64, _>("ended_at").unwrap(),
                    r.try_get::<String, _>("direction").unwrap(),
                    r.try_get::<String, _>("from_number").unwrap(),
                    r.try_get::<String, _>("to_number").unwrap(),
                    r.try_get::<String, _>("result").unwrap(),
                    r.try_get::<i64, _>("sip_code").unwrap(),
                    r.try_get::<String, _>("sip_reason").unwrap(),
                    r.try_get::<String, _>("country").unwrap(),
                )
            })
            .collect::<Vec<_>>()
        }
    };
    let (in_a, in_b) = (
        stored(a.org_id.clone()).await,
        stored(b.org_id.clone()).await,
    );
    assert_eq!(in_a, in_b, "identical rows");
    let ids: Vec<&str> = in_a.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(ids, calls.map(|c| c.0), "the customer's own ids, as sent");
    let again = app
        .get_with(&format!("/api/v1/calls/export.csv?{RANGE}"), &b.cookie)
        .await;
    assert_eq!(again.text(), res.text());

    // The numbers export neutralises the customer's words too.
    insert_number_with_words(&app, &a.org_id, &a.trunk, "@Reception").await;
    let numbers = records(&app.get_with("/api/v1/numbers/export.csv", &a.cookie).await);
    assert_eq!(&numbers[1][5], &format!("'{service}"));
    assert_eq!(&numbers[1][6], "'@Reception");
}

async fn insert_number_with_words(app: &TestApp, org_id: &str, service_id: &str, assignment: &str) {
    insert_number(app, org_id, "+442079460000", "GB", "active").await;
    sqlx::query("UPDATE numbers SET service_id = $1, assignment = $2 WHERE e164 = '+442079460000'")
        .bind(service_id)
        .bind(assignment)
        .execute(app.db.db.pool())
        .await
        .unwrap();
}
