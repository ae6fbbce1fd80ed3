//! `yiwang calendar`: the working-day calendar (法定节假日与调休) that every deadline follows.

use anyhow::{Context, Result};
use clap::Subcommand;
use kernel::calendar::{self, DayKind, YearData};
use kernel::config::Config;

#[derive(Subcommand)]
pub enum CalendarCommand {
    /// Show a year's holidays and adjusted workdays, and whether it is provisional.
    Show {
        /// The year, e.g. 2026.
        year: i32,
    },
    /// Add or replace a year from a TOML file (the format of crates/kernel/calendar/2026.toml),
    /// e.g. when the State Council publishes next year's schedule.
    Import {
        /// The TOML file.
        file: std::path::PathBuf,
    },
}

pub async fn run(cfg: &Config, cmd: CalendarCommand) -> Result<()> {
    let db = crate::open(cfg).await?;
    kernel::migrate::run(&db, &web::migrations())
        .await
        .map_err(crate::cli_error)?;
    match cmd {
        CalendarCommand::Show { year } => {
            let cal = calendar::load(&db).await.map_err(crate::cli_error)?;
            if !cal.covers(year) {
                println!("{year} 年的节假日安排尚未录入：只按周末计算。请用 `yiwang calendar import FILE` 录入。");
                return Ok(());
            }
            println!(
                "{year} 年{}",
                if cal.is_provisional(year) {
                    "（暂定，未按国务院办公厅正式通知核对）"
                } else {
                    ""
                }
            );
            let mut d = chrono::NaiveDate::from_ymd_opt(year, 1, 1).context("year")?;
            while chrono::Datelike::year(&d) == year {
                match cal.kind(d) {
                    DayKind::Holiday => println!("  {d}  放假  {}", cal.day_name(d).unwrap_or("")),
                    DayKind::AdjustedWorkday => {
                        println!("  {d}  调休上班  {}", cal.day_name(d).unwrap_or(""))
                    }
                    _ => {}
                }
                d = d.succ_opt().context("date")?;
            }
        }
        CalendarCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("读取 {} 失败", file.display()))?;
            let data = YearData::parse_toml(&text).map_err(anyhow::Error::msg)?;
            calendar::store_year(&db, &kernel::audit::AuditActor::cli(), &data)
                .await
                .map_err(crate::cli_error)?;
            println!(
                "已录入 {} 年节假日安排（{} 天特殊安排{}）。",
                data.year,
                data.days.len(),
                if data.provisional { "，暂定" } else { "" }
            );
        }
    }
    Ok(())
}
