//! Changing a number: its assignment label, the service it is routed over and its emergency
//! address, checked against the organisation's own services and addresses and audited with
//! before and after.

use serde_json::json;

use crate::{
    audit::Acting,
    db::{
        self,
        numbers::{Assignment, NumberRow},
        Db,
    },
};

/// Longest accepted assignment label, in characters.
pub const MAX_ASSIGNMENT_CHARS: usize = 256;

/// Why a change to a number was refused. The messages are for the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum NumberError {
    /// The organisation has no such number (another organisation's is not told apart).
    #[error("Your organisation has no number with this E.164.")]
    NotFound,
    /// An empty label: `null` clears it.
    #[error("The assignment is empty; send null to clear it.")]
    EmptyAssignment,
    /// A label longer than [`MAX_ASSIGNMENT_CHARS`].
    #[error("The assignment is longer than {} characters.", MAX_ASSIGNMENT_CHARS)]
    AssignmentTooLong,
    /// A label with control characters.
    #[error("The assignment contains control characters.")]
    AssignmentControlCharacters,
    /// The service is not the organisation's.
    #[error("Your organisation has no service with this id.")]
    UnknownService,
    /// The emergency address is not the organisation's.
    #[error("Your organisation has no emergency address with this id.")]
    UnknownEmergencyAddress,
    /// Clearing the address of a number that may place emergency calls.
    #[error("This number can place emergency calls, so it needs an emergency address.")]
    EmergencyAddressRequired,
    /// Anything the caller cannot fix.
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl From<db::QueryError> for NumberError {
    fn from(e: db::QueryError) -> Self {
        NumberError::Internal(e.into())
    }
}

impl NumberError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            NumberError::NotFound => "not_found",
            NumberError::EmptyAssignment
            | NumberError::AssignmentTooLong
            | NumberError::AssignmentControlCharacters => "invalid_assignment",
            NumberError::UnknownService => "unknown_service",
            NumberError::UnknownEmergencyAddress => "unknown_emergency_address",
            NumberError::EmergencyAddressRequired => "emergency_address_required",
            NumberError::Internal(_) => "internal",
        }
    }
}

/// A change to a number: a field left `None` stays, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberChanges {
    /// Who or what answers it.
    pub assignment: Option<Option<String>>,
    /// The organisation's service it is routed over.
    pub service_id: Option<Option<String>>,
    /// The organisation's emergency address.
    pub emergency_address_id: Option<Option<String>>,
}

/// The assignment label checked: trimmed, not empty (clearing is `None`), bounded.
fn valid_assignment(a: &str) -> Result<String, NumberError> {
    let a = a.trim();
    if a.is_empty() {
        return Err(NumberError::EmptyAssignment);
    }
    if a.chars().count() > MAX_ASSIGNMENT_CHARS {
        return Err(NumberError::AssignmentTooLong);
    }
    if a.chars().any(char::is_control) {
        return Err(NumberError::AssignmentControlCharacters);
    }
    Ok(a.to_string())
}

/// The audited fields of a number.
fn audit_view(n: &NumberRow) -> serde_json::Value {
    json!({
        "assignment": n.assignment,
        "service_id": n.service_id,
        "emergency_address_id": n.emergency_address_id,
    })
}

/// Applies `changes` to the acting organisation's number `e164` at `now` and answers it as
/// changed. In one transaction: the number as it was, the checks that the service and the
/// address are the organisation's and that a number able to place emergency calls keeps an
/// address, the update, the number re-read, and the `number.updated` audit entry.
pub async fn update_number(
    db: &Db,
    acting: &Acting,
    now: i64,
    e164: &str,
    changes: &NumberChanges,
) -> Result<NumberRow, NumberError> {
    let assignment = match &changes.assignment {
        Some(Some(a)) => Some(Some(valid_assignment(a)?)),
        Some(None) => Some(None),
        None => None,
    };
    let org_id = acting.org_id.as_str();
    let mut tx = db.begin_write().await?;
    let before = db::numbers::find(&mut *tx, org_id, e164)
        .await?
        .ok_or(NumberError::NotFound)?;
    if let Some(Some(service_id)) = &changes.service_id {
        if !db::services::org_has_service(&mut *tx, org_id, service_id).await? {
            return Err(NumberError::UnknownService);
        }
    }
    if let Some(Some(address_id)) = &changes.emergency_address_id {
        if !db::emergency_addresses::exists(&mut *tx, org_id, address_id).await? {
            return Err(NumberError::UnknownEmergencyAddress);
        }
    }
    if matches!(changes.emergency_address_id, Some(None)) && before.emergency_calling {
        return Err(NumberError::EmergencyAddressRequired);
    }
    let assignment = assignment.unwrap_or_else(|| before.assignment.clone());
    let service_id = changes
        .service_id
        .clone()
        .unwrap_or_else(|| before.service_id.clone());
    let address_id = changes
        .emergency_address_id
        .clone()
        .unwrap_or_else(|| before.emergency_address_id.clone());
    db::numbers::set_assignment(
        &mut *tx,
        org_id,
        e164,
        &Assignment {
            assignment: assignment.as_deref(),
            service_id: service_id.as_deref(),
            emergency_address_id: address_id.as_deref(),
        },
        now,
    )
    .await?;
    let after = db::numbers::find(&mut *tx, org_id, e164)
        .await?
        .ok_or(NumberError::NotFound)?;
    acting
        .record(
            &mut *tx,
            now,
            "number.updated",
            Some(e164),
            json!({"before": audit_view(&before), "after": audit_view(&after)}),
        )
        .await?;
    tx.commit().await?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_are_trimmed_and_bounded() {
        assert_eq!(
            valid_assignment(" Reception ").ok().as_deref(),
            Some("Reception")
        );
        assert!(matches!(
            valid_assignment("  "),
            Err(NumberError::EmptyAssignment)
        ));
        assert!(matches!(
            valid_assignment("a\u{7}b"),
            Err(NumberError::AssignmentControlCharacters)
        ));
        let long = valid_assignment(&"x".repeat(MAX_ASSIGNMENT_CHARS + 1));
        assert_eq!(
            long.map_err(|e| e.to_string()).err().as_deref(),
            Some("The assignment is longer than 256 characters.")
        );
    }
}
