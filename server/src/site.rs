//! The built site on disk: where cargo-leptos put the wasm, JS and CSS, and whether their
//! names carry content hashes. `LeptosOptions` for rendering pages are made from it at start;
//! the HTTP layer's `/pkg` service (`http::assets`) serves it.
//!
//! With `LEPTOS_HASH_FILES=true` cargo-leptos names the files `portal.<hash>.<ext>` and writes
//! the hashes to a hash file beside the server binary. [`hash_file_for_site`] turns hashing on
//! only when that file names files that are in this site's `pkg/`: a stale hash file (left by
//! `make test` before `make run`, which builds without hashes) must not send browsers to files
//! that are gone.

use std::path::{Path, PathBuf};

use leptos::prelude::LeptosOptions;

use crate::config::ServeArgs;

/// The extensions cargo-leptos hashes (and names in its hash file).
pub const HASHED_EXTENSIONS: [&str; 3] = ["js", "wasm", "css"];

/// Length of cargo-leptos' hash: an MD5 digest in unpadded base64url.
pub const HASH_LEN: usize = 22;

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

/// Leptos' options for serving the site built by cargo-leptos.
pub fn leptos_options(config: &ServeArgs) -> LeptosOptions {
    let output_name = std::env::var("LEPTOS_OUTPUT_NAME").unwrap_or_else(|_| "portal".to_string());
    let env = match std::env::var("LEPTOS_ENV").as_deref() {
        Ok("PROD") | Ok("prod") | Ok("production") => leptos::config::Env::PROD,
        _ => leptos::config::Env::DEV,
    };
    // Hashed names (cargo-leptos' `hash-files`) only when the hash file matches the site;
    // see `assets`.
    let hash_file = hash_file_for_site(&config.site_root, &output_name);
    LeptosOptions::builder()
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.site_addr)
        .env(env)
        .hash_files(hash_file.is_some())
        .hash_file(
            hash_file
                .map(|f| f.display().to_string())
                .unwrap_or_else(|| "hash.txt".to_string())
                .into(),
        )
        .output_name(output_name)
        .build()
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
