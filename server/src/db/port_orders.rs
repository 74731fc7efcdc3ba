//! Queries of the `port_orders` table and its `port_order_numbers` and `port_order_events`:
//! orders that move numbers from another carrier to us, the numbers each moves and every
//! status each went through.

use sqlx::{any::AnyRow, Any, AnyConnection, Executor, Row};

use super::placeholders;

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortOrderRow {
    /// Opaque id (UUID).
    pub id: String,
    /// The carrier the numbers leave.
    pub losing_carrier: String,
    /// The date asked for, UTC midnight in ms.
    pub requested_for: i64,
    /// The firm order commitment date the losing carrier confirmed, UTC ms.
    pub foc_at: Option<i64>,
    /// `draft`, `submitted`, `confirmed`, `completed`, `rejected` or `cancelled`.
    pub status: String,
    /// Creation time, UTC ms.
    pub created_at: i64,
    /// Last change, UTC ms.
    pub updated_at: i64,
}

/// One status an order went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortOrderEvent {
    /// Opaque id (UUID).
    pub id: String,
    /// When, UTC ms.
    pub at: i64,
    /// The order's status from then on.
    pub status: String,
    /// Why (may be empty).
    pub note: String,
    /// Who or what moved it.
    pub actor_label: String,
}

/// An order with its numbers (by E.164) and its events (oldest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortOrderHistory {
    /// The order.
    pub order: PortOrderRow,
    /// The numbers it moves.
    pub numbers: Vec<String>,
    /// Every status it went through.
    pub events: Vec<PortOrderEvent>,
}

/// Statuses in which an order still holds its numbers.
const OPEN: &str = "('draft', 'submitted', 'confirmed')";

/// The organisation's orders (`$1`); conditions are appended to it.
const SELECT: &str = "SELECT id, losing_carrier, requested_for, foc_at, status, created_at, \
     updated_at FROM port_orders WHERE org_id = $1";

