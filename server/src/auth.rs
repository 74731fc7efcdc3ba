//! Authentication: password hashing and the password policy.

pub mod password;
