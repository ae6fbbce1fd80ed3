//! The demo's 电子证照: six license types tied to the demo departments (their names are the
//! `from_license` of the demo items' materials), the resident `resident1` with a 健康证明, a
//! 食品小摊贩备案卡 and a 居民身份证, and a demo company with its 营业执照 and 食品经营许可证 —
//! all made through `LicensesService`, signed and audited like real issuance.

use anyhow::{anyhow, Result};
use kernel::codes::{credit_code_with_check, id_card_with_check};
use kernel::{Actor, Db};
use licenses::issue::service::{Holder, NewLicense};
use licenses::types::domain::NewType;
use licenses::LicensesService;
use org::OrgService;
use serde_json::{json, Value};

fn err(e: kernel::Error) -> anyhow::Error {
    anyhow!(
        "{}: {}",
        e.code(),
        crate::DetailOrInternal::detail_or_internal(&e)
    )
}

/// The demo resident who holds licenses.
pub const RESIDENT: &str = "resident1";
/// The demo company.
pub const COMPANY: &str = "A市东湖餐饮管理有限公司";

/// (type name, issuing department, defining authority's 17 characters, sequence, holder kind,
/// validity years, fields).
type TypeSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<u32>,
    Value,
);

fn types() -> Vec<TypeSpec> {
    let text = |k: &str, l: &str| json!({"key": k, "label": l, "kind": "text", "required": true});
    let date = |k: &str, l: &str| json!({"key": k, "label": l, "kind": "date", "required": true});
    vec![
        (
            "营业执照",
            "A市市场监督管理局",
            "11100000MB0000101",
            "001",
            "org",
            None,
            json!([
                text("company_name", "名称"),
                json!({"key": "company_type", "label": "类型", "kind": "code", "options": ["有限责任公司", "个人独资企业", "个体工商户"], "required": true}),
                text("legal_person", "法定代表人"),
                json!({"key": "capital", "label": "注册资本（万元）", "kind": "number"}),
                date("established", "成立日期"),
                text("address", "住所"),
                text("scope", "经营范围")
            ]),
        ),
        (
            "食品经营许可证",
            "A市市场监督管理局",
            "11100000MB0000101",
            "002",
            "org",
            Some(5),
            json!([
                text("operator", "经营者名称"),
                text("address", "经营场所"),
                json!({"key": "category", "label": "主体业态", "kind": "code", "options": ["餐饮服务经营者", "食品销售经营者", "单位食堂"], "required": true}),
                text("items", "经营项目")
            ]),
        ),
        (
            "健康证明",
            "A市卫生健康委员会",
            "12100000MB0000201",
            "001",
            "person",
            Some(1),
            json!([
                text("name", "姓名"),
                json!({"key": "occupation", "label": "从业类别", "kind": "code", "options": ["食品生产", "餐饮服务", "公共场所"], "required": true}),
                date("exam_date", "体检日期"),
                text("exam_org", "体检机构")
            ]),
        ),
        (
            "食品小摊贩备案卡",
            "A市市场监督管理局",
            "11690100MB0000301",
            "001",
            "person",
            Some(1),
            json!([
                text("name", "姓名"),
                text("stall_address", "经营地点"),
                text("items", "经营品种"),
                json!({"key": "hours", "label": "经营时段", "kind": "text"})
            ]),
        ),
        (
            "居民身份证",
            "A市公安局",
            "11100000MB0000401",
            "001",
            "person",
            Some(20),
            json!([
                text("name", "姓名"),
                json!({"key": "sex", "label": "性别", "kind": "code", "options": ["男", "女"], "required": true}),
                text("nation", "民族"),
                date("birth", "出生"),
                text("address", "住址")
            ]),
        ),
        (
            "不动产权证书",
            "A市自然资源和规划局",
            "11100000MB0000501",
            "001",
            "person",
            None,
            json!([
                text("owner", "权利人"),
                text("location", "坐落"),
                text("unit_no", "不动产单元号"),
                json!({"key": "area", "label": "面积（平方米）", "kind": "number", "required": true}),
                json!({"key": "usage", "label": "用途", "kind": "code", "options": ["住宅", "商业", "工业"], "required": true})
            ]),
        ),
    ]
}

