//! Queries of the `incidents` and `incident_updates` tables: the carrier's incidents and
//! planned maintenance, and their public timelines.

use sqlx::{any::AnyRow, Any, Executor, Row};

use super::{bind_all, placeholders, Bind};

/// The statuses after which nothing more happens.
const CLOSED: &str = "('resolved', 'completed', 'cancelled')";

/// Which statuses [`list_for_org`] keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusFilter {
    /// Not yet resolved, completed or cancelled.
    Open,
    /// Resolved, completed or cancelled.
    Closed,
    /// Exactly this status of the schema.
    Is(String),
}

/// The conditions of [`list_for_org`], each optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentFilter {
    /// Open, closed or one status.
    pub status: Option<StatusFilter>,
    /// `incident` or `maintenance`.
    pub kind: Option<String>,
    /// Still going on at or after this time (UTC ms): open-ended ones always are.
    pub from: Option<i64>,
    /// Starting before this time (UTC ms).
    pub to: Option<i64>,
}

/// An incident as listed for an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRow {
    /// Its id.
    pub id: String,
    /// `incident` or `maintenance`.
    pub kind: String,
    /// `global`, `service` or `country`.
    pub scope: String,
    /// The service concerned, for the `service` scope.
    pub service_id: Option<String>,
    /// That service's name (the organisation's own services only).
    pub service_name: Option<String>,
    /// The country concerned, for the `country` scope.
    pub country: Option<String>,
    /// Its title.
    pub title: String,
    /// One status of the schema.
    pub status: String,
    /// Start, UTC ms.
    pub starts_at: i64,
    /// End, UTC ms; `None` while open-ended.
    pub ends_at: Option<i64>,
    /// Creation time, UTC ms.
    pub created_at: i64,
    /// Last change, UTC ms.
    pub updated_at: i64,
}

/// The incidents that concern the organisation `$1`. The service join keeps only the
/// organisation's own services, so a service-scoped row of another customer fails every
/// branch of the scope test.
const SELECT: &str = "SELECT i.id, i.kind, i.scope, i.service_id, s.name AS service_name, \
     i.country, i.title, i.status, i.starts_at, i.ends_at, i.created_at, i.updated_at \
     FROM incidents i \
     LEFT JOIN services s ON s.id = i.service_id AND s.org_id = $1 \
     WHERE (i.scope = 'global' \
       OR (i.scope = 'service' AND s.id IS NOT NULL) \
       OR (i.scope = 'country' AND (\
         EXISTS (SELECT 1 FROM services so WHERE so.org_id = $1 AND so.country = i.country) \
         OR EXISTS (SELECT 1 FROM numbers n WHERE n.org_id = $1 AND n.country = i.country \
                    AND n.status <> 'released'))))";

