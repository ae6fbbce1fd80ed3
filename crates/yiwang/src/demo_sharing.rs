//! The demo's 一网共享: the five base registries as published catalog entries with mounted
//! tables — 人口 (公安局) and 法人 (市场监管局) generated here (valid 身份证号 and 统一社会信用代码),
//! 房屋 (住建局), 电子证照 (数据局, read from the licenses module) and 空间地理 (自然资源局, open)
//! in `demo_registries` —
//! 民政局 as consumer with an active grant on 人口 (name and 身份证号 masked, 联系电话 hashed)
//! and an expired grant on 法人, and the gateway token of its system, printed on a line of its
//! own as `gateway token: <token>`.

use crate::DetailOrInternal;
use anyhow::{anyhow, Result};
use kernel::clock::Clock;
use kernel::codes::{credit_code_with_check, id_card_with_check};
use kernel::{Actor, Db, Role};
use org::{NewUser, OrgService};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use sharing::SharingService;

/// People in the 人口 registry, companies in the 法人 registry.
pub const PEOPLE: usize = 5_000;
pub const COMPANIES: usize = 1_500;
/// The consuming system of 民政局.
pub const SYSTEM: &str = "民政救助系统";

/// The sharing users: (username, role, index in `demo::DEPARTMENTS`).
pub const USERS: [(&str, Role, usize); 7] = [
    ("ga_data", Role::DataOfficer, 4),
    ("ga_cdo", Role::ChiefDataOfficer, 4),
    ("sc_data", Role::DataOfficer, 21),
    ("mz_data", Role::DataOfficer, 5),
    ("sj_data", Role::DataOfficer, 0),
    ("zj_data", Role::DataOfficer, 11),
    ("zr_data", Role::DataOfficer, 9),
];

/// The users before the base registries 房屋, 电子证照 and 空间地理 came: their names are
/// drawn from the seed's first generator, the later ones' from the registries' own, so a seed
/// keeps its people and companies.
const FIRST_USERS: usize = 5;

fn err(e: kernel::Error) -> anyhow::Error {
    anyhow!(e.detail_or_internal())
}

fn people_entry() -> Value {
    json!({
        "category": "basic", "class": ["1", "01"],
        "content": {
            "name": "人口基础信息",
            "summary": "全市实有人口的基础信息：姓名、公民身份号码、性别、出生日期、联系电话、住址和所属区县，由公安局提供，一数一源。",
            "format": "数据库",
            "items": [
                {"name": "姓名", "field": "name", "data_type": "char", "length": 30, "sensitive": true, "semantic": "name", "required": true},
                {"name": "公民身份号码", "field": "id_no", "data_type": "char", "length": 18, "sensitive": true, "primary_key": true, "semantic": "id_card", "element": "DE00001"},
                {"name": "性别", "field": "gender", "data_type": "char", "length": 1, "element": "GB/T 2261.1"},
                {"name": "出生日期", "field": "birth", "data_type": "date"},
                {"name": "联系电话", "field": "phone", "data_type": "char", "length": 11, "sensitive": true, "semantic": "mobile"},
                {"name": "住址", "field": "address", "data_type": "char", "length": 100, "sensitive": true, "semantic": "address"},
                {"name": "所属区县", "field": "district", "data_type": "char", "length": 6, "element": "GB/T 2260"},
                {"name": "宗教信仰", "field": "religion", "data_type": "char", "length": 20, "secret": true}
            ],
            "share_kind": "conditional",
            "share_condition": "用于依法履职的身份核验与人口统计；依据《A市政务数据共享管理办法》第十二条",
            "share_mode": "接口",
            "open_kind": "not_open",
            "update_cycle": "daily"
        }
    })
}

fn company_entry() -> Value {
    json!({
        "category": "basic", "class": ["2", "01"],
        "content": {
            "name": "法人基础信息",
            "summary": "全市登记的企业和个体工商户：统一社会信用代码、名称、法定代表人、成立日期、注册资本、住所，由市场监管局提供。",
            "format": "数据库",
            "items": [
                {"name": "统一社会信用代码", "field": "uscc", "data_type": "char", "length": 18, "primary_key": true, "semantic": "credit_code"},
                {"name": "名称", "field": "name", "data_type": "char", "length": 100, "required": true},
                {"name": "法定代表人", "field": "legal_rep", "data_type": "char", "length": 30, "sensitive": true, "semantic": "name"},
                {"name": "成立日期", "field": "founded", "data_type": "date"},
                {"name": "注册资本（万元）", "field": "capital", "data_type": "decimal", "length": 14, "scale": 2},
                {"name": "住所", "field": "address", "data_type": "char", "length": 100},
                {"name": "登记状态", "field": "status", "data_type": "char", "length": 10}
            ],
            "share_kind": "unconditional",
            "share_mode": "接口",
            "open_kind": "not_open",
            "update_cycle": "daily"
        }
    })
}

