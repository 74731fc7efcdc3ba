//! The `portal` binary as the tests run it: against a test database, with optional input.

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

/// Runs the `portal` binary with `args` against `db_url` (`RUST_LOG=warn`, no `PORTAL_ENV`),
/// writing `stdin` to it when given and then closing it; returns its exit status and output.
pub fn portal(db_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .env_remove("PORTAL_ENV")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}
