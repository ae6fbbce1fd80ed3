//! The org module's SQL. Only this file touches `org_*` tables.

use crate::directory::{DirectoryDepartment, DirectoryRegion};
use crate::domain::*;
use crate::service::ManageOrg;
use kernel::codes::RegionLevel;
use kernel::db::flag;
use kernel::error::Result;
use kernel::sealed::Sealer;
use kernel::{Authorized, Granted, Role};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

fn region(r: &AnyRow) -> Region {
    Region {
        id: r.get("id"),
        code: r.get("code"),
        name: r.get("name"),
        level: RegionLevel::parse(&r.get::<String, _>("level")).unwrap_or(RegionLevel::Village),
        parent_id: r.get("parent_id"),
    }
}

const REGION_COLS: &str = "id, code, name, level, parent_id";

pub async fn region_by_code(c: &mut AnyConnection, code: &str) -> Result<Option<Region>> {
    let r = sqlx::query(&format!(
        "SELECT {REGION_COLS} FROM org_regions WHERE code = $1"
    ))
    .bind(code)
    .fetch_optional(c)
    .await?;
    Ok(r.as_ref().map(region))
}

pub async fn region_by_id(c: &mut AnyConnection, id: i64) -> Result<Option<Region>> {
    let r = sqlx::query(&format!(
        "SELECT {REGION_COLS} FROM org_regions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await?;
    Ok(r.as_ref().map(region))
}

pub async fn regions(
    c: &mut AnyConnection,
    parent_id: Option<i64>,
    code_prefix: Option<&str>,
) -> Result<Vec<Region>> {
    let rows = sqlx::query(&format!(
        "SELECT {REGION_COLS} FROM org_regions
         WHERE ($1 IS NULL OR parent_id = $1) AND ($2 IS NULL OR code LIKE $2)
         ORDER BY code"
    ))
    .bind(parent_id)
    .bind(code_prefix.map(|p| format!("{p}%")))
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(region).collect())
}

pub async fn insert_region(
    c: &mut AnyConnection,
    _granted: Granted<'_, ManageOrg>,
    code: &str,
    name: &str,
    level: RegionLevel,
    parent_id: Option<i64>,
    now: i64,
) -> Result<i64> {
    let id = sqlx::query_scalar("INSERT INTO org_regions (code, name, level, parent_id, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
        .bind(code)
        .bind(name)
        .bind(level.code())
        .bind(parent_id)
        .bind(now)
        .fetch_one(c)
        .await
        .map_err(|e| kernel::Error::from_db(e, "code", "该行政区划代码已存在"))?;
    Ok(id)
}

pub async fn rename_region(
    c: &mut AnyConnection,
    _granted: Granted<'_, ManageOrg>,
    id: i64,
    name: &str,
) -> Result<()> {
    sqlx::query("UPDATE org_regions SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

const DEPT_COLS: &str =
    "d.id, d.name, d.short_name, d.region_id, r.code AS region_code, r.name AS region_name,
    d.parent_id, d.credit_code, d.phone, d.active";

fn dept_row(r: &AnyRow) -> Department {
    Department {
        id: r.get("id"),
        name: r.get("name"),
        short_name: r.get("short_name"),
        region_id: r.get("region_id"),
        region_code: r.get("region_code"),
        region_name: r.get("region_name"),
        parent_id: r.get("parent_id"),
        credit_code: r.get("credit_code"),
        phone: r.get("phone"),
        active: flag(r.get("active")),
    }
}

pub async fn department(c: &mut AnyConnection, id: i64) -> Result<Option<Department>> {
    let r = sqlx::query(&format!("SELECT {DEPT_COLS} FROM org_departments d JOIN org_regions r ON r.id = d.region_id WHERE d.id = $1"))
        .bind(id)
        .fetch_optional(c)
        .await?;
    Ok(r.as_ref().map(dept_row))
}

pub async fn department_by_name(c: &mut AnyConnection, name: &str) -> Result<Option<Department>> {
    let r = sqlx::query(&format!("SELECT {DEPT_COLS} FROM org_departments d JOIN org_regions r ON r.id = d.region_id WHERE d.name = $1"))
        .bind(name)
        .fetch_optional(c)
        .await?;
    Ok(r.as_ref().map(dept_row))
}

/// Filters shared by list and count. `dept_ids` and `region_prefix` express the reader's scope.
pub struct DeptFilter<'a> {
    pub dept_ids: Option<&'a [i64]>,
    pub region_prefix: Option<&'a str>,
    pub q: Option<&'a str>,
    pub parent_id: Option<i64>,
}

fn dept_where(f: &DeptFilter) -> (String, Vec<String>) {
    let mut w = vec!["1 = 1".to_owned()];
    let mut binds = Vec::new();
    if let Some(ids) = f.dept_ids {
        let list = if ids.is_empty() {
            "NULL".to_owned()
        } else {
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        };
        w.push(format!("d.id IN ({list})"));
    }
    if let Some(p) = f.region_prefix {
        binds.push(format!("{p}%"));
        w.push(format!("r.code LIKE ${}", binds.len()));
    }
    if let Some(q) = f.q.filter(|q| !q.trim().is_empty()) {
        binds.push(format!("%{}%", q.trim()));
        w.push(format!(
            "(d.name LIKE ${n} OR d.short_name LIKE ${n})",
            n = binds.len()
        ));
    }
    if let Some(p) = f.parent_id {
        w.push(format!("d.parent_id = {p}"));
    }
    (w.join(" AND "), binds)
}

pub async fn departments(
    c: &mut AnyConnection,
    f: &DeptFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Department>, i64)> {
    let (w, binds) = dept_where(f);
    let sql = format!(
        "SELECT {DEPT_COLS} FROM org_departments d JOIN org_regions r ON r.id = d.region_id WHERE {w}
         ORDER BY r.code, d.parent_id IS NOT NULL, d.id LIMIT {limit} OFFSET {offset}"
    );
    let mut q = sqlx::query(&sql);
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(&mut *c).await?;
    let count_sql = format!(
        "SELECT COUNT(*) FROM org_departments d JOIN org_regions r ON r.id = d.region_id WHERE {w}"
    );
    let mut q = sqlx::query_scalar::<_, i64>(&count_sql);
    for b in &binds {
        q = q.bind(b);
    }
    let total = q.fetch_one(c).await?;
    Ok((rows.iter().map(dept_row).collect(), total))
}

/// A department and all departments below it.
pub async fn department_subtree(c: &mut AnyConnection, id: i64) -> Result<Vec<i64>> {
    let ids = sqlx::query_scalar(
        "WITH RECURSIVE sub(id) AS (
             SELECT id FROM org_departments WHERE id = $1
             UNION SELECT d.id FROM org_departments d JOIN sub ON d.parent_id = sub.id
         ) SELECT id FROM sub ORDER BY id",
    )
    .bind(id)
    .fetch_all(c)
    .await?;
    Ok(ids)
}

pub async fn insert_department(
    c: &mut AnyConnection,
    _granted: Granted<'_, ManageOrg>,
    d: &NewDepartment,
    region_id: i64,
    now: i64,
) -> Result<i64> {
    let short = d
        .short_name
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| d.name.trim().to_owned());
    sqlx::query_scalar(
        "INSERT INTO org_departments (name, short_name, region_id, parent_id, credit_code, phone, active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING id",
    )
    .bind(d.name.trim())
    .bind(short.trim())
    .bind(region_id)
    .bind(d.parent_id)
    .bind(d.credit_code.as_deref().map(str::trim).filter(|s| !s.is_empty()))
    .bind(d.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()))
    .bind(now)
    .fetch_one(c)
    .await
    .map_err(|e| kernel::Error::from_db(e, "name", "同名单位或相同的统一社会信用代码已存在"))
}

