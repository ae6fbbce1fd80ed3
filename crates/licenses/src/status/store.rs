//! SQL on `licenses_status_lists` (and the status column of `licenses_licenses` it reads).

use kernel::error::Result;
use sqlx::{AnyConnection, Row};

/// A free (list id, index) of the department's series, taken atomically.
/// `n` slots for one department's new licenses, in as few lists as there is room for (an
/// import batch takes its slots at once, not one statement pair per license).
pub(crate) async fn allocate_many(
    c: &mut AnyConnection,
    dept_id: i64,
    size: i64,
    n: usize,
    now: i64,
) -> Result<Vec<(i64, i64)>> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let open = sqlx::query(
            "SELECT id, next_index, size FROM licenses_status_lists WHERE dept_id = $1 AND next_index < size ORDER BY id LIMIT 1",
        )
        .bind(dept_id)
        .fetch_optional(&mut *c)
        .await?;
        let (list_id, next, list_size): (i64, i64, i64) = match open {
            Some(r) => (r.get(0), r.get(1), r.get(2)),
            None => (
                sqlx::query(
                    "INSERT INTO licenses_status_lists (dept_id, size, next_index, created_at)
                     VALUES ($1, $2, 0, $3) RETURNING id",
                )
                .bind(dept_id)
                .bind(size)
                .bind(now)
                .fetch_one(&mut *c)
                .await?
                .get(0),
                0,
                size,
            ),
        };
        let take = ((n - out.len()) as i64).min(list_size - next);
        // Guarded by the index read: a list another transaction moved on is read again.
        let moved = sqlx::query(
            "UPDATE licenses_status_lists SET next_index = $1 WHERE id = $2 AND next_index = $3",
        )
        .bind(next + take)
        .bind(list_id)
        .bind(next)
        .execute(&mut *c)
        .await?
        .rows_affected();
        if moved == 1 {
            out.extend((next..next + take).map(|i| (list_id, i)));
        }
    }
    Ok(out)
}

pub(crate) async fn allocate(
    c: &mut AnyConnection,
    dept_id: i64,
    size: i64,
    now: i64,
) -> Result<(i64, i64)> {
    loop {
        let open = sqlx::query(
            "SELECT id FROM licenses_status_lists WHERE dept_id = $1 AND next_index < size ORDER BY id LIMIT 1",
        )
        .bind(dept_id)
        .fetch_optional(&mut *c)
        .await?;
        let list_id: i64 = match open {
            Some(r) => r.get(0),
            None => sqlx::query(
                "INSERT INTO licenses_status_lists (dept_id, size, next_index, created_at)
                 VALUES ($1, $2, 0, $3) RETURNING id",
            )
            .bind(dept_id)
            .bind(size)
            .bind(now)
            .fetch_one(&mut *c)
            .await?
            .get(0),
        };
        // The guarded increment: a list filled meanwhile by another transaction is skipped.
        if let Some(r) = sqlx::query(
            "UPDATE licenses_status_lists SET next_index = next_index + 1
             WHERE id = $1 AND next_index < size RETURNING next_index",
        )
        .bind(list_id)
        .fetch_optional(&mut *c)
        .await?
        {
            let next: i64 = r.get(0);
            return Ok((list_id, next - 1));
        }
    }
}

pub(crate) struct ListRow {
    pub id: i64,
    pub dept_id: i64,
    pub size: i64,
}

pub(crate) async fn list(c: &mut AnyConnection, id: i64) -> Result<Option<ListRow>> {
    Ok(
        sqlx::query("SELECT id, dept_id, size FROM licenses_status_lists WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?
            .map(|r| ListRow {
                id: r.get("id"),
                dept_id: r.get("dept_id"),
                size: r.get("size"),
            }),
    )
}

pub(crate) async fn lists(c: &mut AnyConnection) -> Result<Vec<ListRow>> {
    Ok(
        sqlx::query("SELECT id, dept_id, size FROM licenses_status_lists ORDER BY id")
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| ListRow {
                id: r.get("id"),
                dept_id: r.get("dept_id"),
                size: r.get("size"),
            })
            .collect(),
    )
}

/// Indexes of the list whose licenses are in one of `statuses`.
pub(crate) async fn set_indexes(
    c: &mut AnyConnection,
    list_id: i64,
    statuses: &[&str],
) -> Result<Vec<i64>> {
    let placeholders: Vec<String> = (0..statuses.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT list_index FROM licenses_licenses WHERE list_id = $1 AND status IN ({})",
        placeholders.join(", ")
    );
    let mut q = sqlx::query(&sql).bind(list_id);
    for s in statuses {
        q = q.bind(*s);
    }
    Ok(q.fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// The status of the license in one slot of a list (none when the slot is unused).
pub(crate) async fn slot_status(
    c: &mut AnyConnection,
    list_id: i64,
    index: i64,
) -> Result<Option<String>> {
    Ok(
        sqlx::query("SELECT status FROM licenses_licenses WHERE list_id = $1 AND list_index = $2")
            .bind(list_id)
            .bind(index)
            .fetch_optional(&mut *c)
            .await?
            .map(|r| r.get(0)),
    )
}
