//! Recovery codes: the single-use codes a user keeps on paper in case they lose their
//! authenticator.
//!
//! A code is 10 characters from a 31-symbol alphabet without the look-alikes 0/o, 1/i/l,
//! shown as `xxxxx-xxxxx`. That is 10 × log2(31) ≈ 49.5 bits: far beyond online guessing under
//! rate limits, so a fast keyed hash is enough (Argon2 buys nothing for random codes). The key
//! (the pepper, derived from the server's secret key) means a stolen database alone cannot be
//! used to test guesses offline.

use hmac::{Hmac, Mac};
use rand::{rngs::OsRng, Rng};
use sha2::Sha256;

/// How many codes a user gets at a time.
pub const RECOVERY_CODE_COUNT: usize = 10;
/// Characters in a code, without the dash.
pub const CODE_CHARS: usize = 10;
/// The symbols codes are made of: lower-case letters and digits minus 0, o, 1, i and l.
const ALPHABET: &[u8; 31] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// A fresh set of [`RECOVERY_CODE_COUNT`] codes from the operating system's CSPRNG, formatted
/// `xxxxx-xxxxx` for display.
pub fn generate_codes() -> Vec<String> {
    (0..RECOVERY_CODE_COUNT).map(|_| generate_code()).collect()
}

/// One code. `gen_range` samples without modulo bias.
fn generate_code() -> String {
    let mut code = String::with_capacity(CODE_CHARS + 1);
    for i in 0..CODE_CHARS {
        if i == CODE_CHARS / 2 {
            code.push('-');
        }
        code.push(char::from(ALPHABET[OsRng.gen_range(0..ALPHABET.len())]));
    }
    code
}

/// The code as stored (lower case, no spaces or dashes), if `input` is a well-formed code.
///
/// Only ASCII case folding: Unicode lower-casing would turn e.g. the Kelvin sign into `k` and
/// accept text nobody was shown.
pub fn normalize(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == CODE_CHARS && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// HMAC-SHA256 of a normalised code under `pepper`, in lower-case hex: the value stored and
/// looked up.
pub fn hash_code(normalized: &str, pepper: &[u8; 32]) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(pepper) else {
        // HMAC's key can be any length (RFC 2104 pads or hashes it), so this never fails.
        unreachable!("HMAC accepts keys of any length")
    };
    mac.update(normalized.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    hex
}

/// Lower-case hex digits.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether `input` has the shape of a recovery code rather than a six-digit TOTP code, so one
/// MFA field can take either.
pub fn looks_like_recovery_code(input: &str) -> bool {
    normalize(input).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alphabet_has_no_look_alikes_and_no_repeats() {
        for banned in b"01oil" {
            assert!(!ALPHABET.contains(banned));
        }
        let mut sorted = ALPHABET.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ALPHABET.len());
        // ≈ 49.5 bits per code.
        let bits = CODE_CHARS as f64 * (ALPHABET.len() as f64).log2();
        assert!(bits > 49.5, "{bits}");
    }

    #[test]
    fn codes_are_well_formed_and_distinct() {
        let codes = generate_codes();
        assert_eq!(codes.len(), RECOVERY_CODE_COUNT);
        for code in &codes {
            assert_eq!(code.len(), 11);
            assert_eq!(code.as_bytes()[5], b'-');
            assert!(looks_like_recovery_code(code));
            assert_eq!(normalize(code).map(|n| n.len()), Some(CODE_CHARS));
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
    }

    #[test]
    fn normalize_forgives_case_spaces_and_dashes_only() {
        assert_eq!(normalize("abcde-fghjk"), Some("abcdefghjk".to_string()));
        assert_eq!(normalize("ABCDE FGHJK"), Some("abcdefghjk".to_string()));
        assert_eq!(
            normalize(" ab-cd ef-gh jk "),
            Some("abcdefghjk".to_string())
        );
        assert_eq!(normalize("abcde-fghj"), None);
        assert_eq!(normalize("abcde-fghjkm"), None);
        // Look-alikes are not in the alphabet.
        assert_eq!(normalize("abcde-fghj0"), None);
        assert_eq!(normalize("abcde-fghjl"), None);
        assert_eq!(normalize("abcde-fghjI"), None);
        // The Kelvin sign would lower-case to `k` under Unicode rules.
        assert_eq!(normalize("abcde-fghj\u{212A}"), None);
        assert_eq!(normalize(""), None);
    }

    #[test]
    fn hashes_are_keyed_hex_and_stable() {
        let pepper = [1u8; 32];
        let hash = hash_code("abcdefghjk", &pepper);
        assert_eq!(hash.len(), 64);
        assert!(hash.bytes().all(|b| HEX.contains(&b)));
        assert_eq!(hash, hash_code("abcdefghjk", &pepper));
        assert_ne!(hash, hash_code("abcdefghjm", &pepper));
        assert_ne!(hash, hash_code("abcdefghjk", &[2u8; 32]));
    }

    #[test]
    fn the_hash_is_hmac_sha256() {
        // RFC 4231 test case 2 needs a 4-byte key; with a 32-byte key, compare against the
        // construction itself: HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)).
        use sha2::Digest;
        let pepper = [0x0bu8; 32];
        let mut ipad = [0x36u8; 64];
        let mut opad = [0x5cu8; 64];
        for ((i, o), k) in ipad.iter_mut().zip(opad.iter_mut()).zip(pepper) {
            *i ^= k;
            *o ^= k;
        }
        let inner = Sha256::new()
            .chain_update(ipad)
            .chain_update(b"abcdefghjk")
            .finalize();
        let outer = Sha256::new()
            .chain_update(opad)
            .chain_update(inner)
            .finalize();
        let expected: String = outer.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hash_code("abcdefghjk", &pepper), expected);
    }

    #[test]
    fn totp_codes_do_not_look_like_recovery_codes() {
        assert!(!looks_like_recovery_code("123456"));
        assert!(!looks_like_recovery_code("123 456"));
        assert!(looks_like_recovery_code("23456-789ab"));
    }
}
