//! Porting orders: moving numbers from another carrier (the losing carrier) to us.
//!
//! An order is submitted in one transaction: the order as `submitted`, its numbers, its first
//! event, one `porting_in` row per number in `numbers` (so the numbers page shows them, with
//! the service they will be routed over) and the `port_order.created` audit entry.
//!
//! A number may not be ported in while it is held on our network (any organisation's number
//! other than a released one) or while it is in another open order (`draft`, `submitted` or
//! `confirmed`); the refusal names the number, never whose it is. A released number's row is
//! taken over.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use crate::{
    audit::Acting,
    db::{
        self,
        numbers::PortingIn,
        port_orders::{NewPortOrder, PortOrderHistory, PortOrderRow},
        Db,
    },
};

use super::{cdr::is_e164, countries};

/// A day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;
/// The most numbers one order may move.
pub const MAX_NUMBERS: usize = 100;
/// The longest losing carrier name, in characters.
pub const MAX_CARRIER_CHARS: usize = 200;
/// How far ahead a requested date may lie.
pub const MAX_DAYS_AHEAD: i64 = 365;
/// The kinds of number an order may move.
pub const NUMBER_TYPES: [&str; 4] = ["geographic", "national", "toll_free", "mobile"];

/// Why an order was refused. The messages are for the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum PortOrderError {
    /// The organisation has no such order (another organisation's is not told apart).
    #[error("Your organisation has no porting order with this id.")]
    NotFound,
    /// No numbers listed.
    #[error("List at least one number to port.")]
    NoNumbers,
    /// More than [`MAX_NUMBERS`] numbers.
    #[error(
        "One order may port at most {} numbers; split the request.",
        MAX_NUMBERS
    )]
    TooManyNumbers,
    /// A number that is not E.164 (trimmed, as sent).
    #[error("{0:?} is not an E.164 number: + and 8 to 15 digits, e.g. +442079460000.")]
    NotE164(String),
    /// A number listed twice.
    #[error("{0} is listed more than once.")]
    DuplicateNumber(String),
    /// No losing carrier.
    #[error("Name the carrier the numbers are with now (the losing carrier).")]
    NoCarrier,
    /// A losing carrier longer than [`MAX_CARRIER_CHARS`].
    #[error("The losing carrier is longer than {} characters.", MAX_CARRIER_CHARS)]
    CarrierTooLong,
    /// A losing carrier with control characters.
    #[error("The losing carrier contains control characters.")]
    CarrierControlCharacters,
    /// The requested date (as sent) is not `YYYY-MM-DD`.
    #[error("requested_for: {0:?} is not a date written YYYY-MM-DD.")]
    InvalidDate(String),
    /// The requested date is before today (the `YYYY-MM-DD` of today).
    #[error("requested_for is in the past; ask for {0} or later.")]
    DateInPast(String),
    /// The requested date is more than [`MAX_DAYS_AHEAD`] days ahead.
    #[error("requested_for may be at most {} days ahead.", MAX_DAYS_AHEAD)]
    DateTooFar,
    /// Not an assigned ISO 3166-1 alpha-2 code.
    #[error("country must be an ISO 3166-1 alpha-2 code (e.g. GB, DE).")]
    InvalidCountry,
    /// Not one of [`NUMBER_TYPES`].
    #[error("number_type must be one of {}.", NUMBER_TYPES.join(", "))]
    InvalidNumberType,
    /// The service is not the organisation's.
    #[error("Your organisation has no service with this id.")]
    UnknownService,
    /// The number is in another open order.
    #[error("{0} is already in an open porting order.")]
    NumberInOpenOrder(String),
    /// The number is held on our network.
    #[error("{0} is already a number on our network; it cannot be ported in.")]
    NumberInUse(String),
    /// Anything the caller cannot fix.
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl From<db::QueryError> for PortOrderError {
    fn from(e: db::QueryError) -> Self {
        PortOrderError::Internal(e.into())
    }
}

impl PortOrderError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            PortOrderError::NotFound => "not_found",
            PortOrderError::NoNumbers
            | PortOrderError::TooManyNumbers
            | PortOrderError::NotE164(_)
            | PortOrderError::DuplicateNumber(_)
            | PortOrderError::NoCarrier
            | PortOrderError::CarrierTooLong
            | PortOrderError::CarrierControlCharacters
            | PortOrderError::InvalidDate(_)
            | PortOrderError::DateInPast(_)
            | PortOrderError::DateTooFar
            | PortOrderError::InvalidCountry
            | PortOrderError::InvalidNumberType => "invalid_field",
            PortOrderError::UnknownService => "unknown_service",
            PortOrderError::NumberInOpenOrder(_) => "number_in_open_order",
            PortOrderError::NumberInUse(_) => "number_in_use",
            PortOrderError::Internal(_) => "internal",
        }
    }
}

/// `YYYY-MM-DD` of the UTC day holding `ms`.
pub fn date_of(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| t.date().to_string())
        .unwrap_or_default()
}

