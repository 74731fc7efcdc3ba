//! The portal's JSON API (`/api/v1`): request and response types shared with the server, and
//! the typed browser client that the pages call.
//!
//! Every error the API returns has the body `{"error": {"code": "…", "message": "…"}}`; the
//! client turns it, and any transport failure, into one [`ApiError`].

pub mod analytics;
pub mod audit;
pub mod auth;
pub mod calls;
pub mod client;
pub mod error;
pub mod form_post;
pub mod incidents;
pub mod numbers;
pub mod org;
pub mod porting;
pub mod prefetch;
pub mod services;
pub mod sso;
pub mod status;
pub mod step_up;
pub mod tokens;
pub mod users;

pub use error::{ApiError, ErrorBody, ErrorDetail};
