//! The database failing under the portal: PostgreSQL stopping and starting again (through a
//! TCP proxy the test cuts, so the rest of the suite's server stays up), and SQLite's disk
//! filling up (through `PRAGMA max_page_count` on every pooled connection). Requests get a
//! clear 503 or 507 quickly, nothing is half-written, and the portal recovers by itself.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sqlx::Row;
use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

use portal::{config::PortalEnv, db::Db};
use support::{
    api::{api_token, get_bearer},
    voice::{cdr_csv, customer, post_calls},
    TestApp, TestDb,
};

/// A TCP proxy in front of the test's PostgreSQL that can be stopped (listener closed, every
/// connection cut: what clients see when the server stops) and started again on the same port.
struct Proxy {
    port: u16,
    upstream: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Proxy {
            port,
            upstream,
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        let tasks = self.tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(pipe);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// Closes the listener and cuts every connection.
    fn stop(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// Listens on the same port again.
    async fn restart(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => break l,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("rebinding the proxy: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("cannot rebind the proxy: {e}"),
            }
        };
        self.serve(listener);
    }
}

#[tokio::test]
async fn postgres_stopping_gives_503_fast_and_the_portal_recovers_alone() {
    let Ok(admin_url) = std::env::var("PORTAL_TEST_DATABASE_URL") else {
        eprintln!("PostgreSQL only (PORTAL_TEST_DATABASE_URL is not set): skipped on SQLite");
        return;
    };
    if admin_url.is_empty() {
        return;
    }
    let (dir, url) = support::empty_db().await;
    let direct = url::Url::parse(&url).unwrap();
    let upstream = format!(
        "{}:{}",
        direct.host_str().unwrap(),
        direct.port().unwrap_or(5432)
    );
    let proxy = Proxy::start(upstream).await;
    let mut through = direct.clone();
    through.set_port(Some(proxy.port)).unwrap();
    let db = Db::connect(through.as_str()).await.unwrap();
    db.migrate().await.unwrap();
    let app = TestApp::over(
        TestDb::new(db, through.to_string(), dir),
        PortalEnv::Development,
        &[],
    );
    let admin = customer(&app, "contoso", &[("Trunk A", 30)]).await.cookie;
    let token = api_token(&app, &admin, "read").await;
    assert_eq!(
        get_bearer(&app, "/api/v1/numbers", &token).await.status,
        200
    );

    proxy.stop();
    // Twenty requests at once while the database is gone: each a 503 in the error shape with
    // Retry-After, within two seconds (an operator saw 5.2 s and a 500 here).
    let started = Instant::now();
    let answers = futures_util::future::join_all((0..20).map(|_| async {
        let t = Instant::now();
        let res = get_bearer(&app, "/api/v1/numbers", &token).await;
        (res, t.elapsed())
    }))
    .await;
    for (res, took) in &answers {
        assert_eq!(res.status, 503, "{}", res.text());
        assert_eq!(res.json()["error"]["code"], "database_unreachable");
        assert_eq!(res.header("retry-after"), Some("5"));
        assert!(took < &Duration::from_millis(2500), "took {took:?}");
    }
    eprintln!(
        "20 requests during the outage answered in {:?}",
        started.elapsed()
    );
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, 503);
    // A page: the browser gets a page that says so, not JSON.
    let page = app.get_with("/numbers", &admin).await;
    assert_eq!(page.status, 503, "{}", page.text());
    assert!(
        page.text().contains("cannot reach its database"),
        "{}",
        page.text()
    );
    assert!(page.header("retry-after").is_some());

    proxy.restart().await;
    let back = Instant::now();
    loop {
        let res = get_bearer(&app, "/api/v1/numbers", &token).await;
        if res.status == 200 {
            break;
        }
        assert_eq!(res.status, 503, "{}", res.text());
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "still {} after 5 s",
            res.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("answering again {:?} after the restart", back.elapsed());
    assert_eq!(app.get("/readyz").await.status, 200);
    assert_eq!(app.get_with("/numbers", &admin).await.status, 200);
}

/// Sets `PRAGMA max_page_count` on every connection of the pool (the limit is per
/// connection): `Some(extra)` allows `extra` pages beyond what the file has now, `None` lifts
/// the limit.
async fn limit_sqlite_pages(db: &Db, extra: Option<i64>) {
    let mut held = Vec::new();
    for _ in 0..db.pool_max() {
        held.push(db.pool().acquire().await.unwrap());
    }
    for conn in &mut held {
        let pages: i64 = sqlx::query("PRAGMA page_count")
            .fetch_one(&mut **conn)
            .await
            .unwrap()
            .get(0);
        let limit = extra.map_or(1 << 30, |extra| pages + extra);
        sqlx::query(&format!("PRAGMA max_page_count = {limit}"))
            .execute(&mut **conn)
            .await
            .unwrap();
    }
}

async fn calls_stored(app: &TestApp) -> i64 {
    support::count(&app.db.db, "SELECT COUNT(*) FROM calls").await
}

fn rows(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "full-{i:05},Trunk A,2026-03-01T09:{m:02}:00Z,2026-03-01T09:{m:02}:05Z,2026-03-01T09:{m:02}:45Z,\
                 outbound,+441134960000,+4930901820,answered,200,OK,4.3,,,DE",
                m = i % 60
            )
        })
        .collect()
}

