//! Two months of service-hall history for the demo, so that 统计, 差评整改, 办不成事反映 and
//! the department inboxes show what a running hall looks like: applications online and at the
//! window, 即办件 closed at acceptance, 补正 and 特别程序 that pause the clock, a few 不予受理,
//! late decisions and cases still open past their deadline, 好差评 from both channels with
//! rectifications answered and reviewed, and 办不成事反映 from citizens.
//!
//! Everything goes through `ServicesService` with the database clock moved back to the moment
//! of each step, so timelines, deadlines, audit records and reports are the real ones.

use anyhow::{anyhow, Result};
use chrono::TimeZone;
use kernel::calendar::Calendar;
use kernel::clock::Clock;
use kernel::clock::Millis;
use kernel::{Actor, Db, Role};
use org::{NewUser, OrgService};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use services::domain::*;
use services::service::{NewBundleCase, NewCase, RectificationReply, RectificationReview};
use services::ServicesService;
use std::collections::HashMap;

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
/// How far back the history starts.
const DAYS: i64 = 60;

fn err(e: kernel::Error) -> anyhow::Error {
    anyhow!(
        "{}: {}",
        e.code(),
        crate::DetailOrInternal::detail_or_internal(&e)
    )
}

const SURNAMES: [&str; 16] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "朱", "马", "胡", "郭",
];
const GIVEN: [&str; 16] = [
    "晓东", "丽华", "建国", "志强", "海燕", "春梅", "文博", "子涵", "国庆", "秀兰", "俊杰", "雨桐",
    "立新", "红霞", "浩然", "玉珍",
];
const FIRMS: [&str; 10] = [
    "青禾餐饮管理有限公司",
    "云岭信息科技有限公司",
    "长兴建材贸易有限公司",
    "明德教育咨询有限公司",
    "金桥物流有限公司",
    "安和健康管理有限公司",
    "松竹文化传媒有限公司",
    "福泰机电设备有限公司",
    "清源环保科技有限公司",
    "永丰农业发展有限公司",
];
const SITES: [&str; 6] = [
    "A1区东湖路 18 号",
    "A2区新华街 66 号",
    "A3区金桥大道 102 号",
    "A1区夜市东区 7 号摊位",
    "A5区松林路 3 号",
    "A2区龙塘商业街 21 号",
];
const BAD_TEXTS: [&str; 5] = [
    "窗口等了一个多小时，叫号系统不清楚",
    "补正材料分两次才告知清楚，多跑了一趟",
    "线上提交后很久没有人联系",
    "工作人员解释政策不耐烦",
    "同样的证件已经有电子证照了，还要求交复印件",
];
const FEEDBACK: [(&str, &str); 6] = [
    (
        "燃气报装",
        "新开的小餐馆要装燃气，燃气公司说要先有消防验收，消防又说要先通气，两头跑了三趟办不成。",
    ),
    (
        "企业设立登记",
        "住所是自家住宅，网上申请一直提示住所证明不符合要求，不知道该补什么。",
    ),
    (
        "食品小摊贩备案",
        "夜市摊位是街道统一安排的，没有租赁合同，备案时不知道经营场所说明怎么写。",
    ),
    (
        "低压用电报装",
        "租的厂房产权人在外地，不动产权证书原件拿不到，报装办不下来。",
    ),
    (
        "单位就业参保登记",
        "新成立的公司网上参保登记找不到入口，打电话也没人接。",
    ),
    (
        "食品从业人员健康证明",
        "在外地做的体检，回来办健康证说不认，要重新体检。",
    ),
];

struct Hall {
    svc: ServicesService,
    clock: Clock,
    cal: Calendar,
    /// Holding department → an approver there.
    approvers: HashMap<i64, Actor>,
    clerk: Actor,
    supervisor: Actor,
    citizens: Vec<Actor>,
}

