//! The command line: `portal service create` and `portal calls import`, their messages and
//! exit codes, over the real binary.

use crate::calls::{csv, generated_calls};
use crate::support::{cli::portal, count, create_org, test_db};

/// Output bytes as text.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn cli_service_create_and_calls_import() {
    let t = test_db().await;
    create_org(&t.db, "contoso").await;
    let create = |name: &'static str, extra: &'static [&'static str]| {
        let mut args = vec![
            "service",
            "create",
            "--org",
            "contoso",
            "--kind",
            "sip_trunk",
            "--name",
            name,
        ];
        args.extend_from_slice(extra);
        args
    };
    let out = portal(
        &t.url,
        &create("Trunk A", &["--country", "gb", "--channels", "30"]),
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Trunk A"));
    let out = portal(
        &t.url,
        &create("Trunk B", &["--country", "GB", "--channels", "10"]),
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    for (args, message) in [
        (
            create("Trunk A", &["--country", "GB", "--channels", "5"]),
            "already has a service",
        ),
        (
            create("Trunk C", &["--country", "UK", "--channels", "5"]),
            "ISO 3166-1",
        ),
        (
            create("Trunk C", &["--country", "GB", "--channels", "0"]),
            "at least 1",
        ),
    ] {
        let out = portal(&t.url, &args, None);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(text(&out.stderr).contains(message), "{}", text(&out.stderr));
    }
    let out = portal(
        &t.url,
        &[
            "service",
            "create",
            "--org",
            "nobody",
            "--kind",
            "operator_connect",
            "--name",
            "X",
            "--country",
            "GB",
            "--channels",
            "1",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no organisation"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM services").await, 2);

    let dir = t.dir_path();
    let calls = generated_calls();
    let good = dir.join("good.csv");
    std::fs::write(&good, csv(&calls).replace('\n', "\r\n")).unwrap();
    let good = good.to_str().unwrap();
    let out = portal(&t.url, &["calls", "import", good, "--org", "contoso"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = format!("{} stored, 0 duplicates, 0 refused", calls.len());
    assert!(
        text(&out.stdout).contains(&summary),
        "{}",
        text(&out.stdout)
    );
    // Again: all duplicates, still success.
    let out = portal(&t.url, &["calls", "import", good, "--org", "contoso"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&format!("0 stored, {} duplicates", calls.len())));

    // A bad row: exit 1, the line and field named, the good rows stored.
    let mut more = generated_calls()[..2].to_vec();
    more[0].id = "new-1".into();
    more[1].id = "new-2".into();
    let mut input = csv(&more);
    input.push_str("new-3,Trunk A,2026-03-01T09:00:00Z,,2026-03-01T09:00:01Z,outbound,+441134960000,+4930901820,busy,486,,7.5,,,GB\n");
    let partial = dir.join("partial.csv");
    std::fs::write(&partial, &input).unwrap();
    let out = portal(
        &t.url,
        &[
            "calls",
            "import",
            partial.to_str().unwrap(),
            "--org",
            "contoso",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("line 4, mos"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("2 stored, 0 duplicates, 1 refused"),
        "{}",
        text(&out.stdout)
    );

    // Strict: exit 1 and nothing stored.
    let strict_input = input.replace("new-", "strict-");
    let strict = dir.join("strict.csv");
    std::fs::write(&strict, strict_input).unwrap();
    let out = portal(
        &t.url,
        &[
            "calls",
            "import",
            strict.to_str().unwrap(),
            "--org",
            "contoso",
            "--strict",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("nothing"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM calls WHERE id LIKE 'strict-%'").await,
        0
    );

    // A wrong header, a missing file, an unknown organisation.
    let header = dir.join("header.csv");
    std::fs::write(&header, "id;service;start\n").unwrap();
    for (args, message) in [
        (
            vec![
                "calls",
                "import",
                header.to_str().unwrap(),
                "--org",
                "contoso",
            ],
            "header",
        ),
        (
            vec![
                "calls",
                "import",
                "/nonexistent/calls.csv",
                "--org",
                "contoso",
            ],
            "could not open",
        ),
        (
            vec!["calls", "import", good, "--org", "nobody"],
            "no organisation",
        ),
    ] {
        let out = portal(&t.url, &args, None);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            text(&out.stderr).contains(message),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM calls").await,
        calls.len() as i64 + 2
    );
}

/// SIGTERM in the middle of `portal calls import`: the process ends within seconds, what it
/// stored is whole batches (50,000 rows each), it says how to finish, and running the same
/// command again stores the rest, the stored rows counting as duplicates.
#[tokio::test]
async fn sigterm_during_calls_import_keeps_whole_batches_and_a_rerun_completes_it() {
    let t = test_db().await;
    crate::calls::org_with_services(&t.db, "contoso").await;
    let rows = 160_000;
    let mut input = portal::voice::cdr::HEADER.join(",");
    for i in 0..rows {
        let minute = i % 1440;
        input.push_str(&format!(
            "\nterm-{i:06},Trunk A,2026-03-01T{h:02}:{m:02}:00Z,2026-03-01T{h:02}:{m:02}:02Z,\
             2026-03-01T{h:02}:{m:02}:40Z,outbound,+441134960000,+4930901820,answered,200,,4.1,,,DE",
            h = minute / 60,
            m = minute % 60,
        ));
    }
    let file = t.dir_path().join("big.csv");
    std::fs::write(&file, input).unwrap();
    let file = file.to_str().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(["calls", "import", file, "--org", "contoso"])
        .env("DATABASE_URL", &t.url)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first batch is in, stop it.
    let started = std::time::Instant::now();
    while count(&t.db, "SELECT COUNT(*) FROM calls").await == 0 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before its first batch was seen"
        );
        assert!(
            started.elapsed().as_secs() < 120,
            "no batch stored in 120 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let signalled = std::time::Instant::now();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stopped_in = signalled.elapsed();
    let stderr = text(&out.stderr);
    let stored = count(&t.db, "SELECT COUNT(*) FROM calls").await;
    eprintln!("SIGTERM: {stored} of {rows} rows stored, the process ended {stopped_in:?} after it");
    if stored == rows {
        // The machine was fast enough to finish before the signal was handled.
        assert!(out.status.success(), "{stderr}");
    } else {
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("stopped by a signal"), "{stderr}");
        assert!(stderr.contains("run the same command again"), "{stderr}");
        assert_eq!(stored % 50_000, 0, "whole batches only: {stored}");
        assert!(stopped_in.as_secs() < 20, "took {stopped_in:?} to stop");
    }

    let out = portal(&t.url, &["calls", "import", file, "--org", "contoso"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&format!(
            "{} stored, {stored} duplicates, 0 refused",
            rows - stored
        )),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM calls").await, rows);
}
