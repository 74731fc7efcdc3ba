//! Passwords: the policy every new password meets, and Argon2id hashing.
//!
//! Passwords are normalised to NFKC before hashing so the same password typed on different
//! keyboards (composed or decomposed accents, full-width digits) verifies. Nothing is
//! truncated: Argon2 takes the whole input, unlike bcrypt's 72 bytes.
//!
//! A new password must also be hard to guess: zxcvbn estimates how many guesses an attacker
//! who knows common passwords, keyboard patterns and the user's own details would need.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString},
    Algorithm, Argon2, Params, Version,
};
use unicode_normalization::UnicodeNormalization;
use zxcvbn::Score;

/// Fewest characters in a password.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Most characters in a password.
pub const MAX_PASSWORD_CHARS: usize = 256;
/// The lowest zxcvbn score a new password may have: about 10^10 guesses, out of reach of an
/// online attack and costly offline against Argon2id.
const MIN_SCORE: Score = Score::Three;
/// Characters of the password zxcvbn sees. Its matching grows faster than linearly with the
/// length, and 100 strong characters make a strong password whatever follows.
const ZXCVBN_MAX_CHARS: usize = 100;
/// The shortest email local part the password is checked for; shorter ones ("al") would
/// refuse many good passwords by accident.
const MIN_LOCAL_PART_CHARS: usize = 4;
/// The hint when the password contains the user's email address.
const EMAIL_HINT: &str = "Do not use your email address or its user name.";
/// The hint when zxcvbn gives no feedback (it always does below the minimum score today).
const FALLBACK_HINT: &str = "Add another word or two.";

/// Why a new password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    /// Too short.
    #[error("the password is too short: use at least {MIN_PASSWORD_CHARS} characters (a few unrelated words work well)")]
    TooShort,
    /// Too long.
    #[error("the password is too long: use at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    /// Too easy to guess: common, a keyboard pattern, or built from the user's own details.
    #[error("the password is too easy to guess: {hint}")]
    TooGuessable {
        /// What is wrong and how to fix it, in zxcvbn's words (English sentences).
        hint: String,
    },
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

/// Checks a password the user is choosing: the length policy, then that it is not built
/// from their email address, then zxcvbn's guessability estimate given `user_inputs` (their
/// email and its local part, name, organisation name and the product name).
///
/// zxcvbn takes some milliseconds; call this once per submission, not per keystroke.
pub fn check_new_password(password: &str, user_inputs: &[&str]) -> Result<(), PasswordPolicyError> {
    check_policy(password)?;
    let normalized = normalize(password);
    if contains_email(&normalized.to_lowercase(), user_inputs) {
        return Err(PasswordPolicyError::TooGuessable {
            hint: EMAIL_HINT.to_string(),
        });
    }
    let head: String = normalized.chars().take(ZXCVBN_MAX_CHARS).collect();
    let inputs = expand_user_inputs(user_inputs);
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(&head, &inputs);
    if estimate.score() < MIN_SCORE {
        return Err(PasswordPolicyError::TooGuessable {
            hint: feedback_hint(estimate.feedback()),
        });
    }
    Ok(())
}

/// Whether `folded` (a normalised, lower-cased password) is one of the email addresses among
/// `user_inputs` or contains its local part (with or without a `+tag`).
fn contains_email(folded: &str, user_inputs: &[&str]) -> bool {
    user_inputs.iter().any(|input| {
        let email = normalize(input.trim()).to_lowercase();
        let Some((local, _domain)) = email.rsplit_once('@') else {
            return false;
        };
        let untagged = local.split('+').next().unwrap_or(local);
        folded == email
            || [local, untagged]
                .iter()
                .any(|part| part.chars().count() >= MIN_LOCAL_PART_CHARS && folded.contains(part))
    })
}

/// The user inputs as zxcvbn should see them: NFKC like the password, and each one also as
/// its separate words and as those words run together.
///
/// zxcvbn matches a user input only as a whole, so "Voice Customer Portal" alone does not
/// catch "VoiceCustomerPortal" or "portal2024". Words under three characters are dropped: they
/// would match by chance inside unrelated passwords.
fn expand_user_inputs(user_inputs: &[&str]) -> Vec<String> {
    let mut expanded = Vec::new();
    for input in user_inputs {
        let input = normalize(input.trim());
        let words: Vec<&str> = input
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| word.chars().count() >= 3)
            .collect();
        if words.len() > 1 {
            expanded.push(words.concat());
            expanded.extend(words.iter().map(|word| word.to_string()));
        }
        expanded.push(input);
    }
    expanded.sort_unstable();
    expanded.dedup();
    expanded
}

