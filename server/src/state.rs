//! The application's state: the database, the validated settings, the clock, the secrets,
//! the mailer and the caches every layer works with. Built once at start (`serve`, and each
//! test), shared by the HTTP layer and the domain modules below it, so that nothing below
//! `http/` needs to import from it.

use std::{sync::Arc, time::Instant};

use leptos::prelude::LeptosOptions;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::{
    auth::{
        entra::{Entra, EntraConfig},
        hashing::PasswordWorkers,
        secretbox::SecretBox,
        session_cache::SessionCache,
    },
    clock::Clock,
    config::{PortalEnv, ServeArgs},
    db::Db,
    devidp::{DevIdp, DevIdpConfig},
    mail::Mailer,
};

/// Everything a handler may need. One pointer: every extractor and middleware layer clones
/// the state per request, so cloning must not copy the fields.
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct AppStateInner {
    /// The database.
    pub db: Db,
    /// The validated `serve` settings.
    pub config: Arc<ServeArgs>,
    /// Development or production.
    pub env: PortalEnv,
    /// Leptos' rendering options (site root, output name).
    pub leptos: LeptosOptions,
    /// Renders the Prometheus metrics.
    pub metrics: PrometheusHandle,
    /// When the server started, for uptime.
    pub started: Instant,
    /// The time (movable in tests).
    pub clock: Clock,
    /// Encrypts secrets at rest (TOTP secrets) with `PORTAL_SECRET_KEY`.
    pub secrets: SecretBox,
    /// Key of the recovery-code hashes, derived from `PORTAL_SECRET_KEY`.
    pub recovery_pepper: [u8; 32],
    /// Argon2id off the async runtime, bounded.
    pub passwords: PasswordWorkers,
    /// `PORTAL_PUBLIC_URL`'s origin, for the same-origin check.
    pub public_origin: String,
    /// Outgoing email.
    pub mailer: Mailer,
    /// Recently resolved sessions of this instance.
    pub sessions: Arc<SessionCache>,
    /// The Entra ID relying party; `None` when single sign-on is not configured.
    pub entra: Option<Arc<Entra>>,
    /// The development Entra ID emulator, when mounted at `/dev-idp`.
    pub dev_idp: Option<DevIdp>,
    /// Test hooks (all off unless a test sets them).
    pub faults: crate::faults::Faults,
    /// Cancelled when the server is asked to stop: long requests (call-record uploads) end
    /// after their current batch instead of holding the drain.
    pub shutdown: tokio_util::sync::CancellationToken,
}

impl AppState {
    /// What the sign-in rules (`auth::…`) work with, borrowed from this state.
    pub fn auth(&self) -> crate::auth::AuthContext<'_> {
        crate::auth::AuthContext {
            db: &self.db,
            clock: &self.clock,
            sessions: &self.sessions,
            passwords: &self.passwords,
            mailer: &self.mailer,
            secrets: &self.secrets,
            recovery_pepper: &self.recovery_pepper,
            public_origin: &self.public_origin,
            lifetimes: crate::auth::SessionLifetimes {
                idle_secs: self.config.session_idle_secs,
                absolute_secs: self.config.session_absolute_secs,
                mfa_pending_secs: self.config.mfa_pending_secs,
            },
            faults: &self.faults,
        }
    }

    /// Assembles the state from validated settings and the 32-byte secret key.
    pub fn new(
        db: Db,
        config: ServeArgs,
        env: PortalEnv,
        secret_key: [u8; 32],
        clock: Clock,
        mailer: Mailer,
    ) -> AppState {
        use hmac::{Hmac, Mac};
        let recovery_pepper = match <Hmac<sha2::Sha256> as Mac>::new_from_slice(&secret_key) {
            Ok(mut mac) => {
                mac.update(b"portal recovery codes v1");
                mac.finalize().into_bytes().into()
            }
            // HMAC accepts keys of any length; this arm exists only for the type system.
            Err(_) => secret_key,
        };
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            * 2;
        let (entra, dev_idp) = sso_setup(&config, env);
        AppState(Arc::new(AppStateInner {
            entra,
            dev_idp,
            db,
            leptos: crate::site::leptos_options(&config),
            public_origin: config.public_origin(),
            config: Arc::new(config),
            env,
            metrics: crate::telemetry::metrics_handle(),
            started: Instant::now(),
            clock,
            secrets: SecretBox::new(secret_key),
            recovery_pepper,
            passwords: PasswordWorkers::new(workers),
            mailer,
            sessions: Arc::new(SessionCache::default()),
            faults: crate::faults::Faults::default(),
            shutdown: tokio_util::sync::CancellationToken::new(),
        }))
    }
}

/// The client id the portal uses with its own development emulator.
pub const DEV_IDP_CLIENT_ID: &str = "portal-dev";

/// The relying party for the configured app registration, or for the development emulator
/// (which then runs in this process with a client secret made up at start).
fn sso_setup(config: &ServeArgs, env: PortalEnv) -> (Option<Arc<Entra>>, Option<DevIdp>) {
    let origin = config.public_origin();
    let callback_url = format!("{origin}/auth/microsoft/callback");
    let consent_callback_url = format!("{origin}/auth/microsoft/consent/callback");
    let timeout = std::time::Duration::from_secs(config.entra_timeout_secs.max(1));
    let mut dev_idp = None;
    let rp = match (&config.entra_client_id, &config.entra_client_secret) {
        (Some(id), Some(secret)) => Some(EntraConfig {
            authority: config
                .entra_authority
                .as_str()
                .trim_end_matches('/')
                .to_string(),
            client_id: id.clone(),
            client_secret: secret.clone(),
            callback_url,
            consent_callback_url,
            timeout,
        }),
        _ if config.dev_idp_enabled(env) => {
            let secret = crate::auth::session::new_token().0;
            let base_url = format!("{origin}/dev-idp");
            match DevIdp::new(DevIdpConfig {
                base_url: base_url.clone(),
                client_id: DEV_IDP_CLIENT_ID.to_string(),
                client_secret: secret.clone(),
                redirect_uris: vec![callback_url.clone(), consent_callback_url.clone()],
            }) {
                Ok(idp) => {
                    dev_idp = Some(idp);
                    Some(EntraConfig {
                        authority: base_url,
                        client_id: DEV_IDP_CLIENT_ID.to_string(),
                        client_secret: secret,
                        callback_url,
                        consent_callback_url,
                        timeout,
                    })
                }
                Err(e) => {
                    tracing::error!("the development Entra ID emulator could not start: {e:#}");
                    None
                }
            }
        }
        _ => None,
    };
    let entra = rp.and_then(|c| match Entra::new(c) {
        Ok(e) => Some(Arc::new(e)),
        Err(e) => {
            tracing::error!("single sign-on is off: {e:#}");
            None
        }
    });
    (entra, dev_idp)
}
