//! The demo city: 西地省 A市 with districts and counties A1–A9, their streets and communities,
//! about thirty departments and one user per role. The names are generated here from the
//! project's own word lists, deterministically for a seed.

use anyhow::{bail, Context, Result};
use kernel::codes::credit_code_with_check;
use kernel::config::Config;
use kernel::{Actor, Db, Role};
use org::{NewDepartment, NewRegion, NewUser, OrgService};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const DEMO_PASSWORD: &str = "Yiwang@2025";
const META_KEY: &str = "demo_seed";

/// Districts and counties as the shared data names them (A1–A6 区, A7–A8 县, A9 县级市).
pub const DISTRICTS: [(&str, &str); 9] = [
    ("690102", "A1区"),
    ("690103", "A2区"),
    ("690104", "A3区"),
    ("690105", "A4区"),
    ("690111", "A5区"),
    ("690112", "A6区"),
    ("690121", "A7县"),
    ("690122", "A8县"),
    ("690181", "A9市"),
];

/// City departments: (name, short name). The bureau itself comes first.
pub const DEPARTMENTS: [(&str, &str); 30] = [
    ("A市政务服务和数据管理局", "数据局"),
    ("A市发展和改革委员会", "发改委"),
    ("A市教育局", "教育局"),
    ("A市工业和信息化局", "工信局"),
    ("A市公安局", "公安局"),
    ("A市民政局", "民政局"),
    ("A市司法局", "司法局"),
    ("A市财政局", "财政局"),
    ("A市人力资源和社会保障局", "人社局"),
    ("A市自然资源和规划局", "自然资源局"),
    ("A市生态环境局", "生态环境局"),
    ("A市住房和城乡建设局", "住建局"),
    ("A市城市管理和综合执法局", "城管局"),
    ("A市交通运输局", "交通运输局"),
    ("A市水务局", "水务局"),
    ("A市农业农村局", "农业农村局"),
    ("A市商务局", "商务局"),
    ("A市文化旅游广电体育局", "文旅局"),
    ("A市卫生健康委员会", "卫健委"),
    ("A市退役军人事务局", "退役军人局"),
    ("A市应急管理局", "应急局"),
    ("A市市场监督管理局", "市场监管局"),
    ("A市医疗保障局", "医保局"),
    ("A市住房公积金管理中心", "公积金中心"),
    ("A市林业局", "林业局"),
    ("A市信访局", "信访局"),
    ("A市人民防空办公室", "人防办"),
    ("A市供水有限公司", "供水公司"),
    ("A市供电公司", "供电公司"),
    ("A市燃气有限公司", "燃气公司"),
];

const SYL_A: [&str; 24] = [
    "东", "西", "南", "北", "新", "金", "银", "青", "白", "龙", "凤", "桂", "梅", "兰", "松", "竹",
    "云", "清", "长", "永", "文", "德", "福", "泰",
];
const SYL_B: [&str; 24] = [
    "湖", "江", "河", "山", "林", "阳", "光", "明", "华", "兴", "安", "康", "宁", "和", "平", "丰",
    "源", "塘", "桥", "坪", "岭", "洲", "园", "苑",
];
const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "朱", "马", "胡", "郭",
    "林", "何", "高", "罗",
];
const GIVEN: [&str; 24] = [
    "伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超",
    "秀英", "霞", "平", "刚", "桂英", "丹", "萍", "鑫",
];

/// The demo users: (username, role, index in `DEPARTMENTS`); operators and dispatchers sit in
/// the 12345 center below the bureau.
/// The three administrators (三员) are three people: `sysadmin`, `secadmin`, `auditadmin`.
pub const USERS: [(&str, Role, Option<usize>); 12] = [
    ("sysadmin", Role::SysAdmin, Some(0)),
    ("secadmin", Role::SecAdmin, Some(0)),
    ("auditadmin", Role::AuditAdmin, Some(0)),
    ("operator", Role::Operator, Some(0)),
    ("dispatcher", Role::Dispatcher, Some(0)),
    ("supervisor", Role::Supervisor, Some(0)),
    ("analyst", Role::Analyst, Some(0)),
    ("clerk", Role::Clerk, Some(0)),
    ("handler", Role::Handler, Some(11)),
    ("approver", Role::Approver, Some(21)),
    ("data_officer", Role::DataOfficer, Some(11)),
    ("citizen", Role::Citizen, None),
];

