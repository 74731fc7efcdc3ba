//! CDR ingest over a real database: idempotent re-imports, per-organisation ids, rollups that
//! equal a recomputation from the raw rows whatever the arrival order, strict mode, a bad
//! header, and `portal calls import` / `portal service create` exit codes.
//!
//! One test binary; its modules: `calls` (generated call records and importing them),
//! `rollups` (stored and recomputed rollups), `storage` (what is stored), `input` (what is
//! read and refused) and `command_line` (the CLI).
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

// The shared helpers live beside the test binaries, not inside this one's folder.
#[path = "../support/mod.rs"]
mod support;

mod calls;
mod rollups;

mod command_line;
mod input;
mod storage;
