//! The development Microsoft Entra ID emulator. The portal mounts it at `/dev-idp` in
//! development so "Sign in with Microsoft" works without a real tenant, and integration tests
//! serve it standalone and use its hooks to make it misbehave on purpose. It speaks the Entra
//! ID v2.0 endpoints the portal uses (discovery, keys, authorize, token, admin consent) with an
//! account picker instead of a password, so anyone can sign in as anyone: never in production.

mod authorize;
mod consent;
mod discovery;
mod identities;
mod keys;
mod pages;
mod token;

#[cfg(test)]
mod tests;

pub use identities::{demo_identities, Identity, CONSUMER_TENANT, CONTOSO_TENANT, FABRIKAM_TENANT};

use std::{
    collections::HashMap,
    fmt,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex, MutexGuard, PoisonError,
    },
    time::{Duration, Instant},
};

use anyhow::Context as _;
use axum::{
    extract::{Request, State},
    http::{HeaderValue, StatusCode},
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
    Router,
};
use serde_json::Value;

use identities::Account;
use keys::KeyPair;

/// How long an authorization code may be redeemed after it was issued.
const CODE_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// What the emulator needs to know about the one client it serves (the portal's app
/// registration) and where it is reachable.
#[derive(Clone)]
pub struct DevIdpConfig {
    /// Where the emulator is reachable, no trailing slash, e.g.
    /// "http://localhost:3000/dev-idp"; it is the "authority".
    pub base_url: String,
    /// The client (application) ID the portal presents.
    pub client_id: String,
    /// The client secret the portal presents at the token endpoint.
    pub client_secret: String,
    /// Exact redirect URIs the client may use (authorize and adminconsent both check).
    pub redirect_uris: Vec<String>,
}

impl fmt::Debug for DevIdpConfig {
    // Written by hand so the client secret never reaches a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevIdpConfig")
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("redirect_uris", &self.redirect_uris)
            .finish()
    }
}

/// The edit of a `TokenTamper`: changes the JOSE header (first) and the claims (second).
pub type TokenEdit = dyn Fn(&mut Value, &mut Value) + Send + Sync;

/// How the ID tokens the token endpoint issues are spoiled while set (tests of the relying
/// party's validation).
pub struct TokenTamper {
    /// Edits the JOSE header and the claims before signing.
    pub edit: Box<TokenEdit>,
    /// How the edited token is signed.
    pub signing: TamperSigning,
}

impl fmt::Debug for TokenTamper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenTamper")
            .field("signing", &self.signing)
            .finish_non_exhaustive()
    }
}

/// How a tampered ID token is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TamperSigning {
    /// RS256 with the published key, as usual (only the edit spoils the token).
    Rs256,
    /// HS256 with the client secret as the MAC key (the classic algorithm-confusion attack).
    Hs256WithClientSecret,
    /// `alg` "none" and an empty signature.
    Unsigned,
    /// RS256 with a different RSA key that is not in the JWKS (its kid is "unknown-…" unless
    /// the edit sets one).
    ForeignKey,
    /// The token response has no `id_token` at all.
    OmitIdToken,
}

/// A way to make every endpoint misbehave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Answer every request with 500 Internal Server Error.
    ServerError,
    /// Wait this long before answering (to test the portal's timeouts with a short client
    /// timeout).
    Slow(Duration),
}

/// The emulator: its configuration, signing key, outstanding codes and test hooks. Cheap to
/// clone; clones share everything.
#[derive(Clone)]
pub struct DevIdp(Arc<Inner>);