/// One applicant, a person or a company, with the form the item asks for.
fn applicant(rng: &mut ChaCha8Rng, item: &ServiceItem) -> (Applicant, Map<String, Value>) {
    let company = item.content.fields.iter().any(|f| f.key == "credit_code");
    let phone = format!("139{:08}", rng.gen_range(0..100_000_000u32));
    let person = format!(
        "{}{}",
        SURNAMES.choose(rng).unwrap(),
        GIVEN.choose(rng).unwrap()
    );
    let birth = format!(
        "690102{}{:02}{:02}{:03}",
        rng.gen_range(1960..2004),
        rng.gen_range(1..13),
        rng.gen_range(1..29),
        rng.gen_range(0..1000)
    );
    let id_no = kernel::codes::id_card_with_check(&birth);
    let mut form = Map::new();
    let a = if company {
        let credit = kernel::codes::credit_code_with_check(&format!(
            "91690100MA{:07}",
            rng.gen_range(0..10_000_000u32)
        ));
        let firm = format!("A市{}", FIRMS.choose(rng).unwrap());
        form.insert("company_name".into(), json!(firm));
        form.insert("credit_code".into(), json!(credit));
        Applicant {
            kind: ApplicantKind::Company,
            name: firm,
            id_no: credit,
            phone: phone.clone(),
            user_id: None,
        }
    } else {
        form.insert("name".into(), json!(person));
        form.insert("id_no".into(), json!(id_no));
        Applicant {
            kind: ApplicantKind::Person,
            name: person,
            id_no,
            phone: phone.clone(),
            user_id: None,
        }
    };
    form.insert("mobile".into(), json!(phone));
    for f in &item.content.fields {
        let value = match f.key.as_str() {
            "site" | "stall_address" => json!(SITES.choose(rng).unwrap()),
            "occupation" => json!(["餐饮服务", "食品生产", "公共场所"].choose(rng).unwrap()),
            "exam_date" => json!(format!(
                "2026-{:02}-{:02}",
                rng.gen_range(1..12),
                rng.gen_range(1..29)
            )),
            "exam_org" => json!(["A市疾病预防控制中心", "A市第一人民医院体检中心"]
                .choose(rng)
                .unwrap()),
            "items" => json!(["早餐点心", "水果", "熟食", "饮品"].choose(rng).unwrap()),
            _ => continue,
        };
        form.insert(f.key.clone(), value);
    }
    (a, form)
}

fn pick_level(rng: &mut ChaCha8Rng) -> Level {
    match rng.gen_range(0..100) {
        0..=69 => Level::VerySatisfied,
        70..=88 => Level::Satisfied,
        89..=95 => Level::Basic,
        96..=98 => Level::Dissatisfied,
        _ => Level::VeryDissatisfied,
    }
}

impl Hall {
    fn at(&self, t: Millis) {
        self.clock.set(t);
    }

    /// `from` plus some office time (minutes), on the calendar.
    fn later(&self, from: Millis, minutes: i64) -> Millis {
        self.cal.add_working_minutes(from, minutes.max(1))
    }

    async fn act(&self, case: &Case, at: Millis, action: Action) -> Result<Case> {
        self.at(at);
        let who = self
            .approvers
            .get(&case.dept_id)
            .ok_or_else(|| anyhow!("no approver for department {}", case.dept_id))?;
        Ok(self.svc.act(who, case.id, action).await.map_err(err)?.case)
    }

