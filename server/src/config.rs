//! The command line and the configuration: clap + environment variables, validated once at
//! start so a misconfigured portal stops with a message that says what to set.

use std::{net::SocketAddr, path::PathBuf};

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// The portal server and its administration commands.
#[derive(Debug, Parser)]
#[command(
    name = "portal",
    version,
    about = "Voice Customer Portal: server and administration"
)]
pub struct Cli {
    /// Database: `sqlite://data/portal.db?mode=rwc` (embedded) or `postgres://user@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        global = true,
        default_value = "sqlite://data/portal.db?mode=rwc"
    )]
    pub database_url: String,

    /// `development` or `production`; production refuses unsafe settings.
    #[arg(long = "env", env = "PORTAL_ENV", global = true, value_enum, default_value_t = PortalEnv::Development)]
    pub portal_env: PortalEnv,

    /// What to do; without a subcommand the portal serves (as `cargo leptos watch` starts it).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The deployment kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PortalEnv {
    /// A developer's machine: generated secret, the Entra ID emulator, http on loopback.
    Development,
    /// A real deployment: https, real secrets, no emulator.
    Production,
}

/// The subcommands of `portal`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the portal (migrates the database first).
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage customer organisations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage users of a customer organisation.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage carrier staff accounts.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Fill an empty database with demo customers, users, SSO tenants and voice data:
    /// services, numbers, incidents, porting orders and 90 days of calls (development).
    SeedDemo {
        /// How many calls to generate (deterministic: the same count gives the same calls).
        #[arg(long, default_value_t = crate::demo::voice::DEFAULT_CALLS)]
        calls: u64,
    },
    /// Manage a customer's voice services.
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Call records (CDRs).
    #[command(subcommand)]
    Calls(CallsCommand),
}

/// `portal service …`
#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Create a voice service for a customer.
    Create {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
        /// What the service is.
        #[arg(long, value_enum)]
        kind: ServiceKindArg,
        /// Its name, unique in the organisation (CDRs name the service by it).
        #[arg(long)]
        name: String,
        /// ISO 3166-1 alpha-2 country code, e.g. GB.
        #[arg(long)]
        country: String,
        /// Concurrent calls the contract allows (at least 1).
        #[arg(long, allow_negative_numbers = true)]
        channels: i64,
    },
}

/// A voice service's kind, as the CLI spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServiceKindArg {
    /// A SIP trunk.
    #[value(name = "sip_trunk")]
    SipTrunk,
    /// Microsoft Teams Direct Routing.
    #[value(name = "teams_direct_routing")]
    TeamsDirectRouting,
    /// Microsoft Teams Operator Connect.
    #[value(name = "operator_connect")]
    OperatorConnect,
}

/// `portal calls …`
#[derive(Debug, Subcommand)]
pub enum CallsCommand {
    /// Import call records from a CSV file (the CDR exchange format); `.ndjson`/`.jsonl` files
    /// are read as NDJSON. Exits 1 when any row was refused.
    Import {
        /// The file to import.
        file: PathBuf,
        /// The organisation's slug.
        #[arg(long)]
        org: String,
        /// Refuse the whole file when any row is invalid (nothing is stored).
        #[arg(long)]
        strict: bool,
        /// The longest call accepted, start to end, in seconds; longer calls are refused rows.
        #[arg(long, env = "PORTAL_MAX_CALL_SECS", default_value_t = crate::voice::cdr::DEFAULT_MAX_CALL_SECS, value_parser = clap::value_parser!(i64).range(1..))]
        max_call_secs: i64,
    },
}

/// `portal org …`
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create a customer organisation.
    Create {
        /// The customer's name as people know it.
        #[arg(long)]
        name: String,
        /// The short identifier used in URLs and commands: lowercase letters, digits and dashes.
        #[arg(long)]
        slug: String,
    },
    /// Require (or stop requiring) a second factor for the organisation's password sign-ins,
    /// and choose which second factors count.
    MfaPolicy {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
        /// `true` to require a second factor, `false` to leave it to each user.
        #[arg(long, action = clap::ArgAction::Set)]
        required: Option<bool>,
        /// The second factors that count, comma-separated: `totp` (an authenticator app),
        /// `email` (codes by e-mail).
        #[arg(long)]
        methods: Option<String>,
    },
    /// Single sign-on with Microsoft Entra ID for a customer.
    #[command(subcommand)]
    Sso(SsoCommand),
}

