//! The voice domain: customers' voice services and their call records (CDRs).
//!
//! - [`services`]: creating services (the CLI now, the API later);
//! - [`cdr`]: the CDR exchange format (CSV and NDJSON) and the per-row validation rules;
//! - [`ingest`]: storing validated CDRs in batches, idempotently, with the hourly rollups;
//! - [`countries`]: the assigned ISO 3166-1 alpha-2 codes.

pub mod cdr;
pub mod countries;
pub mod emergency_addresses;
pub mod ingest;
pub mod numbers;
pub mod port_orders;
pub mod services;
