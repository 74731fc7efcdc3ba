//! ID-token validation for Microsoft Entra ID v2.0, done here rather than by the
//! `openidconnect` crate because Entra's multi-tenant issuer is a template
//! (`{authority}/{tenantid}/v2.0`): the issuer to expect is only known from the token's own
//! `tid`, and a general-purpose verifier either demands one fixed issuer or skips the check.
//!
//! The order matters: the signature is verified (RS256 only, whatever the metadata or the
//! header say) before any claim is believed; then issuer, audience, times and nonce.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64URL, Engine};
use rsa::{pkcs1v15::Signature, signature::Verifier};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::jwks::SigningKey;

/// The consumer ("personal Microsoft accounts") tenant: never a customer.
pub const CONSUMER_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// Seconds of clock difference tolerated for `iat` and `nbf` (and after `exp`).
pub const CLOCK_SKEW_SECS: i64 = 120;

/// Why an ID token was refused. The code goes to the audit log; people see one message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts of JSON.
    #[error("malformed")]
    Malformed,
    /// `alg` is not RS256 (`none`, HS256, …).
    #[error("algorithm {0:?} is not allowed")]
    Algorithm(String),
    /// No key in the JWKS has the token's `kid`.
    #[error("no signing key with kid {0:?}")]
    UnknownKey(String),
    /// The signature does not verify.
    #[error("bad signature")]
    Signature,
    /// A required claim is absent.
    #[error("claim {0} is missing")]
    Missing(&'static str),
    /// `tid` is not a GUID.
    #[error("tid is not a GUID")]
    TenantFormat,
    /// `iss` is not `{authority}/{tid}/v2.0`.
    #[error("issuer {0:?} does not match the tenant")]
    Issuer(String),
    /// The key's `issuer` property does not match the token's issuer.
    #[error("the signing key belongs to another issuer")]
    KeyIssuer,
    /// `ver` is not 2.0.
    #[error("version {0:?} is not 2.0")]
    Version(String),
    /// `aud` is not exactly our client id.
    #[error("audience does not match")]
    Audience,
    /// `exp` has passed.
    #[error("expired")]
    Expired,
    /// `iat` is in the future.
    #[error("issued in the future")]
    IssuedInFuture,
    /// `nbf` is in the future.
    #[error("not valid yet")]
    NotYetValid,
    /// `nonce` differs from the one sent.
    #[error("nonce does not match")]
    Nonce,
}

impl TokenError {
    /// A stable code for the audit log.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Malformed => "malformed",
            TokenError::Algorithm(_) => "algorithm",
            TokenError::UnknownKey(_) => "unknown_kid",
            TokenError::Signature => "signature",
            TokenError::Missing(_) => "missing_claim",
            TokenError::TenantFormat => "tid_not_guid",
            TokenError::Issuer(_) => "issuer",
            TokenError::KeyIssuer => "key_issuer",
            TokenError::Version(_) => "version",
            TokenError::Audience => "audience",
            TokenError::Expired => "expired",
            TokenError::IssuedInFuture => "iat_future",
            TokenError::NotYetValid => "nbf_future",
            TokenError::Nonce => "nonce",
        }
    }
}

/// A token split into its parts, nothing believed yet.
#[derive(Debug, Clone)]
pub struct ParsedToken {
    /// `kid` from the header, when present.
    pub kid: Option<String>,
    signing_input: String,
    signature: Vec<u8>,
    payload: serde_json::Value,
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    kid: Option<String>,
}

/// Splits and decodes a compact JWS; refuses any algorithm but RS256 before anything else.
pub fn parse(raw: &str) -> Result<ParsedToken, TokenError> {
    let mut parts = raw.trim().split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header: Header = B64URL
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(TokenError::Malformed)?;
    match header.alg.as_deref() {
        Some("RS256") => {}
        other => return Err(TokenError::Algorithm(other.unwrap_or("").to_string())),
    }
    let payload: serde_json::Value = B64URL
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(serde_json::Value::is_object)
        .ok_or(TokenError::Malformed)?;
    let signature = B64URL.decode(s).map_err(|_| TokenError::Malformed)?;
    if signature.is_empty() {
        return Err(TokenError::Signature);
    }
    Ok(ParsedToken {
        kid: header.kid,
        signing_input: format!("{h}.{p}"),
        signature,
        payload,
    })
}

