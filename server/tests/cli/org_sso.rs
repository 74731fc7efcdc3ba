//! `portal org sso …`: enabling SSO and linking, disabling and unlinking Entra tenants, with
//! errors that say what to do.

use crate::stderr;
use crate::support::{cli::portal, count, test_db};

#[tokio::test]
async fn org_sso_commands_link_disable_and_unlink_tenants_with_clear_errors() {
    let t = test_db().await;
    let tenant = "6F1C4A9E-3B52-4C1D-9A57-2E8F0B7D4C11";
    let ok = |args: &[&str]| {
        let out = portal(&t.url, args, None);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    ok(&["org", "create", "--name", "Contoso", "--slug", "contoso"]);

    // Linking before SSO is enabled is refused and names the fix.
    let out = portal(
        &t.url,
        &[
            "org",
            "sso",
            "link-tenant",
            "--org",
            "contoso",
            "--tenant",
            tenant,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("portal org sso enable --org contoso"),
        "{}",
        stderr(&out)
    );

    assert!(ok(&["org", "sso", "enable", "--org", "contoso"]).contains("enabled"));
    let out = ok(&[
        "org",
        "sso",
        "link-tenant",
        "--org",
        "contoso",
        "--tenant",
        tenant,
    ]);
    assert!(
        out.contains("6f1c4a9e-3b52-4c1d-9a57-2e8f0b7d4c11 linked"),
        "{out}"
    );
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM sso_tenants").await, 1);

    for bad in [
        "common",
        "organizations",
        "consumers",
        "9188040d-6c67-4c5b-b112-36a304b66dad",
        "contoso.example",
    ] {
        let out = portal(
            &t.url,
            &[
                "org",
                "sso",
                "link-tenant",
                "--org",
                "contoso",
                "--tenant",
                bad,
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(
            stderr(&out).contains("not a Microsoft Entra organisation tenant id"),
            "{bad}: {}",
            stderr(&out)
        );
    }
    // A tenant links to one customer only.
    ok(&["org", "create", "--name", "Other", "--slug", "other"]);
    ok(&["org", "sso", "enable", "--org", "other"]);
    let out = portal(
        &t.url,
        &[
            "org",
            "sso",
            "link-tenant",
            "--org",
            "other",
            "--tenant",
            tenant,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already linked to another customer"));

    assert!(ok(&[
        "org",
        "sso",
        "disable-tenant",
        "--org",
        "contoso",
        "--tenant",
        tenant
    ])
    .contains("disabled"));
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM sso_tenants WHERE disabled_at IS NOT NULL"
        )
        .await,
        1
    );
    ok(&[
        "org",
        "sso",
        "enable-tenant",
        "--org",
        "contoso",
        "--tenant",
        tenant,
    ]);
    let out = portal(
        &t.url,
        &[
            "org",
            "sso",
            "unlink-tenant",
            "--org",
            "other",
            "--tenant",
            tenant,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not linked to other"));
    ok(&[
        "org",
        "sso",
        "unlink-tenant",
        "--org",
        "contoso",
        "--tenant",
        tenant,
    ]);
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM sso_tenants").await, 0);
    ok(&["org", "sso", "disable", "--org", "contoso"]);
    let out = portal(&t.url, &["org", "sso", "enable", "--org", "nope"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'sso.%'"
        )
        .await,
        7
    );
}

#[tokio::test]
async fn org_sso_mfa_evidence_sets_the_policy_and_refuses_bad_values_changing_nothing() {
    let t = test_db().await;
    let ok = |args: &[&str]| {
        let out = portal(&t.url, args, None);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let policy = || async {
        let row = sqlx::query(
            "SELECT sso_mfa_evidence, sso_auth_context FROM organisations WHERE slug = 'contoso'",
        )
        .fetch_one(t.db.pool())
        .await
        .unwrap();
        use sqlx::Row;
        (
            row.try_get::<String, _>("sso_mfa_evidence").unwrap(),
            row.try_get::<Option<String>, _>("sso_auth_context")
                .unwrap(),
        )
    };
    ok(&["org", "create", "--name", "Contoso", "--slug", "contoso"]);
    assert_eq!(policy().await, ("off".to_string(), None));

    let out = ok(&[
        "org",
        "sso",
        "mfa-evidence",
        "--org",
        "contoso",
        "--policy",
        "required",
        "--auth-context",
        "C7",
    ]);
    assert!(out.contains("refused") && out.contains("c7"), "{out}");
    assert_eq!(
        policy().await,
        ("required".to_string(), Some("c7".to_string()))
    );

    for (args, says) in [
        (vec!["--policy", "on"], "not a multi-factor evidence policy"),
        (
            vec!["--policy", "required", "--auth-context", "c100"],
            "not an authentication context id",
        ),
        (
            vec!["--policy", "required", "--auth-context", "x1"],
            "not an authentication context id",
        ),
    ] {
        let mut full = vec!["org", "sso", "mfa-evidence", "--org", "contoso"];
        full.extend(args.iter());
        let out = portal(&t.url, &full, None);
        assert_eq!(out.status.code(), Some(1), "{full:?}");
        assert!(stderr(&out).contains(says), "{full:?}: {}", stderr(&out));
        assert_eq!(
            policy().await,
            ("required".to_string(), Some("c7".to_string()))
        );
    }
    let out = portal(
        &t.url,
        &[
            "org",
            "sso",
            "mfa-evidence",
            "--org",
            "nobody",
            "--policy",
            "off",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no organisation"), "{}", stderr(&out));

    ok(&[
        "org",
        "sso",
        "mfa-evidence",
        "--org",
        "contoso",
        "--policy",
        "portal_factor",
    ]);
    assert_eq!(policy().await, ("portal_factor".to_string(), None));
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'sso.mfa_evidence_changed'"
        )
        .await,
        2
    );
}