impl fmt::Debug for DevIdp {
    // Written by hand: no secret, no key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevIdp")
            .field("base_url", &self.0.config.base_url)
            .field("client_id", &self.0.config.client_id)
            .field("redirect_uris", &self.0.config.redirect_uris)
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

struct Inner {
    config: DevIdpConfig,
    /// The path of `base_url` ("/dev-idp"): pages link their stylesheet by absolute path
    /// because the mount point is part of the authority.
    base_path: String,
    /// The Content-Security-Policy of every page, built once from the redirect URIs.
    page_csp: HeaderValue,
    /// The published signing key; replaced whole by `rotate_key`.
    key: Mutex<Arc<KeyPair>>,
    /// The key of `TamperSigning::ForeignKey`, made on first use so other tests do not pay
    /// for a second RSA key.
    foreign_key: Mutex<Option<Arc<KeyPair>>>,
    hooks: Mutex<Hooks>,
    /// Authorization codes by their value.
    codes: Mutex<HashMap<String, CodeEntry>>,
    jwks_fetches: AtomicUsize,
}

/// The test hooks; all off by default.
#[derive(Default)]
struct Hooks {
    tamper: Option<Arc<TokenTamper>>,
    extra_jwks_keys: Vec<Value>,
    jwks_issuer: Option<String>,
    metadata_issuer: Option<String>,
    failure: Option<Failure>,
}

/// What an authorization code stands for.
#[derive(Debug, Clone)]
struct Grant {
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    nonce: String,
    scope: String,
    account: Account,
    /// The person chose "with multi-factor authentication" on the picker: the token's `amr`
    /// lists `mfa`, and its `acrs` the authentication contexts the request asked for.
    mfa: bool,
    /// Authentication contexts the request's `claims` parameter asked for (`id_token.acrs`).
    acrs: Vec<String>,
}

/// An issued code. A redeemed code stays (with no grant) until it expires, so that a second
/// redemption can be told apart from a made-up code, like Entra's "already redeemed" error.
struct CodeEntry {
    expires_at: Instant,
    grant: Option<Grant>,
}

/// The outcome of presenting a code at the token endpoint.
enum Redemption {
    Valid(Box<Grant>),
    Expired,
    Repeated,
    Unknown,
}

impl DevIdp {
    /// Makes an emulator with a fresh 2048-bit signing key. Fails when `base_url` or a redirect
    /// URI is not an absolute http(s) URL, or the client ID or secret is empty.
    pub fn new(mut config: DevIdpConfig) -> anyhow::Result<DevIdp> {
        config.base_url = config.base_url.trim_end_matches('/').to_owned();
        let base = url::Url::parse(&config.base_url)
            .with_context(|| format!("dev IdP base URL {:?} is not a URL", config.base_url))?;
        anyhow::ensure!(
            matches!(base.scheme(), "http" | "https")
                && base.query().is_none()
                && base.fragment().is_none(),
            "dev IdP base URL {:?} must be http(s) with no query or fragment",
            config.base_url
        );
        anyhow::ensure!(
            !config.client_id.is_empty() && !config.client_secret.is_empty(),
            "dev IdP client ID and secret must not be empty"
        );
        // Chrome applies form-action to the redirect that answers a form POST too, so the
        // clients' origins must be allowed, and the emulator's own origin in case the page was
        // reached under another host name than base_url's.
        let mut form_origins = vec![base.origin().ascii_serialization()];
        for uri in &config.redirect_uris {
            let parsed = url::Url::parse(uri)
                .with_context(|| format!("dev IdP redirect URI {uri:?} is not a URL"))?;
            let origin = parsed.origin();
            anyhow::ensure!(
                origin.is_tuple(),
                "dev IdP redirect URI {uri:?} has no origin"
            );
            let origin = origin.ascii_serialization();
            if !form_origins.contains(&origin) {
                form_origins.push(origin);
            }
        }
        let page_csp = HeaderValue::from_str(&format!(
            "default-src 'none'; style-src 'self'; form-action 'self' {}; frame-ancestors 'none'; base-uri 'none'",
            form_origins.join(" ")
        ))
        .context("dev IdP redirect URI origins do not fit in a header")?;
        let key = KeyPair::generate()?;
        Ok(DevIdp(Arc::new(Inner {
            base_path: base.path().trim_end_matches('/').to_owned(),
            config,
            page_csp,
            key: Mutex::new(Arc::new(key)),
            foreign_key: Mutex::new(None),
            hooks: Mutex::new(Hooks::default()),
            codes: Mutex::new(HashMap::new()),
            jwks_fetches: AtomicUsize::new(0),
        })))
    }