pub fn print_logins() {
    println!();
    println!("演示账号（密码均为 {DEMO_PASSWORD}）：");
    println!("  （演示服务不要求双因素认证；之后用 yiwang serve 提供服务时，按 auth.two_factor 配置，默认要求管理员绑定动态验证码）");
    println!(
        "  {}（市民，持有健康证明、食品小摊贩备案卡等电子证照）",
        crate::demo_licenses::RESIDENT
    );
    for (u, role, d) in USERS {
        let dept = match role {
            Role::Operator | Role::Dispatcher => "A市12345政务服务便民热线中心",
            _ => d.map(|i| DEPARTMENTS[i].0).unwrap_or("—"),
        };
        println!("  {:<14} {:<8} {}", u, role.label(), dept);
    }
    for (u, role, d) in crate::demo_sharing::USERS {
        println!("  {:<14} {:<8} {}", u, role.label(), DEPARTMENTS[d].0);
    }
}

fn place_name(rng: &mut ChaCha8Rng, used: &mut std::collections::HashSet<String>) -> String {
    loop {
        let n = format!(
            "{}{}",
            SYL_A.choose(rng).unwrap(),
            SYL_B.choose(rng).unwrap()
        );
        if used.insert(n.clone()) {
            return n;
        }
    }
}

fn person_name(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{}{}",
        SURNAMES.choose(rng).unwrap(),
        GIVEN.choose(rng).unwrap()
    )
}

/// The generated world, without touching a database: regions (code, name) in parent-first
/// order, for a seed.
pub fn regions(seed: u64) -> Vec<(String, String)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut used = std::collections::HashSet::new();
    let mut out = vec![
        ("690000".to_owned(), "西地省".to_owned()),
        ("690100".to_owned(), "A市".to_owned()),
    ];
    for (code, name) in DISTRICTS {
        out.push((code.to_owned(), name.to_owned()));
        let county = name.ends_with('县');
        let towns = rng.gen_range(4..=7);
        for t in 1..=towns {
            let is_town = county && rng.gen_bool(0.6);
            let tname = format!(
                "{}{}",
                place_name(&mut rng, &mut used),
                if is_town { "镇" } else { "街道" }
            );
            let tcode = format!("{code}{t:03}000");
            out.push((tcode.clone(), tname));
            let communities = rng.gen_range(3..=7);
            for v in 1..=communities {
                let rural = is_town && rng.gen_bool(0.5);
                let vname = format!(
                    "{}{}",
                    place_name(&mut rng, &mut used),
                    if rural { "村" } else { "社区" }
                );
                let vcode = format!("{code}{t:03}{:03}", if rural { 200 + v } else { v });
                out.push((vcode, vname));
            }
        }
    }
    out
}

async fn is_demo(db: &Db) -> Result<bool> {
    Ok(kernel::migrate::get_meta(db, META_KEY)
        .await
        .map_err(crate::cli_error)?
        .is_some())
}

fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// The three files of an SQLite database in WAL mode.
fn sqlite_files(path: &std::path::Path) -> [std::path::PathBuf; 3] {
    ["", "-wal", "-shm"]
        .map(|suffix| std::path::PathBuf::from(format!("{}{suffix}", path.display())))
}

fn remove_sqlite(path: &std::path::Path) -> Result<()> {
    for p in sqlite_files(path) {
        if p.exists() {
            std::fs::remove_file(&p)
                .with_context(|| format!("无法删除旧的演示数据库 {}", p.display()))?;
        }
    }
    Ok(())
}