/// Whether an order in `status` still holds its numbers (the statuses `db::port_orders`
/// calls open).
pub fn is_open(status: &str) -> bool {
    matches!(status, "draft" | "submitted" | "confirmed")
}

/// An order as asked for, before any check.
#[derive(Debug, Clone, Copy)]
pub struct PortOrderRequest<'a> {
    /// 1 to [`MAX_NUMBERS`] numbers in E.164, each once.
    pub numbers: &'a [String],
    /// The carrier the numbers leave.
    pub losing_carrier: &'a str,
    /// The date asked for, `YYYY-MM-DD`.
    pub requested_for: &'a str,
    /// ISO 3166-1 alpha-2 (either case).
    pub country: &'a str,
    /// One of [`NUMBER_TYPES`]; `geographic` when not given.
    pub number_type: Option<&'a str>,
    /// One of the organisation's services to route the numbers over once ported.
    pub service_id: Option<&'a str>,
}

/// A request after the checks that need no database.
struct NewOrder {
    numbers: Vec<String>,
    losing_carrier: String,
    requested_for: i64,
    country: String,
    number_type: String,
    service_id: Option<String>,
}

/// Checks every field of `req`; `today` is the UTC midnight of the current day.
fn validate(req: &PortOrderRequest<'_>, today: i64) -> Result<NewOrder, PortOrderError> {
    if req.numbers.is_empty() {
        return Err(PortOrderError::NoNumbers);
    }
    if req.numbers.len() > MAX_NUMBERS {
        return Err(PortOrderError::TooManyNumbers);
    }
    let mut seen = HashSet::new();
    let mut numbers = Vec::with_capacity(req.numbers.len());
    for n in req.numbers {
        let n = n.trim();
        if !is_e164(n) {
            return Err(PortOrderError::NotE164(n.to_string()));
        }
        if !seen.insert(n) {
            return Err(PortOrderError::DuplicateNumber(n.to_string()));
        }
        numbers.push(n.to_string());
    }
    let carrier = req.losing_carrier.trim();
    if carrier.is_empty() {
        return Err(PortOrderError::NoCarrier);
    }
    // As sent, spaces included: the API's document says `maxLength`.
    if req.losing_carrier.chars().count() > MAX_CARRIER_CHARS {
        return Err(PortOrderError::CarrierTooLong);
    }
    if carrier.chars().any(char::is_control) {
        return Err(PortOrderError::CarrierControlCharacters);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(req.requested_for.trim(), &format)
        .map_err(|_| PortOrderError::InvalidDate(req.requested_for.to_string()))?;
    let requested_for = date.midnight().assume_utc().unix_timestamp() * 1000;
    if requested_for < today {
        return Err(PortOrderError::DateInPast(date_of(today)));
    }
    if requested_for > today + MAX_DAYS_AHEAD * DAY_MS {
        return Err(PortOrderError::DateTooFar);
    }
    let country = req.country.trim().to_ascii_uppercase();
    if !countries::is_assigned(&country) {
        return Err(PortOrderError::InvalidCountry);
    }
    let number_type = req.number_type.unwrap_or("geographic");
    if !NUMBER_TYPES.contains(&number_type) {
        return Err(PortOrderError::InvalidNumberType);
    }
    Ok(NewOrder {
        numbers,
        losing_carrier: carrier.to_string(),
        requested_for,
        country,
        number_type: number_type.to_string(),
        service_id: req.service_id.map(str::to_string),
    })
}

/// Refuses numbers in another open order or held on our network; returns the numbers that
/// have a released row to take over.
async fn check_numbers(
    conn: &mut sqlx::AnyConnection,
    numbers: &[String],
) -> Result<HashSet<String>, PortOrderError> {
    if let Some(e164) = db::port_orders::first_in_open_order(&mut *conn, numbers).await? {
        return Err(PortOrderError::NumberInOpenOrder(e164));
    }
    let mut released = HashSet::new();
    for (e164, status) in db::numbers::statuses(&mut *conn, numbers).await? {
        if status != "released" {
            return Err(PortOrderError::NumberInUse(e164));
        }
        released.insert(e164);
    }
    Ok(released)
}

/// The organisation's orders, newest first, each with its numbers by E.164.
pub async fn list(
    db: &Db,
    org_id: &str,
) -> Result<Vec<(PortOrderRow, Vec<String>)>, db::QueryError> {
    let orders = db::port_orders::list(db.pool(), org_id).await?;
    let mut numbers: HashMap<String, Vec<String>> = HashMap::new();
    for (order_id, e164) in db::port_orders::numbers_of_org(db.pool(), org_id).await? {
        numbers.entry(order_id).or_default().push(e164);
    }
    Ok(orders
        .into_iter()
        .map(|order| {
            let numbers = numbers.remove(&order.id).unwrap_or_default();
            (order, numbers)
        })
        .collect())
}

/// The organisation's order with this id, with its numbers and its whole history.
pub async fn find(
    db: &Db,
    org_id: &str,
    id: &str,
) -> Result<Option<PortOrderHistory>, db::QueryError> {
    let mut conn = db.pool().acquire().await?;
    db::port_orders::find(&mut conn, org_id, id).await
}

/// Submits an order of the acting organisation at `now` (see the module documentation) and
/// answers it as stored, with its numbers and first event.
pub async fn create_port_order(
    db: &Db,
    acting: &Acting,
    now: i64,
    req: &PortOrderRequest<'_>,
) -> Result<PortOrderHistory, PortOrderError> {
    let order = validate(req, now.div_euclid(DAY_MS) * DAY_MS)?;
    let org_id = acting.org_id.as_str();
    let mut tx = db.begin_write().await?;
    if let Some(service_id) = &order.service_id {
        if !db::services::org_has_service(&mut *tx, org_id, service_id).await? {
            return Err(PortOrderError::UnknownService);
        }
    }
    let released = check_numbers(&mut tx, &order.numbers).await?;
    let id = uuid::Uuid::new_v4().to_string();
    db::port_orders::insert_submitted(
        &mut *tx,
        &NewPortOrder {
            id: &id,
            org_id,
            losing_carrier: &order.losing_carrier,
            requested_for: order.requested_for,
        },
        now,
    )
    .await?;
    let porting = PortingIn {
        org_id,
        number_type: &order.number_type,
        country: &order.country,
        service_id: order.service_id.as_deref(),
    };
    for e164 in &order.numbers {
        db::port_orders::insert_number(&mut *tx, &id, e164).await?;
        if released.contains(e164) {
            // Fails, rather than sharing the number, when a concurrent order took it over.
            if !db::numbers::take_over_released(&mut *tx, e164, &porting, now).await? {
                return Err(PortOrderError::NumberInUse(e164.clone()));
            }
        } else {
            match db::numbers::insert_porting_in(&mut *tx, e164, &porting, now).await {
                Ok(()) => {}
                // Stored meanwhile by a concurrent request.
                Err(e) if db::is_unique_violation(&e) => {
                    return Err(PortOrderError::NumberInUse(e164.clone()))
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    db::port_orders::insert_submitted_event(&mut *tx, &id, now, &acting.label).await?;
    let created = db::port_orders::find(&mut tx, org_id, &id)
        .await?
        .ok_or(PortOrderError::NotFound)?;
    acting
        .record(
            &mut *tx,
            now,
            "port_order.created",
            Some(&id),
            json!({
                "before": null,
                "after": {
                    "losing_carrier": created.order.losing_carrier,
                    "requested_for": date_of(created.order.requested_for),
                    "status": created.order.status,
                    "numbers": created.numbers,
                    "country": order.country,
                    "number_type": order.number_type,
                    "service_id": order.service_id,
                },
            }),
        )
        .await?;
    tx.commit().await?;
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: i64 = 1_767_225_600_000; // 2026-01-01

    fn request<'a>(numbers: &'a [String], requested_for: &'a str) -> PortOrderRequest<'a> {
        PortOrderRequest {
            numbers,
            losing_carrier: " Old Telco ",
            requested_for,
            country: "gb",
            number_type: None,
            service_id: None,
        }
    }

    fn refusal(r: Result<NewOrder, PortOrderError>) -> Option<String> {
        r.err().map(|e| e.to_string())
    }

    #[test]
    fn a_good_request_is_normalised() {
        let numbers = vec![" +442079460000 ".to_string()];
        let order = validate(&request(&numbers, "2026-02-01"), TODAY);
        assert!(matches!(
            order,
            Ok(NewOrder { ref numbers, ref losing_carrier, ref country, ref number_type, .. })
                if numbers == &["+442079460000"] && losing_carrier == "Old Telco"
                    && country == "GB" && number_type == "geographic"
        ));
    }

    #[test]
    fn refusals_say_what_to_change() {
        let numbers = vec!["+442079460000".to_string(), "+442079460000".to_string()];
        assert_eq!(
            refusal(validate(&request(&numbers, "2026-02-01"), TODAY)).as_deref(),
            Some("+442079460000 is listed more than once.")
        );
        let numbers = vec!["+442079460000".to_string()];
        assert_eq!(
            refusal(validate(&request(&numbers, "2025-12-31"), TODAY)).as_deref(),
            Some("requested_for is in the past; ask for 2026-01-01 or later.")
        );
        assert_eq!(
            refusal(validate(
                &PortOrderRequest {
                    number_type: Some("premium"),
                    ..request(&numbers, "2026-02-01")
                },
                TODAY
            ))
            .as_deref(),
            Some("number_type must be one of geographic, national, toll_free, mobile.")
        );
        assert_eq!(
            PortOrderError::TooManyNumbers.to_string(),
            "One order may port at most 100 numbers; split the request."
        );
    }
}