/// The license types, before the service hall's items that name them as their results.
pub async fn populate_types(db: &Db, cfg: &kernel::config::Config) -> Result<()> {
    let org = OrgService::new(db.clone(), cfg.auth.clone());
    let svc = LicensesService::from_config(db.clone(), cfg);
    let cli = Actor::cli();
    for (name, dept, authority, seq, kind, years, fields) in types() {
        let dept_id = org
            .department_by_name(dept)
            .await
            .map_err(err)?
            .ok_or_else(|| anyhow!("no department {dept}"))?
            .id;
        let code = format!("{}{seq}", credit_code_with_check(authority));
        let input: NewType = serde_json::from_value(json!({
            "code": code, "name": name, "holder_kind": kind,
            "content": {"dept_ids": [dept_id], "fields": fields, "validity_years": years,
                        "remind_days": if years.is_some() { Some(30) } else { None }}
        }))?;
        let t = svc.create_type(&cli, input).await.map_err(err)?;
        svc.publish_type(&cli, t.license_type.id, 1)
            .await
            .map_err(err)?;
    }
    Ok(())
}

/// The licenses of `resident1` and the demo company, after the service hall made its users.
pub async fn populate(db: &Db, cfg: &kernel::config::Config) -> Result<()> {
    let org = OrgService::new(db.clone(), cfg.auth.clone());
    let svc = LicensesService::from_config(db.clone(), cfg);
    let cli = Actor::cli();
    let mut codes = std::collections::HashMap::new();
    for (name, ..) in types() {
        let t = svc
            .license_type_by_ref(name)
            .await
            .map_err(err)?
            .ok_or_else(|| anyhow!("no license type {name}"))?;
        let dept = svc
            .license_type(t.id)
            .await
            .map_err(err)?
            .published()
            .and_then(|v| v.content.dept_ids.first().copied())
            .ok_or_else(|| anyhow!("license type {name} has no issuer"))?;
        codes.insert(name, (t.code, dept));
    }
    // resident1 (one of the service hall's online applicants) gets a 身份证号, so that 我的证照
    // finds the licenses issued to that number.
    let id_no = id_card_with_check("69010219900307512");
    let user = org
        .user_by_username(RESIDENT)
        .await
        .map_err(err)?
        .ok_or_else(|| anyhow!("no demo user {RESIDENT}"))?;
    org.update_user(
        &cli,
        user.id,
        org::UserChanges {
            id_card: Some(id_no.clone()),
            ..Default::default()
        },
    )
    .await
    .map_err(err)?;
    let holder_name = user.display_name.clone();
    let issue = |name: &'static str, holder: (&str, &str), fields: Value, from: &str| {
        let (code, dept) = codes[name].clone();
        NewLicense {
            type_code: code,
            dept_id: Some(dept),
            holder: Holder {
                id_no: holder.0.into(),
                name: holder.1.into(),
            },
            fields: fields.as_object().cloned().unwrap_or_default(),
            valid_from: Some(from.into()),
            source: Some(format!("demo:{name}:{}", holder.0)),
        }
    };
    let me = (id_no.as_str(), holder_name.as_str());
    let company = credit_code_with_check("91690102MA0000601");
    let co = (company.as_str(), COMPANY);
    let today = kernel::clock::to_china(db.now()).date_naive();
    let ago = |days: i64| {
        (today - chrono::Duration::days(days))
            .format("%Y-%m-%d")
            .to_string()
    };
    for n in [
        issue(
            "居民身份证",
            me,
            json!({"name": holder_name, "sex": "女", "nation": "汉", "birth": "1990-03-07", "address": "西地省A市A1区桂湖路 18 号"}),
            "2016-05-20",
        ),
        issue(
            "健康证明",
            me,
            json!({"name": holder_name, "occupation": "餐饮服务", "exam_date": ago(340), "exam_org": "A市疾病预防控制中心"}),
            &ago(335),
        ),
        issue(
            "食品小摊贩备案卡",
            me,
            json!({"name": holder_name, "stall_address": "A1区夜市东区 12 号摊位", "items": "凉粉、米线", "hours": "17:00—23:00"}),
            &ago(60),
        ),
        issue(
            "营业执照",
            co,
            json!({"company_name": COMPANY, "company_type": "有限责任公司", "legal_person": "周明", "capital": 100, "established": "2023-04-18", "address": "A市A2区新华路 66 号", "scope": "餐饮服务；食品销售"}),
            "2023-04-18",
        ),
        issue(
            "食品经营许可证",
            co,
            json!({"operator": COMPANY, "address": "A市A2区新华路 66 号", "category": "餐饮服务经营者", "items": "热食类食品制售"}),
            "2023-05-10",
        ),
        issue(
            "不动产权证书",
            me,
            json!({"owner": holder_name, "location": "A市A1区桂湖路 18 号 2 栋 301", "unit_no": "690102001001GB00001F00020301", "area": 89.5, "usage": "住宅"}),
            "2019-09-02",
        ),
    ] {
        svc.issue(&cli, n).await.map_err(err)?;
    }
    Ok(())
}
