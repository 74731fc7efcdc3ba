//! The front end's static files under `/pkg` (the wasm bundle, its JS glue, the CSS): hashed
//! names, cache headers and compression.
//!
//! With `LEPTOS_HASH_FILES=true` (release builds and `make test`; see `hash-files` in the root
//! `Cargo.toml`, off for `cargo leptos watch`) cargo-leptos renames
//! `portal.{js,wasm,css}` to `portal.<hash>.<ext>` (the hash is the file's MD5, 22 base64url
//! characters) and writes the hashes to a hash file beside the server binary
//! (`target/<profile>/hash.txt`). Leptos' `HydrationScripts` and `HashedStylesheet` read that file
//! on every render when `LeptosOptions::hash_files` is on; `site::hash_file_for_site` decides at start
//! whether it is on: only when the hash file exists and names files that are in this site's
//! `pkg/` — a stale hash file (for example left by `make test` before `make run`, which builds
//! without hashes) must not send browsers to files that are gone.
//!
//! A hashed name never changes content, so such files are cached for a year (`immutable`);
//! everything else under `/pkg` is revalidated (`no-cache`, with `Last-Modified`).
//!
//! Compression: a release build (`cargo leptos build --release --precompress`) ships `.br` and
//! `.gz` beside each file (brotli quality 11), which `ServeDir` sends as they are. Without them
//! (debug builds: `make run`, `make test`) the same files are compressed on the fly, at the fastest
//! level: the debug wasm is ~15 MB, and brotli's default on-the-fly quality (4) would spend a fifth
//! of a second of CPU on every download of it. Only `/pkg` is compressed: pages are streamed as
//! they render and the CSV exports stream rows, and an encoder that holds data back until its
//! buffer fills would delay both; they are left uncompressed.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode, Uri},
    middleware::{from_fn_with_state, Next},
    response::Response,
};
use tower_http::{
    compression::{CompressionLayer, CompressionLevel},
    services::ServeDir,
};

pub use crate::site::{check_hash_file, hash_file_for_site};
use crate::site::{is_hashed_name, parse_hash_file, HASHED_EXTENSIONS};

/// `Cache-Control` of a file whose name carries its content hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` of everything else under `/pkg`: use it, but ask first.
pub const REVALIDATE: &str = "no-cache";

/// What the `/pkg` layer needs to know.
struct Pkg {
    dir: PathBuf,
    output_name: String,
    /// The validated hash file, when the site is hashed.
    hash_file: Option<PathBuf>,
}

impl Pkg {
    /// The hashed file a plain name such as `portal.css` stands for, when the site is hashed and
    /// the plain file is not there. Pages written by hand (the SSO flow's error page, the
    /// development outbox) link `/pkg/portal.css`; they get the current file, revalidated.
    async fn hashed_for(&self, name: &str) -> Option<String> {
        let hash_file = self.hash_file.as_ref()?;
        let ext = name.strip_prefix(&self.output_name)?.strip_prefix('.')?;
        if !HASHED_EXTENSIONS.contains(&ext)
            || tokio::fs::try_exists(self.dir.join(name))
                .await
                .unwrap_or(true)
        {
            return None;
        }
        // Read each time: a rebuild under a running server writes new hashes.
        let text = tokio::fs::read_to_string(hash_file).await.ok()?;
        let hash = parse_hash_file(&text)
            .into_iter()
            .find_map(|(e, h)| (e == ext).then_some(h))?;
        Some(format!("{}.{hash}.{ext}", self.output_name))
    }
}

/// The `/pkg` service over `site_root/pkg`: precompressed files when the build made them,
/// on-the-fly brotli or gzip otherwise, and the cache headers.
pub fn pkg_service(
    site_root: &Path,
    output_name: &str,
    hash_file: Option<PathBuf>,
) -> axum::routing::Router {
    let dir = site_root.join("pkg");
    let pkg = Arc::new(Pkg {
        dir: dir.clone(),
        output_name: output_name.to_string(),
        hash_file,
    });
    axum::routing::Router::new()
        .fallback_service(ServeDir::new(dir).precompressed_br().precompressed_gzip())
        // Skips responses that already carry a Content-Encoding (the precompressed files).
        .layer(
            CompressionLayer::new()
                .br(true)
                .gzip(true)
                .quality(CompressionLevel::Fastest),
        )
        .layer(from_fn_with_state(pkg, pkg_headers))
}

/// Maps a plain name to its hashed file when needed, then sets `Cache-Control` and `Vary`.
async fn pkg_headers(State(pkg): State<Arc<Pkg>>, mut req: Request, next: Next) -> Response {
    let name = req
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let hashed = is_hashed_name(&name);
    if !hashed {
        if let Some(target) = pkg.hashed_for(&name).await {
            let path = req.uri().path();
            let new_path = format!("{}{target}", &path[..path.len() - name.len()]);
            if let Ok(uri) = new_path.parse::<Uri>() {
                *req.uri_mut() = uri;
            }
        }
    }
    let mut response = next.run(req).await;
    let found = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    let cache = if found && hashed {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // Every answer depends on Accept-Encoding (a precompressed or compressed body, or not), so
    // a shared cache must key on it — the identity answer too, which the compression layer
    // leaves without `Vary`.
    let varies = headers.get_all(header::VARY).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.to_ascii_lowercase().contains("accept-encoding"))
    });
    if !varies {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}
