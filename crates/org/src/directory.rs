//! The organisation as other modules may read it: region codes and names, department names and
//! whether they are active. These are not personal data, so no actor is needed. The functions
//! take a connection so that a caller can read inside its own transaction.

use crate::store;
use kernel::error::Result;
use serde::Serialize;
use sqlx::AnyConnection;
use std::collections::{HashMap, HashSet};

/// A region of the tree (GB/T 2260 code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectoryRegion {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
}

/// A department, active or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectoryDepartment {
    pub id: i64,
    pub name: String,
    pub short_name: String,
    pub active: bool,
    pub parent_id: Option<i64>,
}

/// Every region, ordered by code.
pub async fn regions(c: &mut AnyConnection) -> Result<Vec<DirectoryRegion>> {
    store::directory_regions(c).await
}

/// Every department, ordered by id.
pub async fn departments(c: &mut AnyConnection) -> Result<Vec<DirectoryDepartment>> {
    store::directory_departments(c).await
}

/// Region code → name.
pub async fn region_names(c: &mut AnyConnection) -> Result<HashMap<String, String>> {
    Ok(regions(c)
        .await?
        .into_iter()
        .map(|r| (r.code, r.name))
        .collect())
}

/// Every region code.
pub async fn region_codes(c: &mut AnyConnection) -> Result<HashSet<String>> {
    Ok(regions(c).await?.into_iter().map(|r| r.code).collect())
}

/// Active departments: id → name.
pub async fn active_department_names(c: &mut AnyConnection) -> Result<HashMap<i64, String>> {
    Ok(departments(c)
        .await?
        .into_iter()
        .filter(|d| d.active)
        .map(|d| (d.id, d.name))
        .collect())
}

/// A department's name (active or not), if it exists.
pub async fn department_name(c: &mut AnyConnection, id: i64) -> Result<Option<String>> {
    Ok(departments(c)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .map(|d| d.name))
}

/// Whether the department exists and is active.
pub async fn department_is_active(c: &mut AnyConnection, id: i64) -> Result<bool> {
    Ok(store::department_active(c, id).await? == Some(true))
}

/// The active account whose 身份证号 is `id_card`, to reach a holder of a record that names them
/// by number only (a license issued before they had an account). Only the id comes back.
/// `sealer` is the database's (`Db::sealer`): the number is found by its keyed index.
pub async fn active_user_by_id_card(
    c: &mut AnyConnection,
    sealer: &kernel::sealed::Sealer,
    id_card: &str,
) -> Result<Option<i64>> {
    store::active_user_by_id_card(c, sealer, id_card).await
}
