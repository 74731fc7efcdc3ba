//! Customer organisations, their users and carrier staff: validation and creation.
//! Used by the CLI now and by the API's user management.

pub mod org_users;

use serde_json::json;

use crate::{
    auth::password::{self, PasswordPolicyError},
    db::{self, audit::NewAuditEntry, orgs::Organisation, users::User, Db},
};

/// Why an account operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Slug format.
    #[error("the slug {0:?} is not valid: use 2 to 40 lowercase letters, digits and dashes, starting and ending with a letter or digit (e.g. contoso-uk)")]
    InvalidSlug(String),
    /// Slug already used.
    #[error("an organisation with the slug {0:?} already exists; choose another slug")]
    DuplicateSlug(String),
    /// Name format.
    #[error("the organisation name must be 1 to 100 characters without control characters")]
    InvalidName,
    /// Email format.
    #[error("{0:?} is not a valid email address (expected something like name@example.com)")]
    InvalidEmail(String),
    /// Email already used for sign-in.
    #[error("a user who signs in with {0:?} already exists")]
    EmailTaken(String),
    /// No such organisation.
    #[error("there is no organisation with the slug {0:?}; list them or create it with `portal org create`")]
    UnknownOrg(String),
    /// No user signs in with this address.
    #[error("no user signs in with {0:?}")]
    UnknownUser(String),
    /// Password policy.
    #[error(transparent)]
    WeakPassword(#[from] PasswordPolicyError),
    /// A second-factor policy that names an unknown method, or none.
    #[error("{0}")]
    InvalidMfaMethods(String),
    /// Anything the caller cannot fix.
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AccountError {
    fn from(e: sqlx::Error) -> Self {
        AccountError::Internal(e.into())
    }
}

/// Checks an organisation slug: `^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`, at least 2 characters.
pub fn validate_slug(slug: &str) -> Result<(), AccountError> {
    let bytes = slug.as_bytes();
    let ok = (2..=40).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-');
    if ok {
        Ok(())
    } else {
        Err(AccountError::InvalidSlug(slug.to_string()))
    }
}

/// Trims and checks an organisation name.
pub fn validate_org_name(name: &str) -> Result<String, AccountError> {
    let name = name.trim();
    let len = name.chars().count();
    if (1..=100).contains(&len) && !name.chars().any(char::is_control) {
        Ok(name.to_string())
    } else {
        Err(AccountError::InvalidName)
    }
}

/// Trims, checks and lower-cases an email address (the form used for sign-in).
///
/// Deliberately plain: one `@`, a local part of 1–64 printable characters without spaces or
/// quotes, and a domain of dot-separated labels of letters, digits and dashes with a dot.
pub fn normalize_email(email: &str) -> Result<String, AccountError> {
    let trimmed = email.trim();
    let invalid = || AccountError::InvalidEmail(trimmed.to_string());
    let (local, domain) = trimmed.split_once('@').ok_or_else(invalid)?;
    let local_ok = (1..=64).contains(&local.len())
        && local.chars().all(|c| {
            c.is_ascii_graphic()
                && !matches!(
                    c,
                    '@' | '"' | '(' | ')' | ',' | ':' | ';' | '<' | '>' | '[' | '\\' | ']'
                )
        })
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if local_ok && domain_ok && trimmed.len() <= 254 {
        Ok(trimmed.to_ascii_lowercase())
    } else {
        Err(invalid())
    }
}

/// Who performs an account operation, for the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// The acting user, if any.
    pub user_id: Option<&'a str>,
    /// Readable label: an email, or `cli`.
    pub label: &'a str,
}

impl Actor<'static> {
    /// The command line.
    pub const CLI: Actor<'static> = Actor {
        user_id: None,
        label: "cli",
    };
}