    /// The emulator's routes, relative to its mount point, with its state applied.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/style.css", get(pages::stylesheet))
            .route(
                "/{tenant}/v2.0/.well-known/openid-configuration",
                get(discovery::openid_configuration),
            )
            .route("/{tenant}/discovery/v2.0/keys", get(discovery::keys))
            .route(
                "/{tenant}/oauth2/v2.0/authorize",
                get(authorize::show).post(authorize::submit),
            )
            .route("/{tenant}/oauth2/v2.0/token", post(token::exchange))
            .route("/{tenant}/oauth2/v2.0/logout", get(authorize::logout))
            .route(
                "/{tenant}/v2.0/adminconsent",
                get(consent::show).post(consent::submit),
            )
            .layer(middleware::from_fn_with_state(self.clone(), misbehave))
            .with_state(self.clone())
    }

    /// The configuration, with `base_url`'s trailing slash (if any) removed.
    pub fn config(&self) -> &DevIdpConfig {
        &self.0.config
    }

    /// Signs arbitrary header/payload JSON with the current key as a compact JWS (RS256 over
    /// base64url(header).base64url(payload)). Tests use it to build tokens.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        self.current_key().compact_rs256(header, claims)
    }

    /// The current key's `kid`.
    pub fn kid(&self) -> String {
        self.current_key().kid().to_owned()
    }

    /// Spoils every ID token the token endpoint issues while set; `None` turns it off.
    pub fn set_token_tamper(&self, tamper: Option<TokenTamper>) {
        lock(&self.0.hooks).tamper = tamper.map(Arc::new);
    }

    /// Keys appended verbatim to the JWKS `keys` (e.g. junk or unparseable keys).
    pub fn set_extra_jwks_keys(&self, keys: Vec<Value>) {
        lock(&self.0.hooks).extra_jwks_keys = keys;
    }

    /// Overrides the per-key `issuer` property of the JWKS (by default the
    /// `{base_url}/{tenantid}/v2.0` template, like Entra's).
    pub fn set_jwks_issuer(&self, issuer: Option<String>) {
        lock(&self.0.hooks).jwks_issuer = issuer;
    }

    /// Overrides the `issuer` of every discovery document (by default Entra's: the
    /// `{base_url}/{tenantid}/v2.0` template, or the tenant's own issuer for one tenant).
    pub fn set_metadata_issuer(&self, issuer: Option<String>) {
        lock(&self.0.hooks).metadata_issuer = issuer;
    }

    /// Replaces the signing key with a new one (new `kid`); the old key leaves the JWKS.
    pub fn rotate_key(&self) -> anyhow::Result<()> {
        let key = KeyPair::generate()?;
        *lock(&self.0.key) = Arc::new(key);
        Ok(())
    }

    /// How many times the keys endpoint has been served.
    pub fn jwks_fetches(&self) -> usize {
        self.0.jwks_fetches.load(Ordering::SeqCst)
    }

    /// Makes every endpoint misbehave while set; `None` turns it off.
    pub fn set_failure(&self, failure: Option<Failure>) {
        lock(&self.0.hooks).failure = failure;
    }

    fn current_key(&self) -> Arc<KeyPair> {
        Arc::clone(&lock(&self.0.key))
    }

    fn tamper(&self) -> Option<Arc<TokenTamper>> {
        lock(&self.0.hooks).tamper.clone()
    }

    /// The key of `TamperSigning::ForeignKey`, made the first time it is needed.
    async fn foreign_key(&self) -> anyhow::Result<Arc<KeyPair>> {
        if let Some(key) = lock(&self.0.foreign_key).as_ref() {
            return Ok(Arc::clone(key));
        }
        // Key generation takes up to a second of CPU: keep it off the async workers.
        let key = Arc::new(tokio::task::spawn_blocking(KeyPair::generate).await??);
        *lock(&self.0.foreign_key) = Some(Arc::clone(&key));
        Ok(key)
    }

    /// Remembers a grant under a new single-use code.
    fn issue_code(&self, grant: Grant) -> String {
        let code = keys::random_string(32);
        let now = Instant::now();
        let mut codes = lock(&self.0.codes);
        codes.retain(|_, entry| entry.expires_at > now);
        codes.insert(
            code.clone(),
            CodeEntry {
                expires_at: now + CODE_LIFETIME,
                grant: Some(grant),
            },
        );
        code
    }

    /// Uses up a code: whatever happens next, it cannot be redeemed again.
    fn redeem_code(&self, code: &str) -> Redemption {
        let mut codes = lock(&self.0.codes);
        let Some(entry) = codes.get_mut(code) else {
            return Redemption::Unknown;
        };
        match entry.grant.take() {
            None => Redemption::Repeated,
            Some(_) if entry.expires_at <= Instant::now() => Redemption::Expired,
            Some(grant) => Redemption::Valid(Box::new(grant)),
        }
    }
}

