//! A customer's voice services: validation and creation (the CLI now, the API later).

use serde_json::json;

use crate::{
    accounts::Actor,
    db::{self, audit::NewAuditEntry, services::Service, Db},
};

use super::countries;

/// What a service is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    /// A SIP trunk to the customer's PBX or SBC.
    SipTrunk,
    /// Microsoft Teams Direct Routing through the customer's SBC.
    TeamsDirectRouting,
    /// Microsoft Teams Operator Connect (no customer SBC).
    OperatorConnect,
}

impl ServiceKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::SipTrunk => "sip_trunk",
            ServiceKind::TeamsDirectRouting => "teams_direct_routing",
            ServiceKind::OperatorConnect => "operator_connect",
        }
    }
}

/// Why a service operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No such organisation.
    #[error("there is no organisation with the slug {0:?}; create it with `portal org create`")]
    UnknownOrg(String),
    /// Name format.
    #[error("the service name must be 1 to 100 characters without control characters")]
    InvalidName,
    /// Name already used in the organisation.
    #[error("the organisation already has a service named {0:?}; CDRs name services, so names are unique")]
    DuplicateName(String),
    /// Not an ISO code.
    #[error("{0:?} is not an assigned ISO 3166-1 alpha-2 country code (e.g. GB, DE, US)")]
    InvalidCountry(String),
    /// Channel limit.
    #[error("the channel limit must be a whole number of at least 1 (got {0})")]
    InvalidChannels(i64),
    /// Anything the caller cannot fix.
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        ServiceError::Internal(e.into())
    }
}

impl ServiceError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::UnknownOrg(_) => "unknown_org",
            ServiceError::InvalidName => "invalid_name",
            ServiceError::DuplicateName(_) => "duplicate_name",
            ServiceError::InvalidCountry(_) => "invalid_country",
            ServiceError::InvalidChannels(_) => "invalid_channels",
            ServiceError::Internal(_) => "internal",
        }
    }
}

/// What a new service is.
#[derive(Debug, Clone, Copy)]
pub struct NewService<'a> {
    /// The organisation's slug.
    pub org_slug: &'a str,
    /// Its kind.
    pub kind: ServiceKind,
    /// Its name, unique in the organisation.
    pub name: &'a str,
    /// ISO 3166-1 alpha-2 (any case).
    pub country: &'a str,
    /// Concurrent calls allowed.
    pub channels: i64,
}

/// Creates an active service, with its audit entry in the same transaction.
pub async fn create_service(
    db: &Db,
    actor: Actor<'_>,
    new: NewService<'_>,
) -> Result<Service, ServiceError> {
    let org = db::orgs::find_by_slug(db.pool(), new.org_slug)
        .await?
        .ok_or_else(|| ServiceError::UnknownOrg(new.org_slug.to_string()))?;
    let name = new.name.trim();
    if !(1..=100).contains(&name.chars().count()) || name.chars().any(char::is_control) {
        return Err(ServiceError::InvalidName);
    }
    let country = new.country.trim().to_ascii_uppercase();
    if !countries::is_assigned(&country) {
        return Err(ServiceError::InvalidCountry(new.country.to_string()));
    }
    if new.channels < 1 {
        return Err(ServiceError::InvalidChannels(new.channels));
    }
    let service = Service {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: org.id.clone(),
        kind: new.kind.as_str().to_string(),
        name: name.to_string(),
        country,
        status: "active".to_string(),
        channel_limit: new.channels,
        created_at: crate::clock::system_now_ms(),
    };
    let mut tx = db.begin_write().await?;
    if let Err(e) = db::services::insert(&mut *tx, &service).await {
        return Err(if db::is_unique_violation(&e) {
            ServiceError::DuplicateName(service.name)
        } else {
            e.into()
        });
    }
    db::audit::insert(
        &mut *tx,
        service.created_at,
        &NewAuditEntry {
            actor_user_id: actor.user_id,
            actor_label: actor.label,
            org_id: Some(&org.id),
            action: "service.created",
            target: Some(&service.id),
            details: json!({"after": {
                "kind": service.kind, "name": service.name, "country": service.country,
                "channel_limit": service.channel_limit, "status": service.status,
            }}),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(service)
}
