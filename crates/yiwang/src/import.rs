//! `yiwang import`: historical tickets (留言) and the complaint taxonomy from CSV/Excel files.

use super::DetailOrInternal;
use anyhow::{bail, Result};
use clap::Subcommand;
use hotline::transfer::import::ImportReport;
use indicatif::{ProgressBar, ProgressStyle};
use kernel::config::Config;
use kernel::Actor;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import historical tickets from CSV/Excel files (留言编号/id, 留言主题/title, 留言时间/time,
    /// 留言详情/detail, optional 一级分类, 答复意见, 答复时间, 点赞数, 反对数…). A message
    /// imported before is completed with what it lacked, never duplicated. Import the
    /// categories first so that 一级分类 can be matched.
    Tickets {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Problems to list per file (0 lists all).
        #[arg(long, default_value_t = 20, value_name = "N")]
        show_errors: usize,
    },
    /// Import the complaint taxonomy (一级分类/二级分类/三级分类 or level1/level2/level3);
    /// categories already there are kept.
    Categories {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into())
}

fn summary(r: &ImportReport) -> String {
    format!(
        "{} 行：新增 {}，补充 {}，未变 {}，跳过 {}",
        r.total_rows, r.imported, r.updated, r.unchanged, r.skipped
    )
}

pub async fn run(cfg: &Config, cmd: ImportCommand) -> Result<()> {
    let db = super::open(cfg).await?;
    super::migrate(&db).await?;
    let svc = hotline::HotlineService::new(db, cfg.city.name.clone());
    let actor = Actor::cli();
    match cmd {
        ImportCommand::Categories { file } => {
            let name = file_name(&file);
            let sheet = tabular::read_path(&file).map_err(|e| anyhow::anyhow!("{e}"))?;
            let rows = hotline::transfer::import::taxonomy_rows(&sheet)
                .map_err(|e| anyhow::anyhow!("{name}：{}", e.detail_or_internal()))?;
            let added = svc
                .import_taxonomy(&actor, &rows)
                .await
                .map_err(|e| anyhow::anyhow!("{name}：{}", e.detail_or_internal()))?;
            println!(
                "{name}：{} 行，新增分类 {added} 个（已有的分类保持不变）",
                rows.len()
            );
        }
        ImportCommand::Tickets { files, show_errors } => {
            let started = Instant::now();
            let mut total = ImportReport::default();
            let mut failed = Vec::new();
            let style = ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} 行 {per_sec} 剩余 {eta}",
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .progress_chars("=> ");
            for path in &files {
                let name = file_name(path);
                let sheet = match tabular::read_path(path) {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("{name}：{e}");
                        failed.push(name);
                        continue;
                    }
                };
                // Drawn on stderr, and only on a terminal: logs and pipes get the summary alone.
                let bar = ProgressBar::new(sheet.rows.len() as u64)
                    .with_style(style.clone())
                    .with_message(name.clone());
                let result = hotline::transfer::import::import_tickets(
                    &svc,
                    &actor,
                    &sheet,
                    &name,
                    &mut |done, len| {
                        bar.set_length(len as u64);
                        bar.set_position(done as u64);
                    },
                )
                .await;
                bar.finish_and_clear();
                let r = match result {
                    Ok(r) => r,
                    Err(e) => {
                        eprintln!("{name}：导入失败：{}", e.detail_or_internal());
                        failed.push(name);
                        continue;
                    }
                };
                println!("{name}：{}", summary(&r));
                let shown = if show_errors == 0 {
                    r.errors.len()
                } else {
                    show_errors.min(r.errors.len())
                };
                for e in &r.errors[..shown] {
                    println!("  第 {} 行：{}", e.line, e.reason);
                }
                if shown < r.errors.len() {
                    println!(
                        "  ……另有 {} 条问题未列出（--show-errors 0 列出全部）",
                        r.errors.len() - shown
                    );
                }
                total.total_rows += r.total_rows;
                total.imported += r.imported;
                total.updated += r.updated;
                total.unchanged += r.unchanged;
                total.skipped += r.skipped;
            }
            println!(
                "合计 {} 个文件，{}；用时 {:.1} 秒",
                files.len() - failed.len(),
                summary(&total),
                started.elapsed().as_secs_f64()
            );
            if !failed.is_empty() {
                bail!("{} 个文件未能导入：{}", failed.len(), failed.join("、"));
            }
        }
    }
    Ok(())
}