/// The open side of the 法人 registry: the same companies without the 法定代表人 (a name is
/// personal and open data never carries one), opened to everyone.
fn open_company_entry() -> Value {
    json!({
        "category": "theme", "class": ["5", "01"],
        "content": {
            "name": "企业登记信息",
            "summary": "全市登记企业的统一社会信用代码、名称、成立日期、注册资本、住所和登记状态，每日更新，可用于企业查询、营商环境研究和产业分析。",
            "format": "数据库",
            "items": [
                {"name": "统一社会信用代码", "field": "uscc", "data_type": "char", "length": 18, "primary_key": true, "semantic": "credit_code"},
                {"name": "名称", "field": "name", "data_type": "char", "length": 100, "required": true},
                {"name": "成立日期", "field": "founded", "data_type": "date"},
                {"name": "注册资本（万元）", "field": "capital", "data_type": "decimal", "length": 14, "scale": 2},
                {"name": "住所", "field": "address", "data_type": "char", "length": 100},
                {"name": "登记状态", "field": "status", "data_type": "char", "length": 10}
            ],
            "share_kind": "unconditional",
            "share_mode": "接口",
            "open_kind": "open",
            "update_cycle": "daily"
        }
    })
}

/// An entry opened on conditions: the registered capital by district, for research.
fn conditional_company_entry() -> Value {
    json!({
        "category": "theme", "class": ["5", "02"],
        "content": {
            "name": "企业注册资本分布",
            "summary": "按统一社会信用代码列出企业的注册资本和登记状态，用于营商环境和产业研究；有条件开放，申请时须说明用途。",
            "format": "数据库",
            "items": [
                {"name": "统一社会信用代码", "field": "uscc", "data_type": "char", "length": 18, "primary_key": true, "semantic": "credit_code"},
                {"name": "注册资本（万元）", "field": "capital", "data_type": "decimal", "length": 14, "scale": 2},
                {"name": "登记状态", "field": "status", "data_type": "char", "length": 10}
            ],
            "share_kind": "unconditional",
            "share_mode": "接口",
            "open_kind": "conditional",
            "open_condition": "用于学术研究或产业分析，成果须注明数据来源，不得用于营销",
            "update_cycle": "monthly"
        }
    })
}

