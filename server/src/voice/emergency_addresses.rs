//! An organisation's emergency addresses: creating, replacing and deleting them, each change
//! checked and audited with before and after in its own transaction.

use serde_json::json;

use crate::{
    audit::Acting,
    db::{
        self,
        emergency_addresses::{AddressFields, AddressRow},
        Db,
    },
};

use super::countries;

/// Longest accepted text field, in characters.
pub const MAX_FIELD_CHARS: usize = 200;

/// Why a change to an emergency address was refused. The messages are for the person who
/// asked; the fields are named as the request names them.
#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    /// The organisation has no such address (another organisation's is not told apart).
    #[error("Your organisation has no emergency address with this id.")]
    NotFound,
    /// A required field is empty.
    #[error("An emergency address needs its {}.", .0.replace('_', " "))]
    Missing(&'static str),
    /// A field longer than [`MAX_FIELD_CHARS`].
    #[error("The {} is longer than {} characters.", .0, MAX_FIELD_CHARS)]
    TooLong(&'static str),
    /// A field with control characters.
    #[error("The {0} contains control characters.")]
    ControlCharacters(&'static str),
    /// Not an assigned ISO 3166-1 alpha-2 code (as sent).
    #[error("{0:?} is not an ISO 3166-1 alpha-2 country code (e.g. GB, DE).")]
    InvalidCountry(String),
    /// Numbers (this many) still use the address.
    #[error("{}", in_use_message(*.0))]
    InUse(i64),
    /// Anything the caller cannot fix.
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl From<db::QueryError> for AddressError {
    fn from(e: db::QueryError) -> Self {
        AddressError::Internal(e.into())
    }
}

impl AddressError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            AddressError::NotFound => "not_found",
            AddressError::Missing(_)
            | AddressError::TooLong(_)
            | AddressError::ControlCharacters(_)
            | AddressError::InvalidCountry(_) => "invalid_field",
            AddressError::InUse(_) => "address_in_use",
            AddressError::Internal(_) => "internal",
        }
    }
}

/// "n numbers still use this emergency address; …", in the singular for one.
fn in_use_message(n: i64) -> String {
    format!(
        "{n} number{} still use{} this emergency address; move {} to another address first.",
        if n == 1 { "" } else { "s" },
        if n == 1 { "s" } else { "" },
        if n == 1 { "it" } else { "them" },
    )
}

/// One trimmed text field; `required` refuses an empty one.
/// The length limit counts the value as sent, spaces around it included (as the API's
/// document says, `maxLength`).
fn text(field: &'static str, value: &str, required: bool) -> Result<String, AddressError> {
    if value.chars().count() > MAX_FIELD_CHARS {
        return Err(AddressError::TooLong(field));
    }
    let value = value.trim();
    if required && value.is_empty() {
        return Err(AddressError::Missing(field));
    }
    if value.chars().any(char::is_control) {
        return Err(AddressError::ControlCharacters(field));
    }
    Ok(value.to_string())
}

/// The fields checked and normalised (trimmed, country upper case, label defaulted to the
/// street, house number and city).
pub fn validate(a: &AddressFields) -> Result<AddressFields, AddressError> {
    let street = text("street", &a.street, true)?;
    let house_number = text("house_number", &a.house_number, true)?;
    let postal_code = text("postal_code", &a.postal_code, true)?;
    let city = text("city", &a.city, true)?;
    let region = text("region", &a.region, false)?;
    let country = a.country.trim().to_ascii_uppercase();
    if country.is_empty() {
        return Err(AddressError::Missing("country"));
    }
    if !countries::is_assigned(&country) {
        return Err(AddressError::InvalidCountry(a.country.clone()));
    }
    let mut label = text("label", &a.label, false)?;
    if label.is_empty() {
        label = format!("{street} {house_number}, {city}");
    }
    Ok(AddressFields {
        label,
        street,
        house_number,
        postal_code,
        city,
        region,
        country,
    })
}

/// The audited fields of an address.
fn audit_view(a: &AddressRow) -> serde_json::Value {
    let f = &a.fields;
    json!({
        "label": f.label,
        "street": f.street,
        "house_number": f.house_number,
        "postal_code": f.postal_code,
        "city": f.city,
        "region": f.region,
        "country": f.country,
    })
}

