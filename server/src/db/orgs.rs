//! Queries of the `organisations` table.

use sqlx::{any::AnyRow, Any, Executor, Row};

/// A customer organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// Opaque id (UUID).
    pub id: String,
    /// Short identifier used in URLs and commands.
    pub slug: String,
    /// The customer's name.
    pub name: String,
    /// Creation time, UTC ms.
    pub created_at: i64,
    /// Password sign-ins must use a second factor.
    pub mfa_required: bool,
    /// Which second factors count for password sign-ins (at least one stays allowed).
    pub mfa_methods: MfaMethods,
    /// Carrier staff turned single sign-on on for this customer.
    pub sso_enabled: bool,
    /// Unknown users of a linked tenant are provisioned at their first sign-in.
    pub sso_jit: bool,
    /// The role such users get.
    pub sso_default_role: String,
    /// Password sign-in is off for the customer's users.
    pub sso_required: bool,
    /// What an SSO sign-in without multi-factor evidence gets: `off` (trusted), `portal_factor`
    /// (the portal's own authenticator code as well) or `required` (refused).
    pub sso_mfa_evidence: String,
    /// The Conditional Access authentication context (`c1` … `c99`) that counts as evidence.
    pub sso_auth_context: Option<String>,
}

/// The second factors an organisation lets count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaMethods {
    /// An authenticator app (TOTP).
    pub totp: bool,
    /// A code sent by e-mail.
    pub email: bool,
}

impl MfaMethods {
    /// Every method: the default.
    pub const ALL: MfaMethods = MfaMethods {
        totp: true,
        email: true,
    };
}

impl Organisation {
    /// A new organisation with the default settings (no MFA policy, SSO off).
    pub fn new(id: String, slug: String, name: String, created_at: i64) -> Organisation {
        Organisation {
            id,
            slug,
            name,
            created_at,
            mfa_required: false,
            mfa_methods: MfaMethods::ALL,
            sso_enabled: false,
            sso_jit: true,
            sso_default_role: "viewer".to_string(),
            sso_required: false,
            sso_mfa_evidence: "off".to_string(),
            sso_auth_context: None,
        }
    }
}

const COLUMNS: &str = "id, slug, name, created_at, mfa_required, mfa_totp_allowed, mfa_email_allowed, sso_enabled, sso_jit, \
     sso_default_role, sso_required, sso_mfa_evidence, sso_auth_context";

fn from_row(row: &AnyRow) -> Result<Organisation, sqlx::Error> {
    Ok(Organisation {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        mfa_required: super::flag(row, "mfa_required")?,
        mfa_methods: MfaMethods {
            totp: super::flag(row, "mfa_totp_allowed")?,
            email: super::flag(row, "mfa_email_allowed")?,
        },
        sso_enabled: super::flag(row, "sso_enabled")?,
        sso_jit: super::flag(row, "sso_jit")?,
        sso_default_role: row.try_get("sso_default_role")?,
        sso_required: super::flag(row, "sso_required")?,
        sso_mfa_evidence: row.try_get("sso_mfa_evidence")?,
        sso_auth_context: row.try_get("sso_auth_context")?,
    })
}

/// Inserts an organisation; a duplicate slug is a unique violation.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org: &Organisation,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO organisations (id, slug, name, created_at, mfa_required) VALUES ($1, $2, $3, $4, $5)")
        .bind(&org.id)
        .bind(&org.slug)
        .bind(&org.name)
        .bind(org.created_at)
        .bind(org.mfa_required)
        .execute(db)
        .await?;
    Ok(())
}

/// The organisation with this slug.
pub async fn find_by_slug<'e, E: Executor<'e, Database = Any>>(
    db: E,
    slug: &str,
) -> Result<Option<Organisation>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM organisations WHERE slug = $1"
    ))
    .bind(slug)
    .fetch_optional(db)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// The organisation with this id.
pub async fn find_by_id<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
) -> Result<Option<Organisation>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM organisations WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// Sets which second factors count; returns whether the row exists.
pub async fn set_mfa_methods<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    methods: MfaMethods,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE organisations SET mfa_totp_allowed = $1, mfa_email_allowed = $2 WHERE id = $3",
    )
    .bind(methods.totp)
    .bind(methods.email)
    .bind(id)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Sets the "MFA required for password sign-ins" policy; returns whether the row exists.
pub async fn set_mfa_required<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    required: bool,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE organisations SET mfa_required = $1 WHERE id = $2")
        .bind(required)
        .bind(id)
        .execute(db)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Every organisation, by name.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    db: E,
) -> Result<Vec<Organisation>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM organisations ORDER BY name, slug"
    ))
    .fetch_all(db)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Turns single sign-on on or off (carrier staff).
pub async fn set_sso_enabled<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    enabled: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE organisations SET sso_enabled = $1 WHERE id = $2")
        .bind(enabled)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Sets the customer's own SSO choices.
pub async fn set_sso_settings<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    jit: bool,
    default_role: &str,
    required: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE organisations SET sso_jit = $1, sso_default_role = $2, sso_required = $3 WHERE id = $4",
    )
    .bind(jit)
    .bind(default_role)
    .bind(required)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Sets what an SSO sign-in without multi-factor evidence gets, and the authentication
