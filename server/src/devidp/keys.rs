//! The emulator's signing keys, their JWK form, compact JWS encoding (RS256, and the HS256 and
//! unsigned forms the tamper hooks ask for) and random values.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hmac::{Hmac, Mac};
use rand::RngCore;
use rsa::{
    pkcs1v15::SigningKey,
    signature::{SignatureEncoding, Signer},
    traits::PublicKeyParts,
    RsaPrivateKey,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// An RSA signing key with its published identity.
pub(super) struct KeyPair {
    signer: SigningKey<Sha256>,
    kid: String,
    /// The modulus, base64url.
    n: String,
    /// The public exponent, base64url.
    e: String,
}

impl KeyPair {
    /// A fresh 2048-bit key. Its kid is a thumbprint of the modulus, 27 characters like
    /// Entra's kids.
    pub(super) fn generate() -> anyhow::Result<KeyPair> {
        let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)?;
        let n = private.n().to_bytes_be();
        let kid = b64url(&Sha256::digest(&n)[..20]);
        Ok(KeyPair {
            n: b64url(&n),
            e: b64url(&private.e().to_bytes_be()),
            kid,
            signer: SigningKey::<Sha256>::new(private),
        })
    }

    /// The key's `kid`.
    pub(super) fn kid(&self) -> &str {
        &self.kid
    }

    /// The key as Entra publishes it in the JWKS (no certificate chain: nobody needs one).
    pub(super) fn jwk(&self, issuer: &str) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": self.n,
            "e": self.e,
            "issuer": issuer,
        })
    }

    /// A compact JWS of `header` and `claims`, RS256 with this key (whatever `alg` the header
    /// claims: tests choose headers freely).
    pub(super) fn compact_rs256(&self, header: &Value, claims: &Value) -> String {
        let input = signing_input(header, claims);
        let signature = self.signer.sign(input.as_bytes()).to_vec();
        format!("{input}.{}", b64url(&signature))
    }
}

/// `base64url(header).base64url(claims)`, the part of a JWS that is signed.
pub(super) fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}

/// A compact JWS MACed with HS256 under `secret`.
pub(super) fn compact_hs256(secret: &[u8], header: &Value, claims: &Value) -> String {
    let input = signing_input(header, claims);
    // HMAC accepts keys of any length, so this cannot fail; an empty MAC would only make the
    // tampered token fail for another reason.
    let mac = Hmac::<Sha256>::new_from_slice(secret)
        .map(|mac| mac.chain_update(input.as_bytes()).finalize().into_bytes())
        .map(|tag| tag.to_vec())
        .unwrap_or_default();
    format!("{input}.{}", b64url(&mac))
}

/// A compact JWS with an empty signature (`alg` "none").
pub(super) fn compact_unsigned(header: &Value, claims: &Value) -> String {
    format!("{}.", signing_input(header, claims))
}

/// Base64url without padding, as JOSE uses it.
pub(super) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `bytes` random bytes from the OS, base64url: codes, tokens, identifiers.
pub(super) fn random_string(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    b64url(&buffer)
}
