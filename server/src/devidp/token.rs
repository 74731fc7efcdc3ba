//! `/{tenant}/oauth2/v2.0/token`: redeems an authorization code (client secret in the form or
//! by HTTP Basic, PKCE S256) for an Entra v2-shaped ID token, spoiled on request by the tamper
//! hook.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::Response,
};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{
    identities::TenantPath,
    keys::{self, b64url},
    pages::{json_error, json_response},
    unix_now, DevIdp, Grant, Params, Redemption, TamperSigning,
};

/// Lifetime of the ID token, in seconds (Entra's hour).
const ID_TOKEN_LIFETIME: i64 = 3600;

/// A refused token request, as Entra words it.
#[derive(Debug)]
struct TokenError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    message: String,
}

impl TokenError {
    fn new(status: StatusCode, error: &'static str, code: u32, message: impl Into<String>) -> Self {
        TokenError {
            status,
            error,
            code,
            message: message.into(),
        }
    }

    fn invalid_request(code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", code, message)
    }

    fn missing(name: &str) -> Self {
        Self::invalid_request(
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    fn invalid_grant(code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", code, message)
    }

    fn invalid_client(code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", code, message)
    }

    fn into_response(self, used_basic: bool) -> Response {
        let mut response = json_error(self.status, self.error, self.code, &self.message);
        // RFC 6749 §5.2: a client that authenticated with Basic is told so on a 401.
        if used_basic && self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"dev-idp\""),
            );
        }
        response
    }
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub(super) async fn exchange(
    State(idp): State<DevIdp>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let used_basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.get(..6).is_some_and(|s| s.eq_ignore_ascii_case("basic ")));
    match redeem(&idp, &tenant, &headers, &body).await {
        Ok(response) => response,
        Err(error) => error.into_response(used_basic),
    }
}

