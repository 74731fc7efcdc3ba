//! Passwords: the policy every new password meets, and Argon2id hashing.
//!
//! Passwords are normalised to NFKC before hashing so the same password typed on different
//! keyboards (composed or decomposed accents, full-width digits) verifies. Nothing is
//! truncated: Argon2 takes the whole input, unlike bcrypt's 72 bytes.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use unicode_normalization::UnicodeNormalization;

/// Fewest characters in a password.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Most characters in a password.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Why a new password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    /// Too short.
    #[error("the password is too short: use at least {MIN_PASSWORD_CHARS} characters (a few unrelated words work well)")]
    TooShort,
    /// Too long.
    #[error("the password is too long: use at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
}

/// The NFKC form of a password, the form that is hashed and checked.
pub fn normalize(password: &str) -> String {
    password.nfkc().collect()
}

/// Checks a new password against the policy.
pub fn check_policy(password: &str) -> Result<(), PasswordPolicyError> {
    let chars = normalize(password).chars().count();
    if chars < MIN_PASSWORD_CHARS {
        Err(PasswordPolicyError::TooShort)
    } else if chars > MAX_PASSWORD_CHARS {
        Err(PasswordPolicyError::TooLong)
    } else {
        Ok(())
    }
}

/// Argon2id with OWASP's minimum parameters: 19 MiB, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    // The constants are valid; the crate's defaults (stronger) are only a formal fallback.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string. CPU-heavy: call it from a blocking thread.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(hasher()
        .hash_password(normalize(password).as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches the PHC string `hash`. CPU-heavy: call it from a blocking thread.
pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => hasher()
            .verify_password(normalize(password).as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse battery staple").expect("hashes");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery staple", &hash));
        assert!(!verify_password("correct horse battery stapl", &hash));
        assert!(!verify_password("anything", "not a phc string"));
    }

    #[test]
    fn nothing_is_truncated() {
        let long = "a".repeat(72);
        let hash = hash_password(&format!("{long}first")).expect("hashes");
        assert!(!verify_password(&format!("{long}other"), &hash));
    }

    #[test]
    fn composed_and_decomposed_accents_are_the_same_password() {
        let composed = "caf\u{e9} au lait, s'il vous pla\u{ee}t";
        let decomposed = "cafe\u{301} au lait, s'il vous plai\u{302}t";
        let hash = hash_password(composed).expect("hashes");
        assert!(verify_password(decomposed, &hash));
    }

    #[test]
    fn the_policy_counts_characters_not_bytes() {
        assert_eq!(check_policy("short"), Err(PasswordPolicyError::TooShort));
        assert_eq!(
            check_policy("ééééééééééé"),
            Err(PasswordPolicyError::TooShort)
        );
        assert_eq!(check_policy("éééééééééééé"), Ok(()));
        assert_eq!(
            check_policy(&"x".repeat(257)),
            Err(PasswordPolicyError::TooLong)
        );
    }
}
