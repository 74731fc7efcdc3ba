//! Authentication: passwords, TOTP, recovery codes, secrets at rest, sessions, CSRF and
//! rate limits.

pub mod api_token;
pub mod caller;
pub mod csrf;
pub mod entra;
pub mod hashing;
pub mod password;
pub mod rate_limit;
pub mod recovery;
pub mod secretbox;
pub mod session;
pub mod session_cache;
pub mod totp;
pub mod verification;
