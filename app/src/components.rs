//! Reusable pieces of the portal's pages.

pub mod access;
pub mod browser;
pub mod chart;
pub mod chunk_error;
pub mod confirm_row;
pub mod csv_export;
pub mod data_table;
pub mod dialog;
pub mod empty_state;
pub mod form;
pub mod layout;
pub mod load_error;
pub mod microsoft_button;
pub mod new_password;
pub mod org_switcher;
pub mod password_link;
pub mod recovery_codes;
pub mod skeleton;
pub mod status;
pub mod step_up_dialog;
pub mod user_menu;
