//! `yiwang report`: reports written to files, for the bureau's monthly and weekly routine.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use hotline::report::{self, Period};
use kernel::config::Config;
use kernel::Actor;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ReportCommand {
    /// 12345 hotline: the 运行情况 report of a period (--period, .docx or .xlsx) or the weekly
    /// 典型案例专报 (--week, .docx).
    Hotline(HotlineReport),
    /// 一网通办: the monthly 政务服务运行情况 (.docx, by department) or the figures workbook
    /// (.xlsx: 受理量, 办结量, 办结率, 网办率, 承诺时限压缩率, 平均办理时长, 好差评 …), the same
    /// documents the API serves.
    Services(ServicesReport),
}

#[derive(Args)]
pub struct ServicesReport {
    /// A month (2026-03) or a year (2026), China time.
    #[arg(long, value_name = "PERIOD")]
    period: String,
    /// Output file: .docx (Word/WPS) or .xlsx (Excel/WPS).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Rows of the workbook: dept (default), region, item or total. The .docx is by department.
    #[arg(long, value_name = "BY", default_value = "dept")]
    by: String,
}

#[derive(Args)]
pub struct HotlineReport {
    /// Period of the 运行情况 report: a month (2025-03), an ISO week (2025-W11) or days
    /// (2025-03-01..2025-03-15), China time.
    #[arg(
        long,
        value_name = "PERIOD",
        conflicts_with = "week",
        required_unless_present = "week"
    )]
    period: Option<String>,
    /// ISO week of the 典型案例专报, e.g. 2025-W11.
    #[arg(long, value_name = "WEEK")]
    week: Option<String>,
    /// Output file: .docx (Word/WPS) or, for --period, .xlsx (Excel/WPS).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

enum Format {
    Docx,
    Xlsx,
}

fn extension(p: &std::path::Path) -> Option<String> {
    p.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

async fn services(cfg: &Config, r: ServicesReport) -> Result<()> {
    use services::report::{self as sr, GroupBy};
    let format = match extension(&r.out).as_deref() {
        Some("docx") => Format::Docx,
        Some("xlsx") => Format::Xlsx,
        _ => bail!("输出文件应以 .docx 或 .xlsx 结尾：{}", r.out.display()),
    };
    let group_by = match r.by.as_str() {
        "dept" => GroupBy::Dept,
        "region" => GroupBy::Region,
        "item" => GroupBy::Item,
        "total" => GroupBy::Total,
        other => bail!("--by 应为 dept、region、item 或 total，而不是“{other}”"),
    };
    let db = crate::open(cfg).await?;
    let svc = services::ServicesService::new(db);
    let err = |e: kernel::Error| anyhow::anyhow!(crate::DetailOrInternal::detail_or_internal(&e));
    let (bytes, what) = match format {
        Format::Docx => {
            // The leaders' report lists departments, as the API's monthly.docx does.
            let rep = svc
                .report(&Actor::cli(), &r.period, GroupBy::Dept)
                .await
                .map_err(err)?;
            (
                sr::to_docx(&rep, &cfg.city.name).map_err(err)?,
                format!("{}政务服务运行情况", rep.period),
            )
        }
        Format::Xlsx => {
            let rep = svc
                .report(&Actor::cli(), &r.period, group_by)
                .await
                .map_err(err)?;
            (
                sr::to_xlsx(&rep).map_err(err)?,
                format!("{}政务服务统计表", rep.period),
            )
        }
    };
    std::fs::write(&r.out, &bytes).with_context(|| format!("无法写入 {}", r.out.display()))?;
    println!("已生成{what}：{}（{} 字节）", r.out.display(), bytes.len());
    Ok(())
}

pub async fn run(cfg: &Config, cmd: ReportCommand) -> Result<()> {
    let r = match cmd {
        ReportCommand::Hotline(r) => r,
        ReportCommand::Services(s) => return services(cfg, s).await,
    };
    let format = match extension(&r.out).as_deref() {
        Some("docx") => Format::Docx,
        Some("xlsx") if r.week.is_none() => Format::Xlsx,
        Some("xlsx") => bail!("典型案例专报只能输出为 .docx 文件"),
        _ => bail!("输出文件应以 .docx 或 .xlsx 结尾：{}", r.out.display()),
    };
    let db = crate::open(cfg).await?;
    // The command line reads everything, as an admin would.
    let actor = Actor::cli();
    let reports = report::ReportService::new(db.clone(), cfg.city.name.as_str());
    let err = |e: kernel::Error| anyhow::anyhow!(crate::DetailOrInternal::detail_or_internal(&e));
    let (bytes, what) = match (&r.week, &r.period) {
        (Some(w), _) => {
            let p = report::parse_week(w).map_err(err)?;
            let b = reports.typical_docx(&actor, &p).await.map_err(err)?;
            (b, format!("{}典型案例专报", p.label()))
        }
        (None, Some(p)) => {
            let p = Period::parse(p).map_err(err)?;
            let b = match format {
                Format::Docx => reports.monthly_docx(&actor, &p).await,
                Format::Xlsx => reports.monthly_xlsx(&actor, &p).await,
            }
            .map_err(err)?;
            (b, format!("{}运行情况", p.label()))
        }
        (None, None) => bail!("请用 --period 或 --week 指定统计期"),
    };
    std::fs::write(&r.out, &bytes).with_context(|| format!("无法写入 {}", r.out.display()))?;
    println!("已生成{what}：{}（{} 字节）", r.out.display(), bytes.len());
    Ok(())
}