pub async fn update_department(
    c: &mut AnyConnection,
    _granted: Granted<'_, ManageOrg>,
    d: &Department,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE org_departments SET name = $1, short_name = $2, parent_id = $3, credit_code = $4, phone = $5, active = $6, updated_at = $7
         WHERE id = $8",
    )
    .bind(&d.name)
    .bind(&d.short_name)
    .bind(d.parent_id)
    .bind(&d.credit_code)
    .bind(&d.phone)
    .bind(d.active as i64)
    .bind(now)
    .bind(d.id)
    .execute(c)
    .await
    .map_err(|e| kernel::Error::from_db(e, "name", "同名单位或相同的统一社会信用代码已存在"))?;
    Ok(())
}

/// A user row with its secret parts, for the service only.
pub struct UserRecord {
    pub user: User,
    pub password_hash: String,
    pub phone: Option<String>,
    pub id_card: Option<String>,
    pub dept_region_code: Option<String>,
}

const USER_COLS: &str = "u.id, u.username, u.display_name, u.password_hash, u.dept_id, d.name AS dept_name, u.phone, u.id_card, u.active,
    r.code AS region_code";
const USER_FROM: &str = "org_users u LEFT JOIN org_departments d ON d.id = u.dept_id LEFT JOIN org_regions r ON r.id = d.region_id";

