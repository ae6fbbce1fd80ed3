//! `yiwang sharing …`: the gateway's call log — verify the chain (table and archive files),
//! archive whole months to files.

use crate::{cli_error, open};
use anyhow::Result;
use clap::Subcommand;
use kernel::config::Config;
use kernel::Actor;
use sharing::gateway::domain::{parse_month, CallVerification};
use sharing::SharingService;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum SharingCommand {
    /// Recompute the gateway call log's SM3 chain and name the first tampered call (exit code
    /// 2 if broken). The same as `sharing calls verify`.
    VerifyLog,
    /// The gateway's call log: verify, archive by month.
    #[command(subcommand)]
    Calls(CallsCommand),
}

#[derive(Subcommand)]
pub enum CallsCommand {
    /// Verify the call log in the database from the archive boundary; with --archive, the
    /// archived months' files too. Names the first bad call (month and seq); exit code 2.
    Verify {
        /// The folder the archived months were written to.
        #[arg(long, value_name = "DIR")]
        archive: Option<PathBuf>,
    },
    /// Write each whole month before YYYYMM to DIR (JSON lines + manifest with SM3), check the
    /// files, then remove those months from the database in small batches.
    Archive {
        /// The first month kept in the database, YYYYMM (at the latest the current month).
        #[arg(long, value_name = "YYYYMM")]
        before: String,
        /// The archive folder (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// Prints a verification; whether it found the chain whole.
fn report(what: &str, v: &CallVerification) -> bool {
    match &v.first_broken {
        None => {
            println!(
                "{what}完整：{} 条调用记录（自第 {} 条起），链头哈希 {}",
                v.calls, v.from_seq, v.head_hash
            );
            true
        }
        Some(b) => {
            let month = b.month.map(|m| format!("{m} 月份的")).unwrap_or_default();
            eprintln!(
                "{what}断裂：{month}第 {} 条调用记录 —— {}（此前 {} 条完好）",
                b.seq, b.reason, v.calls
            );
            false
        }
    }
}

pub async fn run(cfg: &Config, cmd: SharingCommand) -> Result<i32> {
    let db = open(cfg).await?;
    crate::migrate(&db).await?;
    let svc = SharingService::new(db);
    match cmd {
        SharingCommand::VerifyLog
        | SharingCommand::Calls(CallsCommand::Verify { archive: None }) => {
            let v = svc.verify_calls().await.map_err(cli_error)?;
            if v.archived > 0 {
                println!(
                    "另有 {} 条已归档的调用记录（用 --archive 校验归档文件）",
                    v.archived
                );
            }
            Ok(if report("调用日志", &v) { 0 } else { 2 })
        }
        SharingCommand::Calls(CallsCommand::Verify { archive: Some(dir) }) => {
            let a = svc.verify_call_archives(&dir).await.map_err(cli_error)?;
            let files_ok = report("归档文件", &a);
            let v = svc.verify_calls().await.map_err(cli_error)?;
            let table_ok = report("调用日志", &v);
            Ok(if files_ok && table_ok { 0 } else { 2 })
        }
        SharingCommand::Calls(CallsCommand::Archive { before, out }) => {
            let Some(month) = parse_month(&before) else {
                anyhow::bail!("--before 应写成 YYYYMM，例如 202601（收到“{before}”）");
            };
            let r = svc
                .archive_calls(&Actor::cli(), month, &out)
                .await
                .map_err(cli_error)?;
            if r.leftovers_removed > 0 {
                println!(
                    "已删除上次中断时留下的 {} 条已归档调用记录",
                    r.leftovers_removed
                );
            }
            if r.months.is_empty() {
                println!("{before} 之前没有尚未归档的调用记录。");
            }
            for m in &r.months {
                println!(
                    "已归档 {}：{} 条（第 {}–{} 条），文件 {}，SM3 {}",
                    m.month,
                    m.rows,
                    m.first_seq,
                    m.last_seq,
                    out.join(&m.file).display(),
                    m.sm3
                );
            }
            Ok(0)
        }
    }
}