/// `portal org sso …`
#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// Turn SSO on: the customer's admins can then connect their Entra tenant.
    Enable {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
    },
    /// Turn SSO off; the customer's SSO sessions end at once.
    Disable {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
    },
    /// Link an Entra tenant to the customer (without the admin-consent step); approved at once.
    LinkTenant {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
        /// The tenant id (a GUID).
        #[arg(long)]
        tenant: String,
    },
    /// Approve a tenant a customer's admin linked through admin consent: its users can then
    /// sign in (refuse one by unlinking it).
    ApproveTenant {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
        /// The tenant id (a GUID).
        #[arg(long)]
        tenant: String,
    },
    /// Unlink a tenant; its sessions end at once.
    UnlinkTenant {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
        /// The tenant id (a GUID).
        #[arg(long)]
        tenant: String,
    },
    /// Disable a linked tenant; its sessions end at once and its users cannot sign in.
    DisableTenant {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
        /// The tenant id (a GUID).
        #[arg(long)]
        tenant: String,
    },
    /// Enable a disabled tenant again.
    EnableTenant {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
        /// The tenant id (a GUID).
        #[arg(long)]
        tenant: String,
    },
    /// What a Microsoft sign-in whose ID token shows no multi-factor authentication gets.
    MfaEvidence {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
        /// `off` (trust the tenant's own policy), `portal_factor` (also ask for the portal
        /// authenticator code) or `required` (refuse the sign-in).
        #[arg(long)]
        policy: String,
        /// The Conditional Access authentication context (c1 … c99) that counts as evidence;
        /// the portal asks the tenant for it. Left out: none.
        #[arg(long)]
        auth_context: Option<String>,
    },
}

/// `portal user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user in a customer organisation.
    Create {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
        /// The user's email address (their sign-in name).
        #[arg(long)]
        email: String,
        /// What the user may do.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Unlock the sign-in codes of a user (customer or staff) locked after too many wrong codes
    /// in a row.
    UnlockCodes {
        /// The user's sign-in email address.
        #[arg(long)]
        email: String,
    },
    /// Name (or stop naming) a break-glass administrator: an active admin with an
    /// authenticator app who may still sign in with password and code while the organisation
    /// requires single sign-on (at most three per organisation).
    BreakGlass {
        /// The admin's sign-in email address.
        #[arg(long)]
        email: String,
        /// `true` to name them, `false` to stop.
        #[arg(long, action = clap::ArgAction::Set)]
        enabled: bool,
    },
}

/// `portal staff …`
#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create a carrier staff account. Staff always sign in with an authenticator app: they
    /// set one up at their first sign-in and cannot turn it off.
    Create {
        /// The staff member's email address.
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// A customer user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Manages the organisation's users, tokens and settings.
    Admin,
    /// Changes numbers and emergency addresses.
    Engineer,
    /// Reads.
    Viewer,
}

impl RoleArg {
    /// The role's name as stored and sent by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleArg::Admin => "admin",
            RoleArg::Engineer => "engineer",
            RoleArg::Viewer => "viewer",
        }
    }
}

