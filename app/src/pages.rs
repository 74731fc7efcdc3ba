//! One page per file; each is a route in [`crate::App`].

pub mod analytics;
pub mod api_tokens;
pub mod audit;
pub mod calls;
pub mod emergency_addresses;
pub mod forgot_password;
pub mod invite;
pub mod mfa;
pub mod not_found;
pub mod numbers;
pub mod overview;
pub mod porting;
pub mod provider;
pub mod reset_password;
pub mod security;
pub mod service_detail;
pub mod services;
pub mod sign_in;
pub mod sign_in_policy;
pub mod sso;
pub mod users;