/// Checks the request in Entra's order and issues the tokens.
async fn redeem(
    idp: &DevIdp,
    tenant_segment: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, TokenError> {
    let tenant = TenantPath::parse(tenant_segment).ok_or_else(|| {
        TokenError::invalid_request(
            90002,
            format!("Tenant '{tenant_segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
        )
    })?;
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(TokenError::invalid_request(
            9002313,
            "Invalid request. The body must be application/x-www-form-urlencoded.",
        ));
    }
    let params = Params::parse(body);
    if let Some(name) = params.duplicated() {
        return Err(TokenError::invalid_request(
            9002313,
            format!("Invalid request. The parameter '{name}' appears more than once."),
        ));
    }
    match params.get("grant_type") {
        None => return Err(TokenError::missing("grant_type")),
        Some("authorization_code") => {}
        Some(other) => {
            return Err(TokenError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{other}'."),
            ))
        }
    }
    // Spend the code before anything else can fail: whatever happens below, it cannot be
    // presented again, so a leaked code gives one try only.
    let redeemed = params.get("code").map(|code| idp.redeem_code(code));

    let (client_id, secret) = client_credentials(headers, &params)?;
    let config = idp.config();
    if client_id != config.client_id {
        return Err(TokenError::invalid_client(
            700016,
            format!("Application with identifier '{client_id}' was not found in the directory '{tenant_segment}'."),
        ));
    }
    let Some(secret) = secret else {
        return Err(TokenError::invalid_client(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    };
    if !secrets_equal(&secret, &config.client_secret) {
        return Err(TokenError::invalid_client(
            7000215,
            format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
        ));
    }

    let grant = match redeemed {
        None => return Err(TokenError::missing("code")),
        Some(Redemption::Valid(grant)) => grant,
        Some(Redemption::Expired) => {
            return Err(TokenError::invalid_grant(
                70008,
                "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
            ))
        }
        Some(Redemption::Repeated) => {
            return Err(TokenError::invalid_grant(
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
            ))
        }
        Some(Redemption::Unknown) => {
            return Err(TokenError::invalid_grant(
                70000,
                "Provided grant is invalid or malformed.",
            ))
        }
    };
    if grant.client_id != client_id {
        return Err(TokenError::invalid_grant(
            70000,
            "Provided grant is invalid or malformed. The code was issued to another client.",
        ));
    }
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return Err(TokenError::missing("redirect_uri"));
    };
    if redirect_uri != grant.redirect_uri {
        return Err(TokenError::invalid_grant(
            500112,
            format!(
                "The reply address '{redirect_uri}' does not match the reply address '{}' provided when requesting Authorization code.",
                grant.redirect_uri
            ),
        ));
    }
    if !tenant.admits(&grant.account.tenant) {
        return Err(TokenError::invalid_grant(
            700005,
            "Provided Authorization Code is intended to use against other tenant, thus rejected.",
        ));
    }
    let Some(verifier) = params.get("code_verifier") else {
        return Err(TokenError::missing("code_verifier"));
    };
    if !pkce_matches(verifier, &grant.code_challenge) {
        return Err(TokenError::invalid_grant(
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        ));
    }
    issue(idp, &grant).await
}

/// The client ID and secret, from HTTP Basic or the form (RFC 6749 §2.3.1), refusing a
/// request that uses both.
fn client_credentials(
    headers: &HeaderMap,
    params: &Params,
) -> Result<(String, Option<String>), TokenError> {
    let form_id = params.get("client_id");
    let form_secret = params.get("client_secret");
    let Some(authorization) = headers.get(header::AUTHORIZATION) else {
        let client_id = form_id.ok_or_else(|| TokenError::missing("client_id"))?;
        return Ok((client_id.to_owned(), form_secret.map(str::to_owned)));
    };
    let malformed = || {
        TokenError::invalid_client(
            7000215,
            "The Authorization header is not valid HTTP Basic client authentication.",
        )
    };
    let value = authorization.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(malformed)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    // Both halves are form-urlencoded before they are joined.
    let id = form_decode(id).ok_or_else(malformed)?;
    let secret = form_decode(secret).ok_or_else(malformed)?;
    if form_secret.is_some() {
        return Err(TokenError::invalid_request(
            9002313,
            "Invalid request. Use one client authentication method: HTTP Basic or client_secret in the body, not both.",
        ));
    }
    if form_id.is_some_and(|form_id| form_id != id) {
        return Err(TokenError::invalid_request(
            9002313,
            "Invalid request. The client_id in the body differs from the one in the Authorization header.",
        ));
    }
    Ok((id, Some(secret)))
}

/// Decodes one `application/x-www-form-urlencoded` value: `+` is a space, `%XX` a byte.
fn form_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Compares secrets in constant time; hashing first keeps their lengths private too.
fn secrets_equal(presented: &str, expected: &str) -> bool {
    let presented = Sha256::digest(presented.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    presented.ct_eq(&expected).into()
}

/// The S256 code challenge of a PKCE verifier: BASE64URL(SHA256(verifier)).
pub(super) fn pkce_s256(verifier: &str) -> String {
    b64url(&Sha256::digest(verifier.as_bytes()))
}

/// Whether `verifier` is a well-formed PKCE verifier (RFC 7636 §4.1) whose S256 challenge is
/// `challenge`.
pub(super) fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    well_formed
        && pkce_s256(verifier)
            .as_bytes()
            .ct_eq(challenge.as_bytes())
            .into()
}

/// The pairwise `sub`: stable per user and client, and different across clients, like Entra's.
fn pairwise_sub(oid: &str, client_id: &str) -> String {
    let digest = Sha256::new()
        .chain_update(oid.as_bytes())
        .chain_update(client_id.as_bytes())
        .finalize();
    let mut sub = b64url(&digest);
    sub.truncate(43);
    sub
}

/// The claims of an Entra v2.0 ID token for `grant`, issued at `now`.
fn id_token_claims(idp: &DevIdp, grant: &Grant, now: i64) -> Value {
    let account = &grant.account;
    let mut claims = json!({
        "aud": grant.client_id,
        "iss": format!("{}/{}/v2.0", idp.config().base_url, account.tenant),
        "iat": now,
        "nbf": now,
        "exp": now + ID_TOKEN_LIFETIME,
        "email": account.email,
        "name": account.name,
        "nonce": grant.nonce,
        "oid": account.oid,
        "preferred_username": account.email,
        "rh": format!("0.A{}", keys::random_string(48)),
        "sub": pairwise_sub(&account.oid, &grant.client_id),
        "tid": account.tenant,
        "uti": keys::random_string(16),
        "ver": "2.0",
        // The optional claim `acct` (0 member, 1 guest), as the app registration asks for it.
        "acct": u8::from(account.home_tenant.is_some()),
    });
    // How the person signed in, as they chose on the picker: `amr` (Entra writes it in v1.0
    // tokens; the emulator always does, so the portal's check of it can be tried), and the
    // authentication contexts asked for in `claims`, met only with a second factor.
    let amr: &[&str] = if grant.mfa { &["pwd", "mfa"] } else { &["pwd"] };
    set(&mut claims, "amr", json!(amr));
    if grant.mfa && !grant.acrs.is_empty() {
        set(&mut claims, "acrs", json!(grant.acrs));
    }
    // A guest's token names the identity provider that authenticated them: their home
    // tenant's (v2.0 tokens omit `idp` when it is the issuer itself).
    if let Some(home) = &account.home_tenant {
        set(
            &mut claims,
            "idp",
            json!(format!("https://sts.windows.net/{home}/")),
        );
    }
    claims
}

/// Sets `name` in a JSON object (the headers built here always are objects).
fn set(object: &mut Value, name: &str, value: Value) {
    if let Some(map) = object.as_object_mut() {
        map.insert(name.to_owned(), value);
    }
}

/// The token response for a redeemed grant, with the tamper hook applied to the ID token.
async fn issue(idp: &DevIdp, grant: &Grant) -> Result<Response, TokenError> {
    let key = idp.current_key();
    let mut header = json!({ "typ": "JWT", "alg": "RS256", "kid": key.kid() });
    let mut claims = id_token_claims(idp, grant, unix_now());
    let tamper = idp.tamper();
    let signing = tamper
        .as_ref()
        .map_or(TamperSigning::Rs256, |tamper| tamper.signing);
    // The signing mode sets the header first, so the edit has the last word on it.
    let foreign_key = match signing {
        TamperSigning::ForeignKey => {
            let foreign = idp.foreign_key().await.map_err(|error| {
                tracing::error!(%error, "dev IdP could not make its foreign key");
                TokenError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    50000,
                    "There was an error issuing a token.",
                )
            })?;
            set(
                &mut header,
                "kid",
                json!(format!("unknown-{}", foreign.kid())),
            );
            Some(foreign)
        }
        TamperSigning::Hs256WithClientSecret => {
            set(&mut header, "alg", json!("HS256"));
            None
        }
        TamperSigning::Unsigned => {
            set(&mut header, "alg", json!("none"));
            None
        }
        TamperSigning::Rs256 | TamperSigning::OmitIdToken => None,
    };
    if let Some(tamper) = &tamper {
        (tamper.edit)(&mut header, &mut claims);
    }
    let id_token = match signing {
        TamperSigning::Rs256 => Some(key.compact_rs256(&header, &claims)),
        TamperSigning::Hs256WithClientSecret => Some(keys::compact_hs256(
            idp.config().client_secret.as_bytes(),
            &header,
            &claims,
        )),
        TamperSigning::Unsigned => Some(keys::compact_unsigned(&header, &claims)),
        TamperSigning::ForeignKey => {
            foreign_key.map(|foreign| foreign.compact_rs256(&header, &claims))
        }
        TamperSigning::OmitIdToken => None,
    };
    // No refresh token is issued, so offline_access is not granted.
    let scope: Vec<&str> = grant
        .scope
        .split_whitespace()
        .filter(|s| *s != "offline_access")
        .collect();
    let mut body = json!({
        "token_type": "Bearer",
        "scope": scope.join(" "),
        "expires_in": 3599,
        "ext_expires_in": 3599,
        "access_token": keys::random_string(48),
    });
    if let Some(id_token) = id_token {
        set(&mut body, "id_token", json!(id_token));
    }
    let mut response = json_response(StatusCode::OK, &body);
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(pkce_s256(verifier), challenge);
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXz",
            challenge
        ));
        // Too short to be a verifier, even if it hashed right.
        assert!(!pkce_matches("abc", &pkce_s256("abc")));
    }

    #[test]
    fn form_decoding_of_basic_credentials() {
        assert_eq!(form_decode("a%2Bb+c~").as_deref(), Some("a+b c~"));
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%4"), None);
    }

    #[test]
    fn pairwise_sub_differs_per_client() {
        let a = pairwise_sub("oid", "client-a");
        assert_eq!(a.len(), 43);
        assert_eq!(a, pairwise_sub("oid", "client-a"));
        assert_ne!(a, pairwise_sub("oid", "client-b"));
    }
}
