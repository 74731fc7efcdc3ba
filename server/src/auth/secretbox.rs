//! Small secrets at rest (TOTP seeds, refresh tokens), sealed with XChaCha20-Poly1305 under
//! the 32-byte `PORTAL_SECRET_KEY`.
//!
//! The sealed form is text, so it fits a `TEXT` column: `v1:` followed by standard padded
//! base64 of `nonce || ciphertext || tag`. The version prefix lets a later key or algorithm
//! rotation tell old rows from new ones. XChaCha's 24-byte nonce is large enough to draw at
//! random for every seal without a realistic chance of reuse under one key.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    Key, XChaCha20Poly1305, XNonce,
};
use rand::{rngs::OsRng, RngCore};

/// The prefix of every value sealed by this version of the format.
const PREFIX_V1: &str = "v1:";
/// Bytes in an XChaCha20 nonce.
const NONCE_BYTES: usize = 24;
/// Bytes in a Poly1305 tag.
const TAG_BYTES: usize = 16;

/// Why a secret could not be sealed or opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretBoxError {
    /// The stored text is not a sealed value of a known version (bad prefix, bad base64, too
    /// short).
    #[error("the sealed value is malformed")]
    Malformed,
    /// The value did not authenticate: another key, tampered bytes, or other associated data.
    #[error("the sealed value could not be decrypted")]
    Decrypt,
    /// The cipher refused to encrypt; only a plaintext beyond the cipher's limit (about
    /// 256 GiB) causes this.
    #[error("the secret could not be encrypted")]
    Encrypt,
}

/// Seals and opens small secrets with one key.
///
/// The cipher keeps its own copy of the key and zeroes it on drop.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    // Never print the key: this struct ends up inside app state, which gets logged.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretBox").finish_non_exhaustive()
    }
}

impl SecretBox {
    /// A box that seals and opens with `key`.
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// Encrypts `plaintext`, bound to `associated_data` (e.g. the owning user's id), into text
    /// for a `TEXT` column. Two seals of the same plaintext differ: each uses a fresh nonce.
    pub fn seal(&self, plaintext: &[u8], associated_data: &[u8]) -> Result<String, SecretBoxError> {
        let mut nonce = [0u8; NONCE_BYTES];
        OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: associated_data,
                },
            )
            .map_err(|_| SecretBoxError::Encrypt)?;
        let mut raw = Vec::with_capacity(NONCE_BYTES + ciphertext.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&ciphertext);
        Ok(format!("{PREFIX_V1}{}", STANDARD.encode(raw)))
    }

    /// Decrypts a value made by [`SecretBox::seal`] with the same key and associated data.
    pub fn open(&self, sealed: &str, associated_data: &[u8]) -> Result<Vec<u8>, SecretBoxError> {
        let encoded = sealed
            .strip_prefix(PREFIX_V1)
            .ok_or(SecretBoxError::Malformed)?;
        let raw = STANDARD
            .decode(encoded)
            .map_err(|_| SecretBoxError::Malformed)?;
        if raw.len() < NONCE_BYTES + TAG_BYTES {
            return Err(SecretBoxError::Malformed);
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_BYTES);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: associated_data,
                },
            )
            .map_err(|_| SecretBoxError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> SecretBox {
        SecretBox::new([7u8; 32])
    }

    #[test]
    fn a_sealed_secret_opens_with_the_same_key_and_associated_data() {
        let sealed = sealer().seal(b"totp seed", b"user-1").expect("seals");
        assert!(sealed.starts_with("v1:"));
        assert_eq!(sealer().open(&sealed, b"user-1"), Ok(b"totp seed".to_vec()));
    }

    #[test]
    fn an_empty_secret_round_trips() {
        let sealed = sealer().seal(b"", b"").expect("seals");
        assert_eq!(sealer().open(&sealed, b""), Ok(Vec::new()));
    }

    #[test]
    fn another_key_cannot_open_it() {
        let sealed = sealer().seal(b"totp seed", b"user-1").expect("seals");
        let other = SecretBox::new([8u8; 32]);
        assert_eq!(other.open(&sealed, b"user-1"), Err(SecretBoxError::Decrypt));
    }

    #[test]
    fn a_value_copied_to_another_row_does_not_open() {
        let sealed = sealer().seal(b"totp seed", b"user-1").expect("seals");
        assert_eq!(
            sealer().open(&sealed, b"user-2"),
            Err(SecretBoxError::Decrypt)
        );
    }

    #[test]
    fn any_flipped_byte_is_detected() {
        let sealed = sealer().seal(b"totp seed", b"user-1").expect("seals");
        let raw = STANDARD
            .decode(sealed.trim_start_matches(PREFIX_V1))
            .expect("base64");
        // Nonce, ciphertext and tag: every byte is covered.
        for i in 0..raw.len() {
            let mut tampered = raw.clone();
            tampered[i] ^= 0x01;
            let text = format!("{PREFIX_V1}{}", STANDARD.encode(&tampered));
            assert_eq!(
                sealer().open(&text, b"user-1"),
                Err(SecretBoxError::Decrypt),
                "byte {i}"
            );
        }
    }

    #[test]
    fn sealing_twice_gives_different_text() {
        let a = sealer().seal(b"totp seed", b"user-1").expect("seals");
        let b = sealer().seal(b"totp seed", b"user-1").expect("seals");
        assert_ne!(a, b);
    }

    #[test]
    fn malformed_input_is_reported_as_such() {
        let short = format!("{PREFIX_V1}{}", STANDARD.encode([0u8; 39]));
        for bad in [
            "",
            "v1:",
            "v2:AAAA",
            "no prefix at all",
            "v1:not base64!",
            "v1:AAA",
            short.as_str(),
        ] {
            assert_eq!(
                sealer().open(bad, b"user-1"),
                Err(SecretBoxError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn debug_output_does_not_show_the_key() {
        let shown = format!("{:?}", SecretBox::new([0xAB; 32]));
        assert_eq!(shown, "SecretBox { .. }");
    }
}
