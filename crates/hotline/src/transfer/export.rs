//! Export of ticket lists as Excel workbooks (`GET /api/v1/hotline/tickets.xlsx`).
//!
//! The rows are exactly what the caller may list: the same filters as
//! `GET /api/v1/hotline/tickets`, the caller's data scope, and personal data masked unless the
//! caller's role may see it (all through [`HotlineService::export_list`]). Headers are Chinese,
//! times China time, departments, categories and regions by name.

use crate::domain::Ticket;
use crate::service::{HotlineService, TicketQuery, TicketView, EXPORT_MAX_ROWS};
use kernel::error::{Error, Result};
use kernel::{Actor, Db};
use std::collections::HashMap;
use tabular::Cell;

/// The columns, in order.
pub const HEADERS: [&str; 22] = [
    "编号",
    "渠道",
    "类型",
    "紧急程度",
    "状态",
    "来电人",
    "电话",
    "地址",
    "区划",
    "标题",
    "内容",
    "分类",
    "承办单位",
    "签收时限",
    "答复时限",
    "亮牌",
    "答复",
    "答复时间",
    "满意度",
    "重办次数",
    "受理时间",
    "办结时间",
];

/// An exported workbook.
pub struct Export {
    pub xlsx: Vec<u8>,
    /// Rows written.
    pub rows: usize,
    /// Tickets that matched; more than `rows` when the export was cut at [`EXPORT_MAX_ROWS`].
    pub matched: i64,
    /// `工单-20250314.xlsx` (today, China time).
    pub file_name: String,
}

/// Names for ids, looked up once per export.
struct Names {
    categories: HashMap<i64, String>,
    departments: HashMap<i64, String>,
    regions: HashMap<String, String>,
}

impl Names {
    async fn load(svc: &HotlineService, db: &Db, items: &[TicketView]) -> Result<Names> {
        let categories = svc
            .categories()
            .await?
            .into_iter()
            .map(|c| (c.id, c.path))
            .collect();
        let org = org::OrgService::new(db.clone(), Default::default());
        // Names of departments and regions are not personal data, and a handler's export
        // names the main department of tickets it co-handles, which its own scope may not
        // cover: they are looked up with the system's rights.
        let system = Actor::system();
        let mut departments = HashMap::new();
        let mut regions = HashMap::new();
        for v in items {
            let t = &v.ticket;
            if let Some(d) = t.main_dept_id {
                if let std::collections::hash_map::Entry::Vacant(e) = departments.entry(d) {
                    let name = match org.department(&system, d).await {
                        Ok(dep) => dep.name,
                        Err(_) => format!("单位 {d}"),
                    };
                    e.insert(name);
                }
            }
            if let Some(code) = t.location.region_code.as_deref() {
                if !regions.contains_key(code) {
                    let name = org
                        .region_by_code(code)
                        .await?
                        .map_or_else(|| code.to_owned(), |r| format!("{}（{code}）", r.name));
                    regions.insert(code.to_owned(), name);
                }
            }
        }
        Ok(Names {
            categories,
            departments,
            regions,
        })
    }
}

fn time(ms: Option<i64>) -> Cell {
    ms.map_or(Cell::Empty, |ms| {
        Cell::DateTime(kernel::clock::to_china(ms).naive_local())
    })
}

/// Text cut to what an Excel cell holds (32,767 characters), so one long text cannot fail
/// the whole export.
fn text(s: Option<&str>) -> Cell {
    const MAX: usize = 32_000;
    match s {
        None | Some("") => Cell::Empty,
        Some(s) if s.chars().count() > MAX => {
            Cell::Text(format!("{}…", s.chars().take(MAX).collect::<String>()))
        }
        Some(s) => Cell::Text(s.to_owned()),
    }
}

fn row(t: &Ticket, n: &Names) -> Vec<Cell> {
    let lookup = |m: &HashMap<i64, String>, id: Option<i64>| {
        text(id.and_then(|i| m.get(&i)).map(String::as_str))
    };
    vec![
        text(Some(&t.number)),
        text(Some(t.channel.label())),
        text(Some(t.kind.label())),
        text(Some(t.urgency.label())),
        text(Some(t.status.label())),
        text(t.caller.name.as_deref()),
        text(t.caller.phone.as_deref()),
        text(t.location.address.as_deref()),
        text(
            t.location
                .region_code
                .as_deref()
                .and_then(|c| n.regions.get(c))
                .map(String::as_str),
        ),
        text(Some(&t.title)),
        text(Some(&t.content)),
        lookup(&n.categories, t.category_id),
        lookup(&n.departments, t.main_dept_id),
        time(t.ack_due),
        time(t.reply_due),
        text(Some(t.card.label())),
        text(t.reply.as_deref()),
        time(t.replied_at),
        text(t.satisfaction.map(|s| s.label())),
        Cell::Int(t.reopen_count),
        time(t.accepted_at),
        time(t.closed_at),
    ]
}

/// Builds the workbook of the tickets `actor` may list with filters `q`.
pub async fn export_tickets(
    svc: &HotlineService,
    actor: &Actor,
    q: &TicketQuery,
) -> Result<Export> {
    let (items, matched) = svc.export_list(actor, q, EXPORT_MAX_ROWS).await?;
    let names = Names::load(svc, svc.db(), &items).await?;
    let rows: Vec<Vec<Cell>> = items.iter().map(|v| row(&v.ticket, &names)).collect();
    let count = rows.len();
    let headers: Vec<String> = HEADERS.iter().map(|h| (*h).to_owned()).collect();
    // Tens of thousands of rows take a moment to compress; keep it off the async threads.
    let xlsx =
        tokio::task::spawn_blocking(move || tabular::write_xlsx(&[("工单", &headers, &rows)]))
            .await
            .map_err(Error::internal)?
            .map_err(|e| Error::internal(e.to_string()))?;
    let day = kernel::clock::to_china(svc.db().now()).format("%Y%m%d");
    Ok(Export {
        xlsx,
        rows: count,
        matched,
        file_name: format!("工单-{day}.xlsx"),
    })
}
