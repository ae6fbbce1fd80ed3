//! `yiwang`: one binary for the server and every administrative task.

mod backup;
mod calendar_cmd;
mod demo;
mod demo_hotline;
mod demo_licenses;
mod demo_registries;
mod demo_services;
mod demo_services_history;
mod demo_sharing;
mod demo_sso;
mod hotline_cmd;
mod import;
mod licenses_cmd;
mod report;
mod services_cmd;
mod sharing_cmd;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use kernel::config::Config;
use kernel::{Actor, Db, Role};
use std::io::Read;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "yiwang", version, about = "一网：12345 热线、一网通办、电子证照与数据共享的一体化平台", long_about = None)]
struct Cli {
    /// Configuration file (TOML). Default: ./yiwang.toml when it exists.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database: a SQLite file path or URL, or postgres://… (overrides config and YIWANG_DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    db: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (applies pending migrations first).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Build a fresh demo city in ./yiwang.db (or --db) and serve it.
    Demo {
        /// Seed of the generator; the same seed gives the same city.
        #[arg(long, default_value_t = 2025)]
        seed: u64,
        /// Address to listen on.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Build the database only; do not serve.
        #[arg(long)]
        no_serve: bool,
    },
    /// Apply pending database migrations (a no-op when up to date).
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Audit chain commands.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The working-day calendar (法定节假日与调休): show a year, import a year.
    #[command(subcommand)]
    Calendar(calendar_cmd::CalendarCommand),
    /// Import historical tickets or the complaint taxonomy from CSV/Excel files.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Write reports to files (12345 hotline: monthly 运行情况, weekly 典型案例专报; 一网通办:
    /// monthly 政务服务运行情况 and the figures workbook).
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// 一网通办：实施清单导入导出（.xlsx）、事项列表
    #[command(subcommand)]
    Services(services_cmd::ServicesCommand),
    /// 电子证照：签发密钥（列表、轮换）、离线查证与信任缓存同步
    #[command(subcommand)]
    Licenses(licenses_cmd::LicensesCommand),
    /// 12345 热线的智能分析：训练、分类、评估、热点、答复质量
    #[command(subcommand)]
    Hotline(hotline_cmd::HotlineCommand),
    /// 一网共享：共享网关调用日志的校验与按月归档
    #[command(subcommand)]
    Sharing(sharing_cmd::SharingCommand),
    /// Back up the database (SQLite or PostgreSQL, while it serves) to FILE: a portable archive,
    /// every table as JSON lines with a manifest and an SM3 digest.
    Backup {
        /// Destination file (never overwritten).
        #[arg(value_name = "FILE")]
        out: PathBuf,
    },
    /// Restore a backup into an empty database (SQLite or PostgreSQL, either way round): the
    /// archive is checked first, then the schema and the rows are written in one transaction.
    Restore {
        /// The backup file written by `yiwang backup`.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// First start of a real deployment: the province and city regions, the bureau and its first
    /// administrator (a generated password is printed). Everything else is then done in the web UI.
    Bootstrap(Bootstrap),
    /// Print the effective configuration (secrets hidden).
    Config,
    /// Print the version.
    Version,
}

#[derive(Args)]
struct Bootstrap {
    /// The province, as CODE:NAME (GB/T 2260), e.g. 690000:西地省.
    #[arg(long)]
    province: String,
    /// The city (or county) the bureau serves, as CODE:NAME, e.g. 690100:A市.
    #[arg(long)]
    city: String,
    /// The bureau's name, e.g. A市政务服务和数据管理局.
    #[arg(long)]
    bureau: String,
    /// Login name of the 系统管理员; the 安全管理员 and 审计管理员 are `secadmin` and
    /// `auditadmin` (三员: three people, three accounts).
    #[arg(long, default_value = "admin")]
    admin: String,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user.
    Add(UserAdd),
    /// List users.
    List {
        /// Only users with this role (e.g. handler).
        #[arg(long)]
        role: Option<String>,
    },
    /// Set a new password for a user (generated and printed unless given on stdin).
    ResetPassword {
        username: String,
        /// Read the new password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Args)]
struct UserAdd {
    /// Login name: 3–32 lowercase letters, digits, _ . -
    #[arg(long)]
    username: String,
    /// Person's name as shown in the UI.
    #[arg(long)]
    name: String,
    /// Department, by id or exact name (required for staff roles).
    #[arg(long)]
    dept: Option<String>,
    /// Role; repeat for several (citizen, operator, dispatcher, handler, supervisor, clerk, approver, data_officer, chief_data_officer, analyst, sys_admin, sec_admin, audit_admin).
    #[arg(long = "role", required = true)]
    roles: Vec<String>,
    /// Read the password from standard input (otherwise one is generated and printed).
    #[arg(long)]
    password_stdin: bool,
}

fn init_logging(cfg: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&cfg.log.filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cfg.log.format == "json" {
        let _ = builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init();
    } else {
        let _ = builder.compact().try_init();
    }
}

fn load_config(cli: &Cli) -> Result<Config> {
    let mut cfg = Config::load(cli.config.as_deref()).map_err(anyhow::Error::msg)?;
    if let Some(db) = &cli.db {
        cfg.database.url = kernel::db::normalize_url(db);
    }
    cfg.validate().map_err(anyhow::Error::msg)?;
    Ok(cfg)
}

pub(crate) async fn open(cfg: &Config) -> Result<Db> {
    let db = Db::connect(&cfg.database.url)
        .await
        .map_err(|e| anyhow::anyhow!("打开数据库失败：{}", e.detail_or_internal()))?;
    Ok(db.with_sealer(sealer(cfg)?))
}

/// The keys that seal personal data at rest, from `crypto.key_file` (or the default key file
/// beside the database), made on first start if there is none.
pub(crate) fn sealer(cfg: &Config) -> Result<kernel::sealed::Sealer> {
    let path = cfg.crypto.key_path(&cfg.database.url);
    let (sealer, made) =
        kernel::sealed::Sealer::load_or_create(&path).map_err(anyhow::Error::msg)?;
    if made {
        tracing::warn!(path = %path.display(), "made a new data key file: back it up with the database, the sealed personal data cannot be read without it");
        eprintln!(
            "已生成个人信息加密密钥文件 {}（请与数据库一并备份；丢失后加密的身份证号、手机号将无法读取）",
            path.display()
        );
    }
    Ok(sealer)
}

/// The error as the operator at the command line should read it, cause included.
pub(crate) fn cli_error(e: kernel::Error) -> anyhow::Error {
    anyhow::anyhow!(e.detail_or_internal())
}

pub(crate) trait DetailOrInternal {
    fn detail_or_internal(&self) -> String;
}

impl DetailOrInternal for kernel::Error {
    // On the command line the operator may see the internal cause.
    fn detail_or_internal(&self) -> String {
        match self {
            kernel::Error::Internal(s) => s.clone(),
            kernel::Error::Validation(f) => f
                .iter()
                .map(|f| format!("{}：{}", f.field, f.detail))
                .collect::<Vec<_>>()
                .join("；"),
            other => other.detail(),
        }
    }
}

async fn migrate(db: &Db) -> Result<()> {
    let applied = kernel::migrate::run(db, &web::migrations())
        .await
        .map_err(|e| anyhow::anyhow!(e.detail_or_internal()))?;
    for a in &applied {
        tracing::info!(module = %a.module, version = a.version, name = %a.name, "migration applied");
    }
    web::seal_at_rest(db)
        .await
        .map_err(|e| anyhow::anyhow!(e.detail_or_internal()))?;
    Ok(())
}

fn generate_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    loop {
        let p: String = (0..14)
            .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
            .collect();
        // The password policy wants three classes: lower, upper and digits.
        if p.chars().any(|c| c.is_ascii_digit())
            && p.chars().any(|c| c.is_ascii_lowercase())
            && p.chars().any(|c| c.is_ascii_uppercase())
        {
            return p;
        }
    }
}

fn read_password_stdin() -> Result<String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s)?;
    Ok(s.trim_end_matches(['\n', '\r']).to_owned())
}