async fn user_record(c: &mut AnyConnection, s: &Sealer, r: &AnyRow) -> Result<UserRecord> {
    let id: i64 = r.get("id");
    let roles = roles_of(c, id).await?;
    Ok(UserRecord {
        user: User {
            id,
            username: r.get("username"),
            display_name: r.get("display_name"),
            dept_id: r.get("dept_id"),
            dept_name: r.get("dept_name"),
            roles,
            phone: None,
            id_card: None,
            active: flag(r.get("active")),
        },
        password_hash: r.get("password_hash"),
        phone: s.open_opt("org_users.phone", r.get("phone"))?,
        id_card: s.open_opt("org_users.id_card", r.get("id_card"))?,
        dept_region_code: r.get("region_code"),
    })
}

pub async fn roles_of(c: &mut AnyConnection, user_id: i64) -> Result<Vec<Role>> {
    let codes: Vec<String> =
        sqlx::query_scalar("SELECT role FROM org_user_roles WHERE user_id = $1 ORDER BY role")
            .bind(user_id)
            .fetch_all(c)
            .await?;
    let mut roles: Vec<Role> = codes.iter().filter_map(|s| Role::parse(s)).collect();
    roles.sort();
    Ok(roles)
}

pub async fn user_by_id(c: &mut AnyConnection, s: &Sealer, id: i64) -> Result<Option<UserRecord>> {
    let r = sqlx::query(&format!(
        "SELECT {USER_COLS} FROM {USER_FROM} WHERE u.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *c)
    .await?;
    match r {
        Some(r) => Ok(Some(user_record(c, s, &r).await?)),
        None => Ok(None),
    }
}

pub async fn user_by_username(
    c: &mut AnyConnection,
    s: &Sealer,
    username: &str,
) -> Result<Option<UserRecord>> {
    let r = sqlx::query(&format!(
        "SELECT {USER_COLS} FROM {USER_FROM} WHERE u.username = $1"
    ))
    .bind(username)
    .fetch_optional(&mut *c)
    .await?;
    match r {
        Some(r) => Ok(Some(user_record(c, s, &r).await?)),
        None => Ok(None),
    }
}

pub struct UserFilter<'a> {
    pub dept_ids: Option<&'a [i64]>,
    pub region_prefix: Option<&'a str>,
    pub only_user: Option<i64>,
    pub dept_id: Option<i64>,
    pub role: Option<Role>,
    pub q: Option<&'a str>,
}

pub async fn users(
    c: &mut AnyConnection,
    s: &Sealer,
    f: &UserFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<UserRecord>, i64)> {
    let mut w = vec!["1 = 1".to_owned()];
    let mut binds: Vec<String> = Vec::new();
    if let Some(ids) = f.dept_ids {
        let list = if ids.is_empty() {
            "NULL".to_owned()
        } else {
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        };
        w.push(format!("u.dept_id IN ({list})"));
    }
    if let Some(p) = f.region_prefix {
        binds.push(format!("{p}%"));
        w.push(format!("r.code LIKE ${}", binds.len()));
    }
    if let Some(id) = f.only_user {
        w.push(format!("u.id = {id}"));
    }
    if let Some(d) = f.dept_id {
        w.push(format!("u.dept_id = {d}"));
    }
    if let Some(role) = f.role {
        binds.push(role.code().to_owned());
        w.push(format!(
            "EXISTS (SELECT 1 FROM org_user_roles ur WHERE ur.user_id = u.id AND ur.role = ${})",
            binds.len()
        ));
    }
    if let Some(q) = f.q.filter(|q| !q.trim().is_empty()) {
        binds.push(format!("%{}%", q.trim()));
        w.push(format!(
            "(u.username LIKE ${n} OR u.display_name LIKE ${n})",
            n = binds.len()
        ));
    }
    let w = w.join(" AND ");
    let sql = format!(
        "SELECT {USER_COLS} FROM {USER_FROM} WHERE {w} ORDER BY u.id LIMIT {limit} OFFSET {offset}"
    );
    let mut q = sqlx::query(&sql);
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(&mut *c).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(user_record(c, s, r).await?);
    }
    let count_sql = format!("SELECT COUNT(*) FROM {USER_FROM} WHERE {w}");
    let mut q = sqlx::query_scalar::<_, i64>(&count_sql);
    for b in &binds {
        q = q.bind(b);
    }
    Ok((out, q.fetch_one(c).await?))
}