/// Rows cut to the given fields.
fn only(rows: &[Map<String, Value>], fields: &[&str]) -> Vec<Map<String, Value>> {
    rows.iter()
        .map(|r| {
            r.iter()
                .filter(|(k, _)| fields.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .collect()
}

const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "朱", "马", "胡", "郭",
    "林", "何", "高", "罗",
];
const GIVEN: [&str; 24] = [
    "伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超",
    "秀英", "霞", "平", "刚", "桂英", "丹", "萍", "鑫",
];
const WORDS: [&str; 16] = [
    "东湖", "金桥", "青松", "白云", "龙泉", "凤鸣", "桂园", "梅岭", "兰亭", "清河", "长安", "永兴",
    "文华", "德润", "福田", "泰和",
];
const TRADES: [&str; 8] = [
    "科技",
    "商贸",
    "建筑",
    "餐饮",
    "物流",
    "农业",
    "文化传媒",
    "医药",
];

fn people(rng: &mut ChaCha8Rng) -> Vec<Map<String, Value>> {
    (0..PEOPLE)
        .map(|i| {
            let (code, dname) = crate::demo::DISTRICTS[i % crate::demo::DISTRICTS.len()];
            let birth = chrono::NaiveDate::from_ymd_opt(1940, 1, 1).unwrap()
                + chrono::Days::new(rng.gen_range(0..(365 * 66)));
            // 顺序码 with the sex in its last digit (odd: male), unique per person.
            let male = rng.gen_bool(0.5);
            let seq = (i % 500) as u32 * 2 + u32::from(male);
            let first17 = format!("{code}{}{:03}", birth.format("%Y%m%d"), seq % 1000);
            json!({
                "name": format!("{}{}", SURNAMES.choose(rng).unwrap(), GIVEN.choose(rng).unwrap()),
                "id_no": id_card_with_check(&first17),
                "gender": if male { "男" } else { "女" },
                "birth": birth.format("%Y-%m-%d").to_string(),
                "phone": format!("1{}{:09}", rng.gen_range(3..10), rng.gen_range(0..1_000_000_000u64)),
                "address": format!("A市{dname}{}街道{}路{}号", WORDS.choose(rng).unwrap(), WORDS.choose(rng).unwrap(), rng.gen_range(1..300)),
                "district": code,
                "religion": ""
            })
            .as_object()
            .unwrap()
            .clone()
        })
        .collect()
}

fn companies(rng: &mut ChaCha8Rng) -> Vec<Map<String, Value>> {
    (0..COMPANIES)
        .map(|i| {
            let (code, dname) = crate::demo::DISTRICTS[i % crate::demo::DISTRICTS.len()];
            // 91: 工商 企业; the registering region; a 9-character organisation code.
            let org_code = format!("{:08}{}", 10_000_000 + i * 37, i % 10);
            let founded = chrono::NaiveDate::from_ymd_opt(1995, 1, 1).unwrap()
                + chrono::Days::new(rng.gen_range(0..(365 * 30)));
            json!({
                "uscc": credit_code_with_check(&format!("91{code}{org_code}")),
                "name": format!("A市{}{}{}有限公司", WORDS.choose(rng).unwrap(), TRADES.choose(rng).unwrap(), i),
                "legal_rep": format!("{}{}", SURNAMES.choose(rng).unwrap(), GIVEN.choose(rng).unwrap()),
                "founded": founded.format("%Y-%m-%d").to_string(),
                "capital": format!("{}.00", rng.gen_range(10..50_000)),
                "address": format!("A市{dname}{}路{}号", WORDS.choose(rng).unwrap(), rng.gen_range(1..500)),
                "status": if i.is_multiple_of(17) { "注销" } else { "存续" }
            })
            .as_object()
            .unwrap()
            .clone()
        })
        .collect()
}

pub async fn populate(db: &Db, cfg: &kernel::config::Config, seed: u64) -> Result<()> {
    let org = OrgService::new(db.clone(), cfg.auth.clone());
    let cli = Actor::cli();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5ba7e);
    let mut later = crate::demo_registries::rng(seed);
    let mut actors = std::collections::HashMap::new();
    let names = org::directory::active_department_names(&mut *db.pool().acquire().await?)
        .await
        .map_err(err)?;
    for (i, (username, role, dept)) in USERS.into_iter().enumerate() {
        let names_rng = if i < FIRST_USERS {
            &mut rng
        } else {
            &mut later
        };
        let dept_name = crate::demo::DEPARTMENTS[dept].0;
        let dept_id = *names
            .iter()
            .find(|(_, n)| n.as_str() == dept_name)
            .ok_or_else(|| anyhow!("no department {dept_name}"))?
            .0;
        let u = org
            .create_user(
                &cli,
                NewUser {
                    username: username.into(),
                    display_name: format!(
                        "{}{}",
                        SURNAMES.choose(names_rng).unwrap(),
                        GIVEN.choose(names_rng).unwrap()
                    ),
                    password: crate::demo::DEMO_PASSWORD.into(),
                    dept_id: Some(dept_id),
                    roles: vec![role],
                    phone: None,
                    id_card: None,
                },
            )
            .await
            .map_err(err)?;
        actors.insert(username, org.actor_of_user(u.id).await.map_err(err)?);
    }
    let svc = SharingService::new(db.clone());
    let bureau = actors["sj_data"]
        .dept_id
        .ok_or_else(|| anyhow!("bureau user without department"))?;
    svc.set_bureau(&cli, bureau).await.map_err(err)?;

    let publish = |who: &'static str, entry: Value, rows: Vec<Map<String, Value>>| {
        let svc = svc.clone();
        let a = actors[who].clone();
        let bureau = actors["sj_data"].clone();
        async move {
            let e = svc
                .create_entry(&a, serde_json::from_value(entry)?)
                .await
                .map_err(err)?;
            svc.submit_entry(&a, e.entry.id, 1).await.map_err(err)?;
            svc.review_entry(&bureau, e.entry.id, 1, true, "")
                .await
                .map_err(err)?;
            let r = svc
                .mount_table(&a, e.entry.id, "", "full")
                .await
                .map_err(err)?;
            let rep = svc
                .push_rows(&a, &r.resource.code, rows)
                .await
                .map_err(err)?;
            if rep.rejected > 0 {
                return Err(anyhow!(
                    "demo rows refused: {:?}",
                    &rep.errors[..rep.errors.len().min(3)]
                ));
            }
            Ok::<_, anyhow::Error>(r.resource.code)
        }
    };
    let people_rows = people(&mut rng);
    let people_code = publish("ga_data", people_entry(), people_rows.clone()).await?;
    let company_rows = companies(&mut rng);
    let company_code = publish("sc_data", company_entry(), company_rows.clone()).await?;
    // 开放数据: two of 市场监管局's entries opened, without any personal 信息项.
    publish(
        "sc_data",
        open_company_entry(),
        only(
            &company_rows,
            &["uscc", "name", "founded", "capital", "address", "status"],
        ),
    )
    .await?;
    publish(
        "sc_data",
        conditional_company_entry(),
        only(&company_rows, &["uscc", "capital", "status"]),
    )
    .await?;

    // 房屋, 电子证照 and 空间地理, with their 一数一源 source departments.
    let dept = |i: usize| {
        let name = crate::demo::DEPARTMENTS[i].0;
        names
            .iter()
            .find(|(_, n)| n.as_str() == name)
            .map(|(id, _)| *id)
            .ok_or_else(|| anyhow!("no department {name}"))
    };
    let (natural_resources, civil_affairs) = (dept(9)?, dept(5)?);
    let regions = crate::demo::regions(seed);
    let house_rows = crate::demo_registries::houses(&mut later, &regions, &people_rows);
    publish(
        "zj_data",
        crate::demo_registries::house_entry(natural_resources),
        house_rows,
    )
    .await?;
    let license_rows = crate::demo_registries::licenses(db, cfg, &names).await?;
    publish(
        "sj_data",
        crate::demo_registries::license_entry(),
        license_rows,
    )
    .await?;
    let geo_rows = crate::demo_registries::geo(&mut later, &regions);
    publish(
        "zr_data",
        crate::demo_registries::geo_entry(civil_affairs),
        geo_rows,
    )
    .await?;

    // An expired grant on 法人: asked for and approved a year ago, for half a year.
    let year_ago = db.now() - 400 * 86_400_000;
    let past = Db::connect_with(db.url(), Clock::manual(year_ago))
        .await
        .map_err(err)?
        .with_sealer(db.sealer().clone());
    let old = SharingService::new(past.clone());
    let day = |ms: i64| kernel::clock::to_china(ms).format("%Y-%m-%d").to_string();
    let req = |codes: Vec<String>,
               fields: Vec<Vec<&str>>,
               from: i64,
               until: i64|
     -> Result<sharing::grants::domain::NewRequest> {
        Ok(serde_json::from_value(json!({
            "resources": codes, "fields": fields,
            "purpose": "社会救助对象家庭经济状况核对", "legal_basis": "《社会救助暂行办法》第十一条",
            "system": SYSTEM, "period_from": day(from), "period_until": day(until)
        }))?)
    };
    let r = old
        .submit_request(
            &actors["mz_data"],
            req(
                vec![company_code],
                vec![vec!["uscc", "name", "legal_rep", "status"]],
                year_ago,
                year_ago + 180 * 86_400_000,
            )?,
        )
        .await
        .map_err(err)?;
    old.decide(&actors["sc_data"], r[0].request.id, true, "同意", None)
        .await
        .map_err(err)?;
    past.close().await;

    // The active grant on 人口: three levels, name and 身份证号 masked, 联系电话 hashed for joins.
    let now = db.now();
    let r = svc
        .submit_request(
            &actors["mz_data"],
            req(
                vec![people_code],
                vec![vec![
                    "name", "id_no", "gender", "birth", "phone", "district",
                ]],
                now,
                now + 365 * 86_400_000,
            )?,
        )
        .await
        .map_err(err)?;
    let id = r[0].request.id;
    svc.decide(&actors["ga_data"], id, true, "同意共享", None)
        .await
        .map_err(err)?;
    svc.decide(&actors["ga_cdo"], id, true, "同意", None)
        .await
        .map_err(err)?;
    let terms = serde_json::from_value(json!({
        "fields": [
            {"field": "name", "mask": "MASK_NAME"},
            {"field": "id_no", "mask": "MASK_ID_CARD"},
            {"field": "gender"},
            {"field": "birth", "mask": "MASK_DATE_SHOW_YEAR"},
            {"field": "phone", "mask": "MASK_HASH"},
            {"field": "district"}
        ],
        "rate_per_minute": 600
    }))?;
    svc.decide(
        &actors["sj_data"],
        id,
        true,
        "同意，按最小必要原则脱敏",
        Some(terms),
    )
    .await
    .map_err(err)?;
    let t = svc
        .register_system(&actors["mz_data"], SYSTEM)
        .await
        .map_err(err)?;
    println!("gateway token: {}", t.token);
    Ok(())
}
