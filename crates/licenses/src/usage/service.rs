//! The usage log: written beside what it records, read by the holder.

use super::store;
use crate::service::LicensesService;
use kernel::error::Result;
use kernel::Actor;
use serde::Serialize;
use sqlx::AnyConnection;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageKind {
    /// 亮证.
    Present,
    /// 查证.
    Verify,
    /// 免证办: attached to a case.
    Exempt,
    /// Read through the API.
    ApiRead,
}

impl UsageKind {
    pub fn code(self) -> &'static str {
        match self {
            UsageKind::Present => "present",
            UsageKind::Verify => "verify",
            UsageKind::Exempt => "exempt",
            UsageKind::ApiRead => "api_read",
        }
    }
    pub fn label_of(code: &str) -> &'static str {
        match code {
            "present" => "亮证",
            "verify" => "查证",
            "exempt" => "免证办",
            "api_read" => "接口调用",
            _ => "其他",
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Usage {
    pub license_id: i64,
    pub at: i64,
    pub kind: String,
    /// Who: `user:12`, `anonymous`, `cli`…
    pub actor: String,
    pub purpose: String,
}

/// Who the log names for an actor (an anonymous verifier has no account).
pub(crate) fn who(actor: Option<&Actor>) -> String {
    actor.map_or_else(|| "anonymous".to_owned(), |a| a.audit_actor().0)
}

impl LicensesService {
    pub(crate) async fn log_usage(
        &self,
        c: &mut AnyConnection,
        license_id: i64,
        kind: UsageKind,
        actor: &str,
        purpose: &str,
    ) -> Result<()> {
        store::insert(c, license_id, self.db.now(), kind.code(), actor, purpose).await
    }

    /// The holder's 用证记录: who used their licenses, newest first.
    pub async fn my_usage(&self, actor: &Actor) -> Result<Vec<Usage>> {
        let ids: Vec<i64> = self.mine(actor).await?.iter().map(|l| l.id).collect();
        store::of_licenses(&mut *self.conn().await?, &ids, 200).await
    }
}
