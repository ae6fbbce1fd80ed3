//! The report's reads: cases and ratings touching a period.

use crate::cases::store::{case_row, CASE_COLS};
use crate::domain::*;
use crate::evaluation::store::{eval_row, EVAL_COLS};
use kernel::error::Result;
use sqlx::{AnyConnection, Row};

/// Every case touched in [from, to): accepted or closed then, open at its start (期初在办) or
/// running late at its end; for reports.
pub(crate) async fn cases_in(c: &mut AnyConnection, from: i64, to: i64) -> Result<Vec<Case>> {
    sqlx::query(&format!(
        "SELECT {CASE_COLS} FROM services_cases WHERE (accepted_at >= $1 AND accepted_at < $2) OR (closed_at >= $1 AND closed_at < $2)
            OR (accepted_at < $2 AND due_at < $2 AND (closed_at IS NULL OR closed_at >= $2))
            OR (accepted_at < $1 AND (closed_at IS NULL OR closed_at >= $1))"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| case_row(r).map(|(k, _)| k))
    .collect()
}

pub(crate) async fn evaluations_in(
    c: &mut AnyConnection,
    from: i64,
    to: i64,
) -> Result<Vec<Evaluation>> {
    sqlx::query(&format!(
        "SELECT {EVAL_COLS} FROM services_evaluations WHERE created_at >= $1 AND created_at < $2 ORDER BY id"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(eval_row)
    .collect()
}

/// Which of these cases have been rated, on their own number or on their bundle application's
/// (a bundle is rated once for all its sub-cases): 评价覆盖度 counts cases, not ratings.
pub(crate) async fn evaluated_cases(
    c: &mut AnyConnection,
    case_ids: &[i64],
) -> Result<std::collections::HashSet<i64>> {
    let mut out = std::collections::HashSet::new();
    for chunk in case_ids.chunks(500) {
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        let rows = sqlx::query(&format!(
            "SELECT k.id FROM services_cases k WHERE k.id IN ({})
               AND (EXISTS (SELECT 1 FROM services_evaluations e WHERE e.case_number = k.number)
                 OR EXISTS (SELECT 1 FROM services_bundle_cases b
                            JOIN services_evaluations e ON e.case_number = b.number
                            WHERE b.id = k.bundle_case_id))",
            list.join(",")
        ))
        .fetch_all(&mut *c)
        .await?;
        out.extend(rows.iter().map(|r| r.get::<i64, _>(0)));
    }
    Ok(out)
}
