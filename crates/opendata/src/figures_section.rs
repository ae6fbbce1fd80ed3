//! 开放数据's section of the sharing figures (`sharing::figures::contrib`): sharing cannot call
//! this module (it stands below it), so this module hands sharing its section instead.

use crate::domain::ApplicationStatus;
use crate::OpendataService;
use kernel::error::Result;
use kernel::{Actor, Db};
use sharing::figures::contrib::{Section, SectionFuture, SectionRow, SectionTable};

/// Registered from [`crate::module`].
pub fn contributor(db: Db, _actor: Actor, from: i64, to: i64) -> SectionFuture {
    Box::pin(section(db, from, to))
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "—".into()
    } else {
        format!("{:.1}%", n as f64 / d as f64 * 100.0)
    }
}

async fn section(db: Db, from: i64, to: i64) -> Result<Section> {
    let f = OpendataService::new(db).figures_between(from, to).await?;
    let app = |s: ApplicationStatus| f.applications.get(s.code()).copied().unwrap_or(0);
    let apps: i64 = f.applications.values().sum();
    let row = |label: &str, value: String| SectionRow {
        label: label.into(),
        value,
    };
    let open_rate = pct(f.datasets, f.catalog_entries);
    Ok(Section {
        key: "opendata".into(),
        title: "开放数据".into(),
        summary: format!(
            "截至统计时，开放数据集 {} 个（无条件开放 {} 个、有条件开放 {} 个），开放率 {open_rate}；期内浏览 {} 次、下载 {} 次、接口调用 {} 次，提出数据申请 {apps} 件、开放需求 {} 件。",
            f.datasets, f.unconditional, f.conditional, f.views, f.downloads, f.api_calls, f.demands
        ),
        rows: vec![
            row("开放数据集数", f.datasets.to_string()),
            row("无条件开放", f.unconditional.to_string()),
            row("有条件开放", f.conditional.to_string()),
            row("开放率", open_rate),
            row("浏览次数", f.views.to_string()),
            row("下载次数", f.downloads.to_string()),
            row("接口调用次数", f.api_calls.to_string()),
            row("数据申请", apps.to_string()),
            row("申请已同意", app(ApplicationStatus::Approved).to_string()),
            row("申请未同意", app(ApplicationStatus::Refused).to_string()),
            row("申请待审核", app(ApplicationStatus::Pending).to_string()),
            row("开放需求", f.demands.to_string()),
        ],
        by_department: Some(SectionTable {
            headers: ["部门", "已发布目录", "开放数据集", "开放率", "下载次数"]
                .map(String::from)
                .to_vec(),
            rows: f
                .by_department
                .iter()
                .map(|d| {
                    vec![
                        d.name.clone(),
                        d.published.to_string(),
                        d.open.to_string(),
                        pct(d.open, d.published),
                        d.downloads.to_string(),
                    ]
                })
                .collect(),
        }),
    })
}
