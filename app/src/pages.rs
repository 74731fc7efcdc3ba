//! One page per file; each is a route in [`crate::App`].

pub mod mfa;
pub mod not_found;
pub mod overview;
pub mod security;
pub mod sign_in;