fn from_row(row: &AnyRow) -> Result<IncidentRow, sqlx::Error> {
    Ok(IncidentRow {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        scope: row.try_get("scope")?,
        service_id: row.try_get("service_id")?,
        service_name: row.try_get("service_name")?,
        country: row.try_get("country")?,
        title: row.try_get("title")?,
        status: row.try_get("status")?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The incidents that concern the organisation (global ones, its services', and those of a
/// country where it has a service or holds a number that is not released) and meet
/// `filter`, newest first by (start, id), at most `limit`.
pub async fn list_for_org<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    filter: &IncidentFilter,
    limit: i64,
) -> Result<Vec<IncidentRow>, sqlx::Error> {
    // Placeholders are numbered in the order the conditions are added, after the
    // organisation's `$1` (see db.rs).
    let mut sql = String::from(SELECT);
    let mut binds = vec![Bind::Text(org_id.to_string())];
    let mut add = |sql: &mut String, condition: &str, value: Option<Bind>| {
        sql.push_str(" AND ");
        match value {
            Some(value) => {
                binds.push(value);
                sql.push_str(&condition.replace('?', &format!("${}", binds.len())));
            }
            None => sql.push_str(condition),
        }
    };
    match &filter.status {
        Some(StatusFilter::Open) => add(&mut sql, &format!("i.status NOT IN {CLOSED}"), None),
        Some(StatusFilter::Closed) => add(&mut sql, &format!("i.status IN {CLOSED}"), None),
        Some(StatusFilter::Is(s)) => add(&mut sql, "i.status = ?", Some(Bind::Text(s.clone()))),
        None => {}
    }
    if let Some(kind) = &filter.kind {
        add(&mut sql, "i.kind = ?", Some(Bind::Text(kind.clone())));
    }
    if let Some(from) = filter.from {
        // Still going on at `from`: open-ended, or ending at or after it.
        add(
            &mut sql,
            "(i.ends_at IS NULL OR i.ends_at >= ?)",
            Some(Bind::Int(from)),
        );
    }
    if let Some(to) = filter.to {
        add(&mut sql, "i.starts_at < ?", Some(Bind::Int(to)));
    }
    binds.push(Bind::Int(limit));
    sql.push_str(&format!(
        " ORDER BY i.starts_at DESC, i.id DESC LIMIT ${}",
        binds.len()
    ));
    bind_all(sqlx::query(&sql), &binds)
        .fetch_all(db)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// One entry of an incident's public timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentUpdateRow {
    /// Its id.
    pub id: String,
    /// The incident it belongs to.
    pub incident_id: String,
    /// When it was posted, UTC ms.
    pub posted_at: i64,
    /// The incident's status it announced.
    pub status: String,
    /// The text.
    pub body: String,
}

/// The timelines of the incidents `incident_ids` (none for an empty list), in one query,
/// oldest first by (posted, id).
pub async fn updates_of<'e, E: Executor<'e, Database = Any>>(
    db: E,
    incident_ids: &[String],
) -> Result<Vec<IncidentUpdateRow>, sqlx::Error> {
    if incident_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, incident_id, posted_at, status, body FROM incident_updates \
         WHERE incident_id IN ({}) ORDER BY posted_at, id",
        placeholders(1, incident_ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in incident_ids {
        query = query.bind(id.as_str());
    }
    query
        .fetch_all(db)
        .await?
        .iter()
        .map(|row| {
            Ok(IncidentUpdateRow {
                id: row.try_get("id")?,
                incident_id: row.try_get("incident_id")?,
                posted_at: row.try_get("posted_at")?,
                status: row.try_get("status")?,
                body: row.try_get("body")?,
            })
        })
        .collect()
}

/// An incident or maintenance as the carrier posts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewIncident<'a> {
    /// Opaque id (UUID).
    pub id: &'a str,
    /// `incident` or `maintenance`.
    pub kind: &'a str,
    /// `global`, `country` or `service`.
    pub scope: &'a str,
    /// The service, for the `service` scope.
    pub service_id: Option<&'a str>,
    /// ISO 3166-1 alpha-2, for the `country` scope.
    pub country: Option<&'a str>,
    /// The headline.
    pub title: &'a str,
    /// Its status now.
    pub status: &'a str,
    /// When it started or starts (UTC ms).
    pub starts_at: i64,
    /// When it ended or ends, if known.
    pub ends_at: Option<i64>,
}

/// Stores an incident posted at `created_at`.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    i: &NewIncident<'_>,
    created_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO incidents (id, kind, scope, service_id, country, title, status, starts_at, \
         ends_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(i.id)
    .bind(i.kind)
    .bind(i.scope)
    .bind(i.service_id)
    .bind(i.country)
    .bind(i.title)
    .bind(i.status)
    .bind(i.starts_at)
    .bind(i.ends_at)
    .bind(created_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Adds an update to the timeline of the incident `incident_id`.
pub async fn insert_update<'e, E: Executor<'e, Database = Any>>(
    db: E,
    update: &IncidentUpdateRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO incident_updates (id, incident_id, posted_at, status, body) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&update.id)
    .bind(&update.incident_id)
    .bind(update.posted_at)
    .bind(&update.status)
    .bind(&update.body)
    .execute(db)
    .await?;
    Ok(())
}
