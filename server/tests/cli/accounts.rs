//! Organisations and users from the command line: creating them (a duplicate or bad slug, a
//! password from standard input, bad input that writes nothing), sign-in emails unique across
//! staff and customers, and an organisation's MFA policy.

use sqlx::Row;

use crate::stderr;
use crate::support::{cli::portal, count, test_db};

#[tokio::test]
async fn org_create_and_a_duplicate_slug() {
    let t = test_db().await;
    let out = portal(
        &t.url,
        &[
            "org",
            "create",
            "--name",
            "Contoso Ltd",
            "--slug",
            "contoso",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("contoso"));

    let out = portal(
        &t.url,
        &["org", "create", "--name", "Other", "--slug", "contoso"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM organisations").await, 1);
    // One audit entry: the successful creation.
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'org.created'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn org_create_refuses_a_bad_slug() {
    let t = test_db().await;
    let out = portal(
        &t.url,
        &["org", "create", "--name", "Contoso", "--slug", "Contoso UK"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("slug"), "{}", stderr(&out));
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM organisations").await, 0);
}

#[tokio::test]
async fn user_create_with_a_password_from_stdin() {
    let t = test_db().await;
    assert!(portal(
        &t.url,
        &["org", "create", "--name", "Contoso", "--slug", "contoso"],
        None
    )
    .status
    .success());
    // Leading and trailing spaces are part of the password; only the newline is dropped.
    let out = portal(
        &t.url,
        &[
            "user",
            "create",
            "--org",
            "contoso",
            "--email",
            "Alice@Contoso.com",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("  tall ship sailing east  \n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let row = sqlx::query("SELECT login_email, email, role, password_hash FROM users")
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("login_email"), "alice@contoso.com");
    assert_eq!(row.get::<String, _>("email"), "Alice@Contoso.com");
    assert_eq!(row.get::<String, _>("role"), "admin");
    let hash: String = row.get("password_hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(portal::auth::password::verify_password(
        "  tall ship sailing east  ",
        &hash
    ));
    assert!(!portal::auth::password::verify_password(
        "tall ship sailing east",
        &hash
    ));
}

#[tokio::test]
async fn user_create_refuses_bad_input_and_writes_nothing() {
    let t = test_db().await;
    assert!(portal(
        &t.url,
        &["org", "create", "--name", "Contoso", "--slug", "contoso"],
        None
    )
    .status
    .success());
    let cases: [(&[&str], Option<&str>, &str); 4] = [
        (
            &[
                "user", "create", "--org", "nope", "--email", "a@b.com", "--role", "viewer",
            ],
            None,
            "no organisation",
        ),
        (
            &[
                "user",
                "create",
                "--org",
                "contoso",
                "--email",
                "not-an-email",
                "--role",
                "viewer",
            ],
            None,
            "not a valid email",
        ),
        (
            &[
                "user",
                "create",
                "--org",
                "contoso",
                "--email",
                "a@b.com",
                "--role",
                "viewer",
                "--password-stdin",
            ],
            Some("short\n"),
            "too short",
        ),
        (
            &[
                "user",
                "create",
                "--org",
                "contoso",
                "--email",
                "a@b.com",
                "--role",
                "viewer",
                "--password-stdin",
            ],
            Some(""),
            "no password",
        ),
    ];
    for (args, input, expected) in cases {
        let out = portal(&t.url, args, input);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let out = portal(
        &t.url,
        &[
            "user", "create", "--org", "contoso", "--email", "a@b.com", "--role", "owner",
        ],
        None,
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("owner"), "{}", stderr(&out));
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM users").await, 0);
}

#[tokio::test]
async fn sign_in_emails_are_unique_across_staff_and_customers() {
    let t = test_db().await;
    assert!(portal(
        &t.url,
        &["org", "create", "--name", "Contoso", "--slug", "contoso"],
        None
    )
    .status
    .success());
    let out = portal(
        &t.url,
        &["staff", "create", "--email", "noc@carrier.example"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = portal(
        &t.url,
        &[
            "user",
            "create",
            "--org",
            "contoso",
            "--email",
            "NOC@carrier.example",
            "--role",
            "viewer",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM users WHERE org_id IS NULL AND role IS NULL"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn org_mfa_policy_sets_the_flag_and_refuses_an_unknown_org() {
    let t = test_db().await;
    assert!(portal(
        &t.url,
        &["org", "create", "--name", "Contoso", "--slug", "contoso"],
        None
    )
    .status
    .success());
    let out = portal(
        &t.url,
        &[
            "org",
            "mfa-policy",
            "--org",
            "contoso",
            "--required",
            "true",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM organisations WHERE mfa_required = TRUE"
        )
        .await,
        1
    );
    let out = portal(
        &t.url,
        &["org", "mfa-policy", "--org", "nope", "--required", "true"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no organisation"), "{}", stderr(&out));
    let out = portal(
        &t.url,
        &[
            "org",
            "mfa-policy",
            "--org",
            "contoso",
            "--required",
            "maybe",
        ],
        None,
    );
    assert_ne!(out.status.code(), Some(0));
    // Which second factors count: a bad list changes nothing.
    let out = portal(
        &t.url,
        &[
            "org",
            "mfa-policy",
            "--org",
            "contoso",
            "--methods",
            "totp,sms",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("\"sms\""), "{}", stderr(&out));
    let out = portal(&t.url, &["org", "mfa-policy", "--org", "contoso"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nothing to change"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM organisations WHERE mfa_email_allowed = TRUE"
        )
        .await,
        1
    );
    let out = portal(
        &t.url,
        &["org", "mfa-policy", "--org", "contoso", "--methods", "totp"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("count: totp"));
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM organisations WHERE mfa_email_allowed = FALSE AND mfa_required = TRUE"
        )
        .await,
        1
    );
}