/// `portal serve` settings. Each flag also reads the environment variable of the same meaning.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub site_addr: SocketAddr,

    /// External base URL; redirect URIs and the CSRF origin check are built from it.
    #[arg(
        long,
        env = "PORTAL_PUBLIC_URL",
        default_value = "http://localhost:3000"
    )]
    pub public_url: url::Url,

    /// 32 random bytes, base64; encrypts TOTP secrets at rest. Development generates one into `data/`.
    #[arg(long, env = "PORTAL_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// Client id of the portal's multi-tenant Entra ID app registration.
    #[arg(long, env = "ENTRA_CLIENT_ID")]
    pub entra_client_id: Option<String>,

    /// Client secret of that app registration.
    #[arg(long, env = "ENTRA_CLIENT_SECRET", hide_env_values = true)]
    pub entra_client_secret: Option<String>,

    /// Base of the Entra ID endpoints.
    #[arg(
        long,
        env = "ENTRA_AUTHORITY",
        default_value = "https://login.microsoftonline.com"
    )]
    pub entra_authority: url::Url,

    /// Seconds before a call to the identity provider (discovery, keys, token) gives up.
    #[arg(long, env = "ENTRA_TIMEOUT_SECS", default_value_t = 10)]
    pub entra_timeout_secs: u64,

    /// Seed the demo data into an empty database before serving (development; `make run`).
    #[arg(long, env = "PORTAL_SEED_DEMO", default_value_t = false)]
    pub seed_demo: bool,

    /// Mount the development Entra ID emulator at /dev-idp (default: on in development).
    #[arg(long, env = "PORTAL_DEV_IDP")]
    pub dev_idp: Option<bool>,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "PORTAL_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Seconds a request body may go without sending a byte before the request is answered
    /// 408 (a client that stalls mid-upload no longer holds a connection and a handler).
    #[arg(long, env = "PORTAL_BODY_IDLE_SECS", default_value_t = 30)]
    pub body_idle_secs: i64,

    /// Directory of the built site (the wasm bundle, CSS and assets).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Directory for generated development files (the development secret key).
    #[arg(long, env = "PORTAL_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// A signed-in session ends after this many seconds without a request.
    #[arg(long, env = "PORTAL_SESSION_IDLE_SECS", default_value_t = 1800)]
    pub session_idle_secs: i64,

    /// A signed-in session ends this many seconds after sign-in, active or not.
    #[arg(long, env = "PORTAL_SESSION_ABSOLUTE_SECS", default_value_t = 43_200)]
    pub session_absolute_secs: i64,

    /// A sign-in waiting for its authenticator code is dropped after this many seconds.
    #[arg(long, env = "PORTAL_MFA_PENDING_SECS", default_value_t = 300)]
    pub mfa_pending_secs: i64,

    /// An SSO sign-in transaction (state, nonce, PKCE verifier) expires after this many seconds.
    #[arg(long, env = "PORTAL_OIDC_TXN_SECS", default_value_t = 600)]
    pub oidc_txn_secs: i64,

    /// Outgoing mail server, e.g. `smtps://user:password@mail.example.com:465`. Without it
    /// (development only) mail is written to `data/outbox/` and listed at /dev/outbox.
    #[arg(long, env = "PORTAL_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The sender of the portal's email.
    #[arg(
        long,
        env = "PORTAL_MAIL_FROM",
        default_value = "Voice Customer Portal <no-reply@localhost>"
    )]
    pub mail_from: String,

    /// The longest call record accepted, start to end, in seconds; longer calls are refused
    /// rows (each call costs a rollup entry for every hour it spans).
    #[arg(long, env = "PORTAL_MAX_CALL_SECS", default_value_t = crate::voice::cdr::DEFAULT_MAX_CALL_SECS, value_parser = clap::value_parser!(i64).range(1..))]
    pub max_call_secs: i64,

    /// Bearer token Prometheus must send to read /metrics. Production answers /metrics only
    /// with it (404 without one set); development serves /metrics openly unless it is set.
    #[arg(long, env = "PORTAL_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Comma-separated proxy addresses whose X-Forwarded-For is trusted for the client IP.
    #[arg(long, env = "PORTAL_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// A configuration that cannot be served, with what to set instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// Production behind plain http.
    #[error("PORTAL_PUBLIC_URL is {0}, but production needs https. Set PORTAL_PUBLIC_URL=https://your-portal.example.com")]
    InsecurePublicUrl(String),
    /// The emulator in production.
    #[error("the development Entra ID emulator cannot run in production. Unset PORTAL_DEV_IDP (or set PORTAL_DEV_IDP=false) and set ENTRA_CLIENT_ID, ENTRA_CLIENT_SECRET and ENTRA_AUTHORITY for your app registration")]
    DevIdpInProduction,
    /// No key in production.
    #[error("PORTAL_SECRET_KEY is not set. Production needs a fixed key: generate one with `openssl rand -base64 32` and set PORTAL_SECRET_KEY to it")]
    MissingSecretKey,
    /// A key that is not 32 bytes of base64.
    #[error("PORTAL_SECRET_KEY must be 32 random bytes encoded as base64 (44 characters); generate one with `openssl rand -base64 32`")]
    MalformedSecretKey,
    /// No mail server in production.
    #[error("PORTAL_SMTP_URL is not set. Production sends invitations and password resets by email: set PORTAL_SMTP_URL=smtps://user:password@mail.example.com:465")]
    MissingSmtp,
    /// A sender that is not a mailbox.
    #[error("PORTAL_MAIL_FROM must be an address such as \"Voice Portal <no-reply@portal.example.com>\" (got {0:?})")]
    MalformedMailFrom(String),
    /// A timeout that is zero or negative.
    #[error("{0} must be a positive number of seconds")]
    NonPositiveTimeout(&'static str),
    /// Demo data in production.
    #[error("PORTAL_SEED_DEMO puts demo accounts with published passwords into the database; it cannot be used in production")]
    DemoInProduction,
    /// Only half of the app registration's credentials.
    #[error("set both ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET (the portal's Entra ID app registration), or neither to turn sign-in with Microsoft off")]
    PartialEntraCredentials,
    /// A metrics token too short to resist guessing.
    #[error("PORTAL_METRICS_TOKEN must be at least 32 characters; generate one with `openssl rand -hex 32`")]
    WeakMetricsToken,
    /// A public URL with a path, query or credentials.
    #[error("PORTAL_PUBLIC_URL must be an http(s) origin such as https://portal.example.com, without a path, query or user name (got {0})")]
    MalformedPublicUrl(String),
}