async fn build(url: &str, cfg: &Config, seed: u64) -> Result<Db> {
    let db = Db::connect(url)
        .await
        .map_err(crate::cli_error)?
        .with_sealer(crate::sealer(cfg)?);
    kernel::migrate::run(&db, &web::migrations())
        .await
        .map_err(crate::cli_error)?;
    populate(&db, cfg, seed).await?;
    Ok(db)
}

/// Creates the demo database from scratch. An existing database is replaced only if it is a
/// demo; anything else is refused, so real data is never overwritten.
///
/// A demo that replaces one is built beside it and moved into place when complete: deleting
/// the files of an SQLite database that a connection had open lets that connection, when it
/// finally closes, delete the new database's WAL by name (and with it the new tables).
pub async fn create(cfg: &Config, seed: u64) -> Result<Db> {
    let url = &cfg.database.url;
    match sqlite_path(url) {
        Some(path) if path.exists() => {
            let existing = Db::connect(url).await.map_err(crate::cli_error)?;
            let demo = is_demo(&existing).await?;
            let empty = kernel::migrate::is_empty(&existing)
                .await
                .map_err(crate::cli_error)?;
            existing.close().await;
            if !demo && !empty {
                bail!("{} 已存在且不是演示数据库，拒绝覆盖。请换一个位置（--db 演示.db）或先自行移走它。", path.display());
            }
            let aside = std::path::PathBuf::from(format!("{}.building", path.display()));
            remove_sqlite(&aside)?;
            let aside_url =
                url.replacen(&path.display().to_string(), &aside.display().to_string(), 1);
            let db = build(&aside_url, cfg, seed).await?;
            db.close().await;
            remove_sqlite(&path)?;
            for (from, to) in sqlite_files(&aside).iter().zip(sqlite_files(&path).iter()) {
                if from.exists() {
                    std::fs::rename(from, to).with_context(|| {
                        format!("无法把 {} 移到 {}", from.display(), to.display())
                    })?;
                }
            }
            Ok(Db::connect(url)
                .await
                .map_err(crate::cli_error)?
                .with_sealer(crate::sealer(cfg)?))
        }
        Some(_) => build(url, cfg, seed).await,
        None => {
            let existing = Db::connect(url).await.map_err(crate::cli_error)?;
            let empty = kernel::migrate::is_empty(&existing)
                .await
                .map_err(crate::cli_error)?;
            existing.close().await;
            if !empty {
                bail!(
                    "演示只能建在空的 PostgreSQL 数据库中；{} 不是空的。",
                    kernel::db::redact_url(url)
                );
            }
            build(url, cfg, seed).await
        }
    }
}

/// The demo's 电子证照 master key when none is configured: kept in a file beside the SQLite
/// database (`yiwang.db.licenses.key`) or in `yiwang-licenses.key`, made once and reused, so
/// that a later `yiwang serve` can be given the same key with
/// `YIWANG_LICENSES__MASTER_KEY_FILE`.
pub fn licenses_master_key(cfg: &Config) -> Result<String> {
    let path = sqlite_path(&cfg.database.url)
        .map(|p| std::path::PathBuf::from(format!("{}.licenses.key", p.display())))
        .unwrap_or_else(|| "yiwang-licenses.key".into());
    if let Ok(k) = std::fs::read_to_string(&path) {
        let k = k.trim().to_owned();
        if k.len() == 32 && k.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(k);
        }
    }
    let key = hex_key(rand::random::<[u8; 16]>());
    std::fs::write(&path, format!("{key}\n"))
        .with_context(|| format!("无法写入 {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    println!(
        "电子证照主密钥已写入 {0}（之后 serve 时请设置 YIWANG_LICENSES__MASTER_KEY_FILE={0}）",
        path.display()
    );
    Ok(key)
}

