//! Reusable pieces of the portal's pages.

pub mod browser;
pub mod form;
pub mod layout;
pub mod load_error;
pub mod microsoft_button;
pub mod new_password;
pub mod password_link;
pub mod recovery_codes;
pub mod status;
pub mod user_menu;
