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

pub async fn run(cfg: &Config, cmd: ReportCommand) -> Result<()> {
    let ReportCommand::Hotline(r) = cmd;
    let format = match r
        .out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("docx") => Format::Docx,
        Some("xlsx") if r.week.is_none() => Format::Xlsx,
        Some("xlsx") => bail!("典型案例专报只能输出为 .docx 文件"),
        _ => bail!("输出文件应以 .docx 或 .xlsx 结尾：{}", r.out.display()),
    };
    let db = crate::open(cfg).await?;
    // The command line reads everything, as an admin would.
    let actor = Actor::cli();
    let city = cfg.city.name.as_str();
    let err = |e: kernel::Error| anyhow::anyhow!(crate::DetailOrInternal::detail_or_internal(&e));
    let (bytes, what) = match (&r.week, &r.period) {
        (Some(w), _) => {
            let p = report::parse_week(w).map_err(err)?;
            let b = report::typical_docx(&db, &actor, &p, city)
                .await
                .map_err(err)?;
            (b, format!("{}典型案例专报", p.label()))
        }
        (None, Some(p)) => {
            let p = Period::parse(p).map_err(err)?;
            let b = match format {
                Format::Docx => report::monthly_docx(&db, &actor, &p, city).await,
                Format::Xlsx => report::monthly_xlsx(&db, &actor, &p, city).await,
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
