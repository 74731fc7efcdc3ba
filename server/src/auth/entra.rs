//! The relying party for Microsoft Entra ID (multi-tenant, v2.0 endpoints).
//!
//! Endpoints come from discovery, never hard-coded. The `openidconnect` crate reads the
//! discovery document and builds the authorization request (PKCE S256, state, nonce); the
//! code exchange is one form POST made here so that the raw `id_token` reaches
//! [`id_token`]'s checks untouched, including tokens the crate's own parser would reject
//! before we could say why. Every call to the identity provider times out
//! (`ENTRA_TIMEOUT_SECS`, 10 s) and follows no redirects.

pub mod id_token;
pub mod jwks;

use std::{sync::Mutex, time::Duration};

use openidconnect::{
    core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata},
    ClientId, ClientSecret, CsrfToken, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    Scope,
};
use serde::Deserialize;

use self::{
    id_token::{EntraClaims, Expected, TokenError},
    jwks::{FetchNeed, JwksCache},
};

/// Discovery documents are fetched again after this long.
const METADATA_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// Where the portal's Entra app registration lives and how to reach it.
#[derive(Debug, Clone)]
pub struct EntraConfig {
    /// `ENTRA_AUTHORITY` without a trailing slash.
    pub authority: String,
    /// The app registration's client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: String,
    /// `{public}/auth/microsoft/callback`.
    pub callback_url: String,
    /// `{public}/auth/microsoft/consent/callback`.
    pub consent_callback_url: String,
    /// Timeout of each call to the identity provider.
    pub timeout: Duration,
}

