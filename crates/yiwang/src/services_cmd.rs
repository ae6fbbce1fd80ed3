//! `yiwang services`: the 实施清单 (service item list) from and to .xlsx, and the item list.

use super::DetailOrInternal;
use anyhow::{Context, Result};
use clap::Subcommand;
use kernel::config::Config;
use kernel::Actor;
use services::ServicesService;
use std::path::{Path, PathBuf};

/// Exit code when the file was read but some of its rows were refused.
pub const EXIT_BAD_ROWS: i32 = 3;

#[derive(Subcommand)]
pub enum ServicesCommand {
    /// Import the 实施清单 from .xlsx (columns as `services export` writes them: 基本编码,
    /// 实施编码, 事项名称, 事项类型, 实施部门, 办件类型, 法定时限, 承诺时限 …). Every row is
    /// checked on its own: a bad row is reported by its line with the column and the reason and
    /// is not imported, while the good rows ARE kept (a new item, or a new draft version of the
    /// item with that 实施编码 — a published version never changes). The exit code is 3 when any
    /// row was refused, 1 when the file could not be read at all.
    Import {
        #[arg(value_name = "FILE.xlsx")]
        file: PathBuf,
        /// Publish every imported item at once (otherwise they wait as drafts).
        #[arg(long)]
        publish: bool,
        /// Problems to list (0 lists all).
        #[arg(long, default_value_t = 50, value_name = "N")]
        show_errors: usize,
    },
    /// Export the published 实施清单 to .xlsx, in the columns `services import` reads.
    Export {
        #[arg(value_name = "FILE.xlsx")]
        file: PathBuf,
    },
    /// List the items: 实施编码, name, latest version and its status.
    Items,
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into())
}

fn require_xlsx(p: &Path) -> Result<()> {
    let ok = p
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    anyhow::ensure!(ok, "实施清单应为 .xlsx 文件：{}", p.display());
    Ok(())
}

/// Runs the command; returns the process exit code (0, or [`EXIT_BAD_ROWS`]).
pub async fn run(cfg: &Config, cmd: ServicesCommand) -> Result<i32> {
    let db = super::open(cfg).await?;
    super::migrate(&db).await?;
    let svc = ServicesService::new(db);
    // The command line acts as an administrator would, audited as `cli`.
    let actor = Actor::cli();
    let fail = |e: kernel::Error| anyhow::anyhow!(e.detail_or_internal());
    match cmd {
        ServicesCommand::Import {
            file,
            publish,
            show_errors,
        } => {
            require_xlsx(&file)?;
            let name = file_name(&file);
            let sheet = tabular::read_path(&file).map_err(|e| anyhow::anyhow!("{name}：{e}"))?;
            let r = services::import::import_items(&svc, &actor, &sheet, publish)
                .await
                .map_err(|e| anyhow::anyhow!("{name}：{}", e.detail_or_internal()))?;
            println!(
                "{name}：{} 行，新增事项 {}，更新 {}，发布 {}，有误 {}",
                r.total_rows,
                r.created,
                r.updated,
                r.published,
                r.errors.len()
            );
            let shown = if show_errors == 0 {
                r.errors.len()
            } else {
                show_errors.min(r.errors.len())
            };
            for e in &r.errors[..shown] {
                // The column, unless the reason already starts with it.
                if e.field.is_empty() || e.reason.starts_with(&e.field) {
                    println!("  第 {} 行：{}", e.line, e.reason);
                } else {
                    println!("  第 {} 行：{}：{}", e.line, e.field, e.reason);
                }
            }
            if shown < r.errors.len() {
                println!(
                    "  ……另有 {} 条问题未列出（--show-errors 0 列出全部）",
                    r.errors.len() - shown
                );
            }
            if !r.errors.is_empty() {
                eprintln!(
                    "错误：{} 行未导入（其余 {} 行已导入）；请改正后重新导入这些行",
                    r.errors.len(),
                    r.created + r.updated
                );
                return Ok(EXIT_BAD_ROWS);
            }
        }
        ServicesCommand::Export { file } => {
            require_xlsx(&file)?;
            let bytes = services::import::export_items(&svc).await.map_err(fail)?;
            let count = svc.search_items("").await.map_err(fail)?.len();
            std::fs::write(&file, &bytes)
                .with_context(|| format!("无法写入 {}", file.display()))?;
            println!(
                "已导出实施清单：{}（已发布事项 {count} 项，{} 字节）",
                file.display(),
                bytes.len()
            );
        }
        ServicesCommand::Items => {
            let items = svc.staff_items(&actor).await.map_err(fail)?;
            println!("{:<26} {:<6} {:<16} 事项名称", "实施编码", "版本", "状态");
            for i in &items {
                println!(
                    "{:<26} {:<6} {:<16} {}",
                    i.content.impl_code,
                    i.version,
                    i.status.label(),
                    i.content.name
                );
            }
            println!("共 {} 项", items.len());
        }
    }
    Ok(0)
}
