//! The Voice Customer Portal server: configuration, HTTP, authentication, the voice domain,
//! the database and the `portal` command line.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod devidp;
pub mod faults;
pub mod housekeeping;
pub mod http;
pub mod mail;
pub mod signals;
pub mod site;
pub mod sso;
pub mod state;
pub mod telemetry;
pub mod voice;
