//! Reusable pieces of the portal's pages.

pub mod layout;
pub mod status;