/// Applies `set_failure` in front of every route.
async fn misbehave(State(idp): State<DevIdp>, request: Request, next: Next) -> Response {
    let failure = lock(&idp.0.hooks).failure;
    match failure {
        Some(Failure::ServerError) => {
            return pages::json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                50000,
                "There was an error issuing a token or an issue with our sign-in service. \
                 (Failure::ServerError is set on the development emulator.)",
            )
        }
        Some(Failure::Slow(delay)) => tokio::time::sleep(delay).await,
        None => {}
    }
    next.run(request).await
}

/// Form or query parameters in their order, duplicates kept (OAuth refuses duplicates, so they
/// must stay visible).
#[derive(Debug, Clone, Default)]
struct Params(Vec<(String, String)>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` text (a query string or a form body).
    fn parse(bytes: &[u8]) -> Params {
        Params(url::form_urlencoded::parse(bytes).into_owned().collect())
    }

    /// The first value of `name`, if any.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first parameter name that occurs more than once.
    fn duplicated(&self) -> Option<&str> {
        self.0.iter().enumerate().find_map(|(i, (name, _))| {
            self.0[..i]
                .iter()
                .any(|(earlier, _)| earlier == name)
                .then_some(name.as_str())
        })
    }

    /// Splits into (parameters named in `names`, the rest).
    fn split_off(self, names: &[&str]) -> (Params, Params) {
        let (picked, rest) = self
            .0
            .into_iter()
            .partition(|(name, _)| names.contains(&name.as_str()));
        (Params(picked), Params(rest))
    }
}

/// Checks the `client_id` and `redirect_uri` of a browser request. Their errors are shown as a
/// page, as Entra does, never sent to a redirect URI that is not registered.
fn check_client(
    idp: &DevIdp,
    tenant_segment: &str,
    params: &Params,
) -> Result<(String, String), Box<Response>> {
    let config = idp.config();
    let Some(client_id) = params.get("client_id").filter(|c| !c.is_empty()) else {
        return Err(Box::new(pages::error_page(
            idp,
            StatusCode::BAD_REQUEST,
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        )));
    };
    if client_id != config.client_id {
        return Err(Box::new(pages::error_page(
            idp,
            StatusCode::BAD_REQUEST,
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory \
                 '{tenant_segment}'. This can happen if the application has not been installed \
                 by the administrator of the tenant or consented to by any user in the tenant."
            ),
        )));
    }
    let Some(redirect_uri) = params.get("redirect_uri").filter(|r| !r.is_empty()) else {
        return Err(Box::new(pages::error_page(
            idp,
            StatusCode::BAD_REQUEST,
            900144,
            "The request body must contain the following parameter: 'redirect_uri'.",
        )));
    };
    if !config.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(Box::new(pages::error_page(
            idp,
            StatusCode::BAD_REQUEST,
            50011,
            &format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the \
                 redirect URIs configured for the application '{client_id}'. Make sure the \
                 redirect URI sent in the request matches one added to your application."
            ),
        )));
    }
    Ok((client_id.to_owned(), redirect_uri.to_owned()))
}

/// Seconds since the Unix epoch, for token timestamps.
fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Locks one of the emulator's mutexes. A panic while one is held cannot leave its value
/// half-updated (each use is a single assignment or map operation), so a poisoned lock is
/// still safe to use.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