pub async fn insert_user(
    c: &mut AnyConnection,
    s: &Sealer,
    granted: Granted<'_, ManageOrg>,
    u: &NewUser,
    password_hash: &str,
    now: i64,
) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO org_users (username, display_name, password_hash, dept_id, phone, id_card, active, created_at, updated_at,
             phone_idx, id_card_idx)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7, $8, $9) RETURNING id",
    )
    .bind(u.username.trim())
    .bind(u.display_name.trim())
    .bind(password_hash)
    .bind(u.dept_id)
    .bind(s.seal_opt(u.phone.as_deref())?)
    .bind(s.seal_opt(u.id_card.as_deref())?)
    .bind(now)
    .bind(s.index_opt(u.phone.as_deref())?)
    .bind(s.index_opt(u.id_card.as_deref())?)
    .fetch_one(&mut *c)
    .await
    .map_err(|e| kernel::Error::from_db(e, "username", "该用户名已被使用"))?;
    set_roles(c, granted.into(), id, &u.roles).await?;
    Ok(id)
}

pub async fn set_roles(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    user_id: i64,
    roles: &[Role],
) -> Result<()> {
    sqlx::query("DELETE FROM org_user_roles WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    let mut seen = roles.to_vec();
    seen.sort();
    seen.dedup();
    for r in seen {
        sqlx::query("INSERT INTO org_user_roles (user_id, role) VALUES ($1, $2)")
            .bind(user_id)
            .bind(r.code())
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

// The sealer joins the row's columns: one more argument than clippy's default.
#[allow(clippy::too_many_arguments)]
pub async fn update_user(
    c: &mut AnyConnection,
    s: &Sealer,
    _granted: Granted<'_, ManageOrg>,
    id: i64,
    display_name: &str,
    dept_id: Option<i64>,
    phone: Option<&str>,
    id_card: Option<&str>,
    active: bool,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE org_users SET display_name = $1, dept_id = $2, phone = $3, id_card = $4, active = $5, updated_at = $6,
                     phone_idx = $8, id_card_idx = $9 WHERE id = $7")
        .bind(display_name)
        .bind(dept_id)
        .bind(s.seal_opt(phone)?)
        .bind(s.seal_opt(id_card)?)
        .bind(active as i64)
        .bind(now)
        .bind(id)
        .bind(s.index_opt(phone)?)
        .bind(s.index_opt(id_card)?)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn set_password_hash(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    id: i64,
    hash: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE org_users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now)
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn count_users(c: &mut AnyConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM org_users")
        .fetch_one(c)
        .await?)
}

// Sessions

pub struct SessionRow {
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_seen_at: i64,
    /// Reaches only the two-factor enrolment (the policy requires a factor not yet enrolled).
    pub enrol_only: bool,
}

pub async fn insert_session(
    c: &mut AnyConnection,
    id_hash: &str,
    user_id: i64,
    csrf: &str,
    now: i64,
    expires_at: i64,
    ip: &str,
    ua: &str,
    enrol_only: bool,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO org_sessions (id_hash, user_id, csrf, created_at, expires_at, last_seen_at, ip, user_agent, enrol_only)
         VALUES ($1, $2, $3, $4, $5, $4, $6, $7, $8)",
    )
    .bind(id_hash)
    .bind(user_id)
    .bind(csrf)
    .bind(now)
    .bind(expires_at)
    .bind(ip)
    .bind(ua)
    .bind(enrol_only as i64)
    .execute(c)
    .await?;
    Ok(())
}

/// A session and its user in one read (every request of a signed-in person starts here).
pub async fn session_user(
    c: &mut AnyConnection,
    s: &Sealer,
    id_hash: &str,
) -> Result<Option<(SessionRow, UserRecord)>> {
    let r = sqlx::query(&format!(
        "SELECT s.csrf, s.created_at AS session_created_at, s.expires_at, s.last_seen_at, s.enrol_only, {USER_COLS}
         FROM {USER_FROM} JOIN org_sessions s ON s.user_id = u.id WHERE s.id_hash = $1"
    ))
    .bind(id_hash)
    .fetch_optional(&mut *c)
    .await?;
    let Some(r) = r else { return Ok(None) };
    let rec = user_record(c, s, &r).await?;
    Ok(Some((
        SessionRow {
            csrf: r.get("csrf"),
            created_at: r.get("session_created_at"),
            expires_at: r.get("expires_at"),
            last_seen_at: r.get("last_seen_at"),
            enrol_only: flag(r.get("enrol_only")),
        },
        rec,
    )))
}

/// One of a user's sessions as its owner sees it (never the cookie, only its hash).
pub struct SessionListing {
    pub id_hash: String,
    pub csrf: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
}

/// A user's live sessions, the most recently used first.
pub async fn user_sessions(
    c: &mut AnyConnection,
    user_id: i64,
    now: i64,
    idle_before: i64,
) -> Result<Vec<SessionListing>> {
    let rows = sqlx::query(
        "SELECT id_hash, csrf, created_at, last_seen_at, expires_at, ip, user_agent FROM org_sessions
         WHERE user_id = $1 AND expires_at > $2 AND last_seen_at >= $3
         ORDER BY last_seen_at DESC, created_at DESC",
    )
    .bind(user_id)
    .bind(now)
    .bind(idle_before)
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| SessionListing {
            id_hash: r.get("id_hash"),
            csrf: r.get("csrf"),
            created_at: r.get("created_at"),
            last_seen_at: r.get("last_seen_at"),
            expires_at: r.get("expires_at"),
            ip: r.get("ip"),
            user_agent: r.get("user_agent"),
        })
        .collect())
}