/// Creates a customer organisation.
pub async fn create_org(
    db: &Db,
    actor: Actor<'_>,
    name: &str,
    slug: &str,
) -> Result<Organisation, AccountError> {
    validate_slug(slug)?;
    let name = validate_org_name(name)?;
    let org = Organisation::new(
        uuid::Uuid::new_v4().to_string(),
        slug.to_string(),
        name,
        crate::clock::system_now_ms(),
    );
    let mut tx = db.begin_write().await?;
    if let Err(e) = db::orgs::insert(&mut *tx, &org).await {
        return Err(if db::is_unique_violation(&e) {
            AccountError::DuplicateSlug(slug.to_string())
        } else {
            e.into()
        });
    }
    db::audit::insert(
        &mut *tx,
        org.created_at,
        &NewAuditEntry {
            actor_user_id: actor.user_id,
            actor_label: actor.label,
            org_id: Some(&org.id),
            action: "org.created",
            target: Some(&org.slug),
            details: json!({"after": {"slug": org.slug, "name": org.name}}),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(org)
}

/// A change of an organisation's second-factor policy; what is `None` stays as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MfaPolicyChange {
    /// Whether password sign-ins need a second factor.
    pub required: Option<bool>,
    /// Which second factors count.
    pub methods: Option<db::orgs::MfaMethods>,
}

/// The names the API and the CLI use for second factors.
pub const MFA_METHOD_NAMES: [&str; 2] = ["totp", "email"];

/// Parses a list of second-factor names (`totp`, `email`; each at most once, at least one).
pub fn parse_mfa_methods<S: AsRef<str>>(names: &[S]) -> Result<db::orgs::MfaMethods, AccountError> {
    let mut methods = db::orgs::MfaMethods {
        totp: false,
        email: false,
    };
    for name in names {
        match name.as_ref().trim() {
            "totp" => methods.totp = true,
            "email" => methods.email = true,
            other => {
                return Err(AccountError::InvalidMfaMethods(format!(
                    "{other:?} is not a second factor the portal knows: use totp (an authenticator app) and/or email (codes by e-mail)"
                )))
            }
        }
    }
    if !methods.totp && !methods.email {
        return Err(AccountError::InvalidMfaMethods(
            "at least one second factor must count: totp (an authenticator app) and/or email (codes by e-mail)".to_string(),
        ));
    }
    Ok(methods)
}

/// Sets an organisation's second-factor policy (the CLI).
pub async fn set_mfa_policy(
    db: &Db,
    actor: Actor<'_>,
    slug: &str,
    change: MfaPolicyChange,
) -> Result<(), AccountError> {
    let org = db::orgs::find_by_slug(db.pool(), slug)
        .await?
        .ok_or_else(|| AccountError::UnknownOrg(slug.to_string()))?;
    write_mfa_policy(
        db,
        crate::clock::system_now_ms(),
        actor,
        &crate::audit::RequestMeta::default(),
        &org,
        change,
    )
    .await
}

/// [`set_mfa_policy`] for the organisation with this id, by a user whose request came from
/// `meta` (an admin on the portal) at `now` (the server's clock, in ms).
pub async fn set_mfa_policy_of(
    db: &Db,
    now: i64,
    actor: Actor<'_>,
    meta: &crate::audit::RequestMeta,
    org_id: &str,
    change: MfaPolicyChange,
) -> Result<(), AccountError> {
    let org = db::orgs::find_by_id(db.pool(), org_id)
        .await?
        .ok_or_else(|| AccountError::UnknownOrg(org_id.to_string()))?;
    write_mfa_policy(db, now, actor, meta, &org, change).await
}

async fn write_mfa_policy(
    db: &Db,
    now: i64,
    actor: Actor<'_>,
    meta: &crate::audit::RequestMeta,
    org: &Organisation,
    change: MfaPolicyChange,
) -> Result<(), AccountError> {
    let required = change.required.unwrap_or(org.mfa_required);
    let methods = change.methods.unwrap_or(org.mfa_methods);
    let names = |m: db::orgs::MfaMethods| crate::auth::factors::Factors::from(m).names();
    let mut tx = db.begin_write().await?;
    db::orgs::set_mfa_required(&mut *tx, &org.id, required).await?;
    db::orgs::set_mfa_methods(&mut *tx, &org.id, methods).await?;
    db::audit::insert(
        &mut *tx,
        now,
        &NewAuditEntry {
            actor_user_id: actor.user_id,
            actor_label: actor.label,
            org_id: Some(&org.id),
            action: "org.mfa_policy_changed",
            target: Some(&org.slug),
            details: json!({
                "before": {"mfa_required": org.mfa_required, "mfa_methods": names(org.mfa_methods)},
                "after": {"mfa_required": required, "mfa_methods": names(methods)},
            }),
            ip: meta.ip.as_deref(),
            user_agent: meta.user_agent.as_deref(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What a new user is: a customer user with a role, or staff.
#[derive(Debug, Clone, Copy)]
pub enum NewUserKind<'a> {
    /// A user of the organisation with this slug.
    Customer {
        /// The organisation's slug.
        org_slug: &'a str,
        /// `admin`, `engineer` or `viewer`.
        role: &'a str,
    },
    /// Carrier staff.
    Staff,
}

/// Creates a user who signs in with `email` (and `password`, when given).
pub async fn create_user(
    db: &Db,
    actor: Actor<'_>,
    kind: NewUserKind<'_>,
    email: &str,
    password: Option<&str>,
) -> Result<User, AccountError> {
    let login_email = normalize_email(email)?;
    let (org, role, is_staff) = match kind {
        NewUserKind::Customer { org_slug, role } => {
            let org = db::orgs::find_by_slug(db.pool(), org_slug)
                .await?
                .ok_or_else(|| AccountError::UnknownOrg(org_slug.to_string()))?;
            (Some(org), Some(role.to_string()), false)
        }
        NewUserKind::Staff => (None, None, true),
    };
    if let Some(p) = password {
        let mut words = vec![email, app::product::PRODUCT_NAME];
        if let Some(org) = &org {
            words.extend([org.name.as_str(), org.slug.as_str()]);
        }
        password::check_new_password(p, &words)?;
    }
    let org_id = org.map(|o| o.id);
    let password_hash = match password {
        Some(p) => {
            let p = p.to_string();
            Some(
                tokio::task::spawn_blocking(move || password::hash_password(&p))
                    .await
                    .map_err(anyhow::Error::from)?
                    .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))?,
            )
        }
        None => None,
    };
    let user = User {
        id: uuid::Uuid::new_v4().to_string(),
        org_id,
        email: email.trim().to_string(),
        login_email: Some(login_email.clone()),
        name: String::new(),
        role,
        is_staff,
        password_hash,
        created_at: crate::clock::system_now_ms(),
        deactivated_at: None,
    };
    let mut tx = db.begin_write().await?;
    if let Err(e) = db::users::insert(&mut *tx, &user).await {
        return Err(if db::is_unique_violation(&e) {
            AccountError::EmailTaken(login_email)
        } else {
            e.into()
        });
    }
    db::audit::insert(
        &mut *tx,
        user.created_at,
        &NewAuditEntry {
            actor_user_id: actor.user_id,
            actor_label: actor.label,
            org_id: user.org_id.as_deref(),
            action: if is_staff { "staff.created" } else { "user.created" },
            target: Some(&user.id),
            details: json!({"after": {"email": user.email, "role": user.role, "staff": is_staff, "password_set": user.password_hash.is_some()}}),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// Names (or stops naming) the customer user who signs in with `email` a break-glass
/// administrator, as the CLI (`org_users::set_break_glass`'s rules); returns whether anything
/// changed.
pub async fn set_break_glass(db: &Db, email: &str, enabled: bool) -> Result<bool, anyhow::Error> {
    let login_email = normalize_email(email)?;
    let user = db::users::find_by_login_email(db.pool(), &login_email)
        .await?
        .ok_or_else(|| AccountError::UnknownUser(email.to_string()))?;
    let Some(org_id) = user.org_id.clone() else {
        anyhow::bail!(
            "{email} is carrier staff: break-glass administrators are a customer's admins"
        );
    };
    let acting = crate::audit::Acting {
        user_id: None,
        label: Actor::CLI.label.to_string(),
        org_id,
        meta: crate::audit::RequestMeta::default(),
    };
    let changed = org_users::set_break_glass(
        db,
        &acting,
        crate::clock::system_now_ms(),
        &user.id,
        enabled,
    )
    .await
    .map_err(|e| match e {
        org_users::UserChangeError::Internal(e) => e,
        e => anyhow::anyhow!("{e}"),
    })?;
    Ok(changed.changed)
}

/// Unlocks the sign-in codes of `user`, locked after too many wrong codes in a row (an
/// administrator's or staff's decision, or the CLI's); returns whether they were locked.
pub async fn unlock_user_codes(
    db: &Db,
    actor: Actor<'_>,
    meta: &crate::audit::RequestMeta,
    user: &User,
) -> Result<bool, AccountError> {
    let mut tx = db.begin_write().await?;
    let was_locked = db::mfa::unlock_codes(&mut tx, &user.id).await?;
    if was_locked {
        db::audit::insert(
            &mut *tx,
            crate::clock::system_now_ms(),
            &NewAuditEntry {
                actor_user_id: actor.user_id,
                actor_label: actor.label,
                org_id: user.org_id.as_deref(),
                action: "mfa.codes_unlocked",
                target: Some(&user.id),
                details: json!({"email": user.email, "via": "administrator"}),
                ip: meta.ip.as_deref(),
                user_agent: meta.user_agent.as_deref(),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(was_locked)
}

/// [`unlock_user_codes`] for the user who signs in with `email` (the CLI).
pub async fn unlock_codes(db: &Db, actor: Actor<'_>, email: &str) -> Result<bool, AccountError> {
    let login_email = normalize_email(email)?;
    let user = db::users::find_by_login_email(db.pool(), &login_email)
        .await?
        .ok_or_else(|| AccountError::UnknownUser(login_email.clone()))?;
    unlock_user_codes(db, actor, &crate::audit::RequestMeta::default(), &user).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["contoso", "contoso-uk", "a1", "9x"] {
            assert!(validate_slug(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "-contoso",
            "contoso-",
            "Contoso",
            "con toso",
            "contoso_uk",
            &"a".repeat(41),
        ] {
            assert!(validate_slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            normalize_email(" Alice@Contoso.COM ").ok().as_deref(),
            Some("alice@contoso.com")
        );
        assert!(normalize_email("first.last+tag@sub.example.co.uk").is_ok());
        for bad in [
            "",
            "alice",
            "alice@",
            "@contoso.com",
            "alice@contoso",
            "a b@c.com",
            "a@@b.com",
            "a@-b.com",
            "a..b@c.com",
            "a@b..com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn org_names() {
        assert_eq!(
            validate_org_name("  Contoso Ltd ").ok().as_deref(),
            Some("Contoso Ltd")
        );
        assert!(validate_org_name("   ").is_err());
        assert!(validate_org_name("a\nb").is_err());
    }
}
