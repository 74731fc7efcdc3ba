//! What the request log shows: never the token of an emailed link, nor a query.
//!
//! Alone in its test binary on purpose: the log subscriber is set for this thread only, and
//! tracing caches per call site whether anyone listens, so other tests running on other
//! threads of the same binary can make those call sites skip this subscriber.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use support::TestApp;

/// Collects what the log subscriber writes.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn tokens_in_paths_never_reach_the_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = TestApp::new().await;
    let secret = "SeCrEtToKeN0123456789abcdefghijklmnop";
    for path in [
        format!("/invite/{secret}"),
        format!("/reset-password/{secret}"),
        format!("/api/v1/auth/invitations/{secret}"),
        format!("/api/v1/auth/password-reset/{secret}?x={secret}"),
        format!("/healthz?code={secret}"),
    ] {
        app.get(&path).await;
    }
    let log = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(log.contains("path=/invite/{token}"), "{log}");
    assert!(
        log.contains("route=/api/v1/auth/invitations/{token}"),
        "the matched template is logged: {log}"
    );
    assert!(!log.contains(secret), "{log}");
}
