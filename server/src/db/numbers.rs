//! Queries of the `numbers` table: an organisation's phone numbers with the names of their
//! service and emergency address, listed by E.164 under the filters of the numbers page and
//! its CSV export; a number's edit; and what a port order reads and writes of numbers any
//! organisation holds.

use sqlx::{any::AnyRow, Any, Executor, Row};

use super::{bind_all, placeholders, Bind};

/// A number as the organisation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberRow {
    /// E.164 with the leading `+` (the primary key).
    pub e164: String,
    /// `geographic`, `national`, `toll_free` or `mobile`.
    pub number_type: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// `active`, `reserved`, `porting_in`, `porting_out` or `released`.
    pub status: String,
    /// The service it is routed over.
    pub service_id: Option<String>,
    /// That service's name.
    pub service_name: Option<String>,
    /// The customer's label: who or what answers it.
    pub assignment: Option<String>,
    /// It may place emergency calls (and so must have an address).
    pub emergency_calling: bool,
    /// Its emergency address.
    pub emergency_address_id: Option<String>,
    /// That address's label.
    pub emergency_address_label: Option<String>,
    /// Creation time, UTC ms.
    pub created_at: i64,
    /// Last change, UTC ms.
    pub updated_at: i64,
}

/// The organisation's numbers (`$1`); conditions are appended to it.
const SELECT: &str = "SELECT n.e164, n.number_type, n.country, n.status, n.service_id, \
     s.name AS service_name, n.assignment, \
     CAST(CASE WHEN n.emergency_calling THEN 1 ELSE 0 END AS BIGINT) AS emergency_calling, \
     n.emergency_address_id, a.label AS emergency_address_label, n.created_at, n.updated_at \
     FROM numbers n \
     LEFT JOIN services s ON s.id = n.service_id \
     LEFT JOIN emergency_addresses a ON a.id = n.emergency_address_id \
     WHERE n.org_id = $1";

fn from_row(row: &AnyRow) -> Result<NumberRow, sqlx::Error> {
    Ok(NumberRow {
        e164: row.try_get("e164")?,
        number_type: row.try_get("number_type")?,
        country: row.try_get("country")?,
        status: row.try_get("status")?,
        service_id: row.try_get("service_id")?,
        service_name: row.try_get("service_name")?,
        assignment: row.try_get("assignment")?,
        // Cast to an integer in the query, the same type on both engines.
        emergency_calling: row.try_get::<i64, _>("emergency_calling")? != 0,
        emergency_address_id: row.try_get("emergency_address_id")?,
        emergency_address_label: row.try_get("emergency_address_label")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Which numbers to list: every condition that is set applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberFilter {
    /// The E.164 or the assignment label contains this, ignoring case (LIKE's wildcards in it
    /// match only themselves).
    pub text: Option<String>,
    /// This country (ISO 3166-1 alpha-2, upper case).
    pub country: Option<String>,
    /// This status.
    pub status: Option<String>,
    /// Routed over this service.
    pub service_id: Option<String>,
    /// Without an assignment (none, or an empty one).
    pub unassigned: bool,
    /// Without an emergency address.
    pub missing_emergency_address: bool,
    /// After this E.164 (the page cursor).
    pub after: Option<String>,
}

/// `text` as a LIKE pattern, lower case, its wildcards escaped (with `\`).
fn like_pattern(text: &str) -> String {
    let mut p = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The organisation's numbers matching `filter`, and after `chunk_after` when given (the
/// export's chunks, on top of the filter's own cursor), by E.164, at most `limit`.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    filter: &NumberFilter,
    chunk_after: Option<&str>,
    limit: i64,
) -> Result<Vec<NumberRow>, sqlx::Error> {
    // Placeholders are numbered in the order the conditions are added, from `$2` (see db.rs).
    let mut sql = String::from(SELECT);
    let mut binds = vec![Bind::Text(org_id.to_string())];
    let mut add = |sql: &mut String, clause: &str, value: String| {
        binds.push(Bind::Text(value));
        sql.push_str(&clause.replace("{}", &format!("${}", binds.len())));
    };
    if let Some(text) = &filter.text {
        add(
            &mut sql,
            " AND (LOWER(n.e164) LIKE {} ESCAPE '\\' OR LOWER(COALESCE(n.assignment, '')) LIKE {} ESCAPE '\\')",
            like_pattern(text),
        );
    }
    if let Some(country) = &filter.country {
        add(&mut sql, " AND n.country = {}", country.clone());
    }
    if let Some(status) = &filter.status {
        add(&mut sql, " AND n.status = {}", status.clone());
    }
    if let Some(service) = &filter.service_id {
        add(&mut sql, " AND n.service_id = {}", service.clone());
    }
    if filter.unassigned {
        sql.push_str(" AND (n.assignment IS NULL OR n.assignment = '')");
    }
    if filter.missing_emergency_address {
        sql.push_str(" AND n.emergency_address_id IS NULL");
    }
    if let Some(after) = &filter.after {
        add(&mut sql, " AND n.e164 > {}", after.clone());
    }
    if let Some(after) = chunk_after {
        add(&mut sql, " AND n.e164 > {}", after.to_string());
    }
    sql.push_str(&format!(" ORDER BY n.e164 LIMIT {limit}"));
    bind_all(sqlx::query(&sql), &binds)
        .fetch_all(db)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// The organisation's number with this E.164.
pub async fn find<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    e164: &str,
) -> Result<Option<NumberRow>, sqlx::Error> {
    sqlx::query(&format!("{SELECT} AND n.e164 = $2"))
        .bind(org_id)
        .bind(e164)
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// What the organisation says about a number: its assignment label, service and emergency
/// address (`None` clears each).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Assignment<'a> {
    /// Who or what answers it.
    pub assignment: Option<&'a str>,
    /// The service it is routed over.
    pub service_id: Option<&'a str>,
    /// Its emergency address.
    pub emergency_address_id: Option<&'a str>,
}

/// Sets the organisation's number's assignment, service and emergency address.
pub async fn set_assignment<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    e164: &str,
    a: &Assignment<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE numbers SET assignment = $1, service_id = $2, emergency_address_id = $3, \
         updated_at = $4 WHERE e164 = $5 AND org_id = $6",
    )
    .bind(a.assignment)
    .bind(a.service_id)
    .bind(a.emergency_address_id)
    .bind(now)
    .bind(e164)
    .bind(org_id)
    .execute(db)
    .await?;
    Ok(())
}

/// The status of each of `numbers` that is stored, whichever organisation holds it, by
/// E.164 (numbers not stored are left out).
pub async fn statuses<'e, E: Executor<'e, Database = Any>>(
    db: E,
    numbers: &[String],
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let sql = format!(
        "SELECT e164, status FROM numbers WHERE e164 IN ({}) ORDER BY e164",
        placeholders(1, numbers.len())
    );
    let mut q = sqlx::query(&sql);
    for n in numbers {
        q = q.bind(n.as_str());
    }
    q.fetch_all(db)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("e164")?, row.try_get("status")?)))
        .collect()
}

