//! What the portal calls itself: the product name and the build version, shown by the pages
//! and used by the server in e-mails, the authenticator entry and `/status`.

/// The product name shown in the title bar and the browser tab.
pub const PRODUCT_NAME: &str = "Voice Customer Portal";

/// The build version shown in the footer.
pub const BUILD_VERSION: &str = env!("CARGO_PKG_VERSION");
