//! The layers of docs/ARCHITECTURE.md, checked on the source: each file may import only from
//! its own layer and the layers below it (comments aside). A new import that points upward
//! fails here with the file and the module it named.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

/// Every `.rs` file under `dir`, with its path relative to `dir`.
fn rust_files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path: PathBuf = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The source without its comments (line comments and doc comments), so that a doc link to a
/// higher module is not an import.
fn code(source: &str) -> String {
    source
        .lines()
        .map(|line| match line.find("//") {
            // A `//` inside a string (a URL) is rare here and only hides the rest of its line.
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The crate's top-level modules a file names: `crate::x::…` and each path of
/// `crate::{x::…, y}`.
fn crate_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The paths of the group, split at its top-level commas.
            let (mut depth, mut start) = (0usize, 0usize);
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        found.insert(first_segment(&group[start..j]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.insert(first_segment(&group[start..j]));
                        start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(first_segment(rest));
        }
    }
    found.remove("");
    found.remove("self");
    found
}

fn first_segment(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The top-level module a file of `src/` belongs to (`http/caller.rs` → `http`).
fn module_of(rel: &str) -> &str {
    let first = rel.split('/').next().unwrap();
    first.strip_suffix(".rs").unwrap_or(first)
}

#[test]
fn server_modules_import_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    // Lower number, lower floor. The edge (entry points and wiring) may use everything.
    let floor = |module: &str| -> u8 {
        match module {
            "clock" | "telemetry" | "faults" => 0,
            "db" => 1,
            "audit" | "accounts" | "auth" | "sso" | "voice" | "mail" | "demo" | "devidp" => 2,
            _ => 3,
        }
    };
    let mut wrong = Vec::new();
    for (rel, source) in rust_files(&src) {
        let module = module_of(&rel);
        if matches!(module, "lib" | "main") {
            continue;
        }
        let code = code(&source);
        for used in crate_modules(&code) {
            // The db layer stores the domain's validated call records; it names their types.
            let allowed_upward = module == "db" && code.contains("crate::voice::cdr::");
            if floor(&used) > floor(module) && !(allowed_upward && used == "voice") {
                wrong.push(format!("{rel} imports crate::{used}"));
            }
            if used == "http" && module != "http" {
                wrong.push(format!("{rel} imports crate::http"));
            }
        }
        if module == "http" && code.contains("sqlx") {
            wrong.push(format!("{rel} names sqlx (queries belong in db/)"));
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn app_floors_import_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/src");
    let floor = |module: &str| -> u8 {
        match module {
            "format" | "return_to" | "product" => 0,
            "api" => 1,
            "components" => 2,
            "pages" => 3,
            _ => 4,
        }
    };
    let mut wrong = Vec::new();
    for (rel, source) in rust_files(&src) {
        let module = module_of(&rel);
        for used in crate_modules(&code(&source)) {
            if floor(&used) > floor(module) {
                wrong.push(format!("app/src/{rel} imports crate::{used}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the floors:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn imports_are_found_in_paths_and_groups() {
    let found = crate_modules(
        "use crate::{\n    db::{self, Db},\n    voice::cdr::X,\n};\nlet x = crate::clock::now();",
    );
    assert_eq!(
        found,
        BTreeSet::from(["clock".to_string(), "db".to_string(), "voice".to_string()])
    );
    assert!(crate_modules(&code("/// see [`crate::http::AppState`]")).is_empty());
}