    /// Takes one case from acceptance to its end (or leaves it open where `now` is reached).
    async fn run_case(
        &self,
        rng: &mut ChaCha8Rng,
        case: Case,
        now: Millis,
        evaluator: Option<&Actor>,
    ) -> Result<()> {
        let mut t = case.created_at;
        let mut c = case;
        if c.status.is_done() {
            // 秒批 or anything else that finished at submission.
        } else {
            t = self.later(t, rng.gen_range(20..600));
            if t >= now {
                return Ok(());
            }
            if rng.gen_range(0..100) < 3 {
                self.act(
                    &c,
                    t,
                    Action::Reject {
                        reason: "申请人不属于本事项的申请对象".into(),
                        legal_basis: "《中华人民共和国行政许可法》第三十二条".into(),
                    },
                )
                .await?;
                return Ok(());
            }
            c = self
                .act(
                    &c,
                    t,
                    Action::Accept {
                        tolerated: vec![],
                        tolerated_days: None,
                    },
                )
                .await?;
            if c.status.is_done() {
                return self.evaluate(rng, &c, t, now, evaluator).await;
            }
            // A few stall in examination and run past their deadline (red cards, 督办).
            if rng.gen_range(0..100) < 3 {
                return Ok(());
            }
            // 补正 during examination: the clock stops until the applicant supplies.
            if rng.gen_range(0..100) < 8 {
                let key = c
                    .materials
                    .iter()
                    .map(|m| m.key.clone())
                    .next_back()
                    .unwrap_or_default();
                t = self.later(t, rng.gen_range(60..480));
                if t >= now {
                    return Ok(());
                }
                c = self
                    .act(
                        &c,
                        t,
                        Action::RequestSupplement {
                            materials: vec![key.clone()],
                            note: "材料信息不完整，请一次性补齐".into(),
                        },
                    )
                    .await?;
                t += rng.gen_range(1..4) * DAY + rng.gen_range(0..6) * HOUR;
                if t >= now {
                    return Ok(());
                }
                self.at(t);
                let who = self
                    .citizens
                    .iter()
                    .find(|a| a.user_id == c.applicant.user_id && a.user_id.is_some())
                    .unwrap_or(&self.clerk);
                c = self
                    .svc
                    .act(
                        who,
                        c.id,
                        Action::Supply {
                            materials: vec![key],
                        },
                    )
                    .await
                    .map_err(err)?
                    .case;
            }
            // 特别程序 with its own days, outside the promised limit.
            if rng.gen_range(0..100) < 5 {
                let (name, days) = *[("现场踏勘", 3), ("检验检测", 5), ("专家评审", 5)]
                    .choose(rng)
                    .unwrap();
                t = self.later(t, rng.gen_range(60..480));
                if t >= now {
                    return Ok(());
                }
                c = self
                    .act(
                        &c,
                        t,
                        Action::StartSpecial {
                            name: name.into(),
                            days,
                        },
                    )
                    .await?;
                t = self.later(t, i64::from(days) * 450 - rng.gen_range(0..400));
                if t >= now {
                    return Ok(());
                }
                c = self
                    .act(
                        &c,
                        t,
                        Action::EndSpecial {
                            note: format!("{name}完成"),
                        },
                    )
                    .await?;
            }
            // The decision: mostly well inside the promised days, a few late.
            let promised = i64::from(c.promised_days.max(1));
            let share = if rng.gen_range(0..100) < 6 {
                rng.gen_range(110..180)
            } else {
                rng.gen_range(15..95)
            };
            t = self.later(t, promised * 450 * share / 100);
            if t >= now {
                return Ok(());
            }
            let approve = rng.gen_range(0..100) < 97;
            let year = kernel::clock::to_china(t).format("%Y");
            self.act(
                &c,
                t,
                Action::Decide {
                    approve,
                    document_no: format!("A政服〔{year}〕{}号", c.id),
                    text: if approve {
                        "经审查，符合法定条件，准予办理。".into()
                    } else {
                        "经审查，不符合法定条件，不予办理。".into()
                    },
                },
            )
            .await?;
            t = self.later(t, rng.gen_range(10..120));
            if t >= now {
                return Ok(());
            }
            c = self.act(&c, t, Action::Close).await?;
        }
        // 出件 for approved cases handled at the window or by post.
        if c.decision.as_ref().is_some_and(|d| d.approve) && c.bundle_case_id.is_none() {
            t = self.later(t, rng.gen_range(30..900));
            if t < now {
                self.at(t);
                let method = *[
                    DeliveryMethod::Window,
                    DeliveryMethod::Post,
                    DeliveryMethod::License,
                ]
                .choose(rng)
                .unwrap();
                let detail = match method {
                    DeliveryMethod::Post => format!("EMS {:013}", rng.gen_range(0..10_000_000u64)),
                    _ => "综合窗口出件".into(),
                };
                c = self
                    .svc
                    .act(&self.clerk, c.id, Action::Deliver { method, detail })
                    .await
                    .map_err(err)?
                    .case;
            }
        }
        self.evaluate(rng, &c, t, now, evaluator).await
    }

    /// 好差评 for most finished cases; a 差评 opens a rectification, answered and reviewed when
    /// it is old enough.
    async fn evaluate(
        &self,
        rng: &mut ChaCha8Rng,
        c: &Case,
        done_at: Millis,
        now: Millis,
        evaluator: Option<&Actor>,
    ) -> Result<()> {
        let Some(evaluator) = evaluator else {
            return Ok(());
        };
        if !c.status.is_done() || rng.gen_range(0..100) >= 78 {
            return Ok(());
        }
        let t = done_at + rng.gen_range(1..48) * HOUR;
        if t >= now {
            return Ok(());
        }
        self.at(t);
        let level = pick_level(rng);
        let (tags, text) = if level.is_bad() {
            (vec![], BAD_TEXTS.choose(rng).unwrap().to_string())
        } else {
            let tag = *["一次办成", "办事效率高", "服务态度好", "材料精简"]
                .choose(rng)
                .unwrap();
            (vec![tag.to_owned()], String::new())
        };
        let e = self
            .svc
            .evaluate(evaluator, &c.number, NewEvaluation { level, tags, text })
            .await
            .map_err(err)?;
        if !level.is_bad() {
            return Ok(());
        }
        // The department answers within a few days; the supervisor reviews.
        let reply_at = t + rng.gen_range(1..4) * DAY;
        if reply_at + 2 * DAY >= now {
            return Ok(());
        }
        let Some(r) = self
            .svc
            .rectifications(&self.supervisor)
            .await
            .map_err(err)?
            .into_iter()
            .find(|r| r.evaluation_id == e.id)
        else {
            return Ok(());
        };
        self.at(reply_at);
        let who = self
            .approvers
            .get(&r.dept_id)
            .ok_or_else(|| anyhow!("no approver for department {}", r.dept_id))?;
        self.svc
            .reply_rectification(
                who,
                r.id,
                RectificationReply {
                    reply: "已电话联系申请人致歉说明，并在窗口推行一次性告知清单".into(),
                },
            )
            .await
            .map_err(err)?;
        self.at(reply_at + DAY);
        self.svc
            .review_rectification(
                &self.supervisor,
                r.id,
                RectificationReview {
                    approve: true,
                    note: "整改到位".into(),
                },
            )
            .await
            .map_err(err)?;
        Ok(())
    }
}