/// context that counts as evidence.
pub async fn set_sso_mfa_evidence<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    policy: &str,
    auth_context: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE organisations SET sso_mfa_evidence = $1, sso_auth_context = $2 WHERE id = $3",
    )
    .bind(policy)
    .bind(auth_context)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// The provider console's search: which customers, and which page of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgSearch {
    /// Text to find (any case) in the name or slug, or in the id of a linked tenant; empty
    /// finds every customer.
    pub q: String,
    /// The (name, slug) of the last customer of the previous page: the page starts after it.
    pub after: Option<(String, String)>,
    /// Page size; `None` for every match (the staff customer switcher lists them all).
    pub limit: Option<u32>,
}

/// `q` as a case-insensitive "contains" pattern for `LIKE … ESCAPE '\'`: lower-cased, its
/// wildcards (`%`, `_`) and the escape character taken literally.
///
/// Both sides are lower-cased because PostgreSQL's `LIKE` is case-sensitive and SQLite's is
/// not; SQLite's `LOWER` folds ASCII only, so a non-ASCII capital matches its own case there.
pub fn contains_pattern(q: &str) -> String {
    let mut pattern = String::with_capacity(q.len() + 2);
    pattern.push('%');
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The condition `q` puts on `organisations o`, with `$1` its pattern; `None` without `q`.
///
/// A `LIKE '%…%'` cannot use an index, so this scans the organisations table: a carrier's
/// customers number in the thousands, not millions, and the scan reads one small row each.
fn search_condition(q: &str) -> Option<&'static str> {
    (!q.is_empty()).then_some(
        "(LOWER(o.name) LIKE $1 ESCAPE '\\' OR LOWER(o.slug) LIKE $1 ESCAPE '\\' \
         OR EXISTS (SELECT 1 FROM sso_tenants t WHERE t.org_id = o.id \
         AND LOWER(t.tenant_id) LIKE $1 ESCAPE '\\'))",
    )
}

/// The customers `search` finds, by name then slug (the order of [`list`]), at most
/// `limit + 1` of them so the caller can tell whether another page follows.
pub async fn search<'e, E: Executor<'e, Database = Any>>(
    db: E,
    search: &OrgSearch,
) -> Result<Vec<Organisation>, sqlx::Error> {
    let mut conditions: Vec<String> = Vec::new();
    let mut next = 1;
    if let Some(condition) = search_condition(&search.q) {
        conditions.push(condition.to_string());
        next = 2;
    }
    if search.after.is_some() {
        // Keyset: strictly after the previous page's last (name, slug); the slug is unique.
        conditions.push(format!(
            "(o.name > ${next} OR (o.name = ${next} AND o.slug > ${}))",
            next + 1
        ));
    }
    let columns = COLUMNS
        .split(", ")
        .map(|c| format!("o.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = format!("SELECT {columns} FROM organisations o");
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    sql.push_str(" ORDER BY o.name, o.slug");
    if let Some(limit) = search.limit {
        sql.push_str(&format!(" LIMIT {}", u64::from(limit) + 1));
    }
    let mut query = sqlx::query(&sql);
    if !search.q.is_empty() {
        query = query.bind(contains_pattern(&search.q));
    }
    if let Some((name, slug)) = &search.after {
        query = query.bind(name.clone()).bind(slug.clone());
    }
    query.fetch_all(db).await?.iter().map(from_row).collect()
}

/// How many customers `q` finds, on all pages together.
pub async fn count_matching<'e, E: Executor<'e, Database = Any>>(
    db: E,
    q: &str,
) -> Result<i64, sqlx::Error> {
    let row = match search_condition(q) {
        Some(condition) => {
            sqlx::query(&format!(
                "SELECT COUNT(*) AS n FROM organisations o WHERE {condition}"
            ))
            .bind(contains_pattern(q))
            .fetch_one(db)
            .await?
        }
        None => {
            sqlx::query("SELECT COUNT(*) AS n FROM organisations o")
                .fetch_one(db)
                .await?
        }
    };
    row.try_get("n")
}

/// How many ids go into one `IN (…)` list: far below SQLite's and PostgreSQL's limits on
/// bound parameters, however many customers a page (or the whole list) holds.
pub(crate) const IN_LIST_CHUNK: usize = 500;

/// How many users each of the organisations `org_ids` has (organisations without users are
/// left out).
pub async fn user_counts_of<'e, E>(
    db: E,
    org_ids: &[String],
) -> Result<Vec<(String, i64)>, sqlx::Error>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let mut counts = Vec::new();
    for chunk in org_ids.chunks(IN_LIST_CHUNK) {
        let sql = format!(
            "SELECT org_id, COUNT(*) AS n FROM users WHERE org_id IN ({}) GROUP BY org_id",
            super::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id.clone());
        }
        for row in query.fetch_all(db).await? {
            counts.push((row.try_get("org_id")?, row.try_get("n")?));
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_found_anywhere_and_taken_literally() {
        assert_eq!(contains_pattern("Contoso"), "%contoso%");
        assert_eq!(contains_pattern("50%_off"), "%50\\%\\_off%");
        assert_eq!(contains_pattern("a\\b"), "%a\\\\b%");
        assert_eq!(contains_pattern(""), "%%");
    }

    #[test]
    fn no_text_means_no_condition() {
        assert_eq!(search_condition(""), None);
        assert!(search_condition("x").is_some_and(|c| c.contains("sso_tenants")));
    }

    #[test]
    fn in_lists_number_their_placeholders() {
        assert_eq!(super::super::placeholders(1, 1), "$1");
        assert_eq!(super::super::placeholders(1, 3), "$1, $2, $3");
        assert_eq!(super::super::placeholders(4, 2), "$4, $5");
    }
}
