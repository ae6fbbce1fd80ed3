//! The demo's other three base registries (数据中台), beside 人口 and 法人 in `demo_sharing`:
//! - 房屋 (住建局): one row per dwelling or premises, keyed by its 不动产单元号 (GB/T 37346 — no
//!   check character), its address along the region path, 建筑面积, 用途 and the 产权人 taken
//!   from the 人口 registry (valid 身份证号); the unit number and the owner come from
//!   自然资源局's 不动产登记 (一数一源).
//! - 电子证照 (数据局): the index of the licenses the demo issued, read through
//!   `LicensesService` (sharing never depends on licenses): GB/T 36904 证照标识 with its
//!   check character, the holder's 身份证号 or 统一社会信用代码, issuer, validity, status.
//! - 空间地理 (自然资源局): every region of the demo city with its level, parent and a centre
//!   generated around the city centre; names and codes come from 民政局 (区划地名). Nothing
//!   in it is personal, so it is opened (无条件开放).

use anyhow::{anyhow, Result};
use kernel::codes::{check_region_code, implied_parent};
use kernel::{Actor, Db};
use licenses::LicensesService;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Roughly how many dwellings and premises the 房屋 registry holds (12 per community on
/// average).
pub const HOUSES_PER_COMMUNITY: std::ops::RangeInclusive<usize> = 8..=16;

/// The centre of the demo city (longitude, latitude).
pub const CITY_CENTRE: (f64, f64) = (112.982_279, 28.194_090);

/// The 资源代码 class of each registry: 人口 1, 法人 2, 房屋 3, 电子证照 4, 空间地理 5.
pub const HOUSE_CLASS: [&str; 2] = ["3", "01"];
pub const LICENSE_CLASS: [&str; 2] = ["4", "01"];
pub const GEO_CLASS: [&str; 2] = ["5", "01"];

/// The 房屋 entry; `registry` is 自然资源局 (不动产登记), the source of the unit number and
/// the owner.
pub fn house_entry(registry: i64) -> Value {
    json!({
        "category": "basic", "class": HOUSE_CLASS,
        "content": {
            "name": "房屋基础信息",
            "summary": "全市房屋（住宅、商业、办公、工业用房）的不动产单元号、坐落地址、所属区划、建筑面积、用途、建成年份和产权人，由住建局提供；不动产单元号和产权人以自然资源局不动产登记为准（一数一源），产权人关联人口基础信息。",
            "format": "数据库",
            "items": [
                {"name": "不动产单元号", "field": "unit_no", "data_type": "char", "length": 28, "primary_key": true, "element": "GB/T 37346", "source_dept_id": registry},
                {"name": "所属区划", "field": "region_code", "data_type": "char", "length": 12, "required": true, "element": "GB/T 2260"},
                {"name": "房屋坐落", "field": "address", "data_type": "char", "length": 200, "required": true, "semantic": "address"},
                {"name": "建筑面积（平方米）", "field": "area", "data_type": "decimal", "length": 10, "scale": 2, "required": true},
                {"name": "规划用途", "field": "usage", "data_type": "char", "length": 10, "required": true},
                {"name": "建成年份", "field": "built_year", "data_type": "int", "length": 4},
                {"name": "产权人身份证号", "field": "owner_id_no", "data_type": "char", "length": 18, "sensitive": true, "semantic": "id_card", "element": "DE00001", "source_dept_id": registry},
                {"name": "产权人姓名", "field": "owner_name", "data_type": "char", "length": 30, "sensitive": true, "semantic": "name", "source_dept_id": registry}
            ],
            "share_kind": "conditional",
            "share_condition": "用于住房保障、不动产登记、社会救助等依法履职；依据《A市政务数据共享管理办法》第十二条",
            "share_mode": "接口",
            "open_kind": "not_open",
            "update_cycle": "monthly"
        }
    })
}

/// The 电子证照 index, provided by the bureau that runs the license platform.
pub fn license_entry() -> Value {
    json!({
        "category": "basic", "class": LICENSE_CLASS,
        "content": {
            "name": "电子证照目录信息",
            "summary": "全市各部门签发的电子证照索引：证照标识（GB/T 36904）、证照类型、持证人及其证件号、签发部门、有效期和证照状态，由数据局从电子证照库汇聚，用于办事材料免提交和证照核验。",
            "format": "数据库",
            "items": [
                {"name": "证照标识", "field": "identifier", "data_type": "char", "length": 80, "primary_key": true, "element": "GB/T 36904"},
                {"name": "证照类型代码", "field": "type_code", "data_type": "char", "length": 30, "required": true},
                {"name": "证照类型", "field": "type_name", "data_type": "char", "length": 50, "required": true},
                {"name": "持证主体类型", "field": "holder_kind", "data_type": "char", "length": 10, "required": true},
                {"name": "持证人", "field": "holder_name", "data_type": "char", "length": 100, "sensitive": true, "required": true},
                {"name": "持证人证件号", "field": "holder_id_no", "data_type": "char", "length": 18, "sensitive": true, "required": true},
                {"name": "签发部门", "field": "issuer", "data_type": "char", "length": 100, "required": true},
                {"name": "有效期起", "field": "valid_from", "data_type": "date", "required": true},
                {"name": "有效期止", "field": "valid_until", "data_type": "date"},
                {"name": "证照状态", "field": "status", "data_type": "char", "length": 10, "required": true}
            ],
            "share_kind": "conditional",
            "share_condition": "用于政务服务办事材料免提交和证照核验，须经持证人授权或依法履职",
            "share_mode": "接口",
            "open_kind": "not_open",
            "update_cycle": "daily"
        }
    })
}

/// The 空间地理 entry; `names` is 民政局, the source of region codes and names.
pub fn geo_entry(names: i64) -> Value {
    json!({
        "category": "basic", "class": GEO_CLASS,
        "content": {
            "name": "行政区划空间地理信息",
            "summary": "全市行政区划（市、县区、镇街、村社区）的区划代码、名称、层级、上级区划和中心点经纬度（CGCS2000），由自然资源局提供；区划代码和名称以民政局区划地名为准（一数一源）。不含个人信息，无条件开放。",
            "format": "数据库",
            "items": [
                {"name": "区划代码", "field": "code", "data_type": "char", "length": 12, "primary_key": true, "element": "GB/T 2260", "source_dept_id": names},
                {"name": "区划名称", "field": "name", "data_type": "char", "length": 50, "required": true, "source_dept_id": names},
                {"name": "区划层级", "field": "level", "data_type": "char", "length": 10, "required": true, "source_dept_id": names},
                {"name": "上级区划代码", "field": "parent_code", "data_type": "char", "length": 12, "source_dept_id": names},
                {"name": "中心经度", "field": "longitude", "data_type": "decimal", "length": 10, "scale": 6, "required": true},
                {"name": "中心纬度", "field": "latitude", "data_type": "decimal", "length": 9, "scale": 6, "required": true}
            ],
            "share_kind": "unconditional",
            "share_mode": "接口",
            "open_kind": "open",
            "update_cycle": "yearly"
        }
    })
}

const ROADS: [&str; 16] = [
    "人民", "解放", "建设", "新华", "中山", "朝阳", "胜利", "和平", "五一", "迎宾", "滨江", "湘江",
    "芙蓉", "韶山", "书院", "雨花",
];

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The 房屋 rows: every community of `regions` gets some parcels (宗地) with buildings and
/// units; owners are drawn from the 人口 rows (`id_no`, `name`).
pub fn houses(
    rng: &mut ChaCha8Rng,
    regions: &[(String, String)],
    people: &[Map<String, Value>],
) -> Vec<Map<String, Value>> {
    let names: HashMap<&str, &str> = regions
        .iter()
        .map(|(c, n)| (c.as_str(), n.as_str()))
        .collect();
    let mut out = Vec::new();
    for (code, community) in regions {
        if check_region_code(code) != Ok(kernel::codes::RegionLevel::Village) {
            continue;
        }
        let town_code = implied_parent(code).unwrap_or_default();
        let county = &code[..6];
        let town = names.get(town_code.as_str()).copied().unwrap_or_default();
        let district = names.get(county).copied().unwrap_or_default();
        let rural = code[9..].starts_with('2');
        let count = rng.gen_range(HOUSES_PER_COMMUNITY);
        // 地籍区 and 地籍子区 follow the town and community parts of the region code.
        let zone = &code[6..12];
        let mut road = "";
        let mut number = 0;
        for k in 0..count {
            // A parcel of four buildings, two units a floor, three floors shown.
            let parcel = 1 + k / 24;
            let building = 1 + (k / 6) % 4;
            let room = (1 + (k % 6) / 2) * 100 + 1 + k % 2;
            if k % 24 == 0 {
                road = ROADS.choose(rng).copied().unwrap_or("人民");
                number = rng.gen_range(1..400);
            }
            let usage = if rural {
                "住宅"
            } else {
                match rng.gen_range(0..20) {
                    0..=15 => "住宅",
                    16 | 17 => "商业",
                    18 => "办公",
                    _ => "工业",
                }
            };
            let area = match usage {
                "住宅" => rng.gen_range(4_500..18_000),
                "工业" => rng.gen_range(30_000..300_000),
                _ => rng.gen_range(3_000..60_000),
            };
            let owner = &people[rng.gen_range(0..people.len())];
            let (suffix, address) = if rural {
                (
                    format!("{building:04}{:04}", 1),
                    format!("A市{district}{town}{community}{building}组{}号", number + k),
                )
            } else {
                (
                    format!("{building:04}{room:04}"),
                    format!("A市{district}{town}{community}{road}路{number}号{building}栋{room}室"),
                )
            };
            // Rural houses: one per parcel (宅基地), so the parcel number is the house's.
            let parcel = if rural { 1 + k } else { parcel };
            out.push(obj(json!({
                "unit_no": format!("{county}{zone}GB{parcel:05}F{suffix}"),
                "region_code": code,
                "address": address,
                "area": format!("{}.{:02}", area / 100, area % 100),
                "usage": usage,
                "built_year": rng.gen_range(1985..2025),
                "owner_id_no": owner.get("id_no").cloned().unwrap_or(Value::Null),
                "owner_name": owner.get("name").cloned().unwrap_or(Value::Null),
            })));
        }
    }
    out
}

/// The 空间地理 rows: each region with a centre. Counties sit on a ring around the city
/// centre (the urban districts close in), towns around their county, communities around
/// their town.
pub fn geo(rng: &mut ChaCha8Rng, regions: &[(String, String)]) -> Vec<Map<String, Value>> {
    let mut centres: HashMap<String, (f64, f64)> = HashMap::new();
    let mut out = Vec::new();
    let mut counties = 0usize;
    for (code, name) in regions {
        let Ok(level) = check_region_code(code) else {
            continue;
        };
        let parent = implied_parent(code);
        let around = |c: (f64, f64), r: f64, rng: &mut ChaCha8Rng| {
            (
                c.0 + rng.gen_range(-r..r),
                c.1 + rng.gen_range(-r * 0.85..r * 0.85),
            )
        };
        use kernel::codes::RegionLevel::*;
        let centre = match level {
            Province => (CITY_CENTRE.0 - 0.45, CITY_CENTRE.1 - 0.35),
            City => CITY_CENTRE,
            County => {
                let angle = std::f64::consts::TAU * counties as f64 / 9.0 + rng.gen_range(0.0..0.4);
                let radius = if name.ends_with('区') {
                    rng.gen_range(0.03..0.12)
                } else {
                    rng.gen_range(0.30..0.48)
                };
                counties += 1;
                (
                    CITY_CENTRE.0 + radius * angle.cos(),
                    CITY_CENTRE.1 + radius * angle.sin() * 0.85,
                )
            }
            Town => {
                let c = parent
                    .as_ref()
                    .and_then(|p| centres.get(p))
                    .copied()
                    .unwrap_or(CITY_CENTRE);
                around(c, 0.06, rng)
            }
            Village => {
                let c = parent
                    .as_ref()
                    .and_then(|p| centres.get(p))
                    .copied()
                    .unwrap_or(CITY_CENTRE);
                around(c, 0.015, rng)
            }
        };
        centres.insert(code.clone(), centre);
        out.push(obj(json!({
            "code": code,
            "name": name,
            "level": level.label(),
            "parent_code": parent.unwrap_or_default(),
            "longitude": format!("{:.6}", centre.0),
            "latitude": format!("{:.6}", centre.1),
        })));
    }
    out
}

/// The 电子证照 index rows: every license the demo issued, read through the licenses
/// module's public service (as the command line, which sees holders in full).
pub async fn licenses(
    db: &Db,
    cfg: &kernel::config::Config,
    dept_names: &HashMap<i64, String>,
) -> Result<Vec<Map<String, Value>>> {
    let svc = LicensesService::from_config(db.clone(), cfg);
    let cli = Actor::cli();
    let now = db.now();
    let day = |ms: i64| kernel::clock::to_china(ms).format("%Y-%m-%d").to_string();
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let q = kernel::page::PageQuery {
            page: Some(page),
            per_page: Some(kernel::page::MAX_PER_PAGE),
        };
        let p = svc
            .search_page(&cli, None, None, None, &q)
            .await
            .map_err(|e| anyhow!(crate::DetailOrInternal::detail_or_internal(&e)))?;
        let done = p.items.len() < q.per_page() as usize;
        for l in p.items {
            let status =
                if l.status == licenses::issue::domain::LicenseStatus::Valid && l.is_expired(now) {
                    "已过期".to_owned()
                } else {
                    l.status_label.clone()
                };
            out.push(obj(json!({
                "identifier": l.identifier,
                "type_code": l.type_code,
                "type_name": l.type_name,
                "holder_kind": match l.holder_kind {
                    licenses::types::domain::HolderKind::Person => "自然人",
                    licenses::types::domain::HolderKind::Org => "法人",
                },
                "holder_name": l.holder_name,
                "holder_id_no": l.holder_id_no,
                "issuer": dept_names.get(&l.dept_id).cloned().unwrap_or_default(),
                "valid_from": day(l.valid_from),
                "valid_until": l.valid_until.map(day).unwrap_or_default(),
                "status": status,
            })));
        }
        if done {
            break;
        }
        page += 1;
    }
    Ok(out)
}

