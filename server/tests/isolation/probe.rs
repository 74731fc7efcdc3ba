//! Sending a probe as A and judging the answer: the request by session or token, the other
//! customer's identifiers in a body, and how B looks before and after A's probes.

use serde_json::{json, Value};
use sqlx::Row;

use crate::fixtures::{Customer, DAY};
use crate::routes::Via;
use crate::support::{api::bearer, TestApp, TestResponse};

/// Adds `org=slug` to a path's query.
pub fn with_org(path: &str, slug: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}org={slug}")
}

/// Sends `method path` as A, by session or token.
pub async fn send_as(
    app: &TestApp,
    a: &Customer,
    via: Via,
    method: &str,
    path: &str,
    body: &Option<Value>,
) -> TestResponse {
    match via {
        Via::Session if method == "GET" => app.get_with(path, &a.admin).await,
        Via::Session => {
            app.json(
                method,
                path,
                Some(&a.admin),
                body.clone().unwrap_or(json!({})),
            )
            .await
        }
        Via::Token => bearer(app, method, path, &a.rw_token, body.clone()).await,
    }
}

/// The start of a response body, for a failure message.
pub fn excerpt(res: &TestResponse) -> String {
    let text = res.text();
    match text.char_indices().nth(400) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The other customer's identifiers found in a response body (compared without case).
pub fn found(res: &TestResponse, needles: &[String]) -> Vec<String> {
    let body = res.text().to_lowercase();
    needles
        .iter()
        .filter(|n| body.contains(&n.to_lowercase()))
        .cloned()
        .collect()
}

/// How B looks to staff and in the database: compared before and after A's probes.
pub async fn view_of(app: &TestApp, staff: &str, b: &Customer) -> Vec<(String, String)> {
    let mut view = Vec::new();
    for path in [
        "/api/v1/services".to_string(),
        "/api/v1/numbers".to_string(),
        "/api/v1/emergency-addresses".to_string(),
        format!("/api/v1/calls?{DAY}"),
        format!("/api/v1/analytics/summary?{DAY}"),
        "/api/v1/users".to_string(),
        "/api/v1/api-tokens".to_string(),
        "/api/v1/audit?limit=200".to_string(),
        "/api/v1/port-orders".to_string(),
        "/api/v1/incidents".to_string(),
    ] {
        let res = app.get_with(&with_org(&path, b.slug), staff).await;
        assert_eq!(res.status, 200, "staff {path}: {}", res.text());
        view.push((path, res.text()));
    }
    // The row as one text. The flags are INTEGER in SQLite and BOOLEAN in PostgreSQL; a
    // CASE reads both the same way.
    let flag = |column: &str| format!("CASE WHEN {column} THEN '{column}' ELSE '-' END");
    let org = sqlx::query(&format!(
        "SELECT name || ' ' || slug || ' ' || sso_default_role || ' ' || {} || ' ' || {} || ' ' \
         || {} || ' ' || {} AS v FROM organisations WHERE id = $1",
        flag("mfa_required"),
        flag("sso_enabled"),
        flag("sso_jit"),
        flag("sso_required"),
    ))
    .bind(&b.org_id)
    .fetch_one(app.db.db.pool())
    .await
    .unwrap();
    view.push((
        "organisations row".into(),
        org.try_get::<String, _>("v").unwrap(),
    ));
    let count = |sql: &'static str| {
        let org_id = b.org_id.clone();
        async move {
            sqlx::query(sql)
                .bind(org_id)
                .fetch_one(app.db.db.pool())
                .await
                .unwrap()
                .try_get::<i64, _>("n")
                .unwrap()
        }
    };
    view.push((
        "B's sessions".into(),
        count("SELECT COUNT(*) AS n FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.org_id = $1")
            .await
            .to_string(),
    ));
    view.push((
        "B's calls".into(),
        count("SELECT COUNT(*) AS n FROM calls WHERE org_id = $1")
            .await
            .to_string(),
    ));
    view.push((
        "B's SSO tenants".into(),
        count("SELECT COUNT(*) AS n FROM sso_tenants WHERE org_id = $1 AND disabled_at IS NULL")
            .await
            .to_string(),
    ));
    view.push((
        "B's port orders".into(),
        count("SELECT COUNT(*) AS n FROM port_orders WHERE org_id = $1")
            .await
            .to_string(),
    ));
    view
}

/// Step 6: B is exactly as it was (`before` is [`view_of`] before A's probes), and B's admin is
/// still signed in.
pub async fn b_unchanged(
    app: &TestApp,
    staff: &str,
    b: &Customer,
    before: &[(String, String)],
) -> Vec<String> {
    let mut failures = Vec::new();
    let after = view_of(app, staff, b).await;
    for ((what, was), (_, is)) in before.iter().zip(&after) {
        if was != is {
            failures.push(format!("B changed: {what}\nbefore: {was}\nafter:  {is}"));
        }
    }
    let res = app.get_with("/api/v1/me", &b.admin).await;
    if res.status != 200 {
        failures.push(format!("B's admin session ended by A: {}", res.status));
    }
    failures
}