/// A failed step of an SSO flow.
#[derive(Debug, thiserror::Error)]
pub enum EntraError {
    /// The identity provider could not be reached, timed out, or answered nonsense.
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    /// The token endpoint refused the code (`invalid_grant`, …).
    #[error("the identity provider refused the request: {code}: {description}")]
    Refused {
        /// OAuth error code.
        code: String,
        /// Its description.
        description: String,
    },
    /// A token response without `id_token`.
    #[error("the token response has no id_token")]
    NoIdToken,
    /// The ID token failed a check.
    #[error("the ID token was refused: {0}")]
    Token(#[from] TokenError),
}

/// The endpoints the portal uses, from a discovery document.
#[derive(Debug, Clone)]
struct Discovered {
    metadata: CoreProviderMetadata,
    token_endpoint: String,
    jwks_uri: String,
    fetched_at: i64,
}

/// What the browser is sent to, and what must be kept to finish the flow.
#[derive(Debug)]
pub struct AuthorizationStart {
    /// The authorization URL.
    pub url: String,
    /// `state` sent.
    pub state: String,
    /// `nonce` sent.
    pub nonce: String,
    /// PKCE verifier to send with the code.
    pub pkce_verifier: String,
}

/// The relying party: configuration, HTTP client and caches.
#[derive(Debug)]
pub struct Entra {
    config: EntraConfig,
    http: reqwest::Client,
    organizations: Mutex<Option<Discovered>>,
    jwks: JwksCache,
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

impl Entra {
    /// A relying party for `config`.
    pub fn new(config: EntraConfig) -> anyhow::Result<Entra> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("voice-customer-portal/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Entra {
            config,
            http,
            organizations: Mutex::new(None),
            jwks: JwksCache::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EntraConfig {
        &self.config
    }

    async fn get_json(&self, url: &str) -> Result<serde_json::Value, EntraError> {
        let response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| EntraError::Unavailable(describe(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(EntraError::Unavailable(format!("{url} answered {status}")));
        }
        response
            .json()
            .await
            .map_err(|e| EntraError::Unavailable(format!("{url}: {}", describe(&e))))
    }

    async fn discover(&self, tenant: &str, now_ms: i64) -> Result<Discovered, EntraError> {
        let url = format!(
            "{}/{tenant}/v2.0/.well-known/openid-configuration",
            self.config.authority
        );
        let doc = self.get_json(&url).await?;
        // The document's issuer is Entra's template (`…/{tenantid}/v2.0`), which is why the
        // crate's `discover_async` (it demands issuer == discovery URL) is not used.
        let metadata: CoreProviderMetadata = serde_json::from_value(doc.clone())
            .map_err(|e| EntraError::Unavailable(format!("{url}: unreadable metadata: {e}")))?;
        // The document must be the configured authority's own (OpenID Connect Discovery 4.3):
        // its issuer is `{authority}/{tenantid}/v2.0` (Entra's template for the multi-tenant
        // endpoints; Microsoft's own validation substitutes the tenant into it) or, for one
        // tenant, `{authority}/{tenant}/v2.0`. A document naming another issuer could send
        // the flow to endpoints the portal was never configured to trust.
        let issuer = metadata.issuer().as_str();
        if !issuer_matches_authority(issuer, &self.config.authority, tenant) {
            return Err(EntraError::Unavailable(format!(
                "{url}: the discovery document's issuer {issuer:?} is not {:?}; refusing the \
                 metadata (check ENTRA_AUTHORITY)",
                id_token::issuer_for(&self.config.authority, TENANT_TEMPLATE)
            )));
        }
        let token_endpoint = doc
            .get("token_endpoint")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| EntraError::Unavailable(format!("{url}: no token_endpoint")))?
            .to_string();
        Ok(Discovered {
            jwks_uri: metadata.jwks_uri().url().to_string(),
            metadata,
            token_endpoint,
            fetched_at: now_ms,
        })
    }

    /// The `organizations` discovery document, cached for a day.
    async fn organizations(&self, now_ms: i64) -> Result<Discovered, EntraError> {
        if let Some(d) = self
            .organizations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .filter(|d| now_ms - d.fetched_at < METADATA_TTL_MS)
        {
            return Ok(d.clone());
        }
        let d = self.discover("organizations", now_ms).await?;
        *self.organizations.lock().unwrap_or_else(|p| p.into_inner()) = Some(d.clone());
        Ok(d)
    }

    async fn endpoints(&self, tenant: Option<&str>, now_ms: i64) -> Result<Discovered, EntraError> {
        match tenant {
            None => self.organizations(now_ms).await,
            Some(t) => self.discover(t, now_ms).await,
        }
    }

    /// Starts a sign-in: against `organizations`, or against one tenant (`tenant`) for the
    /// proof sign-in of admin consent.
    pub async fn start_sign_in(
        &self,
        tenant: Option<&str>,
        now_ms: i64,
    ) -> Result<AuthorizationStart, EntraError> {
        self.start_sign_in_with(tenant, None, now_ms).await
    }

    /// [`start_sign_in`](Self::start_sign_in) against `tenant`, asking in the `claims`
    /// parameter for the Conditional Access authentication context `auth_context` (a claims
    /// challenge): Entra enforces the policies the customer attached to it and, once they are
    /// met, lists it in the ID token's `acrs`.
    pub async fn start_sign_in_for_context(
        &self,
        tenant: &str,
        auth_context: &str,
        now_ms: i64,
    ) -> Result<AuthorizationStart, EntraError> {
        self.start_sign_in_with(Some(tenant), Some(auth_context), now_ms)
            .await
    }

    async fn start_sign_in_with(
        &self,
        tenant: Option<&str>,
        auth_context: Option<&str>,
        now_ms: i64,
    ) -> Result<AuthorizationStart, EntraError> {
        let d = self.endpoints(tenant, now_ms).await?;
        let redirect = RedirectUrl::new(self.config.callback_url.clone())
            .map_err(|e| EntraError::Unavailable(format!("bad callback URL: {e}")))?;
        let client = CoreClient::from_provider_metadata(
            d.metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.clone())),
        )
        .set_redirect_uri(redirect);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256_len(32);
        let request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                || CsrfToken::new_random_len(32),
                || Nonce::new_random_len(32),
            )
            .add_scope(Scope::new("profile".to_string()))
            .add_scope(Scope::new("email".to_string()))
            .set_pkce_challenge(challenge)
            .add_extra_param("response_mode", "query");
        let claims = auth_context.map(|c| {
            serde_json::json!({"id_token": {"acrs": {"essential": true, "value": c}}}).to_string()
        });
        let (url, state, nonce) = match claims {
            Some(claims) => request.add_extra_param("claims", claims).url(),
            None => request.url(),
        };
        Ok(AuthorizationStart {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// The admin-consent URL for `state`.
    pub fn admin_consent_url(&self, state: &str) -> String {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.config.client_id)
            .append_pair("scope", "openid profile email")
            .append_pair("redirect_uri", &self.config.consent_callback_url)
            .append_pair("state", state)
            .finish();
        format!(
            "{}/organizations/v2.0/adminconsent?{query}",
            self.config.authority
        )
    }

    /// Exchanges an authorization code for the raw ID token (server to server).
    pub async fn exchange_code(
        &self,
        tenant: Option<&str>,
        code: &str,
        pkce_verifier: &str,
        now_ms: i64,
    ) -> Result<String, EntraError> {
        let d = self.endpoints(tenant, now_ms).await?;
        let verifier = PkceCodeVerifier::new(pkce_verifier.to_string());
        let response = self
            .http
            .post(&d.token_endpoint)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", self.config.callback_url.as_str()),
                ("client_id", self.config.client_id.as_str()),
                ("client_secret", self.config.client_secret.as_str()),
                ("code_verifier", verifier.secret().as_str()),
            ])
            .send()
            .await
            .map_err(|e| EntraError::Unavailable(describe(&e)))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(EntraError::Unavailable(format!(
                "the token endpoint answered {status}"
            )));
        }
        let body: TokenResponse = response.json().await.map_err(|e| {
            EntraError::Unavailable(format!("unreadable token response: {}", describe(&e)))
        })?;
        if let Some(code) = body.error {
            return Err(EntraError::Refused {
                code,
                description: body.error_description.unwrap_or_default(),
            });
        }
        if !status.is_success() {
            return Err(EntraError::Unavailable(format!(
                "the token endpoint answered {status}"
            )));
        }
        body.id_token
            .filter(|t| !t.is_empty())
            .ok_or(EntraError::NoIdToken)
    }

    async fn fetch_keys(&self, now_ms: i64) -> Result<(), EntraError> {
        let d = self.organizations(now_ms).await?;
        let doc = self.get_json(&d.jwks_uri).await?;
        let keys = jwks::parse_jwks(&doc);
        metrics::counter!("sso_jwks_fetches_total").increment(1);
        tracing::info!(
            keys = keys.len(),
            "fetched the identity provider's signing keys"
        );
        self.jwks.store(keys, now_ms);
        Ok(())
    }

    /// Validates a raw ID token: signature (RS256, JWKS with the refetch rules), then claims.
    pub async fn validate(
        &self,
        raw: &str,
        nonce: &str,
        now_ms: i64,
    ) -> Result<EntraClaims, EntraError> {
        let token = id_token::parse(raw)?;
        match self.jwks.need(token.kid.as_deref(), now_ms) {
            FetchNeed::None => {}
            need => {
                let _one_at_a_time = self.jwks.fetching.lock().await;
                // Another caller may have fetched while this one waited.
                let still_needed = need == FetchNeed::UnknownKid || self.jwks.is_stale(now_ms);
                if still_needed {
                    if let Err(e) = self.fetch_keys(now_ms).await {
                        if !self.jwks.has_keys() {
                            return Err(e);
                        }
                        tracing::warn!(
                            "refreshing the signing keys failed, keeping the cached ones: {e}"
                        );
                    }
                }
            }
        }
        let keys = self.jwks.keys();
        let key = id_token::verify_signature(&token, &keys)?;
        let claims = id_token::check_claims(
            &token,
            key,
            &Expected {
                authority: &self.config.authority,
                client_id: &self.config.client_id,
                nonce,
                now_secs: now_ms.div_euclid(1000),
            },
        )?;
        Ok(claims)
    }
}