/// A number on its way in through a port order, as stored for the ordering organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortingIn<'a> {
    /// The ordering organisation.
    pub org_id: &'a str,
    /// `geographic`, `national`, `toll_free` or `mobile`.
    pub number_type: &'a str,
    /// ISO 3166-1 alpha-2.
    pub country: &'a str,
    /// The service it will be routed over.
    pub service_id: Option<&'a str>,
}

/// Takes over the row of the released number `e164` as `porting_in` for `p.org_id`, clearing
/// what the previous holder set. False when the number is not (or no longer) released: the
/// condition makes a concurrent order for the same number fail instead of sharing it.
pub async fn take_over_released<'e, E: Executor<'e, Database = Any>>(
    db: E,
    e164: &str,
    p: &PortingIn<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE numbers SET org_id = $1, number_type = $2, country = $3, \
         status = 'porting_in', service_id = $4, assignment = NULL, \
         emergency_calling = FALSE, emergency_address_id = NULL, updated_at = $5 \
         WHERE e164 = $6 AND status = 'released'",
    )
    .bind(p.org_id)
    .bind(p.number_type)
    .bind(p.country)
    .bind(p.service_id)
    .bind(now)
    .bind(e164)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores `e164` as `porting_in` for `p.org_id`; a number stored meanwhile is a unique
/// violation (see [`super::is_unique_violation`]).
pub async fn insert_porting_in<'e, E: Executor<'e, Database = Any>>(
    db: E,
    e164: &str,
    p: &PortingIn<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO numbers (e164, org_id, number_type, country, status, service_id, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, 'porting_in', $5, $6, $6)",
    )
    .bind(e164)
    .bind(p.org_id)
    .bind(p.number_type)
    .bind(p.country)
    .bind(p.service_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// A number stored in any state with everything already set (the demo data; numbers reach
/// customers through porting in production).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewNumber<'a> {
    /// The number in E.164.
    pub e164: &'a str,
    /// The holding organisation.
    pub org_id: &'a str,
    /// `geographic`, `national`, `toll_free` or `mobile`.
    pub number_type: &'a str,
    /// ISO 3166-1 alpha-2.
    pub country: &'a str,
    /// `active`, `reserved`, `porting_in`, `porting_out` or `released`.
    pub status: &'a str,
    /// The service it is routed over.
    pub service_id: Option<&'a str>,
    /// Who or what answers it.
    pub assignment: Option<&'a str>,
    /// Its emergency address; with one, emergency calling is on.
    pub emergency_address_id: Option<&'a str>,
}

/// Stores `n`, made at `created_at`.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    n: &NewNumber<'_>,
    created_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO numbers (e164, org_id, number_type, country, status, service_id, assignment, \
         emergency_calling, emergency_address_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(n.e164)
    .bind(n.org_id)
    .bind(n.number_type)
    .bind(n.country)
    .bind(n.status)
    .bind(n.service_id)
    .bind(n.assignment)
    .bind(n.emergency_address_id.is_some())
    .bind(n.emergency_address_id)
    .bind(created_at)
    .execute(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_in_the_text_match_only_themselves() {
        assert_eq!(like_pattern("Queue 100%_"), "%queue 100\\%\\_%");
        assert_eq!(like_pattern("a\\b"), "%a\\\\b%");
    }
}