/// zxcvbn's warning and suggestions as one line, e.g. "This is a very common password. Add
/// another word or two."
fn feedback_hint(feedback: Option<&zxcvbn::feedback::Feedback>) -> String {
    let Some(feedback) = feedback else {
        return FALLBACK_HINT.to_string();
    };
    let parts: Vec<String> = feedback
        .warning()
        .map(|warning| warning.to_string())
        .into_iter()
        .chain(feedback.suggestions().iter().map(ToString::to_string))
        .collect();
    if parts.is_empty() {
        FALLBACK_HINT.to_string()
    } else {
        parts.join(" ")
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
    verify_reusing_memory(password, hash).unwrap_or(false)
}

/// Largest Argon2 memory cost accepted from a stored hash (256 MiB), so a corrupted row cannot
/// make a verification allocate without bound.
const MAX_VERIFY_KIB: u32 = 256 * 1024;

thread_local! {
    /// Argon2's working memory, kept per thread. Allocating 19 MiB afresh for every
    /// verification costs the kernel ~5 000 page faults (zeroing every page), a third of the
    /// hash's own time; reusing the blocks makes a sign-in cost about one hash.
    static ARGON2_BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The PHC verification of `argon2`'s `PasswordVerifier`, with reused working memory and a
/// constant-time comparison of the result.
fn verify_reusing_memory(password: &str, hash: &str) -> Option<bool> {
    use subtle::ConstantTimeEq;

    let parsed = PasswordHash::new(hash).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).ok()?;
    if params.m_cost() > MAX_VERIFY_KIB {
        return None;
    }
    let mut salt_buf = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt_buf).ok()?;
    let expected = parsed.hash?;
    let mut actual = vec![0u8; expected.len()];
    let normalized = normalize(password);
    let needed = params.block_count();
    ARGON2_BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        if blocks.len() < needed {
            blocks.resize(needed, argon2::Block::default());
        }
        Argon2::new(algorithm, version, params)
            .hash_password_into_with_memory(
                normalized.as_bytes(),
                salt,
                &mut actual,
                &mut blocks[..needed],
            )
            .ok()
    })?;
    Some(bool::from(actual.as_slice().ct_eq(expected.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_agrees_with_the_crate_for_other_parameters() {
        use argon2::PasswordVerifier;
        // A hash made with different costs (as after a future parameter change) still verifies.
        let params = Params::new(4096, 3, 1, None).expect("params");
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let hash = argon
            .hash_password(b"old parameters pass", &salt)
            .expect("hash")
            .to_string();
        assert!(verify_password("old parameters pass", &hash));
        assert!(!verify_password("old parameters fail", &hash));
        let ours = hash_password("round trip both ways").expect("hash");
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(hasher()
            .verify_password(b"round trip both ways", &parsed)
            .is_ok());
    }

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

    /// What the sign-up handler passes for Alice.
    const ALICE: &[&str] = &[
        "alice.wonder@contoso.com",
        "alice.wonder",
        "Alice Wonder",
        "Contoso",
        "Voice Customer Portal",
    ];

    fn is_too_guessable(result: Result<(), PasswordPolicyError>) -> bool {
        matches!(result, Err(PasswordPolicyError::TooGuessable { .. }))
    }

    #[test]
    fn common_passwords_are_too_guessable() {
        for password in [
            "password1234",
            "qwertyuiop123",
            "123456789012",
            "iloveyou1234",
        ] {
            assert!(
                is_too_guessable(check_new_password(password, ALICE)),
                "{password}"
            );
        }
    }

    #[test]
    fn the_refusal_says_why_in_zxcvbns_words() {
        let err = check_new_password("password1234", ALICE).expect_err("refused");
        let message = err.to_string();
        assert!(
            message.starts_with("the password is too easy to guess: "),
            "{message}"
        );
        assert!(message.contains("Add another word or two."), "{message}");
    }

    #[test]
    fn passphrases_of_random_words_are_accepted() {
        for password in [
            "plinth mango quiver basalt",
            "orbit velvet sprocket lagoon",
            "tundra pickle harbor whistle",
        ] {
            assert_eq!(check_new_password(password, ALICE), Ok(()), "{password}");
        }
    }

    #[test]
    fn the_users_own_details_are_too_guessable() {
        for password in [
            "alice.wonder@contoso.com",
            "ALICE.WONDER@contoso.com",
            "plinth alice.wonder basalt",
            "Alice.Wonder2024!",
        ] {
            let err = check_new_password(password, ALICE).expect_err(password);
            assert_eq!(
                err,
                PasswordPolicyError::TooGuessable {
                    hint: EMAIL_HINT.to_string()
                },
                "{password}"
            );
        }
        // zxcvbn itself knows the organisation and product names.
        assert!(is_too_guessable(check_new_password(
            "VoiceCustomerPortal",
            ALICE
        )));
        assert!(is_too_guessable(check_new_password("contoso12345", ALICE)));
    }

    #[test]
    fn a_plus_tag_does_not_hide_the_local_part() {
        let inputs = ["mallory+portal@contoso.com"];
        assert!(is_too_guessable(check_new_password(
            "plinth mallory basalt",
            &inputs
        )));
    }

    #[test]
    fn a_short_local_part_is_left_to_zxcvbn() {
        let inputs = ["al@contoso.com"];
        assert_eq!(
            check_new_password("plinth mango quiver basalt", &inputs),
            Ok(())
        );
    }

    #[test]
    fn the_length_rules_come_first() {
        assert_eq!(
            check_new_password("short", ALICE),
            Err(PasswordPolicyError::TooShort)
        );
        assert_eq!(
            check_new_password(&"x".repeat(257), ALICE),
            Err(PasswordPolicyError::TooLong)
        );
    }

    #[test]
    fn a_long_password_is_judged_on_its_first_hundred_characters() {
        let strong_head = "plinth mango quiver basalt ".repeat(4);
        let password = format!("{strong_head}{}", "a".repeat(100));
        assert_eq!(check_new_password(&password, ALICE), Ok(()));
    }
}
