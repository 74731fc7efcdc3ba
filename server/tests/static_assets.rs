//! `/pkg`: the front end's files sent brotli or gzip by `Accept-Encoding` (precompressed files as
//! they are, others compressed on the fly), `Vary: Accept-Encoding`, a year's `immutable` cache
//! for content-hashed names and `no-cache` for the rest, 404 for what is not there, and plain
//! names standing for the hashed files of a hashed site.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::{io::Read, path::Path};

use axum::{body::Body, http::Request};
use portal::http::assets;
use support::{send, TestApp, TestResponse};

/// A content hash as cargo-leptos writes it (22 base64url characters).
const HASH: &str = "Zm9vYmFyYmF6cXV4LXF1dX";

/// A wasm-like body: long enough to be compressed, repetitive enough to shrink.
fn wasm_bytes() -> Vec<u8> {
    let mut v = b"\0asm\x01\0\0\0".to_vec();
    for i in 0..20_000u32 {
        v.extend_from_slice(format!("function_{} ", i % 97).as_bytes());
    }
    v
}

/// A site root with a hashed wasm, an unhashed JS file, and a hashed CSS with its own
/// precompressed `.br` (whose bytes mark it as the file that was sent).
fn site(dir: &Path) -> Vec<u8> {
    let pkg = dir.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let wasm = wasm_bytes();
    std::fs::write(pkg.join(format!("portal.{HASH}.wasm")), &wasm).unwrap();
    std::fs::write(
        pkg.join("portal.js"),
        "export function hello() { return 'hello from the portal glue code'; }\n".repeat(20),
    )
    .unwrap();
    std::fs::write(
        pkg.join(format!("portal.{HASH}.css")),
        "body { color: black; }\n".repeat(50),
    )
    .unwrap();
    std::fs::write(
        pkg.join(format!("portal.{HASH}.css.br")),
        brotli_encode(&"body { color: black; }\n".repeat(50).into_bytes()),
    )
    .unwrap();
    wasm
}

fn brotli_encode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &data[..], &mut out, &params).unwrap();
    out
}

fn brotli_decode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &data[..], &mut out).unwrap();
    out
}

fn gzip_decode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

async fn app_with_site() -> (TestApp, tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let wasm = site(dir.path());
    let app = TestApp::with_args(&["--site-root", dir.path().to_str().unwrap()]).await;
    (app, dir, wasm)
}

async fn get(app: &TestApp, path: &str, accept_encoding: Option<&str>) -> TestResponse {
    let mut req = Request::get(path);
    if let Some(ae) = accept_encoding {
        req = req.header("accept-encoding", ae);
    }
    app.send(req.body(Body::empty()).unwrap()).await
}

fn varies_on_encoding(res: &TestResponse) -> bool {
    res.headers.get_all("vary").iter().any(|v| {
        v.to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("accept-encoding")
    })
}

#[tokio::test]
async fn a_hashed_wasm_is_sent_brotli_and_cached_for_a_year() {
    let (app, _dir, wasm) = app_with_site().await;
    let res = get(
        &app,
        &format!("/pkg/portal.{HASH}.wasm"),
        Some("gzip, deflate, br"),
    )
    .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-encoding"), Some("br"));
    assert!(varies_on_encoding(&res), "{:?}", res.headers);
    assert_eq!(
        res.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(res.header("content-type"), Some("application/wasm"));
    assert!(res.body.len() < wasm.len() / 4, "{} bytes", res.body.len());
    assert_eq!(brotli_decode(&res.body), wasm);
}

#[tokio::test]
async fn gzip_is_sent_to_browsers_without_brotli() {
    let (app, _dir, wasm) = app_with_site().await;
    let res = get(&app, &format!("/pkg/portal.{HASH}.wasm"), Some("gzip")).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-encoding"), Some("gzip"));
    assert!(varies_on_encoding(&res));
    assert_eq!(gzip_decode(&res.body), wasm);
}

#[tokio::test]
async fn without_accept_encoding_the_file_is_sent_as_it_is() {
    let (app, _dir, wasm) = app_with_site().await;
    let res = get(&app, &format!("/pkg/portal.{HASH}.wasm"), None).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-encoding"), None);
    assert!(varies_on_encoding(&res), "{:?}", res.headers);
    assert_eq!(
        res.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(res.body, wasm);

    let res = get(&app, &format!("/pkg/portal.{HASH}.wasm"), Some("identity")).await;
    assert_eq!(res.header("content-encoding"), None);
    assert_eq!(res.body, wasm);
}

#[tokio::test]
async fn a_precompressed_file_is_sent_as_built() {
    let (app, dir, _) = app_with_site().await;
    let res = get(&app, &format!("/pkg/portal.{HASH}.css"), Some("br")).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-encoding"), Some("br"));
    assert_eq!(res.header("content-type"), Some("text/css"));
    assert!(varies_on_encoding(&res), "{:?}", res.headers);
    let built = std::fs::read(dir.path().join(format!("pkg/portal.{HASH}.css.br"))).unwrap();
    assert_eq!(
        res.body, built,
        "the .br file itself, not a fresh compression"
    );
}

#[tokio::test]
async fn an_unhashed_name_is_revalidated() {
    let (app, _dir, _) = app_with_site().await;
    let res = get(&app, "/pkg/portal.js", Some("br")).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("cache-control"), Some("no-cache"));
    assert_eq!(res.header("content-encoding"), Some("br"));
    assert!(res.header("last-modified").is_some(), "{:?}", res.headers);
}

#[tokio::test]
async fn an_unknown_file_is_not_found_and_not_cached() {
    let (app, _dir, _) = app_with_site().await;
    for path in [
        "/pkg/portal.AAAAAAAAAAAAAAAAAAAAAA.wasm".to_string(),
        "/pkg/nothing.js".to_string(),
        "/pkg/../Cargo.toml".to_string(),
    ] {
        let res = get(&app, &path, Some("br")).await;
        assert_eq!(res.status, 404, "{path}");
        assert_eq!(res.header("cache-control"), Some("no-cache"), "{path}");
    }
}

#[tokio::test]
async fn plain_names_stand_for_the_hashed_files_of_a_hashed_site() {
    let dir = tempfile::tempdir().unwrap();
    site(dir.path());
    std::fs::write(
        dir.path().join("pkg").join(format!("portal.{HASH}.js")),
        "export const x = 1;\n".repeat(10),
    )
    .unwrap();
    let hash_file = dir.path().join("hash.txt");
    std::fs::write(
        &hash_file,
        format!("js: {HASH}\nwasm: {HASH}\ncss: {HASH}\n"),
    )
    .unwrap();
    assert_eq!(
        assets::check_hash_file(&hash_file, &dir.path().join("pkg"), "portal"),
        Ok(())
    );
    let router = assets::pkg_service(dir.path(), "portal", Some(hash_file));

    // `portal.css` is not there: the hashed CSS is sent, revalidated (the name is not its hash).
    let res = send(
        router.clone(),
        Request::get("/portal.css").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "body { color: black; }\n".repeat(50));
    assert_eq!(res.header("cache-control"), Some("no-cache"));

    // A plain file that is there is sent itself.
    let res = send(
        router.clone(),
        Request::get("/portal.js").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(res.status, 200);
    assert!(res.text().starts_with("export function hello"));

    // Names the hash file does not cover are not mapped.
    let res = send(
        router,
        Request::get("/other.css").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(res.status, 404);
}