/// Verifies the signature with the key named by `kid`, or, for a token without `kid`, with
/// each signing key in turn. Returns the key that verified it.
pub fn verify_signature<'k>(
    token: &ParsedToken,
    keys: &'k [SigningKey],
) -> Result<&'k SigningKey, TokenError> {
    let signature =
        Signature::try_from(token.signature.as_slice()).map_err(|_| TokenError::Signature)?;
    let verifies = |k: &SigningKey| {
        k.key
            .verify(token.signing_input.as_bytes(), &signature)
            .is_ok()
    };
    match &token.kid {
        Some(kid) => {
            let key = keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid.as_str()))
                .ok_or_else(|| TokenError::UnknownKey(kid.clone()))?;
            if verifies(key) {
                Ok(key)
            } else {
                Err(TokenError::Signature)
            }
        }
        None => keys
            .iter()
            .find(|k| verifies(k))
            .ok_or(TokenError::Signature),
    }
}

/// What a valid token must match.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// `ENTRA_AUTHORITY` without a trailing slash, e.g. `https://login.microsoftonline.com`.
    pub authority: &'a str,
    /// Our client id.
    pub client_id: &'a str,
    /// The nonce sent with the authorization request.
    pub nonce: &'a str,
    /// Now, Unix seconds.
    pub now_secs: i64,
}

/// The claims the portal uses from a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraClaims {
    /// Tenant id (lower-case GUID).
    pub tid: String,
    /// Object id of the user in that tenant.
    pub oid: String,
    /// Pairwise subject.
    pub sub: String,
    /// Display address: `email`, else `preferred_username`. Never used to find an account.
    pub email: String,
    /// Display name.
    pub name: String,
    /// The issuer the token came from.
    pub issuer: String,
    /// The user is a guest of `tid` (Entra B2B): someone of another tenant, or a personal
    /// account, invited into it. Entra says so with the optional claim `acct` = 1, and with an
    /// `idp` claim naming another identity provider than the tenant itself.
    pub guest: bool,
    /// Authentication methods (`amr`): `mfa` when a second factor was used. Entra writes it in
    /// v1.0 tokens; v2.0 ID tokens usually leave it out, so [`acrs`](Self::acrs) is the
    /// dependable evidence there.
    pub amr: Vec<String>,
    /// Conditional Access authentication contexts the sign-in satisfied (`acrs`, e.g. `c1`):
    /// present when the authorization request asked for them in its `claims` parameter.
    pub acrs: Vec<String>,
}

impl EntraClaims {
    /// What in the token shows a second factor: `amr` (it lists `mfa`) or `acrs` (it lists
    /// `auth_context`); `None` when nothing does.
    pub fn mfa_evidence(&self, auth_context: Option<&str>) -> Option<&'static str> {
        if self.amr.iter().any(|m| m == "mfa") {
            Some("amr")
        } else if auth_context.is_some_and(|c| self.acrs.iter().any(|a| a.eq_ignore_ascii_case(c)))
        {
            Some("acrs")
        } else {
            None
        }
    }
}

