//! One page per file; each is a route in [`crate::App`].

pub mod forgot_password;
pub mod invite;
pub mod mfa;
pub mod not_found;
pub mod overview;
pub mod provider;
pub mod reset_password;
pub mod security;
pub mod sign_in;
pub mod sso;