fn from_row(row: &AnyRow) -> Result<PortOrderRow, sqlx::Error> {
    Ok(PortOrderRow {
        id: row.try_get("id")?,
        losing_carrier: row.try_get("losing_carrier")?,
        requested_for: row.try_get("requested_for")?,
        foc_at: row.try_get("foc_at")?,
        status: row.try_get("status")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The organisation's orders, newest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<Vec<PortOrderRow>, sqlx::Error> {
    sqlx::query(&format!("{SELECT} ORDER BY created_at DESC, id DESC"))
        .bind(org_id)
        .fetch_all(db)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// The numbers of every order of the organisation, as (order id, E.164), by E.164.
pub async fn numbers_of_org<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query(
        "SELECT pn.port_order_id, pn.e164 FROM port_order_numbers pn \
         JOIN port_orders o ON o.id = pn.port_order_id \
         WHERE o.org_id = $1 ORDER BY pn.e164",
    )
    .bind(org_id)
    .fetch_all(db)
    .await?
    .iter()
    .map(|row| Ok((row.try_get("port_order_id")?, row.try_get("e164")?)))
    .collect()
}

/// The organisation's order with this id, its numbers and its events.
pub async fn find(
    conn: &mut AnyConnection,
    org_id: &str,
    id: &str,
) -> Result<Option<PortOrderHistory>, sqlx::Error> {
    let Some(row) = sqlx::query(&format!("{SELECT} AND id = $2"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let numbers =
        sqlx::query("SELECT e164 FROM port_order_numbers WHERE port_order_id = $1 ORDER BY e164")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get("e164"))
            .collect::<Result<Vec<String>, _>>()?;
    let events = sqlx::query(
        "SELECT id, at, status, note, actor_label FROM port_order_events \
         WHERE port_order_id = $1 ORDER BY at, id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(PortOrderEvent {
            id: r.try_get("id")?,
            at: r.try_get("at")?,
            status: r.try_get("status")?,
            note: r.try_get("note")?,
            actor_label: r.try_get("actor_label")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Some(PortOrderHistory {
        order: from_row(&row)?,
        numbers,
        events,
    }))
}

/// The first (by E.164) of `numbers` that is in an open order (`draft`, `submitted` or
/// `confirmed`) of any organisation.
pub async fn first_in_open_order<'e, E: Executor<'e, Database = Any>>(
    db: E,
    numbers: &[String],
) -> Result<Option<String>, sqlx::Error> {
    let sql = format!(
        "SELECT pn.e164 FROM port_order_numbers pn JOIN port_orders o ON o.id = pn.port_order_id \
         WHERE pn.e164 IN ({}) AND o.status IN {OPEN} ORDER BY pn.e164",
        placeholders(1, numbers.len())
    );
    let mut q = sqlx::query(&sql);
    for n in numbers {
        q = q.bind(n.as_str());
    }
    q.fetch_optional(db)
        .await?
        .map(|row| row.try_get("e164"))
        .transpose()
}

/// A new order, stored as `submitted` (the carrier works from submitted orders).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewPortOrder<'a> {
    /// Opaque id (UUID).
    pub id: &'a str,
    /// The ordering organisation.
    pub org_id: &'a str,
    /// The carrier the numbers leave.
    pub losing_carrier: &'a str,
    /// The date asked for, UTC midnight in ms.
    pub requested_for: i64,
}

/// Stores a `submitted` order made at `now`.
pub async fn insert_submitted<'e, E: Executor<'e, Database = Any>>(
    db: E,
    o: &NewPortOrder<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let state = PortOrderState {
        status: "submitted",
        foc_at: None,
        created_at: now,
        updated_at: now,
    };
    insert(db, o, &state).await
}

/// Where an order stands when it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortOrderState<'a> {
    /// `submitted`, `confirmed`, `completed`, `rejected` or `cancelled`.
    pub status: &'a str,
    /// The firm order commitment date, once the losing carrier confirmed one.
    pub foc_at: Option<i64>,
    /// When it was made.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

/// Stores the order `o` as `state` says (the demo data stores orders at every stage).
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    o: &NewPortOrder<'_>,
    state: &PortOrderState<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO port_orders (id, org_id, losing_carrier, requested_for, status, foc_at, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(o.id)
    .bind(o.org_id)
    .bind(o.losing_carrier)
    .bind(o.requested_for)
    .bind(state.status)
    .bind(state.foc_at)
    .bind(state.created_at)
    .bind(state.updated_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Adds `e164` to the numbers the order moves.
pub async fn insert_number<'e, E: Executor<'e, Database = Any>>(
    db: E,
    order_id: &str,
    e164: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO port_order_numbers (port_order_id, e164) VALUES ($1, $2)")
        .bind(order_id)
        .bind(e164)
        .execute(db)
        .await?;
    Ok(())
}

/// Records that `actor_label` submitted the order at `now` (an event without a note).
pub async fn insert_submitted_event<'e, E: Executor<'e, Database = Any>>(
    db: E,
    order_id: &str,
    now: i64,
    actor_label: &str,
) -> Result<(), sqlx::Error> {
    let event = NewPortOrderEvent {
        id: &uuid::Uuid::new_v4().to_string(),
        order_id,
        at: now,
        status: "submitted",
        note: "",
        actor_label,
    };
    insert_event(db, &event).await
}

/// A step in an order's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewPortOrderEvent<'a> {
    /// Opaque id (UUID).
    pub id: &'a str,
    /// The order.
    pub order_id: &'a str,
    /// When (UTC ms).
    pub at: i64,
    /// The order's status from then on.
    pub status: &'a str,
    /// What the carrier said; may be empty.
    pub note: &'a str,
    /// Who made the step.
    pub actor_label: &'a str,
}

/// Adds `event` to its order's history.
pub async fn insert_event<'e, E: Executor<'e, Database = Any>>(
    db: E,
    event: &NewPortOrderEvent<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO port_order_events (id, port_order_id, at, status, note, actor_label) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(event.id)
    .bind(event.order_id)
    .bind(event.at)
    .bind(event.status)
    .bind(event.note)
    .bind(event.actor_label)
    .execute(db)
    .await?;
    Ok(())
}