/// A claim that is a list of strings (or one string); anything else counts as absent.
fn string_list(payload: &serde_json::Value, name: &str) -> Vec<String> {
    match payload.get(name) {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(serde_json::Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(serde_json::Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// Whether `s` is a GUID in the 8-4-4-4-12 hex form.
pub fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The issuer a token of tenant `tid` must carry.
pub fn issuer_for(authority: &str, tid: &str) -> String {
    format!("{}/{tid}/v2.0", authority.trim_end_matches('/'))
}

fn str_claim<'v>(
    payload: &'v serde_json::Value,
    name: &'static str,
) -> Result<&'v str, TokenError> {
    payload
        .get(name)
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(TokenError::Missing(name))
}

fn time_claim(payload: &serde_json::Value, name: &'static str) -> Result<Option<i64>, TokenError> {
    match payload.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or(TokenError::Missing(name)),
    }
}

/// Checks the claims of a token whose signature `key` verified.
pub fn check_claims(
    token: &ParsedToken,
    key: &SigningKey,
    expected: &Expected<'_>,
) -> Result<EntraClaims, TokenError> {
    let p = &token.payload;
    let tid = str_claim(p, "tid")?;
    if !is_guid(tid) {
        return Err(TokenError::TenantFormat);
    }
    let tid = tid.to_ascii_lowercase();
    let iss = str_claim(p, "iss")?;
    let want = issuer_for(expected.authority, &tid);
    if iss != want {
        return Err(TokenError::Issuer(iss.to_string()));
    }
    if let Some(key_issuer) = &key.issuer {
        if key_issuer.replace("{tenantid}", &tid) != want {
            return Err(TokenError::KeyIssuer);
        }
    }
    let ver = str_claim(p, "ver")?;
    if ver != "2.0" {
        return Err(TokenError::Version(ver.to_string()));
    }
    // `aud` is exactly our client id: a string, or an array holding only it.
    let aud_ok = match p.get("aud") {
        Some(serde_json::Value::String(a)) => a == expected.client_id,
        Some(serde_json::Value::Array(list)) => {
            list.len() == 1 && list[0].as_str() == Some(expected.client_id)
        }
        _ => return Err(TokenError::Missing("aud")),
    };
    if !aud_ok {
        return Err(TokenError::Audience);
    }
    let exp = time_claim(p, "exp")?.ok_or(TokenError::Missing("exp"))?;
    if expected.now_secs >= exp + CLOCK_SKEW_SECS {
        return Err(TokenError::Expired);
    }
    let iat = time_claim(p, "iat")?.ok_or(TokenError::Missing("iat"))?;
    if iat > expected.now_secs + CLOCK_SKEW_SECS {
        return Err(TokenError::IssuedInFuture);
    }
    if let Some(nbf) = time_claim(p, "nbf")? {
        if nbf > expected.now_secs + CLOCK_SKEW_SECS {
            return Err(TokenError::NotYetValid);
        }
    }
    let nonce = str_claim(p, "nonce").map_err(|_| TokenError::Nonce)?;
    if !bool::from(nonce.as_bytes().ct_eq(expected.nonce.as_bytes())) {
        return Err(TokenError::Nonce);
    }
    let oid = str_claim(p, "oid")?.to_ascii_lowercase();
    let sub = str_claim(p, "sub")?.to_string();
    let email = str_claim(p, "email")
        .or_else(|_| str_claim(p, "preferred_username"))
        .unwrap_or("")
        .to_string();
    let name = str_claim(p, "name").unwrap_or("").to_string();
    let guest = p.get("acct").and_then(serde_json::Value::as_i64) == Some(1)
        || str_claim(p, "idp").is_ok_and(|idp| !is_home_idp(idp, iss, &tid));
    Ok(EntraClaims {
        tid,
        oid,
        sub,
        email,
        name,
        issuer: iss.to_string(),
        guest,
        amr: string_list(p, "amr"),
        acrs: string_list(p, "acrs"),
    })
}

/// Whether an `idp` claim names the tenant `tid` itself (v2.0 tokens normally leave `idp` out
/// when it would equal the issuer; Entra writes a tenant's own directory as its v1 issuer).
fn is_home_idp(idp: &str, iss: &str, tid: &str) -> bool {
    idp == iss
        || idp.eq_ignore_ascii_case(&format!("https://sts.windows.net/{tid}/"))
        || idp.eq_ignore_ascii_case(&format!("https://sts.windows.net/{tid}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids() {
        assert!(is_guid("9188040d-6c67-4c5b-b112-36a304b66dad"));
        assert!(is_guid("9188040D-6C67-4C5B-B112-36A304B66DAD"));
        for bad in [
            "",
            "organizations",
            "common",
            "9188040d6c674c5bb11236a304b66dad",
            "9188040d-6c67-4c5b-b112-36a304b66da",
            "9188040d-6c67-4c5b-b112-36a304b66dadx",
            "g188040d-6c67-4c5b-b112-36a304b66dad",
            "{9188040d-6c67-4c5b-b112-36a304b66dad}",
        ] {
            assert!(!is_guid(bad), "{bad}");
        }
    }

    #[test]
    fn an_idp_of_another_tenant_marks_a_guest() {
        let tid = "6f1c4a9e-3b52-4c1d-9a57-2e8f0b7d4c11";
        let iss = format!("https://login.microsoftonline.com/{tid}/v2.0");
        assert!(is_home_idp(&iss, &iss, tid));
        assert!(is_home_idp(
            &format!("https://sts.windows.net/{tid}/"),
            &iss,
            tid
        ));
        assert!(!is_home_idp(
            "https://sts.windows.net/b3e9d0f4-8a61-4f2e-bc35-7d1a9c6e2f80/",
            &iss,
            tid
        ));
        assert!(!is_home_idp("live.com", &iss, tid));
        assert!(!is_home_idp("google.com", &iss, tid));
    }

    #[test]
    fn the_issuer_is_the_template_filled_with_the_tenant() {
        assert_eq!(
            issuer_for("https://login.microsoftonline.com/", "abc"),
            "https://login.microsoftonline.com/abc/v2.0"
        );
    }

    #[test]
    fn mfa_evidence_is_mfa_in_amr_or_the_context_in_acrs() {
        let claims = |amr: &[&str], acrs: &[&str]| EntraClaims {
            tid: String::new(),
            oid: String::new(),
            sub: String::new(),
            email: String::new(),
            name: String::new(),
            issuer: String::new(),
            guest: false,
            amr: amr.iter().map(|s| s.to_string()).collect(),
            acrs: acrs.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(claims(&["pwd", "mfa"], &[]).mfa_evidence(None), Some("amr"));
        assert_eq!(claims(&["pwd"], &[]).mfa_evidence(None), None);
        assert_eq!(claims(&["pwd"], &["c1"]).mfa_evidence(None), None);
        assert_eq!(claims(&["pwd"], &["c1"]).mfa_evidence(Some("c2")), None);
        assert_eq!(
            claims(&[], &["c2", "C1"]).mfa_evidence(Some("c1")),
            Some("acrs")
        );
        assert_eq!(
            claims(&["mfa"], &["c1"]).mfa_evidence(Some("c1")),
            Some("amr")
        );
        let p = serde_json::json!({"amr": ["pwd", 7, "mfa"], "acrs": "c3", "x": {"a": 1}});
        assert_eq!(string_list(&p, "amr"), vec!["pwd", "mfa"]);
        assert_eq!(string_list(&p, "acrs"), vec!["c3"]);
        assert!(string_list(&p, "x").is_empty());
        assert!(string_list(&p, "missing").is_empty());
    }

    fn encode(v: &serde_json::Value) -> String {
        B64URL.encode(serde_json::to_vec(v).unwrap_or_default())
    }

    #[test]
    fn only_rs256_is_parsed() {
        let body = encode(&serde_json::json!({"tid": "x"}));
        for alg in ["none", "HS256", "RS384", "ES256", "PS256"] {
            let raw = format!("{}.{body}.c2ln", encode(&serde_json::json!({"alg": alg})));
            assert_eq!(
                parse(&raw).err(),
                Some(TokenError::Algorithm(alg.into())),
                "{alg}"
            );
        }
        let no_alg = format!("{}.{body}.c2ln", encode(&serde_json::json!({"kid": "k"})));
        assert!(matches!(parse(&no_alg), Err(TokenError::Algorithm(_))));
        let unsigned = format!("{}.{body}.", encode(&serde_json::json!({"alg": "RS256"})));
        assert_eq!(parse(&unsigned).err(), Some(TokenError::Signature));
        assert_eq!(parse("a.b").err(), Some(TokenError::Malformed));
        assert_eq!(parse("a.b.c.d").err(), Some(TokenError::Malformed));
    }
}