/// The placeholder of Entra's multi-tenant issuer template.
const TENANT_TEMPLATE: &str = "{tenantid}";

/// Whether a discovery document's `issuer`, fetched for `tenant` (`organizations`, `common` or
/// a tenant id), belongs to `authority`.
fn issuer_matches_authority(issuer: &str, authority: &str, tenant: &str) -> bool {
    let template = id_token::issuer_for(authority, TENANT_TEMPLATE);
    match tenant {
        "organizations" | "common" => issuer == template,
        one => issuer == template || issuer == id_token::issuer_for(authority, one),
    }
}

/// A transport error in one line (reqwest's Display hides whether it was a timeout).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("timed out: {e}")
    } else if e.is_connect() {
        format!("could not connect: {e}")
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::issuer_matches_authority;

    #[test]
    fn discovery_issuers_must_be_the_authoritys() {
        let authority = "https://login.microsoftonline.com";
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let tid = "6f1c4a9e-3b52-4c1d-9a57-2e8f0b7d4c11";
        assert!(issuer_matches_authority(
            template,
            authority,
            "organizations"
        ));
        assert!(issuer_matches_authority(template, authority, tid));
        assert!(issuer_matches_authority(
            &format!("{authority}/{tid}/v2.0"),
            authority,
            tid
        ));
        for bad in [
            "https://login.evil.example/{tenantid}/v2.0",
            "https://login.microsoftonline.com/{tenantid}/v2.0/",
            "https://login.microsoftonline.com.evil.example/{tenantid}/v2.0",
            "https://login.microsoftonline.com/common/v2.0",
            "",
        ] {
            assert!(
                !issuer_matches_authority(bad, authority, "organizations"),
                "{bad}"
            );
        }
        // One tenant's document cannot stand for another tenant's.
        assert!(!issuer_matches_authority(
            &format!("{authority}/{tid}/v2.0"),
            authority,
            "b3e9d0f4-8a61-4f2e-bc35-7d1a9c6e2f80"
        ));
    }
}