/// Fills the service hall with about two months of cases. `items` are the published demo
/// items in `demo_services` order, `stall_bundle` the 摆摊一件事 bundle.
pub async fn populate(
    db: &Db,
    cfg: &kernel::config::Config,
    seed: u64,
    items: &[ServiceItem],
    stall_bundle: i64,
) -> Result<()> {
    let mut db = db.clone();
    let real_now = Clock::system().now();
    let start = real_now - DAYS * DAY;
    let clock = Clock::manual(start);
    db.clock = clock.clone();
    let org = OrgService::new(db.clone(), cfg.auth.clone());
    let cli = Actor::cli();
    // 出件 as 电子证照 issues the result license from the case, as in production.
    let svc = ServicesService::new(db.clone())
        .with_licenses(licenses::LicensesService::from_config(db.clone(), cfg));
    let cal = kernel::calendar::load(&db).await.map_err(err)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0005_e4c1);
    let actor_of = |username: &'static str| {
        let org = org.clone();
        async move {
            let u = org
                .user_by_username(username)
                .await
                .map_err(err)?
                .ok_or_else(|| anyhow!("no user {username}"))?;
            org.actor_of_user(u.id).await.map_err(err)
        }
    };
    let clerk = actor_of("clerk").await?;
    let supervisor = actor_of("supervisor").await?;
    let market_approver = actor_of("approver").await?;
    // One approver in every other department that holds an item (not listed as demo logins).
    let mut approvers = HashMap::new();
    if let Some(d) = market_approver.dept_id {
        approvers.insert(d, market_approver.clone());
    }
    for (i, item) in items.iter().enumerate() {
        let dept = item.content.dept_id;
        if approvers.contains_key(&dept) {
            continue;
        }
        let u = org
            .create_user(
                &cli,
                NewUser {
                    username: format!("approver{}", i + 2),
                    display_name: format!(
                        "{}{}",
                        SURNAMES.choose(&mut rng).unwrap(),
                        GIVEN.choose(&mut rng).unwrap()
                    ),
                    password: crate::demo::DEMO_PASSWORD.into(),
                    dept_id: Some(dept),
                    roles: vec![Role::Approver],
                    phone: None,
                    id_card: None,
                },
            )
            .await
            .map_err(err)?;
        approvers.insert(dept, org.actor_of_user(u.id).await.map_err(err)?);
    }
    // Citizens who apply online (their own accounts).
    let mut citizens = Vec::new();
    for i in 1..=8 {
        let u = org
            .create_user(
                &cli,
                NewUser {
                    username: format!("resident{i}"),
                    display_name: format!(
                        "{}{}",
                        SURNAMES.choose(&mut rng).unwrap(),
                        GIVEN.choose(&mut rng).unwrap()
                    ),
                    password: crate::demo::DEMO_PASSWORD.into(),
                    dept_id: None,
                    roles: vec![Role::Citizen],
                    phone: None,
                    id_card: None,
                },
            )
            .await
            .map_err(err)?;
        citizens.push(org.actor_of_user(u.id).await.map_err(err)?);
    }
    let hall = Hall {
        svc: svc.clone(),
        clock: clock.clone(),
        cal,
        approvers,
        clerk: clerk.clone(),
        supervisor: supervisor.clone(),
        citizens,
    };
    // Busier items come up more often.
    let weights = [30, 12, 14, 10, 8, 6, 5, 5, 9];
    let mut made = 0;
    for day in 0..DAYS {
        let date = kernel::clock::to_china(start + day * DAY).date_naive();
        if !hall.cal.is_workday(date) {
            continue;
        }
        let morning = kernel::clock::china()
            .from_local_datetime(&date.and_hms_opt(9, 0, 0).expect("a time"))
            .single()
            .expect("fixed offset")
            .timestamp_millis();
        for _ in 0..rng.gen_range(5..11) {
            let at = morning + rng.gen_range(0..(8 * 60)) * 60_000;
            if at >= real_now {
                continue;
            }
            let idx = pick_weighted(&mut rng, &weights[..items.len().min(weights.len())]);
            let item = &items[idx];
            let online = match item.content.depth {
                Depth::FullyOnline | Depth::ZeroVisit => rng.gen_range(0..100) < 80,
                _ => rng.gen_range(0..100) < 40,
            };
            let (mut a, form) = applicant(&mut rng, item);
            let who = if online {
                let c = hall.citizens.choose(&mut rng).unwrap().clone();
                a.user_id = c.user_id;
                c
            } else {
                clerk.clone()
            };
            hall.at(at);
            let materials = item
                .content
                .materials
                .iter()
                .map(|m| m.key.clone())
                .collect();
            let c = svc
                .submit(
                    &who,
                    NewCase {
                        item_id: item.id,
                        scenario: None,
                        applicant: a,
                        form,
                        materials,
                    },
                )
                .await
                .map_err(err)?
                .case;
            hall.run_case(&mut rng, c, real_now, Some(&who)).await?;
            made += 1;
        }
        // Now and then a stall bundle, online.
        if day % 6 == 2 {
            let who = hall.citizens.choose(&mut rng).unwrap().clone();
            // One form for both items of the bundle (一数一源): the stall's and the health's.
            let (_, mut form) = applicant(&mut rng, &items[1]);
            for (k, v) in applicant(&mut rng, &items[0]).1 {
                form.entry(k).or_insert(v);
            }
            let at = morning + rng.gen_range(0..(6 * 60)) * 60_000;
            if at < real_now {
                hall.at(at);
                let app = svc
                    .submit_bundle(
                        &who,
                        stall_bundle,
                        NewBundleCase {
                            applicant: Applicant {
                                kind: ApplicantKind::Person,
                                name: form["name"].as_str().unwrap_or_default().into(),
                                id_no: form["id_no"].as_str().unwrap_or_default().into(),
                                phone: form["mobile"].as_str().unwrap_or_default().into(),
                                user_id: who.user_id,
                            },
                            form: form.clone(),
                            // The ID card on paper: most applicants hold no e-license of it.
                            materials: vec![
                                "id_card".into(),
                                "photo".into(),
                                "exam".into(),
                                "stall_place".into(),
                            ],
                        },
                    )
                    .await
                    .map_err(err)?;
                let cases = svc.bundle_case(&who, &app.number).await.map_err(err)?.cases;
                for c in cases {
                    // The application is rated as a whole, not sub-case by sub-case.
                    hall.run_case(&mut rng, c.case, real_now, None).await?;
                }
                made += 1;
            }
        }
        // 办不成事反映 every week or so.
        if day % 9 == 4 {
            let (item_name, text) = FEEDBACK[(day as usize / 9) % FEEDBACK.len()];
            let at = morning + rng.gen_range(0..(8 * 60)) * 60_000;
            if at < real_now {
                hall.at(at);
                let f = svc
                    .submit_feedback(NewFeedback {
                        name: format!(
                            "{}{}",
                            SURNAMES.choose(&mut rng).unwrap(),
                            GIVEN.choose(&mut rng).unwrap()
                        ),
                        phone: format!("137{:08}", rng.gen_range(0..100_000_000u32)),
                        item_id: items
                            .iter()
                            .find(|i| i.content.name == item_name)
                            .map(|i| i.id),
                        text: text.into(),
                    })
                    .await
                    .map_err(err)?;
                let answer_at = at + rng.gen_range(1..3) * DAY;
                if answer_at + 7 * DAY < real_now {
                    hall.at(answer_at);
                    svc.answer_feedback(
                        &supervisor,
                        f.id,
                        "已协调相关部门，明确办理路径并电话告知申请人，下周安排专人帮办。",
                    )
                    .await
                    .map_err(err)?;
                }
            }
        }
    }
    clock.set(real_now);
    svc.sweep_cards().await.map_err(err)?;
    tracing::info!(cases = made, "demo service hall history generated");
    Ok(())
}

fn pick_weighted(rng: &mut ChaCha8Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut r = rng.gen_range(0..total);
    for (i, w) in weights.iter().enumerate() {
        if r < *w {
            return i;
        }
        r -= w;
    }
    weights.len() - 1
}
