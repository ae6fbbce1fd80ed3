//! SQL over `licenses_licenses` and `licenses_usage` for the figures.

use kernel::error::Result;
use sqlx::{AnyConnection, Row};

/// (type id, dept id, issued in [from, to), valid at `to`).
pub(crate) async fn issued_and_stock(
    c: &mut AnyConnection,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, i64, i64, i64)>> {
    Ok(sqlx::query(
        "SELECT type_id, dept_id,
                SUM(CASE WHEN issued_at >= $1 AND issued_at < $2 THEN 1 ELSE 0 END) AS issued,
                SUM(CASE WHEN issued_at < $2 AND status = 'valid'
                          AND (valid_until IS NULL OR valid_until >= $2) THEN 1 ELSE 0 END) AS stock
         FROM licenses_licenses GROUP BY type_id, dept_id ORDER BY type_id, dept_id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    .collect())
}

/// (type id, dept id, usage kind, uses in [from, to)).
pub(crate) async fn uses(
    c: &mut AnyConnection,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, i64, String, i64)>> {
    Ok(sqlx::query(
        "SELECT l.type_id, l.dept_id, u.kind, COUNT(*) FROM licenses_usage u
         JOIN licenses_licenses l ON l.id = u.license_id
         WHERE u.at >= $1 AND u.at < $2 GROUP BY l.type_id, l.dept_id, u.kind",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    .collect())
}

/// (type id, dept id, licenses valid at `to` that were used in [from, to)).
pub(crate) async fn used_valid(
    c: &mut AnyConnection,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, i64, i64)>> {
    Ok(sqlx::query(
        "SELECT l.type_id, l.dept_id, COUNT(DISTINCT l.id) FROM licenses_usage u
         JOIN licenses_licenses l ON l.id = u.license_id
         WHERE u.at >= $1 AND u.at < $2 AND l.issued_at < $2 AND l.status = 'valid'
           AND (l.valid_until IS NULL OR l.valid_until >= $2)
         GROUP BY l.type_id, l.dept_id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect())
}

/// (type id, dept id, cases delivered in [from, to), of them delivered as 电子证照).
pub(crate) async fn case_results(
    c: &mut AnyConnection,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, i64, i64, i64)>> {
    Ok(sqlx::query(
        "SELECT type_id, dept_id, COUNT(*),
                SUM(CASE WHEN license_id IS NULL THEN 0 ELSE 1 END)
         FROM licenses_case_results WHERE delivered_at >= $1 AND delivered_at < $2
         GROUP BY type_id, dept_id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    .collect())
}