/// Decodes a `PORTAL_SECRET_KEY` value.
pub fn decode_secret_key(value: &str) -> Result<[u8; 32], ConfigError> {
    let bytes = B64
        .decode(value.trim())
        .map_err(|_| ConfigError::MalformedSecretKey)?;
    bytes
        .try_into()
        .map_err(|_| ConfigError::MalformedSecretKey)
}

/// Whether `url` points at this machine (http is acceptable there even in production,
/// e.g. behind a TLS-terminating proxy on the same host during a smoke test).
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Checks the settings that do not depend on files or the network.
pub fn validate(env: PortalEnv, args: &ServeArgs) -> Result<(), ConfigError> {
    let url = &args.public_url;
    let origin_only = matches!(url.scheme(), "http" | "https")
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none()
        && (url.path() == "/" || url.path().is_empty());
    if !origin_only {
        return Err(ConfigError::MalformedPublicUrl(url.to_string()));
    }
    if let Some(key) = &args.secret_key {
        decode_secret_key(key)?;
    }
    if args.mail_from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(ConfigError::MalformedMailFrom(args.mail_from.clone()));
    }
    for (name, value) in [
        ("PORTAL_SESSION_IDLE_SECS", args.session_idle_secs),
        ("PORTAL_SESSION_ABSOLUTE_SECS", args.session_absolute_secs),
        ("PORTAL_MFA_PENDING_SECS", args.mfa_pending_secs),
        ("PORTAL_OIDC_TXN_SECS", args.oidc_txn_secs),
        ("PORTAL_BODY_IDLE_SECS", args.body_idle_secs),
    ] {
        if value <= 0 {
            return Err(ConfigError::NonPositiveTimeout(name));
        }
    }
    if args.entra_client_id.is_some() != args.entra_client_secret.is_some() {
        return Err(ConfigError::PartialEntraCredentials);
    }
    if args
        .metrics_token
        .as_deref()
        .is_some_and(|t| t.trim().chars().count() < 32)
    {
        return Err(ConfigError::WeakMetricsToken);
    }
    if env == PortalEnv::Production {
        if url.scheme() != "https" && !is_loopback(url) {
            return Err(ConfigError::InsecurePublicUrl(url.to_string()));
        }
        if args.dev_idp == Some(true) {
            return Err(ConfigError::DevIdpInProduction);
        }
        if args.seed_demo {
            return Err(ConfigError::DemoInProduction);
        }
        if args.secret_key.is_none() {
            return Err(ConfigError::MissingSecretKey);
        }
        if args.smtp_url.is_none() {
            return Err(ConfigError::MissingSmtp);
        }
    }
    Ok(())
}