/// Ends one of `user_id`'s sessions; `false` when it is not theirs or already gone.
pub async fn delete_own_session(
    c: &mut AnyConnection,
    user_id: i64,
    id_hash: &str,
) -> Result<bool> {
    Ok(
        sqlx::query("DELETE FROM org_sessions WHERE user_id = $1 AND id_hash = $2")
            .bind(user_id)
            .bind(id_hash)
            .execute(c)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Keeps this login and moves the one before to `prev_login_*` (what 上次登录 shows).
pub async fn record_login(
    c: &mut AnyConnection,
    _by: kernel::Authorized<'_>,
    user_id: i64,
    now: i64,
    ip: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE org_users SET prev_login_at = last_login_at, prev_login_ip = last_login_ip,
         last_login_at = $1, last_login_ip = $2 WHERE id = $3",
    )
    .bind(now)
    .bind(ip)
    .bind(user_id)
    .execute(c)
    .await?;
    Ok(())
}

/// The login before the current one: when and from where.
pub async fn previous_login(c: &mut AnyConnection, user_id: i64) -> Result<Option<(i64, String)>> {
    let r = sqlx::query("SELECT prev_login_at, prev_login_ip FROM org_users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(c)
        .await?;
    Ok(r.and_then(|r| {
        let at: Option<i64> = r.get("prev_login_at");
        let ip: Option<String> = r.get("prev_login_ip");
        at.map(|at| (at, ip.unwrap_or_default()))
    }))
}

pub async fn touch_session(c: &mut AnyConnection, id_hash: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE org_sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(now)
        .bind(id_hash)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn delete_session(c: &mut AnyConnection, id_hash: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("DELETE FROM org_sessions WHERE id_hash = $1 RETURNING user_id")
            .bind(id_hash)
            .fetch_optional(c)
            .await?,
    )
}

pub async fn delete_user_sessions(c: &mut AnyConnection, user_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM org_sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(c)
        .await?;
    Ok(())
}

/// Removes sessions past their end or idle since `idle_before`.
pub async fn delete_expired_sessions(
    c: &mut AnyConnection,
    now: i64,
    idle_before: i64,
) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM org_sessions WHERE expires_at < $1 OR last_seen_at < $2")
            .bind(now)
            .bind(idle_before)
            .execute(c)
            .await?
            .rows_affected(),
    )
}