/// A generator for the new registries, apart from the one of 人口 and 法人 so that those stay
/// as they were for a seed.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ 0x0b45_e4e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn houses_and_places_are_deterministic_and_valid() {
        let regions = crate::demo::regions(7);
        let people: Vec<Map<String, Value>> = (0..50)
            .map(|i| {
                obj(json!({
                    "id_no": kernel::codes::id_card_with_check(&format!("69010219900101{i:03}")),
                    "name": "张伟"
                }))
            })
            .collect();
        let a = houses(&mut rng(7), &regions, &people);
        assert_eq!(a, houses(&mut rng(7), &regions, &people));
        assert!(a.len() >= 1_000, "{} houses", a.len());
        let units: std::collections::HashSet<&str> =
            a.iter().map(|r| r["unit_no"].as_str().unwrap()).collect();
        assert_eq!(units.len(), a.len(), "不动产单元号 unique");
        for r in &a {
            let unit = r["unit_no"].as_str().unwrap();
            assert_eq!(unit.len(), 28, "{unit}");
            assert!(unit.starts_with(r["region_code"].as_str().unwrap()));
            kernel::codes::check_id_card(r["owner_id_no"].as_str().unwrap()).unwrap();
        }
        let g = geo(&mut rng(7), &regions);
        assert_eq!(g, geo(&mut rng(7), &regions));
        assert_eq!(g.len(), regions.len(), "every region has a place");
    }
}