impl ServeArgs {
    /// Where mail goes: SMTP when configured, else the development outbox.
    pub fn mailer(&self) -> anyhow::Result<crate::mail::Mailer> {
        let from = self
            .mail_from
            .parse()
            .map_err(|_| ConfigError::MalformedMailFrom(self.mail_from.clone()))?;
        match &self.smtp_url {
            Some(url) => crate::mail::Mailer::smtp(url, from),
            None => Ok(crate::mail::Mailer::Outbox {
                dir: self.data_dir.join("outbox"),
                from,
            }),
        }
    }

    /// Whether the development Entra ID emulator is mounted.
    pub fn dev_idp_enabled(&self, env: PortalEnv) -> bool {
        self.dev_idp.unwrap_or(env == PortalEnv::Development)
    }

    /// The public origin, e.g. `https://portal.example.com` (no trailing slash).
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> ServeArgs {
        let mut argv = vec!["portal", "serve"];
        argv.extend_from_slice(extra);
        match Cli::try_parse_from(argv).expect("parses").command {
            Some(Command::Serve(a)) => *a,
            other => panic!("not serve: {other:?}"),
        }
    }

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn production_refuses_http_public_url() {
        let a = args(&[
            "--public-url",
            "http://portal.example.com",
            "--secret-key",
            KEY,
        ]);
        assert_eq!(
            validate(PortalEnv::Production, &a),
            Err(ConfigError::InsecurePublicUrl(
                "http://portal.example.com/".into()
            ))
        );
    }

    #[test]
    fn production_allows_http_on_loopback() {
        let a = args(&[
            "--public-url",
            "http://127.0.0.1:3000",
            "--secret-key",
            KEY,
            "--smtp-url",
            "smtp://127.0.0.1:25",
        ]);
        assert_eq!(validate(PortalEnv::Production, &a), Ok(()));
    }

    #[test]
    fn production_refuses_the_dev_idp() {
        let a = args(&[
            "--public-url",
            "https://p.example.com",
            "--secret-key",
            KEY,
            "--dev-idp",
            "true",
        ]);
        assert_eq!(
            validate(PortalEnv::Production, &a),
            Err(ConfigError::DevIdpInProduction)
        );
        assert!(!args(&[]).dev_idp_enabled(PortalEnv::Production));
        assert!(args(&[]).dev_idp_enabled(PortalEnv::Development));
    }

    #[test]
    fn production_needs_a_mail_server() {
        let a = args(&["--public-url", "https://p.example.com", "--secret-key", KEY]);
        assert_eq!(
            validate(PortalEnv::Production, &a),
            Err(ConfigError::MissingSmtp)
        );
    }

    #[test]
    fn production_needs_a_secret_key() {
        let a = args(&["--public-url", "https://p.example.com"]);
        assert_eq!(
            validate(PortalEnv::Production, &a),
            Err(ConfigError::MissingSecretKey)
        );
    }

    #[test]
    fn a_secret_key_must_be_32_bytes_of_base64() {
        let a = args(&["--secret-key", "c2hvcnQ="]);
        assert_eq!(
            validate(PortalEnv::Development, &a),
            Err(ConfigError::MalformedSecretKey)
        );
        assert!(decode_secret_key(KEY).is_ok());
        assert!(decode_secret_key("not base64!").is_err());
    }

    #[test]
    fn timeouts_must_be_positive() {
        let a = args(&["--session-idle-secs", "0"]);
        assert_eq!(
            validate(PortalEnv::Development, &a),
            Err(ConfigError::NonPositiveTimeout("PORTAL_SESSION_IDLE_SECS"))
        );
        let a = args(&["--trusted-proxies", "10.0.0.1,::1"]);
        assert_eq!(a.trusted_proxies.len(), 2);
    }

    #[test]
    fn the_public_url_is_an_origin() {
        let a = args(&["--public-url", "https://p.example.com/portal"]);
        assert!(matches!(
            validate(PortalEnv::Development, &a),
            Err(ConfigError::MalformedPublicUrl(_))
        ));
        assert_eq!(args(&[]).public_origin(), "http://localhost:3000");
    }
}
