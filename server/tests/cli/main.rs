//! The `portal` command line: each command works, and bad input gives a clear message and a
//! non-zero exit without writing anything.
//!
//! One test binary; its modules: `accounts` (organisations and users), `org_sso` (SSO
//! tenants), `running` (migrate, settings, serve) and `voice_data` (seed-demo, calls import).
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

// The shared helpers live beside the test binaries, not inside this one's folder.
#[path = "../support/mod.rs"]
mod support;

mod accounts;
mod org_sso;
mod running;
mod voice_data;

use std::process::Output;

/// A command's standard error as text.
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
