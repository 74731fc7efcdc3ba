//! The front end's static files under `/pkg` (the wasm bundle, its JS glue, the CSS): hashed
//! names, cache headers and compression.
//!
//! With `LEPTOS_HASH_FILES=true` (release builds and `make test`; see `hash-files` in the root
//! `Cargo.toml`, off for `cargo leptos watch`) cargo-leptos renames
//! `portal.{js,wasm,css}` to `portal.<hash>.<ext>` (the hash is the file's MD5, 22 base64url
//! characters) and writes the hashes to a hash file beside the server binary
//! (`target/<profile>/hash.txt`). Leptos' `HydrationScripts` and `HashedStylesheet` read that file
//! on every render when `LeptosOptions::hash_files` is on; [`hash_file_for_site`] decides at start
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

/// `Cache-Control` of a file whose name carries its content hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` of everything else under `/pkg`: use it, but ask first.
pub const REVALIDATE: &str = "no-cache";

/// The extensions cargo-leptos hashes (and names in its hash file).
const HASHED_EXTENSIONS: [&str; 3] = ["js", "wasm", "css"];

/// Length of cargo-leptos' hash: an MD5 digest in unpadded base64url.
const HASH_LEN: usize = 22;

/// The `extension: hash` lines of a cargo-leptos hash file, for the extensions it hashes.
pub fn parse_hash_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(ext, hash)| (ext.trim().to_string(), hash.trim().to_string()))
        .filter(|(ext, hash)| HASHED_EXTENSIONS.contains(&ext.as_str()) && is_hash(hash))
        .collect()
}

fn is_hash(s: &str) -> bool {
    s.len() == HASH_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether a file name has cargo-leptos' hashed form `<stem>.<hash>.<ext>`.
pub fn is_hashed_name(name: &str) -> bool {
    let mut parts = name.rsplitn(3, '.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(ext), Some(hash), Some(stem)) => !ext.is_empty() && !stem.is_empty() && is_hash(hash),
        _ => false,
    }
}

/// Checks that the hash file describes the files in `pkg_dir`: it names the wasm and the JS glue,
/// and every file it names is there. The reason it does not, for the log, otherwise.
pub fn check_hash_file(hash_file: &Path, pkg_dir: &Path, output_name: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(hash_file)
        .map_err(|e| format!("{} cannot be read: {e}", hash_file.display()))?;
    let hashes = parse_hash_file(&text);
    for needed in ["js", "wasm"] {
        if !hashes.iter().any(|(ext, _)| ext == needed) {
            return Err(format!("{} names no .{needed} file", hash_file.display()));
        }
    }
    for (ext, hash) in &hashes {
        let file = pkg_dir.join(format!("{output_name}.{hash}.{ext}"));
        if !file.is_file() {
            return Err(format!(
                "{} names {}, which is not there (the site was rebuilt without hashes, or the hash file belongs to another build)",
                hash_file.display(),
                file.display()
            ));
        }
    }
    Ok(())
}

/// The hash file to give Leptos for the site in `site_root`, or `None` to serve unhashed names.
///
/// Looked up as Leptos does: `LEPTOS_HASH_FILE_NAME` (set by cargo-leptos; default `hash.txt`)
/// relative to the directory of the running binary, or absolute. The absolute path is returned,
/// so Leptos (which joins it to the binary's directory again) reads exactly this file.
pub fn hash_file_for_site(site_root: &Path, output_name: &str) -> Option<PathBuf> {
    // cargo-leptos tells the server it runs whether it built with hashes (`make run` does not);
    // a hash file left by an earlier build is then not this site's.
    if std::env::var("LEPTOS_HASH_FILES").is_ok_and(|v| v.trim() == "false") {
        tracing::debug!(
            "LEPTOS_HASH_FILES=false: serving the site's files under their plain names"
        );
        return None;
    }
    let name = std::env::var("LEPTOS_HASH_FILE_NAME").unwrap_or_else(|_| "hash.txt".to_string());
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let hash_file = exe_dir.join(name);
    if !hash_file.is_file() {
        tracing::debug!(
            "no hash file at {}: serving the site's files under their plain names",
            hash_file.display()
        );
        return None;
    }
    // Leptos takes the path as text; a path that is not UTF-8 cannot be handed over.
    hash_file.to_str()?;
    match check_hash_file(&hash_file, &site_root.join("pkg"), output_name) {
        Ok(()) => {
            tracing::info!(
                "serving hashed asset names from {} (cached for a year)",
                hash_file.display()
            );
            Some(hash_file)
        }
        Err(reason) => {
            tracing::warn!("ignoring the hash file: {reason}; serving plain names");
            None
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "AbCdEfGhIjKlMnOpQr-_01";

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed_name(&format!("portal.{H}.wasm")));
        assert!(is_hashed_name(&format!("portal.{H}.css")));
        assert!(!is_hashed_name("portal.wasm"));
        assert!(!is_hashed_name("portal_bg.wasm"));
        assert!(!is_hashed_name(&format!(".{H}.js")));
        assert!(!is_hashed_name(&format!("portal.{H}.")));
        // One character short, or a character base64url does not use.
        assert!(!is_hashed_name(&format!("portal.{}.js", &H[1..])));
        assert!(!is_hashed_name("portal.AbCdEfGhIjKlMnOpQr+/01.js"));
    }

    #[test]
    fn the_hash_file_is_parsed() {
        let text = format!("js: {H}\nwasm: {H}\ncss: {H}\nmanifest: nothing\n\nsplit: x\n");
        let parsed = parse_hash_file(&text);
        let exts: Vec<&str> = parsed.iter().map(|(e, _)| e.as_str()).collect();
        assert_eq!(exts, ["js", "wasm", "css"]);
        assert!(parsed.iter().all(|(_, h)| h == H));
        assert!(parse_hash_file("js: short\n").is_empty());
    }

    #[test]
    fn a_hash_file_counts_only_when_its_files_are_there() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        let hash_file = dir.path().join("hash.txt");

        assert!(
            check_hash_file(&hash_file, &pkg, "portal").is_err(),
            "missing file"
        );

        std::fs::write(&hash_file, format!("js: {H}\nwasm: {H}\ncss: {H}\n")).unwrap();
        let err = check_hash_file(&hash_file, &pkg, "portal").unwrap_err();
        assert!(err.contains("not there"), "{err}");

        for ext in ["js", "wasm", "css"] {
            std::fs::write(pkg.join(format!("portal.{H}.{ext}")), b"x").unwrap();
        }
        assert_eq!(check_hash_file(&hash_file, &pkg, "portal"), Ok(()));
        assert!(
            check_hash_file(&hash_file, &pkg, "other").is_err(),
            "another output name"
        );

        std::fs::write(&hash_file, format!("css: {H}\n")).unwrap();
        let err = check_hash_file(&hash_file, &pkg, "portal").unwrap_err();
        assert!(err.contains("no .js"), "{err}");
    }
}