// Login failures

pub async fn record_failure(
    c: &mut AnyConnection,
    username: &str,
    ip: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO org_login_failures (username, ip, at) VALUES ($1, $2, $3)")
        .bind(username)
        .bind(ip)
        .bind(now)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn failures_since(
    c: &mut AnyConnection,
    username: &str,
    ip: &str,
    since: i64,
) -> Result<(i64, i64, Option<i64>)> {
    let by_user_here: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM org_login_failures WHERE username = $1 AND ip = $2 AND at >= $3",
    )
    .bind(username)
    .bind(ip)
    .bind(since)
    .fetch_one(&mut *c)
    .await?;
    let by_ip: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM org_login_failures WHERE ip = $1 AND at >= $2")
            .bind(ip)
            .bind(since)
            .fetch_one(&mut *c)
            .await?;
    // Both counts are of this address's failures: the oldest of them ends the lock first.
    let oldest: Option<i64> =
        sqlx::query_scalar("SELECT MIN(at) FROM org_login_failures WHERE ip = $1 AND at >= $2")
            .bind(ip)
            .bind(since)
            .fetch_one(c)
            .await?;
    Ok((by_user_here, by_ip, oldest))
}

// Password history

pub async fn insert_password_history(
    c: &mut AnyConnection,
    user_id: i64,
    hash: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO org_password_history (user_id, password_hash, set_at) VALUES ($1, $2, $3)",
    )
    .bind(user_id)
    .bind(hash)
    .bind(now)
    .execute(c)
    .await?;
    Ok(())
}

/// The hashes of the user's last `n` passwords, newest first.
pub async fn recent_password_hashes(
    c: &mut AnyConnection,
    user_id: i64,
    n: i64,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT password_hash FROM org_password_history WHERE user_id = $1
         ORDER BY set_at DESC, id DESC LIMIT {}",
        n.max(0)
    ))
    .bind(user_id)
    .fetch_all(c)
    .await?)
}

/// When the user's current password was set; none for users from before the history.
pub async fn password_set_at(c: &mut AnyConnection, user_id: i64) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT MAX(set_at) FROM org_password_history WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(c)
            .await?,
    )
}

/// Revokes every live API token of the user; how many.
pub async fn revoke_user_tokens(c: &mut AnyConnection, user_id: i64, now: i64) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE org_api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .execute(c)
    .await?
    .rows_affected())
}

pub async fn clear_failures(c: &mut AnyConnection, username: &str) -> Result<()> {
    sqlx::query("DELETE FROM org_login_failures WHERE username = $1")
        .bind(username)
        .execute(c)
        .await?;
    Ok(())
}

// API tokens

const TOKEN_COLS: &str =
    "id, user_id, name, prefix, scopes, created_at, expires_at, revoked_at, last_used_at";

fn token(r: &AnyRow) -> ApiToken {
    ApiToken {
        id: r.get("id"),
        user_id: r.get("user_id"),
        name: r.get("name"),
        prefix: r.get("prefix"),
        scopes: r
            .get::<String, _>("scopes")
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        created_at: r.get("created_at"),
        expires_at: r.get("expires_at"),
        revoked_at: r.get("revoked_at"),
        last_used_at: r.get("last_used_at"),
    }
}

