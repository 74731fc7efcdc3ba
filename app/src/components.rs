//! Reusable pieces of the portal's pages.

pub mod browser;
pub mod form;
pub mod layout;
pub mod recovery_codes;
pub mod status;
pub mod user_menu;