fn hex_key(b: [u8; 16]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn err(e: kernel::Error) -> anyhow::Error {
    crate::cli_error(e)
}

/// Fills a migrated, empty database with the demo city.
pub async fn populate(db: &Db, cfg: &Config, seed: u64) -> Result<()> {
    let org = OrgService::new(db.clone(), cfg.auth.clone());
    let cli = Actor::cli();
    for (code, name) in regions(seed) {
        org.create_region(&cli, NewRegion { code, name })
            .await
            .map_err(err)?;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let mut dept_ids = Vec::new();
    for (i, (name, short)) in DEPARTMENTS.iter().enumerate() {
        // 机关 codes start with 11; the 9-character organisation code is generated.
        let org_code: String = (0..9)
            .map(|_| char::from(b'0' + rng.gen_range(0..10)))
            .collect();
        let credit = credit_code_with_check(&format!("11690100{org_code}"));
        let d = org
            .create_department(
                &cli,
                NewDepartment {
                    name: (*name).into(),
                    short_name: Some((*short).into()),
                    region_code: "690100".into(),
                    parent_id: None,
                    credit_code: Some(credit),
                    phone: Some(format!("0731-{}", 80_000_000 + i as i64 * 1137)),
                },
            )
            .await
            .map_err(err)?;
        dept_ids.push(d.id);
    }
    // The 12345 center sits under the bureau; every district and county has its government.
    let center = org
        .create_department(
            &cli,
            NewDepartment {
                name: "A市12345政务服务便民热线中心".into(),
                short_name: Some("12345中心".into()),
                region_code: "690100".into(),
                parent_id: Some(dept_ids[0]),
                credit_code: None,
                phone: Some("12345".into()),
            },
        )
        .await
        .map_err(err)?;
    for (code, name) in DISTRICTS {
        org.create_department(
            &cli,
            NewDepartment {
                name: format!("{name}人民政府"),
                short_name: Some(format!("{name}政府")),
                region_code: code.into(),
                parent_id: None,
                credit_code: None,
                phone: None,
            },
        )
        .await
        .map_err(err)?;
    }
    for (username, role, dept) in USERS {
        let dept_id = match (role, dept) {
            (Role::Operator | Role::Dispatcher, _) => Some(center.id),
            (_, Some(i)) => Some(dept_ids[i]),
            (_, None) => None,
        };
        let phone = format!("139{:08}", rng.gen_range(0..100_000_000u32));
        org.create_user(
            &cli,
            NewUser {
                username: username.into(),
                display_name: person_name(&mut rng),
                password: DEMO_PASSWORD.into(),
                dept_id,
                roles: vec![role],
                phone: Some(phone),
                id_card: None,
            },
        )
        .await
        .map_err(err)?;
    }
    crate::demo_hotline::populate(db, cfg, seed, &regions(seed)).await?;
    // The license types first: the service hall's items name them as their results.
    crate::demo_licenses::populate_types(db, cfg).await?;
    crate::demo_services::populate(db, cfg, seed).await?;
    crate::demo_licenses::populate(db, cfg).await?;
    crate::demo_sharing::populate(db, cfg, seed).await?;
    crate::demo_sso::populate(db, cfg).await?;
    let mut tx = db.begin().await.map_err(err)?;
    kernel::migrate::set_meta(&mut tx, META_KEY, &seed.to_string())
        .await
        .map_err(err)?;
    kernel::audit::record(
        &mut tx,
        db.now(),
        &kernel::audit::AuditActor::cli(),
        "demo",
        seed,
        "create",
        serde_json::json!({"seed": seed}),
    )
    .await
    .map_err(err)?;
    tx.commit().await.map_err(|e| err(e.into()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_world_is_deterministic_and_valid() {
        let a = super::regions(7);
        assert_eq!(a, super::regions(7));
        assert_ne!(a, super::regions(8));
        for (code, _) in &a {
            assert!(kernel::codes::check_region_code(code).is_ok(), "{code}");
        }
        let towns = a
            .iter()
            .filter(|(c, _)| c.len() == 12 && c.ends_with("000"))
            .count();
        assert!(towns >= 36, "{towns} towns");
        assert!(a.len() > 150);
    }
}
