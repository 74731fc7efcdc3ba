//! Queries of the `emergency_addresses` table: an organisation's civic addresses for
//! emergency calls, each read with the count of numbers using it.

use sqlx::{any::AnyRow, Any, Executor, Row};

/// The fields of an address a customer writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressFields {
    /// The customer's name for it.
    pub label: String,
    /// Street.
    pub street: String,
    /// House number.
    pub house_number: String,
    /// Postal code.
    pub postal_code: String,
    /// City.
    pub city: String,
    /// Region; may be empty.
    pub region: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

/// An address as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressRow {
    /// Opaque id (UUID).
    pub id: String,
    /// What the customer wrote.
    pub fields: AddressFields,
    /// How many numbers use it (any organisation's: only its own can).
    pub numbers_count: i64,
    /// Creation time, UTC ms.
    pub created_at: i64,
    /// Last change, UTC ms.
    pub updated_at: i64,
}

/// The organisation's addresses (`$1`); conditions are appended to it.
const SELECT: &str = "SELECT a.id, a.label, a.street, a.house_number, a.postal_code, a.city, \
     a.region, a.country, a.created_at, a.updated_at, \
     (SELECT COUNT(*) FROM numbers n WHERE n.emergency_address_id = a.id) AS numbers_count \
     FROM emergency_addresses a WHERE a.org_id = $1";

fn from_row(row: &AnyRow) -> Result<AddressRow, sqlx::Error> {
    Ok(AddressRow {
        id: row.try_get("id")?,
        fields: AddressFields {
            label: row.try_get("label")?,
            street: row.try_get("street")?,
            house_number: row.try_get("house_number")?,
            postal_code: row.try_get("postal_code")?,
            city: row.try_get("city")?,
            region: row.try_get("region")?,
            country: row.try_get("country")?,
        },
        numbers_count: row.try_get("numbers_count")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The organisation's addresses, by label (then id).
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<Vec<AddressRow>, sqlx::Error> {
    sqlx::query(&format!("{SELECT} ORDER BY a.label, a.id"))
        .bind(org_id)
        .fetch_all(db)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// The organisation's address with this id.
pub async fn find<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    id: &str,
) -> Result<Option<AddressRow>, sqlx::Error> {
    sqlx::query(&format!("{SELECT} AND a.id = $2"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Whether the organisation has the address with this id.
pub async fn exists<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("SELECT id FROM emergency_addresses WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(id)
            .fetch_optional(db)
            .await?
            .is_some(),
    )
}

/// Stores a new address of the organisation, made at `now`.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    org_id: &str,
    a: &AddressFields,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO emergency_addresses (id, org_id, label, street, house_number, postal_code, \
         city, region, country, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(id)
    .bind(org_id)
    .bind(&a.label)
    .bind(&a.street)
    .bind(&a.house_number)
    .bind(&a.postal_code)
    .bind(&a.city)
    .bind(&a.region)
    .bind(&a.country)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Replaces every field of the organisation's address.
pub async fn update<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    id: &str,
    a: &AddressFields,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE emergency_addresses SET label = $1, street = $2, house_number = $3, \
         postal_code = $4, city = $5, region = $6, country = $7, updated_at = $8 \
         WHERE id = $9 AND org_id = $10",
    )
    .bind(&a.label)
    .bind(&a.street)
    .bind(&a.house_number)
    .bind(&a.postal_code)
    .bind(&a.city)
    .bind(&a.region)
    .bind(&a.country)
    .bind(now)
    .bind(id)
    .bind(org_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes the organisation's address (the numbers' foreign key refuses it while in use).
pub async fn delete<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM emergency_addresses WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(org_id)
        .execute(db)
        .await?;
    Ok(())
}