pub async fn serve_until_signal(ctx: webcore::AppCtx, listen: &str) -> Result<()> {
    let stop = web::shutdown_signal();
    let server = web::start(ctx, listen)
        .await
        .with_context(|| format!("无法监听 {listen}"))?;
    tracing::info!(url = %server.url(), "yiwang is serving");
    stop.await;
    tracing::info!("shutting down: finishing requests in flight");
    server.stop().await;
    Ok(())
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("错误：{e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<()> {
    let cfg = load_config(&cli)?;
    init_logging(&cfg);
    match cli.command {
        Command::Version => {
            println!("yiwang {}", env!("CARGO_PKG_VERSION"));
        }
        Command::Config => {
            print!("{}", cfg.to_display_toml());
        }
        Command::Migrate => {
            let db = open(&cfg).await?;
            let applied = kernel::migrate::run(&db, &web::migrations())
                .await
                .map_err(|e| anyhow::anyhow!(e.detail_or_internal()))?;
            let sealed = web::seal_at_rest(&db)
                .await
                .map_err(|e| anyhow::anyhow!(e.detail_or_internal()))?;
            if sealed > 0 {
                println!("已加密 {sealed} 项原以明文保存的个人信息。");
            }
            if applied.is_empty() {
                println!("数据库已是最新，无需迁移。");
            }
            for a in applied {
                println!("已应用迁移 {}/{:04} {}", a.module, a.version, a.name);
            }
        }
        Command::Serve { listen } => {
            let mut cfg = cfg;
            if let Some(l) = listen {
                cfg.server.listen = l;
            }
            cfg.validate().map_err(anyhow::Error::msg)?;
            let db = open(&cfg).await?;
            migrate(&db).await?;
            let listen = cfg.server.listen.clone();
            serve_until_signal(web::context(db, cfg), &listen).await?;
        }
        Command::Demo {
            seed,
            listen,
            no_serve,
        } => {
            let mut cfg = cfg;
            if let Some(l) = listen {
                cfg.server.listen = l;
            }
            cfg.validate().map_err(anyhow::Error::msg)?;
            if cfg.licenses.master_key.is_empty() {
                cfg.licenses.master_key = demo::licenses_master_key(&cfg)?;
            }
            // The demo's documented accounts log in by password alone; a deployment served with
            // `yiwang serve` keeps its configured two-factor policy.
            cfg.auth.two_factor = kernel::config::TwoFactorPolicy::Off;
            let db = demo::create(&cfg, seed).await?;
            if no_serve {
                println!(
                    "演示数据库已建好：{}",
                    kernel::db::redact_url(&cfg.database.url)
                );
                demo::print_logins();
                return Ok(());
            }
            let listen = cfg.server.listen.clone();
            let stop = web::shutdown_signal();
            let server = web::start(web::context(db, cfg), &listen)
                .await
                .with_context(|| format!("无法监听 {listen}"))?;
            println!();
            println!("一网演示已启动：{}", server.url());
            demo::print_logins();
            println!("按 Ctrl-C 停止。");
            stop.await;
            server.stop().await;
        }
        Command::Bootstrap(b) => {
            let db = open(&cfg).await?;
            migrate(&db).await?;
            let org = org::OrgService::new(db.clone(), cfg.auth.clone());
            let cli = Actor::cli();
            let fail = |e: kernel::Error| anyhow::anyhow!(e.detail_or_internal());
            let mut city_code = String::new();
            for spec in [&b.province, &b.city] {
                let (code, name) = spec
                    .split_once(':')
                    .with_context(|| format!("“{spec}”应写成 代码:名称，例如 690100:A市"))?;
                org.create_region(
                    &cli,
                    org::NewRegion {
                        code: code.trim().into(),
                        name: name.trim().into(),
                    },
                )
                .await
                .map_err(fail)?;
                city_code = code.trim().into();
            }
            let d = org
                .create_department(
                    &cli,
                    org::NewDepartment {
                        name: b.bureau.clone(),
                        short_name: None,
                        region_code: city_code,
                        parent_id: None,
                        credit_code: None,
                        phone: None,
                    },
                )
                .await
                .map_err(fail)?;
            println!("已建立 {}。", b.bureau);
            for (username, role) in [
                (b.admin.as_str(), Role::SysAdmin),
                ("secadmin", Role::SecAdmin),
                ("auditadmin", Role::AuditAdmin),
            ] {
                let password = generate_password();
                org.create_user(
                    &cli,
                    org::NewUser {
                        username: username.into(),
                        display_name: role.label().into(),
                        password: password.clone(),
                        dept_id: Some(d.id),
                        roles: vec![role],
                        phone: None,
                        id_card: None,
                    },
                )
                .await
                .map_err(fail)?;
                println!("{}：{username}　初始密码：{password}", role.label());
            }
        }
        Command::User(uc) => {
            let db = open(&cfg).await?;
            migrate(&db).await?;
            let org = org::OrgService::new(db.clone(), cfg.auth.clone());
            let actor = Actor::cli();
            match uc {
                UserCommand::Add(a) => {
                    let dept_id = match &a.dept {
                        None => None,
                        Some(d) => match d.parse::<i64>() {
                            Ok(id) => Some(id),
                            Err(_) => Some(
                                org.department_by_name(d)
                                    .await
                                    .map_err(|e| anyhow::anyhow!(e.detail_or_internal()))?
                                    .with_context(|| format!("没有名为“{d}”的单位"))?
                                    .id,
                            ),
                        },
                    };
                    let mut roles = Vec::new();
                    for r in &a.roles {
                        roles.push(Role::parse(r).with_context(|| format!("未知的角色“{r}”"))?);
                    }
                    let (password, generated) = if a.password_stdin {
                        (read_password_stdin()?, false)
                    } else {
                        (generate_password(), true)
                    };
                    let u = org
                        .create_user(
                            &actor,
                            org::NewUser {
                                username: a.username,
                                display_name: a.name,
                                password: password.clone(),
                                dept_id,
                                roles,
                                phone: None,
                                id_card: None,
                            },
                        )
                        .await
                        .map_err(|e| anyhow::anyhow!(e.detail_or_internal()))?;
                    println!("已新增用户 {}（编号 {}）", u.username, u.id);
                    if generated {
                        println!("初始密码：{password}");
                    }
                }
                UserCommand::List { role } => {
                    let role = match role {
                        Some(r) => {
                            Some(Role::parse(&r).with_context(|| format!("未知的角色“{r}”"))?)
                        }
                        None => None,
                    };
                    let page = org
                        .users(
                            &actor,
                            &org::service::UserQuery {
                                role,
                                ..Default::default()
                            },
                            &kernel::page::PageQuery {
                                page: Some(1),
                                per_page: Some(200),
                            },
                        )
                        .await
                        .map_err(|e| anyhow::anyhow!(e.detail_or_internal()))?;
                    println!(
                        "{:<6} {:<16} {:<10} {:<24} 角色",
                        "编号", "用户名", "姓名", "单位"
                    );
                    for u in page.items {
                        let roles: Vec<&str> = u.roles.iter().map(|r| r.code()).collect();
                        println!(
                            "{:<6} {:<16} {:<10} {:<24} {}{}",
                            u.id,
                            u.username,
                            u.display_name,
                            u.dept_name.unwrap_or_default(),
                            roles.join(","),
                            if u.active { "" } else { "（停用）" }
                        );
                    }
                    if page.total > 200 {
                        println!("……共 {} 个用户，只列出前 200 个", page.total);
                    }
                }
                UserCommand::ResetPassword {
                    username,
                    password_stdin,
                } => {
                    let u = org
                        .user_by_username(&username)
                        .await
                        .map_err(|e| anyhow::anyhow!(e.detail_or_internal()))?
                        .with_context(|| format!("没有用户“{username}”"))?;
                    let (password, generated) = if password_stdin {
                        (read_password_stdin()?, false)
                    } else {
                        (generate_password(), true)
                    };
                    org.set_password(&actor, u.id, None, &password)
                        .await
                        .map_err(|e| anyhow::anyhow!(e.detail_or_internal()))?;
                    println!(
                        "已重置 {username} 的密码，其已登录的会话和 API 令牌已失效，锁定已解除。"
                    );
                    if generated {
                        println!("新密码：{password}");
                    }
                }
            }
        }
        Command::Import(ic) => import::run(&cfg, ic).await?,
        Command::Calendar(cc) => calendar_cmd::run(&cfg, cc).await?,
        Command::Report(rc) => report::run(&cfg, rc).await?,
        Command::Hotline(hc) => hotline_cmd::run(&cfg, hc).await?,
        Command::Licenses(lc) => {
            let code = licenses_cmd::run(&cfg, lc).await?;
            if code != 0 {
                std::process::exit(code);
            }
        }
        Command::Services(sc) => {
            let code = services_cmd::run(&cfg, sc).await?;
            if code != 0 {
                std::process::exit(code);
            }
        }
        Command::Sharing(sc) => {
            let code = sharing_cmd::run(&cfg, sc).await?;
            if code != 0 {
                std::process::exit(code);
            }
        }
        Command::Audit(AuditCommand::Verify { archive }) => {
            let db = open(&cfg).await?;
            let v = kernel::audit::verify(&db)
                .await
                .map_err(|e| anyhow::anyhow!(e.detail_or_internal()))?;
            match v.first_broken {
                None => println!("审计链完整：{} 条记录，链头哈希 {}", v.records, v.head_hash),
                Some(b) => {
                    eprintln!(
                        "审计链断裂：第 {} 条记录 —— {}（此前 {} 条完好）",
                        b.seq, b.reason, v.records
                    );
                    std::process::exit(2);
                }
            }
            if let Some(dir) = archive {
                let f = kernel::audit::archive::verify_files(&db, &dir)
                    .await
                    .map_err(|e| anyhow::anyhow!(e.detail_or_internal()))?;
                match f.problem {
                    None => println!(
                        "归档完整：{} 段归档，{} 条记录，与数据库中的审计链相接",
                        f.archives, f.records
                    ),
                    Some(p) => {
                        let at = p
                            .seq
                            .map(|s| format!("第 {s} 条记录 —— "))
                            .unwrap_or_default();
                        eprintln!("归档有误：{} {}{}", p.file, at, p.reason);
                        std::process::exit(2);
                    }
                }
            }
        }
        Command::Audit(AuditCommand::Archive { out }) => {
            let db = open(&cfg).await?;
            let done = kernel::audit::archive::archive(
                &db,
                db.now(),
                cfg.audit.retention_days,
                &out,
                &kernel::audit::AuditActor::cli(),
            )
            .await
            .map_err(|e| anyhow::anyhow!(e.detail_or_internal()))?;
            match done {
                None => println!(
                    "没有超过留存期（{} 天）的审计记录，未归档",
                    cfg.audit.retention_days
                ),
                Some(a) => println!(
                    "已归档第 {}–{} 条审计记录（{} 条）到 {}，SM3 {}；已从数据库中移除",
                    a.manifest.first_seq,
                    a.manifest.last_seq,
                    a.manifest.records,
                    a.manifest_path.display(),
                    a.manifest.sm3
                ),
            }
        }
        Command::Backup { out } => {
            let db = open(&cfg).await?;
            let (tables, rows) = backup::backup(&db, &out).await?;
            println!(
                "已备份到 {}：{tables} 张表，{rows} 行，附 SM3 摘要",
                out.display()
            );
        }
        Command::Restore { file } => {
            let db = open(&cfg).await?;
            let r = backup::restore(&db, &file, &web::migrations()).await?;
            // Migrations newer than the backup run now, as on any upgrade.
            migrate(&db).await?;
            println!(
                "已从 {} 恢复（来源 {}）：{} 张表，{} 行",
                file.display(),
                r.source_backend,
                r.tables,
                r.rows
            );
            let v = kernel::audit::verify(&db).await.map_err(cli_error)?;
            match v.first_broken {
                None => println!("审计链完整：{} 条记录，链头哈希 {}", v.records, v.head_hash),
                Some(b) => {
                    eprintln!("审计链断裂：第 {} 条记录 —— {}", b.seq, b.reason);
                    std::process::exit(2);
                }
            }
        }
    }
    Ok(())
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the SM3 hash chain (from the archived boundary) and name the first broken
    /// record (exit code 2 if broken); with `--archive DIR`, the archive files too.
    Verify {
        /// The folder `audit archive` wrote to.
        #[arg(long)]
        archive: Option<PathBuf>,
    },
    /// Archive the records older than `audit.retention_days` (at least 180) to a verifiable
    /// file (records with their chain hashes, a manifest with the SM3 digest), then remove them
    /// from the table.
    Archive {
        /// The folder to write the archive to (created if missing; files are never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
}