pub async fn insert_token(
    c: &mut AnyConnection,
    user_id: i64,
    t: &NewApiToken,
    prefix: &str,
    hash: &str,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO org_api_tokens (user_id, name, prefix, token_hash, scopes, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(user_id)
    .bind(t.name.trim())
    .bind(prefix)
    .bind(hash)
    .bind(t.scopes.join(" "))
    .bind(now)
    .bind(t.expires_in_days.map(|d| now + d * 86_400_000))
    .fetch_one(c)
    .await?)
}

pub async fn token_by_hash(c: &mut AnyConnection, hash: &str) -> Result<Option<ApiToken>> {
    let r = sqlx::query(&format!(
        "SELECT {TOKEN_COLS} FROM org_api_tokens WHERE token_hash = $1"
    ))
    .bind(hash)
    .fetch_optional(c)
    .await?;
    Ok(r.as_ref().map(token))
}

pub async fn token_by_id(c: &mut AnyConnection, id: i64) -> Result<Option<ApiToken>> {
    let r = sqlx::query(&format!(
        "SELECT {TOKEN_COLS} FROM org_api_tokens WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await?;
    Ok(r.as_ref().map(token))
}

pub async fn tokens_of(c: &mut AnyConnection, user_id: Option<i64>) -> Result<Vec<ApiToken>> {
    let rows = sqlx::query(&format!("SELECT {TOKEN_COLS} FROM org_api_tokens WHERE ($1 IS NULL OR user_id = $1) ORDER BY id DESC"))
        .bind(user_id)
        .fetch_all(c)
        .await?;
    Ok(rows.iter().map(token).collect())
}

pub async fn revoke_token(c: &mut AnyConnection, id: i64, now: i64) -> Result<()> {
    sqlx::query("UPDATE org_api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn touch_token(c: &mut AnyConnection, id: i64, now: i64) -> Result<()> {
    sqlx::query("UPDATE org_api_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

// ---- directory (names and codes other modules show; no personal data) ----

pub async fn directory_regions(c: &mut AnyConnection) -> Result<Vec<DirectoryRegion>> {
    let rows = sqlx::query(
        "SELECT r.code, r.name, p.code AS parent_code FROM org_regions r
         LEFT JOIN org_regions p ON p.id = r.parent_id ORDER BY r.code",
    )
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| DirectoryRegion {
            code: r.get("code"),
            name: r.get("name"),
            parent_code: r.get("parent_code"),
        })
        .collect())
}

pub async fn directory_departments(c: &mut AnyConnection) -> Result<Vec<DirectoryDepartment>> {
    let rows = sqlx::query(
        "SELECT id, name, short_name, active, parent_id FROM org_departments ORDER BY id",
    )
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| DirectoryDepartment {
            id: r.get("id"),
            name: r.get("name"),
            short_name: r.get("short_name"),
            active: flag(r.get("active")),
            parent_id: r.get("parent_id"),
        })
        .collect())
}

pub async fn department_active(c: &mut AnyConnection, id: i64) -> Result<Option<bool>> {
    let v: Option<i64> = sqlx::query_scalar("SELECT active FROM org_departments WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await?;
    Ok(v.map(|v| v == 1))
}

pub async fn active_user_by_id_card(
    c: &mut AnyConnection,
    s: &Sealer,
    id_card: &str,
) -> Result<Option<i64>> {
    // Found by the keyed index: the column itself holds only ciphertext.
    Ok(sqlx::query_scalar(
        "SELECT id FROM org_users WHERE id_card_idx = $1 AND active = 1 ORDER BY id LIMIT 1",
    )
    .bind(s.index(id_card)?)
    .fetch_optional(c)
    .await?)
}

// Two-factor login

pub struct TwoFactorRow {
    pub secret_sealed: String,
    pub enabled_at: Option<i64>,
    pub last_step: i64,
}

pub async fn two_factor(c: &mut AnyConnection, user_id: i64) -> Result<Option<TwoFactorRow>> {
    let r = sqlx::query(
        "SELECT secret_sealed, enabled_at, last_step FROM org_two_factor WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(c)
    .await?;
    Ok(r.map(|r| TwoFactorRow {
        secret_sealed: r.get("secret_sealed"),
        enabled_at: r.get("enabled_at"),
        last_step: r.get("last_step"),
    }))
}

/// Starts (or restarts) an enrolment: a new sealed secret, not yet enabled.
pub async fn put_pending_two_factor(
    c: &mut AnyConnection,
    user_id: i64,
    sealed: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM org_two_factor WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "INSERT INTO org_two_factor (user_id, secret_sealed, created_at, enabled_at, last_step)
         VALUES ($1, $2, $3, NULL, 0)",
    )
    .bind(user_id)
    .bind(sealed)
    .bind(now)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn enable_two_factor(
    c: &mut AnyConnection,
    user_id: i64,
    step: i64,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE org_two_factor SET enabled_at = $2, last_step = $3 WHERE user_id = $1")
        .bind(user_id)
        .bind(now)
        .bind(step)
        .execute(c)
        .await?;
    Ok(())
}

/// Takes a time step as used, only when it is later than the last one used (compare-and-set:
/// two requests racing with one code cannot both win). `false` when it was already used.
pub async fn use_step(c: &mut AnyConnection, user_id: i64, step: i64) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE org_two_factor SET last_step = $2 WHERE user_id = $1 AND last_step < $2",
    )
    .bind(user_id)
    .bind(step)
    .execute(c)
    .await?
    .rows_affected()
        == 1)
}

