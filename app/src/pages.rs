//! One page per file; each is a route in [`crate::App`].

pub mod not_found;
pub mod overview;