/// Creates an address of the acting organisation from `fields` (checked first) at `now`,
/// with its `emergency_address.created` audit entry in the same transaction.
pub async fn create_address(
    db: &Db,
    acting: &Acting,
    now: i64,
    fields: &AddressFields,
) -> Result<AddressRow, AddressError> {
    let a = validate(fields)?;
    let org_id = acting.org_id.as_str();
    let id = uuid::Uuid::new_v4().to_string();
    let mut tx = db.begin_write().await?;
    db::emergency_addresses::insert(&mut *tx, &id, org_id, &a, now).await?;
    let created = db::emergency_addresses::find(&mut *tx, org_id, &id)
        .await?
        .ok_or(AddressError::NotFound)?;
    acting
        .record(
            &mut *tx,
            now,
            "emergency_address.created",
            Some(&id),
            json!({"before": null, "after": audit_view(&created)}),
        )
        .await?;
    tx.commit().await?;
    Ok(created)
}

/// Replaces every field of the acting organisation's address `id` with `fields` (checked
/// first) at `now`: the address as it was, the update, the address re-read and the
/// `emergency_address.updated` audit entry, in one transaction.
pub async fn update_address(
    db: &Db,
    acting: &Acting,
    now: i64,
    id: &str,
    fields: &AddressFields,
) -> Result<AddressRow, AddressError> {
    let a = validate(fields)?;
    let org_id = acting.org_id.as_str();
    let mut tx = db.begin_write().await?;
    let before = db::emergency_addresses::find(&mut *tx, org_id, id)
        .await?
        .ok_or(AddressError::NotFound)?;
    db::emergency_addresses::update(&mut *tx, org_id, id, &a, now).await?;
    let after = db::emergency_addresses::find(&mut *tx, org_id, id)
        .await?
        .ok_or(AddressError::NotFound)?;
    acting
        .record(
            &mut *tx,
            now,
            "emergency_address.updated",
            Some(id),
            json!({"before": audit_view(&before), "after": audit_view(&after)}),
        )
        .await?;
    tx.commit().await?;
    Ok(after)
}

/// Deletes the acting organisation's address `id`, unless numbers still use it, and answers
/// it as it was; the `emergency_address.deleted` audit entry goes in the same transaction.
pub async fn delete_address(
    db: &Db,
    acting: &Acting,
    now: i64,
    id: &str,
) -> Result<AddressRow, AddressError> {
    let org_id = acting.org_id.as_str();
    let mut tx = db.begin_write().await?;
    let before = db::emergency_addresses::find(&mut *tx, org_id, id)
        .await?
        .ok_or(AddressError::NotFound)?;
    if before.numbers_count > 0 {
        return Err(AddressError::InUse(before.numbers_count));
    }
    db::emergency_addresses::delete(&mut *tx, org_id, id).await?;
    acting
        .record(
            &mut *tx,
            now,
            "emergency_address.deleted",
            Some(id),
            json!({"before": audit_view(&before), "after": null}),
        )
        .await?;
    tx.commit().await?;
    Ok(before)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> AddressFields {
        AddressFields {
            label: String::new(),
            street: " High Street ".into(),
            house_number: "1".into(),
            postal_code: "SW1A 1AA".into(),
            city: "London".into(),
            region: String::new(),
            country: "gb".into(),
        }
    }

    #[test]
    fn fields_are_trimmed_and_the_label_defaulted() {
        let a = validate(&fields()).unwrap_or_default();
        assert_eq!(a.street, "High Street");
        assert_eq!(a.country, "GB");
        assert_eq!(a.label, "High Street 1, London");
    }

    #[test]
    fn refusals_name_the_field_in_words() {
        let e = validate(&AddressFields {
            house_number: " ".into(),
            ..fields()
        });
        assert!(matches!(&e, Err(AddressError::Missing("house_number"))));
        assert_eq!(
            e.map_err(|e| e.to_string()).err().as_deref(),
            Some("An emergency address needs its house number.")
        );
        let e = validate(&AddressFields {
            city: "x".repeat(MAX_FIELD_CHARS + 1),
            ..fields()
        });
        assert_eq!(
            e.map_err(|e| e.to_string()).err().as_deref(),
            Some("The city is longer than 200 characters.")
        );
        let e = validate(&AddressFields {
            country: "XX".into(),
            ..fields()
        });
        assert_eq!(
            e.map_err(|e| e.to_string()).err().as_deref(),
            Some("\"XX\" is not an ISO 3166-1 alpha-2 country code (e.g. GB, DE).")
        );
    }

    #[test]
    fn an_address_in_use_says_by_how_many() {
        assert_eq!(
            AddressError::InUse(1).to_string(),
            "1 number still uses this emergency address; move it to another address first."
        );
        assert_eq!(
            AddressError::InUse(2).to_string(),
            "2 numbers still use this emergency address; move them to another address first."
        );
    }
}
