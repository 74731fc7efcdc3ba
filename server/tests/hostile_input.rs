//! Truncated, stalled, oversized and malformed requests over a real socket, on every route
//! family (pages, page form posts, `/api/v1`, ingest, `/pkg`): each gets a clear 4xx (or the
//! page's normal answer), never a 5xx or a hang. A stalled body used to hold its connection
//! and handler forever; `PORTAL_BODY_IDLE_SECS` now ends it with 408.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

use support::{api::api_token, voice::customer, TestApp, ORIGIN};

/// Serves `app`'s router on a free port with `portal serve`'s accept loop (a 1 s header read
/// timeout instead of 10 s); returns the address.
async fn listen(app: &TestApp) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(portal::http::serve_on(
        listener,
        router,
        Duration::from_secs(1),
        std::future::pending(),
    ));
    addr
}

#[tokio::test]
async fn a_request_head_that_stops_arriving_is_cut_off() {
    let app = TestApp::new().await;
    let addr = listen(&app).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /login HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    // hyper closes the connection (after a 408 where it can); before, nothing ever came.
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the half-sent head kept its connection for 10 s"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // A complete request on a new connection is served as usual.
    let head = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
    assert_eq!(
        raw(addr, head, b"", Duration::from_secs(5)).await.0,
        Some(200)
    );
}

/// Sends `head` and `body` (raw bytes, nothing more), then reads until the server has said
/// its status line or `wait` has passed; returns the status (None: no answer) and the time.
async fn raw(addr: SocketAddr, head: &str, body: &[u8], wait: Duration) -> (Option<u16>, Duration) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let status = tokio::time::timeout(wait, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
            if let Some(line_end) = answer.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&answer[..line_end]).to_string();
                return line.split(' ').nth(1).and_then(|s| s.parse().ok());
            }
        }
    })
    .await
    .ok()
    .flatten();
    (status, started.elapsed())
}

fn post_head(path: &str, content_type: &str, length: usize, extra: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nOrigin: {ORIGIN}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n{extra}\r\n"
    )
}

#[tokio::test]
async fn a_body_that_stops_arriving_gets_408_on_every_kind_of_post() {
    let app = TestApp::with_args(&["--body-idle-secs", "1"]).await;
    let admin = customer(&app, "contoso", &[("Trunk A", 30)]).await.cookie;
    let ingest = api_token(&app, &admin, "ingest").await;
    let addr = listen(&app).await;
    let cases = [
        (
            post_head("/api/v1/auth/login", "application/json", 200, ""),
            &b"{\"email\": \"ana@"[..],
        ),
        (
            post_head(
                "/login",
                "application/x-www-form-urlencoded",
                200,
                "",
            ),
            &b"email=ana%40contoso.example&pass"[..],
        ),
        (
            format!(
                "POST /api/v1/ingest/calls HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {ingest}\r\nContent-Type: text/csv\r\nContent-Length: 100000\r\n\r\n"
            ),
            &b"id,service,start"[..],
        ),
    ];
    for (head, body) in cases {
        let (status, took) = raw(addr, &head, body, Duration::from_secs(10)).await;
        let first_line = head.lines().next().unwrap_or_default().to_string();
        assert_eq!(status, Some(408), "{first_line}");
        assert!(took < Duration::from_secs(5), "{first_line}: {took:?}");
    }
}

#[tokio::test]
async fn malformed_and_oversized_requests_get_4xx_never_5xx() {
    let app = TestApp::new().await;
    let admin = customer(&app, "contoso", &[("Trunk A", 30)]).await.cookie;
    let addr = listen(&app).await;
    let wait = Duration::from_secs(5);
    let get =
        |path: &str, extra: &str| format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n");
    let huge_cookie = format!("Cookie: {admin}; x={}\r\n", "a".repeat(60_000));
    let cases: Vec<(String, Vec<u8>, &str)> = vec![
        // Pages: a broken cookie is no session (to the sign-in page); a huge one is read.
        (
            get("/calls", "Cookie: __Host-portal_session=%%%; ;;=\r\n"),
            vec![],
            "303",
        ),
        (get("/calls", &huge_cookie), vec![], "200"),
        (get("/login?return_to=%E0%A4%A", ""), vec![], "200"),
        // The API: bad percent-encoding, NUL, a huge query, invalid UTF-8 and truncated JSON.
        (
            get("/api/v1/numbers/%ZZ", &format!("Cookie: {admin}\r\n")),
            vec![],
            "4xx",
        ),
        (
            get("/api/v1/calls?number=%00", &format!("Cookie: {admin}\r\n")),
            vec![],
            "422",
        ),
        (
            get(&format!("/api/v1/calls?q={}", "a".repeat(100_000)), ""),
            vec![],
            "4xx",
        ),
        (
            post_head("/api/v1/auth/login", "application/json", 4, ""),
            vec![0xff, 0xfe, b'{', b'}'],
            "422",
        ),
        (
            post_head("/api/v1/auth/login", "application/json", 9, ""),
            b"{\"email\":".to_vec(),
            "422",
        ),
        (
            post_head("/api/v1/auth/login", "application/json", 2_000_000, ""),
            vec![b' '; 1024],
            "413",
        ),
        // Static files: NUL, a climb out of pkg/, a name that is not there.
        (get("/pkg/%00", ""), vec![], "4xx"),
        (get("/pkg/../Cargo.toml", ""), vec![], "4xx"),
        (get("/pkg/portal.nothing.wasm", ""), vec![], "404"),
    ];
    for (head, body, want) in cases {
        let first_line = head.lines().next().unwrap_or_default();
        let shown: String = first_line.chars().take(80).collect();
        let (status, _) = raw(addr, &head, &body, wait).await;
        let status = status.unwrap_or_else(|| panic!("{shown}: no answer"));
        match want {
            "4xx" => assert!((400..500).contains(&status), "{shown}: {status}"),
            exact => assert_eq!(status.to_string(), exact, "{shown}"),
        }
    }
}