/// Removes a user's second factor and recovery codes; `true` when there was one.
pub async fn delete_two_factor(c: &mut AnyConnection, user_id: i64) -> Result<bool> {
    sqlx::query("DELETE FROM org_recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    Ok(sqlx::query("DELETE FROM org_two_factor WHERE user_id = $1")
        .bind(user_id)
        .execute(c)
        .await?
        .rows_affected()
        > 0)
}

/// Replaces a user's recovery codes (their SM3 hashes).
pub async fn replace_recovery_codes(
    c: &mut AnyConnection,
    user_id: i64,
    hashes: &[String],
    now: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM org_recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    for h in hashes {
        sqlx::query(
            "INSERT INTO org_recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)",
        )
        .bind(user_id)
        .bind(h)
        .bind(now)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

/// Spends an unused recovery code; `false` when there is none with this hash.
pub async fn spend_recovery_code(
    c: &mut AnyConnection,
    user_id: i64,
    hash: &str,
    now: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE org_recovery_codes SET used_at = $3
         WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(hash)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected()
        == 1)
}

pub async fn recovery_codes_left(c: &mut AnyConnection, user_id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM org_recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(c)
    .await?)
}

/// Lifts (or sets) the enrolment-only restriction on all of a user's sessions.
pub async fn set_sessions_enrol_only(
    c: &mut AnyConnection,
    user_id: i64,
    enrol_only: bool,
) -> Result<()> {
    sqlx::query("UPDATE org_sessions SET enrol_only = $2 WHERE user_id = $1")
        .bind(user_id)
        .bind(enrol_only as i64)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn insert_challenge(
    c: &mut AnyConnection,
    id_hash: &str,
    user_id: i64,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO org_login_challenges (id_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id_hash)
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .execute(c)
    .await?;
    Ok(())
}

/// The user of a live login challenge.
pub async fn challenge_user(c: &mut AnyConnection, id_hash: &str, now: i64) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT user_id FROM org_login_challenges WHERE id_hash = $1 AND expires_at > $2",
    )
    .bind(id_hash)
    .bind(now)
    .fetch_optional(c)
    .await?)
}

/// Removes a challenge, and any that have expired.
pub async fn delete_challenge(c: &mut AnyConnection, id_hash: &str, now: i64) -> Result<()> {
    sqlx::query("DELETE FROM org_login_challenges WHERE id_hash = $1 OR expires_at <= $2")
        .bind(id_hash)
        .bind(now)
        .execute(c)
        .await?;
    Ok(())
}
