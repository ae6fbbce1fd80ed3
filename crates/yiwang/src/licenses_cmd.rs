//! `yiwang licenses`: issuing keys (list, rotate), the offline trust cache (`sync-trust`) and
//! offline 查证 (`verify FILE|-`), which reads nothing but the file and the cache.

use super::DetailOrInternal;
use anyhow::{Context, Result};
use clap::Subcommand;
use kernel::config::Config;
use kernel::Actor;
use licenses::verify::domain::{evaluate, TrustBundle};
use licenses::LicensesService;
use std::io::Read;
use std::path::PathBuf;

/// Exit code of `verify` when the license is not valid.
pub const EXIT_INVALID: i32 = 2;

#[derive(Subcommand)]
pub enum LicensesCommand {
    /// Issuing keys (SM2, one active pair per department).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Cache every issuer key and status list for offline 查证: from this database (--db), or
    /// from a yiwang server (--from http://…).
    SyncTrust {
        /// A yiwang server's address; without it the configured database is read.
        #[arg(long, value_name = "URL")]
        from: Option<String>,
        /// Where to keep the cache.
        #[arg(long, default_value = "yiwang-trust.json", value_name = "FILE")]
        out: PathBuf,
    },
    /// 存量证照入库: existing paper licenses of one type from .xlsx/.csv (columns 证照编号,
    /// 持证人证件号码, 持证人, 发证日期 and one per 照面项 by its name). Each row is signed and
    /// audited; a bad row is reported by line and column and skipped, the good ones kept; the
    /// same 证照编号 is never imported twice. Exit code 3 when any row was refused.
    Import {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The license type's code.
        #[arg(long = "type", value_name = "CODE")]
        type_code: String,
        /// The issuing department (id or name); the type's first one when omitted.
        #[arg(long, value_name = "ID|NAME")]
        dept: Option<String>,
    },
    /// Verify a credential offline (a file, or - for standard input) with the cached keys and
    /// status lists: no network, no database. Exit code 0 valid, 2 invalid, 1 unreadable.
    Verify {
        #[arg(value_name = "FILE|-")]
        file: String,
        #[arg(long, default_value = "yiwang-trust.json", value_name = "FILE")]
        trust: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// List every key: kid, department, state, public key.
    List,
    /// Make a new key pair for a department (by id or name); the old one is retired and still
    /// verifies what it signed.
    Rotate {
        #[arg(long, value_name = "ID|NAME")]
        dept: String,
    },
}

async fn service(cfg: &Config) -> Result<LicensesService> {
    let db = super::open(cfg).await?;
    super::migrate(&db).await?;
    Ok(LicensesService::from_config(db, cfg))
}

pub async fn run(cfg: &Config, cmd: LicensesCommand) -> Result<i32> {
    let fail = |e: kernel::Error| anyhow::anyhow!(e.detail_or_internal());
    let cli = Actor::cli();
    match cmd {
        LicensesCommand::Keys(KeysCommand::List) => {
            let svc = service(cfg).await?;
            let keys = svc.keys(&cli).await.map_err(fail)?;
            if keys.is_empty() {
                println!("尚无签发密钥（部门首次签发时自动生成）");
            }
            for k in keys {
                let state = if k.active {
                    "在用"
                } else if k.retired_at.is_some() {
                    "已轮换"
                } else {
                    "外部登记"
                };
                println!(
                    "{}\t部门 {}\t{state}\t{}\t{}",
                    k.kid,
                    k.dept_id,
                    kernel::clock::format_minute(k.created_at),
                    k.public_key
                );
            }
        }
        LicensesCommand::Import {
            file,
            type_code,
            dept,
        } => {
            let svc = service(cfg).await?;
            let dept_id = match dept {
                Some(d) => Some(dept_of(&svc, &d).await?),
                None => svc
                    .license_type_by_code(&type_code)
                    .await
                    .map_err(fail)?
                    .and_then(|t| {
                        t.published()
                            .and_then(|v| v.content.dept_ids.first().copied())
                    }),
            };
            let sheet = tabular::read_path(&file)
                .map_err(|e| anyhow::anyhow!("{}：{e}", file.display()))?;
            let r = svc
                .import(&cli, &type_code, dept_id, &sheet)
                .await
                .map_err(fail)?;
            println!(
                "{}：{} 行，入库 {}，此前已入库 {}，有误 {}",
                file.display(),
                r.rows,
                r.imported,
                r.already,
                r.errors.len()
            );
            for e in &r.errors {
                println!("第 {} 行：{}：{}", e.line, e.column, e.detail);
            }
            return Ok(if r.errors.is_empty() { 0 } else { 3 });
        }
        LicensesCommand::Keys(KeysCommand::Rotate { dept }) => {
            let svc = service(cfg).await?;
            let dept_id = dept_of(&svc, &dept).await?;
            let k = svc.rotate_key(&cli, dept_id).await.map_err(fail)?;
            println!(
                "已为部门 {dept_id} 生成新密钥 {}（旧密钥已停用，仍可验证其签发的证照）",
                k.kid
            );
        }
        LicensesCommand::SyncTrust { from, out } => {
            let bundle = match from {
                Some(url) => fetch(&url).await?,
                None => service(cfg).await?.trust_bundle().await.map_err(fail)?,
            };
            std::fs::write(&out, serde_json::to_vec_pretty(&bundle)?)
                .with_context(|| format!("写入 {} 失败", out.display()))?;
            println!(
                "已缓存 {} 个签发密钥、{} 个状态列表到 {}（{}）",
                bundle.keys.len(),
                bundle.status_lists.len(),
                out.display(),
                bundle.generated_at
            );
        }
        LicensesCommand::Verify { file, trust } => {
            let text = if file == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                s
            } else {
                std::fs::read_to_string(&file).with_context(|| format!("读取 {file} 失败"))?
            };
            let doc: serde_json::Value =
                serde_json::from_str(&text).context("凭证不是合法的 JSON")?;
            let bundle: TrustBundle =
                serde_json::from_slice(&std::fs::read(&trust).with_context(|| {
                    format!(
                        "读取信任缓存 {} 失败；请先运行 yiwang licenses sync-trust",
                        trust.display()
                    )
                })?)
                .context("信任缓存已损坏，请重新同步")?;
            let now = chrono::Utc::now().timestamp_millis();
            let v = evaluate(&doc, &bundle.facts(&doc, now));
            if let Some(s) = &v.summary {
                println!("{} {}（{}）", s.type_name, s.identifier, s.issuer);
                println!("持证人：{}", s.holder_name);
            }
            for c in &v.checks {
                println!(
                    "{} {}：{}",
                    if c.ok { "✓" } else { "✗" },
                    label(&c.name),
                    c.message
                );
            }
            println!("{}", v.message);
            return Ok(if v.valid { 0 } else { EXIT_INVALID });
        }
    }
    Ok(0)
}

async fn dept_of(svc: &LicensesService, dept: &str) -> Result<i64> {
    match dept.parse::<i64>() {
        Ok(id) => Ok(id),
        Err(_) => Ok(org::OrgService::new(svc.db().clone(), Default::default())
            .department_by_name(dept)
            .await
            .map_err(|e| anyhow::anyhow!(e.detail_or_internal()))?
            .with_context(|| format!("没有名为“{dept}”的部门"))?
            .id),
    }
}

fn label(check: &str) -> &'static str {
    match check {
        "signature" => "签名",
        "issuer_key" => "签发密钥",
        "status" => "状态",
        "validity" => "有效期",
        "tampering" => "防篡改",
        _ => "其他",
    }
}

async fn fetch(base: &str) -> Result<TrustBundle> {
    let url = format!("{}/api/v1/licenses/trust", base.trim_end_matches('/'));
    let r = reqwest::get(&url)
        .await
        .with_context(|| format!("无法连接 {url}"))?;
    anyhow::ensure!(r.status().is_success(), "{url} 答复 {}", r.status());
    r.json().await.context("服务器返回的信任数据无法解析")
}