/// The credentials of a customer with 10 calls stored: the admin's session, an ingest token
/// and a read token.
struct Ingesting {
    admin: String,
    ingest: String,
    read: String,
}

async fn ten_calls_stored(app: &TestApp) -> Ingesting {
    let admin = customer(app, "contoso", &[("Trunk A", 30)]).await.cookie;
    let ingest = api_token(app, &admin, "ingest").await;
    let read = api_token(app, &admin, "read").await;
    let res = post_calls(app, &ingest, "text/csv", cdr_csv(&rows(10))).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(calls_stored(app).await, 10);
    Ingesting {
        admin,
        ingest,
        read,
    }
}

/// On a full disk: a 1,000-row batch (which includes the 10 stored) is refused whole with 507,
/// and reading goes on, also when the session's and the token's last-use times are due to be
/// written. Returns the batch.
async fn writes_refused_reads_served(app: &TestApp, who: &Ingesting) -> Vec<u8> {
    let batch = cdr_csv(&rows(1000));
    let res = post_calls(app, &who.ingest, "text/csv", batch.clone()).await;
    assert_eq!(res.status, 507, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "storage_full");
    assert!(res.header("retry-after").is_some());
    assert_eq!(calls_stored(app).await, 10, "nothing of the batch is kept");

    app.clock.advance_secs(120);
    let day = "/api/v1/calls?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z";
    let res = get_bearer(app, day, &who.read).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["calls"].as_array().unwrap().len(), 10);
    let page = app.get_with("/calls", &who.admin).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let me = app.get_with("/api/v1/me", &who.admin).await;
    assert_eq!(me.status, 200, "{}", me.text());
    batch
}

/// Space is back: the same batch goes through, once.
async fn the_retry_completes(app: &TestApp, who: &Ingesting, batch: Vec<u8>) {
    let res = post_calls(app, &who.ingest, "text/csv", batch).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["stored"], 990);
    assert_eq!(res.json()["duplicates"], 10);
    assert_eq!(calls_stored(app).await, 1000);
}

#[tokio::test]
async fn a_full_sqlite_disk_refuses_writes_with_507_keeps_reads_and_recovers() {
    if std::env::var("PORTAL_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        eprintln!("SQLite only: PostgreSQL's disk cannot be filled from a test");
        return;
    }
    let app = TestApp::new().await;
    let who = ten_calls_stored(&app).await;
    limit_sqlite_pages(&app.db.db, Some(0)).await;
    let batch = writes_refused_reads_served(&app, &who).await;
    limit_sqlite_pages(&app.db.db, None).await;
    the_retry_completes(&app, &who, batch).await;
}

/// Fills the file system of `dir` with a file of zeros until it refuses more; returns it.
fn fill_disk(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 64 * 1024];
    loop {
        match f.write(&block) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    let _ = f.sync_all();
    path
}

/// The same as the test above on a real full disk: `make soak` mounts a small tmpfs and names
/// it in `PORTAL_TEST_FULL_DISK_DIR` (mounting needs root, so `make test` runs the
/// `max_page_count` form above instead).
#[tokio::test]
async fn a_really_full_disk_refuses_writes_keeps_reads_and_recovers_when_space_is_freed() {
    let Some(dir) = std::env::var_os("PORTAL_TEST_FULL_DISK_DIR") else {
        eprintln!("PORTAL_TEST_FULL_DISK_DIR is not set (make soak sets it): skipped");
        return;
    };
    let db_dir = tempfile::tempdir_in(dir).unwrap();
    let url = format!("sqlite://{}/portal.db?mode=rwc", db_dir.path().display());
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let app = TestApp::over(TestDb::new(db, url, db_dir), PortalEnv::Development, &[]);
    let who = ten_calls_stored(&app).await;

    let filler = fill_disk(app.db.dir_path().parent().unwrap());
    let batch = writes_refused_reads_served(&app, &who).await;
    // Free 3 MB of the filler (an operator saw a retry still refused after that).
    let len = std::fs::metadata(&filler).unwrap().len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&filler)
        .unwrap();
    f.set_len(len.saturating_sub(3 << 20)).unwrap();
    drop(f);
    the_retry_completes(&app, &who, batch).await;
    std::fs::remove_file(filler).unwrap();
}
